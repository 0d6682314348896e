"""The community offer: providers, their activities, the sessions held, and their funding.

The offer is planted unevenly. Among the most deprived MSOAs some are well served (many
activities) and some are deserts (none or one); affluent MSOAs are moderately served. A
minority of activities "sell out": every session full, onward referrals to them waitlisted
or refused. Most groups live on short project grants; a few hold a social prescribing
contract; some grants end in the months after ``as_of`` (the funding cliff).
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from ingest.contracts.sources import ACTIVITY_CATEGORIES
from ingest.demo.common import (
    add_months,
    date_series,
    draw_categories,
    draw_one,
    draw_within_groups,
    from_days,
    month_index,
    month_of_year,
    month_start_days,
    rng_for,
    to_days,
)
from ingest.demo.names import (
    ACTIVITY_TEMPLATES,
    CHARITY_TEMPLATES,
    CORE_TITLES,
    FAITH_TEMPLATES,
    PROJECT_TITLES,
    PROVIDER_TEMPLATES,
    SP_CONTRACT_TITLES,
)
from ingest.demo.places import Places

CATEGORIES = ACTIVITY_CATEGORIES
_CAT = {name: i for i, name in enumerate(CATEGORIES)}
# category mix in the least and the most deprived places
_MIX_AFFLUENT = np.array([0.17, 0.20, 0.13, 0.04, 0.18, 0.10, 0.03, 0.11, 0.04])
_MIX_DEPRIVED = np.array([0.09, 0.13, 0.07, 0.14, 0.20, 0.10, 0.13, 0.09, 0.05])
_PLACES_RANGE = {
    "arts_culture_heritage": (8, 20),
    "physical_activity": (10, 30),
    "nature_green": (6, 20),
    "advice_information": (6, 16),
    "social_connection": (12, 40),
    "peer_support": (6, 15),
    "food": (20, 40),
    "learning_volunteering": (6, 16),
    "other": (10, 30),
}


@dataclass
class Community:
    # planted MSOA groups (indices into places' MSOA arrays)
    deprived_msoas: np.ndarray
    underserved_msoas: np.ndarray
    well_served_msoas: np.ndarray
    # activities
    act_id: np.ndarray
    act_provider: np.ndarray
    act_msoa: np.ndarray
    act_lsoa: np.ndarray
    act_la: np.ndarray
    act_category: np.ndarray
    act_spw: np.ndarray
    act_places: np.ndarray
    act_start: np.ndarray
    act_end: np.ndarray  # days; -1 when open-ended
    act_cost: np.ndarray
    act_name: np.ndarray
    act_oversubscribed: np.ndarray
    # providers
    prov_id: np.ndarray
    prov_name: np.ndarray
    prov_type: np.ndarray
    prov_lsoa: np.ndarray
    prov_volunteer: np.ndarray  # 1 true, 0 false, -1 unknown
    # sessions held (sorted by activity, then date)
    sess_act: np.ndarray
    sess_day: np.ndarray
    sess_places: np.ndarray
    # funding rows (flat contract columns) and the funders
    grants: list[dict[str, Any]] = field(default_factory=list)

    def active_on(self, day: int | np.ndarray) -> np.ndarray:
        end = np.where(self.act_end < 0, np.iinfo(np.int64).max, self.act_end)
        return (self.act_start <= day) & (end >= day)


def _plant_msoas(rng: np.random.Generator, places: Places) -> tuple[np.ndarray, ...]:
    """Deprived MSOAs (top 30% by population-weighted IMD score), split into deserts,
    well-served ones and the rest."""
    order = np.argsort(-places.msoa_imd, kind="stable")
    n_deprived = max(3, int(round(0.3 * len(order))))
    deprived = np.sort(order[:n_deprived])
    shuffled = deprived[rng.permutation(len(deprived))]
    n_each = max(1, int(round(0.35 * n_deprived)))
    underserved = np.sort(shuffled[:n_each])
    well_served = np.sort(shuffled[n_each : 2 * n_each])
    return deprived, underserved, well_served


def build_community(
    places: Places,
    seed: int,
    as_of: date,
    history_start: date,
    activities_per_1000: float = 0.6,
) -> Community:
    rng = rng_for(seed, "community")
    as_of_day, start_day = to_days(as_of), to_days(history_start)
    n_msoas = len(places.msoa_code)
    deprived, underserved, well_served = _plant_msoas(rng, places)

    # --- How many activities each MSOA has ----------------------------------------------
    base = places.msoa_pop / 1000 * activities_per_1000
    counts = rng.poisson(rng.uniform(0.6, 1.2, n_msoas) * base)
    counts[well_served] = np.maximum(8, rng.poisson(2.0 * base[well_served]))
    counts[underserved] = rng.binomial(1, 0.4, len(underserved))
    act_msoa = np.repeat(np.arange(n_msoas), counts)
    n_acts = len(act_msoa)

    act_lsoa = draw_within_groups(rng, act_msoa, places.lsoa_msoa, places.lsoa_pop)
    act_la = places.msoa_la[act_msoa]
    msoa_dep = (
        1.0
        - np.bincount(places.lsoa_msoa, weights=places.imd_q * places.lsoa_pop) / places.msoa_pop
    )
    dep = msoa_dep[act_msoa][:, None]
    act_category = draw_categories(rng, (1 - dep) * _MIX_AFFLUENT + dep * _MIX_DEPRIVED)
    cat_names = np.array(CATEGORIES)[act_category]

    spw_values = np.array([0.25, 0.5, 1.0, 2.0, 3.0, 5.0])
    frequent = np.isin(act_category, [_CAT["food"], _CAT["social_connection"]])
    spw_probs = np.where(
        frequent[:, None],
        np.array([0.04, 0.08, 0.62, 0.16, 0.05, 0.05]),
        np.array([0.08, 0.11, 0.71, 0.08, 0.015, 0.005]),
    )
    act_spw = spw_values[draw_categories(rng, spw_probs)]
    low = np.array([_PLACES_RANGE[c][0] for c in CATEGORIES])[act_category]
    high = np.array([_PLACES_RANGE[c][1] for c in CATEGORIES])[act_category]
    act_places = rng.integers(low, high + 1)
    in_desert = np.isin(act_msoa, underserved)  # what little there is, is small
    act_places = np.where(
        in_desert, np.minimum(act_places, rng.integers(6, 13, n_acts)), act_places
    )
    act_spw = np.where(in_desert, np.minimum(act_spw, 1.0), act_spw)
    in_well_served = np.isin(act_msoa, well_served)
    act_spw = np.where(in_well_served, np.maximum(act_spw, 1.0), act_spw)
    act_places = np.where(
        in_well_served, np.maximum(act_places, rng.integers(12, 31, n_acts)), act_places
    )

    # start: most began before the history window, a third during it
    window = as_of_day - start_day
    before = rng.random(n_acts) < 0.65
    act_start = np.where(
        before,
        start_day - rng.integers(30, 3000, n_acts),
        start_day + (rng.random(n_acts) * max(window - 45, 1)).astype(np.int64),
    )
    ended = rng.random(n_acts) < 0.13
    ended &= ~np.isin(act_msoa, well_served)  # the well served stay well served
    earliest_end = np.maximum(act_start + 60, start_day + 30)
    act_end = np.where(
        ended & (earliest_end < as_of_day - 7),
        earliest_end
        + (rng.random(n_acts) * np.maximum(as_of_day - 7 - earliest_end, 1)).astype(np.int64),
        -1,
    )
    act_cost = np.where(
        rng.random(n_acts) < 0.78,
        0.0,
        np.array([1.0, 2.0, 2.5, 3.0, 4.0, 5.0])[rng.integers(0, 6, n_acts)],
    )
    act_cost = np.where(act_category == _CAT["food"], 0.0, act_cost)

    popular = np.isin(
        act_category,
        [
            _CAT[c]
            for c in (
                "social_connection",
                "physical_activity",
                "arts_culture_heritage",
                "food",
                "nature_green",
            )
        ],
    )
    open_now = act_end < 0
    act_oversubscribed = open_now & (rng.random(n_acts) < np.where(popular, 0.16, 0.06))

    template_pick = rng.random(n_acts)
    act_name = np.array(
        [
            f"{places.msoa_name[act_msoa[i]]} {_pick(ACTIVITY_TEMPLATES[cat_names[i]], u)}"
            for i, u in enumerate(template_pick)
        ]
    )
    act_id = np.array([f"act-{i + 1:06d}" for i in range(n_acts)])

    # --- Providers: local groups per MSOA, plus authority-wide charities ----------------
    act_provider = np.full(n_acts, -1, dtype=np.int64)
    prov_type: list[str] = []
    prov_lsoa: list[int] = []
    prov_name: list[str] = []
    prov_la_wide: list[bool] = []
    for la in range(len(places.la_code)):
        members = np.flatnonzero(act_la == la)
        if members.size == 0:
            continue
        n_charities = max(1, int(round(members.size * 0.12 / 4)))
        taken = members[rng.random(members.size) < 0.12]
        names = (
            rng.choice(len(CHARITY_TEMPLATES), size=n_charities, replace=False)
            if (n_charities <= len(CHARITY_TEMPLATES))
            else rng.integers(0, len(CHARITY_TEMPLATES), n_charities)
        )
        if taken.size:
            owner = rng.integers(0, n_charities, taken.size)
            for c in range(n_charities):
                mine = taken[owner == c]
                if mine.size == 0:
                    continue
                act_provider[mine] = len(prov_type)
                prov_type.append(
                    "registered_charity" if rng.random() < 0.8 else "social_enterprise"
                )
                prov_lsoa.append(int(act_lsoa[mine[0]]))
                prov_name.append(CHARITY_TEMPLATES[names[c]].format(place=places.la_name[la]))
                prov_la_wide.append(True)
    local_types = np.array(
        [
            "community_group",
            "faith_group",
            "registered_charity",
            "social_enterprise",
            "community_interest_company",
        ]
    )
    local_probs = np.array([0.60, 0.10, 0.20, 0.04, 0.06])
    for m in range(n_msoas):
        members = np.flatnonzero((act_msoa == m) & (act_provider < 0))
        if members.size == 0:
            continue
        members = members[rng.permutation(members.size)]
        sizes = rng.choice([1, 2, 3, 4], size=members.size, p=[0.55, 0.27, 0.12, 0.06])
        cuts = np.cumsum(sizes)
        cuts = cuts[cuts < members.size]
        for group in np.split(members, cuts):
            act_provider[group] = len(prov_type)
            kind = str(local_types[draw_one(rng, local_probs)])
            prov_type.append(kind)
            prov_lsoa.append(int(act_lsoa[group[0]]))
            place = places.msoa_name[m]
            if kind == "faith_group":
                options: tuple[str, ...] = FAITH_TEMPLATES
            else:
                options = PROVIDER_TEMPLATES[CATEGORIES[act_category[group[0]]]]
            prov_name.append(options[rng.integers(0, len(options))].format(place=place))
            prov_la_wide.append(False)
    n_prov = len(prov_type)
    prov_type_arr = np.array(prov_type, dtype=object).astype(str)
    prov_id = _provider_ids(rng, prov_type_arr)
    volunteer_p = np.select(
        [
            prov_type_arr == "community_group",
            prov_type_arr == "faith_group",
            prov_type_arr == "registered_charity",
        ],
        [0.85, 0.7, 0.2],
        0.05,
    )
    prov_volunteer = np.where(
        rng.random(n_prov) < 0.05, -1, (rng.random(n_prov) < volunteer_p).astype(np.int64)
    )

    # --- Sessions held in the history window --------------------------------------------
    sess_act, sess_day = _session_dates(rng, act_start, act_end, act_spw, start_day, as_of_day)
    reduced = rng.random(len(sess_act)) < 0.04
    sess_places = np.where(
        reduced, np.maximum(1, np.round(act_places[sess_act] * 0.75)), act_places[sess_act]
    ).astype(np.int64)

    community = Community(
        deprived_msoas=deprived,
        underserved_msoas=underserved,
        well_served_msoas=well_served,
        act_id=act_id,
        act_provider=act_provider,
        act_msoa=act_msoa,
        act_lsoa=act_lsoa,
        act_la=act_la,
        act_category=act_category,
        act_spw=act_spw,
        act_places=act_places,
        act_start=act_start,
        act_end=act_end,
        act_cost=act_cost,
        act_name=act_name,
        act_oversubscribed=act_oversubscribed,
        prov_id=prov_id,
        prov_name=np.array(prov_name, dtype=object).astype(str),
        prov_type=prov_type_arr,
        prov_lsoa=np.array(prov_lsoa, dtype=np.int64),
        prov_volunteer=prov_volunteer,
        sess_act=sess_act,
        sess_day=sess_day,
        sess_places=sess_places,
    )
    community.grants = _grants(
        rng_for(seed, "funding"), places, community, np.array(prov_la_wide), as_of
    )
    return community


def _pick(options: tuple[str, ...], u: float) -> str:
    return options[int(u * len(options))]


def _provider_ids(rng: np.random.Generator, kinds: np.ndarray) -> np.ndarray:
    """360Giving org-ids: GB-CHC-9xxxxxx charities, GB-COH-DVxxxxxx companies, 360G-DEMO-
    for unregistered groups (numbers drawn from ranges no real register uses)."""
    n = len(kinds)
    ids = np.empty(n, dtype=object)
    assigned = np.zeros(n, dtype=bool)
    charity = np.flatnonzero(kinds == "registered_charity")
    numbers = 9_000_000 + 100_000 + rng.choice(899_000, size=charity.size, replace=False)
    ids[charity] = [f"GB-CHC-{number}" for number in numbers]
    assigned[charity] = True
    company = np.flatnonzero(np.isin(kinds, ["social_enterprise", "community_interest_company"]))
    numbers = 100_000 + rng.choice(899_000, size=company.size, replace=False)
    ids[company] = [f"GB-COH-DV{number:06d}" for number in numbers]
    assigned[company] = True
    other = np.flatnonzero(~assigned)
    width = max(4, len(str(other.size)))
    ids[other] = [f"360G-DEMO-{i + 1:0{width}d}" for i in range(other.size)]
    return ids.astype(str)


def _session_dates(
    rng: np.random.Generator,
    act_start: np.ndarray,
    act_end: np.ndarray,
    act_spw: np.ndarray,
    start_day: int,
    as_of_day: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Dates of every session held: fixed weekdays, weekly, fortnightly or four-weekly,
    with a Christmas break, an August break for some, and a few cancellations."""
    n = len(act_start)
    first = np.maximum(act_start, start_day)
    last = np.where(act_end < 0, as_of_day, np.minimum(act_end, as_of_day))
    main_day = np.where(rng.random(n) < 0.9, rng.integers(0, 5, n), rng.integers(5, 7, n))
    second_day = (main_day + rng.integers(1, 4, n)) % 5
    phase = rng.integers(0, 4, n)
    august_break = rng.random(n) < 0.25
    christmas_break = rng.random(n) < 0.9
    acts: list[np.ndarray] = []
    days: list[np.ndarray] = []
    for a in range(n):
        if last[a] < first[a]:
            continue
        spw = act_spw[a]
        if spw >= 5:
            dows = np.arange(5)
        elif spw >= 3:
            dows = np.array([0, 2, 4])
        elif spw >= 2:
            dows = np.unique([main_day[a] % 5, second_day[a]])
        else:
            dows = np.array([main_day[a]])
        interval = 4 if spw < 0.5 else 2 if spw < 1 else 1
        monday = first[a] - (first[a] + 3) % 7
        weeks = np.arange(phase[a] % interval, (last[a] - monday) // 7 + 1, interval)
        grid = (monday + 7 * weeks[:, None] + dows[None, :]).ravel()
        grid = grid[(grid >= first[a]) & (grid <= last[a])]
        acts.append(np.full(grid.size, a, dtype=np.int64))
        days.append(grid)
    if not acts:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    sess_act = np.concatenate(acts)
    sess_day = np.concatenate(days).astype(np.int64)
    month = month_of_year(sess_day)
    day_of_month = sess_day - month_start_days(month_index(sess_day)) + 1
    christmas = ((month == 12) & (day_of_month >= 24)) | ((month == 1) & (day_of_month == 1))
    keep = ~(christmas & christmas_break[sess_act])
    keep &= ~((month == 8) & august_break[sess_act])
    keep &= rng.random(sess_day.size) >= 0.03
    return sess_act[keep], sess_day[keep]


def _funders(places: Places, rng: np.random.Generator) -> dict[str, list[tuple[str, str]]]:
    """Funders per ICB (by ICB index) and per council (by LA index), as (org-id, name)."""
    funders: dict[str, list[tuple[str, str]]] = {
        "icb": [],
        "foundation": [],
        "trust": [],
        "council": [],
    }
    next_id = 1
    charity_numbers = (
        9_000_000 + 1_000 + rng.choice(99_000, size=2 * len(places.icb_code), replace=False)
    )
    for i, short in enumerate(places.icb_short):
        funders["icb"].append(
            (f"360G-DEMO-FUNDER-{next_id}", f"NHS {short} Integrated Care Board (fictional)")
        )
        next_id += 1
        funders["foundation"].append(
            (f"GB-CHC-{charity_numbers[2 * i]}", f"{short} Community Foundation (fictional)")
        )
        funders["trust"].append(
            (
                f"GB-CHC-{charity_numbers[2 * i + 1]}",
                f"{short} Health and Wellbeing Trust (fictional)",
            )
        )
    for name in places.la_name:
        funders["council"].append((f"360G-DEMO-FUNDER-{next_id}", f"{name} Council (fictional)"))
        next_id += 1
    return funders


# Grant programmes as funders name them; the purpose comes back from the programme mapping
# (dbt_project/seeds/grant_programme_purposes.csv).
PROGRAMME_TITLES = {
    "core": "Core Funding Programme",
    "project": "Community Projects Fund",
    "social_prescribing_contract": "Social Prescribing Contracts",
}


def _round_to(value: float, step: float) -> float:
    return float(max(step, round(value / step) * step))


def _grants(
    rng: np.random.Generator,
    places: Places,
    community: Community,
    la_wide: np.ndarray,
    as_of: date,
) -> list[dict[str, Any]]:
    """Flat provider_funding rows. Also shortens activities at the funding cliff."""
    as_of_day = to_days(as_of)
    funders = _funders(places, rng)
    n_prov = len(community.prov_id)
    active = community.active_on(as_of_day)
    prov_active = np.bincount(community.act_provider[active], minlength=n_prov) > 0
    prov_category = np.zeros(n_prov, dtype=np.int64)
    prov_category[community.act_provider[::-1]] = community.act_category[::-1]
    small = np.isin(community.prov_type, ["community_group", "faith_group"])
    size = np.where(la_wide, 2, np.where(small, 0, 1))  # 0 small, 1 medium, 2 large
    has_contract = (
        prov_active & (size >= 1) & (rng.random(n_prov) < np.where(size == 2, 0.35, 0.08))
    )
    at_cliff = prov_active & (rng.random(n_prov) < 0.2)

    project_scale = np.array([4_000.0, 25_000.0, 60_000.0])
    core_scale = np.array([2_500.0, 18_000.0, 45_000.0])
    durations = np.array([365, 730, 1095])
    rows: list[dict[str, Any]] = []

    def add(
        p: int,
        purpose: str,
        award: int,
        start: int,
        days: int,
        amount: float,
        funder: tuple[str, str],
    ) -> None:
        if purpose == "project":
            title = PROJECT_TITLES[CATEGORIES[prov_category[p]]][int(rng.integers(0, 2))]
        elif purpose == "core":
            title = CORE_TITLES[int(rng.integers(0, len(CORE_TITLES)))]
        else:
            title = SP_CONTRACT_TITLES[int(rng.integers(0, len(SP_CONTRACT_TITLES)))]
        rows.append(
            {
                "title": title,
                "currency": "GBP",
                "amount_awarded_gbp": amount,
                "award_date": from_days(award),
                "planned_start_date": from_days(start),
                "planned_end_date": from_days(start + days - 1),
                "recipient_org_id": str(community.prov_id[p]),
                "recipient_org_name": str(community.prov_name[p]),
                "funding_org_id": funder[0],
                "funding_org_name": funder[1],
                "grant_programme_title": PROGRAMME_TITLES[purpose],
                "beneficiary_area_codes": str(
                    places.msoa_code[places.lsoa_msoa[community.prov_lsoa[p]]]
                ),
            }
        )

    def pick_funder(p: int, purpose: str) -> tuple[str, str]:
        la = int(places.lsoa_la[community.prov_lsoa[p]])
        icb = int(places.la_icb[la])
        u = rng.random()
        if purpose == "social_prescribing_contract":
            return funders["icb"][icb]
        if purpose == "core":
            kinds = ("council", "foundation", "trust")
            kind = kinds[int(np.searchsorted([0.5, 0.85, 1.0], u))]
        else:
            kinds = ("foundation", "council", "trust", "icb")
            kind = kinds[int(np.searchsorted([0.4, 0.7, 0.9, 1.0], u))]
        return funders[kind][la] if kind == "council" else funders[kind][icb]

    def amount(p: int, purpose: str, years: float) -> float:
        scale_gbp = (core_scale if purpose == "core" else project_scale)[size[p]]
        value = rng.lognormal(np.log(scale_gbp), 0.55) * (years if purpose == "core" else 1)
        return _round_to(min(value, 900_000.0), 50.0 if size[p] == 0 else 100.0)

    cliff_end = np.full(n_prov, -1, dtype=np.int64)
    for p in range(n_prov):
        n_past = rng.poisson((1.0, 1.8, 3.0)[size[p]])
        if size[p] == 0 and rng.random() < 0.3:
            n_past = 0
        for _ in range(n_past):
            purpose = "core" if rng.random() < 0.25 else "project"
            days = int(durations[draw_one(rng, [0.45, 0.35, 0.2])])
            award = as_of_day - int(rng.integers(30, 5 * 365))
            start = award + int(rng.integers(14, 90))
            add(
                p,
                purpose,
                award,
                start,
                days,
                amount(p, purpose, days / 365),
                pick_funder(p, purpose),
            )
        if at_cliff[p]:
            purpose = "core" if rng.random() < 0.3 else "project"
            days = int(durations[draw_one(rng, [0.4, 0.4, 0.2])])
            end = as_of_day + int(rng.integers(20, 366))
            start = end - days + 1
            award = min(start - int(rng.integers(14, 90)), as_of_day - 1)
            add(
                p,
                purpose,
                award,
                start,
                days,
                amount(p, purpose, days / 365),
                pick_funder(p, purpose),
            )
            cliff_end[p] = end
        if has_contract[p]:
            end = as_of_day + int(rng.integers(-60, 300))
            while end > as_of_day - 3 * 365:
                start = end - 364
                award = min(start - int(rng.integers(14, 60)), as_of_day - 1)
                add(
                    p,
                    "social_prescribing_contract",
                    award,
                    start,
                    365,
                    _round_to(rng.uniform(8_000, 40_000), 500.0),
                    pick_funder(p, "social_prescribing_contract"),
                )
                end = start - 1 - int(rng.integers(0, 120))

    # Activities of groups at the cliff are often due to end when the money does.
    open_ended = (community.act_end < 0) & (cliff_end[community.act_provider] > 0)
    due = open_ended & (rng.random(len(community.act_end)) < 0.5)
    community.act_end = np.where(due, cliff_end[community.act_provider], community.act_end)

    rows.sort(key=lambda row: (row["award_date"], row["recipient_org_id"], row["title"]))
    for i, row in enumerate(rows):
        row["grant_id"] = f"360G-DEMO-GRANT-{i + 1:06d}"
    return rows


def activities_frame(community: Community, places: Places) -> pl.DataFrame:
    valid_end = community.act_end >= 0
    return pl.DataFrame(
        {
            "activity_id": community.act_id,
            "provider_id": community.prov_id[community.act_provider],
            "activity_name": community.act_name,
            "category": np.array(CATEGORIES)[community.act_category],
            "venue_lsoa_code": places.lsoa_code[community.act_lsoa],
            "sessions_per_week": community.act_spw.astype(np.float64),
            "places_per_session": community.act_places.astype(np.int64),
        }
    ).with_columns(
        date_series("start_date", community.act_start),
        date_series("end_date", np.where(valid_end, community.act_end, 0), valid_end),
        pl.Series("cost_to_attend_gbp", community.act_cost.astype(np.float64)),
    )


def providers_frame(community: Community, places: Places) -> pl.DataFrame:
    volunteer = pl.Series(
        "is_volunteer_led",
        [None if v < 0 else bool(v) for v in community.prov_volunteer],
        dtype=pl.Boolean,
    )
    return pl.DataFrame(
        {
            "provider_id": community.prov_id,
            "provider_name": community.prov_name,
            "provider_type": community.prov_type,
            "base_lsoa_code": places.lsoa_code[community.prov_lsoa],
        }
    ).with_columns(volunteer)


def grants_ending(grants: list[dict[str, Any]], as_of: date, months: int) -> list[str]:
    """Grant ids whose planned end falls after ``as_of`` and within ``months`` of it."""
    limit = add_months(as_of, months)
    return [g["grant_id"] for g in grants if as_of < g["planned_end_date"] <= limit]
