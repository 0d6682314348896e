"""dbt models as Dagster assets, joined to the ingest assets through ``raw/<table>`` keys."""

import os
from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, Definitions
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from ingest.load import evolve_schema
from orchestration.dbt.project import dbt_project
from orchestration.resources import WarehouseResource
from orchestration.settings import DUCKDB_PATH_ENV

FULL_REFRESH_ENV = "ICB_INSIGHT_DBT_FULL_REFRESH"

LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}


class IcbDbtTranslator(DagsterDbtTranslator):
    """Sources keep dbt's ``raw/<table>`` key (the ingest assets' keys); models are grouped by
    their layer folder."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        for part in fqn[1:2]:
            if part in LAYER_GROUPS:
                return LAYER_GROUPS[part]
        return "dbt"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=IcbDbtTranslator(),
)
def icb_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    os.environ[DUCKDB_PATH_ENV] = str(warehouse.db_path)
    # a warehouse loaded before a contract gained a column (and no file loaded this run)
    evolve_schema(warehouse.db_path)
    yield from dbt.cli(dbt_build_args(), context=context).stream()


# dbt's unit tests check the models' logic on fixed inputs: the same answer every week, so
# they run where the logic changes (``make test``: tests/e2e/test_dbt_unit_tests.py), not in
# every data build.
DATA_BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test"]


def dbt_build_args() -> list[str]:
    """``dbt build`` of the data, with its data tests but not the unit tests; the large facts
    are incremental (a weekly run rebuilds the months new files touch, and their tests read
    those months: macros/tests_on_rebuilt_rows.sql), and FULL_REFRESH_ENV=1 rebuilds them
    whole (after a model's logic changed)."""
    full_refresh = os.environ.get(FULL_REFRESH_ENV, "").strip().lower() in ("1", "true", "yes")
    return [*DATA_BUILD_ARGS, "--full-refresh"] if full_refresh else list(DATA_BUILD_ARGS)


defs = Definitions(
    assets=[icb_dbt_models],
    resources={"dbt": DbtCliResource(project_dir=dbt_project)},
)
