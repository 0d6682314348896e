"""Load an Open Referral directory (pages and full records) as providers and activities.

The directory is read (``ingest.openreferral.feed``), its venues placed in the warehouse's
LSOAs (``ingest.openreferral.places``), and the rows written as two flat JSON files that
``ingest.load.load_file`` then checks, screens, archives and loads like any other file: one
load per contract in ``audit.loads``, providers first (activities point to them). Both
contracts replace by ``directory_id``, so a directory's load replaces only its own records.
What the flat files leave out of the feed is never stored.
"""

import json
import tempfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from ingest.contracts.sources import ACTIVITIES, PROVIDERS
from ingest.errors import InputError
from ingest.load import LoadResult, connect, ensure_schema, load_file
from ingest.openreferral.feed import Directory, read_directory
from ingest.openreferral.places import LsoaLocator, boundaries_path


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
) -> list[LoadResult]:
    """Read the directory's files and load its providers, then its activities."""
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
        for contract, rows in (
            (PROVIDERS, directory.providers),
            (ACTIVITIES, directory.activities),
        ):
            if not rows:
                continue  # services without organisations: the activities say so when loaded
            flat = Path(folder) / f"{contract.name}.json"
            records = [{name: row.get(name) for name in contract.column_names} for row in rows]
            flat.write_text(json.dumps(records, indent=0, sort_keys=False), encoding="utf-8")
            results.append(load_file(contract, flat, db_path, today=today))
    return results
