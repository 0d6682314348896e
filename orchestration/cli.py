"""``icb-insight``: the command line, one verb per job.

Bad input ends with a plain message on stderr and exit code 2; a fault in the program with
exit code 1 (add ``--debug`` for the traceback). Nothing else prints tracebacks.
"""

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ingest.load import LoadResult

from ingest.errors import InputError
from orchestration import settings
from orchestration.progress import quiet_output
from orchestration.reference_cli import reference_app

log = logging.getLogger("icb_insight")

app = typer.Typer(
    name="icb-insight",
    help=(
        "Need versus community capacity for social prescribing, neighbourhood by "
        "neighbourhood, for NHS Integrated Care Boards."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(reference_app, name="reference")

WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        help="Warehouse folder or .duckdb file "
        f"(default: ${settings.WAREHOUSE_ENV}, else data/warehouse/); never published.duckdb "
        "or a file in versions/.",
        show_default=False,
    ),
]


@contextmanager
def _writing(warehouse: Path | None) -> Iterator[Path]:
    """The warehouse file a command writes, held for the command (orchestration.build_lock):
    refused at once if it is the published file or a version, cannot be written, or another
    build is running on it."""
    from orchestration.build_lock import writing

    db_path = settings.warehouse_db_path(warehouse)
    with writing(db_path):
        yield db_path


_state = {"debug": False}


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More detail.")] = False,
) -> None:
    _state["debug"] = debug
    # Our own progress messages at INFO; other libraries only when something is wrong.
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr, force=True)
    for name in ("icb_insight", "ingest", "orchestration"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.INFO)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")


def _progress(message: str) -> None:
    log.info("  %s", message)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the source files into.")],
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 42,
    scale: Annotated[
        str,
        typer.Option(help="Size: tiny, small, icb (about 1.5 million people), region, england."),
    ] = "icb",
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Last date in the data, YYYY-MM-DD [default: last Sunday]."),
    ] = None,
) -> None:
    """Write synthetic demo sources for a fictional ICB, one file per contract."""
    as_of_date = _parse_date(as_of, "--as-of") if as_of else None
    from ingest.generate import SCALES
    from ingest.generate import generate as run_generate

    if scale not in SCALES:
        raise InputError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    started = time.monotonic()
    log.info("Generating %s-scale demo data (seed %s) into %s", scale, seed, out)
    result = run_generate(out, seed=seed, scale=scale, as_of=as_of_date, progress=_progress)
    lines = [f"Demo sources written to {out} (data up to {result.as_of}):"]
    for name, path in result.files.items():
        lines.append(f"  {path.name:<28} {result.rows[name]:>12,} rows")
    lines.append(f"Done in {time.monotonic() - started:.1f} s. The geography is fictional.")
    typer.echo("\n".join(lines))


DIRECTORY_SOURCE = "directory"


def _contract_names() -> list[str]:
    from ingest.contracts import CONTRACTS

    return list(CONTRACTS)


def _periods_help() -> str:
    from ingest.contracts import CONTRACTS

    by_month = [f"{c.name} ({c.period_column})" for c in CONTRACTS.values() if c.period_column]
    snapshots = [c.name for c in CONTRACTS.values() if not c.period_column and not c.replace_scope]
    scoped = [
        f"{c.name} (the same {', '.join(c.replace_scope)})"
        for c in CONTRACTS.values()
        if c.replace_scope
    ]
    return (
        f"Periods: a file replaces the months it holds for {', '.join(by_month)}; "
        f"the rows of the directories it holds for {', '.join(scoped)}; "
        f"a file of {', '.join(snapshots)} replaces the whole table."
    )


_INGEST_HELP = "\n\n".join(
    [
        "Check files of one source against its contract and load them into the warehouse.",
        "Files: CSV (comma, semicolon, tab or pipe; UTF-8 with or without BOM, or "
        "Windows-1252), XLSX (first sheet, or --sheet), Parquet, JSON (records). "
        "provider_funding takes a funder's 360Giving publication as published: the JSON "
        "package, the flat CSV or the spreadsheet (XLSX or ODS, every sheet), and replaces "
        "only that funder's grants. Headers may differ in case, spaces and order. "
        "docs/contracts.md lists every source's columns and rules.",
        "Refused whole, with nothing kept: a file carrying identifiable data (NHS numbers, "
        "full postcodes, dates of birth, names or addresses); an empty, unreadable or "
        "truncated file; a file missing required columns (or, with --strict, having unknown "
        "ones).",
        "Rows that break a rule (type, required, allowed values, code formats, dates in the "
        "future or out of order, ranges, duplicate keys, unknown foreign keys) are set aside "
        "in audit.quarantine with the row, column and rule; the rest load. For every file, "
        "rows read = loaded + quarantined, recorded in audit.loads, and the file is archived "
        "unchanged under its sha256. Loading the same file again changes nothing.",
        "directory FILE...: an Open Referral directory as its API returns it (/services "
        "list pages and /services/{id} full records; ORUK v1, HSDS 3.0 and 3.1), loaded as "
        "providers and activities, one load each, replacing only that directory's records. "
        "Venues are placed in LSOAs from their coordinates; a service without a location in "
        "--local-authority. Kept: organisation and service ids, names, identifiers, taxonomy "
        "terms, venue LSOA, sessions a week, places, cost; contacts, addresses, phones and "
        "emails are dropped unkept.",
        "A file is known by its label (source, the start of its sha256, extension) in the "
        "warehouse, the archive and every message; the name it was sent under is not kept.",
        "A file that removes keys other sources' rows point to (a referral, an activity) sets "
        "those rows aside too, as foreign_key, with their own file's audit.loads counts "
        "updated; no file has to be sent again for that.",
    ]
)


@app.command(
    help=_INGEST_HELP,
    epilog=(
        _periods_help() + "\n\n"
        "Exit codes: 0 every file loaded (rows that break a rule are set aside, not lost); "
        "2 a file was refused (the message names the file, the reason and, where it can, the "
        "row and column); 1 a fault in icb-insight itself."
    ),
)
def ingest(
    source: Annotated[
        str,
        typer.Argument(
            help="Contract name: "
            + ", ".join(_contract_names())
            + "; or directory: Open Referral pages and full service records (JSON), loaded "
            "as providers and activities."
        ),
    ],
    paths: Annotated[list[Path], typer.Argument(help="Files to load.")],
    warehouse: WarehouseOption = None,
    strict: Annotated[bool, typer.Option(help="Refuse files with unknown extra columns.")] = False,
    sheet: Annotated[
        str | None, typer.Option(help="XLSX sheet to read (default: the first sheet).")
    ] = None,
    directory: Annotated[
        str | None,
        typer.Option(
            "--directory",
            help="With SOURCE directory: the directory's short name (its records replace "
            "only this directory's) [default: --local-authority, else the first file's "
            "folder name].",
        ),
    ] = None,
    local_authority: Annotated[
        str | None,
        typer.Option(
            "--local-authority",
            help="With SOURCE directory: the publisher's local authority (E06/E07/E08/E09 "
            "code); services without a location are placed there.",
        ),
    ] = None,
    boundaries: Annotated[
        Path | None,
        typer.Option(
            "--boundaries",
            help="With SOURCE directory: GeoJSON of LSOA 2021 polygons [default: "
            "$ICB_INSIGHT_LSOA_BOUNDARIES, else the shared reference copy].",
        ),
    ] = None,
) -> None:
    """Check files of one source against its contract and load them (help: _INGEST_HELP)."""
    from ingest.contracts import get_contract
    from ingest.load import load_file

    if source == DIRECTORY_SOURCE:
        _ingest_directory(paths, warehouse, directory, local_authority, boundaries)
        return
    try:
        contract = get_contract(source)
    except KeyError as error:
        raise InputError(str(error.args[0])) from None
    refused = 0
    with _writing(warehouse) as db_path:
        for number, path in enumerate(paths, start=1):
            try:
                result = load_file(contract, path, db_path, strict=strict, sheet=sheet)
            except InputError as error:
                refused += 1
                # a message without the path (its name was not fit to repeat) says which file
                where = "" if error.path or len(paths) == 1 else f"file {number} of {len(paths)}: "
                typer.echo(f"error: {where}{error.message}", err=True)
                continue
            _echo_result(result)
    typer.echo(f"Warehouse: {db_path}")
    if refused:
        typer.echo(
            f"{refused} of {len(paths)} file{'s' if len(paths) > 1 else ''} refused; nothing "
            f"of {'them' if refused > 1 else 'it'} was kept",
            err=True,
        )
        raise typer.Exit(2)


def _echo_result(result: "LoadResult") -> None:
    typer.echo(result.summary())
    for line in [*result.quarantine_lines(), *result.downstream_lines()]:
        typer.echo(f"    {line}")
    if result.rows_quarantined:
        typer.echo(
            f"    set-aside rows: select * from audit.quarantine where load_id = '{result.load_id}'"
        )


def _ingest_directory(
    paths: list[Path],
    warehouse: Path | None,
    directory: str | None,
    local_authority: str | None,
    boundaries: Path | None,
) -> None:
    """Load an Open Referral directory's pages and full records as providers and activities."""
    from ingest.openreferral.load import load_directory_feed

    name = directory or local_authority or Path(paths[0]).resolve().parent.name
    with _writing(warehouse) as db_path:
        results = load_directory_feed(
            paths,
            db_path,
            directory_id=name,
            local_authority=local_authority,
            boundaries=boundaries,
        )
        for result in results:
            _echo_result(result)
    typer.echo(f"Directory {name}: {len(paths)} file{'s' if len(paths) > 1 else ''} read")
    typer.echo(f"Warehouse: {db_path}")


@app.command()
def build(
    warehouse: WarehouseOption = None,
    sources: Annotated[
        Path | None,
        typer.Option(
            help=f"Folder of source files (default: ${settings.SOURCES_ENV}, else data/demo/)."
        ),
    ] = None,
) -> None:
    """Run the full Dagster build: ingest every source file, then dbt build with tests."""
    db_path = _run_full_build(warehouse, sources)
    typer.echo(_summary(db_path))


@app.command()
def demo(
    scale: Annotated[str, typer.Option(help="Size of the fictional ICB.")] = "icb",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    warehouse: WarehouseOption = None,
    icb: Annotated[
        str | None,
        typer.Option("--icb", help="Build on this real ICB's areas (E54 code) instead."),
    ] = None,
    reference_dir: Annotated[
        Path | None,
        typer.Option("--reference-dir", help="Folder of the published reference files."),
    ] = None,
) -> None:
    """Generate demo data and run the whole pipeline on it.

    With --icb and --reference-dir the areas, population, deprivation and practices are a
    real ICB's (from the published files); referrals and community activity are synthetic.
    """
    out = settings.DEFAULT_SOURCES_DIR
    if icb and reference_dir is None:
        raise InputError("--icb needs --reference-dir (the folder of published files)")
    with _writing(warehouse):  # held from before the sources are written until the build ends
        if icb:
            from orchestration.reference_cli import write_real_demo

            write_real_demo(out, reference_dir, icb, seed=seed, scale=scale)
        else:
            generate(out=out, seed=seed, scale=scale, as_of=None)
        db_path = _run_full_build(warehouse, out)
    typer.echo(_summary(db_path))


@app.command()
def publish(
    warehouse: WarehouseOption = None,
    rollback: Annotated[
        bool, typer.Option("--rollback", help="Restore the previously published version.")
    ] = False,
) -> None:
    """List the published versions of the warehouse, or roll back to the previous one.

    Only the build job publishes, and only after every test and check has passed. Analysts
    open published.duckdb read-only; a publish or rollback swaps the file atomically and
    never blocks them.
    """
    from orchestration import publish as publishing
    from orchestration.build_lock import check_not_published

    db_path = settings.warehouse_db_path(warehouse)
    check_not_published(db_path)  # it names the working warehouse, beside the published one
    if rollback:
        with _writing(warehouse):
            try:
                version = publishing.rollback(db_path)
            except publishing.PublishError as error:
                raise InputError(str(error)) from None
        typer.echo(f"Rolled back: {publishing.published_path(db_path)} is now {version.version_id}")
    current = publishing.current_version(db_path)
    for version in publishing.list_versions(db_path):
        marker = "*" if current and version.version_id == current.version_id else " "
        run = version.metadata.get("run_id", "-")
        typer.echo(f" {marker} {version.version_id}  run {run}")


@app.command()
def extracts(
    la: Annotated[
        list[str] | None,
        typer.Option("--la", help="Local authority code (repeat for more) [default: all]."),
    ] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Write local authority extracts from the published warehouse, small numbers suppressed.

    One folder per local authority, <warehouse folder>/../extracts/RUN_DATE/LA_CODE/ (so
    data/extracts/ by default), holding its neighbourhoods only as CSV, Parquet and one XLSX
    workbook with a README sheet, and manifest.json with row counts and sha256 of every file.
    The suppression rule is in docs/disclosure.md.
    """
    from orchestration import extracts as la_extracts

    with _writing(warehouse) as db_path:
        try:
            written = la_extracts.build_extracts(db_path, la or None)
        except la_extracts.ExtractError as error:
            raise InputError(str(error)) from None
    for extract in written:
        rows = ", ".join(f"{name} {t['rows']:,}" for name, t in extract.manifest["tables"].items())
        typer.echo(f"{extract.la_code} {extract.manifest['la_name']}: {extract.path} ({rows} rows)")


@app.command(
    epilog="Exit codes: 0 every source loaded or unchanged; 2 the sources file is wrong (the "
    "message names the entry) or a source could not be pulled or was refused (its last good "
    "load is kept); 1 a fault in icb-insight itself."
)
def pull(
    sources_file: Annotated[
        Path | None,
        typer.Option(
            "--sources-file",
            help=f"The community sources file (default: ${settings.COMMUNITY_SOURCES_ENV}, "
            "else community_sources.yml at the project root; community_sources.example.yml "
            "documents it).",
            show_default=False,
        ),
    ] = None,
    only: Annotated[
        str | None, typer.Option("--only", help="Pull one kind: open_referral or giving360.")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Check the sources file only; pull nothing.")
    ] = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Pull the community sources (Open Referral UK directories, 360Giving publications) and
    load what changed since the last pull; a source that cannot be pulled keeps its last good
    load. The Dagster job community_pull does the same on a weekly schedule."""
    from ingest.pull.config import read_sources
    from ingest.pull.loaders import load_pulled
    from ingest.pull.run import pull_sources

    path = settings.community_sources_path(sources_file)
    sources = read_sources(path)
    kinds = {"open_referral", "giving360"}
    if only is not None and only not in kinds:
        raise InputError(f"--only must be open_referral or giving360, not {only!r}")
    if check:
        typer.echo(
            f"{path}: {len(sources.open_referral)} Open Referral directories, "
            f"{len(sources.giving360)} 360Giving publications; the file is valid"
        )
        return
    with _writing(warehouse) as db_path:
        outcomes = pull_sources(sources, db_path, load_pulled, only=[only] if only else None)
    failed = [outcome for outcome in outcomes if outcome.status == "failed"]
    for outcome in outcomes:
        typer.echo(outcome.line(), err=outcome.status == "failed")
    typer.echo(f"Warehouse: {db_path}")
    if failed:
        raise typer.Exit(2)


def _run_full_build(warehouse: Path | None, sources: Path | None) -> Path:
    with _writing(warehouse) as db_path:
        return _full_build(db_path, _checked_sources(settings.sources_dir(sources)))


def _checked_sources(folder: Path) -> Path:
    """The folder of source files, refused if it is missing, a file, or holds no source file."""
    from ingest.contracts import CONTRACTS
    from ingest.load import SOURCE_EXTENSIONS, find_source_file

    where = f"the sources folder {folder} (--sources, or ${settings.SOURCES_ENV})"
    if not folder.exists():
        raise InputError(f"{where} does not exist")
    if not folder.is_dir():
        raise InputError(f"{where} is a file, not a folder of source files")
    if not any(find_source_file(folder, contract) for contract in CONTRACTS.values()):
        raise InputError(
            f"{where} holds no source file: expected one or more of "
            + ", ".join(contract.file_name for contract in CONTRACTS.values())
            + f" (or the source's name with any of {', '.join(SOURCE_EXTENSIONS)})"
        )
    return folder


def _full_build(db_path: Path, sources: Path) -> Path:
    os.environ[settings.WAREHOUSE_ENV] = str(db_path)
    os.environ[settings.SOURCES_ENV] = str(sources)
    settings.ensure_dagster_home()

    from dagster import DagsterInstance

    from orchestration.dbt.project import prepare

    log.info("Parsing the dbt project")
    prepare(force=True)
    from orchestration.definitions import defs

    job = defs.resolve_job_def("full_build")
    # one log per build, also for builds of other warehouses started in the same second
    started_at = time.strftime("%Y%m%dT%H%M%S")
    log_path = settings.DATA_DIR / "logs" / f"build-{started_at}-{os.getpid()}.log"
    log.info("Running the full_build job (ingest, dbt build with tests, publish) into %s", db_path)
    log.info("  full log: %s; every run is also in the Dagster UI (make dev)", log_path)
    started = time.monotonic()
    with quiet_output(log_path), DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    if not result.success:
        failures = [
            f"{event.step_key}: {event.event_specific_data.error.message.strip()}"  # type: ignore[union-attr]
            for event in result.all_events
            if event.is_step_failure
        ]
        raise BuildFailed(
            "the build failed; the published warehouse is unchanged.\n  "
            + "\n  ".join(failures)
            + f"\nFull log: {log_path}"
        )
    log.info("Build finished in %.0f s (run %s)", time.monotonic() - started, result.run_id)
    return db_path


class BuildFailed(Exception):
    """A build step failed; its own message says which and why."""


def _summary(db_path: Path) -> str:
    from orchestration.summary import build_summary

    return build_summary(db_path)


def _parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} must be a date as YYYY-MM-DD, not {text!r}") from None


def main() -> None:
    """Entry point: run the app, turning errors into plain messages and exit codes."""
    try:
        code = app(standalone_mode=False)
    except InputError as error:
        if _state["debug"]:
            raise
        typer.echo(f"error: {error.message}", err=True)
        sys.exit(2)
    except BuildFailed as error:
        if _state["debug"]:
            raise
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as error:  # a fault in the program, not in the input
        import click

        if isinstance(error, click.ClickException):
            error.show()
            sys.exit(2)
        if _state["debug"]:
            raise
        typer.echo(
            f"internal error: {type(error).__name__}: {error}\n"
            "This is a fault in icb-insight, not in your data; rerun with --debug for details.",
            err=True,
        )
        sys.exit(1)
    if isinstance(code, int) and code:  # a command's typer.Exit(code)
        sys.exit(code)


if __name__ == "__main__":
    main()
