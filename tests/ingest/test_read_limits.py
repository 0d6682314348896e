"""Limits before parsing: hostile files (zip bombs, a sheet of ten million rows, a CSV with no
line breaks, deep JSON...) are refused with a message naming the file and the limit, without a
value, nothing of them is kept, and memory stays under 2 GB while they are refused."""

import json
import os
import resource
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter

from ingest import limits
from ingest.contracts.sources import ACTIVITY_SESSIONS, LINK_WORKER_CAPACITY, PROVIDER_FUNDING
from ingest.errors import InputError
from ingest.load import load_file
from ingest.read import read_raw

ROOT = Path(__file__).resolve().parents[2]
SECRET = "943 476 5919"  # a valid NHS number: must never appear in a message
SESSIONS = "activity_id,session_date,places_available,attendees,referred_attendees\n"
CAPACITY = ["pcn_code", "month_start_date", "link_worker_fte", "open_caseload"]


# --- hostile files ---------------------------------------------------------------------------


def workbook(path: Path) -> Path:
    """A small valid capacity workbook, the base the zip attacks start from."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Capacity")
    sheet.write_row(0, 0, CAPACITY)
    sheet.write_row(1, 0, ["U12345", "2024-01-01", 1.5, 30])
    book.close()
    return path


def with_parts(path: Path, parts: dict[str, bytes | Callable], level: int = 1) -> Path:
    """Rewrite the workbook with these parts replaced or added (a callable writes a streamed
    part into an open zip member)."""
    base = path.with_suffix(".base")
    workbook(base)
    with (
        zipfile.ZipFile(base) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as target,
    ):
        for info in source.infolist():
            if info.filename not in parts:
                target.writestr(info.filename, source.read(info.filename))
        for name, content in parts.items():
            if callable(content):
                with target.open(name, "w") as member:
                    content(member)
            else:
                target.writestr(name, content)
    base.unlink()
    return path


def shared_strings_bomb(tmp_path: Path) -> Path:
    # one cell of 300 MiB of one letter: a few hundred KiB compressed
    def write(member) -> None:
        member.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
        member.write(b"<si><t>")
        block = b"A" * limits.MIB
        for _ in range(300):
            member.write(block)
        member.write(b"</t></si></sst>")

    return with_parts(tmp_path / "bomb.xlsx", {"xl/sharedStrings.xml": write}, level=9)


def styles_bomb(tmp_path: Path) -> Path:
    # a styles part of 100 MiB of empty formats (the reader holds every one)
    def write(member) -> None:
        member.write(b'<styleSheet><cellXfs count="1">')
        block = b"<xf/>" * (limits.MIB // 5)
        for _ in range(100):
            member.write(block)
        member.write(b"</cellXfs></styleSheet>")

    return with_parts(tmp_path / "styles.xlsx", {"xl/styles.xml": write})


def ratio_bomb(tmp_path: Path) -> Path:
    # 8 MiB that compress more than 200 to 1, under every size limit
    part = b"<x>" + b"\x20" * (8 * limits.MIB) + b"</x>"
    return with_parts(tmp_path / "ratio.xlsx", {"docProps/custom.xml": part}, level=9)


def ten_million_rows(tmp_path: Path) -> Path:
    # the sheet that is read: over ten million rows written as raw XML, streamed into the zip
    def write(member) -> None:
        member.write(
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b"<sheetData>"
        )
        block = b"<row><c><v>1</v></c></row>" * 100_000
        for _ in range(limits.MAX_XLSX_CELLS // 100_000 + 1):
            member.write(block)
        member.write(b"</sheetData></worksheet>")

    return with_parts(tmp_path / "rows.xlsx", {"xl/worksheets/sheet1.xml": write})


def lying_sizes(tmp_path: Path) -> Path:
    """A workbook whose shared strings declare 200 bytes but inflate to 50 MiB (the directory
    and local header are patched after writing)."""
    path = with_parts(tmp_path / "lies.xlsx", {})
    data = bytearray(path.read_bytes())
    body = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
    body += b"B" * (50 * limits.MIB) + b"</t></si></sst>"
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(body) + compressor.flush()
    declared = 200
    name = b"xl/sharedStrings.xml"
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, zlib.crc32(body[:declared]), len(deflated),
        declared, len(name), 0,
    ) + name  # fmt: skip
    with zipfile.ZipFile(path) as archive:
        directory_start = archive.start_dir
    head, directory = bytes(data[:directory_start]), bytes(data[directory_start:])
    offset = len(head)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, zlib.crc32(body[:declared]),
        len(deflated), declared, len(name), 0, 0, 0, 0, 0, offset,
    ) + name  # fmt: skip
    end = directory.rfind(b"PK\x05\x06")
    entries = struct.unpack("<H", directory[end + 10 : end + 12])[0] + 1
    cd = directory[:end] + central
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, len(cd),
                       offset + len(local) + len(deflated), 0)  # fmt: skip
    path.write_bytes(head + local + deflated + cd + eocd)
    return path


def many_parts(tmp_path: Path) -> Path:
    parts: dict[str, bytes | Callable] = {
        f"xl/media/image{i}.png": b"" for i in range(limits.MAX_XLSX_MEMBERS + 1)
    }
    return with_parts(tmp_path / "parts.xlsx", parts)


def dtd_part(tmp_path: Path) -> Path:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<cp:coreProperties><title>&lol2;</title></cp:coreProperties>"
    )
    return with_parts(tmp_path / "dtd.xlsx", {"docProps/core.xml": laughs})


def one_line_csv(tmp_path: Path) -> Path:
    path = tmp_path / "line.csv"
    path.write_bytes(SESSIONS.encode() + b"A00001," * (50 * limits.MIB // 7))
    return path


def wide_csv(tmp_path: Path) -> Path:
    path = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(limits.MAX_COLUMNS + 1))
    path.write_text(header + "\n" + "," * limits.MAX_COLUMNS + "\n")
    return path


def long_value_csv(tmp_path: Path) -> Path:
    # one quoted value of 200 KiB over many short lines: no line is too long, the value is
    path = tmp_path / "value.csv"
    value = ("x" * 60 + "\n") * (200 * 1024 // 61)
    path.write_text(SESSIONS + f'"{value}",2024-01-01,1,1,1\n')
    return path


def huge_json(tmp_path: Path) -> Path:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.write(b"[")
        handle.write(b" " * (limits.MAX_JSON_BYTES + 1))
        handle.write(b"]")
    return path


def tiny_records_json(tmp_path: Path) -> Path:
    # small for its size limit, but millions of objects: parsed, many times its size
    path = tmp_path / "tiny.json"
    path.write_text("[" + ",".join(['{"a":1}'] * (limits.MAX_JSON_OBJECTS + 1)) + "]")
    return path


def deep_json(tmp_path: Path) -> Path:
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    return path


def deep_grant(tmp_path: Path) -> Path:
    nested: object = SECRET
    for _ in range(limits.MAX_JSON_DEPTH + 2):
        nested = {"more": nested}
    path = tmp_path / "grants.json"
    path.write_text(json.dumps({"grants": [{"id": "360G-1", "extra": nested}]}))
    return path


def wide_parquet(tmp_path: Path) -> Path:
    path = tmp_path / "wide.parquet"
    pl.DataFrame({f"c{i}": [1] for i in range(limits.MAX_PARQUET_COLUMNS + 1)}).write_parquet(path)
    return path


def parquet_dictionary_bomb(tmp_path: Path) -> Path:
    # a 100 KiB value stored once and repeated on 100,000 rows: 10 GB once copied out
    import pyarrow as pa
    import pyarrow.parquet as pq

    indices = pa.array([0] * 100_000, type=pa.int32())
    column = pa.DictionaryArray.from_arrays(indices, pa.array(["x" * (100 * 1024)]))
    path = tmp_path / "dictionary.parquet"
    pq.write_table(pa.table({"activity_id": column}), path)
    return path


def parquet_long_value(tmp_path: Path) -> Path:
    path = tmp_path / "value.parquet"
    pl.DataFrame({"activity_id": ["x" * (200 * 1024)]}).write_parquet(path)
    return path


def long_parquet(tmp_path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "long.parquet"
    zeros = pa.array(bytes(limits.MAX_PARQUET_CELLS // 2 + 1), type=pa.uint8())
    pq.write_table(pa.table({"a": zeros, "b": zeros}), path, row_group_size=1 << 24)
    return path


def shared_string_in_every_cell(tmp_path: Path) -> Path:
    """A 30,000-character shared string shown by 10,000 cells: small on disk, 300 million
    characters once the reader copies it into every cell."""
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'

    def strings(member) -> None:
        member.write(b"<sst " + ns + b"><si><t>" + b"y" * 30_000 + b"</t></si></sst>")

    def sheet(member) -> None:
        member.write(b"<worksheet " + ns + b"><sheetData>")
        member.write(b'<row><c t="s"><v>0</v></c></row>' * 10_000)
        member.write(b"</sheetData></worksheet>")

    parts = {"xl/sharedStrings.xml": strings, "xl/worksheets/sheet1.xml": sheet}
    return with_parts(tmp_path / "repeated.xlsx", parts)


def shared_strings_renamed(tmp_path: Path) -> Path:
    """The same, with the shared strings under another name that the workbook's relationships
    point to (the reader follows them)."""
    path = shared_string_in_every_cell(tmp_path)
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info.filename) for info in source.infolist()}
    parts["xl/strings.xml"] = parts.pop("xl/sharedStrings.xml")
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = parts[rels].replace(b'Target="sharedStrings.xml"', b'Target="strings.xml"')
    assert b"strings.xml" in parts[rels]
    renamed = tmp_path / "renamed.xlsx"
    with zipfile.ZipFile(renamed, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return renamed


# (builder, contract, a fragment of the refusal naming the limit)
HOSTILE: dict[str, tuple[Callable[[Path], Path], object, str]] = {
    "xlsx shared strings bomb": (shared_strings_bomb, LINK_WORKER_CAPACITY, "the limit is"),
    "xlsx compression ratio": (ratio_bomb, LINK_WORKER_CAPACITY, "compresses"),
    "xlsx styles part too large": (styles_bomb, LINK_WORKER_CAPACITY, "the limit is 64 MiB"),
    "xlsx ten million rows": (ten_million_rows, LINK_WORKER_CAPACITY, "cells"),
    "xlsx declared sizes lie": (lying_sizes, LINK_WORKER_CAPACITY, "declared sizes are false"),
    "xlsx too many parts": (many_parts, LINK_WORKER_CAPACITY, "parts"),
    "xlsx DTD": (dtd_part, LINK_WORKER_CAPACITY, "DTD"),
    "xlsx one string in every cell": (
        shared_string_in_every_cell,
        LINK_WORKER_CAPACITY,
        "more text than a sheet may",
    ),
    "xlsx shared strings renamed": (
        shared_strings_renamed,
        LINK_WORKER_CAPACITY,
        "more text than a sheet may",
    ),
    "csv one 50 MB line": (one_line_csv, ACTIVITY_SESSIONS, "line 2 is longer"),
    "csv too many columns": (wide_csv, ACTIVITY_SESSIONS, "columns"),
    "csv value too long": (long_value_csv, ACTIVITY_SESSIONS, "value longer"),
    "json too large": (huge_json, ACTIVITY_SESSIONS, "64 MiB"),
    "json millions of records": (tiny_records_json, ACTIVITY_SESSIONS, "objects"),
    "json nested too deeply": (deep_json, ACTIVITY_SESSIONS, "nested deeper"),
    "360giving nested too deeply": (deep_grant, PROVIDER_FUNDING, "16 levels"),
    "parquet too many columns": (wide_parquet, ACTIVITY_SESSIONS, "columns"),
    "parquet dictionary bomb": (parquet_dictionary_bomb, ACTIVITY_SESSIONS, "text values"),
    "parquet value too long": (parquet_long_value, ACTIVITY_SESSIONS, "value longer"),
    "parquet too many cells": (long_parquet, ACTIVITY_SESSIONS, "cells"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_file_is_refused_naming_the_limit_and_nothing_is_kept(
    case: str, tmp_path: Path
) -> None:
    build, contract, fragment = HOSTILE[case]
    path = build(tmp_path)
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    with pytest.raises(InputError) as caught:
        load_file(contract, path, db)
    message = str(caught.value)
    assert str(path) in message and fragment in message, message
    assert "Traceback" not in message
    for value in (SECRET, "9434765919", "AAAA", "BBBB", "lol"):
        assert value not in message
    assert not (tmp_path / "archive").exists()
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute(f"select count(*) from raw.{contract.name}").fetchone() == (0,)
        status = con.execute("select status, message from audit.loads").fetchall()
    finally:
        con.close()
    assert [row[0] for row in status] == ["refused"]
    assert fragment in status[0][1]


def test_hostile_files_are_refused_in_bounded_memory(tmp_path: Path) -> None:
    """Every hostile file read in one child process, under an address-space cap, whose peak
    resident memory must stay under 2 GiB."""
    paths = {case: str(build(tmp_path)) for case, (build, _, _) in HOSTILE.items()}
    contracts = {case: contract.name for case, (_, contract, _) in HOSTILE.items()}
    script = (
        "import json, resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({6 << 30}, {6 << 30}))\n"
        "from ingest.contracts import get_contract\n"
        "from ingest.errors import InputError\n"
        "from ingest.read import read_raw\n"
        "cases = json.loads(sys.argv[1]); contracts = json.loads(sys.argv[2]); out = {}\n"
        "for case, path in cases.items():\n"
        "    try:\n"
        "        read_raw(get_contract(contracts[case]), path)\n"
        "        out[case] = 'read'\n"
        "    except InputError as error:\n"
        "        out[case] = error.reason\n"
        "out['peak_kib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(paths), json.dumps(contracts)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    for case, (_, _, fragment) in HOSTILE.items():
        assert fragment in result[case], (case, result[case])
    assert result["peak_kib"] < 2 * 1024 * 1024, result["peak_kib"]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 2 * 1024 * 1024


def test_a_real_sized_workbook_is_within_the_limits(tmp_path: Path) -> None:
    """The bounds admit a 100,000-row workbook (the size of an ICB's referrals return)."""
    path = tmp_path / "capacity.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Capacity")
    sheet.write_row(0, 0, CAPACITY)
    for row in range(1, 100_001):
        sheet.write_row(row, 0, [f"U{row:05d}", "2024-01-01", 1.5, row % 400])
    book.close()
    raw = read_raw(LINK_WORKER_CAPACITY, path)
    assert raw.height == 100_000


def test_csv_limits_hold_in_the_batched_reader(tmp_path: Path, monkeypatch) -> None:
    """The batched reader (large CSVs) refuses a value and a header past the limits too."""
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    rows = "".join(f"A{i:05d},2024-01-01,1,1,1\n" for i in range(3000))
    value = ("x" * 60 + "\n") * (200 * 1024 // 61)
    long_value = tmp_path / "batched.csv"
    long_value.write_text(SESSIONS + rows + f'"{value}",2024-01-01,1,1,1\n' + rows)
    with pytest.raises(InputError, match="value longer") as caught:
        load_file(ACTIVITY_SESSIONS, long_value, db, batch_bytes=64 * 1024)
    assert "row 3002" in str(caught.value)
    wide = tmp_path / "wide_batched.csv"
    header = ",".join(f"c{i}" for i in range(limits.MAX_COLUMNS + 1))
    wide.write_text(header + "\n" + rows)
    with pytest.raises(InputError, match="columns"):
        load_file(ACTIVITY_SESSIONS, wide, db, batch_bytes=16 * 1024)
    assert not (tmp_path / "archive").exists()
