"""Code formats in the contracts: what each pattern must accept and refuse (polars' regex)."""

import polars as pl
import pytest

from ingest.contracts import get_contract
from ingest.contracts.sources import GIVING_ORG_ID, GSS_CODE, GSS_CODE_LIST, ORG_ID, TOKEN


def matches(pattern: str, value: str) -> bool:
    return bool(pl.Series([value]).str.contains(pattern)[0])


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("a1b2c3", True),
        ("12345a", True),
        ("1a2345", True),
        ("00a1f3e4b5c6d7e8", True),
        ("ACT-000123", True),
        ("9434765919", False),  # a bare 10-digit number (this one is a valid NHS number)
        ("123456", False),
        ("12-34_56", False),
        ("abcde", False),  # too short
        ("a" * 64, True),
        ("a" * 65, False),
        ("abc def", False),
    ],
)
def test_token_needs_a_letter_and_6_to_64_characters(value: str, ok: bool) -> None:
    assert matches(TOKEN, value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("GB-CHC-1234567", True),
        ("GB-COH-DV000123", True),
        ("GB-LAE-ABC", True),
        ("GB-LAS-ABCD", True),
        ("GB-LAE-abc", False),
        ("GB-LAE-AB", False),
        ("360G-DEMO-FUNDER-1", True),
        ("ABC", False),
    ],
)
def test_org_ids_include_local_authorities(value: str, ok: bool) -> None:
    assert matches(ORG_ID, value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("E01000001", True),
        ("E38000001", True),
        ("E54000901", True),
        ("W02000001", True),
        ("S12000033", True),
        ("N09000001", True),
        ("X01000001", False),
        ("E0100001", False),
    ],
)
def test_beneficiary_area_accepts_any_gss_code(value: str, ok: bool) -> None:
    assert matches(GSS_CODE, value) is ok


def test_identifier_columns_carry_their_patterns() -> None:
    assert get_contract("onward_referrals").column("activity_id").pattern == TOKEN
    funding = get_contract("provider_funding")
    assert funding.column("funding_org_id").pattern == GIVING_ORG_ID
    assert funding.column("beneficiary_area_codes").pattern == GSS_CODE_LIST
    # a directory's own ids are not org-ids; the org-id, when published, has its own column
    assert get_contract("providers").column("provider_id").pattern == TOKEN
    assert get_contract("providers").column("org_id").pattern == GIVING_ORG_ID
