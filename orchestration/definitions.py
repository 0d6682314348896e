"""The one ``defs`` Dagster loads: ingest, dbt, publishing and scheduling merged.

Each domain module builds its own ``defs``; they are imported as modules (not as names) so
that this module holds exactly one Definitions object, as ``dagster dev -m`` requires.
"""

from dagster import Definitions

from orchestration import schedules
from orchestration.dbt import assets as dbt_assets
from orchestration.executor import one_writer_executor
from orchestration.ingest import assets as ingest_assets
from orchestration.ingest import checks as ingest_checks
from orchestration.ingest import pull as ingest_pull
from orchestration.ingest import sensors as ingest_sensors
from orchestration.publishing import assets as publishing_assets
from orchestration.publishing import extracts as publishing_extracts
from orchestration.reporting import assets as reporting_assets
from orchestration.resources import default_resources

defs = Definitions.merge(
    ingest_assets.defs,
    ingest_checks.defs,
    ingest_pull.defs,
    ingest_sensors.defs,
    dbt_assets.defs,
    publishing_assets.defs,
    reporting_assets.defs,
    publishing_extracts.defs,
    schedules.defs,
    # every job, ad-hoc runs from the UI included: one process, the build lock held
    Definitions(resources=default_resources(), executor=one_writer_executor),
)
