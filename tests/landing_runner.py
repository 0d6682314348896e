"""Run the landing sensor's path in process as the daemon would: one sensor tick over the
landing folders beside ``data/warehouse/``, then the run it requests (the source's ingest
asset with its asset checks) on the same Dagster instance."""

from pathlib import Path

from dagster import (
    AssetKey,
    DagsterInstance,
    ExecuteInProcessResult,
    RunRequest,
    build_sensor_context,
    materialize,
)

from ingest.contracts import get_contract
from orchestration.ingest.assets import ingest_assets
from orchestration.ingest.checks import build_ingest_checks
from orchestration.ingest.sensors import build_landing_sensor
from orchestration.resources import SourceFilesResource, WarehouseResource


def landed_run(
    data: Path, source: str, instance: DagsterInstance
) -> tuple[RunRequest, ExecuteInProcessResult]:
    """(the sensor's run request, the run's result) for files in ``data/landing/<source>/``."""
    warehouse = WarehouseResource(location=str(data / "warehouse"))
    request = build_landing_sensor(settle_seconds=10)(
        build_sensor_context(instance=instance, resources={"warehouse": warehouse})
    )
    assert isinstance(request, RunRequest)
    asset = next(a for a in ingest_assets if a.key == AssetKey(["raw", source]))
    result = materialize(
        [asset, *build_ingest_checks(get_contract(source))],
        run_config=request.run_config,
        resources={
            "warehouse": warehouse,
            "source_files": SourceFilesResource(directory=str(data / "none")),
        },
        instance=instance,
    )
    return request, result
