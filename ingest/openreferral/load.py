"""Load an Open Referral directory (pages and full records) as providers and activities.

The directory is read (``ingest.openreferral.feed``), its venues placed in the warehouse's
LSOAs (``ingest.openreferral.places``), and the rows written as two flat CSV files that
``ingest.load.load_file`` then checks, screens, archives and loads like any other file: one
load per contract in ``audit.loads``, providers first (activities point to them). Both
contracts replace by ``directory_id``, so a directory's load replaces only its own records.
What the flat files leave out of the feed is never stored.

In a sources folder, ``directories/<name>/`` holds one directory's JSON files (any mix of
pages and records) and, optionally, ``publisher.json`` (``{"local_authority": "E0..."}``);
``lsoa_boundaries.geojson`` beside ``directories/`` (the demo's fictional polygons) is used
for every directory there instead of the configured boundaries.
"""

import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from ingest.contracts.model import Contract
from ingest.contracts.sources import ACTIVITIES, PROVIDERS
from ingest.errors import InputError
from ingest.load import LoadResult, connect, ensure_schema, load_directory, load_file
from ingest.openreferral.feed import Directory, read_directory
from ingest.openreferral.places import LsoaLocator, boundaries_path

DIRECTORIES_FOLDER = "directories"
PUBLISHER_FILE = "publisher.json"
FOLDER_BOUNDARIES = "lsoa_boundaries.geojson"
DIRECTORY_CONTRACTS = (PROVIDERS, ACTIVITIES)


def warehouse_lsoas(db_path: Path) -> dict[str, str]:
    """LSOA -> local authority of the warehouse's geography (empty before it is loaded)."""
    if not Path(db_path).is_file():
        return {}
    con = connect(db_path)
    try:
        ensure_schema(con)
        rows = con.execute("select lsoa_code, lad_code from raw.geography").fetchall()
    finally:
        con.close()
    return {str(lsoa): str(lad) for lsoa, lad in rows}


def read_feed(
    paths: Iterable[Path],
    db_path: Path,
    *,
    directory_id: str,
    local_authority: str | None = None,
    boundaries: Path | None = None,
    today: date | None = None,
) -> Directory:
    """The directory's rows, venues placed in the warehouse's LSOAs."""
    lsoas = warehouse_lsoas(db_path)
    if not lsoas:
        raise InputError(
            "load the geography first: a directory's venues are placed in the warehouse's LSOAs",
            path=db_path,
        )
    locator = LsoaLocator(boundaries_path(boundaries), lsoas)
    return read_directory(
        paths,
        directory_id=directory_id,
        local_authority=local_authority,
        locator=locator,
        today=today,
    )


def load_directory_feed(
    paths: Iterable[Path],
    db_path: Path,
    *,
    directory_id: str,
    local_authority: str | None = None,
    boundaries: Path | None = None,
    today: date | None = None,
    contracts: Iterable[Contract] = DIRECTORY_CONTRACTS,
) -> list[LoadResult]:
    """Read the directory's files and load its providers, then its activities (or only
    the ``contracts`` given)."""
    paths = [Path(path) for path in paths]
    if not paths:
        raise InputError("no directory files given")
    directory = read_feed(
        paths,
        db_path,
        directory_id=directory_id,
        local_authority=local_authority,
        boundaries=boundaries,
        today=today,
    )
    if not directory.activities:
        raise InputError("no services in the directory's files", path=paths[0])
    results = []
    with tempfile.TemporaryDirectory(prefix="icb-directory-") as folder:
        wanted = {contract.name for contract in contracts}
        for contract, rows in (
            (PROVIDERS, directory.providers),
            (ACTIVITIES, directory.activities),
        ):
            if contract.name not in wanted or not rows:
                continue  # services without organisations: the activities say so when loaded
            # CSV: read in batches when large, as any CSV (a national directory is big)
            flat = Path(folder) / f"{contract.name}.csv"
            frame = pl.DataFrame(
                [{name: row.get(name) for name in contract.column_names} for row in rows],
                schema={name: pl.String for name in contract.column_names},
            )
            frame.write_csv(flat, null_value="")
            results.append(load_file(contract, flat, db_path, today=today))
    return results


@dataclass(frozen=True)
class Feed:
    """One directory's files in a sources folder."""

    directory_id: str
    files: list[Path]
    local_authority: str | None


def directory_feeds(folder: Path) -> list[Feed]:
    """The directories in ``folder/directories/``, by name."""
    root = Path(folder) / DIRECTORIES_FOLDER
    if not root.is_dir():
        return []
    feeds = []
    for directory in sorted(path for path in root.iterdir() if path.is_dir()):
        files = sorted(
            path
            for path in directory.glob("*.json")
            if path.name != PUBLISHER_FILE and not path.name.startswith(".")
        )
        if not files:
            continue
        local_authority = None
        publisher = directory / PUBLISHER_FILE
        if publisher.is_file():
            try:
                local_authority = json.loads(publisher.read_text(encoding="utf-8")).get(
                    "local_authority"
                )
            except (ValueError, AttributeError):
                raise InputError('expected {"local_authority": "E0..."}', path=publisher) from None
        feeds.append(Feed(directory.name, files, local_authority))
    return feeds


def load_feeds(
    folder: Path, db_path: Path, contract: Contract, *, today: date | None = None
) -> list[LoadResult]:
    """Load ``contract`` (providers or activities) from every directory in ``folder``."""
    if contract.name not in {item.name for item in DIRECTORY_CONTRACTS}:
        return []
    boundaries = Path(folder) / FOLDER_BOUNDARIES
    results = []
    for feed in directory_feeds(folder):
        results += load_directory_feed(
            feed.files,
            db_path,
            directory_id=feed.directory_id,
            local_authority=feed.local_authority,
            boundaries=boundaries if boundaries.is_file() else None,
            today=today,
            contracts=[contract],
        )
    return results


def load_sources(
    folder: Path,
    db_path: Path,
    *,
    sources: Iterable[str] | None = None,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[LoadResult]:
    """Every source in a folder (``ingest.load.load_directory``), the community directory
    from its Open Referral feeds when it has no flat providers / activities file."""
    return load_directory(
        folder,
        db_path,
        sources=sources,
        today=today,
        progress=progress,
        fallback=lambda contract: load_feeds(folder, db_path, contract, today=today),
    )
