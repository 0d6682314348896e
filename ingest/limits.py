"""Size limits checked before a file is parsed, so that memory stays bounded on any input.

Every limit is here, once; docs/contracts.md lists them (generated from ``LIMITS``). A file
past a limit is refused whole with an ``InputError`` naming the file and the limit, never with
a value from it. The bounds admit the largest files an ICB sends (a 100,000-row referrals
workbook, a year of referrals as CSV) with room to spare; a file past them is almost always a
mistake or an attack (a zip bomb, a CSV with no line breaks).

Workbooks are zip archives whose central directory declares each part's sizes: those are
checked before anything is decompressed, and every part read here is decompressed with a
byte cap (``member_chunks``), so a part whose declared size lies is refused too.
"""

import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ingest.errors import InputError

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30

# --- delimited text (CSV, TSV) ---
MAX_LINE_BYTES = 1 * MIB  # one physical line
MAX_FIELD_BYTES = 128 * KIB  # one value (Excel holds at most 32,767 characters in a cell)
MAX_COLUMNS = 2_000  # fields in the header
MAX_RECORD_BYTES = 4 * MIB  # one record, quoted line breaks included (read in batches)
MAX_WHOLE_CSV_BYTES = 64 * MIB  # a CSV that cannot be read in batches (not UTF-8...)
MAX_MALFORMED_CSV_BYTES = 32 * MIB  # a CSV that needs the careful reader (ragged rows...)

# --- JSON ---
MAX_JSON_BYTES = 64 * MIB  # parsed whole
MAX_JSON_DEPTH = 16  # objects and lists inside one another
MAX_JSON_OBJECTS = 2_000_000  # objects (records and what they nest), counted as "{" before parsing

# --- XLSX workbooks (zip archives) ---
MAX_XLSX_MEMBERS = 2_000  # parts in the archive
MAX_XLSX_TOTAL_BYTES = 1 * GIB  # all parts, uncompressed, as declared
MAX_XLSX_PART_BYTES = 400 * MIB  # one worksheet or binary part, uncompressed
MAX_XLSX_OTHER_XML_BYTES = 64 * MIB  # any other XML part (styles, comments...), uncompressed
MAX_XLSX_SHARED_STRINGS_BYTES = 128 * MIB  # the shared strings part (held whole when read)
MAX_XLSX_RATIO = 200  # uncompressed / compressed size of a part larger than 1 MiB
MAX_XLSX_CELLS = 10_000_000  # filled cells in the sheet that is read
MAX_XLSX_TEXT_CHARS = 32_767  # one text in a workbook part (Excel's own cell limit)
MAX_XLSX_TABLE_CHARS = 256 * MIB  # text of the sheet read, a shared string once per cell

# --- Parquet ---
MAX_PARQUET_FOOTER_BYTES = 16 * MIB
MAX_PARQUET_ROW_GROUPS = 10_000
MAX_PARQUET_COLUMNS = MAX_COLUMNS
MAX_PARQUET_BYTES = 512 * MIB  # all row groups, uncompressed, as the metadata declares
MAX_PARQUET_CELLS = 20_000_000  # rows times columns (read whole, every cell as text)

# --- downloads (community sources pulled over HTTP: ingest.pull) ---
MAX_DOWNLOAD_BYTES = 64 * MIB  # one response body (a 360Giving publication, one ORUK page)

_RATIO_FLOOR = 1 * MIB  # smaller parts may compress as well as they like


def _size(n: int) -> str:
    for unit, name in ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
        if n >= unit and n % unit == 0:
            return f"{n // unit} {name}"
    return f"{n:,} bytes"


# (format, what is limited, the bound): rendered into docs/contracts.md
LIMITS: tuple[tuple[str, str, str], ...] = (
    ("CSV", "one line", _size(MAX_LINE_BYTES)),
    ("CSV", "one value", _size(MAX_FIELD_BYTES)),
    ("CSV", "columns", f"{MAX_COLUMNS:,}"),
    ("CSV", "one record (quoted line breaks included)", _size(MAX_RECORD_BYTES)),
    ("CSV", "a file that cannot be read in batches (not UTF-8)", _size(MAX_WHOLE_CSV_BYTES)),
    ("CSV", "a file with ragged rows or stray quotes", _size(MAX_MALFORMED_CSV_BYTES)),
    ("JSON", "file size", _size(MAX_JSON_BYTES)),
    ("JSON", "nesting (objects and lists inside one another)", f"{MAX_JSON_DEPTH} levels"),
    ("JSON", "objects (records and the objects inside them)", f"{MAX_JSON_OBJECTS:,}"),
    ("XLSX", "parts in the zip archive", f"{MAX_XLSX_MEMBERS:,}"),
    ("XLSX", "all parts, uncompressed", _size(MAX_XLSX_TOTAL_BYTES)),
    ("XLSX", "one worksheet (or image...), uncompressed", _size(MAX_XLSX_PART_BYTES)),
    ("XLSX", "any other XML part (styles, comments...)", _size(MAX_XLSX_OTHER_XML_BYTES)),
    ("XLSX", "the shared strings part, uncompressed", _size(MAX_XLSX_SHARED_STRINGS_BYTES)),
    ("XLSX", "compression ratio of a part over 1 MiB", f"{MAX_XLSX_RATIO}:1"),
    ("XLSX", "filled cells in the sheet read", f"{MAX_XLSX_CELLS:,}"),
    ("XLSX", "one text (cell, comment, property)", f"{MAX_XLSX_TEXT_CHARS:,} characters"),
    (
        "XLSX",
        "text of the sheet read (a shared string counted in every cell showing it)",
        f"{MAX_XLSX_TABLE_CHARS:,} characters",
    ),
    ("Parquet", "row groups", f"{MAX_PARQUET_ROW_GROUPS:,}"),
    ("Parquet", "columns", f"{MAX_PARQUET_COLUMNS:,}"),
    ("Parquet", "all row groups, uncompressed", _size(MAX_PARQUET_BYTES)),
    ("Parquet", "cells (rows times columns)", f"{MAX_PARQUET_CELLS:,}"),
    ("Parquet", "one value", _size(MAX_FIELD_BYTES)),
    ("Download", "one response pulled from a community source", _size(MAX_DOWNLOAD_BYTES)),
)


def refuse(path: Path, what: str, limit: int | str) -> InputError:
    """The refusal of a file past a limit: what was too large, and the limit."""
    bound = _size(limit) if isinstance(limit, int) else limit
    return InputError(f"refused, over a size limit: {what} (the limit is {bound})", path=path)


# --- delimited text ------------------------------------------------------------------------


def check_lines(blocks: Iterable[bytes], path: Path, *, first_line: int = 1) -> None:
    """Refuse text with a physical line longer than ``MAX_LINE_BYTES`` (read block by block)."""
    carry = 0  # length of the line that runs on from the previous block
    line = first_line
    for block in blocks:
        pieces = block.split(b"\n")
        if len(pieces) == 1:
            carry += len(block)
        else:
            carry += len(pieces[0])
            if carry > MAX_LINE_BYTES:
                break
            longest = max(map(len, pieces[1:-1]), default=0)
            if longest > MAX_LINE_BYTES:
                line += next(i for i, p in enumerate(pieces[1:-1], 1) if len(p) > MAX_LINE_BYTES)
                carry = longest
                break
            line += len(pieces) - 1
            carry = len(pieces[-1])
        if carry > MAX_LINE_BYTES:
            break
    if carry > MAX_LINE_BYTES:
        raise refuse(path, f"line {line} is longer than one line may be", MAX_LINE_BYTES)


def file_blocks(path: Path, size: int = 4 * MIB) -> Iterator[bytes]:
    with Path(path).open("rb") as handle:
        yield from iter(lambda: handle.read(size), b"")


def memory_blocks(data: bytes, size: int = 4 * MIB) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield bytes(view[start : start + size])


def check_width(first_line: bytes, delimiter: str, path: Path) -> None:
    """Refuse a header with more than ``MAX_COLUMNS`` fields (counted before parsing; a quoted
    delimiter counts too, so the bound is generous)."""
    fields = first_line.count(delimiter.encode()) + 1
    if fields > MAX_COLUMNS:
        raise refuse(path, f"the header has {fields:,} columns", f"{MAX_COLUMNS:,} columns")


def first_line(data: bytes) -> bytes:
    end = data.find(b"\n")
    return data if end < 0 else data[:end]


# --- zip archives (workbooks) --------------------------------------------------------------

_EOCD = b"PK\x05\x06"


def check_zip_directory(path: Path) -> None:
    """Refuse a zip whose end record declares too many parts or a ZIP64 directory, before
    ``zipfile`` reads the directory (one object per part)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - (22 + 65_535)))
        tail = handle.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise InputError("not a readable XLSX file: it is truncated or corrupt", path=path)
    entries, directory_size, offset = struct.unpack("<HII", tail[at + 10 : at + 20])
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF or offset == 0xFFFFFFFF:
        raise refuse(path, "the workbook's zip archive is ZIP64 (over 4 GiB)", MAX_XLSX_TOTAL_BYTES)
    if entries > MAX_XLSX_MEMBERS or directory_size > MAX_XLSX_MEMBERS * 1024:
        raise refuse(path, f"the workbook holds {entries:,} parts", f"{MAX_XLSX_MEMBERS:,} parts")


def check_zip_members(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """The central directory's declared sizes against the workbook limits."""
    if len(infos) > MAX_XLSX_MEMBERS:
        raise refuse(
            path, f"the workbook holds {len(infos):,} parts", f"{MAX_XLSX_MEMBERS:,} parts"
        )
    total = sum(info.file_size for info in infos)
    if total > MAX_XLSX_TOTAL_BYTES:
        raise refuse(path, f"its parts uncompressed declare {size_of(total)}", MAX_XLSX_TOTAL_BYTES)
    for position, info in enumerate(infos, start=1):
        label = f"part {position} of the archive"
        cap = part_cap(info)
        if info.file_size > cap:
            raise refuse(path, f"{label} uncompressed is {size_of(info.file_size)}", cap)
        if info.file_size > _RATIO_FLOOR:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > MAX_XLSX_RATIO:
                raise refuse(
                    path, f"{label} compresses {ratio:,.0f} to 1", f"{MAX_XLSX_RATIO} to 1"
                )
        if info.flag_bits & 0x1:
            raise InputError("refused: the workbook is encrypted (password-protected)", path=path)


def part_cap(info: zipfile.ZipInfo) -> int:
    """The size limit of one part: the reader holds a styles or comments part whole, so XML
    parts other than worksheets get a smaller one."""
    name = info.filename.casefold()
    if name == "xl/sharedstrings.xml":
        return MAX_XLSX_SHARED_STRINGS_BYTES
    if name.startswith("xl/worksheets/") or not name.endswith((".xml", ".rels", ".vml")):
        return MAX_XLSX_PART_BYTES
    return MAX_XLSX_OTHER_XML_BYTES


def size_of(n: int) -> str:
    return f"{n / MIB:,.1f} MiB" if n < GIB else f"{n / GIB:,.1f} GiB"


class ZipLies(Exception):
    """A part decompresses to more (or less) than its declared size, or is damaged."""


def member_chunks(handle: BinaryIO, info: zipfile.ZipInfo, chunk: int = 1 * MIB) -> Iterator[bytes]:
    """The part's bytes, decompressed here with a cap: never more than its declared size
    (which ``check_zip_members`` bounded), whatever the compressed stream holds. Raises
    ``ZipLies`` when the stream and the directory disagree (size or CRC)."""
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise ZipLies("no local header")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    handle.seek(info.header_offset + 30 + name_length + extra_length)
    if info.compress_type == zipfile.ZIP_DEFLATED:
        inflate = zlib.decompressobj(-15)
    elif info.compress_type != zipfile.ZIP_STORED:
        raise ZipLies("a compression method Excel does not use")
    remaining, produced, crc = info.compress_size, 0, 0
    while remaining > 0:
        data = handle.read(min(remaining, chunk))
        if not data:
            raise ZipLies("truncated")
        remaining -= len(data)
        while data:
            if info.compress_type == zipfile.ZIP_DEFLATED:
                out = inflate.decompress(data, chunk)
                data = inflate.unconsumed_tail
            else:
                out, data = data, b""
            produced += len(out)
            if produced > info.file_size:
                raise ZipLies("larger than declared")
            crc = zlib.crc32(out, crc)
            if out:
                yield out
    if produced != info.file_size or crc != info.CRC:
        raise ZipLies("size or checksum differs from the directory")


# --- Parquet -------------------------------------------------------------------------------


def check_parquet(path: Path) -> None:
    """Refuse a Parquet file whose footer, row groups, columns or declared uncompressed size
    are out of bounds (read from the footer alone)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(size - 8)
        (footer,) = struct.unpack("<I", handle.read(4))
    if footer > min(MAX_PARQUET_FOOTER_BYTES, size - 12):
        raise refuse(path, "the Parquet footer is too large", MAX_PARQUET_FOOTER_BYTES)
    import pyarrow.parquet as pq

    try:
        metadata = pq.ParquetFile(path).metadata
    except Exception:  # arrow raises several error types for damaged footers
        raise InputError("not a readable Parquet file: it is corrupt", path=path) from None
    if metadata.num_columns > MAX_PARQUET_COLUMNS:
        raise refuse(
            path, f"it has {metadata.num_columns:,} columns", f"{MAX_PARQUET_COLUMNS:,} columns"
        )
    if metadata.num_row_groups > MAX_PARQUET_ROW_GROUPS:
        raise refuse(
            path,
            f"it has {metadata.num_row_groups:,} row groups",
            f"{MAX_PARQUET_ROW_GROUPS:,} row groups",
        )
    cells = metadata.num_rows * metadata.num_columns
    if cells > MAX_PARQUET_CELLS:
        raise refuse(path, f"it has {cells:,} cells", f"{MAX_PARQUET_CELLS:,} cells")
    total = 0
    for index in range(metadata.num_row_groups):
        group = metadata.row_group(index)
        total += max(group.total_byte_size, 0)
    if total > MAX_PARQUET_BYTES:
        raise refuse(path, f"its data uncompressed declares {size_of(total)}", MAX_PARQUET_BYTES)


_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")


def shown_suffix(suffix: str) -> str:
    """A file's extension as a message shows it: only a short plain one (a name is a value)."""
    return repr(suffix) if _SUFFIX.match(suffix) and not suffix[1:].isdigit() else "(not shown)"
