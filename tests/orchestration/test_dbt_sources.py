"""The dbt sources file is generated from the input contracts and must not drift from them."""

import yaml

from ingest.contracts import CONTRACTS
from ingest.contracts.dbt_sources import (
    LOAD_METADATA_COLUMNS,
    SOURCES_YML_PATH,
    key_unique_across_files_untested,
    render_sources_yml,
    unique_key_columns,
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


def _tests_of(table: dict) -> list:
    return list(table.get("data_tests", [])) + [
        test for column in table["columns"] for test in column.get("data_tests", [])
    ]


def test_keys_the_load_rule_cannot_guarantee_are_tested_unique() -> None:
    # a period table whose key does not hold the period: a later file replaces months, not
    # keys (referral_id sent again in another month)
    tables = _committed_tables()
    for name, contract in CONTRACTS.items():
        if not key_unique_across_files_untested(contract):
            continue
        key = unique_key_columns(contract)
        if len(key) == 1:
            (column,) = [column for column in tables[name]["columns"] if column["name"] == key[0]]
            assert "unique" in column.get("data_tests", []), f"{name}.{key}"
        else:
            (test,) = tables[name]["data_tests"]
            combination = test["unique_combination_of_columns"]["arguments"]
            assert combination["combination_of_columns"] == key
    # a file replacing only its own part (a directory's records): the key within each part
    assert unique_key_columns(CONTRACTS["providers"]) == ["directory_id", "provider_id"]
    assert unique_key_columns(CONTRACTS["provider_funding"]) == ["funding_org_id", "grant_id"]
    assert key_unique_across_files_untested(CONTRACTS["referrals"])
    assert not key_unique_across_files_untested(CONTRACTS["activity_sessions"])  # holds the date
    assert not key_unique_across_files_untested(CONTRACTS["geography"])  # a snapshot


def test_what_the_loader_enforces_row_by_row_is_not_tested_again() -> None:
    # required columns, allowed values and a key repeated within a file are quarantined by
    # ingest.validate; only keys across files and foreign keys are left to dbt
    tables = _committed_tables()
    for name, contract in CONTRACTS.items():
        for test in _tests_of(tables[name]):
            kind = test if isinstance(test, str) else next(iter(test))
            assert kind in ("unique", "unique_combination_of_columns", "relationships"), name
        foreign_keys = [test for test in _tests_of(tables[name]) if "relationships" in test]
        assert len(foreign_keys) == len(contract.foreign_keys), name


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
