"""GP practices and PCNs from the NHS ODS files and list sizes from NHS Digital, joined into
the ``practices`` contract.

- ePCN "PCN Core Partner Details" sheet: which practice is in which PCN (open relationships,
  no end date), with the practice's sub-ICB location (3-character ODS code);
- epraccur (no header row, 27 columns in ODS order): keeps active GP practices (status A,
  prescribing setting 4) when given;
- "Patients Registered at a GP Practice" (gp-reg-pat-prac-all): list size per practice.

The practice's LSOA is left empty: the ODS files give a postcode, and turning a postcode into
an LSOA needs the ONS Postcode Directory, which is not among the reference files.
"""

from pathlib import Path

import polars as pl

from ingest.errors import InputError
from ingest.reference.csv import read_text_csv

EPCN_SHEET = "PCN Core Partner Details"

# epraccur's 27 columns, in the order the ODS documents them.
EPRACCUR_COLUMNS = [
    "organisation_code", "name", "national_grouping", "high_level_health_geography",
    "address_line_1", "address_line_2", "address_line_3", "address_line_4", "address_line_5",
    "postcode", "open_date", "close_date", "status_code", "organisation_sub_type_code",
    "commissioner", "join_provider_date", "left_provider_date", "contact_telephone_number",
    "null_1", "null_2", "null_3", "amended_record_indicator", "null_4", "provider_purchaser",
    "null_5", "prescribing_setting", "null_6",
]  # fmt: skip


def _column(frame: pl.DataFrame, path: Path, *words: str) -> str:
    """The one header containing every word (headers here carry line breaks and spaces)."""
    hits = [c for c in frame.columns if all(w.casefold() in c.casefold() for w in words)]
    if len(hits) != 1:
        raise InputError(f"expected one column naming {' '.join(words)!r}, found {hits}", path=path)
    return hits[0]


def read_epcn_membership(path: Path) -> pl.DataFrame:
    """Open practice-to-PCN relationships: practice code and name, PCN code and name, and the
    practice's sub-ICB location (ODS code), from the ePCN workbook or its sheet as CSV."""
    path = Path(path)
    if path.suffix.casefold() == ".xlsx":  # the ePCN workbook itself
        raw = pl.read_excel(path, sheet_name=EPCN_SHEET, infer_schema_length=0)
        raw = raw.rename({name: " ".join(name.split()) for name in raw.columns})
    else:  # that sheet saved as CSV
        raw = read_text_csv(path)
    end = _column(raw, path, "Relationship", "End Date")
    frame = raw.filter(pl.col(end).is_null() | (pl.col(end).str.strip_chars() == "")).select(
        pl.col(_column(raw, path, "Partner", "Organisation", "Code")).alias("practice_code"),
        pl.col(_column(raw, path, "Partner", "Name")).alias("practice_name"),
        pl.col(_column(raw, path, "PCN Code")).alias("pcn_code"),
        pl.col(_column(raw, path, "PCN Name")).alias("pcn_name"),
        pl.col(_column(raw, path, "Practice", "Parent", "Sub ICB Loc Code")).alias(
            "sub_icb_ods_code"
        ),
    )
    return frame.unique("practice_code", keep="first", maintain_order=True)


def read_epraccur(path: Path) -> pl.DataFrame:
    """ODS epraccur (no header row) with the documented column names."""
    raw = read_text_csv(path, has_header=False)
    if raw.width != len(EPRACCUR_COLUMNS):
        raise InputError(
            f"epraccur has {len(EPRACCUR_COLUMNS)} columns; this file has {raw.width}", path=path
        )
    return raw.rename(dict(zip(raw.columns, EPRACCUR_COLUMNS, strict=True)))


def read_registered_patients(path: Path) -> pl.DataFrame:
    """Practice list sizes (all ages, all sexes) and the extract date."""
    raw = read_text_csv(path)
    for needed in ("CODE", "NUMBER_OF_PATIENTS"):
        if needed not in raw.columns:
            raise InputError(f"no {needed} column: not gp-reg-pat-prac-all", path=path)
    if "SEX" in raw.columns and "AGE" in raw.columns:
        raw = raw.filter((pl.col("SEX") == "ALL") & (pl.col("AGE") == "ALL"))
    return raw.select(
        pl.col("CODE").alias("practice_code"),
        pl.col("NUMBER_OF_PATIENTS").cast(pl.Int64).alias("registered_patients"),
        (
            pl.col("EXTRACT_DATE") if "EXTRACT_DATE" in raw.columns else pl.lit(None, pl.String)
        ).alias("list_size_extract_date"),
    )


def build_practices(
    epcn_membership: Path, registered_patients: Path | None, epraccur: Path | None = None
) -> pl.DataFrame:
    """The ``practices`` contract for every practice in a PCN, with ``sub_icb_ods_code`` for
    choosing an ICB's practices (not a contract column)."""
    frame = read_epcn_membership(epcn_membership).filter(
        pl.col("practice_code").str.contains(r"^[A-Z]\d{5}$")
    )
    if epraccur is not None:
        active = read_epraccur(epraccur).filter(
            (pl.col("status_code") == "A") & (pl.col("prescribing_setting") == "4")
        )
        frame = frame.join(
            active.select(pl.col("organisation_code").alias("practice_code")),
            on="practice_code",
            how="semi",
        )
    if registered_patients is not None:
        sizes = read_registered_patients(registered_patients)
        frame = frame.join(sizes, on="practice_code", how="left")
    else:
        frame = frame.with_columns(
            registered_patients=pl.lit(None, pl.Int64),
            list_size_extract_date=pl.lit(None, pl.String),
        )
    return frame.select(
        "practice_code",
        "practice_name",
        "pcn_code",
        "pcn_name",
        pl.lit(None, dtype=pl.String).alias("lsoa_code"),
        "registered_patients",
        "sub_icb_ods_code",
        "list_size_extract_date",
    ).sort("practice_code")
