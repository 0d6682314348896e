"""Refuse whole files that carry identifiable data, before anything is written.

Data reaching the ICB is pseudonymised: no NHS numbers, names, addresses, full postcodes or
dates of birth (docs: DOMAIN.md, "Privacy and disclosure control"). The screen runs on the raw
text of every column, including columns the contract does not know and the reader would drop,
so the loader calls it between ``read_raw`` and ``to_typed``::

    raw = read_raw(contract, path)
    check_identifiable(contract, raw, path)   # raises IdentifiableDataError
    typed = to_typed(contract, raw, path=path)

What refuses a file:

* a header that names identifiable data (NHS number, names, date of birth, address, postcode,
  telephone, email, a 360Giving ``recipientIndividual``);
* in any column, a value holding an NHS number: 10 digits (optionally spaced 3-3-4 or with
  hyphens) whose modulus 11 check digit is valid (a 10-digit number that fails the check is
  not an NHS number and passes);
* in any column, a full UK postcode (outward and inward code, with or without the space, for a
  real postcode area); an outward code alone ("SW1A") passes;
* in the contract's free-text columns, a person's name (a title and a capitalised word:
  "Mrs Smith") or a street address (a house number and a street: "12 Acacia Avenue").

The error names each column, the kind of data and how many values; it never repeats a value.
All checks are polars expressions; the modulus 11 arithmetic runs on candidate values only.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingest.contracts.model import Contract
from ingest.errors import InputError
from ingest.read import HELPER_COLUMNS, column_for_header, header_looks_like_data

_DATA_HEADER = "the header holds an NHS number or a postcode (was the header row left out?)"


@dataclass(frozen=True)
class Finding:
    """One reason to refuse: a column, the kind of data it seemed to hold, and how many values."""

    column: str
    kind: str
    count: int  # values that matched; 0 when the header alone gave it away

    def describe(self) -> str:
        if self.kind == _DATA_HEADER:
            return f"{self.column}: {self.kind}"
        if self.count == 0:
            return f"column {self.column!r}: the header names {self.kind}"
        values = "value looks" if self.count == 1 else "values look"
        return f"column {self.column!r}: {self.count} {values} like {self.kind}"


class IdentifiableDataError(InputError):
    """The file carries identifiable data; nothing of it may be loaded."""

    def __init__(self, findings: list[Finding], *, path: Path | str | None = None) -> None:
        self.findings = findings
        details = "; ".join(finding.describe() for finding in findings)
        super().__init__(
            "refused: the file holds identifiable data and nothing was loaded "
            f"(send pseudonymised data only). {details}",
            path=path,
            column=findings[0].column if len(findings) == 1 else None,
        )


# --- headers ---------------------------------------------------------------------------------

# Applied to the normalised header (lower case, letters and digits only).
_HEADER_RULES: tuple[tuple[str, str], ...] = (
    (r"nhs(?:number|no|num)|chinumber", "an NHS number"),
    (r"dateofbirth|birthdate|birthday|^dob|dob$", "a date of birth"),
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
    key = re.sub(r"[^0-9a-z]", "", header.casefold())
    for pattern, kind in _HEADER_RULES:
        if re.search(pattern, key):
            return kind
    return None


# --- values ----------------------------------------------------------------------------------

# 10 digits, optionally 3-3-4 with spaces or hyphens, not inside a longer number or a decimal.
NHS_NUMBER_CANDIDATE = r"(?:^|[^0-9.])(\d{3}[ -]?\d{3}[ -]?\d{4})(?:[^0-9]|$)"

# Postcode areas of the UK (and Crown dependencies); the inward code never uses C I K M O V.
_AREAS = (
    "AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT "
    "DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA "
    "LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE "
    "SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO "
    "ZE"
).split()
FULL_POSTCODE = (
    r"(?i)(?:^|[^A-Z0-9])"
    r"(?:(?:" + "|".join(sorted(_AREAS, key=len, reverse=True)) + r")[0-9][A-Z0-9]?|GIR)"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2}(?:[^A-Z0-9]|$)"
)

PERSON_NAME = r"\b(?i:mr|mrs|ms|miss|mx|dr|sir|dame|rev|revd|prof)\.?\s+[A-Z][A-Za-z'\u2019-]+"
_STREETS = (
    "Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Close|Drive|Crescent|Terrace|Gardens|Grove|"
    "Place|Way|Court|Mews|Row|Square|Hill|Walk|View|Park|Rise|Parade"
)
STREET_ADDRESS = (
    r"\b\d{1,4}[A-Za-z]?,?\s+(?:[A-Z][A-Za-z'\u2019-]+\s+){1,3}(?:" + _STREETS + r")\b"
    r"|(?i:\b\d{1,4}[a-z]?,?\s+(?:[a-z'\u2019-]+\s+){1,2}(?:road|street|avenue|crescent|terrace)\b)"
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


def _count_nhs_numbers(text: pl.Series) -> int:
    """Values holding at least one 10-digit number that passes the modulus 11 check."""
    matches = (
        text.to_frame("text")
        .with_row_index("row")
        .filter(pl.col("text").str.contains(NHS_NUMBER_CANDIDATE))
    )
    if matches.height == 0:
        return 0
    candidates = (
        matches.select(
            "row", pl.col("text").str.extract_all(NHS_NUMBER_CANDIDATE).alias("candidate")
        )
        .explode("candidate")
        .with_columns(pl.col("candidate").str.replace_all(r"\D", "").alias("digits"))
        .filter(pl.col("digits").str.len_bytes() == 10)
    )
    return (
        candidates.filter(nhs_number_is_valid(pl.col("digits")))
        .select(pl.col("row").n_unique())
        .item()
    )


def find_identifiable(contract: Contract, frame: pl.DataFrame) -> list[Finding]:
    """Every reason to refuse ``frame`` (raw text with the file's headers, or a typed frame)."""
    screen = IdentifiableScreen(contract)
    screen.add(frame)
    return screen.findings([name for name in frame.columns if name not in HELPER_COLUMNS])


_KINDS = {
    "nhs": "an NHS number (valid check digit)",
    "postcode": "a full postcode",
    "name": "a person's name (a title followed by a name)",
    "address": "a street address (a house number and a street)",
}


class IdentifiableScreen:
    """The screen over a file read in batches: ``add`` each batch, then ``findings`` gives
    what ``find_identifiable`` gives for the whole file (counts are summed over batches)."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.counts: dict[tuple[str, str], int] = {}

    def add(self, frame: pl.DataFrame) -> None:
        columns = [name for name in frame.columns if name not in HELPER_COLUMNS]
        free_text = _free_text_headers(self.contract, columns)
        text = frame.select(
            pl.col(name).cast(pl.String) if frame.schema[name] != pl.String else pl.col(name)
            for name in columns
        )
        if text.width == 0:
            return
        counts = text.select(
            *(
                pl.col(name).str.contains(NHS_NUMBER_CANDIDATE).sum().alias(f"nhs\x00{name}")
                for name in columns
            ),
            *(
                pl.col(name).str.contains(FULL_POSTCODE).sum().alias(f"postcode\x00{name}")
                for name in columns
            ),
            *(
                pl.col(name).str.contains(PERSON_NAME).sum().alias(f"name\x00{name}")
                for name in free_text
            ),
            *(
                pl.col(name).str.contains(STREET_ADDRESS).sum().alias(f"address\x00{name}")
                for name in free_text
            ),
        ).row(0, named=True)
        for key, count in counts.items():
            if not count:
                continue
            check, name = key.split("\x00", 1)
            if check == "nhs":  # candidates: count the values whose check digit is valid
                count = _count_nhs_numbers(text.get_column(name))
            found = (check, name)
            self.counts[found] = self.counts.get(found, 0) + count

    def findings(self, columns: list[str]) -> list[Finding]:
        """Every reason to refuse, for a file with these columns (without the helpers)."""
        # Columns are named by their header, or by position when the header may itself be a
        # value (a file sent without its header row): messages never repeat a value.
        label = {
            name: f"column {position}" if header_looks_like_data(name) else name
            for position, name in enumerate(columns, start=1)
        }
        findings: list[Finding] = []
        for name in columns:
            kind = identifiable_header(name)
            if kind is not None:
                findings.append(Finding(label[name], kind, 0))
        headers = pl.Series("header", columns, dtype=pl.String)
        for name in columns:
            single = headers.filter(headers == name)
            if _count_nhs_numbers(single) or single.str.contains(FULL_POSTCODE).any():
                findings.append(Finding(label[name], _DATA_HEADER, 0))
        free_text = _free_text_headers(self.contract, columns)
        for check, names in (
            ("nhs", columns),
            ("postcode", columns),
            ("name", free_text),
            ("address", free_text),
        ):
            for name in names:
                count = self.counts.get((check, name), 0)
                if count:
                    findings.append(Finding(label[name], _KINDS[check], count))
        return findings


def screen_texts(texts: Sequence[str | None], where: str) -> list[Finding]:
    """Every reason to refuse a part of a file that is not a table of its contract: a
    workbook's other sheets, the rows above its header, its comments and document properties,
    JSON fields outside the contract, a file's name. Every value check runs on ``texts``,
    those for free text included (a person's name, an address); findings are labelled
    ``where`` (which must not itself be a value: "sheet 2", "document properties")."""
    values = pl.Series("text", [text for text in texts if text], dtype=pl.String)
    if values.is_empty():
        return []
    checks = (
        ("nhs", NHS_NUMBER_CANDIDATE),
        ("postcode", FULL_POSTCODE),
        ("name", PERSON_NAME),
        ("address", STREET_ADDRESS),
    )
    findings = []
    for check, pattern in checks:
        count = int(values.str.contains(pattern).sum())
        if count and check == "nhs":
            count = _count_nhs_numbers(values)
        if count:
            findings.append(Finding(where, _KINDS[check], count))
    return findings


def _free_text_headers(contract: Contract, headers: list[str]) -> list[str]:
    free_text = set(contract.free_text_columns)
    return [header for header in headers if column_for_header(contract, header) in free_text]


def identifiable_file_name(name: str) -> str | None:
    """The kind of identifiable data a file's name holds (an NHS number or a full postcode), or
    None. A name is stored with every row and audit record, so it is screened like a value."""
    text = pl.Series("name", [Path(name).stem.replace("_", " ")], dtype=pl.String)
    if _count_nhs_numbers(text):
        return "an NHS number"
    if text.str.contains(FULL_POSTCODE).any():
        return "a full postcode"
    return None


def check_identifiable(contract: Contract, frame_or_raw: pl.DataFrame, path: Path) -> None:
    """Raise ``IdentifiableDataError`` if the file looks identifiable; see the module notes.

    ``frame_or_raw`` is best the raw frame from ``read_raw`` (all columns, original headers);
    a typed frame from ``read_source`` works too but has lost the unknown columns.
    """
    findings = find_identifiable(contract, frame_or_raw)
    if findings:
        raise IdentifiableDataError(findings, path=path)
