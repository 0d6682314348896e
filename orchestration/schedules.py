"""The full build job and its weekly schedule."""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
    in_process_executor,
)

# DuckDB allows one writer per file: every step runs in one process, one after another.
full_build = define_asset_job(
    name="full_build",
    selection=AssetSelection.all(),
    description="Ingest every source file, then build and test every dbt model.",
    executor_def=in_process_executor,
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
