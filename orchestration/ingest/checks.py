"""Asset checks on the ingest assets: does the latest load of each source add up, and what did
the contract's Great Expectations suite find in it?

Two checks per ``raw/<source>`` asset, both on the newest accepted load of that source:

* ``rows_reconcile`` (severity ERROR): rows read = rows loaded + rows quarantined in
  ``audit.loads``, and the warehouse holds exactly those rows (``raw.<source>`` rows with the
  load's ``_load_id``, unless a later file has since replaced them, and ``audit.quarantine``
  rows with its ``load_id``). Failing means rows were lost: a fault, not bad data.
* ``contract_rules`` (severity WARN): the contract's expectation suite
  (``ingest.validate.run_expectations``) over the load's rows. Rows that broke a rule were
  set aside in ``audit.quarantine`` rather than loaded, so a failed expectation is a warning
  that says how many rows of the file each rule set aside.

The suite runs on every quarantined row and at most ``GX_LOADED_ROWS`` loaded rows: loaded
rows passed every rule when they were loaded, so they cannot add failures, and the cap keeps
a national-scale file from converting millions of rows to pandas. Great Expectations is
imported once per run (about 15 s), not per asset.
"""

from typing import Any

from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    Definitions,
    MetadataValue,
    asset_check,
)

from ingest.contracts import CONTRACTS, Contract
from ingest.load import LoadRecord, latest_load, rows_of_load
from orchestration.ingest.assets import raw_asset_key
from orchestration.resources import WarehouseResource

GX_LOADED_ROWS = 50_000


def reconcile(record: LoadRecord | None) -> AssetCheckResult:
    """The ``rows_reconcile`` result for the latest load (``None``: nothing loaded yet)."""
    if record is None:
        return AssetCheckResult(passed=True, metadata={"load": "no file loaded yet"})
    problems = []
    if record.rows_read != record.rows_loaded + record.rows_quarantined:
        problems.append(
            f"rows read {record.rows_read:,} != loaded {record.rows_loaded:,} + quarantined "
            f"{record.rows_quarantined:,}"
        )
    if record.status == "loaded" and record.rows_in_raw != record.rows_loaded:
        problems.append(
            f"raw table holds {record.rows_in_raw:,} rows of this load, audit says "
            f"{record.rows_loaded:,}"
        )
    if record.rows_in_quarantine != record.rows_quarantined:
        problems.append(
            f"audit.quarantine holds {record.rows_in_quarantine:,} rows of this load, audit "
            f"says {record.rows_quarantined:,}"
        )
    return AssetCheckResult(
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(problems) or "rows read = rows loaded + rows quarantined",
        metadata={
            **_load_metadata(record),
            "rows_in_raw": record.rows_in_raw,
            "rows_in_quarantine": record.rows_in_quarantine,
        },
    )


def contract_rules(warehouse: WarehouseResource, contract: Contract) -> AssetCheckResult:
    """The ``contract_rules`` result: the GX suite over the latest load's rows."""
    from ingest.validate import run_expectations

    record = latest_load(warehouse.db_path, contract.name)
    if record is None:
        return AssetCheckResult(passed=True, metadata={"load": "no file loaded yet"})
    frame, known_keys = rows_of_load(
        warehouse.db_path, contract, record.load_id, loaded_limit=GX_LOADED_ROWS
    )
    results = run_expectations(contract, frame, known_keys=known_keys)
    failed = [result for result in results if not result["success"]]
    return AssetCheckResult(
        passed=not failed,
        severity=AssetCheckSeverity.WARN,
        description=(
            f"{len(failed)} of {len(results)} expectations failed; those rows were quarantined"
            if failed
            else f"all {len(results)} expectations passed"
        ),
        metadata={
            **_load_metadata(record),
            "rows_checked": frame.height,
            "expectations": len(results),
            "expectations_failed": len(failed),
            "failed": MetadataValue.json([_shown(result) for result in failed]),
            "results": MetadataValue.md(_table(results)),
        },
    )


def _load_metadata(record: LoadRecord) -> dict[str, Any]:
    return {
        "load_id": record.load_id,
        "file": record.file_name,
        "status": record.status,
        "rows_read": record.rows_read,
        "rows_loaded": record.rows_loaded,
        "rows_quarantined": record.rows_quarantined,
    }


def _shown(result: dict[str, Any]) -> dict[str, Any]:
    return {key: result[key] for key in ("expectation", "column", "rule", "unexpected_count")}


def _table(results: list[dict[str, Any]]) -> str:
    lines = ["| expectation | column | rule | passed | unexpected |", "|---|---|---|---|---|"]
    for result in results:
        lines.append(
            f"| {result['expectation']} | {result['column']} | {result['rule']} | "
            f"{'yes' if result['success'] else '**no**'} | {result['unexpected_count']:,} |"
        )
    return "\n".join(lines)


def build_ingest_checks(contract: Contract) -> list[AssetChecksDefinition]:
    key = raw_asset_key(contract)

    @asset_check(
        asset=key,
        name="rows_reconcile",
        description="Rows read = rows loaded + rows quarantined, and the warehouse holds them.",
    )
    def _reconcile(warehouse: WarehouseResource) -> AssetCheckResult:
        return reconcile(latest_load(warehouse.db_path, contract.name))

    @asset_check(
        asset=key,
        name="contract_rules",
        description=f"Great Expectations suite from the {contract.name} contract; failures "
        "are rows that were set aside in audit.quarantine.",
    )
    def _rules(warehouse: WarehouseResource) -> AssetCheckResult:
        return contract_rules(warehouse, contract)

    return [_reconcile, _rules]


ingest_checks = [check for c in CONTRACTS.values() for check in build_ingest_checks(c)]
defs = Definitions(asset_checks=ingest_checks)
