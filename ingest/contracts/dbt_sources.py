"""Render the dbt sources file for the raw tables from the input contracts.

The contracts are the one source of truth for what a raw table holds, so the dbt ``sources``
file is generated from them rather than written by hand: every table, every column (with its
description, rules and DuckDB type), freshness from ``freshness_*_days``, and the tests of
what the loader cannot guarantee on its own.

The loader (ingest/validate.py) checks every row of every file against its contract and
quarantines the rows that fail: a required column empty, a value not allowed, the primary key
repeated in the file. A dbt test re-reading the whole raw table every build for those would
repeat it, so they are not generated. What a file-by-file check cannot see is tested here:
- a primary key across files, where the key does not hold the period: a later file replaces
  the months it covers, not the keys, so a referral_id sent again dated in another month
  would stay twice (unique). A snapshot's file replaces the whole table, and a key
  that holds the period column is replaced with its month: both unique by the load rule. A
  file that replaces only its own part (a funder's grants, a directory's records) leaves other
  parts' keys in place: the key is tested unique within each part.
- foreign keys (relationships): the loader checks them against the parent as loaded then; a
  later file of the parent can drop a key that older rows still use.

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
    (
        "_source_file",
        "varchar",
        "Label of the file the row came from (source-sha256[:12].ext), never its sent name.",
    ),
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


def unique_key_columns(contract: Contract) -> list[str]:
    """The columns unique across the table's files: the primary key, within each part a file
    replaces (``replace_scope``: a directory's records, a funder's grants). Two directories
    may list the same organisation under one id (staging keeps the latest load's row); a
    grant id two funders both publish is caught where grants meet (the marts' unique tests)."""
    scope = [column for column in contract.replace_scope if column not in contract.primary_key]
    return [*scope, *contract.primary_key]


def key_unique_across_files_untested(contract: Contract) -> bool:
    """True when the loader's rules alone do not make the primary key unique in the table:
    a period table (a file replaces its months) whose key does not hold the period column,
    or a table whose files replace only their own part (``replace_scope``: two funders' files
    could both hold a grant id)."""
    if contract.replace_scope:
        return True
    return contract.period_column is not None and contract.period_column not in (
        contract.primary_key
    )


def _column_tests(contract: Contract, column: Column) -> list[Any]:
    tests: list[Any] = []
    single_key = unique_key_columns(contract) == [column.name]
    if single_key and key_unique_across_files_untested(contract):
        tests.append("unique")
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
    key = unique_key_columns(contract)
    if len(key) > 1 and key_unique_across_files_untested(contract):
        table["data_tests"] = [
            {"unique_combination_of_columns": {"arguments": {"combination_of_columns": key}}}
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
