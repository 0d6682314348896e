"""The full build job and its weekly schedule; the community pull and its schedule."""

from dagster import (
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
)

from orchestration.executor import one_writer_executor
from orchestration.ingest.pull import PULL_GROUP

# DuckDB allows one writer per file: every step runs in one process, one after another, and
# the run holds the warehouse's build lock (orchestration.executor).
# The partitioned la_extract (one local authority) has its own job: an unpartitioned run
# cannot hold it, and la_extracts already builds every local authority's package. The pull
# assets have their own job too: a build (the demo's, a test's) never reaches the network.
full_build = define_asset_job(
    name="full_build",
    selection=AssetSelection.all()
    - AssetSelection.assets(AssetKey(["la_extract"]))
    - AssetSelection.groups(PULL_GROUP),
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

community_pull = define_asset_job(
    name="community_pull",
    selection=AssetSelection.groups(PULL_GROUP),
    description="Pull every community source in the sources file (Open Referral UK "
    "directories, 360Giving publications) and load what changed into the raw tables.",
    executor_def=one_writer_executor,
)

weekly_community_pull = ScheduleDefinition(
    name="weekly_community_pull",
    job=community_pull,
    cron_schedule="0 5 * * 1",  # Monday 05:00, an hour before the weekly build uses it
    execution_timezone="Europe/London",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Pull the community sources, Monday 05:00 UK time, before the weekly build.",
)

defs = Definitions(
    jobs=[full_build, community_pull], schedules=[weekly_build, weekly_community_pull]
)
