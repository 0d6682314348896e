"""Dagster resources: where the warehouse and the incoming source files are."""

from pathlib import Path

from dagster import ConfigurableResource

from orchestration import settings


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse being built (a folder or a ``.duckdb`` file)."""

    location: str = ""  # empty: ICB_INSIGHT_WAREHOUSE, else data/warehouse/

    @property
    def db_path(self) -> Path:
        return settings.warehouse_db_path(self.location or None)


class SourceFilesResource(ConfigurableResource):
    """The folder holding one file per source, named after its contract."""

    directory: str = ""  # empty: ICB_INSIGHT_SOURCES, else data/demo/

    @property
    def path(self) -> Path:
        return settings.sources_dir(self.directory or None)


class CommunitySourcesResource(ConfigurableResource):
    """The file listing the community sources to pull (``community_sources.example.yml``)."""

    file: str = ""  # empty: ICB_INSIGHT_COMMUNITY_SOURCES, else community_sources.yml

    @property
    def path(self) -> Path:
        return settings.community_sources_path(self.file or None)


def default_resources() -> dict[str, ConfigurableResource]:
    """Empty settings fall back to ICB_INSIGHT_WAREHOUSE / ICB_INSIGHT_SOURCES /
    ICB_INSIGHT_COMMUNITY_SOURCES, then defaults."""
    return {
        "warehouse": WarehouseResource(),
        "source_files": SourceFilesResource(),
        "community_sources": CommunitySourcesResource(),
    }
