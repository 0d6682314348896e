"""The executor of every job: all steps in one process, one after another (DuckDB allows one
writer per file), holding the warehouse's build lock from before the run's first step until
its last (``orchestration.build_lock``).

A run that Dagster launches (from the UI, the weekly schedule, the landing sensor) is thus
refused at once, before any step, while another build, from the command line or Dagster, is
writing the same warehouse: "a build is already running on ... (pid N, since HH:MM:SS)".
(``execute_in_process`` swaps in Dagster's own in-process executor: the command line holds the
lock itself around it.)
"""

from collections.abc import Iterator
from pathlib import Path

from dagster import DagsterEvent, InitExecutorContext, build_resources, executor
from dagster._core.definitions.executor_definition import (
    IN_PROC_CONFIG,
    _core_in_process_executor_creation,
)
from dagster._core.execution.context.system import PlanOrchestrationContext
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.execution.retries import RetryMode
from dagster._core.execution.step_dependency_config import StepDependencyConfig
from dagster._core.executor.base import Executor
from dagster._core.executor.in_process import InProcessExecutor

from orchestration.build_lock import writing

WAREHOUSE_KEY = "warehouse"


class OneWriterExecutor(Executor):
    """Dagster's in-process executor, inside the warehouse's build lock."""

    def __init__(self, inner: InProcessExecutor) -> None:
        self._inner = inner

    @property
    def retries(self) -> RetryMode:
        return self._inner.retries

    @property
    def step_dependency_config(self) -> StepDependencyConfig:
        return self._inner.step_dependency_config

    def execute(
        self, plan_context: PlanOrchestrationContext, execution_plan: ExecutionPlan
    ) -> Iterator[DagsterEvent]:
        db_path = run_warehouse(plan_context)
        if db_path is None:  # a job that does not use the warehouse
            yield from self._inner.execute(plan_context, execution_plan)
            return
        with writing(db_path):
            yield from self._inner.execute(plan_context, execution_plan)


def run_warehouse(plan_context: PlanOrchestrationContext) -> Path | None:
    """The warehouse file a run writes: its ``warehouse`` resource, as the run configures it."""
    resource_defs = plan_context.job.get_definition().resource_defs
    if WAREHOUSE_KEY not in resource_defs:
        return None
    config = (plan_context.run_config.get("resources") or {}).get(WAREHOUSE_KEY) or {}
    with build_resources(
        {WAREHOUSE_KEY: resource_defs[WAREHOUSE_KEY]},
        resource_config={WAREHOUSE_KEY: config} if config else None,
    ) as resources:
        return Path(getattr(resources, WAREHOUSE_KEY).db_path)


@executor(
    name="in_process_one_writer",
    config_schema=IN_PROC_CONFIG,
)
def one_writer_executor(init_context: InitExecutorContext) -> OneWriterExecutor:
    """Every step in one process, holding the warehouse's build lock for the run."""
    return OneWriterExecutor(_core_in_process_executor_creation(init_context.executor_config))
