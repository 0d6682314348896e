"""Ingest assets, one per contract, keyed ``raw/<contract>`` as dbt keys ``source("raw", ...)``.

An asset loads its source's file from the source folder (``SourceFilesResource``), or, when
the landing sensor (``sensors.py``) starts the run, the files named in its config (by their
labels: the sensor renamed them): those are taken out of the landing folder (into the archive,
or deleted with a note in ``rejected/``). Metadata and logs name a file by its label and a
refusal by its reason (rule, column, row), never by a value or the name it was sent under.
"""

from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Config,
    Definitions,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from ingest.archive import file_label
from ingest.contracts import CONTRACTS, Contract
from ingest.errors import InputError
from ingest.load import (
    LoadResult,
    file_sha256,
    find_source_files,
    load_file,
    load_landed_file,
    refusal_reason,
)
from ingest.openreferral.load import load_feeds
from orchestration.ingest.pull import feeding
from orchestration.resources import SourceFilesResource, WarehouseResource


class IngestConfig(Config):
    landed_files: list[str] = Field(
        default_factory=list,
        description="Files dropped in data/landing/<source>/ to load instead of the source "
        "folder's file (set by the landing sensor).",
    )


def raw_asset_key(contract: Contract) -> AssetKey:
    return AssetKey(["raw", contract.name])


def build_ingest_asset(contract: Contract) -> AssetsDefinition:
    upstream = sorted({foreign_key.contract for foreign_key in contract.foreign_keys})

    @asset(
        key=raw_asset_key(contract),
        group_name="ingest",
        description=f"{contract.title}. {contract.description}",
        deps=[
            *(AssetKey(["raw", name]) for name in upstream if name != contract.name),
            *feeding(contract.name),  # pulled community sources load this table too
        ],
        kinds={"duckdb", "polars"},
        metadata={"contract": contract.name, "file_name": contract.file_name},
    )
    def _ingest(
        context: AssetExecutionContext,
        config: IngestConfig,
        warehouse: WarehouseResource,
        source_files: SourceFilesResource,
    ) -> MaterializeResult:
        if config.landed_files:
            return _load_landed(context, contract, config.landed_files, warehouse.db_path)
        paths = find_source_files(source_files.path, contract)
        if not paths:  # the directory feeds (Open Referral), else nothing new
            return _load_feeds(context, contract, source_files.path, warehouse.db_path)
        results = []
        for path in paths:  # (several: one per publisher, each replacing only its own part)
            try:
                result = load_file(contract, path, warehouse.db_path)
            except InputError as error:  # in the run's log: the label and a value-free reason
                label = file_label(contract.name, file_sha256(path), path)
                reason = refusal_reason(error, contract)
                raise Failure(description=f"{contract.name}: {label}: {reason}") from None
            for line in [result.summary(), *result.downstream_lines()]:
                context.log.info(line)
            results.append(result)
        metadata = _result_metadata(results[-1])
        if len(results) > 1:
            metadata["files"] = MetadataValue.json([result.label for result in results])
        return MaterializeResult(metadata=metadata)

    return _ingest


def _load_feeds(
    context: AssetExecutionContext, contract: Contract, folder: Path, db_path: Path
) -> MaterializeResult:
    """The contract's rows from the Open Referral directories in the source folder
    (``directories/<name>/``), one load per directory; none: the raw table is kept."""
    try:
        results = load_feeds(folder, db_path, contract)
    except InputError as error:  # a directory's file or record, by path and service id
        raise Failure(description=f"{contract.name}: {error.message}") from None
    if not results:
        context.log.info(f"no {contract.name} file in {folder}; raw table kept")
        return MaterializeResult(metadata={"status": "no new file"})
    for result in results:
        for line in [result.summary(), *result.downstream_lines()]:
            context.log.info(line)
    metadata = _result_metadata(results[-1])
    metadata["directory_loads"] = MetadataValue.json([result.label for result in results])
    metadata["rows_loaded"] = sum(result.rows_loaded for result in results)
    metadata["rows_quarantined"] = sum(result.rows_quarantined for result in results)
    return MaterializeResult(metadata=metadata)


def _result_metadata(result: LoadResult) -> dict[str, object]:
    return {
        "status": result.status,
        "file": result.label,
        "archived": MetadataValue.path(str(result.archive_path)),
        "sha256": result.file_sha256,
        "rows_read": result.rows_read,
        "rows_loaded": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined,
        "rows_replaced": result.rows_replaced,
        "quarantine_reasons": MetadataValue.json(result.quarantine_reasons),
        # rows loaded earlier (per source) whose foreign key went with this load
        "rows_set_aside_later": MetadataValue.json(result.rows_set_aside_later),
    }


def _load_landed(
    context: AssetExecutionContext, contract: Contract, paths: list[str], db_path: Path
) -> MaterializeResult:
    """Load landed files in order; refused ones go to rejected/. Fails only if none loaded."""
    results: list[LoadResult] = []
    refused: list[str] = []
    for name in paths:
        try:
            result = load_landed_file(contract, Path(name), db_path)
        except InputError as error:
            note = f"rejected/{contract.name}/"
            context.log.error(f"refused and deleted (its note is in {note}): {error.message}")
            refused.append(error.message)
            continue
        for line in [result.summary(), *result.downstream_lines()]:
            context.log.info(line)
        results.append(result)
    if not results:
        raise Failure(
            description="every landed file was refused:\n" + "\n".join(refused),
            metadata={"refused": MetadataValue.json(refused)},
        )
    metadata = _result_metadata(results[-1])
    metadata["landed_files"] = MetadataValue.json([result.label for result in results])
    metadata["refused"] = MetadataValue.json(refused)
    return MaterializeResult(metadata=metadata)


ingest_assets = [build_ingest_asset(contract) for contract in CONTRACTS.values()]
defs = Definitions(assets=ingest_assets)
