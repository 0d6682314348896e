"""Build the Evidence site (reports/) from report.duckdb, and swap it into reports/build only
when the build succeeded, so a failed build leaves last week's report in place.

The build runs in a hidden working copy of the Evidence project inside reports/ (sharing its
node_modules), with the map's GeoJSON and every local authority's latest extract package
copied into the copy's ``static/`` folder, so they are served from the site itself. Every npm
step runs under ``timeout``: a regression fails instead of hanging.

``python -m orchestration.reporting.site`` (what ``make report`` runs) builds the report data
from the published warehouse and then the site.
"""

import argparse
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from orchestration import settings

log = logging.getLogger(__name__)

REPORTS_DIR = settings.PROJECT_ROOT / "reports"
# Copied into the working copy; node_modules is linked, build output is not copied.
PROJECT_FILES = (
    "package.json",
    "package-lock.json",
    "evidence.config.yaml",
    "evidence.settings.json",
    "scripts",
    "sources",
    "pages",
    "components",
    "static",
)
NPM_INSTALL_TIMEOUT_S = 900
SOURCES_TIMEOUT_S = 300
BUILD_TIMEOUT_S = 900
SKIP_ENV = "ICB_INSIGHT_SKIP_REPORT"
# Served with the site, linked from the Methods page (the definitions and the suppression rule).
SITE_DOCS = (
    settings.PROJECT_ROOT / "docs" / "metrics.md",
    settings.PROJECT_ROOT / "docs" / "disclosure.md",
)


# Pages shown only when report.duckdb holds their table (its mart is published), with the
# source query that reads it; a page whose mart does not exist yet is left out of the site.
PAGE_NEEDS: dict[str, tuple[str, ...]] = {
    "pages/capacity.md": ("activity_pressure",),
    "pages/link-workers.md": ("pcn_caseload",),
    "pages/equity.md": ("equity",),
    "pages/community-groups.md": ("community_groups", "funding_cliff"),
}


class ReportBuildError(Exception):
    """The Evidence build failed or timed out; reports/build is unchanged."""


def skip_requested() -> bool:
    return os.environ.get(SKIP_ENV, "").strip().lower() in {"1", "true", "yes"}


def run(command: list[str], cwd: Path, timeout_s: int, env: Mapping[str, str]) -> str:
    """Run ``command`` under ``timeout``; raise ReportBuildError with its output's tail."""
    result = subprocess.run(
        ["timeout", "--kill-after=10", str(timeout_s), *command],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    if result.returncode == 124:
        raise ReportBuildError(
            f"{' '.join(command)} timed out after {timeout_s} s:\n{output[-4000:]}"
        )
    if result.returncode != 0:
        raise ReportBuildError(f"{' '.join(command)} failed:\n{output[-4000:]}")
    return output


def ensure_node_modules(reports_dir: Path = REPORTS_DIR) -> Path:
    """reports/node_modules, installed with ``npm install`` on first use."""
    if shutil.which("npm") is None:
        raise ReportBuildError("npm is not installed: the report needs Node 20 and npm")
    modules = reports_dir / "node_modules"
    if not (modules / ".bin" / "evidence").exists():
        run(
            ["npm", "install", "--no-audit", "--no-fund"],
            reports_dir,
            NPM_INSTALL_TIMEOUT_S,
            os.environ,
        )
    return modules


def prepare_project(
    work: Path,
    *,
    node_modules: Path,
    static_files: Mapping[str, Path] = {},
    reports_dir: Path = REPORTS_DIR,
    tables: set[str] | None = None,
) -> Path:
    """A working copy of the Evidence project in ``work`` with ``static_files`` (site path ->
    file on disk) added under static/, and without the pages (and source queries) whose
    table is not among ``tables`` (the tables report.duckdb holds). Returns ``work``."""
    work.mkdir(parents=True)
    for name in PROJECT_FILES:
        source = reports_dir / name
        if source.is_dir():
            shutil.copytree(source, work / name)
        elif source.exists():
            shutil.copy2(source, work / name)
    (work / "node_modules").symlink_to(node_modules.resolve(), target_is_directory=True)
    if tables is not None:
        for page, needed in PAGE_NEEDS.items():
            missing = [table for table in needed if table not in tables]
            if missing:
                (work / page).unlink(missing_ok=True)
            for table in missing:
                (work / "sources" / "warehouse" / f"{table}.sql").unlink(missing_ok=True)
    for site_path, file in static_files.items():
        target = work / "static" / site_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)
    return work


def static_files_for(
    geojson: Path | None,
    extracts: Mapping[str, Mapping],
    publisher_quality: Path | None = None,
) -> dict[str, Path]:
    """The map's GeoJSON, what publishers' data lacks (CSV) and each local authority's latest
    extract package, by site path."""
    files: dict[str, Path] = {}
    for doc in SITE_DOCS:
        if doc.exists():
            files[f"docs/{doc.name}"] = doc
    for data_file in (geojson, publisher_quality):
        if data_file is not None and data_file.exists():
            files[f"data/{data_file.name}"] = data_file
    for la_code, package in extracts.items():
        for name in package["files"]:
            files[f"extracts/{la_code}/{name}"] = Path(package["path"]) / name
    return files


def report_tables(report_db: Path) -> set[str]:
    """The tables report.duckdb holds (schema icp)."""
    import duckdb

    con = duckdb.connect(str(report_db), read_only=True)
    try:
        rows = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'icp'"
        ).fetchall()
    finally:
        con.close()
    return {name for (name,) in rows}


def report_councils(report_db: Path) -> set[str]:
    """The local authority codes report.duckdb lists (icp.local_authorities)."""
    import duckdb

    con = duckdb.connect(str(report_db), read_only=True)
    try:
        rows = con.execute("select lad_code from icp.local_authorities").fetchall()
    finally:
        con.close()
    return {code for (code,) in rows}


def _remove_abandoned_work(out: Path) -> None:
    """Working copies left by a build that was killed (its process is gone)."""
    for work in out.parent.glob(f".{out.name}-work-*"):
        try:
            os.kill(int(work.name.rsplit("-", 1)[1]), 0)
        except ProcessLookupError:
            shutil.rmtree(work, ignore_errors=True)
        except (ValueError, PermissionError):
            continue


def build_site(
    report_db: Path,
    *,
    static_files: Mapping[str, Path] = {},
    reports_dir: Path = REPORTS_DIR,
    out: Path | None = None,
) -> Path:
    """Build the site from ``report_db`` and swap it into ``out`` (reports/build)."""
    out = out or reports_dir / "build"
    node_modules = ensure_node_modules(reports_dir)
    # beside the output, so the finished build is renamed into place on one file system
    work = out.parent / f".{out.name}-work-{os.getpid()}"
    _remove_abandoned_work(out)
    shutil.rmtree(work, ignore_errors=True)
    env = {
        **os.environ,
        "ICB_INSIGHT_REPORT_DB": str(Path(report_db).resolve()),
        "DO_NOT_TRACK": "1",
    }
    try:
        prepare_project(
            work,
            node_modules=node_modules,
            static_files=static_files,
            reports_dir=reports_dir,
            tables=report_tables(report_db),
        )
        run(["npm", "run", "sources"], work, SOURCES_TIMEOUT_S, env)
        run(["npm", "run", "build:strict"], work, BUILD_TIMEOUT_S, env)
        built = work / "build"
        if not (built / "index.html").exists():
            raise ReportBuildError(f"the build wrote no {built / 'index.html'}")
        old = out.with_name(f".{out.name}-old-{os.getpid()}")
        if out.exists():
            os.replace(out, old)
        os.replace(built, out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("report built in %s", out)
    return out


def extracts_dir(build_db: Path) -> Path:
    """Where the local authority extracts are written: data/extracts beside data/warehouse
    (the layout orchestration.extracts uses)."""
    return Path(build_db).resolve().parent.parent / "extracts"


def build_report(
    build_db: Path,
    *,
    site: bool = True,
    reports_dir: Path = REPORTS_DIR,
    asset_checks: Sequence[dict[str, str]] = (),
    icb_code: str | None = None,
) -> dict:
    """report.duckdb from the published warehouse beside ``build_db`` (of ICB ``icb_code``
    when it holds several), then the site."""
    from orchestration.report_data import build_report_data, latest_extracts

    root = extracts_dir(build_db)
    data = build_report_data(
        build_db, extracts_root=root, asset_checks=asset_checks, icb_code=icb_code
    )
    result: dict = {"report_db": data.path, "tables": data.tables, "site": None}
    if site:
        # the packages of this report's local authorities only (not every ICB's)
        councils = report_councils(data.path)
        extracts = {code: p for code, p in latest_extracts(root).items() if code in councils}
        files = static_files_for(data.geojson, extracts, data.publisher_quality)
        result["site"] = build_site(data.path, static_files=files, reports_dir=reports_dir)
        result["static_files"] = sorted(files)
    return result


def published_asset_checks(build_db: Path) -> list[dict[str, str]]:
    """The Dagster asset checks of the run that published the warehouse, from the project's
    Dagster instance (DAGSTER_HOME); none when that run is not recorded there."""
    from dagster import DagsterInstance

    from orchestration.publish import published_path
    from orchestration.report_data import published_run_id
    from orchestration.reporting.assets import asset_check_rows

    settings.ensure_dagster_home()  # the project's instance, where `make demo` records runs
    try:
        instance = DagsterInstance.get()
    except Exception as error:  # noqa: BLE001 - the report is still built, without them
        log.info("report: Dagster checks not read (%s)", error)
        return []
    return asset_check_rows(instance, published_run_id(published_path(build_db)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", help="warehouse folder or build .duckdb (default: settings)")
    parser.add_argument("--data-only", action="store_true", help="write report.duckdb only")
    parser.add_argument(
        "--icb",
        help="the ICB code whose report to build, when the warehouse holds several "
        "(default: ICB_INSIGHT_REPORT_ICB)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        build_db = settings.warehouse_db_path(args.warehouse)
        result = build_report(
            build_db,
            site=not args.data_only,
            asset_checks=published_asset_checks(build_db),
            icb_code=args.icb,
        )
    except Exception as error:  # noqa: BLE001 - a plain message, exit 2
        log.error("report: %s", error)
        return 2
    log.info("report data: %s", result["report_db"])
    if result["site"]:
        log.info("report site: %s", result["site"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
