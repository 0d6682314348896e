"""Pull assets: the community sources in the sources file (``CommunitySourcesResource``),
pulled over HTTP and loaded into the raw tables (``ingest.pull``), one asset per kind.

``pull/open_referral`` loads ``raw/providers`` and ``raw/activities``; ``pull/giving360``
loads ``raw/provider_funding``. Those raw assets list the pull asset that feeds them, so the
graph reads pull -> raw -> staging. The pull assets run in their own job, ``community_pull``
(``schedules.py``), not in ``full_build``, so that a demo or test build never reaches out to
the network; the weekly build an hour later builds on what was pulled.

Each materialisation says, per source, what became of it (loaded, unchanged, failed; answers
fetched, not modified, same bytes; rows loaded and quarantined; the last good load's time). A
source that could not be pulled keeps its last good load and fails the asset's check
``sources_pulled``; the others are loaded all the same.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Definitions,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ingest.errors import InputError
from ingest.pull.config import read_sources
from ingest.pull.loaders import load_pulled
from ingest.pull.run import PullOutcome, pull_sources
from orchestration.resources import CommunitySourcesResource, WarehouseResource

PULL_GROUP = "pull"
CHECK_NAME = "sources_pulled"
# kind -> (what it pulls, the raw tables its loads write)
PULL_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "open_referral": (
        "Open Referral UK directories: every page of /services, then each service's full "
        "record, loaded as the directory's providers and activities",
        ("providers", "activities"),
    ),
    "giving360": (
        "360Giving publications (JSON, CSV, XLSX, ODS), loaded as their funders' grants",
        ("provider_funding",),
    ),
}


def pull_asset_key(kind: str) -> AssetKey:
    return AssetKey([PULL_GROUP, kind])


def feeding(contract_name: str) -> list[AssetKey]:
    """The pull assets whose loads write ``raw/<contract_name>``."""
    return [pull_asset_key(kind) for kind, (_, raw) in PULL_KINDS.items() if contract_name in raw]


def build_pull_asset(kind: str) -> AssetsDefinition:
    what, raw_tables = PULL_KINDS[kind]
    key = pull_asset_key(kind)

    @asset(
        key=key,
        group_name=PULL_GROUP,
        description=f"{what}, from the community sources file (community_sources.yml).",
        kinds={"python", "duckdb"},
        metadata={"loads": ", ".join(f"raw.{name}" for name in raw_tables)},
        check_specs=[
            AssetCheckSpec(
                CHECK_NAME,
                asset=key,
                description="Every configured source was pulled (loaded or unchanged); a "
                "source that failed keeps its last good load.",
            )
        ],
    )
    def _pull(
        context: AssetExecutionContext,
        warehouse: WarehouseResource,
        community_sources: CommunitySourcesResource,
    ) -> MaterializeResult:
        path = community_sources.path
        if not path.is_file():
            context.log.info(f"no community sources file at {path}; nothing pulled")
            return _result([], f"no sources file ({path})")
        try:
            sources = read_sources(path)
        except InputError as error:
            raise Failure(description=error.message) from None
        outcomes = pull_sources(sources, warehouse.db_path, load_pulled, only=[kind])
        for outcome in outcomes:
            log = context.log.error if outcome.status == "failed" else context.log.info
            log(outcome.line())
            for result in outcome.loads:
                for line in [result.summary(), *result.downstream_lines()]:
                    context.log.info(line)
        return _result(outcomes, str(path))

    return _pull


def _result(outcomes: list[PullOutcome], sources_file: str) -> MaterializeResult:
    failed = [outcome for outcome in outcomes if outcome.status == "failed"]
    per_source = [
        {
            "source": outcome.source.name,
            "status": outcome.status,
            "message": outcome.message,
            "requests": outcome.requests,
            "fetched": outcome.fetched,
            "not_modified": outcome.not_modified,
            "same_content": outcome.same_content,
            "rows_loaded": outcome.rows_loaded,
            "rows_quarantined": outcome.rows_quarantined,
            "files_loaded": [result.label for result in outcome.loads],
            "last_good_load_at": outcome.last_good_load_at,
        }
        for outcome in outcomes
    ]
    return MaterializeResult(
        metadata={
            "sources_file": sources_file,
            "sources": len(outcomes),
            "loaded": sum(outcome.status == "loaded" for outcome in outcomes),
            "unchanged": sum(outcome.status == "unchanged" for outcome in outcomes),
            "failed": len(failed),
            "pages_fetched": sum(outcome.fetched for outcome in outcomes),
            "not_modified": sum(outcome.not_modified for outcome in outcomes),
            "rows_loaded": sum(outcome.rows_loaded for outcome in outcomes),
            "per_source": MetadataValue.json(per_source),
        },
        check_results=[
            AssetCheckResult(
                check_name=CHECK_NAME,
                passed=not failed,
                severity=AssetCheckSeverity.ERROR,
                description="; ".join(outcome.line() for outcome in failed) or None,
                metadata={
                    "failed": MetadataValue.json([outcome.line() for outcome in failed]),
                    "last_good_load_at": MetadataValue.json(
                        {outcome.source.name: outcome.last_good_load_at for outcome in failed}
                    ),
                },
            )
        ],
    )


pull_assets = [build_pull_asset(kind) for kind in PULL_KINDS]
defs = Definitions(assets=pull_assets)
