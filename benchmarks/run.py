"""Time every phase of the pipeline at one or more demo scales, each phase in its own process
(so that its peak memory can be read when it ends), next to the core monthly mart written in
pandas alone and as one bare DuckDB script; check the three agree and report ratios.

    uv run python -m benchmarks.run --scales icb,region [--out DIR] [--phases ...] [--no-report]

Writes ``results.json`` and ``results.md`` into ``--out`` (default /tmp/icb-insight-bench),
with the generated files, warehouses and dbt logs under ``--out/<scale>/``. See
docs/benchmarks.md.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.baselines.pandas_mart import COLUMNS, KEYS

REPO = Path(__file__).resolve().parent.parent
REPORT_PHASE = "report"  # Evidence (make report): the largest ICB's report at region and England
PIPELINE_PHASES = ["generate", "ingest", "dbt_build", "publish", "extracts", REPORT_PHASE]
MART_PHASES = ["dbt_noop", "mart_dbt_build", "mart_dbt_run", "mart_duckdb", "mart_pandas"]
# after the others: they change the warehouse the baselines are compared with
WEEKLY_PHASES = ["weekly_generate", "weekly_ingest", "weekly_dbt_build"]
# dbt exits 1 when a test fails, after every model is built: the timing still stands
DBT_PHASES = {"dbt_build", "dbt_noop", "mart_dbt_build", "mart_dbt_run", "weekly_dbt_build"}
ALL_PHASES = [*PIPELINE_PHASES, *MART_PHASES, *WEEKLY_PHASES]
DEFAULT_OUT = Path("/tmp/icb-insight-bench")
CORE_MART = "marts.fct_neighbourhood_need_capacity_monthly"
TOLERANCE = 1e-6  # relative, on every shared column
# Columns the baselines compute but are not compared on: the pipeline places each grant where
# it benefits (beneficiary areas by population, else the recipient's activities by places,
# else its base: int_funding_allocated_to_lsoas), which the two hand-written baselines do not
# reimplement (they place a grant at its recipient's base). docs/benchmarks.md says so.
NOT_COMPARED = ("funding_gbp", "funding_per_head_gbp")
HEARTBEAT_SECONDS = 15.0
COUNTED_TABLES = ["geography", "referrals", "onward_referrals", "activities", "activity_sessions"]

PHASE_NOTES = {
    "generate": "demo generator writes the source files",
    "ingest": "contracts, validation, load into raw (ingest.load.load_directory)",
    "dbt_build": "dbt build: every model and test",
    "publish": "copy to published.duckdb (write-audit-publish)",
    "extracts": "every local authority's extract package",
    "report": "Evidence report (make report)",
    "dbt_noop": "a dbt call that selects nothing: what every dbt call costs before any SQL",
    "mart_dbt_build": "dbt build --select +core mart (models and their tests)",
    "mart_dbt_run": "dbt seed, then dbt run --select +core mart (models only)",
    "mart_duckdb": "baselines/duckdb_mart.sql over raw tables (engine floor)",
    "mart_pandas": "baselines/pandas_mart.py from the source files",
    "weekly_generate": "one more week of demo data, cut to the months it touches (not timed "
    "as part of the weekly run)",
    "weekly_ingest": "load the week (replaces the months it covers)",
    "weekly_dbt_build": "dbt build after the week: incremental facts, every test",
}


def _say(message: str) -> None:
    print(message, flush=True)


# --- one phase in its own process ------------------------------------------------------------


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants now, in MB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total / 1e6


# the mart phases rebuild with --full-refresh, on a copy of the warehouse: after a whole
# rebuild of a fact every mart downstream rightly rebuilds whole at the next build, so in
# the warehouse itself the weekly phases would time a whole rebuild, not a weekly one
FULL_REFRESH_PHASES = {"mart_dbt_build", "mart_dbt_run"}


def mart_copy(paths: dict[str, Path]) -> Path:
    return paths["work"] / "mart_warehouse" / "warehouse.duckdb"


def run_phase(phase: str, scale: str, paths: dict[str, Path], seed: int) -> dict[str, Any]:
    """Run one phase as a child process; return seconds, peak RSS and exit code."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.phases",
        phase,
        "--src",
        str(paths["src"]),
        "--db",
        str(mart_copy(paths) if phase in FULL_REFRESH_PHASES else paths["db"]),
        "--work",
        str(paths["work"]),
        "--scale",
        scale,
        "--seed",
        str(seed),
    ]
    log_path = paths["work"] / f"{phase}.log"
    usage_path = paths["work"] / f"{phase}.usage.json"
    paths["work"].mkdir(parents=True, exist_ok=True)
    usage_path.unlink(missing_ok=True)
    # through benchmarks.measure, so that the phase's peak memory is its own (see there)
    command = [sys.executable, "-m", "benchmarks.measure", str(usage_path), "--", *command]
    prefix = f"  [{scale} {phase}]"
    started_at = datetime.now()
    started = time.perf_counter()
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        done = threading.Event()

        def heartbeat() -> None:
            while not done.wait(HEARTBEAT_SECONDS):
                elapsed = time.perf_counter() - started
                rss = _tree_rss_mb(process.pid)
                _say(f"{prefix} ... {elapsed:.0f} s, {rss:.0f} MB resident now")

        def relay() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                log.write(line)
                stripped = line.rstrip()
                if stripped:
                    _say(f"{prefix} {stripped[:160]}")

        beat = threading.Thread(target=heartbeat, daemon=True)
        reader = threading.Thread(target=relay, daemon=True)
        beat.start()
        reader.start()
        # ru_maxrss is the largest resident set of the phase's process or of any descendant
        # it waited for (dbt, npm), in kilobytes on Linux; measured by benchmarks.measure.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        reader.join(timeout=10)
        done.set()
    try:
        measured = json.loads(usage_path.read_text())
    except (OSError, ValueError):  # the shim itself was killed: the upper bound wait4 gives
        measured = {
            "max_rss_kb": usage.ru_maxrss,
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
        }
    completed_with_test_failures = (
        process.returncode != 0
        and phase in DBT_PHASES
        and "Done. PASS=" in log_path.read_text(errors="replace")
    )
    result = {
        "status": "ok"
        if process.returncode == 0
        else ("tests failed" if completed_with_test_failures else "failed"),
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(measured["max_rss_kb"] / 1024, 1),
        "cpu_seconds": round(measured["cpu_seconds"], 2),
        "returncode": process.returncode,
        "log": str(log_path),
    }
    if phase in DBT_PHASES:
        result["dbt_breakdown"] = dbt_breakdown(log_path.read_text(errors="replace"), started_at)
    state = (
        result["status"]
        if process.returncode == 0
        else f"{result['status'].upper()} (exit {process.returncode})"
    )
    _say(f"{prefix} {state}: {seconds:.1f} s, peak {result['peak_rss_mb']:.0f} MB")
    return result


def dbt_breakdown(log_text: str, started_at: datetime) -> dict[str, float | None]:
    """Where a dbt phase's time went, from dbt's own log lines (whole seconds): Python and
    dbt start-up until "Running with dbt", parsing until "Concurrency:", and the models and
    tests ("Finished running ... (N s)")."""
    stamps: dict[str, datetime] = {}
    executing = None
    for line in log_text.splitlines():
        clean = re.sub(r"\x1b\[[0-9;]*m", "", line).strip()
        match = re.match(r"(\d\d:\d\d:\d\d)\s+(.*)", clean)
        if not match:
            continue
        clock, text = match.groups()
        stamp = datetime.combine(started_at.date(), datetime.strptime(clock, "%H:%M:%S").time())
        for marker, name in (("Running with dbt", "running"), ("Concurrency:", "parsed")):
            if text.startswith(marker):
                stamps.setdefault(name, stamp)
        finished = re.search(r"Finished running .* \(([\d.]+)s\)", text)
        if finished:
            executing = float(finished.group(1))

    def between(start: datetime | None, end: datetime | None) -> float | None:
        return None if start is None or end is None else (end - start).total_seconds()

    return {
        "startup_seconds": between(started_at.replace(microsecond=0), stamps.get("running")),
        "parse_seconds": between(stamps.get("running"), stamps.get("parsed")),
        "execute_seconds": executing,
    }


# --- agreement of the three marts ------------------------------------------------------------


def compare_marts(warehouse: Path, work: Path) -> dict[str, Any]:
    """Check the pipeline's mart, the pandas mart and the DuckDB floor agree on every shared
    column (keys equal, numbers within ``TOLERANCE`` relative); return what was found."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{warehouse}' as warehouse (read_only)")
        sources = {
            "pipeline": f"warehouse.{CORE_MART}",
            "duckdb": f"read_parquet('{work / 'duckdb_mart.parquet'}')",
            "pandas": f"read_parquet('{work / 'pandas_mart.parquet'}')",
        }
        floor_db = work / "duckdb_mart.duckdb"
        if floor_db.exists():
            con.execute(f"attach '{floor_db}' as floor (read_only)")
            sources["duckdb"] = "floor.main.duckdb_mart"
        present = {}
        for name, relation in sources.items():
            try:
                con.execute(f"select 1 from {relation} limit 0")
                present[name] = relation
            except duckdb.Error:
                continue
        result: dict[str, Any] = {
            "compared": sorted(present),
            "columns": [column for column in COLUMNS if column not in NOT_COMPARED],
            "not_compared": list(NOT_COMPARED),
            "checks": [],
        }
        if "pipeline" not in present or len(present) < 2:
            result["agree"] = False
            result["problem"] = f"need the pipeline mart and a baseline; found {sorted(present)}"
            return result
        select = ", ".join(COLUMNS)
        for name in present:
            con.execute(f"create temp table m_{name} as select {select} from {present[name]}")
        values = [column for column in COLUMNS if column not in (*KEYS, *NOT_COMPARED)]
        agree = True
        for name in [other for other in present if other != "pipeline"]:
            rows = {
                side: con.execute(f"select count(*) from m_{side}").fetchone()[0]
                for side in ("pipeline", name)
            }
            unmatched = con.execute(
                f"select count(*) from m_pipeline full join m_{name} using ({', '.join(KEYS)}) "
                f"where m_pipeline.{values[0]} is null and m_{name}.{values[0]} is null "
                f"or m_pipeline.neighbourhood_code is null or m_{name}.neighbourhood_code is null"
            ).fetchone()[0]
            worst = {}
            for column in values:
                worst[column] = con.execute(
                    f"select coalesce(max(abs(a.{column} - b.{column}) "
                    f"/ greatest(1, abs(a.{column}))), 0), "
                    f"count(*) filter (where (a.{column} is null) <> (b.{column} is null)) "
                    f"from m_pipeline as a inner join m_{name} as b using ({', '.join(KEYS)})"
                ).fetchone()
            bad = {
                column: {"max_rel_diff": diff, "null_mismatches": nulls}
                for column, (diff, nulls) in worst.items()
                if diff > TOLERANCE or nulls
            }
            ok = rows["pipeline"] == rows[name] and unmatched == 0 and not bad
            agree = agree and ok
            result["checks"].append(
                {
                    "against": name,
                    "rows": rows,
                    "unmatched_keys": unmatched,
                    "columns_outside_tolerance": bad,
                    "agree": ok,
                }
            )
        result["agree"] = agree
        return result
    finally:
        con.close()


# --- the run ---------------------------------------------------------------------------------


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


def ratios(phases: dict[str, dict[str, Any]], measure: str = "seconds") -> dict[str, Any]:
    """Ratios of ``measure`` (``seconds`` of wall time or ``cpu_seconds``) between phases."""

    def value(name: str) -> float | None:
        phase = phases.get(name)
        if not phase or phase.get("status", "ok") not in ("ok", "tests failed"):
            return None
        return phase[measure]

    ingest, run_mart = value("ingest"), value("mart_dbt_run")
    ingest_and_run = ingest + run_mart if ingest and run_mart else None
    full, weekly = value("dbt_build"), value("weekly_dbt_build")
    full_run = ingest + full if ingest and full else None
    weekly_ingest = value("weekly_ingest")
    weekly_run = weekly_ingest + weekly if weekly_ingest and weekly else None
    return {
        "weekly_dbt_build_over_full_dbt_build": _ratio(weekly, full),
        "weekly_ingest_and_build_over_full_ingest_and_build": _ratio(weekly_run, full_run),
        "dbt_build_mart_over_duckdb": _ratio(value("mart_dbt_build"), value("mart_duckdb")),
        "dbt_run_mart_over_duckdb": _ratio(value("mart_dbt_run"), value("mart_duckdb")),
        "pandas_over_dbt_build_mart": _ratio(value("mart_pandas"), value("mart_dbt_build")),
        "pandas_over_dbt_run_mart": _ratio(value("mart_pandas"), value("mart_dbt_run")),
        "pandas_over_ingest_plus_dbt_run_mart": _ratio(value("mart_pandas"), ingest_and_run),
        "pandas_over_duckdb": _ratio(value("mart_pandas"), value("mart_duckdb")),
    }


def work_ratios(phases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The same dbt ratios on dbt's own "models and tests" time (``Finished running``), that
    is without the start-up and parse every dbt call pays (see phase dbt_noop)."""

    def executed(name: str) -> float | None:
        phase = phases.get(name)
        if not phase or phase.get("status", "ok") not in ("ok", "tests failed"):
            return None
        return (phase.get("dbt_breakdown") or {}).get("execute_seconds")

    duckdb_seconds = (phases.get("mart_duckdb") or {}).get("seconds")
    return {
        "weekly_dbt_build_over_full_dbt_build": _ratio(
            executed("weekly_dbt_build"), executed("dbt_build")
        ),
        "dbt_build_mart_over_duckdb": _ratio(executed("mart_dbt_build"), duckdb_seconds),
        "dbt_run_mart_over_duckdb": _ratio(executed("mart_dbt_run"), duckdb_seconds),
        "pandas_over_dbt_run_mart": _ratio(
            (phases.get("mart_pandas") or {}).get("seconds"), executed("mart_dbt_run")
        ),
    }


# the performance targets: (name, the ratio it reads, its limit, "max" or "min", what it says)
TARGETS = [
    (
        "core mart at least 10x faster than pandas (England)",
        "pandas_over_dbt_run_mart",
        10.0,
        "min",
    ),
    (
        "dbt build of the core mart at most 1.5x bare DuckDB",
        "dbt_build_mart_over_duckdb",
        1.5,
        "max",
    ),
    ("(its dbt run, models only)", "dbt_run_mart_over_duckdb", 1.5, "max"),
    (
        "incremental weekly dbt build at most 0.1 of a full one",
        "weekly_dbt_build_over_full_dbt_build",
        0.1,
        "max",
    ),
]
MEMORY_LIMIT_MB = 4000.0


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each performance target against this run: the measured value and whether it is met, at
    the largest scale run (most referrals loaded: England when it ran); time growth from the
    smallest to the largest (wall seconds of the phases both ran) against the growth of the
    data (rows loaded into geography, referrals, onward referrals, activities, sessions)."""
    scales = sorted(
        (scale for scale, result in report["scales"].items() if result.get("phases")),
        key=lambda scale: report["scales"][scale].get("rows", {}).get("referrals", 0),
    )
    if not scales:
        return []
    largest = scales[-1]
    result = report["scales"][largest]
    verdicts = []
    for name, ratio, limit, kind in TARGETS:
        value = result["ratios"].get(ratio)
        work = result.get("work_ratios", {}).get(ratio)
        met = None if value is None else (value >= limit if kind == "min" else value <= limit)
        verdicts.append(
            {
                "target": name,
                "scale": largest,
                "measured": value,
                "cpu": result.get("cpu_ratios", {}).get(ratio),
                "without_dbt_start": work,
                "limit": f"{'>=' if kind == 'min' else '<='} {limit:g}",
                "met": met,
            }
        )
    peaks = [timing["peak_rss_mb"] for timing in result["phases"].values()]
    verdicts.append(
        {
            "target": "peak memory under 4 GB",
            "scale": largest,
            "measured": max(peaks),
            "limit": f"< {MEMORY_LIMIT_MB:g} MB",
            "met": max(peaks) < MEMORY_LIMIT_MB,
        }
    )
    smallest = scales[0]
    if smallest != largest:
        small, large = report["scales"][smallest], result
        rows_small = sum(small["rows"].values())
        rows_large = sum(large["rows"].values())
        common = [
            phase
            for phase in large["phases"]
            if phase in small["phases"]
            and small["phases"][phase]["returncode"] == 0
            and large["phases"][phase]["returncode"] == 0
        ]
        if rows_small and rows_large and common:
            data_growth = rows_large / rows_small
            time_small = sum(small["phases"][phase]["seconds"] for phase in common)
            time_large = sum(large["phases"][phase]["seconds"] for phase in common)
            verdicts.append(
                {
                    "target": f"time grows no faster than the data ({smallest} to {largest})",
                    "scale": f"{smallest} to {largest}",
                    "measured": round(time_large / time_small, 2),
                    "limit": f"<= {data_growth:.1f} (rows loaded x{data_growth:.1f})",
                    "met": time_large / time_small <= data_growth,
                }
            )
    return verdicts


def _table_counts(warehouse: Path) -> dict[str, int]:
    if not warehouse.exists():
        return {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        counts = {}
        for table in COUNTED_TABLES:
            try:
                counts[table] = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
            except duckdb.Error:
                continue
        return counts
    finally:
        con.close()


def run_scale(
    scale: str,
    out: Path,
    phases: list[str],
    seed: int,
    save: Callable[[dict[str, Any]], None] = lambda partial: None,
) -> dict[str, Any]:
    root = out / scale
    paths = {
        "src": root / "src",
        "db": root / "warehouse" / "warehouse.duckdb",
        "work": root / "work",
    }
    _say(f"== scale {scale}: {', '.join(phases)} (files under {root})")
    shutil.rmtree(mart_copy(paths).parent, ignore_errors=True)
    if "generate" in phases:
        subprocess.run(["rm", "-rf", str(paths["src"])], check=True)
    if "ingest" in phases:  # a fresh warehouse: ingest into an old one would be a reload
        subprocess.run(["rm", "-rf", str(paths["db"].parent), str(root / "extracts")], check=True)
    for stale in ("duckdb_mart.duckdb", "pandas_mart.parquet"):
        (paths["work"] / stale).unlink(missing_ok=True)
    results: dict[str, dict[str, Any]] = {}
    agreement: dict[str, Any] | None = None
    rows: dict[str, int] = {}

    def check_agreement() -> None:
        """Compare the marts (before the weekly phases change the warehouse)."""
        nonlocal agreement, rows
        rows = _table_counts(paths["db"])
        if agreement is None and any(p in results for p in ("mart_duckdb", "mart_pandas")):
            built = mart_copy(paths) if mart_copy(paths).exists() else paths["db"]
            agreement = compare_marts(built, paths["work"])
            verdict = "agree" if agreement["agree"] else "DISAGREE"
            _say(f"  [{scale}] marts {verdict} ({', '.join(agreement['compared'])})")

    for phase in phases:
        if phase in WEEKLY_PHASES and not any(p in results for p in WEEKLY_PHASES):
            check_agreement()
        if phase in FULL_REFRESH_PHASES and not mart_copy(paths).exists():
            mart_copy(paths).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(paths["db"], mart_copy(paths))  # not timed
        results[phase] = run_phase(phase, scale, paths, seed)
        save({"phases": results, "rows": rows, "agreement": agreement, "ratios": ratios(results)})
        if results[phase]["returncode"] != 0 and phase in ("generate", "ingest"):
            _say(f"  [{scale}] stopping this scale: {phase} failed")
            break
    if not any(p in results for p in WEEKLY_PHASES):
        check_agreement()
    return {
        "phases": results,
        "rows": rows,
        "agreement": agreement,
        "ratios": ratios(results),
        "cpu_ratios": ratios(results, "cpu_seconds"),
        "work_ratios": work_ratios(results),
    }


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(memory_gb, 1),
        "cpu_model": model,
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def _breakdown_text(breakdown: dict[str, float | None] | None) -> str:
    if not breakdown:
        return ""
    parts = [
        f"{label} {breakdown[key]:.0f} s"
        for key, label in (
            ("startup_seconds", "start-up"),
            ("parse_seconds", "parse"),
            ("execute_seconds", "models/tests"),
        )
        if breakdown.get(key) is not None
    ]
    return f" ({', '.join(parts)})" if parts else ""


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"Run {report['started_at']} to {report['finished_at']} on {report['machine']['nproc']} "
        f"CPUs ({report['machine']['cpu_model']}), {report['machine']['memory_gib']} GiB; load "
        f"average at start {report['machine']['load_average_at_start']}.",
        "",
        "| scale | phase | seconds | CPU seconds | peak RSS (MB) | status | what |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for scale, result in report["scales"].items():
        for phase, timing in result["phases"].items():
            status = timing.get("status", "ok")
            if timing["returncode"] != 0:
                status += f" (exit {timing['returncode']})"
            lines.append(
                f"| {scale} | {phase} | {timing['seconds']:.1f} | {timing['cpu_seconds']:.1f} "
                f"| {timing['peak_rss_mb']:.0f} | {status} | {PHASE_NOTES.get(phase, '')}"
                f"{_breakdown_text(timing.get('dbt_breakdown'))} |"
            )
    lines += ["", "| scale | ratio | wall time | CPU time |", "|---|---|---:|---:|"]
    for scale, result in report["scales"].items():
        cpu = result.get("cpu_ratios", {})
        for name, value in result["ratios"].items():
            lines.append(
                f"| {scale} | {name} | {'' if value is None else value} "
                f"| {'' if cpu.get(name) is None else cpu[name]} |"
            )
    lines += [
        "",
        "Without dbt's start-up and parse (dbt's own `Finished running` time against the same "
        "denominator):",
        "",
        "| scale | ratio | models and tests only |",
        "|---|---|---:|",
    ]
    for scale, result in report["scales"].items():
        for name, value in result.get("work_ratios", {}).items():
            lines.append(f"| {scale} | {name} | {'' if value is None else value} |")
    verdicts = targets(report)
    if verdicts:
        lines += [
            "",
            "| target | scale | measured (wall) | CPU | without dbt start-up | limit | met |",
            "|---|---|---:|---:|---:|---|---|",
        ]
        for verdict in verdicts:
            met = {True: "yes", False: "**no**", None: "not measured"}[verdict["met"]]
            cells = [
                "" if verdict.get(key) is None else str(verdict[key])
                for key in ("measured", "cpu", "without_dbt_start")
            ]
            lines.append(
                f"| {verdict['target']} | {verdict['scale']} | {' | '.join(cells)} "
                f"| {verdict['limit']} | {met} |"
            )
    lines += ["", "| scale | rows loaded | marts agree |", "|---|---|---|"]
    for scale, result in report["scales"].items():
        rows = ", ".join(f"{table} {count:,}" for table, count in result["rows"].items())
        agreement = result["agreement"]
        if agreement is None:
            verdict = "not checked"
        else:
            verdict = ("yes" if agreement["agree"] else "NO") + (
                f" (pipeline vs {', '.join(c for c in agreement['compared'] if c != 'pipeline')})"
            )
        lines.append(f"| {scale} | {rows} | {verdict} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="icb", help="comma-separated: tiny,small,icb,...")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--phases",
        default=",".join(ALL_PHASES),
        help=f"comma-separated, run in this order: {','.join(ALL_PHASES)}",
    )
    parser.add_argument(
        "--report", action="store_true", help="time the Evidence report (now the default)"
    )
    parser.add_argument(
        "--no-report", action="store_true", help="leave the Evidence report out (no npm)"
    )
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    phases = [phase.strip() for phase in args.phases.split(",") if phase.strip()]
    if args.report and REPORT_PHASE not in phases:
        phases.insert(phases.index("extracts") + 1 if "extracts" in phases else 0, REPORT_PHASE)
    if args.no_report:
        phases = [phase for phase in phases if phase != REPORT_PHASE]
    unknown = [phase for phase in phases if phase not in ALL_PHASES]
    if unknown:
        parser.error(f"unknown phase {', '.join(unknown)}; choose from {', '.join(ALL_PHASES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "phases": phases,
        "scales": {},
    }

    def save(scale: str, result: dict[str, Any]) -> None:
        report["scales"][scale] = result
        report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        (args.out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
        (args.out / "results.md").write_text(markdown(report))

    for scale in [scale.strip() for scale in args.scales.split(",") if scale.strip()]:
        result = run_scale(
            scale, args.out, phases, args.seed, lambda partial, scale=scale: save(scale, partial)
        )
        save(scale, result)
    _say(f"\nresults: {args.out / 'results.json'} and {args.out / 'results.md'}\n")
    _say(markdown(report))
    failed = [
        f"{scale} {phase}"
        for scale, result in report["scales"].items()
        for phase, timing in result["phases"].items()
        if timing.get("status", "ok") == "failed"
    ]
    disagree = [
        scale
        for scale, result in report["scales"].items()
        if result["agreement"] is not None and not result["agreement"]["agree"]
    ]
    tests_failed = [
        f"{scale} {phase}"
        for scale, result in report["scales"].items()
        for phase, timing in result["phases"].items()
        if timing.get("status") == "tests failed"
    ]
    if tests_failed:
        _say(f"dbt tests failed (timings stand, but this build would not publish): {tests_failed}")
    if failed or disagree:
        _say(f"failed phases: {failed or 'none'}; marts disagree at: {disagree or 'none'}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
