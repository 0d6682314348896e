"""Where things live. One place resolves every path the CLI, Dagster and tests use.

The warehouse location comes from ``--warehouse`` on any command, else the
``ICB_INSIGHT_WAREHOUSE`` variable, else ``data/warehouse/``. It may name a folder (the
build database is ``warehouse.duckdb`` inside it) or a ``.duckdb`` file.

The community sources to pull (``ingest.pull``) are listed in ``--sources-file`` of
``icb-insight pull``, else the ``ICB_INSIGHT_COMMUNITY_SOURCES`` variable, else
``community_sources.yml`` at the project root (``community_sources.example.yml`` beside it is
the documented example).
"""

import hashlib
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# dbt's target folder: the Dagster dbt asset gives each invocation its own folder in it,
# <op>-<run id[:7]>-<random> (orchestration.dbt.assets), where report_data finds a run's
# results, and keeps each warehouse's parse of the project in partial_parse/
DBT_TARGET_DIR = DBT_PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")
DEFAULT_WAREHOUSE_DIR = DATA_DIR / "warehouse"
DEFAULT_SOURCES_DIR = DATA_DIR / "demo"
DEFAULT_DAGSTER_HOME = DATA_DIR / "dagster_home"
BUILD_DB_NAME = "warehouse.duckdb"

DEFAULT_COMMUNITY_SOURCES = PROJECT_ROOT / "community_sources.yml"

WAREHOUSE_ENV = "ICB_INSIGHT_WAREHOUSE"
COMMUNITY_SOURCES_ENV = "ICB_INSIGHT_COMMUNITY_SOURCES"
SOURCES_ENV = "ICB_INSIGHT_SOURCES"
DUCKDB_PATH_ENV = "ICB_INSIGHT_DUCKDB_PATH"  # read by dbt_project/profiles.yml
# the dbt that icb-insight-dbt (orchestration.dbt.child) runs [default: dbt beside Python],
# and the pid of the process that starts it (set by the dbt asset before each invocation)
DBT_EXECUTABLE_ENV = "ICB_INSIGHT_DBT_EXECUTABLE"
DBT_PARENT_ENV = "ICB_INSIGHT_DBT_PARENT_PID"
DBT_CHILD_EXECUTABLE = "icb-insight-dbt"


def warehouse_db_path(warehouse: str | Path | None = None) -> Path:
    """The DuckDB file the pipeline builds into."""
    chosen = warehouse or os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE_DIR
    path = Path(chosen).expanduser().resolve()
    return path if path.suffix == ".duckdb" else path / BUILD_DB_NAME


def warehouse_key(db_path: str | Path) -> str:
    """A short name for one warehouse file (a digest of its resolved path). dbt reuses its
    parse of the project (partial_parse.msgpack) only while the profile is unchanged, and
    the profile holds the warehouse's path: each warehouse keeps its own parse under it."""
    resolved = str(Path(db_path).expanduser().resolve())
    return hashlib.sha256(resolved.encode()).hexdigest()[:12]


def sources_dir(sources: str | Path | None = None) -> Path:
    """The folder of source files the build job ingests."""
    chosen = sources or os.environ.get(SOURCES_ENV) or DEFAULT_SOURCES_DIR
    return Path(chosen).expanduser().resolve()


def community_sources_path(path: str | Path | None = None) -> Path:
    """The file listing the community sources to pull (it need not exist)."""
    chosen = path or os.environ.get(COMMUNITY_SOURCES_ENV) or DEFAULT_COMMUNITY_SOURCES
    return Path(chosen).expanduser().resolve()


DAGSTER_YAML = """\
# Written by icb-insight. Runs and events are stored here so the Dagster UI shows them.
telemetry:
  enabled: false
"""


def ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at the project's data folder (unless set) with telemetry off."""
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
