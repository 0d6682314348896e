"""The e2e build, shared: a generated tiny ICB run once through the full Dagster job
in-process into a temporary DuckDB file, for every e2e test module in the session."""

import json
import os
from datetime import date
from pathlib import Path

import pytest

AS_OF = date(2026, 11, 22)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> dict:
    from dagster import DagsterInstance

    from ingest.generate import generate
    from orchestration.definitions import defs
    from orchestration.resources import SourceFilesResource, WarehouseResource

    os.environ["ICB_INSIGHT_SKIP_REPORT"] = "1"  # report.duckdb only; the site has its own test
    root = tmp_path_factory.mktemp("e2e")
    sources = root / "sources"
    generated = generate(sources, seed=7, scale="tiny", as_of=AS_OF)
    db_path = root / "warehouse" / "warehouse.duckdb"
    job = defs.resolve_job_def("full_build")
    resources = {
        "warehouse": WarehouseResource(location=str(db_path)),
        "source_files": SourceFilesResource(directory=str(sources)),
    }
    result = job.execute_in_process(
        instance=DagsterInstance.ephemeral(),
        resources=resources,
        raise_on_error=False,
    )
    failures = [event.message for event in result.all_events if event.is_step_failure]
    assert result.success, failures
    truth = json.loads((sources / "demo_truth.json").read_text())
    return {"db": db_path, "generated": generated, "truth": truth, "result": result}
