"""Smoke run of the benchmark harness (benchmarks/run.py) at scale tiny: the pipeline's core
mart, the pandas version and the bare DuckDB script agree, every phase run appears in the
results table, and the agreement check does catch a wrong number. The full benchmark is
`make bench`, not part of `make test`."""

import json
from pathlib import Path

import pandas as pd
import pytest

from benchmarks import run

# dbt is represented by `dbt run` of the core mart and its parents only (the cheapest dbt
# phase that still makes the pipeline's mart to compare against); the other pipeline phases
# are covered by tests/e2e. See docs/benchmarks.md.
SMOKE_PHASES = ["generate", "ingest", "mart_dbt_run", "mart_duckdb", "mart_pandas"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench")
    code = run.main(["--scales", "tiny", "--out", str(out), "--phases", ",".join(SMOKE_PHASES)])
    return {
        "code": code,
        "out": out,
        "results": json.loads((out / "results.json").read_text()),
        "table": (out / "results.md").read_text(),
    }


def test_harness_succeeds_and_marts_agree(smoke: dict) -> None:
    assert smoke["code"] == 0, smoke["table"]
    tiny = smoke["results"]["scales"]["tiny"]
    assert tiny["agreement"]["agree"], tiny["agreement"]
    assert tiny["agreement"]["compared"] == ["duckdb", "pandas", "pipeline"]
    assert all(check["agree"] for check in tiny["agreement"]["checks"])
    assert tiny["rows"]["referrals"] > 0


def test_every_phase_timed_and_in_the_table(smoke: dict) -> None:
    tiny = smoke["results"]["scales"]["tiny"]
    assert list(tiny["phases"]) == SMOKE_PHASES
    for phase, timing in tiny["phases"].items():
        assert timing["returncode"] == 0, phase
        assert timing["seconds"] > 0, phase
        assert timing["peak_rss_mb"] > 10, phase  # a Python process at least
        assert f"| tiny | {phase} |" in smoke["table"], phase
    for ratio in ("dbt_run_mart_over_duckdb", "pandas_over_dbt_run_mart", "pandas_over_duckdb"):
        assert tiny["ratios"][ratio] is not None, ratio


def test_agreement_check_catches_a_wrong_number(smoke: dict, tmp_path: Path) -> None:
    work = smoke["out"] / "tiny" / "work"
    # the mart phases build in a copy of the warehouse (see run.FULL_REFRESH_PHASES)
    warehouse = run.mart_copy({"work": work})
    wrong = tmp_path / "work"
    wrong.mkdir()
    mart = pd.read_parquet(work / "pandas_mart.parquet")
    mart.loc[0, "weekly_places"] += 1
    mart.to_parquet(wrong / "pandas_mart.parquet", index=False)
    result = run.compare_marts(warehouse, wrong)
    assert not result["agree"]
    assert "weekly_places" in result["checks"][0]["columns_outside_tolerance"]


def test_default_run_covers_every_pipeline_phase() -> None:
    """`make bench` times every phase the issue names (the report unless --no-report)."""
    defaults = run.ALL_PHASES
    for phase in [
        "generate",
        "ingest",
        "dbt_build",
        "publish",
        "extracts",
        "report",
        *run.MART_PHASES,
        *run.WEEKLY_PHASES,
    ]:
        assert phase in defaults
    # the weekly phases change the warehouse: they come after the marts are compared
    assert defaults.index("weekly_generate") > max(map(defaults.index, run.MART_PHASES))
    timing = {"seconds": 1.0, "cpu_seconds": 1.0, "peak_rss_mb": 100.0, "returncode": 0}
    report = {
        "started_at": "t0",
        "finished_at": "t1",
        "machine": run.machine(),
        "scales": {
            "tiny": {
                "phases": {phase: timing for phase in run.ALL_PHASES},
                "rows": {},
                "agreement": None,
                "ratios": run.ratios({phase: timing for phase in run.ALL_PHASES}),
            }
        },
    }
    table = run.markdown(report)
    for phase in run.ALL_PHASES:
        assert f"| tiny | {phase} |" in table


def test_weekly_run_is_reported_as_a_fraction_of_the_full_build() -> None:
    def timing(seconds: float) -> dict:
        return {"seconds": seconds, "cpu_seconds": seconds, "status": "ok"}

    phases = {
        "ingest": timing(10.0),
        "dbt_build": timing(30.0),
        "weekly_ingest": timing(1.0),
        "weekly_dbt_build": timing(3.0),
    }
    ratios = run.ratios(phases)
    assert ratios["weekly_dbt_build_over_full_dbt_build"] == 0.1
    assert ratios["weekly_ingest_and_build_over_full_ingest_and_build"] == 0.1


def test_targets_are_judged_at_the_largest_scale() -> None:
    def timing(seconds: float, execute: float | None = None, rss: float = 100.0) -> dict:
        return {
            "seconds": seconds,
            "cpu_seconds": seconds,
            "peak_rss_mb": rss,
            "returncode": 0,
            "status": "ok",
            "dbt_breakdown": {"execute_seconds": execute},
        }

    def scale(factor: float, referrals: int, rss: float) -> dict:
        phases = {
            "ingest": timing(10.0 * factor),
            "dbt_build": timing(40.0 * factor, 30.0 * factor, rss=rss),
            "mart_dbt_build": timing(6.0 * factor, 4.0 * factor),
            "mart_dbt_run": timing(3.0 * factor, 2.0 * factor),
            "mart_duckdb": timing(2.0 * factor),
            "mart_pandas": timing(40.0 * factor),
            "weekly_ingest": timing(1.0),
            "weekly_dbt_build": timing(5.0, 2.0),
        }
        return {
            "phases": phases,
            "rows": {"referrals": referrals},
            "agreement": None,
            "ratios": run.ratios(phases),
            "cpu_ratios": run.ratios(phases, "cpu_seconds"),
            "work_ratios": run.work_ratios(phases),
        }

    report = {"scales": {"icb": scale(1.0, 1000, 300.0), "england": scale(2.0, 50000, 4100.0)}}
    verdicts = {verdict["target"]: verdict for verdict in run.targets(report)}
    pandas = verdicts["core mart at least 10x faster than pandas (England)"]
    assert (pandas["scale"], pandas["measured"], pandas["met"]) == ("england", 13.33, True)
    assert pandas["without_dbt_start"] == 20.0
    floor = verdicts["dbt build of the core mart at most 1.5x bare DuckDB"]
    assert (floor["measured"], floor["without_dbt_start"], floor["met"]) == (3.0, 2.0, False)
    weekly = verdicts["incremental weekly dbt build at most 0.1 of a full one"]
    assert (weekly["measured"], weekly["without_dbt_start"], weekly["met"]) == (0.06, 0.03, True)
    assert verdicts["peak memory under 4 GB"]["met"] is False
    growth = verdicts["time grows no faster than the data (icb to england)"]
    assert growth["met"] is True and growth["measured"] < 50
    table = run.markdown(
        {"started_at": "t0", "finished_at": "t1", "machine": run.machine(), **report}
    )
    assert "| peak memory under 4 GB | england | 4100.0 |" in table


def test_weekly_delivery_reads_large_sources_in_batches_with_the_same_rows(smoke: dict) -> None:
    """benchmarks.weekly keeps the new week's rows of a large generated CSV batch by batch
    (England's sessions whole did not fit the memory target): the rows kept are the same as
    from the whole file."""
    import polars as pl

    from benchmarks.weekly import _read_generated

    src = smoke["out"] / "tiny" / "src"
    keep = pl.col("referral_date").str.slice(0, 7) >= "2025-06"
    whole = _read_generated(src, "referrals", keep, batch_bytes=1 << 40)
    batched = _read_generated(src, "referrals", keep, batch_bytes=16 << 10)
    assert whole is not None and batched is not None
    assert 0 < whole.height < (src / "referrals.csv").read_text().count("\n")
    assert batched.equals(whole)
