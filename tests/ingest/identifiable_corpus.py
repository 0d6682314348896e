"""The adversarial corpus for the identifiable-data screen, generated: every identifier in
every disguise, in every placement the screen must cover, each case naming the rule it
exercises; and a clean corpus of real-looking community text that must pass.

Placements: ``contract`` (a contract column that is not free text), ``free_text`` (the
contract's free-text column), ``outside`` (a column the contract does not know),
``file_name`` (the file's name), ``texts`` (``screen_texts``: a part of a file that is not a
table, such as another sheet or a JSON field outside the contract).
"""

import re
import unicodedata
from dataclasses import dataclass

# --- identifiers -------------------------------------------------------------------------------


def nhs_check_digit(nine: str) -> int | None:
    total = sum(int(digit) * weight for digit, weight in zip(nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return {11: 0, 10: None}.get(check, check)


def valid_nhs_numbers(count: int) -> list[str]:
    """Valid NHS numbers made from a fixed series of nine-digit stems."""
    found = []
    stem = 401023213
    while len(found) < count:
        check = nhs_check_digit(str(stem))
        if check is not None:
            found.append(f"{stem}{check}")
        stem += 7919
    return found


NHS_NUMBERS = ["9434765919", *valid_nhs_numbers(3)]


def _spread(number: str, separator: str, groups: tuple[int, ...] = (3, 3, 4)) -> str:
    parts, start = [], 0
    for size in groups:
        parts.append(number[start : start + size])
        start += size
    return separator.join(parts)


def _digits_in(number: str, zero: int) -> str:
    """The number written with the digits of another script (``zero`` is its 0)."""
    return "".join(chr(zero + int(digit)) for digit in number)


def _full_width(text: str) -> str:
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


# Disguises of an NHS number: name -> how to write it.
NHS_DISGUISES = {
    "plain": lambda n: n,
    "spaced 3-3-4": lambda n: _spread(n, " "),
    "two spaces": lambda n: _spread(n, "  "),
    "non-breaking spaces": lambda n: _spread(n, "\u00a0"),
    "narrow no-break and thin spaces": lambda n: f"{n[:3]}\u202f{n[3:6]}\u2009{n[6:]}",
    "ideographic space": lambda n: _spread(n, "\u3000"),
    "tab": lambda n: _spread(n, "\t"),
    "dots": lambda n: _spread(n, "."),
    "hyphens": lambda n: _spread(n, "-"),
    "spaced hyphens": lambda n: _spread(n, " - "),
    "slashes": lambda n: _spread(n, "/"),
    "backslashes": lambda n: _spread(n, "\\"),
    "underscores": lambda n: _spread(n, "_"),
    "brackets": lambda n: f"({n[:3]}) {n[3:6]} {n[6:]}",
    "square brackets": lambda n: f"[{n[:3]}][{n[3:6]}][{n[6:]}]",
    "every digit spaced": lambda n: " ".join(n),
    "every digit dotted": lambda n: ".".join(n),
    "pairs": lambda n: _spread(n, " ", (2, 2, 2, 2, 2)),
    "4-3-3": lambda n: _spread(n, "-", (4, 3, 3)),
    "mixed runs": lambda n: f"{n[:2]} .{n[2:5]}-/ {n[5:8]} ({n[8:]})",
    "full-width digits": lambda n: _full_width(_spread(n, " ")),
    "arabic-indic digits": lambda n: _digits_in(n, 0x0660),
    "devanagari digits": lambda n: _digits_in(n, 0x0966),
    "bengali digits": lambda n: _digits_in(n, 0x09E6),
    "mathematical bold digits": lambda n: _digits_in(n, 0x1D7CE),
    "zero-width spaces": lambda n: "\u200b".join(n),
    "soft hyphens": lambda n: _spread(n, "\u00ad"),
    "word joiners and spaces": lambda n: _spread(n, "\u2060 "),
    "glued prefix NHS No.": lambda n: f"NHS No.{n}",
    "glued prefix NHSno:": lambda n: f"NHSno:{_spread(n, ' ')}",
    "glued letters": lambda n: f"ID{n}X",
    "saved from a float": lambda n: f"{n}.0",
    "thousands commas": lambda n: f"{n[0]},{n[1:4]},{n[4:7]},{n[7:]}",
    "scientific notation": lambda n: f"{n[0]}.{n[1:]}E+09",
    "en dashes": lambda n: _spread(n, "\u2013"),
    "minus signs": lambda n: _spread(n, "\u2212"),
    "non-breaking hyphens": lambda n: _spread(n, "\u2011"),
    "colons": lambda n: _spread(n, ":"),
    "apostrophes": lambda n: _spread(n, "'"),
    "bars and stars": lambda n: f"{n[:3]}|{n[3:6]}*{n[6:]}",
    "after another number": lambda n: f"ref 12 {_spread(n, ' ')}",
}

POSTCODES = ["SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "EC1A 1BB", "LS1 4AP"]


def _postcode_parts(code: str) -> tuple[str, str]:
    outward, inward = code.split()
    return outward, inward


POSTCODE_DISGUISES = {
    "plain": lambda o, i: f"{o} {i}",
    "no space": lambda o, i: f"{o}{i}",
    "lower case": lambda o, i: f"{o} {i}".lower(),
    "two spaces": lambda o, i: f"{o}  {i}",
    "tab": lambda o, i: f"{o}\t{i}",
    "non-breaking space": lambda o, i: f"{o}\u00a0{i}",
    "narrow no-break space": lambda o, i: f"{o}\u202f{i}",
    "hyphen": lambda o, i: f"{o}-{i}",
    "en dash": lambda o, i: f"{o}\u2013{i}",
    "slash": lambda o, i: f"{o}/{i}",
    "underscore": lambda o, i: f"{o}_{i}",
    "spaced hyphen": lambda o, i: f"{o} - {i}",
    "dot": lambda o, i: f"{o}.{i}",
    "full-width": lambda o, i: _full_width(f"{o} {i}"),
    "zero-width space": lambda o, i: f"{o}\u200b{i}",
    "mixed case": lambda o, i: f"{o.lower()}{i.upper()}",
    "in a sentence": lambda o, i: f"lives near {o} {i} now",
    "glued prefix": lambda o, i: f"postcode{o}{i}",
    "cyrillic lookalike letters": lambda o, i: f"{o} {i}".replace("A", "\u0410").replace(
        "E", "\u0415"
    ),
}

DATES_OF_BIRTH = [("17", "06", "1944", "June"), ("03", "11", "1950", "November")]

# Dates of birth in free text: a cue and a date.
DOB_TEXT_DISGUISES = {
    "born d/m/y": lambda d, m, y, name: f"born {d}/{m}/{y}",
    "Born on the day of month": lambda d, m, y, name: f"Born on the {int(d)}th of {name} {y}",
    "DOB: ISO": lambda d, m, y, name: f"DOB: {y}-{m}-{d}",
    "dob no space": lambda d, m, y, name: f"dob:{d}.{m}.{y}",
    "d.o.b day month name": lambda d, m, y, name: f"d.o.b {int(d)} {name} {y}",
    "D.O.B. dots": lambda d, m, y, name: f"D.O.B. {d}.{m}.{y}",
    "date of birth month name first": lambda d, m, y, name: f"date of birth {name} {d}, {y}",
    "birth date slashes ymd": lambda d, m, y, name: f"birth date {y}/{m}/{d}",
    "two-digit year": lambda d, m, y, name: f"dob {d}-{m}-{y[2:]}",
    "full-width digits": lambda d, m, y, name: _full_width(f"born {d}/{m}/{y}"),
    "en dashes": lambda d, m, y, name: f"DOB {d}\u2013{m}\u2013{y}",
    "abbreviated month": lambda d, m, y, name: f"b. {d} {name[:3]} {y}",
    "in a sentence": lambda d, m, y, name: f"lonely since husband died; born {d}/{m}/{y}",
    "no cue, an old date": lambda d, m, y, name: f"lonely since husband died ({d}/{m}/{y})",
    "no cue, old date with month name": lambda d, m, y, name: f"age 80, {int(d)} {name} {y}",
}

# A date of birth alone, as a value (a column outside the contract, a non-date column).
DOB_VALUE_DISGUISES = {
    "ISO": lambda d, m, y, name: f"{y}-{m}-{d}",
    "d/m/y": lambda d, m, y, name: f"{d}/{m}/{y}",
    "d.m.y": lambda d, m, y, name: f"{d}.{m}.{y}",
    "day month name": lambda d, m, y, name: f"{int(d)} {name} {y}",
    "month name first": lambda d, m, y, name: f"{name} {int(d)}, {y}",
    "with midnight": lambda d, m, y, name: f"{y}-{m}-{d} 00:00:00",
    "full-width": lambda d, m, y, name: _full_width(f"{d}/{m}/{y}"),
}

DOB_HEADERS = [
    "born", "b_date", "BDate", "d.o.b", "D.O.B.", "DoB", "dob_1", "Date_Of_Birth",
    "DATE-OF-BIRTH", "dateOfBirth", "Birth Date", "BIRTHDAY", "year_born", "Ｄｏｂ",
]  # fmt: skip

# People: forename, surname.
PEOPLE = [
    ("John", "Smith"),
    ("Margaret", "Thompson"),
    ("Aisha", "Khan"),
    ("Chidi", "Okonkwo"),
    ("Wojciech", "Kowalski"),
    ("Siobhan", "Murphy"),
    ("Priya", "Patel"),
    ("Mohammed", "Hussain"),
    ("Siobhan", "O'Brien"),
    ("Kwame", "Mensah"),
]

NAME_DISGUISES = {
    "capitalised": lambda f, s: f"{f} {s}",
    "lower case": lambda f, s: f"{f} {s}".lower(),
    "upper case": lambda f, s: f"{f} {s}".upper(),
    "title": lambda f, s: f"Mrs {s}",
    "title with initial stop": lambda f, s: f"Dr. {s}",
    "followed by a comma": lambda f, s: f"lives with {f} {s}, her son",
    "non-breaking space": lambda f, s: f"{f}\u00a0{s}",
    "zero-width inside": lambda f, s: f"{f[:2]}\u200b{f[2:]} {s}",
    "full-width letters": lambda f, s: _full_width(f"{f} {s}"),
    "in a sentence": lambda f, s: f"referred after {f} {s} called the surgery",
    "lower case in a sentence": lambda f, s: f"carer is {f} {s} who visits daily".lower(),
    "initial and surname": lambda f, s: f"seen with {f[0]}. {s}",
    "title in lower case": lambda f, s: f"mrs {s.lower()} is lonely",
    "title in upper case": lambda f, s: f"MRS {s.upper()}",
    "surname, forename": lambda f, s: f"{s}, {f}",
    "glued together": lambda f, s: f"{f}{s}",
    "surname in capitals first": lambda f, s: f"{s.upper()} {f}",
    "in an email address": lambda f, s: f"contact {f.lower()}.{s.lower()}@example.com",
    "cyrillic lookalike letters": lambda f, s: f"{f} {s}".replace("o", "\u043e").replace(
        "a", "\u0430"
    ),
}

ADDRESSES = {
    "number and street": "12 Acacia Avenue",
    "lower case street": "4 church street",
    "upper case street": "27 STATION ROAD",
    "flat and street": "flat 3, 27b Station Road",
    "flat without road word": "Flat 3, 21 Marlow",
    "apartment number": "Apartment 12 at the tower",
    "house and town": "21 Marlow, Bucks",
    "house and outward code": "21 Marlow SL7",
    "number and close": "5 Rowan Close",
    "number and way": "18 Meadow Way",
    "number and mews in lower case": "9 priory mews",
    "non-breaking spaces": "12\u00a0Acacia\u00a0Avenue",
    "full-width": _full_width("12 Acacia Avenue"),
    "abbreviated street": "12 Acacia Gdns",
}


# --- cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One attack: ``value`` placed in ``placement``; the screen must refuse it by ``rule``
    and say nothing of ``secrets``."""

    rule: str
    disguise: str
    placement: str
    value: str
    secrets: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.rule}|{self.disguise}|{self.placement}"


def _nhs_secrets(number: str) -> tuple[str, ...]:
    return (number, number[:3], number[3:6], number[6:])


def _word_secrets(*words: str) -> tuple[str, ...]:
    return tuple(word for word in words if len(word) >= 3)


ALL_PLACEMENTS = ("contract", "free_text", "outside", "file_name", "texts")
# A name or an address is refused in a coded contract column too ("contract": person_id).
FREE_PLACEMENTS = ("contract", "free_text", "outside", "file_name", "texts")


def _safe_in_a_file_name(value: str) -> bool:
    return "/" not in value and "\\" not in value and "\t" not in value


def attack_cases() -> list[Case]:
    cases: list[Case] = []
    for index, (disguise, write) in enumerate(NHS_DISGUISES.items()):
        number = NHS_NUMBERS[index % len(NHS_NUMBERS)]
        value = write(number)
        for placement in ALL_PLACEMENTS:
            if placement == "file_name" and not _safe_in_a_file_name(value):
                continue
            cases.append(Case("nhs_number", disguise, placement, value, _nhs_secrets(number)))
    for index, (disguise, write) in enumerate(POSTCODE_DISGUISES.items()):
        outward, inward = _postcode_parts(POSTCODES[index % len(POSTCODES)])
        value = write(outward, inward)
        secrets = (f"{outward} {inward}", f"{outward}{inward}", inward)
        for placement in ALL_PLACEMENTS:
            if placement == "file_name" and not _safe_in_a_file_name(value):
                continue
            cases.append(Case("full_postcode", disguise, placement, value, secrets))
    for outward, inward in map(_postcode_parts, POSTCODES):
        for placement in ("contract", "outside", "texts"):
            cases.append(
                Case("split_postcode", f"{outward}|{inward}", placement, f"{outward}\t{inward}",
                     (f"{outward} {inward}", inward))
            )  # fmt: skip
    for day, month, year, name in DATES_OF_BIRTH:
        for order, parts in (
            ("d|m|y", (day, month, year)),
            ("y|m|d", (year, month, day)),
            ("m|d|y", (month, day, year)),
            ("d|month|y", (day, name, year)),
        ):
            for placement in ("outside", "texts"):
                cases.append(
                    Case("split_date", order, placement, "\t".join(parts), (year,))
                )  # fmt: skip
    for forename, surname in PEOPLE:
        for placement in ("contract", "outside", "texts"):
            cases.append(
                Case("split_name", f"{forename}|{surname}", placement, f"{forename}\t{surname}",
                     _word_secrets(forename, surname))
            )  # fmt: skip
    for index, (disguise, write) in enumerate(DOB_TEXT_DISGUISES.items()):
        day, month, year, name = DATES_OF_BIRTH[index % len(DATES_OF_BIRTH)]
        value = write(day, month, year, name)
        for placement in FREE_PLACEMENTS:
            if placement == "file_name" and not _safe_in_a_file_name(value):
                continue
            cases.append(Case("dob_in_text", disguise, placement, value, (year, value)))
    for index, (disguise, write) in enumerate(DOB_VALUE_DISGUISES.items()):
        day, month, year, name = DATES_OF_BIRTH[index % len(DATES_OF_BIRTH)]
        value = write(day, month, year, name)
        for placement in ("contract", "outside", "file_name", "texts"):
            if placement == "file_name" and not _safe_in_a_file_name(value):
                continue
            cases.append(Case("dob_value", disguise, placement, value, (year, value)))
    for header in DOB_HEADERS:
        cases.append(Case("dob_header", header, "header", "1944-06-17", ("1944",)))
    for index, (disguise, write) in enumerate(NAME_DISGUISES.items()):
        for forename, surname in PEOPLE[index % 2 :: 2]:  # half the people in each disguise
            value = write(forename, surname)
            secrets = _word_secrets(forename, surname)
            placements = FREE_PLACEMENTS
            if disguise.startswith("title"):
                secrets = _word_secrets(surname)
            for placement in placements:
                cases.append(Case("person_name", disguise, placement, value, secrets))
    for forename, surname in PEOPLE:
        cases.append(
            Case("person_name", "file name glued", "file_name", f"{forename}{surname}",
                 _word_secrets(forename, surname))
        )  # fmt: skip
        cases.append(
            Case("person_name", "file name with dob", "file_name",
                 f"{forename}_{surname}_1944-06-17", _word_secrets(forename, surname))
        )  # fmt: skip
    for disguise, value in ADDRESSES.items():
        secrets = tuple(
            word
            for word in re.findall(r"[A-Za-z]{4,}", value)
            if word[0].isupper() and word.lower() not in ("flat", "apartment")
        )
        for placement in FREE_PLACEMENTS:
            cases.append(Case("address", disguise, placement, value, secrets))
    # A column of names the per-value rules may miss: most values a forename and a word.
    cases.append(
        Case("names_column", "forename and an unlisted surname", "names_column",
             "jo bloggs|sam wibblewick|Priya Qazwsx|liam zorbulon", ("bloggs", "wibblewick"))
    )  # fmt: skip
    cases.append(
        Case("dob_column", "a column of dates before 2006", "dob_column",
             "1944-06-17|1950-11-03|1938-02-28|1961-09-09", ("1944", "1950"))
    )  # fmt: skip
    cases.append(
        Case("split_postcode", "adjacent texts", "texts_pair", "SW1A\t1AA", ("1AA",))
    )  # fmt: skip
    # A file without its header row: the first row's values are the headers.
    for rule, value, secrets in (
        ("header_value", "943 476 5919", ("943", "5919")),
        ("header_value", "LS1 4AP", ("4AP",)),
        ("header_value", "John Smith", ("John", "Smith")),
        ("header_value", "17/06/1944", ("1944",)),
        ("header_value", "12 Acacia Avenue", ("Acacia",)),
        ("header_value", "born 1944-06-17", ("1944",)),
    ):
        cases.append(Case(rule, value, "header", value, secrets))
    return cases


ATTACKS = attack_cases()

# --- the clean corpus ------------------------------------------------------------------------

# Community activity titles and group names as they are written (none names a person).
COMMUNITY_NAMES = [
    "Men's Shed", "Grace Church lunch club", "Victoria Park walking group",
    "Rose Garden volunteers", "St Mary's art class", "St John's Ambulance first aid",
    "Hope Street community cafe", "Faith in Action food bank", "Joy of Singing choir",
    "Holly Lodge allotments", "Albert Hall tea dance", "Florence Nightingale Hospice shop",
    "Martin Luther King Centre youth club", "Queens Park bowls club",
    "Jubilee Gardens litter pick", "Rosemary Lane knit and natter", "Ivy House memory cafe",
    "King George's Field parkrun", "Prince Albert pub quiz for carers", "Mary Seacole House",
    "Elizabeth Garrett Anderson Wing", "Abbey Road Men's Shed", "Harvest Kitchen cooking",
    "Age UK befriending", "Citizens Advice debt clinic", "Mind wellbeing walk",
    "Tai Chi for beginners", "Chair yoga at the library", "Dementia friendly cinema",
    "Boxing for Parkinson's", "Singing for the Brain", "Warm Space at the Methodist Church",
    "Bereavement support group", "Carers' coffee morning", "Gardening for wellbeing",
    "Walking football over 50s", "Knit and natter", "Repair cafe", "Community fridge",
    "Friends of Hollybush Park", "Green Gym conservation", "Park Run volunteers",
    "Parent and toddler stay and play", "ESOL conversation club", "Job club at the hub",
    "Digital skills drop-in", "Men's mental health football", "Women's walking netball",
    "Ukrainian community centre", "Polish Saturday school", "Somali women's group",
    "Bangladeshi elders lunch club", "Caribbean elders day centre", "Pakistani women's sewing",
    "Mosque community kitchen", "Gurdwara langar", "Shul friendship club",
    "St Anne's luncheon club", "Christ Church toddlers", "Holy Trinity warm hub",
    "All Saints coffee morning", "Our Lady of Lourdes parish hall", "Trinity Methodist choir",
    "The Jericho Tavern quiz", "Victoria Baths open day", "Alexandra Palace park walk",
    "Ashton Court bike ride", "Clifton Down walk", "Chester Zoo volunteers",
    "The Lowry arts on prescription", "Whitworth Art Gallery sketching",
    "Manchester Cathedral night shelter", "Salvation Army lunch", "Trussell Trust food bank",
    "Macmillan cancer support", "Samaritans listening", "Alcoholics Anonymous meeting",
    "Sue Ryder bereavement cafe", "Scope befriending", "Mencap gateway club",
]  # fmt: skip

# Names of charities named after a person, as written in free text: refused, as the screen
# cannot tell them from a person's name (named with a word such as "Hospice" they pass).
NAMED_AFTER_PEOPLE = ["Marie Curie drop-in", "support from Macmillan and Marie Curie nurses"]

# Free text as a referral reason is written, none identifying a person.
REFERRAL_REASONS = [
    "lonely since bereavement", "wants to get out more; went 3 times to the park",
    "interested in the walking group on Tuesdays", "debt advice needed",
    "would like to join the Men's Shed", "suggested Grace Church lunch club",
    "Victoria Park walking group on Thursdays at 10:30", "volunteers with Rose Garden group",
    "St Mary's art class helped last year", "met the link worker 3 times in March 2026",
    "attended 2 sessions of chair yoga", "housing worry, referred to Citizens Advice",
    "low mood; likes gardening and the Holly Lodge allotments",
    "carer for husband, 2 children at home", "wants Tai Chi or Singing for the Brain",
    "moved to the area in 2019, knows nobody", "PHQ-9 score 14, GAD-7 score 9",
    "seen 01/02/2026 and 03/03/2026", "follow up 2026-03-14 12:30",
    "scores 4 6 8 10 12 over five weeks", "rent arrears of 1,234.56 since 2025",
    "referred from Queens Park surgery", "SWEMWBS 21.54 at baseline",
]  # fmt: skip

# File names senders use.
CLEAN_FILE_NAMES = [
    "referrals_2026-03.csv", "activity_sessions_week_2026-W10.csv", "360giving_grants_2025.json",
    "ICB export 2026-03-01.csv", "referrals March 2026.xlsx", "providers-v2.csv",
    "link_worker_capacity_2025-26_Q3.xlsx", "activities (final).csv", "geography_2021.csv",
    "population_groups_2021_census.csv", "onward_referrals_20260301.csv",
    "Grace Church lunch club sessions.csv", "Victoria Park walking group.xlsx",
    "St Mary's art class 2026-02.csv", "deprivation_iod2019_lsoa11.csv",
    "practices_epraccur_2023-02.csv", "ONS_LAD20_names.csv",
    "funding 2024-04-01 to 2025-03-31.json",
]  # fmt: skip


def normalised_secret(secret: str) -> str:
    return unicodedata.normalize("NFKC", secret)
