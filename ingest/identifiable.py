"""Refuse whole files that carry identifiable data, before anything is written.

Data reaching the ICB is pseudonymised: no NHS numbers, names, addresses, full postcodes or
dates of birth (docs: DOMAIN.md, "Privacy and disclosure control"). The screen runs on the raw
text of every column, including columns the contract does not know and the reader would drop,
so the loader calls it between ``read_raw`` and ``to_typed``::

    raw = read_raw(contract, path)
    check_identifiable(contract, raw, path)   # raises IdentifiableDataError
    typed = to_typed(contract, raw, path=path)

Every value is normalised before it is matched, so that formatting does not hide it: Unicode
NFKC (full-width and other compatibility forms), every Unicode digit to 0-9, every Unicode
space to a plain space, Cyrillic and Greek letters that look Latin to Latin, zero-width and
formatting characters removed.

What refuses a file:

* a header that names identifiable data (NHS number, names, date of birth or its synonyms such
  as ``born``, ``b_date``, ``d.o.b``, address, postcode, telephone, email, a 360Giving
  ``recipientIndividual``);
* in any column, a value holding an NHS number: 10 digits, with any separators or runs of
  separators between any of them (spaces, dots, dashes, slashes, brackets, underscores, colons,
  apostrophes, bars, thousands commas; or in scientific notation, "9.434765919E+09") and
  anything glued in front ("NHS No.1860913903"), whose modulus 11 check digit is valid. The 10
  digits must be whole groups of a number: "1 943 476 5919" holds one, "94347659190" and
  "0.9434765919" do not. A number with one decimal point is a decimal (only its whole part is a
  candidate), and dates and times ("01/02/2024 12:30") are not read as digits of one;
* in any column, a full UK postcode (outward and inward code for a real postcode area, in any
  case, with any whitespace, a dash, a dot, a slash or nothing between them; in capitals also
  glued to a word, "postcodeLS14AP"), or a postcode split across two adjacent columns (an
  outward code alone in one column and an inward code alone in the next, on the same row); an
  outward code alone ("SW1A") passes;
* in a contract column that is not a date, a value that is a whole date (day, month and year)
  from 1900 to 2005: a date of birth (the contract's date columns hold dates of events);
* in a contract column of codes or listed values (``person_id``, ``outcome``, ``age_band``),
  a person's name, an address or a date of birth with its cue, as in free text below (names
  are not screened in columns of organisation, place or activity names, which hold names of
  people often: "Marie Curie Hospice");
* in the contract's free-text columns, in every column the contract does not know, and in every
  text that is not a table of the contract (``screen_texts``):

  - a person's name, read word by word against name lists: a title and a surname or a
    capitalised word ("Mrs Smith", "mrs smith", "DR. OKAFOR"; "MS Society" is multiple
    sclerosis); an initial and a surname ("J. Smith"); a surname, a comma and a forename
    ("Smith, John") or a surname in capitals and a forename ("SMITH John"); a forename followed
    by a surname ("john smith", any case) or, capitalised, by any capitalised word ("Aisha
    Qureshi"); any word followed by a surname of the African, South Asian or Eastern European
    lists that no English-speaking country's list has ("Chidi Okonkwo", "chidi okonkwo"; a
    surname of five letters or more). Words written together ("JohnSmith") and the two parts of
    an email address ("john.smith@...") are read apart. Forenames and surnames are the name
    lists of the Faker package (British, Irish, American, South Asian, African, European,
    Vietnamese and Chinese lists); Faker's list of common English words takes those words out of
    the forenames ("may", "mark": a name only when capitalised). Not a person's name: a second
    word that names a place or an organisation ("Victoria Park", "Grace Church", "Rose Hill"), a
    name after "St" or a compass word ("St James", "North Kent"), a pair followed by such a word
    within two words ("Florence Nightingale Hospice"), words split by punctuation ("Victoria &
    Somerton"). A name in lower case whose forename is on no list and whose surname is an
    English one ("zorbulon smith") passes;
  - an address: a house number and a street ("12 Acacia Avenue"), a flat or apartment number
    ("Flat 3"), or a house number and a name followed by a town or an outward code ("21 Marlow,
    Bucks", "21 Marlow SL7");
  - a date of birth: a cue ("born", "DOB", "d.o.b", "date of birth") and a full date ("born
    17/06/1944", "DOB: 1944-06-17", "d.o.b 17 June 1944"), or a whole date from 1900 to 2005
    anywhere in the text, unless the value is only the first or last day of a month (how a
    period is written: "1998-04-01", "2003-03-31" pass, "since 17/06/1998" does not);

* in a column the contract does not know, most values (at least half) a forename and one or
  two words: a column of names ("jo bloggs");
* a name split across two adjacent columns (one of them free text, coded or outside the
  contract) or two texts in a row: a forename alone followed by a surname alone ("John" |
  "Smith"), or a capitalised word by a distinct surname ("Chidi" | "Okonkwo"); a date from 1900
  to 2005 split across three such columns or texts (17 | 6 | 1944, 1944 | 06 | 17);
* a header that is itself a value (an NHS number, a postcode, a name, an address, a date of
  birth): the first row of a file sent without its header row. Such a column is named by its
  position in the message.

A file's name is screened by ``identifiable_file_name`` for NHS numbers, postcodes, names and
dates of birth (a cue and a date, or any whole date from 1900 to 2005).

The error names each column, the kind of data and how many values; it never repeats a value.
All checks are polars expressions over whole columns; the modulus 11 arithmetic runs on
candidate values only. Screening a 100 MB referrals CSV of 515,000 rows in 64 MB batches
takes a few seconds.

How well it works is measured by tests/ingest/test_identifiable_attacks.py, on a generated
adversarial corpus (tests/ingest/identifiable_corpus.py: every identifier in every disguise, in
a contract column, a free-text column, a column outside the contract, a file name and a text
that is not a table) and on real text nobody here wrote, screened as free text: GP practice
and PCN names (NHS ODS), MSOA names (House of Commons Library), local authority names (ONS),
the demo's activity, provider and group names and a list of community activity titles. At the
last measurement 0 of 1,047 adversarial cases got through (false negatives: 0%), and these
shares of real names were refused as a person's name, an address or a date of birth (false
positives, as written / in lower case): GP practices 0.35% / 0.84% (mostly a doctor's initial
and name, "DR J SMITH & PARTNERS", and practices named by their address), PCNs 0% / 0%, MSOAs
0.35% / 0.13% ("Shirley Warren", "Lawrence Weston": places named like people), local
authorities 0.26% / 0%, demo names 0.15% / 0.03%, community activity titles 0% / 0%. Practice
names with a title and a name ("DR PATEL'S PRACTICE") are a person's name too: 2.8% of
practice names with them. The test fails above 1.5% for any of them. Charities named after a
person ("Marie Curie") are refused in free text unless a word such as "Hospice" follows.
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import import_module
from pathlib import Path

import polars as pl

from ingest.contracts.model import Contract
from ingest.contracts.sources import PUBLIC_IDENTIFIERS
from ingest.errors import InputError
from ingest.read import HELPER_COLUMNS, column_for_header, header_looks_like_data

_DATA_HEADER = "the header holds an NHS number or a postcode (was the header row left out?)"
_VALUE_HEADER = (
    "the header holds a name, an address or a date of birth (was the header row left out?)"
)


@dataclass(frozen=True)
class Finding:
    """One reason to refuse: where (a column, or a part of the file that is no column), the
    kind of data it seemed to hold, and how many values."""

    column: str  # a header, "column N", or with ``place`` a part of the file ("sheet 2")
    kind: str
    count: int  # values that matched; 0 when the header alone gave it away
    place: bool = False  # ``column`` names a part of the file, not a column

    @property
    def is_header(self) -> bool:
        """``column`` is the file's header for the column (not a position or a place)."""
        return not self.place and not re.fullmatch(r"column \d+", self.column)

    @property
    def where(self) -> str:
        return f"column {self.column!r}" if self.is_header else self.column

    def describe(self) -> str:
        if self.kind in (_DATA_HEADER, _VALUE_HEADER):
            return f"{self.column}: {self.kind}"
        if self.count == 0:
            return f"{self.where}: the header names {self.kind}"
        values = "value looks" if self.count == 1 else "values look"
        return f"{self.where}: {self.count} {values} like {self.kind}"


class IdentifiableDataError(InputError):
    """The file carries identifiable data; nothing of it may be loaded."""

    def __init__(self, findings: list[Finding], *, path: Path | str | None = None) -> None:
        self.findings = findings
        details = "; ".join(finding.describe() for finding in findings)
        single = findings[0] if len(findings) == 1 else None
        super().__init__(
            "refused: the file holds identifiable data and nothing was loaded "
            f"(send pseudonymised data only). {details}",
            path=path,
            column=single.column if single is not None and single.is_header else None,
        )


def merge_findings(findings: list[Finding]) -> list[Finding]:
    """One finding per (where, kind), counts added (texts are screened in batches)."""
    counts: dict[tuple[str, str, bool], int] = {}
    for finding in findings:
        key = (finding.column, finding.kind, finding.place)
        counts[key] = counts.get(key, 0) + finding.count
    return [Finding(*key[:2], count, place=key[2]) for key, count in counts.items()]


# --- headers ---------------------------------------------------------------------------------

# Applied to the normalised header (lower case, letters and digits only).
_HEADER_RULES: tuple[tuple[str, str], ...] = (
    (r"nhs(?:number|no|num)|chinumber", "an NHS number"),
    (r"birth|^born|born$|^bdate|bdate$|^bday$|^dob|dob$", "a date of birth"),
    (
        r"forenames?|surname|firstnames?|lastname|givennames?|familyname|fullname|"
        r"middlenames?|maidenname|(?:patient|client|person|serviceuser|resident)name",
        "a person's name",
    ),
    (r"e?mailaddress|^e?mail$", "an email address"),
    (r"^(?!.*(?:web|website|ip|url)address).*address", "an address"),
    (r"(?:postcode|postalcode|zipcode)$|^pcode$", "a postcode"),
    (r"telephone|phonenumber|mobilenumber|^phone$|^mobile$|^tel$", "a telephone number"),
    (r"recipientindividual", "a person who received a grant (360Giving recipientIndividual)"),
)


def identifiable_header(header: str) -> str | None:
    """The kind of identifiable data a header names, or None."""
    key = re.sub(r"[^0-9a-z]", "", unicodedata.normalize("NFKC", header).casefold())
    for pattern, kind in _HEADER_RULES:
        if re.search(pattern, key):
            return kind
    return None


# --- normalising -----------------------------------------------------------------------------

# Zero-width and formatting characters (soft hyphen, joiners, direction marks, BOM).
_INVISIBLE = "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"


@cache
def _unicode_digits() -> tuple[list[str], list[str]]:
    """Every decimal digit outside ASCII that NFKC leaves alone, and its ASCII digit."""
    pairs = [
        (chr(code), str(unicodedata.decimal(chr(code))))
        for code in range(0x80, 0x20000)
        if unicodedata.decimal(chr(code), None) is not None
        and not unicodedata.normalize("NFKC", chr(code)).isascii()
    ]
    return [char for char, _ in pairs], [digit for _, digit in pairs]


# Cyrillic and Greek letters that look like Latin ones ("Jоhn" with a Cyrillic o).
_LOOKALIKES = {
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0443": "y",
    "\u0445": "x", "\u0456": "i", "\u0458": "j", "\u0455": "s", "\u04bb": "h", "\u0501": "d",
    "\u0410": "A", "\u0412": "B", "\u0415": "E", "\u041a": "K", "\u041c": "M", "\u041d": "H",
    "\u041e": "O", "\u0420": "P", "\u0421": "C", "\u0422": "T", "\u0423": "Y", "\u0425": "X",
    "\u0406": "I", "\u0408": "J", "\u0405": "S", "\u0391": "A", "\u0392": "B", "\u0395": "E",
    "\u0396": "Z", "\u0397": "H", "\u0399": "I", "\u039a": "K", "\u039c": "M", "\u039d": "N",
    "\u039f": "O", "\u03a1": "P", "\u03a4": "T", "\u03a5": "Y", "\u03a7": "X", "\u03bf": "o",
    "\u03b1": "a", "\u03ba": "k", "\u03bd": "v", "\u03c1": "p", "\u03c4": "t", "\u03c5": "u",
}  # fmt: skip


def normalised(text: pl.Expr) -> pl.Expr:
    """Text as the checks read it: NFKC, ASCII digits and spaces, Latin lookalikes as Latin,
    no invisible characters."""
    source, target = _unicode_digits()
    return (
        text.str.normalize("NFKC")
        .str.replace_all(_INVISIBLE, "")
        .str.replace_many([*source, *_LOOKALIKES], [*target, *_LOOKALIKES.values()])
        .str.replace_all(r"\s", " ")
    )


def _as_text(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The columns as normalised strings (only columns with a non-ASCII character change)."""
    text = frame.select(
        pl.col(name).cast(pl.String) if frame.schema[name] != pl.String else pl.col(name)
        for name in columns
    )
    if text.width == 0:
        return text
    wide = text.select(pl.col(name).str.contains(r"[^\x00-\x7f]").any() for name in columns)
    changed = [name for name, flag in wide.row(0, named=True).items() if flag]
    return text.with_columns(normalised(pl.col(name)) for name in changed) if changed else text


# --- NHS numbers -----------------------------------------------------------------------------

# Separators between the digits of a number: spaces, dots, slashes, brackets, underscores,
# colons, apostrophes, bars, stars, and every dash and minus sign.
_SEP = r"[\s./\\()\[\]{}<>_:'\u2019|*+#~=\p{Pd}\u2212-]"
# Ten digits with separators between whole groups: the cheap test that picks the values to
# look at (the exact rules below only take candidates away).
NHS_NUMBER_CANDIDATE = rf"(?:^|\D)\d(?:(?:{_SEP}|,)*\d){{9}}(?:\D|$)"
# Thousands separators ("9,434,765,919"): removed before numbers are read; and a 10-digit
# number in scientific notation, as a spreadsheet may write it ("9.434765919E+09").
_THOUSANDS = r"(\d),(\d{3})"
_SCIENTIFIC = r"(\d)\.(\d{9})[eE]\+?0?9\b"
_RUN = rf"\d(?:{_SEP}*\d)*"
_DAY, _MONTH = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])"
# Dates and times are not digits of an NHS number: "01/02/2024 - 03/04/2024", "1/2/2024 12:30".
_NOT_DIGITS = (
    rf"(^|[^0-9])(?:{_DAY}[-/.]{_MONTH}[-/.](?:19|20)\d\d|(?:19|20)\d\d[-/.]{_MONTH}[-/.]{_DAY}"
    r"|\d{1,2}:\d\d(?::\d\d)?)"
)

_WEIGHTS = range(10, 1, -1)


def nhs_number_is_valid(digits: pl.Expr) -> pl.Expr:
    """True where a 10-digit string passes the NHS number modulus 11 check."""
    total = pl.sum_horizontal(
        digits.str.slice(position, 1).cast(pl.Int64) * weight
        for position, weight in enumerate(_WEIGHTS)
    )
    check = 11 - total % 11
    check = pl.when(check == 11).then(0).otherwise(check)
    return (check != 10) & (check == digits.str.slice(9, 1).cast(pl.Int64))


def _nhs_number_rows(text: pl.Series) -> pl.Series:
    """Indexes of the values holding an NHS number.

    A value's numbers are its runs of digits and separators; an NHS number is 10 digits made
    of whole groups of one run (the digits between separators), with a valid check digit."""
    rows = (
        text.to_frame("text")
        .with_row_index("row")
        .filter(pl.col("text").str.contains(NHS_NUMBER_CANDIDATE))
    )
    if rows.height == 0:
        return pl.Series("row", [], dtype=pl.UInt32)
    runs = (
        rows.select(
            "row",
            pl.col("text")
            .str.replace_all(_SCIENTIFIC, "${1}${2}")
            .str.replace_all(_THOUSANDS, "${1}${2}")
            .str.replace_all(_THOUSANDS, "${1}${2}")
            .str.replace_all(_THOUSANDS, "${1}${2}")
            .str.replace_all(_NOT_DIGITS, "${1};")
            .str.extract_all(_RUN)
            .alias("run"),
        )
        .explode("run")
        .drop_nulls("run")
        .with_columns(  # a decimal: only its whole part
            pl.when(pl.col("run").str.contains(r"^\d+\.\d+$"))
            .then(pl.col("run").str.extract(r"^(\d+)"))
            .otherwise(pl.col("run"))
            .alias("run")
        )
        .filter(pl.col("run").str.count_matches(r"\d") >= 10)
        .with_row_index("run_id")
        .with_columns(
            pl.col("run").str.replace_all(r"\D", "").alias("digits"),
            pl.col("run").str.extract_all(r"\d+").list.eval(pl.element().str.len_bytes()),
        )
    )
    if runs.height == 0:
        return pl.Series("row", [], dtype=pl.UInt32)
    ends = (
        runs.select("row", "run_id", "digits", pl.col("run").list.eval(pl.element().cum_sum()))
        .explode("run")
        .rename({"run": "end"})
        .with_columns(pl.col("end").cast(pl.Int64))
    )
    starts = pl.concat(  # every group boundary a number can start at, 0 included
        [ends.with_columns(pl.lit(0, pl.Int64).alias("end")).unique(["run_id"]), ends]
    ).select("row", "run_id", "digits", (pl.col("end") + 10).alias("end"))
    windows = starts.join(ends.select("run_id", "end"), on=["run_id", "end"])
    candidates = windows.select(
        "row", pl.col("digits").str.slice(pl.col("end") - 10, 10).alias("digits")
    )
    return candidates.filter(nhs_number_is_valid(pl.col("digits")))["row"].unique()


def _count_nhs_numbers(text: pl.Series) -> int:
    """Values holding at least one NHS number."""
    return _nhs_number_rows(text).len()


# --- postcodes -------------------------------------------------------------------------------

# Postcode areas of the UK (and Crown dependencies); the inward code never uses C I K M O V.
_AREAS = (
    "AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT "
    "DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA "
    "LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE "
    "SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO "
    "ZE"
).split()
_OUTWARD = r"(?:(?:" + "|".join(sorted(_AREAS, key=len, reverse=True)) + r")[0-9][A-Z0-9]?|GIR)"
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_POSTCODE = _OUTWARD + r"[\s._/\p{Pd}-]*" + _INWARD
# Any case, on its own; or in capitals glued to a word in lower case ("postcodeLS14AP").
FULL_POSTCODE = (
    r"(?i:(?:^|[^A-Z0-9])" + _POSTCODE + r"(?:[^A-Z0-9]|$))"
    r"|\p{Ll}" + _POSTCODE + r"(?:[^A-Za-z0-9]|$)"
)
OUTWARD_CODE_ALONE = r"(?i)^\s*" + _OUTWARD + r"\s*$"
INWARD_CODE_ALONE = r"(?i)^\s*" + _INWARD + r"\s*$"


def _split_postcodes(left: pl.Expr, right: pl.Expr) -> pl.Expr:
    """True where an outward code alone is followed by an inward code alone."""
    return (
        left.str.contains(OUTWARD_CODE_ALONE) & right.str.contains(INWARD_CODE_ALONE)
    ).fill_null(False)


# --- dates of birth --------------------------------------------------------------------------

_MONTH_NAME = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)


def _full_date(day: str, year: str) -> str:
    """A whole date (day, month and year) in the usual written forms."""
    th, sep = r"(?:st|nd|rd|th)?", r"[-/. \p{Pd}]"
    return (
        rf"(?:{day}{sep}{_MONTH}{sep}{year}|{_MONTH}{sep}{day}{sep}{year}"
        rf"|{year}{sep}{_MONTH}{sep}{day}"
        rf"|{day}{th}[ -]?(?:of )?{_MONTH_NAME}[ ,-]*{year}|{_MONTH_NAME} {day}{th},? {year})"
    )


_OLD_YEAR = r"(?:19\d\d|200[0-5])"
# A whole value that is a date from 1900 to 2005 (a time of midnight allowed, as Excel writes).
_AT_MIDNIGHT = r"(?:[ T]00:00(?::00(?:\.0+)?)?)?"
OLD_DATE_VALUE = r"(?i)^\s*" + _full_date(_DAY, _OLD_YEAR) + _AT_MIDNIGHT + r"\s*$"
# A period is written as the first or the last day of a month: a value that is only such a
# date is not taken for a date of birth.
OLD_PERIOD_DATE = (
    r"(?i)^\s*" + _full_date(r"(?:0?1|2[89]|3[01])", _OLD_YEAR) + _AT_MIDNIGHT + r"\s*$"
)
OLD_DATE_IN_TEXT = r"(?i)(?:^|[^0-9])" + _full_date(_DAY, _OLD_YEAR) + r"(?:[^0-9]|$)"
DATE_OF_BIRTH_TEXT = (
    r"(?i)\b(?:born|b\.|d\.? ?o\.? ?b\.?|date of birth|birth ?date|birthday)[ :=,-]*"
    r"(?:(?:was|is|on|the) +)*" + _full_date(_DAY, r"(?:\d\d)?\d\d") + r"(?:[^0-9]|$)"
)

_DAY_ALONE = rf"(?i)^\s*{_DAY}(?:st|nd|rd|th)?\s*$"
_MONTH_ALONE = rf"(?i)^\s*(?:{_MONTH}|{_MONTH_NAME})\s*$"
_OLD_YEAR_ALONE = rf"^\s*{_OLD_YEAR}\s*$"


def _split_dates(first: pl.Expr, second: pl.Expr, third: pl.Expr) -> pl.Expr:
    """True where three cells in a row make a date from 1900 to 2005: day, month, year; month,
    day, year; or year, month, day."""

    def alone(text: pl.Expr, pattern: str) -> pl.Expr:
        return text.str.contains(pattern)

    year_last = alone(third, _OLD_YEAR_ALONE) & (
        (alone(first, _DAY_ALONE) & alone(second, _MONTH_ALONE))
        | (alone(first, _MONTH_ALONE) & alone(second, _DAY_ALONE))
    )
    year_first = alone(first, _OLD_YEAR_ALONE) & alone(second, _MONTH_ALONE)
    return (year_last | (year_first & alone(third, _DAY_ALONE))).fill_null(False)


# --- names -----------------------------------------------------------------------------------

# A title and a capitalised word, as a regular expression (the screen reads titles word by
# word, with the name lists, in ``_name_rows``).
PERSON_NAME = r"\b(?i:mr|mrs|ms|miss|mx|dr|sir|dame|rev|revd|prof)\.?\s+[A-Z][A-Za-z'\u2019-]+"

# Faker's lists of forenames and surnames, by locale: those of the people the ICB serves.
_NAME_LOCALES = (
    "en_GB en_IE ga_IE en_US en_NZ en_IN en_PK en_NG yo_NG ig_NG ha_NG tw_GH zu_ZA sw pl_PL "
    "ro_RO lt_LT lv_LV cs_CZ sk_SK hu_HU hr_HR sl_SI it_IT pt_PT pt_BR es_ES fr_FR de_DE nl_NL "
    "sv_SE da_DK no_NO fi_FI en_KE vi_VN id_ID zh_CN"
).split()

# Forenames that are also English words: a name only when capitalised.
_WORD_FORENAMES = frozenset(
    """grant kirk kent devon brent preston ashton clayton kirby chester lincoln warwick carlisle
    pier will may mark bill hope joy rose faith grace summer dawn holly guy sue don ray jack
    frank chase hunter dean glen penny amber jade crystal april june carol lee bob jean drew
    sandy dale art ash iris ivy sky autumn river storm heather daisy violet poppy lily hazel
    olive pearl ruby star page miles rich cliff reed wade august king earl duke major
    baron sterling hunter carter cash gay jay jean jewel kay lane lance lee love marina max
    mercy neil noble norman pat patience precious prince queen rich rob robin rocky rod roman
    ronald rusty sal sandy sharon sol son sunny tad terry tony trinity victor wanda wendy
    angel bishop blessing charity comfort gift golden goodness honour justice lucky mercy
    peace favour felicity constance prudence verity amen""".split()
)

# Words that make a pair a place or an organisation, not a person: "Victoria Park", "Grace
# Church", "Rose Hill", "Florence Nightingale Hospice" (also when one of the next two words).
_PLACE_WORDS = frozenset(
    """park church chapel cathedral abbey mosque temple gurdwara synagogue mandir parish
    garden gardens hill hills hall halls centre center house houses court courts road street
    lane avenue close drive way green square place grove terrace crescent row walk view rise
    parade mews wood woods field fields farm bridge gate gates cross end common heath vale
    valley well wells brook mill mills moor dock docks station market bank side town city
    village estate primary school schools academy college university surgery practice
    practices medical health healthcare clinic hospital hospice pharmacy library museum
    theatre club clubs group groups society trust foundation charity association network
    project partnership community care fund council lodge manor cottage hub kitchen cafe
    café pantry shed sheds allotment allotments pool leisure sports arena stadium playing
    recreation north south east west upper lower great little new old royal memorial united
    county borough ward pcn icb nhs gp uk england services service support league team
    teams choir band singers players club centre cafe corner island point quay wharf
    harbour beach bay coast forest palace castle tower towers hotel inn arms tavern
    gallery studio studios works yard yards mansions gardens circle circus crossing junction
    airport port marina meadow meadows orchard pastures ridge top bottom dene edge
    fold hey lea leigh ley mount mead nook shaw vale villas court walk
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    day days week weeks month year fair festival market day appeal lunch breakfast dinner
    supper tea coffee social friends friendship volunteers volunteering class classes
    session sessions course courses club art arts craft crafts music dance walking walks
    swimming football cricket bowls bowling tennis yoga pilates tai chi zumba singing
    reading writing knitting sewing cooking gardening fitness exercise wellbeing mental
    bereavement carers parents family families children youth young older elderly men
    women mens womens ladies seniors veterans memory dementia stroke cancer diabetes
    heart lung mind action aid advice age concern cross crossroads relate shelter shelters
    food bank banks homes home housing living life learning skills work jobs employment
    enterprise enterprises limited ltd cic cio plc llp inc company co partners partner
    ministries ministry mission missions fellowship gospel evangelical baptist methodist
    catholic anglican pentecostal christian islamic muslim jewish sikh hindu buddhist
    centre hq headquarters office offices unit units building buildings block blocks
    infirmary sanatorium mission institute institution collective cooperative co-op
    grange water waters central head knoll croft crofts gateway frith tavy marsh fen fens
    heights park parkway green greens lakes lake pond ponds spring springs hollow dell
    glade copse spinney wharf sands dunes cliff cliffs downs down quarter
    wing ward wards oak oaks ash elm elms mile""".split()
)
# Words before a forename that make it a place: "St James", "North Kent", "Little Marlow".
# Words that end a name when they follow a forename: "Joy of Singing", "Faith and Hope".
_LINK_WORDS = frozenset("and or of the for at in on to with by from a an upon".split())
_PLACE_BEFORE = frozenset(
    "st saint the of north south east west mid central upper lower great little new old "
    "royal".split()
)


# Surnames that are rarely English words or places (African, South Asian, Eastern European
# lists): any word before one of them makes a name ("chidi okonkwo").
_DISTINCT_LOCALES = frozenset(
    "en_IN en_PK en_NG yo_NG ig_NG ha_NG tw_GH zu_ZA sw en_KE pl_PL ro_RO lt_LT lv_LV".split()
)


@cache
def _english_words() -> frozenset[str]:
    """Common English words (Faker's English lorem list): not names when lower case."""
    return frozenset(import_module("faker.providers.lorem.en_US").Provider.word_list)


@cache
def _name_lists() -> tuple[list[str], list[str], list[str]]:
    """Forenames, surnames, and distinct surnames (of the African, South Asian and Eastern
    European lists and of no other), lower case, with and without accents, from Faker."""
    forenames: set[str] = set()
    surnames: dict[str, set[str]] = {"english": set(), "other": set()}
    for locale in _NAME_LOCALES:
        provider = import_module(f"faker.providers.person.{locale}").Provider
        for attribute, names in vars(provider).items():
            if callable(names) or not isinstance(names, (dict, list, tuple)):
                continue
            if attribute.startswith("first_") or attribute.endswith("first_names"):
                forenames.update(_spellings(names))
            elif attribute.startswith("last_") or attribute.endswith("last_names"):
                key = "other" if locale in _DISTINCT_LOCALES else "english"
                surnames[key].update(_spellings(names))
    forenames = {name for name in forenames if len(name) >= 2 and " " not in name}
    every = {
        name for name in surnames["english"] | surnames["other"] if len(name) >= 2
    } - _PLACE_WORDS
    foreign = {name for name in surnames["other"] - surnames["english"] if len(name) >= 4}
    words = _english_words() | _PLACE_WORDS | _LINK_WORDS
    return sorted(forenames), sorted(every), sorted(foreign - forenames - words)


def _spellings(names: Iterable[str]) -> set[str]:
    found = set()
    for name in names:
        lower = unicodedata.normalize("NFKC", name).lower()
        plain = "".join(
            char for char in unicodedata.normalize("NFKD", lower) if not unicodedata.combining(char)
        )
        found.update((lower, plain))
    return found


# Words, and the punctuation that ends a name ("Victoria & Somerton", "Stanley, Moorhouse").
_WORD = r"\p{L}[\p{L}'\u2019]*|[^\p{L}\s]"


_FLAGS = ("fore", "word_fore", "sur", "foreign", "place", "place_before", "link", "title")
_TITLES = frozenset("mr mrs ms miss mx dr sir dame rev revd prof mister".split())


@cache
def _lexicon() -> pl.DataFrame:
    """Every listed word (lower case) and what it is, one boolean column per ``_FLAGS``."""
    forenames, surnames, foreign = _name_lists()
    sets = dict(
        zip(
            _FLAGS,
            (
                set(forenames),
                _WORD_FORENAMES | _english_words(),
                set(surnames),
                set(foreign),
                _PLACE_WORDS,
                _PLACE_BEFORE,
                _LINK_WORDS,
                _TITLES,
            ),
            strict=True,
        )
    )
    words = sorted(set().union(*sets.values()))
    return pl.DataFrame(
        {"lower": words, **{flag: [word in sets[flag] for word in words] for flag in _FLAGS}}
    )


def _name_rows(text: pl.Series) -> pl.DataFrame:
    """Per value holding a letter: ``pair`` (a person's name is in it) and ``shaped`` (it is
    a forename and one or two words, as a column of names holds)."""
    words = (
        text.to_frame("text")
        .with_row_index("row")
        # Two words, or words written together ("JohnSmith"): a code or one word is no name.
        .filter(pl.col("text").str.contains(r"\p{L}[^\p{L}\d]+\p{L}|\p{Ll}\p{Lu}"))
        .select(
            "row",
            pl.col("text")
            .str.replace_all(r"(\p{Ll})(\p{Lu})", "${1} ${2}")  # JohnSmith: John Smith
            .str.replace_all(r"(\p{L})[._](\p{L}+)@", "${1} ${2} @")  # john.smith@: john smith
            .str.extract_all(_WORD)
            .alias("word"),
        )
        .explode("word")
        .drop_nulls("word")
        .with_columns(pl.col("word").str.to_lowercase().alias("lower"))
        .join(_lexicon(), on="lower", how="left", maintain_order="left")
        .select(
            "row",
            "lower",
            pl.col("word").str.contains(r"^\p{Lu}.*\p{Ll}").alias("cap"),  # not ALL CAPS
            pl.col("word").str.contains(r"^\p{Lu}[\p{Lu}'\u2019]+$").alias("upper"),
            (pl.col("word").str.contains(r"^\p{Lu}$") & ~pl.col("lower").is_in(["a", "i"])).alias(
                "initial"
            ),
            (pl.col("word") == ".").alias("dot"),
            pl.col("lower").is_in(["n", "s", "e", "w"]).alias("compass"),
            (pl.col("word") == ",").alias("comma"),
            (pl.col("lower").str.len_chars() >= 2).alias("long"),
            (pl.col("lower").str.len_chars() >= 3).alias("long3"),
            (pl.col("lower").str.len_chars() >= 5).alias("long5"),
            *(pl.col(flag).fill_null(False) for flag in _FLAGS),
        )
    )

    def near(name: str, by: int) -> pl.Expr:  # the same value's word ``by`` places on
        same = pl.col("row").shift(-by) == pl.col("row")
        return (pl.col(name).shift(-by) & same).fill_null(False)

    listed_surname = near("sur", 1) & (near("long3", 1) | near("cap", 1))
    written = pl.col("cap") | pl.col("upper")  # as a name is written: Smith, SMITH
    surname_at = {by: near("sur", by) & (near("cap", by) | near("upper", by)) for by in (1, 2)}
    # After a title, a surname in any case or a capitalised word that is no place ("Mrs
    # Smith", "mrs smith", "DR. OKAFOR"); "MS" is also multiple sclerosis ("MS Society").
    titled = {
        by: near("sur", by)
        | (
            (near("cap", by) | near("upper", by))
            & near("long", by)
            & ~near("place", by)
            & ~near("link", by)
            & (pl.col("lower") != "ms")
        )
        for by in (1, 2)
    }
    # "J. Smith", "Mrs. smith", "Smith, John": a title or initial and a surname, or a surname,
    # a comma and a forename.
    initialled = (
        # an initial ("J Smith", "J. SMITH"); a compass point only as "S. Murphy" ("N YORK",
        # "S. BIRMINGHAM" are places)
        (
            pl.col("initial")
            & ~pl.col("compass")
            & (surname_at[1] | (near("dot", 1) & surname_at[2]))
        )
        | (pl.col("initial") & pl.col("compass") & near("dot", 1) & near("sur", 2) & near("cap", 2))
        | (pl.col("title") & (titled[1] | (near("dot", 1) & titled[2])))
        # "SMITH John", as records write it
        | (pl.col("sur") & pl.col("upper") & near("fore", 1) & near("cap", 1))
        | (
            pl.col("sur")
            & written
            & near("comma", 1)
            & near("fore", 2)
            & (near("cap", 2) | near("upper", 2))
        )
    )
    pair = initialled | (
        near("long", 1)
        & ~near("place", 1)
        & ~near("link", 1)
        & (
            # a forename and a surname, any case (a forename that is a word: capitalised)
            (pl.col("fore") & listed_surname & (~pl.col("word_fore") | pl.col("cap")))
            # a forename and any capitalised word
            | (pl.col("fore") & pl.col("cap") & near("cap", 1) & ~pl.col("word_fore"))
            # any word and a surname no English list has ("Chidi Okonkwo", "chidi okonkwo")
            | (
                pl.col("long3")
                & ~pl.col("place")
                & ~pl.col("link")
                & near("foreign", 1)
                & near("long5", 1)  # 5 letters or more: "Referral Date" is no name
                & (near("cap", 1) | ~pl.col("cap"))
            )
        )
        & ~near("place_before", -1)
        & ~near("place", 2)
        & ~near("place", 3)
    )

    first = (pl.col("row").shift(1) != pl.col("row")).fill_null(True)
    # Shifts over the whole frame, then plain aggregations per value (fast).
    flagged = words.select(
        "row",
        pair.alias("pair"),
        (first & pl.col("fore") & ~pl.col("word_fore") & ~pl.col("place")).alias("leads"),
        "place",
    )
    return flagged.group_by("row").agg(
        pl.col("pair").any(),
        (pl.len().is_between(2, 3) & pl.col("leads").any() & ~pl.col("place").any()).alias(
            "shaped"
        ),
    )


@cache
def _single_names() -> pl.DataFrame:
    """Words that are a name alone in a cell: ``fore`` (a forename that is no English word or
    place), ``sur`` (a surname that is no place), ``distinct`` (a distinct surname of five
    letters or more, as ``_name_rows`` reads them)."""
    return (
        _lexicon()
        .filter(~pl.col("place") & ~pl.col("link"))
        .select(
            "lower",
            (pl.col("fore") & ~pl.col("word_fore")).alias("fore"),
            "sur",
            (pl.col("foreign") & (pl.col("lower").str.len_chars() >= 5)).alias("distinct"),
        )
        .filter(pl.col("fore") | pl.col("sur") | pl.col("distinct"))
    )


def _split_names(text: pl.DataFrame, pairs: Sequence[tuple[str, str]]) -> dict[str, int]:
    """For each pair of columns (left, right), the rows where a forename alone is followed by a
    surname alone ("John" | "Smith"), or a capitalised word by a distinct surname ("Chidi" |
    "Okonkwo"); keyed by the right column. One join for all the pairs."""
    names = list(dict.fromkeys(name for pair in pairs for name in pair))
    if not names:
        return {}
    words = (
        pl.concat(
            text.select(
                pl.lit(position, pl.Int32).alias("column"),
                pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
                pl.col(name).str.strip_chars().alias("word"),
            ).filter(pl.col("word").str.contains(r"^\p{L}[\p{L}'\u2019-]*$"))
            for position, name in enumerate(names)
        )
        .with_columns(
            pl.col("word").str.to_lowercase().alias("lower"),
            pl.col("word").str.contains(r"^\p{Lu}\p{Ll}{2,}$").alias("cap"),
        )
        .join(_single_names(), on="lower", how="left")
        .select(
            "column",
            "row",
            "cap",
            *(pl.col(f).fill_null(False) for f in ("fore", "sur", "distinct")),
        )
    )
    position = {name: index for index, name in enumerate(names)}
    wanted = pl.DataFrame(
        {
            "left": [position[left] for left, _ in pairs],
            "right": [position[right] for _, right in pairs],
        },
        schema={"left": pl.Int32, "right": pl.Int32},
    )
    lefts = words.join(wanted, left_on="column", right_on="left").select(
        "right", "row", "fore", "cap"
    )
    found = lefts.join(
        words.select(pl.col("column").alias("right"), "row", "sur", "distinct"),
        on=["right", "row"],
    ).filter((pl.col("fore") & pl.col("sur")) | (pl.col("cap") & pl.col("distinct")))
    counts = found.group_by("right").len()
    return {names[right]: count for right, count in counts.iter_rows()}


# --- addresses -------------------------------------------------------------------------------

_STREETS = (
    "Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Close|Drive|Crescent|Terrace|Gardens|Grove|"
    "Place|Way|Court|Mews|Row|Square|Hill|Walk|View|Park|Rise|Parade|"
    "Av|Cl|Cres|Ter|Terr|Gdns|Gr|Pl|Sq|Ct|Pde|Dr"
)
_NAMED = r"\p{Lu}[\p{L}'\u2019-]+"
STREET_ADDRESS = (
    r"\b\d{1,4}[A-Za-z]?,?\s+(?:[A-Z][A-Za-z'\u2019-]+\s+){1,3}(?:" + _STREETS + r")\b"
    r"|(?i:\b\d{1,4}[a-z]?,?\s+(?:[a-z'\u2019-]+\s+){1,2}"
    r"(?:road|street|avenue|crescent|terrace|lane|grove|mews)\b)"
    r"|(?i:\b(?:flat|apartment|apt|maisonette|bedsit)\.?\s*(?:no\.?\s*|number\s*)?\d{1,4}[a-z]?\b)"
    rf"|\b\d{{1,4}}[A-Za-z]?,?\s+(?:{_NAMED}\s+){{0,2}}{_NAMED}\s*,\s*{_NAMED}"
    rf"|\b\d{{1,4}}[A-Za-z]?,?\s+(?:{_NAMED},?\s+){{1,3}}(?i:{_OUTWARD})\b"
)

_KINDS = {
    "nhs": "an NHS number (valid check digit)",
    "postcode": "a full postcode",
    "split": "a full postcode split across this column and the one before it",
    "split_name": "a person's name split across this column and the one before it",
    "split_date": "a date of birth split across this column and the two before it",
    "name": "a person's name",
    "address": "a street address (a house number and a street, town or postcode; a flat number)",
    "birth": "a date of birth (a date with 'born' or 'DOB')",
    "old_date": "a date of birth (a whole date before 2006 in a column of no dates)",
    "old_text": "a date of birth (a whole date before 2006, not the first or last of a month)",
    "names_column": "a column of personal names (a forename and a surname)",
}

# The value checks for each role of a column (see ``_roles``), and for ``screen_texts``.
_ROLE_CHECKS = {
    "contract": ("nhs", "postcode", "old_date"),
    "coded": ("nhs", "postcode", "old_date", "name", "address", "birth", "old_text"),
    "dates": ("nhs", "postcode"),
    "free_text": ("nhs", "postcode", "name", "address", "birth", "old_text"),
    "outside": ("nhs", "postcode", "name", "address", "birth", "old_text"),
    "texts": ("nhs", "postcode", "name", "address", "birth", "old_text"),
    # an identifier openly published for an organisation or a grant (the contract's pattern
    # says so: ``PUBLIC_IDENTIFIERS``): ten digits in one are a register's number, not an NHS
    # number
    "identifier": ("postcode", "old_date", "name", "address", "birth", "old_text"),
    # text of an open publication about organisations (``Contract.published_openly``: a
    # 360Giving grant's title, description, programme...): names and postcodes in it are of
    # organisations, their staff and places, so only an NHS number or a date of birth refuses
    "public": ("nhs", "birth"),
    # an identifier in such a publication (a 360G- id made from a group's name), or a column
    # of its funder's reference numbers (``ingest.giving.is_reference_numbers``)
    "public_identifier": ("birth",),
    "reference": ("birth",),
}


def _matches(check: str, text: pl.Expr) -> pl.Expr:
    """The checks that are regular expressions, as an expression over one column."""
    if check == "old_text":
        return text.str.contains(OLD_DATE_IN_TEXT) & ~text.str.contains(OLD_PERIOD_DATE)
    patterns = {
        "postcode": FULL_POSTCODE,
        "address": STREET_ADDRESS,
        "birth": DATE_OF_BIRTH_TEXT,
        "old_date": OLD_DATE_VALUE,
    }
    return text.str.contains(patterns[check])


def hits(check: str, text: pl.Series) -> pl.Series:
    """For each value of ``text`` (normalised), whether ``check`` finds it identifiable."""
    if check == "nhs":
        return pl.Series(range(text.len()), dtype=pl.UInt32).is_in(_nhs_number_rows(text))
    if check == "name":
        paired = _name_rows(text).filter("pair")["row"]
        return pl.Series(range(text.len()), dtype=pl.UInt32).is_in(paired)
    return text.to_frame("text").select(_matches(check, pl.col("text")).fill_null(False))["text"]


def _count(check: str, text: pl.Series) -> int:
    """Values of ``text`` (normalised) that ``check`` finds."""
    if check == "nhs":
        return _count_nhs_numbers(text)
    return int(hits(check, text).sum())


def find_identifiable(contract: Contract, frame: pl.DataFrame) -> list[Finding]:
    """Every reason to refuse ``frame`` (raw text with the file's headers, or a typed frame)."""
    screen = IdentifiableScreen(contract)
    screen.add(frame)
    return screen.findings([name for name in frame.columns if name not in HELPER_COLUMNS])


class IdentifiableScreen:
    """The screen over a file read in batches: ``add`` each batch, then ``findings`` gives
    what ``find_identifiable`` gives for the whole file (counts are summed over batches)."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.counts: dict[tuple[str, str], int] = {}

    def _add(self, check: str, name: str, count: int) -> None:
        if count:
            self.counts[(check, name)] = self.counts.get((check, name), 0) + count

    def add(self, frame: pl.DataFrame) -> None:
        columns = [name for name in frame.columns if name not in HELPER_COLUMNS]
        text = _as_text(frame, columns)
        if text.width == 0:
            return
        roles = _roles(self.contract, columns)
        # Whole-column counts first; the costlier checks run on the columns that need them.
        quick = text.select(
            *(
                pl.col(name).str.contains(NHS_NUMBER_CANDIDATE).sum().alias(f"nhs\x00{name}")
                for name in columns
            ),
            *(
                _matches(check, pl.col(name)).sum().alias(f"{check}\x00{name}")
                for name in columns
                for check in _ROLE_CHECKS[roles[name]]
                if check not in ("nhs", "name")
            ),
            *(
                _split_postcodes(pl.col(left), pl.col(right)).sum().alias(f"split\x00{right}")
                for left, right in zip(columns, columns[1:], strict=False)
            ),
            *(  # a date in three columns, one of them coded or outside the contract
                _split_dates(pl.col(first), pl.col(second), pl.col(third))
                .sum()
                .alias(f"split_date\x00{third}")
                for first, second, third in zip(columns, columns[1:], columns[2:], strict=False)
                if {roles[first], roles[second], roles[third]} & {"outside", "coded", "free_text"}
            ),
            *(  # a column outside the contract, taken whole (``_column_findings``)
                expression.sum().alias(f"{count}\x00{name}")
                for name in columns
                if roles[name] == "outside"
                for count, expression in (("values", pl.col(name).str.contains(r"\S")),)
            ),
        ).row(0, named=True)
        for key, count in quick.items():
            check, name = key.split("\x00", 1)
            if check == "nhs" and count:
                count = _count_nhs_numbers(text.get_column(name))
            self._add(check, name, count or 0)
        # A forename and a surname in two columns, one of them no organisation's name.
        pairs = [
            (left, right)
            for left, right in zip(columns, columns[1:], strict=False)
            if {roles[left], roles[right]} & {"outside", "coded", "free_text"}
        ]
        for name, count in _split_names(text, pairs).items():
            self._add("split_name", name, count)
        # Names: every column that is screened for them read as one series, in one pass.
        named = [name for name in columns if "name" in _ROLE_CHECKS[roles[name]]]
        if named and text.height:
            stacked = pl.concat([text.get_column(name).alias("text") for name in named])
            counts = (
                _name_rows(stacked)
                .group_by(pl.col("row") // text.height)
                .agg(pl.col("pair").sum(), pl.col("shaped").sum())
            )
            for position, pair, shaped in counts.iter_rows():
                self._add("name", named[position], int(pair))
                self._add("names", named[position], int(shaped))

    def findings(self, columns: list[str]) -> list[Finding]:
        """Every reason to refuse, for a file with these columns (without the helpers)."""
        # Columns are named by their header, or by position when the header may itself be a
        # value (a file sent without its header row): messages never repeat a value.
        flags = _header_values(tuple(columns))
        label = {
            name: f"column {position}" if header_looks_like_data(name) or any(flag) else name
            for position, (name, flag) in enumerate(zip(columns, flags, strict=True), start=1)
        }
        findings: list[Finding] = []
        for name in columns:
            kind = identifiable_header(name)
            if kind is not None:
                findings.append(Finding(label[name], kind, 0))
        for name, (data, value) in zip(columns, flags, strict=True):
            if data:
                findings.append(Finding(label[name], _DATA_HEADER, 0))
            elif value:
                findings.append(Finding(label[name], _VALUE_HEADER, 0))
        roles = _roles(self.contract, columns)
        for name in columns:
            for check in (*_ROLE_CHECKS[roles[name]], "split", "split_name", "split_date"):
                count = self.counts.get((check, name), 0)
                if count:
                    findings.append(Finding(label[name], _KINDS[check], count))
            if roles[name] == "outside":
                findings.extend(self._column_findings(name, label[name]))
        return findings

    def _column_findings(self, name: str, label: str) -> list[Finding]:
        """A column outside the contract taken whole: most of its values are names."""
        values = self.counts.get(("values", name), 0)
        names = self.counts.get(("names", name), 0)
        if names and 2 * names >= values:
            return [Finding(label, _KINDS["names_column"], names)]
        return []


@lru_cache(maxsize=64)
def _header_values(headers: tuple[str, ...]) -> list[tuple[bool, bool]]:
    """For each header, whether it holds an NHS number or a postcode, and whether it holds a
    name, an address or a date of birth (a file sent without its header row)."""
    text = _as_text(pl.DataFrame({"header": headers}, schema={"header": pl.String}), ["header"])
    values = text["header"]
    data = hits("nhs", values) | hits("postcode", values)
    words = values.str.replace_all("_", " ")
    value = pl.Series([False] * len(headers))
    for check in ("name", "address", "birth", "old_text"):
        value = value | hits(check, words)
    return list(zip(data, value, strict=True))


def _roles(contract: Contract, headers: list[str]) -> dict[str, str]:
    """Each header's role: "free_text" (a contract free-text column), "dates" (a contract date
    column), "coded" (a contract column of codes or listed values: no name belongs there),
    "contract" (another contract column, such as an organisation's name) or "outside" (not in
    the contract)."""
    free_text = set(contract.free_text_columns)
    roles = {}
    for header in headers:
        column = column_for_header(contract, header)
        identifier = column is not None and contract.column(column).pattern in PUBLIC_IDENTIFIERS
        if contract.published_openly:  # (``Contract.published_openly``)
            roles[header] = "public_identifier" if identifier else "public"
        elif column is None:
            roles[header] = "outside"
        elif column in free_text:
            roles[header] = "free_text"
        elif contract.column(column).dtype == "date":
            roles[header] = "dates"
        elif identifier:
            roles[header] = "identifier"
        elif contract.column(column).allowed or contract.column(column).pattern:
            roles[header] = "coded"
        else:
            roles[header] = "contract"
    return roles


def refused_texts(texts: Sequence[str | None]) -> pl.DataFrame:
    """For each text, which of the value checks ``screen_texts`` runs find it identifiable on
    its own (a boolean column per check): the screen's rates are measured with it."""
    raw = pl.Series("text", [text or "" for text in texts], dtype=pl.String)
    values = _as_text(raw.to_frame(), ["text"])["text"]
    return pl.DataFrame({check: hits(check, values) for check in _ROLE_CHECKS["texts"]})


def screen_texts(texts: Sequence[str | None], where: str, *, role: str = "texts") -> list[Finding]:
    """Every reason to refuse a part of a file that is not a table of its contract: a
    workbook's other sheets, the rows above its header, its comments and document properties,
    JSON fields outside the contract, a file's name. Every value check runs on ``texts``,
    those for free text included (a person's name, an address, a date of birth with its cue),
    and a postcode or a name split across two texts in a row; findings are labelled ``where`` (which
    must not itself be a value: "sheet 2", "document properties"). ``role`` "public": texts
    of an open publication about organisations, checked for NHS numbers and dates of birth
    only.
    """
    raw = pl.Series("text", [text or "" for text in texts], dtype=pl.String)
    if raw.str.contains(r"\S").sum() == 0:
        return []
    values = _as_text(raw.to_frame(), ["text"])["text"]
    findings = []
    for check in _ROLE_CHECKS[role]:
        count = _count(check, values)
        if count:
            findings.append(Finding(where, _KINDS[check], count, place=True))
    if role == "public":
        return findings
    text = pl.col("text")
    pairs = values.to_frame().select(
        _split_postcodes(text.shift(1), text).sum().alias("postcode"),
        _split_dates(text.shift(2), text.shift(1), text).sum().alias("date of birth"),
    )
    previous = pl.DataFrame({"previous": values.shift(1), "text": values})
    split_names = sum(_split_names(previous, [("previous", "text")]).values())
    for kind, count in {**pairs.row(0, named=True), "name": split_names}.items():
        if count:
            findings.append(Finding(where, f"a {kind} split across two texts", count, place=True))
    return findings


def identifiable_file_name(name: str) -> str | None:
    """The kind of identifiable data a file's name holds (an NHS number, a full postcode, a
    person's name or a date of birth), or None. A name is stored with every row and audit
    record, so it is screened like a value."""
    stem = Path(name).stem
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", stem)  # JohnSmith -> John Smith
    words = re.sub(r"[_.]+", " ", spaced)
    text = _as_text(pl.DataFrame({"name": [words, stem]}), ["name"])["name"]
    if _count_nhs_numbers(text):
        return "an NHS number"
    if text.str.contains(FULL_POSTCODE).any():
        return "a full postcode"
    if text.str.contains(DATE_OF_BIRTH_TEXT).any() or text.str.contains(OLD_DATE_IN_TEXT).any():
        return "a date of birth"
    if _count("name", text) or _count("address", text):
        return "a person's name or address"
    return None


def check_identifiable(contract: Contract, frame_or_raw: pl.DataFrame, path: Path) -> None:
    """Raise ``IdentifiableDataError`` if the file looks identifiable; see the module notes.

    ``frame_or_raw`` is best the raw frame from ``read_raw`` (all columns, original headers);
    a typed frame from ``read_source`` works too but has lost the unknown columns.
    """
    findings = find_identifiable(contract, frame_or_raw)
    if findings:
        raise IdentifiableDataError(findings, path=path)


def check_outside(contract: Contract, raw: pl.DataFrame, path: Path) -> None:
    """Refuse ``raw`` (from ``read_raw``) if a column outside the contract holds identifiable
    data, by every value check (``OutsideScreen``); the loader runs it beside
    ``check_identifiable``."""
    outside = OutsideScreen(contract)
    outside.add(raw)
    outside.refuse_if_found(path)


class OutsideScreen:
    """Every value check (``screen_texts``: free-text checks included) on what the contract's
    screen does not check in full: the headers and values of columns outside the contract.
    With it, every cell of a table that is kept has been screened. ``add`` each batch of a
    file read in batches; labels are positions ("column 7"), never a header."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.findings: list[Finding] = []
        self.headers_seen = False

    def add(self, raw: pl.DataFrame) -> None:
        columns = [name for name in raw.columns if name not in HELPER_COLUMNS]
        for position, name in enumerate(columns, start=1):
            if column_for_header(self.contract, name) is not None:
                continue
            where = f"column {position}"
            if not self.headers_seen and not name.startswith("(unnamed column "):
                self.findings += screen_texts([name], f"{where} (its header)")
            self.findings += screen_texts(raw.get_column(name).cast(pl.String).to_list(), where)
        self.headers_seen = True

    def refuse_if_found(self, path: Path) -> None:
        if self.findings:
            raise IdentifiableDataError(merge_findings(self.findings), path=path)
