"""Invented names and short texts for the demo. Nothing here names a real place or person."""

import numpy as np

# Stems and endings chosen to sound English without naming a real place; the few
# combinations known to exist are left out below.
_STEMS = (
    "Ambel",
    "Brack",
    "Caddow",
    "Corve",
    "Dornel",
    "Elsk",
    "Fallow",
    "Gannet",
    "Gorse",
    "Hallow",
    "Heron",
    "Ibber",
    "Kestle",
    "Lark",
    "Linden",
    "Marrow",
    "Mire",
    "Nettle",
    "Orrel",
    "Pellow",
    "Quarrel",
    "Raven",
    "Sallow",
    "Sedge",
    "Skerry",
    "Sorrel",
    "Tansy",
    "Thistle",
    "Umber",
    "Vetch",
    "Wold",
    "Yarrow",
    "Bryony",
    "Cobble",
    "Drumble",
    "Furze",
    "Garth",
    "Juniper",
    "Loam",
    "Oxlip",
    "Pebble",
    "Quill",
    "Teasel",
    "Withy",
    "Brindle",
    "Catkin",
    "Dapple",
    "Eskin",
    "Fother",
    "Glimmer",
    "Hobble",
    "Inkle",
    "Jessop",
    "Kindle",
    "Lumber",
    "Mallow",
    "Nimble",
    "Otter",
    "Puddle",
    "Rookery",
    "Sprindle",
    "Tarrow",
    "Wimble",
    "Yonder",
)
_ENDINGS = (
    "ford",
    "ley",
    "bury",
    "wick",
    "ton",
    "thorpe",
    "dale",
    "mouth",
    "combe",
    "field",
    "ham",
    "stead",
    "by",
    "holme",
    "moor",
    "bridge",
    "well",
    "cote",
    "hurst",
    "wood",
)
_REAL = frozenset(
    {
        "Larkfield",
        "Sedgefield",
        "Otterham",
        "Otterton",
        "Otterbury",
        "Ravenfield",
        "Gorseley",
        "Woldby",
        "Marrowby",
        "Hallowford",
        "Thistleton",
        "Teaselby",
        "Ravenstead",
        "Otterford",
        "Otterwood",
        "Ravenhurst",
        "Sedgeford",
        "Furzeley",
        "Furzehill",
        "Garthwood",
        "Larkbury",
        "Heronsgate",
        "Juniperhill",
        "Mallowdale",
        "Kindleford",
        "Cobbleford",
        "Skerryford",
        "Puddleton",
        "Puddletown",
        "Ravensmoor",
        "Ravenby",
        "Lumberton",
        "Withybrook",
        "Withycombe",
        "Withyham",
        "Furzeham",
        "Ottercombe",
    }
)
_AREA_WORDS = (
    "North",
    "South",
    "East",
    "West",
    "Central",
    "Green",
    "Park",
    "Hill",
    "Vale",
    "Common",
    "Heath",
    "Village",
    "Town",
    "Fields",
    "Marsh",
)
_PREFIX_WORDS = ("Upper", "Lower", "Old", "New", "Little", "Great")


def place_name_pool(rng: np.random.Generator) -> list[str]:
    """Every invented name, shuffled: bare names first, then with an area word."""
    bare = [stem + ending for stem in _STEMS for ending in _ENDINGS]
    bare = [name for name in bare if name not in _REAL]
    bare = [bare[i] for i in rng.permutation(len(bare))]
    qualified = [f"{name} {word}" for name in bare for word in _AREA_WORDS]
    qualified += [f"{word} {name}" for name in bare for word in _PREFIX_WORDS]
    qualified = [qualified[i] for i in rng.permutation(len(qualified))]
    return bare + qualified


class NamePool:
    """Hands out unique invented names in a fixed order."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._names = place_name_pool(rng)
        self._bare = {name for name in self._names if " " not in name}
        self._next = 0
        self._used: set[str] = set()

    def take(self, n: int, *, bare: bool = False) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            if self._next >= len(self._names):
                raise RuntimeError("ran out of invented place names")
            name = self._names[self._next]
            self._next += 1
            if bare and name not in self._bare:
                continue
            if name in self._used:
                continue
            self._used.add(name)
            out.append(name)
        return out


# --- Activities ---------------------------------------------------------------------------
ACTIVITY_TEMPLATES: dict[str, tuple[str, ...]] = {
    "arts_culture_heritage": (
        "Art Club",
        "Community Choir",
        "Craft and Chat",
        "Heritage Walks",
        "Creative Writing Group",
        "Pottery Workshop",
        "Ukulele Group",
        "Local History Society",
    ),
    "physical_activity": (
        "Walking Football",
        "Chair Yoga",
        "Health Walk",
        "Seated Exercise",
        "Beginners Running",
        "Tai Chi",
        "Swim Social",
        "Dance for Health",
        "Walking Netball",
    ),
    "nature_green": (
        "Community Garden",
        "Green Gym",
        "Allotment Group",
        "Nature Walk",
        "Conservation Volunteers",
        "Wildlife Watch",
        "Tree Planting Group",
    ),
    "advice_information": (
        "Money and Debt Advice",
        "Benefits Drop-in",
        "Housing Advice Clinic",
        "Energy Advice Cafe",
        "Welfare Rights Surgery",
        "Employment Support Drop-in",
    ),
    "social_connection": (
        "Lunch Club",
        "Coffee Morning",
        "Men's Shed",
        "Friendship Group",
        "Warm Space",
        "Knit and Natter",
        "Games Afternoon",
        "Tea Dance",
    ),
    "peer_support": (
        "Carers Support Group",
        "Bereavement Cafe",
        "Mental Health Peer Group",
        "Long Covid Peer Support",
        "Diabetes Support Group",
        "New Parents Group",
    ),
    "food": (
        "Community Pantry",
        "Food Bank",
        "Cook and Eat",
        "Community Meal",
        "Community Fridge",
    ),
    "learning_volunteering": (
        "Digital Skills Drop-in",
        "English Conversation Club",
        "Volunteer Taster Sessions",
        "Repair Cafe",
        "Reading Group",
        "Adult Learning Taster",
    ),
    "other": ("Community Hub Open Session", "Toy Library", "Befriending Scheme"),
}

PROVIDER_TEMPLATES: dict[str, tuple[str, ...]] = {
    "arts_culture_heritage": (
        "{place} Arts Collective",
        "{place} Community Choir",
        "{place} Heritage Group",
    ),
    "physical_activity": ("{place} Active", "{place} Walking Club", "{place} Sports Association"),
    "nature_green": (
        "Friends of {place} Park",
        "{place} Community Garden",
        "{place} Growing Project",
    ),
    "advice_information": (
        "{place} Advice Centre",
        "{place} Money Matters",
        "{place} Welfare Rights Project",
    ),
    "social_connection": (
        "{place} Good Neighbours",
        "{place} Friendship Club",
        "{place} Community Centre Association",
    ),
    "peer_support": (
        "{place} Peer Support Network",
        "{place} Carers Group",
        "{place} Wellbeing Circle",
    ),
    "food": ("{place} Community Pantry", "{place} Food Bank", "{place} Community Kitchen"),
    "learning_volunteering": (
        "{place} Learning Hub",
        "{place} Volunteer Centre",
        "{place} Repair Cafe",
    ),
    "other": ("{place} Community Hub", "{place} Residents Association"),
}
FAITH_TEMPLATES = (
    "{place} Churches Together",
    "{place} Faith Community Hub",
    "{place} Community Mosque Project",
    "{place} Methodist Hall Group",
)
CHARITY_TEMPLATES = (
    "{place} Community Trust",
    "{place} Council for Voluntary Service",
    "{place} Carers Network",
    "{place} Age Together",
    "{place} Wellbeing Partnership",
    "{place} Food Network",
    "{place} Mental Health Alliance",
    "{place} Community Action",
)

PRACTICE_TEMPLATES = (
    "{place} Surgery",
    "{place} Medical Centre",
    "{place} Health Centre",
    "{place} Family Practice",
    "{place} Medical Practice",
)

PROJECT_TITLES: dict[str, tuple[str, ...]] = {
    "arts_culture_heritage": ("Creative wellbeing programme", "Arts for connection project"),
    "physical_activity": ("Active together programme", "Walking for health expansion"),
    "nature_green": ("Community garden expansion", "Green spaces for wellbeing"),
    "advice_information": ("Money advice outreach", "Cost of living advice project"),
    "social_connection": ("Tackling loneliness project", "Warm spaces winter programme"),
    "peer_support": ("Peer support development", "Carers wellbeing project"),
    "food": ("Community food project", "Holiday food and fun programme"),
    "learning_volunteering": ("Volunteer coordinator post", "Digital inclusion project"),
    "other": ("Community hub development", "Neighbourhood capacity building"),
}
CORE_TITLES = ("Core running costs", "Contribution to core costs", "Unrestricted core grant")
SP_CONTRACT_TITLES = (
    "Social prescribing referral pathway contract",
    "Payment for taking social prescribing referrals",
)

# --- Referral reasons: short, lower case, no names, places or dates ---------------------------
REFERRAL_REASONS: dict[str, tuple[str, ...]] = {
    "loneliness_isolation": (
        "feels isolated since bereavement",
        "lives alone, few social contacts",
        "lonely since moving to the area",
        "lost confidence going out after a fall",
        "isolated since retiring",
        "wants to meet people",
    ),
    "mental_wellbeing": (
        "low mood, wants something to do",
        "anxiety about leaving the house",
        "stress after job loss",
        "low mood and poor sleep",
        "struggling since relationship ended",
    ),
    "financial_debt": (
        "worried about debts",
        "struggling with bills",
        "benefit sanction, no income",
        "rent arrears and stress",
        "needs help with benefit forms",
    ),
    "housing": (
        "damp and mould in home",
        "at risk of losing tenancy",
        "overcrowded housing",
        "needs help with housing application",
    ),
    "physical_activity": (
        "wants to be more active",
        "advised to increase activity for weight",
        "wants exercise after heart problems",
        "inactive, wants gentle exercise",
    ),
    "long_term_condition": (
        "managing diabetes, wants support",
        "copd, wants to stay active",
        "chronic pain affecting daily life",
        "long covid fatigue",
    ),
    "carer_support": (
        "carer for partner, exhausted",
        "caring for parent, no time for self",
        "young carer needs a break",
    ),
    "food_insecurity": (
        "not enough food at home",
        "skipping meals to pay bills",
        "needs food bank referral",
    ),
    "other": (
        "frequent attender, non-medical needs",
        "wants to volunteer",
        "new to the country",
        "digital exclusion, cannot book appointments",
    ),
}
