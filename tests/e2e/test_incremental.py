"""The weekly build is incremental: after the e2e full build, one more week of data is loaded
(benchmarks.weekly: the months the week touches are re-sent and replace those loaded
before) and dbt rebuilds only those months of the large facts. The marts must come out the
same as a full rebuild of the same warehouse."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from benchmarks.weekly import WEEK, write_weekly_delivery
from ingest.load import load_directory
from orchestration.settings import DUCKDB_PATH_ENV
from tests.e2e.conftest import AS_OF

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
INCREMENTAL_FACTS = ("fct_referrals", "fct_onward_referrals", "fct_activity_sessions")


def _dbt_run(db: Path, work: Path, *extra: str) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "run",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        *extra,
    ]
    env = {**os.environ, DUCKDB_PATH_ENV: str(db)}
    return subprocess.Popen(
        command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


@pytest.fixture(scope="module")
def weekly(built: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The e2e warehouse plus one week, rebuilt incrementally and, in a copy, whole."""
    root = tmp_path_factory.mktemp("weekly")
    incremental_db = root / "incremental.duckdb"
    shutil.copy(built["db"], incremental_db)
    sources = built["generated"].files["referrals"].parent
    delivery = write_weekly_delivery(sources, root / "delivery", scale="tiny", seed=7, work=root)
    before = _rows(incremental_db, "select referral_id from marts.fct_referrals")
    loads = load_directory(root / "delivery", incremental_db, today=AS_OF + WEEK)
    full_db = root / "full.duckdb"
    shutil.copy(incremental_db, full_db)
    runs = {
        "incremental": (incremental_db, _dbt_run(incremental_db, root / "incremental")),
        "full": (full_db, _dbt_run(full_db, root / "full", "--full-refresh")),
    }
    outputs = {name: process.communicate(timeout=600)[0] for name, (_, process) in runs.items()}
    for name, (_, process) in runs.items():
        assert process.returncode == 0, outputs[name][-3000:]
    return {
        "incremental": incremental_db,
        "full": full_db,
        "delivery": delivery,
        "loads": loads,
        "before": before,
        "log": (root / "incremental" / "logs" / "dbt.log").read_text(errors="replace"),
    }


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_week_replaced_the_months_it_covers(weekly: dict) -> None:
    assert weekly["delivery"]["referrals"] > 0
    by_source = {load.source: load for load in weekly["loads"]}
    assert by_source["referrals"].rows_loaded > 0
    assert by_source["referrals"].rows_replaced > 0  # last week's rows for this month went


def test_the_facts_rebuilt_only_the_new_months(weekly: dict) -> None:
    first_new_month = (AS_OF + WEEK).replace(day=1).isoformat()
    for fact in INCREMENTAL_FACTS:
        assert f'"{fact}": rebuilding from {first_new_month}' in weekly["log"], fact


def test_incremental_marts_equal_a_full_rebuild(weekly: dict) -> None:
    tables = [
        name
        for (name,) in _rows(
            weekly["full"],
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_type = 'BASE TABLE' order by 1",
        )
    ]
    assert set(INCREMENTAL_FACTS) <= set(tables)
    with duckdb.connect() as con:
        con.execute(f"attach '{weekly['incremental']}' as incremental (read_only)")
        con.execute(f"attach '{weekly['full']}' as full_build (read_only)")
        for table in tables:
            counts = [
                con.execute(f"select count(*) from {db}.marts.{table}").fetchone()[0]
                for db in ("incremental", "full_build")
            ]
            assert counts[0] == counts[1], (table, counts)
            columns = ", ".join(
                # sums of doubles depend on the order rows are read in: equal to 6 decimals
                f"round({name}, 6)" if kind in ("DOUBLE", "FLOAT") else name
                for name, kind in con.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_catalog = 'full_build' and table_schema = 'marts' "
                    "and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
            )
            different = con.execute(
                f"select count(*) from ("
                f"(select {columns} from incremental.marts.{table} except all "
                f"select {columns} from full_build.marts.{table}) union all "
                f"(select {columns} from full_build.marts.{table} except all "
                f"select {columns} from incremental.marts.{table}))"
            ).fetchone()[0]
            assert different == 0, f"{table}: {different} rows differ"


def test_rows_of_replaced_months_are_gone(weekly: dict) -> None:
    now = {
        row[0]
        for row in _rows(weekly["incremental"], "select referral_id from marts.fct_referrals")
    }
    raw = {row[0] for row in _rows(weekly["incremental"], "select referral_id from raw.referrals")}
    gone = {row[0] for row in weekly["before"]} - raw
    assert gone, "the week replaced no referral"
    assert not gone & now
