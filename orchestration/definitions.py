"""The one ``defs`` Dagster loads: ingest, dbt, publishing and scheduling merged."""

from dagster import Definitions

from orchestration.dbt.assets import defs as dbt_defs
from orchestration.ingest.assets import defs as ingest_defs
from orchestration.publishing.assets import defs as publish_defs
from orchestration.resources import default_resources
from orchestration.schedules import defs as schedule_defs

defs = Definitions.merge(
    ingest_defs,
    dbt_defs,
    publish_defs,
    schedule_defs,
    Definitions(resources=default_resources()),
)
