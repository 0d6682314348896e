"""dbt's unit tests (``unit_tests:`` in the models' yml: the trickiest logic on small fixed
inputs) run here, in ``make test``, rather than in every data build (the Dagster job and the
benchmark build with ``--exclude-resource-type unit_test``). They need the relations upstream
of each tested model to exist, so they run against a copy of the shared e2e warehouse; no
extra build."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from orchestration.settings import DUCKDB_PATH_ENV

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


def test_every_dbt_unit_test_passes(built: dict, tmp_path: Path, dbt_manifest: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(built["db"], db)
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "test",
        "--select",
        "test_type:unit",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(tmp_path / "target"),
        "--log-path",
        str(tmp_path / "logs"),
    ]
    env = {**os.environ, DUCKDB_PATH_ENV: str(db)}
    done = subprocess.run(command, env=env, text=True, capture_output=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]

    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    ran = {
        result["unique_id"]: result["status"]
        for result in results
        if not result["unique_id"].startswith("operation.")  # the on-run-start hooks
    }
    declared = set(json.loads(dbt_manifest.read_text())["unit_tests"])
    assert declared, "no dbt unit tests declared"
    assert set(ran) == declared  # every unit test, and nothing else
    assert set(ran.values()) == {"pass"}
