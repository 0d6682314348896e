"""The dbt sources file is generated from the input contracts and must not drift from them."""

import yaml

from ingest.contracts import CONTRACTS
from ingest.contracts.dbt_sources import (
    LOAD_METADATA_COLUMNS,
    SOURCES_YML_PATH,
    render_sources_yml,
)

REGENERATE = "run `uv run python -m ingest.contracts.dbt_sources` and commit the result"


def _committed_tables() -> dict[str, dict]:
    document = yaml.safe_load(SOURCES_YML_PATH.read_text(encoding="utf-8"))
    (source,) = [source for source in document["sources"] if source["name"] == "raw"]
    return {table["name"]: table for table in source["tables"]}


def test_committed_sources_yml_matches_the_contracts() -> None:
    assert SOURCES_YML_PATH.exists(), f"{SOURCES_YML_PATH} is missing: {REGENERATE}"
    committed = SOURCES_YML_PATH.read_text(encoding="utf-8")
    assert committed == render_sources_yml(), f"{SOURCES_YML_PATH.name} has drifted: {REGENERATE}"


def test_every_contract_has_a_source_table() -> None:
    tables = _committed_tables()
    missing = sorted(set(CONTRACTS) - set(tables))
    unknown = sorted(set(tables) - set(CONTRACTS))
    assert not missing, f"contracts without a dbt source table: {missing}; {REGENERATE}"
    assert not unknown, f"dbt source tables without a contract: {unknown}; {REGENERATE}"


def test_every_contract_column_is_declared_with_its_type() -> None:
    tables = _committed_tables()
    metadata = [(name, data_type) for name, data_type, _ in LOAD_METADATA_COLUMNS]
    for name, contract in CONTRACTS.items():
        declared = [(column["name"], column["data_type"]) for column in tables[name]["columns"]]
        expected = [(column.name, column.duckdb_type) for column in contract.columns] + metadata
        assert declared == expected, f"raw.{name} columns differ from its contract"


def test_single_column_primary_keys_are_tested_unique_and_not_null() -> None:
    tables = _committed_tables()
    for name, contract in CONTRACTS.items():
        if len(contract.primary_key) != 1:
            continue
        (key,) = contract.primary_key
        (column,) = [column for column in tables[name]["columns"] if column["name"] == key]
        plain_tests = {test for test in column.get("data_tests", []) if isinstance(test, str)}
        assert {"unique", "not_null"} <= plain_tests, f"{name}.{key}"


def test_freshness_follows_the_contract() -> None:
    tables = _committed_tables()
    for name, contract in CONTRACTS.items():
        config = tables[name]["config"]
        assert config["loaded_at_field"] == "_loaded_at"
        assert config["freshness"]["warn_after"] == {
            "count": contract.freshness_warn_days,
            "period": "day",
        }
        assert config["freshness"]["error_after"] == {
            "count": contract.freshness_error_days,
            "period": "day",
        }
