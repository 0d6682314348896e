"""The Evidence report, checked the way a reader sees it.

A small warehouse with known numbers is written (in the DuckDB 1.4-readable format, like the real
one), the report is built from it with the project's own npm scripts, served over HTTP and loaded
in headless Chromium. The test then reads the page as the browser rendered it: the numbers must be
there, including those only the browser renders (the table of widest gaps, filled from the query
results the page fetches into DuckDB-Wasm), and the console must stay free of errors.

The build runs in a temporary copy of reports/ (sharing its node_modules), so it never replaces
the real report in reports/build. Slow (a build takes 2-3 minutes): marked `report`.
"""

import html
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.report

REPORTS = Path(__file__).resolve().parents[2] / "reports"
# Copied into the temporary project; node_modules is linked, build output is not copied.
PROJECT_FILES = [
    "package.json",
    "package-lock.json",
    "evidence.config.yaml",
    "evidence.settings.json",
    "scripts",
    "sources",
    "pages",
    "components",
]
NPM_INSTALL_TIMEOUT_S = 900
SOURCES_TIMEOUT_S = 300
BUILD_TIMEOUT_S = 900
BROWSER_TIMEOUT_S = 180

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
    """Write the three marts the report reads, as the loader does: v1.4.0 storage."""
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
                onward_referrals_count bigint, activities_active_count bigint,
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
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                gap_score double, gap_rank bigint,
                period_start_date date, period_end_date date
            )
            """
        )
        con.executemany(
            f"insert into marts.fct_neighbourhood_gap values ({', '.join('?' * 19)})",
            [
                [row[column] for column in columns] + [month_start(0), date(2026, 10, 31)]
                for row in gap
            ],
        )
    finally:
        con.close()


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
    if shutil.which("npm") is None:
        pytest.fail("npm is not installed: the report needs Node 20 and npm")
    modules = REPORTS / "node_modules"
    if not (modules / ".bin" / "evidence").exists():
        run(["npm", "install", "--no-audit", "--no-fund"], REPORTS, NPM_INSTALL_TIMEOUT_S)
    return modules


@pytest.fixture(scope="module")
def built_report(tmp_path_factory: pytest.TempPathFactory, node_modules: Path) -> Path:
    """Build the report from the fixture warehouse in a copy of reports/; return its build/."""
    root = tmp_path_factory.mktemp("report")
    warehouse = root / "warehouse.duckdb"
    write_warehouse(warehouse)
    project = root / "reports"
    project.mkdir()
    for name in PROJECT_FILES:
        source = REPORTS / name
        if source.is_dir():
            shutil.copytree(source, project / name)
        elif source.exists():
            shutil.copy2(source, project / name)
    (project / "node_modules").symlink_to(node_modules, target_is_directory=True)
    env = {**os.environ, "ICB_INSIGHT_REPORT_DB": str(warehouse), "DO_NOT_TRACK": "1"}
    run(["npm", "run", "sources"], project, SOURCES_TIMEOUT_S, env)
    run(["npm", "run", "build:strict"], project, BUILD_TIMEOUT_S, env)
    build = project / "build"
    assert (build / "index.html").exists()
    return build


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(built_report: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
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
                str(built_report),
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/"
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
        process.wait(timeout=10)


def load_page(chromium: str, url: str, out_dir: Path) -> dict:
    """Load a page in headless Chromium; return its rendered DOM, console and a screenshot."""
    common = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--window-size=1280,2000",
        # virtual time runs the page's timers and queries to completion before the dump
        "--virtual-time-budget=30000",
        "--enable-logging=stderr",
        "--v=0",
    ]
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [
                "timeout",
                str(BROWSER_TIMEOUT_S),
                *common,
                f"--user-data-dir={profile}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
        )
    assert dom.returncode == 0, dom.stderr[-3000:]
    screenshot = out_dir / "index.png"
    with tempfile.TemporaryDirectory() as profile:
        shot = subprocess.run(
            [
                "timeout",
                str(BROWSER_TIMEOUT_S),
                *common,
                f"--user-data-dir={profile}",
                f"--screenshot={screenshot}",
                url,
            ],
            capture_output=True,
            text=True,
        )
    assert shot.returncode == 0, shot.stderr[-3000:]
    console = [
        match.group(1)
        for stderr in (dom.stderr, shot.stderr)
        for match in re.finditer(r":CONSOLE[:(]\d+\)?\] (.*)", stderr)
    ]
    return {"dom": dom.stdout, "console": console, "screenshot": screenshot}


def visible_text(page: str) -> str:
    """The page's text, as a reader sees it: no scripts or styles, whitespace collapsed."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


@pytest.fixture(scope="module")
def index_page(chromium: str, server: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    page = load_page(chromium, server["url"], tmp_path_factory.mktemp("browser"))
    page["text"] = visible_text(page["dom"])
    return page


# ----------------------------------------------------------------------------------------------
# What the reader must see.
# ----------------------------------------------------------------------------------------------

GAP = gap_rows()


def test_headline_numbers_are_rendered(index_page: dict) -> None:
    text = index_page["text"]
    # 12 complete months of (i + m) referrals over 12 neighbourhoods; the partial month is left out
    assert "received 1,728 referrals" in text
    assert "13,728" not in text
    # 252 weekly places for 99,000 people
    assert "offer 2.5 places a week for every 1,000 people" in text
    above = sum(1 for row in GAP if row["gap_score"] > 0)
    assert f"In {above} of the 12 neighbourhoods" in text
    assert "12 months from 1 November 2025 to 31 October 2026" in text


def test_widest_gaps_are_listed_in_order(index_page: dict, built_report: Path) -> None:
    text = index_page["text"]
    first, tenth = GAP[0], GAP[9]
    assert f"The widest gap is in {first['neighbourhood_name']} ({first['lad_name']})" in text
    # The table is filled in the browser, from the query results the page fetches: the tenth
    # row is in the rendered page but not in the prebuilt HTML.
    row = f"10 {tenth['neighbourhood_name']} {tenth['lad_name']}"
    assert row in text
    assert tenth["neighbourhood_name"] not in (built_report / "index.html").read_text()
    assert f"{first['gap_score']:.2f}" in text
    for excluded in GAP[10:]:
        assert excluded["neighbourhood_name"] not in text, "only the top 10 belong in the list"


def test_monthly_referrals_are_rendered(index_page: dict) -> None:
    text = index_page["text"]
    # October 2026, the last complete month: sum of (i + 11) over 12 neighbourhoods
    assert "In October 2026, the latest complete month, link workers received 210 referrals" in text
    assert "Loading..." not in text, "a query was still running when the page was read"
    charts = re.findall(r"<canvas\b", index_page["dom"])
    assert len(charts) >= 2, "the bar chart and the line chart should both be drawn"


def test_demo_geography_is_flagged_and_data_is_named(index_page: dict) -> None:
    text = index_page["text"]
    assert "fictional" in text
    assert "Built from warehouse.duckdb" in text
    assert "Neighbourhoods are MSOAs (middle layer super output areas)" in text
    assert "not yet suppressed" in text


def test_browser_console_has_no_errors(index_page: dict, server: dict) -> None:
    # Evidence's service worker always logs a line: proof that the console was captured
    assert index_page["console"], "no console lines captured: check --enable-logging=stderr"
    errors = [
        message
        for message in index_page["console"]
        if CONSOLE_ERROR.search(message)
        and not any(harmless in message for harmless in HARMLESS_CONSOLE)
    ]
    assert errors == []
    requests = server["log"].read_text()
    # Evidence runs each page query at build time and the browser loads the results (Arrow)
    # into DuckDB-Wasm; both must have been fetched.
    assert re.search(r"GET /api/prerendered_queries/\w+\.arrow", requests), requests[-2000:]
    assert re.search(r"GET /_app/immutable/assets/duckdb-eh\.\w+\.wasm", requests)
    failures = re.findall(r'"[A-Z]+ (\S+) HTTP/[\d.]+" ([45]\d\d)', requests)
    assert failures == []


def test_screenshot_is_taken(index_page: dict) -> None:
    shot = index_page["screenshot"]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000, "a blank page gives a tiny PNG"
