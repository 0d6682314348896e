"""Shared fixtures: a temporary warehouse, the dbt manifest, Dagster home (the CLI runner is
tests/cli_runner.py)."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DBT_PROFILES_DIR", str(Path(__file__).resolve().parents[1] / "dbt_project"))

# the `server` fixture: a local HTTP server serving recorded pages (tests/pull_server.py)
pytest_plugins = ["pull_server"]

SHARED_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "reference"


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """The dbt manifest Dagster's dbt assets are built from (parsed once per run)."""
    from orchestration.dbt.project import dbt_project, prepare

    prepare(force=True)  # a manifest older than the models would load stale assets
    return dbt_project.manifest_path


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "warehouse.duckdb"


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home
