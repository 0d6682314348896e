"""The published warehouse: the last step of the build, reached only when every dbt model
built and every test and check upstream passed."""

from importlib.metadata import version

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Definitions,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.dbt.assets import icb_dbt_models
from orchestration.publish import publish, published_path
from orchestration.resources import WarehouseResource

MART_KEYS = [key for key in icb_dbt_models.keys if key.path[-1].startswith(("fct_", "dim_"))]


@asset(
    key=AssetKey(["published_warehouse"]),
    group_name="publish",
    deps=MART_KEYS,
    kinds={"duckdb"},
    description="The read-only DuckDB file analysts open (data/warehouse/published.duckdb): "
    "a checked copy of the marts and the load audit, swapped in atomically.",
)
def published_warehouse(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    new = publish(
        warehouse.db_path,
        build_info={
            "run_id": context.run_id,
            "icb_insight_version": version("icb-insight"),
            "dbt_version": version("dbt-core"),
            "dagster_version": version("dagster"),
        },
    )
    context.log.info(f"published {new.version_id} to {published_path(warehouse.db_path)}")
    return MaterializeResult(
        metadata={
            "version_id": new.version_id,
            "path": MetadataValue.path(str(published_path(warehouse.db_path))),
            "tables": MetadataValue.json(new.metadata.get("tables", {})),
        }
    )


defs = Definitions(assets=[published_warehouse])
