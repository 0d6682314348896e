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
