"""The dbt project as Dagster sees it. Kept in its own module so set-up can prepare the
manifest (``dbt parse``) before the definitions load."""

import os
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR

# dagster-dbt runs `dbt` from PATH (for parse and for builds). Put the dbt installed beside
# this Python (the project's venv) first, so nothing depends on how the process was started
# (e.g. pytest run as .venv/bin/pytest, or a scheduler's bare environment).
_VENV_BIN = str(Path(sys.executable).parent)
if (Path(_VENV_BIN) / "dbt").exists() and _VENV_BIN not in os.environ.get("PATH", "").split(
    os.pathsep
):
    os.environ["PATH"] = _VENV_BIN + os.pathsep + os.environ.get("PATH", "")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepare(*, force: bool = False) -> None:
    """Write target/manifest.json (what ``@dbt_assets`` reads): always with ``force`` (so
    edited models are picked up), else only when it is missing."""
    if force or not dbt_project.manifest_path.exists():
        dbt_project.preparer.prepare(dbt_project)
