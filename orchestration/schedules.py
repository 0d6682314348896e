"""The full build job and its weekly schedule."""

from dagster import (
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
)

from orchestration.executor import one_writer_executor

# DuckDB allows one writer per file: every step runs in one process, one after another, and
# the run holds the warehouse's build lock (orchestration.executor).
# The partitioned la_extract (one local authority) has its own job: an unpartitioned run
# cannot hold it, and la_extracts already builds every local authority's package.
full_build = define_asset_job(
    name="full_build",
    selection=AssetSelection.all() - AssetSelection.assets(AssetKey(["la_extract"])),
    description="Ingest every source file, build and test every dbt model, publish the "
    "warehouse, then write every local authority's extract.",
    executor_def=one_writer_executor,
)

weekly_build = ScheduleDefinition(
    name="weekly_build",
    job=full_build,
    cron_schedule="0 6 * * 1",  # Monday 06:00
    execution_timezone="Europe/London",
    default_status=DefaultScheduleStatus.STOPPED,
    description="The weekly build for the ICP report, Monday 06:00 UK time.",
)

defs = Definitions(jobs=[full_build], schedules=[weekly_build])
