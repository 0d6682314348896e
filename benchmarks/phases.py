"""One phase of the benchmark, run in its own process so that its peak memory can be read
from the operating system when it ends (``benchmarks.run`` starts one of these per phase).

    python -m benchmarks.phases PHASE --src DIR --db FILE --work DIR [--scale S --seed N]

Each phase calls the same code the Dagster job calls (``ingest.load.load_directory``, ``dbt
build``, ``orchestration.publish.publish``, ``orchestration.extracts.build_extracts``), without
Dagster around it. The ``weekly_*`` phases add one more week (``benchmarks.weekly``) to the
warehouse the earlier phases built and rebuild it incrementally, as the weekly job would.
"""

import argparse
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from orchestration.settings import warehouse_key

REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO / "dbt_project"
CORE_MART = "fct_neighbourhood_need_capacity_monthly"
BASELINES = Path(__file__).resolve().parent / "baselines"
WEEK = timedelta(days=7)
# the Dagster job's data build (orchestration/dbt/assets.py DATA_BUILD_ARGS, not imported:
# it loads Dagster): data tests, no unit tests (they run in `make test`)
DATA_BUILD = ["build", "--exclude-resource-type", "unit_test"]

log = logging.getLogger("benchmarks.phases")


def _say(message: str) -> None:
    log.info(message)


def dbt_command(args: list[str], db: Path, work: Path) -> list[str]:
    """The dbt command line: the repo's project, but target and logs under ``work`` so that a
    benchmark never touches dbt_project/target that other runs use. One target folder per
    warehouse (the mart phases build a copy): dbt reuses its parse of the project only
    while the profile, which names the warehouse, is unchanged, as the weekly job does."""
    dbt = Path(sys.executable).parent / "dbt"
    return [
        str(dbt),
        *args,
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(work / "dbt_target" / warehouse_key(db)),
        "--log-path",
        str(work / "dbt_logs"),
    ]


def dbt_env(db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ICB_INSIGHT_DUCKDB_PATH=str(db),
        DBT_PROFILES_DIR=str(DBT_PROJECT),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DO_NOT_TRACK="1",
    )
    return env


def _run_dbt(args: list[str], db: Path, work: Path) -> None:
    subprocess.run(dbt_command(args, db, work), env=dbt_env(db), check=True)


def _largest_icb(db: Path) -> str:
    """The ICB with the most neighbourhoods in the published warehouse beside ``db``."""
    import duckdb

    from orchestration.publish import published_path

    con = duckdb.connect(str(published_path(db)), read_only=True)
    try:
        row = con.execute(
            "select icb_code from marts.dim_neighbourhoods group by icb_code "
            "order by count(*) desc, icb_code limit 1"
        ).fetchone()
    finally:
        con.close()
    assert row is not None, f"no neighbourhoods in {published_path(db)}"
    return str(row[0])


def run_phase(phase: str, src: Path, db: Path, work: Path, scale: str, seed: int) -> None:
    if phase == "generate":
        from ingest.generate import default_as_of, generate

        # a week before the last Sunday, so that the weekly phases' new week is not in the
        # future (the loader sets aside rows dated after today)
        generate(src, seed=seed, scale=scale, as_of=default_as_of() - WEEK, progress=_say)
    elif phase == "ingest":
        from ingest.openreferral.load import load_sources

        db.parent.mkdir(parents=True, exist_ok=True)
        results = load_sources(src, db, progress=_say)
        _say(f"loaded {len(results)} files")
        # the editable mappings (dbt seeds) are loaded with the files: the mart phases' dbt
        # run reads them, as the pipeline's build does
        _run_dbt(["seed", "--full-refresh"], db, work)
    elif phase == "dbt_build":
        _run_dbt(DATA_BUILD, db, work)
    elif phase == "publish":
        from orchestration.publish import publish

        version = publish(db)
        _say(f"published {version}")
    elif phase == "extracts":
        from orchestration.extracts import build_extracts

        extracts = build_extracts(db)
        _say(f"{len(extracts)} local authority extracts")
    elif phase == "report":
        # make report builds from the warehouse ICB_INSIGHT_WAREHOUSE names (else data/warehouse),
        # and the report is one ICB's: at region and England scale, the largest ICB's
        env = dict(
            os.environ, ICB_INSIGHT_WAREHOUSE=str(db), ICB_INSIGHT_REPORT_ICB=_largest_icb(db)
        )
        subprocess.run(["make", "--no-print-directory", "report"], cwd=REPO, env=env, check=True)
    elif phase == "dbt_noop":  # start-up, parse and nothing else (no such tag)
        _run_dbt(["run", "--select", "tag:benchmark_selects_nothing"], db, work)
    elif phase == "mart_dbt_build":  # whole: the baselines compute everything every time
        _run_dbt(["build", "--full-refresh", "--select", f"+{CORE_MART}"], db, work)
    elif phase == "mart_dbt_run":  # (the seeds it reads were loaded by the ingest phase)
        _run_dbt(["run", "--full-refresh", "--select", f"+{CORE_MART}"], db, work)
    elif phase == "weekly_generate":
        from benchmarks.weekly import write_weekly_delivery

        written = write_weekly_delivery(src, work / "weekly", scale=scale, seed=seed, work=work)
        _say(f"weekly delivery: {written}")
    elif phase == "weekly_ingest":
        from ingest.load import load_directory

        for result in load_directory(work / "weekly", db):
            _say(result.summary())
    elif phase == "weekly_dbt_build":
        _run_dbt(DATA_BUILD, db, work)
    elif phase == "mart_duckdb":
        from benchmarks.baselines.duckdb_mart import build

        build(db, work / "duckdb_mart.duckdb")
    elif phase == "mart_pandas":
        from benchmarks.baselines.pandas_mart import build_mart

        out = work / "pandas_mart.parquet"
        build_mart(src, db).to_parquet(out, index=False)
        _say(f"wrote {out}")
    else:
        raise SystemExit(f"unknown phase {phase!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase")
    parser.add_argument("--src", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    args.work.mkdir(parents=True, exist_ok=True)
    run_phase(args.phase, args.src, args.db, args.work, args.scale, args.seed)


if __name__ == "__main__":
    main()
