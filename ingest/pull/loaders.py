"""Where pulled files meet the loaders: the one place the pull hands files over.

A 360Giving publication is loaded as ``icb-insight ingest provider_funding FILE`` loads it (it
replaces only its own funders' grants); an Open Referral UK directory's full service records
as ``icb-insight ingest directory FILE... --directory NAME --local-authority CODE`` loads them
(they replace only that directory's records).
"""

from pathlib import Path

from ingest.contracts import get_contract
from ingest.load import LoadResult, load_file
from ingest.openreferral.load import load_directory_feed
from ingest.pull.config import GivingSource, OpenReferralSource, Source


def load_pulled(source: Source, files: list[Path], db_path: Path) -> list[LoadResult]:
    """Load one source's pulled files; an ``InputError`` when the loader refuses them."""
    if isinstance(source, GivingSource):
        return load_publication(files, db_path)
    return load_directory(source, files, db_path)


def load_publication(files: list[Path], db_path: Path) -> list[LoadResult]:
    contract = get_contract("provider_funding")
    return [load_file(contract, path, db_path) for path in files]


def load_directory(
    source: OpenReferralSource, files: list[Path], db_path: Path
) -> list[LoadResult]:
    """The full records, placed in the warehouse's LSOAs (boundaries from
    ``ICB_INSIGHT_LSOA_BOUNDARIES``, else the shared reference copy)."""
    return load_directory_feed(
        files, db_path, directory_id=source.directory, local_authority=source.local_authority
    )
