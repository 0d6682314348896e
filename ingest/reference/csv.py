"""Read a published CSV as text, whatever its publisher's quirks: a UTF-8 byte-order mark,
header cells with line breaks inside quotes, trailing spaces in headers, no header row, or
gzip compression. The ONS lookups as downloaded from the Open Geography Portal (headers such
as LSOA21CD, SICBL24CDH, CHGIND) read under the names of the geographr copies in
../shared/data/reference (lsoa21_code, sicbl24_code_nhs, change_code), so either serves."""

import gzip
from pathlib import Path

import polars as pl

from ingest.errors import InputError

# ONS Open Geography Portal header -> the geographr name the loaders read (the ONS lookups
# "LSOA (2021) to SICBL to ICB to Cancer Alliances to LAD (April 2024)", "LSOA (2021) to
# Electoral Ward (2024) to LAD (2024) Best Fit", "LSOA (2011) to LSOA (2021) to LAD (2022)").
ONS_HEADERS = {
    "LSOA11CD": "lsoa11_code",
    "LSOA11NM": "lsoa11_name",
    "LSOA21CD": "lsoa21_code",
    "LSOA21NM": "lsoa21_name",
    "CHGIND": "change_code",
    "SICBL24CD": "sicbl24_code",
    "SICBL24CDH": "sicbl24_code_nhs",
    "SICBL24NM": "sicbl24_name",
    "ICB24CD": "icb24_code",
    "ICB24CDH": "icb24_code_nhs",
    "ICB24NM": "icb24_name",
    "WD24CD": "ward24_code",
    "WD24NM": "ward24_name",
    "LAD24CD": "ltla24_code",
    "LAD24NM": "ltla24_name",
    "LAD22CD": "ltla22_code",
    "LAD22NM": "ltla22_name",
}


def read_text_csv(
    path: Path, *, has_header: bool = True, columns: list[str] | None = None
) -> pl.DataFrame:
    """Every column as a string; header names with the BOM, line breaks and outer spaces gone."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        frame = pl.read_csv(
            data,
            has_header=has_header,
            infer_schema=False,
            encoding="utf8-lossy",
            new_columns=columns,
        )
    except pl.exceptions.PolarsError as error:
        raise InputError(f"cannot read as CSV: {error}", path=path) from None
    if has_header:
        frame = frame.rename({name: " ".join(name.split()) for name in frame.columns})
        ons = {
            name: ONS_HEADERS[name.upper()]
            for name in frame.columns
            if name.upper() in ONS_HEADERS and ONS_HEADERS[name.upper()] not in frame.columns
        }
        frame = frame.rename(ons)
    return frame
