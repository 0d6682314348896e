"""docs/contracts.md is generated from the contracts and must not drift from them."""

from ingest.contracts import CONTRACTS
from ingest.contracts.docs import DOC_PATH, render_markdown


def test_committed_contract_page_matches_the_contracts() -> None:
    assert DOC_PATH.read_text() == render_markdown(), (
        "docs/contracts.md is out of date: run `make docs` (python -m ingest.contracts.docs)"
    )


def test_every_contract_and_column_is_documented() -> None:
    page = render_markdown()
    for contract in CONTRACTS.values():
        assert f"## `{contract.name}`" in page
        for column in contract.columns:
            assert f"| `{column.name}` |" in page


def test_foreign_keys_point_to_earlier_contracts_and_real_columns() -> None:
    seen: list[str] = []
    for contract in CONTRACTS.values():
        for foreign_key in contract.foreign_keys:
            assert foreign_key.contract in seen, f"{contract.name} refers forward"
            CONTRACTS[foreign_key.contract].column(foreign_key.target_column)
            contract.column(foreign_key.column)
        for key in contract.primary_key:
            contract.column(key)
        seen.append(contract.name)
