"""``icb-insight reference``: the government's published reference files.

``download`` fetches them from their publishers (or a mirror) with checksums and a record of
what came from where; ``prepare`` turns a folder of them into the geography, practices,
population and deprivation files the build reads, for one real ICB.
"""

import logging
from pathlib import Path
from typing import Annotated

import typer

log = logging.getLogger("icb_insight")

reference_app = typer.Typer(
    help="Published reference files: fetch them, and prepare them for one real ICB.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

ReferenceDirOption = Annotated[
    Path,
    typer.Option(
        "--reference-dir",
        help="Folder of the published reference files (from `reference download`, or "
        "../shared/data/reference).",
    ),
]


@reference_app.command()
def download(
    out: Annotated[Path, typer.Option("--out", help="Folder to save the files into.")],
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="Fetch every file from URL/<file name> (a mirror laid out like "
            "../shared/data/reference) instead of from its publisher.",
        ),
    ] = None,
) -> None:
    """Fetch the official reference files, with SHA256SUMS and provenance.json.

    Files a publisher gives no stable address for are listed with the page to get them
    from. Exit 2 if a required file could not be fetched (the record is still written).
    """
    from ingest.reference.download import download as run_download

    log.info("Fetching reference files into %s", out)
    try:
        results = run_download(out, base_url=base_url)
    finally:
        log.info("Record: %s", out / "provenance.json")
    for result in results:
        detail = f"{result.bytes:>12,} bytes" if result.bytes is not None else result.message
        typer.echo(f"  {result.status:<10} {result.name}  {detail}")
    typer.echo(f"Saved in {out}: SHA256SUMS, provenance.json")


@reference_app.command()
def prepare(
    reference_dir: ReferenceDirOption,
    icb: Annotated[str, typer.Option("--icb", help="ICB code, e.g. E54000061.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the four files into.")],
    iod: Annotated[
        int,
        typer.Option(
            "--iod",
            help="IoD edition: 2025 (2021 LSOAs) or 2019 (2011 LSOAs, carried onto 2021).",
        ),
    ] = 2025,
) -> None:
    """Write geography, practices, population and deprivation files for one ICB.

    The files are in the layouts `icb-insight ingest` and `build` read;
    reference_provenance.json says which file and vintage each figure came from.
    """
    from ingest.errors import InputError
    from ingest.reference.prepare import prepare as run_prepare

    if iod not in (2019, 2025):
        raise InputError(f"--iod must be 2019 or 2025, not {iod}")
    prepared, files = run_prepare(reference_dir, icb, out, edition=iod)
    name = prepared.provenance.get("icb_name")
    lines = [f"{icb} {name}: files written to {out}"]
    for contract, path in files.items():
        rows = prepared.frames()[contract].height if contract in prepared.frames() else None
        lines.append(f"  {path.name:<28} " + (f"{rows:>8,} rows" if rows is not None else ""))
    lines += [f"  note: {note}" for note in prepared.notes]
    typer.echo("\n".join(lines))


def write_real_demo(
    out: Path, reference_dir: Path, icb: str, *, seed: int, scale: str, iod: int = 2025
) -> None:
    """Demo source files on ICB ``icb``'s real geography, with a summary on stdout (what
    ``demo --icb`` runs before the build)."""
    from ingest.demo.real_places import generate_real
    from ingest.errors import InputError
    from ingest.generate import SCALES

    if scale not in SCALES:
        raise InputError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    log.info("Generating synthetic activity on %s's real geography into %s", icb, out)
    result = generate_real(
        out,
        reference_dir,
        icb,
        seed=seed,
        scale=scale,
        edition=iod,
        progress=lambda message: log.info("  %s", message),
    )
    lines = [f"Demo sources for {result.truth['icb_name']} written to {out}:"]
    for name, path in result.files.items():
        lines.append(f"  {path.name:<28} {result.rows[name]:>12,} rows")
    lines.append(
        "The geography, population, deprivation and practices are real; referrals and the "
        "community offer are synthetic (README.txt)."
    )
    typer.echo("\n".join(lines))


@reference_app.command()
def demo(
    reference_dir: ReferenceDirOption,
    icb: Annotated[str, typer.Option("--icb", help="ICB code, e.g. E54000061.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the source files [default: data/demo/]."),
    ] = None,
    scale: Annotated[
        str, typer.Option(help="Years of synthetic history, as the scale of `generate`.")
    ] = "icb",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    iod: Annotated[int, typer.Option("--iod", help="IoD edition: 2025 or 2019.")] = 2025,
    warehouse: Annotated[
        Path | None, typer.Option("--warehouse", help="Warehouse folder or .duckdb file.")
    ] = None,
) -> None:
    """The demo on a real ICB: its real LSOAs, population, deprivation and practices, with
    synthetic referrals and community activity; then the full build."""
    from orchestration import settings
    from orchestration.cli import _run_full_build, _summary, _writing

    out = out or settings.DEFAULT_SOURCES_DIR
    with _writing(warehouse):  # held from before the sources are written until the build ends
        write_real_demo(out, reference_dir, icb, seed=seed, scale=scale, iod=iod)
        db_path = _run_full_build(warehouse, out)
    typer.echo(_summary(db_path))


@reference_app.command("la-summaries")
def la_summaries(
    reference_dir: ReferenceDirOption,
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    area: Annotated[str, typer.Option("--area", help="lad (districts), icb or sub_icb.")] = "lad",
    iod: Annotated[int, typer.Option("--iod", help="IoD edition: 2019 or 2025.")] = 2019,
) -> None:
    """Area deprivation summaries computed from the LSOA file as the IoD computes its local
    authority summaries: average rank (higher is more deprived), average score, proportion of
    LSOAs in the most deprived 10%, extent and local concentration, each with its rank."""
    from ingest.reference.summaries import AREAS, reference_summaries

    frame, what = reference_summaries(reference_dir, area=area, edition=iod)
    code, name = AREAS[area]
    frame = frame.rename({code: f"{area}_code", name: f"{area}_name"})
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(out)
    typer.echo(f"{frame.height:,} areas written to {out} ({what})")
