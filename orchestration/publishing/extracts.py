"""Local authority extracts as Dagster assets, after the published warehouse.

* ``la_extracts`` (in the weekly ``full_build``): every local authority's package, and it
  registers each local authority as a partition of ``la_extract``;
* ``la_extract`` (partitioned by local authority, job ``la_extract_job``): rebuild one local
  authority's package alone, e.g. after a correction, from the Dagster UI.

Dagster cannot run a partitioned asset inside an unpartitioned run, so the weekly job builds
all packages through the unpartitioned asset and the partitioned one has its own job.
"""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Definitions,
    DynamicPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
    define_asset_job,
)

from orchestration.extracts import Extract, build_extracts, extracts_root, local_authorities
from orchestration.publishing.assets import published_warehouse
from orchestration.resources import WarehouseResource

local_authority_partitions = DynamicPartitionsDefinition(name="local_authority")

_DESCRIPTION = (
    "{who}: {where}/RUN_DATE/LA_CODE/ with the local authority's neighbourhoods only, small "
    "numbers suppressed (docs/disclosure.md), as CSV, Parquet and XLSX with a manifest.json."
)


def _metadata(extracts: list[Extract]) -> dict:
    return {
        "folders": MetadataValue.json({extract.la_code: str(extract.path) for extract in extracts}),
        "rows": MetadataValue.json(
            {
                extract.la_code: {
                    name: table["rows"] for name, table in extract.manifest["tables"].items()
                }
                for extract in extracts
            }
        ),
    }


@asset(
    key=AssetKey(["la_extracts"]),
    group_name="publish",
    deps=[published_warehouse],
    kinds={"csv", "parquet", "excel"},
    description=_DESCRIPTION.format(who="Every local authority's extract", where="data/extracts"),
)
def la_extracts(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    codes = [code for code, _ in local_authorities(warehouse.db_path)]
    known = set(context.instance.get_dynamic_partitions(local_authority_partitions.name))
    new = [code for code in codes if code not in known]
    if new:
        context.instance.add_dynamic_partitions(local_authority_partitions.name, new)
    extracts = build_extracts(warehouse.db_path, codes)
    context.log.info(
        f"{len(extracts)} local authority extracts in {extracts_root(warehouse.db_path)}"
    )
    return MaterializeResult(metadata={"count": len(extracts), **_metadata(extracts)})


@asset(
    key=AssetKey(["la_extract"]),
    group_name="publish",
    deps=[published_warehouse],
    partitions_def=local_authority_partitions,
    kinds={"csv", "parquet", "excel"},
    description=_DESCRIPTION.format(who="One local authority's extract", where="data/extracts"),
)
def la_extract(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    extracts = build_extracts(warehouse.db_path, [context.partition_key])
    return MaterializeResult(metadata=_metadata(extracts))


la_extract_job = define_asset_job(
    name="la_extract_job",
    selection=[la_extract],
    partitions_def=local_authority_partitions,
    description="Rebuild one local authority's extract from the published warehouse.",
)

defs = Definitions(assets=[la_extracts, la_extract], jobs=[la_extract_job])
