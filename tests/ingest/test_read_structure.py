"""Everything that is kept was screened: every part of a workbook a person can type into, every
field of a 360Giving grant; what the archive keeps of a file it cannot screen whole; and reader
messages that never repeat a value."""

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter

from ingest.archive import SCREENED_SUFFIX, file_label
from ingest.contracts.giving360 import row_to_grant
from ingest.contracts.sources import ACTIVITY_SESSIONS, LINK_WORKER_CAPACITY, PROVIDER_FUNDING
from ingest.errors import InputError
from ingest.identifiable import IdentifiableDataError
from ingest.load import load_file
from ingest.read import read_raw
from tests.ingest.test_read import FUNDING_ROW

NHS = "943 476 5919"  # a valid NHS number
SECRETS = (NHS, "9434765919", "SW1A 1AA", "Mrs Smith", "Smith")
CAPACITY = ["pcn_code", "month_start_date", "link_worker_fte", "open_caseload"]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "warehouse.duckdb"


def assert_refused_and_nothing_kept(contract, path: Path, where: str) -> str:
    db = warehouse(path.parent)
    with pytest.raises(IdentifiableDataError) as caught:
        load_file(contract, path, db)
    message = str(caught.value)
    assert str(path) in message and where in message, message
    assert not any(secret in message for secret in SECRETS), message
    assert not (path.parent / "archive").exists()
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute(f"select count(*) from raw.{contract.name}").fetchone() == (0,)
        (stored,) = con.execute("select message from audit.loads").fetchone()  # type: ignore[misc]
    finally:
        con.close()
    assert not any(secret in stored for secret in SECRETS)
    return message


# --- workbooks -------------------------------------------------------------------------------


def capacity_book(path: Path, extra: Callable | None = None) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Capacity")
    start = 0
    if extra is not None:
        start = extra(book, sheet) or 0
    sheet.write_row(start, 0, CAPACITY)
    sheet.write_row(start + 1, 0, ["U12345", "2024-01-01", 1.5, 30])
    book.close()
    return path


def hidden_sheet(book, _sheet) -> None:
    other = book.add_worksheet("Lookup")
    other.write_number(0, 0, 9434765919)  # a number, not a shared string
    other.hide()


def title_row(_book, sheet) -> int:
    sheet.write(0, 0, "Capacity return for SW1A 1AA")
    return 2


def with_part(path: Path, name: str, body: str) -> Path:
    """Add or replace one part of a written workbook."""
    data = {}
    with zipfile.ZipFile(path) as source:
        data = {info.filename: source.read(info.filename) for info in source.infolist()}
    data[name] = body.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for member, content in data.items():
            target.writestr(member, content)
    return path


def unused_shared_string(path: Path) -> Path:
    with zipfile.ZipFile(path) as source:
        strings = source.read("xl/sharedStrings.xml").decode()
    strings = strings.replace("</sst>", f"<si><t>{NHS}</t></si></sst>")
    return with_part(path, "xl/sharedStrings.xml", strings)


WORKBOOK_CASES: dict[str, tuple[Callable | None, Callable | None, str]] = {
    # case: (extra when writing, part added after, where the message says it was)
    "hidden sheet": (hidden_sheet, None, "sheet 2"),
    "title row above the header": (title_row, None, "sheet 1, the rows above the header"),
    "cell comment": (lambda b, s: s.write_comment("A1", "Spoke to Mrs Smith"), None, "comments"),
    "document title": (lambda b, s: b.set_properties({"title": NHS}), None, "document properties"),
    "custom property": (
        lambda b, s: b.set_custom_property("Checked", "SW1A 1AA"),
        None,
        "document properties",
    ),
    "page header": (lambda b, s: s.set_header(f"&C{NHS}"), None, "sheet 1"),
    "defined name": (lambda b, s: b.define_name("Who", f'="{NHS}"'), None, "defined names"),
    "sheet name": (lambda b, s: b.add_worksheet(NHS) and 0, None, "sheet and defined names"),
    "formula text": (lambda b, s: s.write_formula("F9", '="Mrs Smith"', None, 0), None, "sheet 1"),
    "validation prompt": (
        lambda b, s: s.data_validation(
            "G2", {"validate": "any", "input_title": "x", "input_message": "SW1A 1AA"}
        ),
        None,
        "sheet 1",
    ),
    "shared string no cell uses": (None, unused_shared_string, "shared strings"),
    "threaded comment": (
        None,
        lambda p: with_part(
            p,
            "xl/threadedComments/threadedComment1.xml",
            f'<ThreadedComments><threadedComment ref="A1"><text>{NHS}</text>'
            "</threadedComment></ThreadedComments>",
        ),
        "comments",
    ),
    "pivot cache": (
        None,
        lambda p: with_part(
            p,
            "xl/pivotCache/pivotCacheRecords1.xml",
            f'<pivotCacheRecords xmlns="{MAIN}"><r><s v="{NHS}"/></r></pivotCacheRecords>',
        ),
        "pivot tables",
    ),
    "chart cache": (
        None,
        lambda p: with_part(
            p,
            "xl/charts/chart1.xml",
            "<c:chartSpace xmlns:c='c'><c:v>Mrs Smith</c:v></c:chartSpace>",
        ),
        "charts",
    ),
}


@pytest.mark.parametrize("case", list(WORKBOOK_CASES))
def test_every_part_of_a_workbook_is_screened(case: str, tmp_path: Path) -> None:
    extra, after, where = WORKBOOK_CASES[case]
    path = capacity_book(tmp_path / "capacity.xlsx", extra)
    if after is not None:
        after(path)
    assert_refused_and_nothing_kept(LINK_WORKER_CAPACITY, path, where)


def test_two_sheets_of_one_name_are_refused(tmp_path: Path) -> None:
    """The reader picks a sheet by name: with two of one name, the limits and the screen
    could look at the other one."""
    path = capacity_book(tmp_path / "capacity.xlsx", lambda b, s: b.add_worksheet("Other") and 0)
    with zipfile.ZipFile(path) as source:
        workbook = source.read("xl/workbook.xml").decode().replace('"Other"', '"CAPACITY"')
    with_part(path, "xl/workbook.xml", workbook)
    with pytest.raises(InputError, match="two sheets have the same name"):
        read_raw(LINK_WORKER_CAPACITY, path)


def test_a_clean_workbook_is_archived_as_its_screened_table(tmp_path: Path) -> None:
    def authored(book, sheet) -> None:  # the sender's staff are named, not the people in it
        book.set_properties({"author": "Jo Bloggs", "title": "PCN capacity"})
        sheet.write_comment("A1", "Checked against the March return", {"author": "Jo Bloggs"})
        book.add_worksheet("Notes").write(0, 0, "Figures are full-time equivalents")

    path = capacity_book(tmp_path / "capacity.xlsx", authored)
    db = warehouse(tmp_path)
    result = load_file(LINK_WORKER_CAPACITY, path, db)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.rows_loaded == 1 and result.file_sha256 == sha
    kept = [p for p in (tmp_path / "archive").rglob("*") if p.is_file()]
    assert kept == [
        tmp_path
        / "archive"
        / "link_worker_capacity"
        / sha
        / (file_label("link_worker_capacity", sha, path) + SCREENED_SUFFIX)
    ]
    assert result.archive_path == kept[0]
    table = pl.read_parquet(kept[0])
    assert table.equals(read_raw(LINK_WORKER_CAPACITY, path))
    assert b"Jo Bloggs" not in kept[0].read_bytes()
    # loading the same bytes again is a no-op that still finds the archived table
    assert load_file(LINK_WORKER_CAPACITY, path, db).archive_path == kept[0]


def test_parquet_is_archived_as_its_screened_table(tmp_path: Path) -> None:
    path = tmp_path / "sessions.parquet"
    pl.DataFrame(
        {
            "activity_id": ["A00001"],
            "session_date": ["2024-02-01"],
            "places_available": [10],
            "attendees": [8],
            "referred_attendees": [3],
        }
    ).write_parquet(path)
    result = load_file(ACTIVITY_SESSIONS, path, warehouse(tmp_path))
    assert result.archive_path is not None and result.archive_path.name.endswith(SCREENED_SUFFIX)
    assert pl.read_parquet(result.archive_path)["activity_id"].to_list() == ["A00001"]


# --- 360Giving -------------------------------------------------------------------------------

# a grant every check passes (funding_org_id a valid org-id)
GRANT_ROW = FUNDING_ROW | {"funding_org_id": "GB-LAE-ABC"}


def grant(**changes) -> dict:
    base = row_to_grant(GRANT_ROW)
    for key, value in changes.items():
        base[key] = value
    return base


def with_org_postcode() -> dict:
    base = grant()
    base["recipientOrganization"][0]["postalCode"] = "SW1A 1AA"
    return base


def with_second_location() -> dict:
    base = grant()
    base["beneficiaryLocation"].append({"name": "Mrs Smith's house", "geoCode": "E02000002"})
    return base


GRANT_CASES: dict[str, Callable[[], dict]] = {
    "description": lambda: grant(description=f"Support for patient {NHS}"),
    "second list item": with_second_location,
    "nested object": lambda: grant(extra={"contact": {"notes": [f"ref {NHS}"]}}),
    "a key": lambda: grant(**{NHS: "x"}),
    "a number": lambda: grant(reference=9434765919),
}


@pytest.mark.parametrize("case", list(GRANT_CASES))
def test_every_field_of_a_grant_is_screened(case: str, tmp_path: Path) -> None:
    path = tmp_path / "funding.json"
    path.write_text(json.dumps({"grants": [grant(), GRANT_CASES[case]()]}))
    where = "descriptions" if case == "description" else "360Giving fields outside the contract"
    assert_refused_and_nothing_kept(PROVIDER_FUNDING, path, where)


def test_an_organisations_postcode_is_read_past_and_not_kept(tmp_path: Path) -> None:
    """An organisation's address is a public fact about it: the file loads, and the archive
    keeps the screened table (the contract's fields), not the bytes that held the address."""
    path = tmp_path / "funding.json"
    second = with_org_postcode() | {"id": "360G-icb-0002"}
    path.write_text(json.dumps({"grants": [grant(), second]}))
    result = load_file(PROVIDER_FUNDING, path, warehouse(tmp_path))
    assert result.rows_loaded == 2, result.quarantine_lines()
    kept = result.archive_path
    assert kept is not None and kept.name.endswith(".screened.parquet")
    table = pl.read_parquet(kept)
    assert "grant_id" in table.columns and not any("postal" in name for name in table.columns)
    assert table.height == 2


# --- messages never repeat a value -----------------------------------------------------------


def read_typed(contract, path: Path, **kwargs) -> str:
    from ingest.read import read_source

    with pytest.raises(InputError) as caught:
        read_source(contract, path, **kwargs)
    return str(caught.value)


def test_a_file_sent_without_its_header_row_is_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    path.write_text("Mrs Smith,SW1A 1AA,2024-01-01,3,1\nMr Jones,N1 9GU,2024-01-02,4,1\n")
    message = read_typed(ACTIVITY_SESSIONS, path)
    assert "missing required columns" in message
    assert "column 1" in message and "Smith" not in message and "SW1A" not in message


def test_duplicate_and_strict_headers_are_named_by_position(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    header = "activity_id,session_date,places_available,attendees,referred_attendees"
    path.write_text(f"{header},Mrs Smith,Mrs Smith\nA00001,2024-01-01,1,1,1,x,y\n")
    message = read_typed(ACTIVITY_SESSIONS, path)
    assert "duplicate header (columns 6 and 7)" in message and "Smith" not in message
    path.write_text(f"{header},{NHS}\nA00001,2024-01-01,1,1,1,x\n")
    message = read_typed(ACTIVITY_SESSIONS, path, strict=True)
    assert "column 6" in message and NHS not in message


def test_sheet_names_and_json_keys_are_not_echoed(tmp_path: Path) -> None:
    path = capacity_book(tmp_path / "capacity.xlsx")
    message = read_typed(LINK_WORKER_CAPACITY, path, sheet="Nope")
    assert "no sheet 'Nope' (it has 1)" in message and "Capacity" not in message

    repeated = tmp_path / "sessions.json"
    repeated.write_text(json.dumps([{"activity_id": "A1"}])[:-1] + f', {{"{NHS}": 1, "{NHS}": 2}}]')
    message = read_typed(ACTIVITY_SESSIONS, repeated)
    assert "repeats a key (in record 2)" in message and NHS not in message

    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps([{"activity_id": "A1", NHS: {"a": 1}}]))
    message = read_typed(ACTIVITY_SESSIONS, nested)
    assert "field 2 holds a nested object" in message and NHS not in message

    broken = tmp_path / "broken.json"
    broken.write_text(f'[{{"activity_id": "{NHS}" "x"}}]')
    message = read_typed(ACTIVITY_SESSIONS, broken)
    assert "line 1 column" in message and NHS not in message


def test_an_odd_file_extension_is_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "Smith.1944-06-17"
    path.write_text("x")
    message = read_typed(ACTIVITY_SESSIONS, path)
    assert "unsupported file type (not shown)" in message
    assert "1944-06-17" not in message.replace(str(path), "")


# --- columns outside the contract ------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "value", "where"),
    [
        ("notes", "Spoke to Mrs Smith", "column 'notes'"),
        ("Mrs Smith", "x", "column 6: the header holds a name"),
        ("contact", "12 Acacia Avenue", "column 'contact'"),
    ],
)
@pytest.mark.parametrize("batched", [False, True])
def test_every_cell_outside_the_contract_is_screened(
    header: str, value: str, where: str, batched: bool, tmp_path: Path
) -> None:
    """The archive keeps a CSV byte for byte: its columns outside the contract (dropped from
    the warehouse) get every value check, free-text ones included, whole or in batches."""
    path = tmp_path / "sessions.csv"
    sessions = "activity_id,session_date,places_available,attendees,referred_attendees"
    rows = "".join(f"A{i:05d},2024-01-01,1,1,1,ok\n" for i in range(2000))
    path.write_text(f"{sessions},{header}\n{rows}A99999,2024-01-01,1,1,1,{value}\n")
    db = warehouse(tmp_path)
    with pytest.raises(IdentifiableDataError) as caught:
        load_file(ACTIVITY_SESSIONS, path, db, batch_bytes=8 * 1024 if batched else None)
    message = str(caught.value)
    assert where in message and not any(secret in message for secret in SECRETS), message
    assert "Acacia" not in message
    assert not (tmp_path / "archive").exists()
