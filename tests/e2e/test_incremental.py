"""The weekly build is incremental: after the e2e full build, one more week of data is loaded
(benchmarks.weekly: the months the week touches are re-sent and replace those loaded
before) and dbt rebuilds only those months of the large facts. The marts must come out the
same as a full rebuild of the same warehouse."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from benchmarks.phases import DATA_BUILD
from benchmarks.weekly import WEEK, write_weekly_delivery
from ingest.load import load_directory
from orchestration.settings import DUCKDB_PATH_ENV
from tests.e2e.conftest import AS_OF

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
INCREMENTAL_FACTS = ("fct_referrals", "fct_onward_referrals", "fct_activity_sessions")
# period marts rebuilt from the first period the new week touches: their period column and
# its grain
INCREMENTAL_MARTS = {
    "fct_activity_pressure_weekly": ("week_start_date", "week"),
    "fct_neighbourhood_need_capacity_weekly": ("week_start_date", "week"),
    "fct_neighbourhood_need_capacity_monthly": ("month_start_date", "month"),
    "fct_community_group_quarters": ("quarter_start_date", "quarter"),
}
BUILT_WHOLE = date(1900, 1, 1)


def _dbt_run(db: Path, work: Path, *extra: str, verb: Sequence[str] = ("run",)) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "dbt"),
        *verb,
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
        # as the weekly job builds: with its data tests, scoped to the rebuilt rows
        "incremental": (
            incremental_db,
            _dbt_run(incremental_db, root / "incremental", verb=DATA_BUILD),
        ),
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
        "target": root / "incremental" / "target",
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
            kinds = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_catalog = 'full_build' and table_schema = 'marts' "
                "and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            doubles = [name for name, kind in kinds if kind in ("DOUBLE", "FLOAT")]
            others = [name for name, kind in kinds if kind not in ("DOUBLE", "FLOAT")]
            # both tables' rows in one order, paired by position: every other column equal,
            # doubles within 5e-7 (sums and means of doubles depend on the order rows are
            # read in; rounding both to 6 decimals failed when the two fell either side of a
            # rounding boundary, e.g. 2.0649999999999995 and 2.065)
            order = ", ".join(f"{name} nulls last" for name in [*others, *doubles])
            same = [f"i.{name} is not distinct from f.{name}" for name in others] + [
                f"((i.{name} is null and f.{name} is null) or abs(i.{name} - f.{name}) <= 5e-7)"
                for name in doubles
            ]
            different = con.execute(
                f"with i as (select *, row_number() over (order by {order}) as _row "
                f"from incremental.marts.{table}), "
                f"f as (select *, row_number() over (order by {order}) as _row "
                f"from full_build.marts.{table}) "
                f"select count(*) from i join f using (_row) where not ({' and '.join(same)})"
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


def _period_start(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(day=1)


def _last_builds(db: Path, pick: str = "arg_max") -> dict[str, tuple]:
    """audit.dbt_incremental_builds rows of the latest dbt invocation (``arg_min``: the
    first), by model."""
    rows = _rows(
        db,
        "select model_name, period_column, rebuilt_from from audit.dbt_incremental_builds "
        f"where invocation_id = (select {pick}(invocation_id, recorded_at) "
        "from audit.dbt_incremental_builds)",
    )
    assert len(rows) == len({row[0] for row in rows}), rows  # one row per model per build
    return {model: (column, rebuilt_from) for model, column, rebuilt_from in rows}


def test_the_period_marts_rebuilt_only_the_periods_the_week_touches(weekly: dict) -> None:
    first_new_month = (AS_OF + WEEK).replace(day=1)
    builds = _last_builds(weekly["incremental"])
    for mart, (column, grain) in INCREMENTAL_MARTS.items():
        first_period = _period_start(first_new_month, grain)
        assert f'"{mart}": rebuilding from {first_period.isoformat()}' in weekly["log"], mart
        assert builds[mart] == (column, first_period), mart
    for fact in INCREMENTAL_FACTS:
        assert builds[fact][1] == first_new_month, fact
        assert builds[fact][0].endswith("_month_start_date"), fact


def test_a_full_refresh_records_every_incremental_model_built_whole(weekly: dict) -> None:
    builds = _last_builds(weekly["full"])
    assert set(builds) == {*INCREMENTAL_FACTS, *INCREMENTAL_MARTS}
    assert {rebuilt_from for _, rebuilt_from in builds.values()} == {BUILT_WHOLE}


def test_the_first_build_recorded_every_incremental_model_built_whole(built: dict) -> None:
    # the first invocation: other e2e modules build the shared warehouse again
    builds = _last_builds(built["db"], pick="arg_min")
    assert set(builds) == {*INCREMENTAL_FACTS, *INCREMENTAL_MARTS}
    assert {rebuilt_from for _, rebuilt_from in builds.values()} == {BUILT_WHOLE}


def test_the_weekly_builds_tests_pass_on_the_rebuilt_rows(weekly: dict) -> None:
    """macros/tests_on_rebuilt_rows.sql: in the weekly build a generic test of an incremental
    table reads the periods it rebuilt; keys read the rows sharing a rebuilt key;
    relationships to another incremental table and singular tests read everything."""
    target = weekly["target"]
    results = json.loads((target / "run_results.json").read_text())["results"]
    tests = {result["unique_id"].split(".")[2]: result for result in results}
    assert not [uid for uid in tests if uid.startswith("unit_test")]
    failed = [name for name, result in tests.items() if result["status"] in ("fail", "error")]
    assert not failed
    (rebuilt_from,) = _rows(
        weekly["incremental"],
        "select min(rebuilt_from) from audit.dbt_incremental_builds "
        "where model_name = 'fct_referrals' and rebuilt_from > date '1900-01-01'",
    )[0]
    period = f"\"referral_month_start_date\" >= cast('{rebuilt_from}' as date)"
    compiled = target / "run" / "icb_insight"
    marts = {path.name: path.read_text() for path in (compiled / "models").rglob("*.sql")}
    (not_null,) = [
        sql for name, sql in marts.items() if name.startswith("not_null_fct_referrals_referral_id")
    ]
    assert period in not_null
    (unique,) = [
        sql for name, sql in marts.items() if name.startswith("unique_fct_referrals_referral_id")
    ]
    assert period in unique and "exists (" in unique
    to_referrals = [
        sql
        for name, sql in marts.items()
        if name.startswith("relationships_fct_onward_refer") and '"marts"."fct_referrals"' in sql
    ]
    assert to_referrals and all(">= cast(" not in sql for sql in to_referrals)
    (dim_key,) = [
        sql for name, sql in marts.items() if name.startswith("unique_dim_lsoas_lsoa_code")
    ]
    assert ">= cast(" not in dim_key
    singular = compiled / "tests" / "assert_every_referral_in_exactly_one_neighbourhood.sql"
    assert ">= cast(" not in singular.read_text()
