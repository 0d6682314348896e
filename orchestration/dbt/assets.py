"""dbt models as Dagster assets, joined to the ingest assets through ``raw/<table>`` keys."""

import os
import shutil
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, Definitions
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from ingest.load import evolve_schema
from orchestration.dbt.project import dbt_project
from orchestration.resources import WarehouseResource
from orchestration.settings import (
    DBT_CHILD_EXECUTABLE,
    DBT_PARENT_ENV,
    DBT_TARGET_DIR,
    DUCKDB_PATH_ENV,
    warehouse_key,
)

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
    target_path = run_target_path(context.op_execution_context.op.name, context.run.run_id)
    parse = partial_parse_kept(warehouse.db_path)
    reuse_partial_parse(parse, target_path)
    # dbt ends if this process dies; said for this invocation only, so that no other process
    # started from here later takes this one for its dbt's parent
    os.environ[DBT_PARENT_ENV] = str(os.getpid())
    try:
        yield from dbt.cli(dbt_build_args(), context=context, target_path=target_path).stream()
    finally:
        os.environ.pop(DBT_PARENT_ENV, None)
        keep_partial_parse(target_path, parse)


# dbt's parse of the project, kept between builds: dbt reuses it (partial parsing) when the
# project's files, vars, profile and dbt version are unchanged and reparses what changed,
# so a kept parse cannot make a stale manifest. The profile names the warehouse, so each
# warehouse keeps its own (one shared file would be reparsed whole at every switch).
PARTIAL_PARSE = "partial_parse.msgpack"


def run_target_path(op_name: str, run_id: str) -> Path:
    """A dbt invocation's own target folder, named as dagster-dbt names them
    (<op>-<run id[:7]>-<random>): orchestration.report_data finds a run's results by it."""
    return DBT_TARGET_DIR / f"{op_name}-{run_id[:7]}-{uuid.uuid4().hex[:7]}"


def partial_parse_kept(db_path: Path) -> Path:
    return DBT_TARGET_DIR / "partial_parse" / f"{warehouse_key(db_path)}.msgpack"


def reuse_partial_parse(kept: Path, target_path: Path) -> None:
    """Start the invocation from the warehouse's kept parse (dagster-dbt then leaves it)."""
    if kept.exists():
        target_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, target_path / PARTIAL_PARSE)


def keep_partial_parse(target_path: Path, kept: Path) -> None:
    """Keep the parse dbt wrote (after any parse that succeeded, even if the build failed),
    replaced atomically."""
    written = target_path / PARTIAL_PARSE
    if not written.exists():
        return
    kept.parent.mkdir(parents=True, exist_ok=True)
    partial = kept.with_suffix(f".{uuid.uuid4().hex[:7]}.tmp")
    shutil.copyfile(written, partial)
    partial.replace(kept)


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


def dbt_resource() -> DbtCliResource:
    """dbt for the build, run through icb-insight-dbt (orchestration.dbt.child) so that it
    ends when the process that started it dies, instead of keeping the warehouse locked."""
    return DbtCliResource(project_dir=dbt_project, dbt_executable=str(dbt_child_executable()))


def dbt_child_executable() -> Path:
    """icb-insight-dbt as installed beside this Python (the project's environment)."""
    installed = Path(sys.executable).parent / DBT_CHILD_EXECUTABLE
    if not installed.exists():
        raise RuntimeError(
            f"{installed} is missing: the project's environment is out of date (make setup)"
        )
    return installed


defs = Definitions(assets=[icb_dbt_models], resources={"dbt": dbt_resource()})
