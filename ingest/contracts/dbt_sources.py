"""Render the dbt sources file for the raw tables from the input contracts.

The contracts are the one source of truth for what a raw table holds, so the dbt ``sources``
file is generated from them rather than written by hand: every table, every column (with its
description, rules and DuckDB type), freshness from ``freshness_*_days``, and the tests that
follow from the contract (unique/not_null on the primary key, not_null on required columns,
accepted_values for allowed values, relationships for foreign keys).

Run ``uv run python -m ingest.contracts.dbt_sources`` to rewrite
``dbt_project/models/staging/_raw__sources.yml``; ``tests/orchestration/test_dbt_sources.py``
fails when the committed file has drifted from the contracts.
"""

from pathlib import Path
from typing import Any

import yaml

from ingest.contracts.model import Column, Contract
from ingest.contracts.sources import CONTRACTS

SOURCES_YML_PATH = (
    Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "staging" / "_raw__sources.yml"
)

SOURCE_NAME = "raw"
LOADED_AT_FIELD = "_loaded_at"

# Columns the loader adds to every raw table, after the contract's own columns.
LOAD_METADATA_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("_load_id", "varchar", "Identifier of the load that wrote the row (audit.loads.load_id)."),
    ("_source_file", "varchar", "Name of the file the row came from."),
    ("_file_sha256", "varchar", "SHA-256 of the source file."),
    ("_row_number", "bigint", "Row number of the record in the source file (1-based)."),
    ("_loaded_at", "timestamp", "When the row was loaded (UTC)."),
)

HEADER = """\
# GENERATED FILE: do not edit by hand.
# Rendered from the input contracts (ingest/contracts/sources.py) by
# `uv run python -m ingest.contracts.dbt_sources`; tests/orchestration/test_dbt_sources.py
# fails when this file drifts from the contracts.
#
# One sources file for every raw table is a deliberate departure from the house style of one
# `_<folder>__sources.yml` per staging folder: the contracts are the single source of truth
# for the raw tables, and one generated file keeps dbt's view of them from drifting.
"""


def _column_description(column: Column) -> str:
    rules = "; ".join(column.rules())
    standard = f" Standard: {column.standard}." if column.standard else ""
    return f"{column.description} Rules: {rules}.{standard}"


def _column_tests(contract: Contract, column: Column) -> list[Any]:
    tests: list[Any] = []
    single_key = len(contract.primary_key) == 1 and contract.primary_key[0] == column.name
    if single_key:
        tests.append("unique")
    # An optional column may be absent from a file, and is then empty: never not_null.
    if not column.nullable and not column.optional:
        tests.append("not_null")
    if column.allowed:
        tests.append({"accepted_values": {"arguments": {"values": list(column.allowed)}}})
    for foreign_key in contract.foreign_keys:
        if foreign_key.column == column.name:
            tests.append(
                {
                    "relationships": {
                        "arguments": {
                            "to": f"source('{SOURCE_NAME}', '{foreign_key.contract}')",
                            "field": foreign_key.target_column,
                        }
                    }
                }
            )
    return tests


def _table(contract: Contract) -> dict[str, Any]:
    columns: list[dict[str, Any]] = []
    for column in contract.columns:
        entry: dict[str, Any] = {
            "name": column.name,
            "description": _column_description(column),
            "data_type": column.duckdb_type,
        }
        tests = _column_tests(contract, column)
        if tests:
            entry["data_tests"] = tests
        columns.append(entry)
    for name, data_type, description in LOAD_METADATA_COLUMNS:
        columns.append({"name": name, "description": description, "data_type": data_type})

    table: dict[str, Any] = {
        "name": contract.name,
        "description": (
            f"{contract.title}. {contract.description} Sender: {contract.sender}. "
            f"Grain: {', '.join(contract.primary_key)}."
        ),
        "config": {
            "loaded_at_field": LOADED_AT_FIELD,
            "freshness": {
                "warn_after": {"count": contract.freshness_warn_days, "period": "day"},
                "error_after": {"count": contract.freshness_error_days, "period": "day"},
            },
        },
    }
    if len(contract.primary_key) > 1:
        table["data_tests"] = [
            {
                "unique_combination_of_columns": {
                    "arguments": {"combination_of_columns": list(contract.primary_key)}
                }
            }
        ]
    table["columns"] = columns
    return table


def render_sources_yml() -> str:
    """The text of ``_raw__sources.yml`` for the current contracts (deterministic)."""
    document = {
        "version": 2,
        "sources": [
            {
                "name": SOURCE_NAME,
                "description": (
                    "Raw tables written by the loader (ingest/load.py): one per input contract, "
                    "with exactly the contract's columns plus load metadata. Rows have passed "
                    "contract validation; rejected rows are in audit.quarantine."
                ),
                "schema": SOURCE_NAME,
                "tables": [_table(contract) for contract in CONTRACTS.values()],
            }
        ],
    }
    body = yaml.safe_dump(
        document, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )
    return HEADER + "\n" + body


def main() -> None:
    """Write the rendered sources file into the dbt project."""
    SOURCES_YML_PATH.parent.mkdir(parents=True, exist_ok=True)
    SOURCES_YML_PATH.write_text(render_sources_yml(), encoding="utf-8")


if __name__ == "__main__":
    main()
