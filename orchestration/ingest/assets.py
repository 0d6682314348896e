"""Ingest assets, one per contract, keyed ``raw/<contract>`` as dbt keys ``source("raw", ...)``."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Definitions,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ingest.contracts import CONTRACTS, Contract
from ingest.load import find_source_file, load_file
from orchestration.resources import SourceFilesResource, WarehouseResource


def raw_asset_key(contract: Contract) -> AssetKey:
    return AssetKey(["raw", contract.name])


def build_ingest_asset(contract: Contract) -> AssetsDefinition:
    upstream = sorted({foreign_key.contract for foreign_key in contract.foreign_keys})

    @asset(
        key=raw_asset_key(contract),
        group_name="ingest",
        description=f"{contract.title}. {contract.description}",
        deps=[AssetKey(["raw", name]) for name in upstream if name != contract.name],
        kinds={"duckdb", "polars"},
        metadata={"contract": contract.name, "file_name": contract.file_name},
    )
    def _ingest(
        context: AssetExecutionContext,
        warehouse: WarehouseResource,
        source_files: SourceFilesResource,
    ) -> MaterializeResult:
        path = find_source_file(source_files.path, contract)
        if path is None:
            context.log.info(f"no {contract.name} file in {source_files.path}; raw table kept")
            return MaterializeResult(metadata={"status": "no new file"})
        result = load_file(contract, path, warehouse.db_path)
        context.log.info(result.summary())
        return MaterializeResult(
            metadata={
                "status": result.status,
                "file": MetadataValue.path(str(path)),
                "sha256": result.file_sha256,
                "rows_read": result.rows_read,
                "rows_loaded": result.rows_loaded,
                "rows_quarantined": result.rows_quarantined,
                "rows_replaced": result.rows_replaced,
                "quarantine_reasons": MetadataValue.json(result.quarantine_reasons),
            }
        )

    return _ingest


ingest_assets = [build_ingest_asset(contract) for contract in CONTRACTS.values()]
defs = Definitions(assets=ingest_assets)
