"""The Evidence report, checked the way a reader sees it.

A small published warehouse with known numbers is written (in the DuckDB 1.4-readable format,
like the real one), turned into report.duckdb by orchestration.report_data (disclosure control),
and the site is built ONCE from it with orchestration.reporting.site (the project's own npm
scripts, in a working copy beside the output), with one council's extract package. It is served
over HTTP and every page is loaded in headless Chromium. The test then reads each page as the
browser rendered it: the headline numbers must equal the values in report.duckdb, the small
numbers must be suppressed, charts and the map must be drawn, every internal link must resolve,
and the console must stay free of errors. Screenshots of every page are kept in
reports/screenshots/ (gitignored) as the test's artefacts.

The build never replaces the real report in reports/build. Slow (one build, 2-3 minutes):
marked `report`.
"""

import html
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.report

REPORTS = Path(__file__).resolve().parents[2] / "reports"
SCREENSHOTS = REPORTS / "screenshots"  # gitignored: the test's artefacts
BROWSER_TIMEOUT_S = 180
BROWSER_WORKERS = 3

# The two messages DuckDB 0.9 (duckdb-wasm 1.28.0) gives for settings it does not know; the
# patch in reports/scripts/patch-duckdb-wasm.mjs catches them (see reports/README.md).
HARMLESS_CONSOLE = ("unrecognized configuration parameter",)
CONSOLE_ERROR = re.compile(r"error|uncaught|exception|failed|cannot|unable|refused", re.I)

# ----------------------------------------------------------------------------------------------
# The warehouse: 12 fictional neighbourhoods, 12 complete months and one partial month.
# ----------------------------------------------------------------------------------------------

NAMES = [
    "Alderbrook",
    "Bramblecote",
    "Cinderfold",
    "Dunwick Vale",
    "Elmhurst Rise",
    "Fallowmere",
    "Gorsefield",
    "Hartwell Cross",
    "Ingleby Moor",
    "Juniper Hill",
    "Kestrel Park",
    "Lowmarsh",
]
COMPLETE_MONTHS = 12
PUBLISHED_RUN = "c0ffee12-0000-4000-8000-000000000001"  # the Dagster run that published
FIRST_MONTH = date(2025, 11, 1)
PARTIAL_MONTH_REFERRALS = 1000  # per neighbourhood: must never reach a 12-month or monthly figure


def month_start(offset: int) -> date:
    months = FIRST_MONTH.month - 1 + offset
    return date(FIRST_MONTH.year + months // 12, months % 12 + 1, 1)


def population(i: int) -> int:
    return 5000 + 500 * i  # 99,000 in all


def referrals(i: int, m: int) -> int:
    return i + m if m < COMPLETE_MONTHS else PARTIAL_MONTH_REFERRALS  # 1,728 in 12 months


def weekly_places(i: int) -> float:
    return 30.0 if i % 2 else 12.0  # 252 in all: 2.5 per 1,000 people


def funding_gbp(i: int) -> float:
    return 100.0 * (13 - i)  # per month


def z_scores(values: list[float]) -> list[float]:
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))  # stddev_pop, as the mart
    return [(v - mean) / sd if sd else 0.0 for v in values]


def gap_rows() -> list[dict]:
    """fct_neighbourhood_gap for the fixture, computed the way the mart computes it."""
    rows = []
    for i, name in enumerate(NAMES, start=1):
        pop = population(i)
        referrals_12m = sum(referrals(i, m) for m in range(COMPLETE_MONTHS))
        rows.append(
            {
                "neighbourhood_code": f"E02{900_000 + i:06d}",
                "neighbourhood_name": name,
                "neighbourhood_level": "msoa",
                "lad_code": "E06900001" if i <= 6 else "E06900002",
                "lad_name": "Northmoor" if i <= 6 else "Southdene",
                "population_total": pop,
                "imd_score_pop_weighted": 10.0 + 2.5 * i,
                "referrals_12m_count": referrals_12m,
                "referrals_per_1000_12m": 1000.0 * referrals_12m / pop,
                "weekly_places": weekly_places(i),
                "weekly_places_per_1000": 1000.0 * weekly_places(i) / pop,
                "funding_12m_gbp": COMPLETE_MONTHS * funding_gbp(i),
                "funding_per_head_12m_gbp": COMPLETE_MONTHS * funding_gbp(i) / pop,
                # as fct_neighbourhood_need_capacity_index's latest month below
                "is_underfunded": i in (1, 2, 3),
            }
        )
    need = z_scores([row["referrals_per_1000_12m"] for row in rows])
    places = z_scores([row["weekly_places_per_1000"] for row in rows])
    funding = z_scores([row["funding_per_head_12m_gbp"] for row in rows])
    for row, need_z, places_z, funding_z in zip(rows, need, places, funding, strict=True):
        row["need_z"] = need_z
        row["capacity_z"] = (places_z + funding_z) / 2
        row["gap_score"] = need_z - row["capacity_z"]
    ranked = sorted(rows, key=lambda row: (-row["gap_score"], row["neighbourhood_code"]))
    for rank, row in enumerate(ranked, start=1):
        row["gap_rank"] = rank
    return ranked


def write_warehouse(path: Path) -> None:
    """A published warehouse: the three marts, the load audit and the build info, in v1.4.0
    storage as publish writes it."""
    gap = gap_rows()
    con = duckdb.connect(str(path), config={"storage_compatibility_version": "v1.4.0"})
    try:
        con.execute("create schema marts")
        con.execute(
            """
            create table marts.dim_neighbourhoods (
                neighbourhood_code varchar, neighbourhood_name varchar, lad_code varchar,
                lad_name varchar, population_total bigint, lsoa_count bigint,
                imd_score_pop_weighted double
            )
            """
        )
        con.executemany(
            "insert into marts.dim_neighbourhoods values (?, ?, ?, ?, ?, 4, ?)",
            [
                [
                    row["neighbourhood_code"],
                    row["neighbourhood_name"],
                    row["lad_code"],
                    row["lad_name"],
                    row["population_total"],
                    row["imd_score_pop_weighted"],
                ]
                for row in gap
            ],
        )
        con.execute(
            """
            create table marts.fct_neighbourhood_need_capacity_monthly (
                neighbourhood_code varchar, month_start_date date, is_complete_month boolean,
                population_total bigint, referrals_count bigint, referrals_per_1000 double,
                onward_referrals_count bigint,
                onward_referrals_refused_no_capacity_count bigint, activities_active_count bigint,
                weekly_places double, weekly_places_per_1000 double, funding_gbp double,
                funding_per_head_gbp double, imd_score_pop_weighted double
            )
            """
        )
        monthly = []
        for row in gap:
            i = NAMES.index(row["neighbourhood_name"]) + 1
            pop = row["population_total"]
            for m in range(COMPLETE_MONTHS + 1):
                count = referrals(i, m)
                monthly.append(
                    [
                        row["neighbourhood_code"],
                        month_start(m),
                        m < COMPLETE_MONTHS,
                        pop,
                        count,
                        1000.0 * count / pop,
                        count // 2,
                        i,
                        3,
                        weekly_places(i),
                        1000.0 * weekly_places(i) / pop,
                        funding_gbp(i),
                        funding_gbp(i) / pop,
                        row["imd_score_pop_weighted"],
                    ]
                )
        con.executemany(
            "insert into marts.fct_neighbourhood_need_capacity_monthly "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            monthly,
        )
        columns = [
            "neighbourhood_code",
            "neighbourhood_name",
            "neighbourhood_level",
            "lad_code",
            "lad_name",
            "population_total",
            "imd_score_pop_weighted",
            "referrals_12m_count",
            "referrals_per_1000_12m",
            "weekly_places",
            "weekly_places_per_1000",
            "funding_12m_gbp",
            "funding_per_head_12m_gbp",
            "need_z",
            "capacity_z",
            "gap_score",
            "gap_rank",
            "is_underfunded",
        ]
        con.execute(
            """
            create table marts.fct_neighbourhood_gap (
                neighbourhood_code varchar, neighbourhood_name varchar,
                neighbourhood_level varchar, lad_code varchar, lad_name varchar,
                population_total bigint, imd_score_pop_weighted double,
                referrals_12m_count bigint, referrals_per_1000_12m double,
                weekly_places double, weekly_places_per_1000 double, funding_12m_gbp double,
                funding_per_head_12m_gbp double, need_z double, capacity_z double,
                gap_score double, gap_rank bigint, is_underfunded boolean,
                period_start_date date, period_end_date date
            )
            """
        )
        con.executemany(
            f"insert into marts.fct_neighbourhood_gap values ({', '.join('?' * 20)})",
            [
                [row[column] for column in columns] + [month_start(0), date(2026, 10, 31)]
                for row in gap
            ],
        )
        write_newer_marts(con)
        con.execute("create schema audit; create schema meta")
        con.execute(
            "create table audit.loads (source varchar, file_name varchar, status varchar, "
            "rows_read bigint, rows_loaded bigint, rows_quarantined bigint, periods varchar, "
            "loaded_at timestamp)"
        )
        con.executemany(
            "insert into audit.loads values (?, ?, 'loaded', ?, ?, ?, null, ?)",
            [
                ["referrals", "referrals.csv", 1733, 1728, 5, datetime(2026, 11, 2, 6, 5)],
                ["geography", "geography.csv", 48, 48, 0, datetime(2026, 11, 2, 6, 1)],
            ],
        )
        con.execute("create table meta.build_info (key varchar, value varchar)")
        con.execute(
            "insert into meta.build_info values ('version_id', '\"20261102T060000Z\"'), "
            "('published_at', '\"2026-11-02T06:10:00+00:00\"'), "
            f"('run_id', '\"{PUBLISHED_RUN}\"')"
        )
    finally:
        con.close()


def write_newer_marts(con: duckdb.DuckDBPyConnection) -> None:
    """The weekly mart, the need/capacity index (underfunded flags), PCN caseload and equity;
    no activity pressure mart, so the Capacity pressure page must be left out."""
    # neighbourhood number i of each code, as in gap_rows
    con.execute(
        "create temp table numbers as select "
        "'E02' || lpad((900000 + i)::varchar, 6, '0') as code, i from range(1, 13) as r(i)"
    )
    con.execute(
        """
        create table marts.fct_neighbourhood_need_capacity_weekly as
        select
            gap.neighbourhood_code,
            (date '2026-09-07' + (7 * weeks.w)::integer)::date as week_start_date,
            weeks.w < 8 as is_complete_week,
            gap.population_total,
            (case when weeks.w < 8 then 10 * numbers.i + weeks.w else 1000 end)::bigint
                as referrals_count,
            (5 * numbers.i)::bigint as onward_referrals_count,
            (numbers.i)::bigint as onward_referrals_refused_no_capacity_count,
            (2 * numbers.i)::bigint as onward_referrals_attended_count,
            gap.weekly_places,
            25.0 * numbers.i as funding_gbp,
            -- £10 i a day running; (5 i + w) % of it ends within 6 months, (80 + w) % within 12
            10.0 * numbers.i as current_funding_per_day_gbp,
            5.0 * numbers.i + weeks.w as funding_at_risk_6m_pct,
            80.0 + weeks.w as funding_at_risk_12m_pct
        from marts.fct_neighbourhood_gap as gap
        inner join numbers
            on numbers.code = gap.neighbourhood_code
        cross join range(9) as weeks(w)
        """
    )
    con.execute(
        """
        create table marts.fct_neighbourhood_need_capacity_index as
        select
            gap.neighbourhood_code,
            months.month_start_date,
            gap.neighbourhood_name,
            gap.lad_code,
            gap.lad_name,
            case
                when months.month_start_date = date '2026-10-01' then numbers.i in (1, 2, 3)
                else numbers.i in (2, 3, 4)
            end as is_underfunded
        from marts.fct_neighbourhood_gap as gap
        inner join numbers
            on numbers.code = gap.neighbourhood_code
        cross join (
            select date '2026-09-01' as month_start_date
            union all select date '2026-10-01'
        ) as months
        """
    )
    con.execute(
        """
        create table marts.fct_pcn_link_worker_caseload_monthly as
        select
            'U9000' || i as pcn_code,
            'PCN ' || i as pcn_name,
            date '2026-10-01' as month_start_date,
            true as is_complete_month,
            2.0 * i as link_worker_fte,
            2.0 * i as link_worker_fte_mean_12m,
            (100 * i)::bigint as open_caseload,
            50.0 as open_caseload_per_fte,
            (40 * i)::bigint as referrals_count,
            (300 * i * i)::bigint as referrals_12m_count,
            150.0 * i as referrals_per_fte_12m,
            150.0 * i > 250 as is_over_safe_caseload,
            (30 * i)::bigint as first_contact_within_14_days_count,
            75.0 as first_contact_within_14_days_pct
        from range(1, 4) as r(i)
        """
    )
    con.execute(
        """
        create table marts.fct_area_deprivation as
        select * from (values
            ('icb', 'E54900001', 'NHS Demo ICB', 48, 99000, 1, 24.5, 1, 0.125, 1),
            ('local_authority', 'E06900001', 'Northmoor', 24, 40500, 3, 18.25, 2, 0.042, 2),
            ('local_authority', 'E06900002', 'Southdene', 24, 58500, 3, 29.0, 1, 0.208, 1),
            ('local_authority', 'E06900003', 'Elsewhere', 20, 30000, 3, 12.0, 3, 0.0, 3)
        ) as t(area_type, area_code, area_name, lsoa_count, population_total,
               ranked_among_count, imd_average_score, imd_average_score_rank,
               imd_proportion_lsoas_most_deprived_10pct,
               imd_proportion_lsoas_most_deprived_10pct_rank)
        """
    )
    # three groups took referrals in the last four complete quarters; two were paid nothing
    # for them (one had no money at all); a fourth took none
    con.execute(
        """
        create table marts.fct_community_group_quarters as
        select
            groups.provider_id, quarters.quarter_start_date,
            quarters.quarter_start_date < date '2026-10-01' as is_complete_quarter,
            groups.neighbourhood_code, groups.provider_name, groups.provider_type,
            true as is_volunteer_led,
            groups.referrals::bigint as onward_referrals_received_count,
            0::bigint as onward_referrals_unmet_count,
            groups.attended::bigint as onward_referrals_attended_count,
            groups.attended::bigint as referred_people_attended_count,
            groups.funding as funding_gbp, groups.funding as funding_core_gbp,
            0.0 as funding_project_gbp,
            groups.contract as funding_social_prescribing_contract_gbp
        from (values
            ('P1', 'E02900001', 'Alder Walking Group', 'community group', 10, 10, 0.0, 0.0),
            ('P2', 'E02900002', 'Bramble Lunch Club', 'charity', 15, 10, 500.0, 0.0),
            ('P3', 'E02900007', 'Gorse Arts CIC', 'social enterprise', 20, 15, 900.0, 300.0),
            ('P4', 'E02900008', 'Hart Choir', 'community group', 0, 0, 100.0, 0.0)
        ) as groups(provider_id, neighbourhood_code, provider_name, provider_type, referrals,
                    attended, funding, contract)
        cross join (values (date '2025-10-01'), (date '2026-01-01'), (date '2026-04-01'),
                           (date '2026-07-01'), (date '2026-10-01')) as quarters(quarter_start_date)
        """
    )
    # places of groups whose every grant ends soon: 30 a week in Alderbrook (all within
    # 3 months), 12 in Bramblecote (within 12 months)
    con.execute(
        """
        create table marts.fct_funding_cliff as
        select * from (values
            ('E02900001', 'P1', 30.0, 30.0, 30.0, 30.0, 3650.0, 3650.0, 3650.0, 3650.0),
            ('E02900002', 'P2', 12.0, 0.0, 0.0, 12.0, 1825.0, 0.0, 0.0, 1825.0),
            ('E02900007', 'P3', 30.0, 0.0, 0.0, 0.0, 7300.0, 0.0, 0.0, 0.0)
        ) as t(neighbourhood_code, provider_id, weekly_places,
               weekly_places_losing_all_funding_3m, weekly_places_losing_all_funding_6m,
               weekly_places_losing_all_funding_12m, current_funding_per_year_gbp,
               funding_ending_3m_per_year_gbp, funding_ending_6m_per_year_gbp,
               funding_ending_12m_per_year_gbp)
        cross join (select date '2026-11-01' as as_of_date)
        """
    )
    con.execute(
        """
        create table marts.fct_equity as
        select * from (values
            ('core20', 'core20', 40000, 600, 400, 200),
            ('core20', 'rest', 59000, 1128, 900, 600),
            ('imd_quintile', '1', 40000, 600, 400, 200),
            ('imd_quintile', '2', 30000, 500, 450, 300),
            ('imd_quintile', '3', 29000, 628, 450, 300)
        ) as t(equity_dimension, group_value, population_total, referrals_count,
               onward_referrals_count, onward_referrals_attended_count)
        """
    )
    con.execute(
        """
        create or replace table marts.fct_equity as
        select
            equity_dimension, group_value,
            date '2025-11-01' as period_start_date, date '2026-10-31' as period_end_date,
            12 as months_count, population_total::bigint as population_total,
            referrals_count::bigint as referrals_count,
            1000.0 * referrals_count / population_total as referrals_per_1000_per_year,
            onward_referrals_count::bigint as onward_referrals_count,
            onward_referrals_attended_count::bigint as onward_referrals_attended_count,
            100.0 * onward_referrals_attended_count / onward_referrals_count
                as onward_referral_conversion_pct
        from marts.fct_equity
        """
    )


# ----------------------------------------------------------------------------------------------
# Tools: npm (with the report's node_modules), Chromium, a static HTTP server.
# ----------------------------------------------------------------------------------------------


def run(command: list[str], cwd: Path, timeout_s: int, env: dict | None = None) -> str:
    """Run a command under `timeout` so that a hang fails the test instead of blocking it."""
    result = subprocess.run(
        ["timeout", "--kill-after=10", str(timeout_s), *command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    if result.returncode == 124:
        pytest.fail(f"{' '.join(command)} timed out after {timeout_s} s:\n{output[-4000:]}")
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{output[-4000:]}"
    return output


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed with apt-get on first use."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    apt_get = shutil.which("apt-get")
    if apt_get is None:
        pytest.skip("Chromium is not installed and apt-get is not available to install it")
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            pytest.skip("Chromium is not installed and apt-get needs root (no sudo)")
        prefix = ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([*prefix, apt_get, "update"], [*prefix, apt_get, "install", "-y", "chromium"]):
        result = subprocess.run(
            ["timeout", "900", *command], env=env, capture_output=True, text=True
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr)[-3000:]
            if prefix and "password" in output.lower():
                pytest.skip("Chromium is not installed and sudo needs a password for apt-get")
            pytest.fail(f"{' '.join(command)} failed:\n{output}")
    found = shutil.which("chromium")
    assert found, "apt-get installed chromium but it is not on PATH"
    return found


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """reports/node_modules, installed on first use (npm install, as `make report` does)."""
    from orchestration.reporting import site

    try:
        return site.ensure_node_modules(REPORTS)
    except site.ReportBuildError as error:
        pytest.fail(str(error))


PUBLISHED_TESTS = {
    "unique_fct_referrals_referral_id": "pass",
    "not_null_fct_referrals_referral_id": "pass",
    "source_freshness_referrals_recent": "warn",
}
EXTRACT_LA = "E06900001"
EXTRACT_FILES = ("manifest.json", "need_capacity_monthly.csv")


@pytest.fixture(scope="module")
def built_report(tmp_path_factory: pytest.TempPathFactory, node_modules: Path) -> dict:
    """report.duckdb from the fixture warehouse, then ONE site build for every page."""
    from orchestration import report_data
    from orchestration.reporting import site

    root = tmp_path_factory.mktemp("report")
    warehouse = root / "warehouse"
    warehouse.mkdir()
    write_warehouse(warehouse / "published.duckdb")
    package = root / "extracts" / "2026-11-02" / EXTRACT_LA
    package.mkdir(parents=True)
    (package / "manifest.json").write_text('{"la_code": "E06900001"}\n')
    (package / "need_capacity_monthly.csv").write_text("neighbourhood_code\nE02900001\n")
    # dbt's results of the published build (one warning), and of a later build that failed
    # and was never published: the Methods page must show the first only
    target = root / "dbt_target"
    for folder, statuses in (
        (f"icb_dbt_models-{PUBLISHED_RUN[:7]}-aaaaaaa", PUBLISHED_TESTS),
        ("icb_dbt_models-fa11ed0-bbbbbbb", {"unique_fct_referrals_referral_id": "fail"}),
    ):
        (target / folder).mkdir(parents=True)
        results = [
            {"unique_id": f"test.icb_insight.{name}.0123456789", "status": status}
            for name, status in statuses.items()
        ]
        (target / folder / "run_results.json").write_text(
            json.dumps({"args": {"which": "build"}, "results": results})
        )
    checks = [
        {
            "check_source": "Dagster asset check",
            "test_name": "rows_reconcile on raw/referrals",
            "status": "pass",
            "severity": "error",
        }
    ]
    data = report_data.build_report_data(
        warehouse / "warehouse.duckdb",
        extracts_root=root / "extracts",
        asset_checks=checks,
        dbt_target_dir=target,
    )
    files = site.static_files_for(data.geojson, report_data.latest_extracts(root / "extracts"))
    try:
        build = site.build_site(data.path, static_files=files, out=root / "site" / "build")
    except site.ReportBuildError as error:
        pytest.fail(str(error))
    assert (build / "index.html").exists()
    return {"build": build, "db": data.path, "published": warehouse / "published.duckdb"}


def report_query(built_report: dict, sql: str) -> list[tuple]:
    con = duckdb.connect(str(built_report["db"]), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(built_report: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """`python -m http.server` on 127.0.0.1, serving the built report; yields url and log."""
    port = free_port()
    log = tmp_path_factory.mktemp("http") / "access.log"
    with open(log, "w") as handle:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "http.server",
                str(port),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(built_report["build"]),
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"http.server did not start: {log.read_text()}")
                time.sleep(0.2)
        yield {"url": url, "log": log}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # SIGTERM can be ignored when inherited so
            process.kill()
            process.wait(timeout=10)


def load_page(chromium: str, url: str, screenshot: Path) -> dict:
    """Load a page in headless Chromium once: its rendered DOM, console and a screenshot."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                "timeout",
                str(BROWSER_TIMEOUT_S),
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                "--window-size=1280,2400",
                # virtual time runs the page's timers and queries to completion before the dump
                "--virtual-time-budget=30000",
                "--enable-logging=stderr",
                "--v=0",
                f"--user-data-dir={profile}",
                f"--screenshot={screenshot}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    console = [m.group(1) for m in re.finditer(r":CONSOLE[:(]\d+\)?\] (.*)", result.stderr)]
    return {"dom": result.stdout, "console": console, "screenshot": screenshot}


def visible_text(page: str) -> str:
    """The page's text, as a reader sees it: no scripts or styles, whitespace collapsed."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


# Every page of the report, by path; one per local authority of the fixture.
PAGES = {
    "index": "/",
    "underfunded": "/underfunded",
    "la": "/la",
    "la-E06900001": "/la/E06900001",
    "la-E06900002": "/la/E06900002",
    "methods": "/methods",
    "link-workers": "/link-workers",
    "equity": "/equity",
    "community-groups": "/community-groups",
}


@pytest.fixture(scope="module")
def pages(chromium: str, server: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every page loaded in headless Chromium (a few at a time); screenshots kept."""
    from concurrent.futures import ThreadPoolExecutor

    shots = tmp_path_factory.mktemp("screenshots")
    with ThreadPoolExecutor(max_workers=BROWSER_WORKERS) as pool:
        futures = {
            name: pool.submit(load_page, chromium, server["url"] + path, shots / f"{name}.png")
            for name, path in PAGES.items()
        }
        loaded = {name: future.result() for name, future in futures.items()}
    SCREENSHOTS.mkdir(exist_ok=True)
    for name, page in loaded.items():
        page["text"] = visible_text(page["dom"])
        shutil.copy2(page["screenshot"], SCREENSHOTS / f"test-{name}.png")
    return loaded


# ----------------------------------------------------------------------------------------------
# What the reader must see.
# ----------------------------------------------------------------------------------------------


def number(value: float, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}"


def test_this_week_headline_equals_the_report_data(pages: dict, built_report: dict) -> None:
    text = pages["index"]["text"]
    weeks = report_query(
        built_report,
        "select week_start_date, referrals_count, onward_referrals_count, "
        "onward_referrals_refused_no_capacity_count, onward_referral_conversion_pct, "
        "weekly_places_per_1000 from icp.icb_weekly where is_complete_week "
        "order by week_start_date desc limit 2",
    )
    (week, referrals, onward, refused, conversion, places), (_, previous, *_) = weeks
    assert week == date(2026, 10, 26)
    # the last complete week: sum of (10 i + 7) over 12 neighbourhoods = 864, rounded to 865
    assert referrals == 865 and previous == 850
    assert "The week of 26 October 2026" in text
    assert f"{number(referrals)} referrals to social prescribing across the ICB" in text
    assert "up 15 on the week before" in text
    assert "no figure to compare with the same week a year before" in text
    assert f"{number(onward)} onward referrals from link workers" in text
    assert f"{number(refused)} onward referrals refused because the activity was full" in text
    assert f"{number(conversion, 1)}% of onward referrals led to the person attending" in text
    assert f"{number(places, 1)} community places a week for every 1,000 people" in text
    assert "12,000" not in text and "Loading..." not in text  # the partial week never shows


def icb_funding_at_risk(built_report: dict, week: date) -> tuple[float, float]:
    """The ICB's share of current funding ending within 6 and 12 months in ``week``, from
    the published mart: the neighbourhoods' shares weighted by their current funding."""
    con = duckdb.connect(str(built_report["published"]), read_only=True)
    try:
        (row,) = con.execute(
            "select sum(current_funding_per_day_gbp * funding_at_risk_6m_pct) "
            "/ sum(current_funding_per_day_gbp), "
            "sum(current_funding_per_day_gbp * funding_at_risk_12m_pct) "
            "/ sum(current_funding_per_day_gbp) "
            "from marts.fct_neighbourhood_need_capacity_weekly where week_start_date = ?",
            [week],
        ).fetchall()
    finally:
        con.close()
    return row


def test_this_week_funding_at_risk_equals_the_mart(pages: dict, built_report: dict) -> None:
    text = pages["index"]["text"]
    six, twelve = icb_funding_at_risk(built_report, date(2026, 10, 26))
    six_before, twelve_before = icb_funding_at_risk(built_report, date(2026, 10, 19))
    # (5 x 650 + 7 x 78) / 78 = 48.67 and 87.0: the fixture's arithmetic, checked once
    assert round(six, 2) == 48.67 and twelve == 87.0
    assert (
        f"{number(six, 1)}% of community groups' current funding is due to end within 6 months"
        in text
    )
    assert f"up {number(six - six_before, 1)} on the week before, in percentage points" in text
    assert f"and {number(twelve, 1)}% within 12 months" in text
    assert f"up {number(twelve - twelve_before, 1)} on the week before" in text
    assert "Funding ending within 6 months" in text  # the big number beside the others


def test_this_week_names_neighbourhoods_that_joined_or_left_the_list(pages: dict) -> None:
    text = pages["index"]["text"]
    assert "3 neighbourhoods are flagged as underfunded in October 2026" in text
    assert "1 joined the list and 1 left it since the month before" in text
    assert f"newly flagged {NAMES[0]}" in text
    assert f"left the list {NAMES[3]}" in text


def test_this_week_lists_the_widest_gaps(pages: dict, built_report: dict) -> None:
    text = pages["index"]["text"]
    top = report_query(
        built_report,
        "select neighbourhood_name, lad_name, gap_score from icp.neighbourhood_gap "
        "where gap_rank <= 6 order by gap_rank",
    )
    assert f"The widest gap is in {top[0][0]} ({top[0][1]})" in text
    assert f"5 {top[4][0]} {top[4][1]}" in text, "the fifth row is filled in the browser"
    assert f"{top[0][2]:.2f}" in text
    assert top[5][0] not in text.split("Where need most outruns capacity")[1].split("About")[0]
    (above,) = report_query(
        built_report, "select count(*) from icp.neighbourhood_gap where gap_score > 0"
    )[0]
    assert f"in {above} of the 12 neighbourhoods" in text


def test_underfunded_page_ranks_every_neighbourhood_and_draws_the_map(
    pages: dict, built_report: dict
) -> None:
    page = pages["underfunded"]
    (flagged,) = report_query(
        built_report, "select count(*) from icp.neighbourhood_gap where is_underfunded"
    )[0]
    assert flagged == 3, "the fixture flags three neighbourhoods in its latest month"
    assert f"{flagged} neighbourhoods are flagged as underfunded" in page["text"]
    assert "Flagged underfunded" in page["text"]  # the ranked list's column
    assert re.search(r'data-shapes="12"', page["dom"]), "the map should have 12 neighbourhoods"
    assert len(re.findall(r"<path\b[^>]*fill=\"rgb", page["dom"])) == 12
    for name in NAMES:
        assert name in page["text"]
    assert "generated tiles (not a map)" in page["text"]
    assert re.search(r"<canvas\b", page["dom"]), "the need-beside-capacity chart is drawn"


def test_small_numbers_never_reach_the_page(pages: dict, built_report: dict) -> None:
    suppressed = report_query(
        built_report,
        "select count(*) from icp.neighbourhood_monthly where referrals_count_is_suppressed",
    )[0][0]
    assert suppressed > 0, "the fixture has monthly counts of 1 to 7"
    # Northmoor's monthly sums are sums of the published (rounded, suppressed) cells
    (published,) = report_query(
        built_report,
        "select sum(referrals_count) from icp.neighbourhood_monthly "
        "where lad_code = 'E06900001' and not is_total and is_complete_month",
    )[0]
    text = pages["la-E06900001"]["text"]
    assert "Northmoor" in text
    (gap_sum,) = report_query(
        built_report,
        "select sum(referrals_12m_count) from icp.neighbourhood_gap where lad_code = 'E06900001'",
    )[0]
    assert f"received {number(gap_sum)} referrals from these neighbourhoods" in text
    assert published > 0


def test_council_page_offers_its_extract_package(pages: dict, server: dict) -> None:
    dom = pages["la-E06900001"]["dom"]
    for name in EXTRACT_FILES:
        assert f'href="/extracts/{EXTRACT_LA}/{name}"' in dom
    with urllib.request.urlopen(f"{server['url']}/extracts/{EXTRACT_LA}/manifest.json") as resp:
        assert json.loads(resp.read())["la_code"] == EXTRACT_LA
    assert "No data package has been made for this council yet" in pages["la-E06900002"]["text"]
    assert "Southdene" in pages["la-E06900002"]["text"]
    assert 'data-shapes="12"' in pages["la-E06900002"]["dom"]


def test_methods_page_names_the_rule_and_the_freshness(pages: dict) -> None:
    text = pages["methods"]["text"]
    assert "Counts of people from 1 to 7 are suppressed" in text
    assert "2 sources feed this report" in text
    assert "geography.csv" in text and "referrals.csv" in text
    assert "published warehouse version 20261102T060000Z" in text
    assert 'href="/docs/metrics.md"' in pages["methods"]["dom"]
    # a warehouse published before publishers' data quality was measured: said, not broken
    assert "No funder or directory data has been loaded yet." in text


def test_link_workers_page_shows_caseload_by_pcn(pages: dict) -> None:
    text = pages["link-workers"]["text"]
    # PCN i has 150 i referrals a year per FTE: PCNs 2 and 3 are over 250
    assert "2 of 3 PCNs have link workers taking on more than a safe caseload" in text
    assert "The busiest is PCN 3" in text  # a bold name: the text has a space before ":"
    assert "450 new people a year per full-time link worker" in text
    assert re.search(r"<canvas\b", pages["link-workers"]["dom"])


def test_equity_page_compares_core20_with_the_rest(pages: dict, built_report: dict) -> None:
    text = pages["equity"]["text"]
    rows = dict(
        report_query(
            built_report,
            "select group_value, referrals_per_1000_per_year from icp.equity "
            "where equity_dimension = 'core20'",
        )
    )
    assert rows["core20"] == 15.0  # 600 / 40,000 x 1,000
    assert f"referred at {number(rows['core20'], 1)} per 1,000 a year" in text
    assert f"against {number(rows['rest'], 1)} per 1,000 for everyone else" in text


def test_methods_page_shows_the_published_builds_test_results(pages: dict) -> None:
    text = pages["methods"]["text"]
    # 3 dbt tests (one warning) of the published run and 1 Dagster check; not the later
    # failed build's results
    assert "3 of 4 checks passed in the build that produced this report's data" in text
    assert "1 gave a warning and 0 failed" in text
    assert (
        "dbt tests of the models and their sources: 3; Dagster checks of the loaded files: 1"
        in (text)
    )
    assert "source_freshness_referrals_recent warn" in text
    assert "fail" not in text.split("Checks that did not pass")[1].split("This build")[0]
    assert f"dbt run_results.json of Dagster run {PUBLISHED_RUN}" in text
    # unit tests are not part of the data build: the page says where they run
    assert "(dbt unit tests: the trickiest formulas worked through on small made-up" in text
    assert "run in the project's automated tests every time the code changes" in text


def test_community_groups_page_names_the_unpaid_groups(pages: dict) -> None:
    text = pages["community-groups"]["text"]
    # a year of four complete quarters: Alder 40 referrals, no money; Bramble 60, other
    # grants only; Gorse 80, paid from the contract; Hart took none
    assert (
        "2 of the 3 community groups that took referrals from link workers were paid nothing "
        "for it" in text
    )
    assert "1 of them had no funding of any kind" in text
    assert "Link workers sent these unpaid groups 100 people" in text
    # funding per referred person who came: 0, 50 and 60: the middle group £50
    assert "the middle group received £50 of funding" in text
    unpaid = text.split("The groups taking referrals without payment")[1].split("Places")[0]
    assert "Alder Walking Group" in unpaid and "Bramble Lunch Club" in unpaid
    assert "Gorse Arts CIC" not in unpaid and "Hart Choir" not in unpaid
    assert "none at all" in unpaid and "other grants only" in unpaid


def test_community_groups_page_shows_places_at_risk(pages: dict) -> None:
    text = pages["community-groups"]["text"]
    # 30 of 72 weekly places (41.7%) lose all their funding within 6 months
    assert (
        "30 community places a week (41.7% of all 72) are run by groups whose every grant is "
        "due to end within 6 months" in text
    )
    assert "30 within 3 months and 42 within 12 months" in text
    assert "They are in 1 of the 12 neighbourhoods" in text
    assert "Of £12,775 a year of current funding" in text
    assert "£3,650 is due to end within 6 months and £5,475 within 12 months" in text
    assert len(re.findall(r"<canvas\b", pages["community-groups"]["dom"])) >= 2


def test_council_page_opens_with_its_deprivation(pages: dict) -> None:
    text = pages["la-E06900002"]["text"]
    assert "Southdene's average deprivation score is 29.0" in text
    assert "against 24.5 for the ICB as a whole" in text
    # ranked among every district the deprivation source covers (Elsewhere is outside the ICB)
    assert "That makes it the most deprived of the 3 local authorities" in text
    assert "20.8% of its small areas (LSOAs) are among the most deprived 10% in England" in text
    assert "(ICB: 12.5%)" in text
    assert "number 2 most deprived" in pages["la-E06900001"]["text"]
    assert "Elsewhere" not in pages["la"]["text"]


def test_maps_outline_and_name_each_council(pages: dict) -> None:
    dom = pages["underfunded"]["dom"]
    assert 'data-councils="2"' in dom
    assert re.search(r"<text\b[^>]*>Northmoor</text>", dom)
    assert re.search(r"<text\b[^>]*>Southdene</text>", dom)
    assert 'data-councils="1"' in pages["la-E06900001"]["dom"]


def test_pages_without_their_mart_are_left_out(built_report: dict) -> None:
    build = built_report["build"]
    assert not (build / "capacity").exists() and not (build / "capacity.html").exists()
    assert "Capacity pressure" not in (build / "index.html").read_text()


def test_demo_geography_is_flagged(pages: dict) -> None:
    assert "fictional" in pages["index"]["text"]


def test_every_page_has_its_charts(pages: dict) -> None:
    for name in (
        "index",
        "underfunded",
        "la-E06900001",
        "link-workers",
        "equity",
        "community-groups",
    ):
        assert re.search(r"<canvas\b", pages[name]["dom"]), f"{name}: no chart drawn"


def test_no_internal_link_is_broken(pages: dict, server: dict) -> None:
    links: set[str] = set()
    for page in pages.values():
        for href in re.findall(r'href="(/[^"#]*)"', page["dom"]):
            if not href.startswith("/_app/") and not href.startswith("//"):
                links.add(href)
    assert {"/underfunded", "/methods", "/docs/metrics.md", "/docs/disclosure.md"} <= links
    broken = []
    for link in sorted(links):
        try:
            with urllib.request.urlopen(server["url"] + link, timeout=10) as response:
                if response.status != 200:
                    broken.append((link, response.status))
        except urllib.error.HTTPError as error:
            broken.append((link, error.code))
    assert broken == []


def test_browser_console_has_no_errors(pages: dict, server: dict) -> None:
    for name, page in pages.items():
        # Evidence's service worker always logs a line: proof that the console was captured
        assert page["console"], f"{name}: no console lines captured"
        errors = [
            message
            for message in page["console"]
            if CONSOLE_ERROR.search(message)
            and not any(harmless in message for harmless in HARMLESS_CONSOLE)
        ]
        assert errors == [], name
    requests = server["log"].read_text()
    assert re.search(r"GET /api/prerendered_queries/\w+\.arrow", requests), requests[-2000:]
    assert re.search(r"GET /_app/immutable/assets/duckdb-eh\.\w+\.wasm", requests)
    failures = re.findall(r'"[A-Z]+ (\S+) HTTP/[\d.]+" ([45]\d\d)', requests)
    assert failures == []


def test_screenshots_are_taken(pages: dict) -> None:
    for name, page in pages.items():
        shot = page["screenshot"]
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert shot.stat().st_size > 25_000, f"{name}: a blank page gives a tiny PNG"
