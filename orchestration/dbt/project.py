"""The dbt project as Dagster sees it. Kept in its own module so set-up can prepare the
manifest (``dbt parse``) before the definitions load."""

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepare(*, force: bool = False) -> None:
    """Write target/manifest.json (what ``@dbt_assets`` reads): always with ``force`` (so
    edited models are picked up), else only when it is missing."""
    if force or not dbt_project.manifest_path.exists():
        dbt_project.preparer.prepare(dbt_project)
