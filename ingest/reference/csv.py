"""Read a published CSV as text, whatever its publisher's quirks: a UTF-8 byte-order mark,
header cells with line breaks inside quotes, trailing spaces in headers, no header row, or
gzip compression."""

import gzip
from pathlib import Path

import polars as pl

from ingest.errors import InputError


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
    return frame
