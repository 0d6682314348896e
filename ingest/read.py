"""Read any accepted file into a polars DataFrame shaped by its contract.

Reading happens in two steps so that the privacy screen sees every column the sender sent,
including the ones the contract does not know and the reader would drop:

    raw = read_raw(contract, path)              # every cell as text, original headers
    check_identifiable(contract, raw, path)     # ingest.identifiable: refuse the whole file
    typed = to_typed(contract, raw, path=path)  # contract columns, in order, cast

``read_source`` is the convenience that does ``read_raw`` then ``to_typed`` (without the check).

The typed frame
---------------
* ``_row_number`` (Int64) first: the row a person looking at the file would name. For CSV and
  XLSX that is the spreadsheet row number: the header is row 1 (in a workbook, the row it sits
  on: blank rows and a title above the header are allowed), so the first data row is row 2.
  Rows are counted as records, so a quoted CSV field that holds line breaks does not shift
  later rows; blank lines count as (empty) rows, as they do when the file is opened in a
  spreadsheet. For JSON and Parquet it is the 1-based record index.
* the contract's columns, in contract order, cast to their types. Text is stripped of
  surrounding whitespace; empty or whitespace-only values become null. Optional columns that
  are absent are all null.
* ``_raw__<column>`` (String), only for a column where at least one value could not be cast:
  the stripped original text on the rows that failed, null elsewhere. The typed value on those
  rows is null, so ``ingest.validate.split_rows`` quarantines them with rule ``type``; a failed
  cast never silently becomes a null that passes.
* ``_raw__@line`` (Int64), only for a CSV in which some quoted field spans several lines: the
  physical line on which each record starts (line 1 is the first line of the file), so a sender
  can find it in a text editor. ``_row_number`` remains the record-based spreadsheet row.

Loaders drop every column starting with ``_raw__`` before loading.

Anything that cannot be read at all raises ``InputError`` naming the file (and the row or column
where one can be named); no parser message that could echo the file's content is passed on, and
a column is named by its header only when that header is a contract's (``header_label``): any
other header may be a value, so it is named by position.

Before anything is parsed, the file is checked against the size limits of ``ingest.limits``
(line, value and column caps for CSV, size, objects and nesting for JSON, the zip directory of
a workbook, the footer of a Parquet file), so memory stays bounded whatever arrives. A workbook
is screened whole before its table is read (``ingest.workbook``: other sheets, rows above the
header, comments, properties, names...), 360Giving fields outside the contract before the row
mapping drops them, and columns outside the contract by ``ingest.identifiable.check_outside``.
"""

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from ingest import limits
from ingest.contracts.model import Column, Contract
from ingest.errors import InputError

ROW_NUMBER = "_row_number"
RAW_PREFIX = "_raw__"
LINE_NUMBER = "_raw__@line"
HELPER_COLUMNS = (ROW_NUMBER, LINE_NUMBER)

POLARS_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "integer": pl.Int64(),
    "float": pl.Float64(),
    "date": pl.Date(),
    "boolean": pl.Boolean(),
}

# The file types accepted, in the order a source folder is searched for them
# (``ingest.load.find_source_file``); file labels keep only these extensions.
FORMATS_BY_SUFFIX = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".ods": "ods",
    ".json": "json",
    ".parquet": "parquet",
}

TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0")
FALSE_WORDS = ("false", "f", "no", "n", "0", "0.0")

DELIMITERS = (",", ";", "\t", "|")
_SNIFF_CHARS = 64 * 1024


def raw_column(name: str) -> str:
    """The helper column holding the original text of ``name`` where it failed to cast."""
    return f"{RAW_PREFIX}{name}"


# --- public API ------------------------------------------------------------------------------


def read_source(
    contract: Contract, path: Path, *, sheet: str | None = None, strict: bool = False
) -> pl.DataFrame:
    """Read ``path`` into a typed frame for ``contract`` (``read_raw`` then ``to_typed``)."""
    path = Path(path)
    return to_typed(contract, read_raw(contract, path, sheet=sheet), path=path, strict=strict)


def read_raw(contract: Contract, path: Path, *, sheet: str | None = None) -> pl.DataFrame:
    """Every column of the file as text, under its original header, nothing dropped.

    The first column is ``_row_number`` (see the module notes); ``_raw__@line`` may follow for
    a CSV with multi-line records. Rows in which every cell is empty are left out (their row
    numbers are skipped, not reused). Headers are stripped of surrounding whitespace.
    """
    path = Path(path)
    file_format = FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if file_format is None:
        accepted = ", ".join(FORMATS_BY_SUFFIX)
        shown = limits.shown_suffix(path.suffix)
        raise InputError(f"unsupported file type {shown}; accepted: {accepted}", path=path)
    if not path.exists():
        raise InputError("file not found", path=path)
    if not path.is_file():
        raise InputError("not a file", path=path)
    if path.stat().st_size == 0:
        raise InputError("the file is empty (0 bytes)", path=path)

    if contract.file_format == "json" and file_format in ("csv", "xlsx", "ods"):
        raw = _read_flat_360giving(contract, path, file_format, sheet)
    elif file_format == "ods":
        raise InputError(
            "ODS is read for 360Giving funding files only; save the sheet as XLSX or CSV",
            path=path,
        )
    elif file_format == "csv":
        raw = _read_csv(path)
    elif file_format == "xlsx":
        raw = _read_xlsx(contract, path, sheet)
    elif file_format == "json":
        raw = _read_json(contract, path)
    else:
        raw = _read_parquet(path)
    raw = _drop_empty_rows(raw)
    if raw.height == 0:
        raise InputError("no data rows (the file has a header but nothing under it)", path=path)
    return raw


def to_typed(
    contract: Contract,
    raw: pl.DataFrame,
    *,
    path: Path | None = None,
    strict: bool = False,
    only: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Map headers to the contract's columns and cast; see the module notes for the shape.

    ``only`` restricts the result to those contract columns (typed exactly as in the full
    frame), after the same header checks: the batched loader types a file's keys that way.
    """
    headers = [name for name in raw.columns if name not in HELPER_COLUMNS]
    matched = match_headers(contract, headers, path=path)
    missing = [name for name in contract.required_columns if name not in matched]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise InputError(
            f"missing required column{plural}: {', '.join(missing)}"
            f" (the file's columns are: {_list_headers(headers)})",
            path=path,
        )
    unknown = [header for header in headers if header not in matched.values()]
    if strict and unknown:
        raise InputError(
            f"unexpected column{'s' if len(unknown) > 1 else ''} (strict mode): "
            + ", ".join(header_label(header, headers.index(header) + 1) for header in unknown),
            path=path,
        )

    if only is not None:
        matched = {name: header for name, header in matched.items() if name in only}
    columns = [column for column in contract.columns if only is None or column.name in only]
    names = [column.name for column in columns]
    row_number = (
        pl.col(ROW_NUMBER).cast(pl.Int64)
        if ROW_NUMBER in raw.columns
        else pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
    ).alias(ROW_NUMBER)
    # Strip every mapped column once, under its contract name. Then cast in two passes: a cheap
    # cast of every column, and the full cast (other date layouts, "12.0" for an integer,
    # thousands separators) only for columns the cheap cast could not read completely, so
    # clean files never pay for the full cast.
    clean = (
        raw.lazy()
        .select(
            row_number,
            *(_clean(header, raw.schema[header]).alias(name) for name, header in matched.items()),
            *([pl.col(LINE_NUMBER).cast(pl.Int64)] if LINE_NUMBER in raw.columns else []),
        )
        .collect()
    )

    exprs: list[pl.Expr] = [pl.col(ROW_NUMBER)]
    pending: list[str] = []  # columns whose values need the full cast
    for column in columns:
        if column.name not in matched:
            exprs.append(pl.lit(None, POLARS_TYPES[column.dtype]).alias(column.name))
            continue
        value, failed = _quick_cast(column, pl.col(column.name))
        exprs.append(value.alias(column.name))
        if failed is not None:
            exprs.append(failed.alias(f"__failed__{column.name}"))
            pending.append(column.name)
    if LINE_NUMBER in clean.columns:
        exprs.append(pl.col(LINE_NUMBER))
    typed = clean.lazy().select(exprs).collect()
    flags = [f"__failed__{name}" for name in pending]
    counts = typed.select(pl.col(flags).sum()).row(0) if flags else ()
    typed = typed.drop(flags)

    fixes: list[pl.Expr] = []
    for name, count in zip(pending, counts, strict=True):
        if count:
            value, failed = cast_expr(contract.column(name), pl.col(name))
            fixes.append(value.alias(name))
            if failed is not None:
                fixes.append(pl.when(failed).then(pl.col(name)).alias(raw_column(name)))
    if fixes:
        fixed = clean.lazy().select(fixes).collect()
        raw_names = [name for name in fixed.columns if name.startswith(RAW_PREFIX)]
        nulls = fixed.select(pl.col(raw_names).null_count()).row(0)
        fixed = fixed.drop(
            name for name, count in zip(raw_names, nulls, strict=True) if count == fixed.height
        )
        typed = typed.with_columns(fixed)
        order = [ROW_NUMBER, *names]
        order += [raw_column(n) for n in names if raw_column(n) in typed.columns]
        typed = typed.select(*order, *([LINE_NUMBER] if LINE_NUMBER in typed.columns else []))
    return typed


# --- header matching -------------------------------------------------------------------------

_YEAR = re.compile(r"(?:19|20)\d\d")


def normalise_header(header: str) -> str:
    """Lower case with everything but letters and digits removed: 'IMD Score ' -> 'imdscore'."""
    return re.sub(r"[^0-9a-z]", "", header.casefold())


def _without_years(key: str) -> str:
    return _YEAR.sub("", key)


@lru_cache(maxsize=64)
def _header_lookup(contract: Contract) -> tuple[dict[str, str], dict[str, str | None]]:
    exact: dict[str, str] = {}
    for column in contract.columns:
        for name in (column.name, *column.aliases):
            key = normalise_header(name)
            if exact.get(key, column.name) != column.name:
                raise ValueError(
                    f"contract {contract.name}: header {name!r} would match both "
                    f"{exact[key]} and {column.name}"
                )
            exact[key] = column.name
    # Published files change the vintage in their headers ("LSOA code (2011)" in IoD2019,
    # "LSOA code (2021)" in IoD2025): a header matches ignoring years when that is unambiguous.
    yearless: dict[str, str | None] = {}
    for key, name in exact.items():
        short = _without_years(key)
        if short in yearless and yearless[short] != name:
            yearless[short] = None
        else:
            yearless[short] = name
    return exact, yearless


def column_for_header(contract: Contract, header: str) -> str | None:
    """The contract column a header names (see ``match_headers``), or None."""
    exact, yearless = _header_lookup(contract)
    key = normalise_header(header)
    return exact.get(key) or yearless.get(_without_years(key))


def match_headers(
    contract: Contract, headers: Sequence[str], *, path: Path | None = None
) -> dict[str, str]:
    """Contract column name -> the file's header for it (only the columns present).

    Matching ignores case, spaces, underscores, hyphens and punctuation and accepts the
    column's aliases; failing that, the same ignoring four-digit years. Two headers for one
    column raise ``InputError``.
    """
    matched: dict[str, str] = {}
    positions: dict[str, int] = {}
    for position, header in enumerate(headers, start=1):
        name = column_for_header(contract, header)
        if name is None:
            continue
        if name in matched:
            first = header_label(matched[name], positions[name])
            raise InputError(
                f"duplicate columns: {first} and {header_label(header, position)} both give {name}",
                path=path,
                column=name,
            )
        matched[name] = header
        positions[name] = position
    return matched


# A header that looks like data (a file sent without its header row) is not repeated.
_DATA_LIKE = re.compile(r"\d{5}|@|(?i:[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})")


def header_looks_like_data(header: str) -> bool:
    """True for a header that may be a value (5+ digits, an @, a postcode shape, very long)."""
    return bool(_DATA_LIKE.search(header)) or len(header) > 100


def header_label(header: str, position: int) -> str:
    """How a message names a file's column: its header, quoted, when the header names a column
    of some contract (a known name or alias); else its position ("column 3"). Any other header
    may be a value (a file sent without its header row), and messages never repeat a value."""
    if not header_looks_like_data(header) and _is_known_header(header):
        return repr(header)
    return f"column {position}"


@lru_cache(maxsize=4096)
def _is_known_header(header: str) -> bool:
    from ingest.contracts import CONTRACTS

    return any(column_for_header(contract, header) for contract in CONTRACTS.values())


def _list_headers(headers: Sequence[str], limit: int = 30) -> str:
    shown = ", ".join(
        header_label(header, position) for position, header in enumerate(headers[:limit], 1)
    )
    shown += f" and {len(headers) - limit} more" if len(headers) > limit else ""
    if any(header_looks_like_data(header) for header in headers):
        shown += "; some headers look like data: was the header row left out?"
    return shown


# --- casting ---------------------------------------------------------------------------------

_THOUSANDS = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$"
_ISO_DATE = (
    r"^(\d{4}-\d{1,2}-\d{1,2})"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_UK_DATE = r"^(\d{1,2}/\d{1,2}/\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?$"


def _clean(header: str, dtype: pl.DataType | None = None) -> pl.Expr:
    """The header's text, stripped; empty becomes null."""
    text = pl.col(header)
    if dtype is not None and dtype != pl.String:
        text = text.cast(pl.String)
    text = text.str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text)


def _quick_cast(column: Column, text: pl.Expr) -> tuple[pl.Expr, pl.Expr | None]:
    """A cheap cast that is right for plain values; the flag marks values it could not read.

    ``text`` is already stripped with empty as null (``_clean``).
    """
    if column.dtype == "string":
        return text, None
    if column.dtype == "integer":
        value = text.cast(pl.Int64, strict=False)
    elif column.dtype == "float":
        as_float = text.cast(pl.Float64, strict=False)
        value = pl.when(as_float.is_finite()).then(as_float)
    elif column.dtype == "date":
        value = pl.when(text.str.len_bytes() == 10).then(text.str.to_date("%Y-%m-%d", strict=False))
    else:
        return cast_expr(column, text)
    return value, text.is_not_null() & value.is_null()


def cast_expr(column: Column, text: pl.Expr) -> tuple[pl.Expr, pl.Expr | None]:
    """(typed value, failed-to-cast flag) for ``column`` from clean text (see ``_clean``).

    Integers accept "12", "12.0", "1,234" and "1e3" but not "12.5"; floats must be finite;
    dates are yyyy-mm-dd (a time after it is ignored) or dd/mm/yyyy; booleans are
    true/false, yes/no, y/n, t/f or 1/0 in any case.
    """
    if column.dtype == "string":
        return text, None
    if column.dtype in ("integer", "float"):
        number = (
            pl.when(text.str.contains(_THOUSANDS))
            .then(text.str.replace_all(",", "", literal=True))
            .otherwise(text)
        )
        as_float = number.cast(pl.Float64, strict=False)
        if column.dtype == "float":
            value = pl.when(as_float.is_finite()).then(as_float)
        else:
            whole = as_float.is_finite() & (as_float == as_float.floor())
            value = pl.coalesce(
                number.cast(pl.Int64, strict=False),
                pl.when(whole).then(as_float.cast(pl.Int64, strict=False)),
            )
    elif column.dtype == "date":
        value = pl.coalesce(
            text.str.extract(_ISO_DATE, 1).str.to_date("%Y-%m-%d", strict=False),
            text.str.extract(_UK_DATE, 1).str.to_date("%d/%m/%Y", strict=False),
        )
    elif column.dtype == "boolean":
        lower = text.str.to_lowercase()
        value = (
            pl.when(lower.is_in(TRUE_WORDS))
            .then(pl.lit(True))
            .when(lower.is_in(FALSE_WORDS))
            .then(pl.lit(False))
            .otherwise(pl.lit(None, pl.Boolean))
        )
    else:  # pragma: no cover - contracts only use the five types
        raise ValueError(f"unknown type {column.dtype!r}")
    return value, text.is_not_null() & value.is_null()


# --- shared helpers --------------------------------------------------------------------------


def _headers(cells: Sequence[Any], columns: Sequence[str], path: Path) -> dict[str, str]:
    """Frame column -> stripped header; unnamed columns get a name, duplicates are refused."""
    names: dict[str, str] = {}
    seen: dict[str, int] = {}
    for position, (cell, column) in enumerate(zip(cells, columns, strict=True), start=1):
        header = "" if cell is None else str(cell).strip().lstrip("\ufeff").strip()
        if not header:
            header = f"(unnamed column {position})"
        if header in HELPER_COLUMNS or header.startswith(RAW_PREFIX):
            raise InputError(
                f"column {position} has a reserved header (one starting with _row_number or "
                f"{RAW_PREFIX})",
                path=path,
            )
        if header in seen:
            shown = header_label(header, position)
            named = "" if shown.startswith("column ") else f" {shown}"
            raise InputError(
                f"duplicate header{named} (columns {seen[header]} and {position})", path=path
            )
        seen[header] = position
        names[column] = header
    return names


def _drop_empty_rows(raw: pl.DataFrame) -> pl.DataFrame:
    cells = [name for name in raw.columns if name not in HELPER_COLUMNS]
    if not cells:
        return raw.clear()
    filled = pl.any_horizontal(
        [pl.col(name).cast(pl.String).str.contains(r"\S") for name in cells]
    ).fill_null(False)
    return raw.filter(filled)


def _drop_unnamed_empty(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop([c for c, filled in unnamed_columns(frame).items() if not filled])


def _looks_like(head: bytes) -> str | None:
    """A name for well-known binary formats, from their first bytes."""
    signatures = {
        b"PK\x03\x04": "a zip archive (an XLSX workbook?)",
        b"\xd0\xcf\x11\xe0": "an old Excel .xls (or password-protected) workbook",
        b"PAR1": "a Parquet file",
        b"%PDF": "a PDF document",
        b"\x1f\x8b": "a gzip archive",
        b"\x89PNG": "a PNG image",
        b"\xff\xd8\xff": "a JPEG image",
    }
    for signature, name in signatures.items():
        if head.startswith(signature):
            return name
    return None


def _is_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if byte < 9 or 13 < byte < 32 and byte != 26)
    return controls > max(8, len(head) // 100)


def _decode_text(data: bytes, path: Path, what: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else (CSV only) Windows-1252."""
    return _decode(_screen_bytes(data, path, what), path, what)


def _screen_bytes(data: bytes, path: Path, what: str) -> bytes:
    """Refuse binary content; return the bytes without a UTF-8 BOM (UTF-16 is decoded)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise InputError("unreadable text: broken UTF-16", path=path) from None
    kind = _looks_like(data[:8])
    if kind is not None:
        raise InputError(f"not a {what} file: it looks like {kind}", path=path)
    if b"\x00" in data or _is_binary(data[:_SNIFF_CHARS]):
        raise InputError(f"not a {what} file: it holds binary data", path=path)
    return data


def _decode(data: bytes, path: Path, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        if what != "CSV":
            line = data.count(b"\n", 0, utf8_error.start) + 1
            raise InputError("not valid UTF-8 text", path=path, row=line) from None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(
            "unreadable text encoding: neither UTF-8 nor Windows-1252 "
            f"(byte 0x{data[error.start]:02x} on line {line})",
            path=path,
        ) from None


# --- CSV -------------------------------------------------------------------------------------


def sniff_delimiter(sample: str, *, prefer_tab: bool = False) -> str:
    """The delimiter among , ; tab | that splits the sample into the most consistent columns."""
    truncated = len(sample) >= _SNIFF_CHARS
    if truncated and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    best: tuple[float, int, int] | None = None
    choice = "\t" if prefer_tab else ","
    order = ("\t", ",", ";", "|") if prefer_tab else DELIMITERS
    for rank, delimiter in enumerate(order):
        try:
            reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            rows = [row for row in reader if row]
        except csv.Error:  # e.g. a stray carriage return: not this delimiter's fault alone
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = rows[1:-1] if truncated else rows[1:]
        consistency = (sum(len(row) == width for row in body) / len(body)) if body else 1.0
        score = (consistency, width, -rank)
        if best is None or score > best:
            best, choice = score, delimiter
    return choice


def _read_csv(path: Path) -> pl.DataFrame:
    # Limits before parsing: no line too long (streamed), the file small enough to read whole.
    limits.check_lines(limits.file_blocks(path), path)
    size = path.stat().st_size
    if size > limits.MAX_WHOLE_CSV_BYTES:
        raise limits.refuse(
            path,
            f"the file is {size:,} bytes and cannot be read in batches (it is "
            "not plain UTF-8, or a record spans more lines than a record may)",
            limits.MAX_WHOLE_CSV_BYTES,
        )
    payload = _screen_bytes(path.read_bytes(), path, "CSV")
    if not payload or payload.isspace():
        raise InputError("the file is empty", path=path)
    leading_blank = 0
    if payload[:1] in (b"\r", b"\n"):
        stripped = payload.lstrip(b"\r\n")
        leading_blank = payload[: len(payload) - len(stripped)].count(b"\n")
        payload = stripped
    sample = payload[:_SNIFF_CHARS].decode("utf-8", errors="ignore")
    delimiter = sniff_delimiter(sample, prefer_tab=path.suffix.lower() == ".tsv")
    limits.check_width(limits.first_line(payload), delimiter, path)

    def parse(data: bytes) -> pl.DataFrame:
        return _parse_csv(data, delimiter)

    lines = None
    try:  # polars checks the bytes are UTF-8 as it parses them
        frame = parse(payload)
    except pl.exceptions.PolarsError:
        text = _decode(payload, path, "CSV")
        encoded = text.encode("utf-8")
        try:
            if encoded == payload:
                raise ValueError("not an encoding problem")
            payload = encoded
            frame = parse(payload)
        except (pl.exceptions.PolarsError, ValueError):
            # Malformed for polars (ragged rows, a stray quote): the standard library either
            # reads it or says where the problem is, without echoing the content.
            frame, lines = _read_csv_slowly(text, delimiter, path, leading_blank)
    if frame.height == 0:
        raise InputError("the file is empty", path=path)

    header_row = leading_blank + 1
    _check_field_sizes(frame, path, header_row)
    names = _headers(frame.row(0), frame.columns, path)
    body = frame.slice(1).rename(names)
    body = body.with_columns(
        pl.int_range(header_row + 1, header_row + 1 + body.height, dtype=pl.Int64).alias(ROW_NUMBER)
    )
    if lines is None and b'"' in payload:
        physical = payload.count(b"\n") + (0 if payload.endswith(b"\n") else 1)
        if physical != frame.height:  # some record spans several lines
            lines = _record_lines(frame, leading_blank)
    if lines is not None:
        body = body.with_columns(pl.Series(LINE_NUMBER, lines[1:], dtype=pl.Int64))
        if body.select((pl.col(LINE_NUMBER) == pl.col(ROW_NUMBER)).all()).item():
            body = body.drop(LINE_NUMBER)
    helpers = [ROW_NUMBER] + ([LINE_NUMBER] if LINE_NUMBER in body.columns else [])
    body = body.select(*helpers, *names.values())
    return _drop_unnamed_empty(body)


def _parse_csv(data: bytes, delimiter: str, width: int | None = None) -> pl.DataFrame:
    """Every cell as text. The parser takes the width from the first record; ``width`` gives
    a later batch of a file the header's width (so that, as in the whole file, a short row is
    filled with nulls), through a first line of empty values that is then dropped."""
    if width is None:
        return pl.read_csv(
            io.BytesIO(data),
            has_header=False,
            infer_schema=False,
            separator=delimiter,
            quote_char='"',
        )
    lead = (delimiter * (width - 1) + "\n").encode()
    return _parse_csv(lead + data, delimiter).slice(1)


class NotStreamable(Exception):
    """The file is not a plain UTF-8 CSV that can be read in batches (another encoding, a
    malformed row, a very long record...): read it whole, which says exactly what is wrong."""


def is_batchable(path: Path, batch_bytes: int) -> bool:
    """Whether ``read_csv_batches`` may take ``path``: a delimited text file larger than one
    batch. XLSX, JSON and Parquet sources are small (reference data, the community offer,
    grants) and are always read whole."""
    path = Path(path)
    return (
        FORMATS_BY_SUFFIX.get(path.suffix.lower()) == "csv"
        and path.is_file()
        and path.stat().st_size > batch_bytes
    )


def read_csv_batches(path: Path, batch_bytes: int) -> Iterator[pl.DataFrame]:
    """The frame ``read_raw`` would give for a CSV file, in batches of about ``batch_bytes``
    of the file, each cut at a record boundary; memory is bounded by the batch.

    Each batch has the same columns and, row for row, the same ``_row_number`` (and
    ``_raw__@line``) as the whole-file read, except that two whole-file steps are left to the
    caller because they need the whole file: rows in which every cell is empty are not yet
    dropped (``drop_empty_rows``), nor unnamed columns that are empty in every batch
    (``unnamed_columns``). Raises ``NotStreamable`` (possibly after some batches) for anything
    that is not a plain UTF-8 CSV; read such a file whole with ``read_raw``.
    """
    path = Path(path)
    with path.open("rb") as handle:
        buffer = handle.read(max(batch_bytes, 4 * _SNIFF_CHARS))
        if buffer.startswith(b"\xef\xbb\xbf"):
            buffer = buffer[3:]
        if buffer.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_like(buffer[:8]):
            raise NotStreamable("UTF-16 or binary")
        if _is_binary(buffer[:_SNIFF_CHARS]):
            raise NotStreamable("binary")
        leading_blank = 0
        if buffer[:1] in (b"\r", b"\n"):
            stripped = buffer.lstrip(b"\r\n")
            leading_blank = buffer[: len(buffer) - len(stripped)].count(b"\n")
            buffer = stripped
            if not buffer:
                raise NotStreamable("blank")
        more = handle.read(_SNIFF_CHARS)  # the delimiter is sniffed from the same sample
        buffer += more
        if (more and len(buffer) < _SNIFF_CHARS) or not buffer or buffer.isspace():
            raise NotStreamable("mostly blank")
        while b"\n" not in buffer and len(buffer) <= limits.MAX_LINE_BYTES:
            more = handle.read(_SNIFF_CHARS)  # the whole header line, within the limit
            if not more:
                break
            buffer += more
        header = limits.first_line(buffer)
        if len(header) > limits.MAX_LINE_BYTES:
            raise limits.refuse(
                path, f"line {leading_blank + 1} is longer than one line may be",
                limits.MAX_LINE_BYTES,
            )  # fmt: skip
        sample = buffer[:_SNIFF_CHARS].decode("utf-8", errors="ignore")
        delimiter = sniff_delimiter(sample, prefer_tab=path.suffix.lower() == ".tsv")
        limits.check_width(header, delimiter, path)

        names: dict[str, str] | None = None
        rows = 0  # records read so far, the header included
        lines = leading_blank  # physical lines those records span, blank lines before them too
        for chunk in _record_chunks(handle, buffer, batch_bytes):
            if b"\x00" in chunk:
                raise NotStreamable("binary")
            try:
                frame = _parse_csv(chunk, delimiter, None if names is None else len(names))
            except pl.exceptions.PolarsError:
                raise NotStreamable("not plain UTF-8 CSV") from None
            if frame.height == 0:
                raise NotStreamable("an empty piece")
            _check_field_sizes(frame, path, leading_blank + rows + 1)
            spans = pl.Series([1] * frame.height, dtype=pl.Int64)
            if b'"' in chunk:  # a quoted field may hold line breaks: count them per record
                breaks = frame.select(
                    pl.sum_horizontal(
                        pl.col(name).str.count_matches("\n", literal=True).fill_null(0)
                        for name in frame.columns
                    )
                ).to_series()
                spans = breaks.cast(pl.Int64) + 1
                physical = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
                if spans.sum() != physical:  # the cut and the parser disagree: be safe
                    raise NotStreamable("records and lines disagree")
            starts = (spans.cum_sum() - spans) + 1 + lines
            if names is None:
                names = _headers(frame.row(0), frame.columns, path)
                frame, starts = frame.slice(1), starts.slice(1)
                rows, lines = 1, lines + int(spans[0])
                spans = spans.slice(1)
            elif frame.width != len(names):
                raise NotStreamable("ragged rows")
            body = frame.rename(names)
            first = leading_blank + rows + 1  # the spreadsheet row of the batch's first record
            helpers = [pl.int_range(first, first + body.height, dtype=pl.Int64).alias(ROW_NUMBER)]
            if lines - leading_blank > rows or int(spans.sum()) > body.height:
                helpers.append(pl.lit(starts).alias(LINE_NUMBER))  # a record spans lines
            rows += body.height
            lines += int(spans.sum())
            yield body.select(*helpers, *names.values())
        if names is None:
            raise NotStreamable("no records")


def _record_chunks(handle: Any, buffer: bytes, batch_bytes: int) -> Iterator[bytes]:
    """``buffer`` and the rest of ``handle`` in pieces of about ``batch_bytes``, each ending
    at a line break outside quotes (so at a record boundary in a well-formed CSV)."""
    eof = False
    # a record longer than this: read the file whole (which refuses a line or value too long)
    longest = max(2 * batch_bytes, limits.MAX_RECORD_BYTES)
    while True:
        if len(buffer) < batch_bytes and not eof:
            block = handle.read(batch_bytes - len(buffer))
            eof = not block
            buffer += block
            continue
        window = batch_bytes
        while True:
            if len(buffer) <= window and eof:
                if buffer:
                    yield buffer
                return
            cut = _last_record_end(buffer, window)
            if cut > 0:
                break
            window += batch_bytes  # one record longer than the batch: take more
            if window > longest:
                raise NotStreamable("a very long record")
            if len(buffer) < window and not eof:
                block = handle.read(window - len(buffer))
                eof = not block
                buffer += block
        yield buffer[:cut]
        buffer = buffer[cut:]


def _last_record_end(buffer: bytes, end: int) -> int:
    """The offset just after the last line break in ``buffer[:end]`` preceded by an even number
    of quotes (``buffer`` starts at a record boundary), or 0."""
    position = buffer.rfind(b"\n", 0, end)
    if position < 0:
        return 0
    odd = buffer.count(b'"', 0, position) % 2
    while odd:
        previous = buffer.rfind(b"\n", 0, position)
        if previous < 0:
            return 0
        odd ^= buffer.count(b'"', previous, position) % 2
        position = previous
    return position + 1


def drop_empty_rows(raw: pl.DataFrame) -> pl.DataFrame:
    """Rows in which every cell is empty are left out (their row numbers are not reused)."""
    return _drop_empty_rows(raw)


def unnamed_columns(frame: pl.DataFrame) -> dict[str, bool]:
    """Columns without a header -> whether any of their values is filled (``read_raw`` drops
    the ones empty in the whole file)."""
    unnamed = [c for c in frame.columns if c.startswith("(unnamed column ")]
    if not unnamed:
        return {}
    counts = frame.select(
        (pl.col(c).str.strip_chars().str.len_bytes() > 0).sum() for c in unnamed
    ).row(0)
    return {c: bool(n) for c, n in zip(unnamed, counts, strict=True)}


def _record_lines(frame: pl.DataFrame, leading_blank: int) -> list[int] | None:
    """The line each record starts on, when some quoted field holds line breaks; else None."""
    breaks = frame.select(
        pl.sum_horizontal(
            pl.col(name).str.count_matches("\n", literal=True).fill_null(0)
            for name in frame.columns
        ).alias("breaks")
    ).to_series()
    if breaks.sum() == 0:
        return None
    spans = breaks + 1
    starts = (spans.cum_sum() - spans) + 1 + leading_blank
    return starts.to_list()


def _check_field_sizes(frame: pl.DataFrame, path: Path, first_row: int) -> None:
    """Refuse a parsed CSV piece holding a value longer than ``limits.MAX_FIELD_BYTES``;
    ``first_row`` is the spreadsheet row of the piece's first record."""
    longest = frame.select(pl.col(name).str.len_bytes().max() for name in frame.columns).row(0)
    for position, length in enumerate(longest, start=1):
        if length is not None and length > limits.MAX_FIELD_BYTES:
            index = frame.select(
                (
                    pl.col(frame.columns[position - 1]).str.len_bytes() > limits.MAX_FIELD_BYTES
                ).arg_max()
            ).item()
            raise limits.refuse(
                path,
                f"row {first_row + index}, column {position} holds a value longer than one "
                "value may be",
                limits.MAX_FIELD_BYTES,
            )


def _read_csv_slowly(
    text: str, delimiter: str, path: Path, leading_blank: int
) -> tuple[pl.DataFrame, list[int]]:
    if len(text) > limits.MAX_MALFORMED_CSV_BYTES:
        raise limits.refuse(
            path,
            "the file has ragged rows or stray quotes and is too large to read record by record",
            limits.MAX_MALFORMED_CSV_BYTES,
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    lines: list[int] = []
    width = 0
    previous_line = 0
    try:
        for record in reader:
            row = len(records) + 1 + leading_blank
            if not records:
                width = len(record)
            elif len(record) > width:
                if any(value.strip() for value in record[width:]):
                    raise InputError(
                        f"this row has {len(record)} values but the header has {width}",
                        path=path,
                        row=row,
                    )
                record = record[:width]
            records.append(record + [""] * (width - len(record)))
            lines.append(previous_line + 1 + leading_blank)
            previous_line = reader.line_num
    except csv.Error as error:
        if "field limit" in str(error):  # csv's own field cap, the same 128 KiB
            raise limits.refuse(
                path,
                f"the record starting on line {previous_line + 1 + leading_blank} holds a value "
                "longer than one value may be",
                limits.MAX_FIELD_BYTES,
            ) from None
        raise InputError(
            f"not a readable CSV file: {error} (record starting on line "
            f"{previous_line + 1 + leading_blank})",
            path=path,
            row=len(records) + 1 + leading_blank,
        ) from None
    columns = [f"column_{i}" for i in range(width)]
    data = {name: [record[i] or None for record in records] for i, name in enumerate(columns)}
    return pl.DataFrame(data, schema=dict.fromkeys(columns, pl.String)), lines


# --- XLSX ------------------------------------------------------------------------------------


def _title_rows(contract: Contract, frame: pl.DataFrame, scan: int = 20) -> int:
    """Rows above the header: workbooks often open with a title or notes.

    The header is the first of the top ``scan`` rows that names every required column, else
    the one naming the most contract columns; with no such row, the first row.
    """
    best, best_count = 0, 0
    required = set(contract.required_columns)
    for index, cells in enumerate(frame.head(scan).iter_rows()):
        named = {column_for_header(contract, str(cell)) for cell in cells if cell is not None}
        if required <= named:
            return index
        if len(named - {None}) > best_count:
            best, best_count = index, len(named - {None})
    return best


def _read_xlsx(contract: Contract, path: Path, sheet: str | None) -> pl.DataFrame:
    """One sheet of a workbook, after ``ingest.workbook`` has checked the archive against the
    limits and screened every other part (other sheets, rows above the header, comments,
    properties, names...): any finding refuses the whole file."""
    from ingest.identifiable import screen_texts
    from ingest.workbook import Workbook

    with path.open("rb") as handle:
        head = handle.read(8)
    if not head.startswith(b"PK\x03\x04"):
        kind = _looks_like(head)
        raise InputError(
            "not an XLSX file" + (f": it looks like {kind}" if kind else ""), path=path
        )
    book = Workbook(path)
    if not book.sheets:
        raise InputError("the workbook has no sheets", path=path)
    folded_names = [candidate.name.casefold() for candidate in book.sheets]
    if len(set(folded_names)) < len(folded_names):  # Excel never allows it
        raise InputError("not a readable XLSX file: two sheets have the same name", path=path)
    if sheet is None:
        chosen = book.sheets[0]
    else:
        by_name = {candidate.name: candidate for candidate in book.sheets}
        folded = {candidate.name.casefold().strip(): candidate for candidate in book.sheets}
        found = by_name.get(sheet) or folded.get(sheet.casefold().strip())
        if found is None:
            raise InputError(
                f"the workbook has no sheet {sheet!r} (it has {len(book.sheets)})", path=path
            )
        chosen = found
    where = f"sheet {chosen.position}"
    if chosen.member not in book.members:  # the limits and the screen must see what is read
        raise InputError(f"not a readable XLSX file: {where} is missing from it", path=path)
    book.screen_structure(chosen.member)
    book.refuse_if_found()  # before the table is read at all

    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        frame = reader.load_sheet(chosen.name, header_row=None, dtypes="string").to_polars()
    except Exception:  # fastexcel raises its own error types for damaged workbooks
        raise InputError(f"{where} could not be read (corrupt?)", path=path) from None
    if frame.height == 0 or frame.width == 0:
        raise InputError(f"{where} is empty", path=path)
    frame = frame.select(pl.all().cast(pl.String))
    skip = _title_rows(contract, frame)
    title_texts = [cell for cells in frame.head(skip).iter_rows() for cell in cells if cell]
    book.findings.extend(screen_texts(title_texts, f"{where}, the rows above the header"))
    book.refuse_if_found()

    header_row = book.first_rows().get(chosen.name, 1) + skip
    names_map = _headers(frame.row(skip), frame.columns, path)
    body = frame.slice(skip + 1).rename(names_map)
    body = body.select(
        pl.int_range(header_row + 1, header_row + 1 + body.height, dtype=pl.Int64).alias(
            ROW_NUMBER
        ),
        *names_map.values(),
    )
    return _drop_unnamed_empty(body)


# --- 360Giving CSV and spreadsheets ----------------------------------------------------------


def _read_flat_360giving(
    contract: Contract, path: Path, file_format: str, sheet: str | None
) -> pl.DataFrame:
    """A 360Giving CSV or spreadsheet: with the standard's column titles, unflattened by
    flattentool into the JSON package and mapped as one (``ingest.giving``); a file of the
    contract's own flat columns is read as any other source's."""
    from ingest.giving import Table, is_flat_layout, read_flat_grants, read_sheets

    if file_format == "csv":
        raw = _read_csv(path)
        tables = [Table(1, raw.drop(LINE_NUMBER, strict=False))]
    else:
        with path.open("rb") as handle:
            head = handle.read(8)
        if not head.startswith(b"PK\x03\x04"):
            kind = _looks_like(head)
            what = "an XLSX" if file_format == "xlsx" else "an ODS"
            raise InputError(
                f"not {what} file" + (f": it looks like {kind}" if kind else ""), path=path
            )
        tables = read_sheets(contract, path, file_format)
    if not any(is_flat_layout(table.headers) for table in tables):
        if file_format == "csv":
            return raw
        if file_format == "xlsx":
            return _read_xlsx(contract, path, sheet)
        if len(tables) == 1:
            return tables[0].frame  # its cells are screened with the contract's columns
        raise InputError(
            "the spreadsheet has several sheets but not the 360Giving column titles",
            path=path,
        )
    records, rows = read_flat_grants(contract, path, tables, _grants_to_rows)
    return _records_frame(records, path, rows)


# --- JSON ------------------------------------------------------------------------------------


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


class _Repeated(dict):
    """A JSON object in which some key was given twice (refused once its record is known)."""


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = {key for key, _ in pairs}
    return dict(pairs) if len(keys) == len(pairs) else _Repeated(pairs)


def _leaves(value: Any, path: Path, record: int, depth: int = 1) -> Iterator[tuple[tuple, Any]]:
    """(path of keys and list indexes, value) for every leaf of a record; keys are leaves too
    (with the path ending in None), as a key is text someone typed. Refuses a repeated key and
    nesting deeper than ``limits.MAX_JSON_DEPTH``."""
    if depth > limits.MAX_JSON_DEPTH:
        raise limits.refuse(
            path,
            f"record {record} is nested deeper than a record may be",
            f"{limits.MAX_JSON_DEPTH} levels",
        )
    if isinstance(value, _Repeated):
        raise InputError(f"a JSON object repeats a key (in record {record})", path=path)
    if isinstance(value, dict):
        for key, item in value.items():
            yield (key, None), key
            for inner, leaf in _leaves(item, path, record, depth + 1):
                yield (key, *inner), leaf
    elif isinstance(value, list):
        for index, item in enumerate(value):
            for inner, leaf in _leaves(item, path, record, depth + 1):
                yield (index, *inner), leaf
    else:
        yield (), value


def parse_json_file(path: Path) -> Any:
    """The JSON document in ``path``, within ``ingest.limits`` (size, objects, nesting); a
    repeated key leaves its object a ``_Repeated`` for the caller to refuse where it can name
    the record. Raises InputError naming the file, never echoing its content."""
    size = path.stat().st_size
    if size > limits.MAX_JSON_BYTES:
        raise limits.refuse(path, f"the file is {size:,} bytes", limits.MAX_JSON_BYTES)
    data = path.read_bytes()
    objects = data.count(b"{")  # each parsed object costs far more memory than its text
    if objects > limits.MAX_JSON_OBJECTS:
        raise limits.refuse(
            path, f"the file holds {objects:,} objects", f"{limits.MAX_JSON_OBJECTS:,} objects"
        )
    text = _decode_text(data, path, "JSON")
    del data
    if not text.strip():
        raise InputError("the file is empty", path=path)
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as error:
        raise InputError(
            f"not valid JSON (truncated or corrupt?): {error.msg} at line {error.lineno} "
            f"column {error.colno}",
            path=path,
        ) from None
    except RecursionError:
        raise limits.refuse(
            path,
            "the JSON is nested deeper than a record may be",
            f"{limits.MAX_JSON_DEPTH} levels",
        ) from None


def is_repeated_keys(value: Any) -> bool:
    """True for a JSON object in which some key was given twice."""
    return isinstance(value, _Repeated)


def _read_json(contract: Contract, path: Path) -> pl.DataFrame:
    document = parse_json_file(path)

    if isinstance(document, dict) and "grants" in document:
        if isinstance(document, _Repeated):
            raise InputError("the package object repeats a key", path=path)
        records = _grants_to_rows(contract, document["grants"], path)
    elif isinstance(document, list):
        records = document
    else:
        raise InputError(
            'expected a 360Giving package {"grants": [...]} or a JSON array of flat records',
            path=path,
        )
    return _records_frame(records, path)


def _records_frame(
    records: list[Any], path: Path, row_numbers: list[int] | None = None
) -> pl.DataFrame:
    """Flat records (a JSON array, or grants mapped to rows) as a frame of text, numbered by
    record (or by ``row_numbers``: the spreadsheet rows the records came from)."""
    if not records:
        raise InputError("no data rows (the JSON holds no records)", path=path)

    columns: dict[str, list[str | None]] = {}
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise InputError("expected a JSON object (a flat record)", path=path, row=index + 1)
        if isinstance(record, _Repeated):
            raise InputError(f"a JSON object repeats a key (in record {index + 1})", path=path)
        for position, (key, value) in enumerate(record.items(), start=1):
            if isinstance(value, (dict, list)):
                label = header_label(str(key), position)
                safe = not label.startswith("column ")
                raise InputError(
                    ("" if safe else f"field {position} ")
                    + "holds a nested object or list; expected a flat record",
                    path=path,
                    row=index + 1,
                    column=str(key) if safe else None,
                )
            cells = columns.get(key)
            if cells is None:
                cells = columns[key] = [None] * index
            cells.append(_json_text(value))
        for cells in columns.values():
            if len(cells) <= index:
                cells.append(None)
    names = _headers(list(columns), list(columns), path)
    frame = pl.DataFrame(
        {names[key]: cells for key, cells in columns.items()},
        schema={names[key]: pl.String for key in columns},
    )
    numbers = (
        pl.Series(ROW_NUMBER, row_numbers, dtype=pl.Int64)
        if row_numbers is not None
        else pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW_NUMBER)
    )
    return frame.select(numbers, pl.all())


def _grants_to_rows(contract: Contract, grants: Any, path: Path) -> list[dict[str, Any]]:
    """Each grant's contract fields as a flat row. Every other field (a description, further
    items of lists, nested objects, and every key) is screened first with ``screen_texts``:
    the row mapping drops them, so nothing else would. A 360Giving publication is open data
    about organisations (``Contract.published_openly``): the fields are screened for NHS
    numbers and dates of birth (``screen_texts`` role "public"); organisations' addresses
    (``ingest.contracts.giving360.is_organisation_detail``) are dropped unscreened, and
    nothing of them is kept. A grant to an individual refuses the file (its field is kept in
    the row for the header screen)."""
    from ingest.contracts.giving360 import grant_to_row, is_contract_leaf, is_organisation_detail
    from ingest.identifiable import IdentifiableDataError, merge_findings, screen_texts

    if contract.name != "provider_funding":
        raise InputError(
            f"a 360Giving grants package was given for {contract.name}; only "
            "provider_funding is published as 360Giving",
            path=path,
        )
    if not isinstance(grants, list):
        raise InputError('"grants" must be a list of grants', path=path)
    from ingest.giving import is_reference_numbers

    rows = []
    others: dict[tuple, list[str]] = {}  # by field (list indexes left out)
    where = "360Giving fields outside the contract"
    for index, grant in enumerate(grants):
        if not isinstance(grant, dict):
            raise InputError("a grant must be a JSON object", path=path, row=index + 1)
        for keys, leaf in _leaves(grant, path, index + 1, depth=2):
            if is_contract_leaf(keys):
                continue  # a contract field: screened with its column
            if is_organisation_detail(keys):
                continue  # an organisation's address: public, dropped here and never kept
            field = tuple(key for key in keys if not isinstance(key, int))
            if isinstance(leaf, str):
                others.setdefault(field, []).append(leaf)
            elif isinstance(leaf, (int, float)) and not isinstance(leaf, bool):
                others.setdefault(field, []).append(_json_text(leaf) or "")
        row = grant_to_row(grant)
        # Grants to individuals name a person: keep the field visible to the privacy screen.
        if grant.get("recipientIndividual"):
            row["recipientIndividual"] = json.dumps(grant["recipientIndividual"])
        rows.append(row)
    texts: list[str] = []
    references: list[str] = []
    for values in others.values():
        (references if is_reference_numbers(pl.Series(values)) else texts).extend(values)
    findings = screen_texts(texts, where, role="public")
    findings += screen_texts(references, "the funder's reference numbers", role="reference")
    if findings:
        raise IdentifiableDataError(merge_findings(findings), path=path)
    return rows


# --- Parquet ---------------------------------------------------------------------------------


def _check_parquet_text(frame: pl.DataFrame, path: Path) -> None:
    """Refuse text past the limits before anything copies it: a dictionary-encoded value is
    stored once however many rows repeat it, so its size on disk says nothing (measured per
    distinct value for a categorical column, per row for a text column)."""
    total = 0
    for position, (name, dtype) in enumerate(frame.schema.items(), start=1):
        if dtype == pl.String:
            lengths = frame.get_column(name).str.len_bytes().cast(pl.Int64)
            longest, size = lengths.max(), lengths.sum()
        elif isinstance(dtype, (pl.Categorical, pl.Enum)):
            counts = frame.get_column(name).value_counts(name="__n")
            lengths = counts.get_column(name).cast(pl.String).str.len_bytes().cast(pl.Int64)
            longest, size = lengths.max(), (lengths * counts.get_column("__n")).sum()
        else:
            continue
        if longest is not None and longest > limits.MAX_FIELD_BYTES:  # type: ignore[operator]
            raise limits.refuse(
                path,
                f"column {position} holds a value longer than one value may be",
                limits.MAX_FIELD_BYTES,
            )
        total += int(size or 0)  # type: ignore[arg-type]
    if total > limits.MAX_PARQUET_BYTES:
        raise limits.refuse(
            path, f"its text values come to {limits.size_of(total)}", limits.MAX_PARQUET_BYTES
        )


def _read_parquet(path: Path) -> pl.DataFrame:
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(4)
        handle.seek(max(0, size - 4))
        tail = handle.read(4)
    if head != b"PAR1":
        kind = _looks_like(head)
        raise InputError(
            "not a Parquet file" + (f": it looks like {kind}" if kind else ""), path=path
        )
    if tail != b"PAR1" or size < 12:
        raise InputError("not a readable Parquet file: it is truncated", path=path)
    limits.check_parquet(path)
    try:
        frame = pl.read_parquet(path)
    except Exception:  # polars and arrow raise several error types for damaged files
        raise InputError("not a readable Parquet file: it is corrupt", path=path) from None
    _check_parquet_text(frame, path)
    texts = []
    for position, (name, dtype) in enumerate(frame.schema.items(), start=1):
        if dtype.is_nested() or dtype == pl.Binary or dtype == pl.Object:
            label = header_label(name, position)
            raise InputError(f"{label} holds {dtype}, not plain values", path=path)
        texts.append(pl.col(name).cast(pl.String))
    frame = frame.select(texts)
    names = _headers(frame.columns, frame.columns, path)
    return frame.rename(names).select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW_NUMBER), pl.all()
    )
