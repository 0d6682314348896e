"""360Giving publications as funders release them: optional fields, several beneficiary
locations, org-ids in the forms org-id.guide allows, organisations' addresses read past, and
funders' files side by side (a file replaces only its own funders' grants)."""

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest.contracts import get_contract
from ingest.contracts.giving360 import grant_to_row, row_to_grant
from ingest.errors import InputError
from ingest.load import load_file
from ingest.read import read_source

FUNDING = get_contract("provider_funding")


def grant(grant_id: str, funder: str = "GB-CHC-1000001", **extra: Any) -> dict[str, Any]:
    """A minimal grant: only the fields 360Giving requires."""
    return {
        "id": grant_id,
        "title": "Community lunch club",
        "description": "Weekly lunches and activities",
        "currency": "GBP",
        "amountAwarded": 5000,
        "awardDate": "2024-05-01",
        "recipientOrganization": [{"id": "360G-lunchclub", "name": "Lunch Club"}],
        "fundingOrganization": [{"id": funder, "name": "A Trust"}],
        **extra,
    }


def package(tmp_path: Path, name: str, *grants: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"grants": list(grants)}), encoding="utf-8")
    return path


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_grant_with_only_required_fields_loads(tmp_path: Path, warehouse_path: Path) -> None:
    result = load_file(FUNDING, package(tmp_path, "a.json", grant("360G-a-1")), warehouse_path)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)
    [row] = rows(
        warehouse_path,
        "select planned_start_date, planned_end_date, planned_duration_months, "
        "grant_programme_title, beneficiary_area_codes from raw.provider_funding",
    )
    assert row == (None, None, None, None, None)


def test_several_beneficiary_locations_keep_every_gss_code_and_count_the_rest() -> None:
    locations = [
        {"name": "Camden", "geoCode": "E09000007", "geoCodeType": "LAD"},
        {"name": "Holborn ward", "geoCode": " e05013660 "},
        {"name": "The whole of London"},
        {"name": "A postcode district", "geoCode": "NW1"},
        {"name": "Camden again", "geoCode": "E09000007"},
    ]
    row = grant_to_row(grant("360G-a-1", beneficiaryLocation=locations))
    assert row["beneficiary_area_codes"] == "E09000007;E05013660"
    assert row["beneficiary_locations_without_code"] == 2
    assert grant_to_row(grant("360G-a-2"))["beneficiary_locations_without_code"] is None


def test_planned_duration_without_dates_is_read(tmp_path: Path) -> None:
    path = package(tmp_path, "a.json", grant("360G-a-1", plannedDates=[{"duration": 18}]))
    frame = read_source(FUNDING, path)
    assert frame["planned_duration_months"].to_list() == [18.0]
    assert frame["planned_start_date"].to_list() == [None]


@pytest.mark.parametrize(
    "org_id",
    [
        "GB-CHC-1087654",
        "GB-COH-09876543",
        "GB-SC-SC012345",
        "GB-NIC-104567",
        "GB-EDU-100001",
        "GB-NHS-RRV",
        "GB-LAE-CMD",
        "GB-GOR-PB123",
        "GB-UKPRN-10001234",
        "GB-MPR-IP12345R",
        "GB-SHPE-L1234",
        "XI-GRID-grid.4991.5",
        "IE-CHY-20001234",
        "gb-chc-1087654",
        "360G-CamdenCouncil-ORG:Lunch_Club.2",
        "360G-lbcamden-org_123",
    ],
)
def test_org_ids_in_every_registered_form_load(org_id: str, tmp_path: Path) -> None:
    record = grant("360G-a-1")
    record["recipientOrganization"][0]["id"] = org_id
    frame = read_source(FUNDING, package(tmp_path, "a.json", record))
    assert frame["recipient_org_id"].to_list() == [org_id]
    from ingest.validate import split_rows

    assert split_rows(FUNDING, frame).quarantined.is_empty()


@pytest.mark.parametrize("org_id", ["GB-XYZ-123", "CHC-1087654", "GB-CHC-", "360G-two words"])
def test_org_ids_outside_org_id_guide_are_quarantined(org_id: str, tmp_path: Path) -> None:
    from ingest.validate import split_rows

    record = grant("360G-a-1")
    record["recipientOrganization"][0]["id"] = org_id
    split = split_rows(FUNDING, read_source(FUNDING, package(tmp_path, "a.json", record)))
    assert split.quarantined["column"].to_list() == ["recipient_org_id"]


def test_funders_files_load_side_by_side(tmp_path: Path, warehouse_path: Path) -> None:
    """Funder A, then B, then A corrected: B's grants stay, A's are replaced."""
    a = package(
        tmp_path, "a.json", grant("360G-a-1", "GB-CHC-1000001"), grant("360G-a-2", "GB-CHC-1000001")
    )
    b = package(tmp_path, "b.json", grant("360G-b-1", "GB-LAE-CMD"))
    a2 = package(tmp_path, "a2.json", grant("360G-a-1", "GB-CHC-1000001", amountAwarded=7000))
    load_file(FUNDING, a, warehouse_path)
    second = load_file(FUNDING, b, warehouse_path)
    assert second.rows_replaced == 0
    third = load_file(FUNDING, a2, warehouse_path)
    assert third.rows_replaced == 2
    assert "2 earlier rows of the same funding_org_id replaced" in third.summary()
    assert rows(
        warehouse_path,
        "select grant_id, amount_awarded_gbp from raw.provider_funding order by 1",
    ) == [("360G-a-1", 7000.0), ("360G-b-1", 5000.0)]
    statuses = rows(
        warehouse_path,
        "select status, replace_scope from audit.loads order by loaded_at",
    )
    assert statuses == [
        ("superseded", "funding_org_id: GB-CHC-1000001"),
        ("loaded", "funding_org_id: GB-LAE-CMD"),
        ("loaded", "funding_org_id: GB-CHC-1000001"),
    ]


def test_organisations_addresses_neither_refuse_nor_stay(
    tmp_path: Path, warehouse_path: Path
) -> None:
    record = grant("360G-a-1")
    record["recipientOrganization"][0].update(
        streetAddress="1 High Street", addressLocality="Camden", postalCode="NW1 1AA"
    )
    record["fundingOrganization"][0]["postalCode"] = "EC1A 1BB"
    result = load_file(FUNDING, package(tmp_path, "a.json", record), warehouse_path)
    assert result.rows_loaded == 1
    kept = result.archive_path
    assert kept is not None and b"NW1 1AA" not in kept.read_bytes()


def test_a_grant_to_an_individual_refuses_the_file(tmp_path: Path, warehouse_path: Path) -> None:
    record = grant("360G-a-1")
    del record["recipientOrganization"]
    record["recipientIndividual"] = {"id": "360G-a-person-1", "name": "Jane Smith"}
    with pytest.raises(InputError):
        load_file(FUNDING, package(tmp_path, "a.json", record), warehouse_path)


def test_row_to_grant_is_grant_to_row_reversed() -> None:
    row = grant_to_row(
        grant(
            "360G-a-1",
            plannedDates=[{"startDate": "2024-05-01", "duration": 12}],
            grantProgramme=[{"title": "Small grants"}],
            beneficiaryLocation=[{"geoCode": "E09000007"}, {"geoCode": "E09000033"}],
        )
    )
    assert grant_to_row(row_to_grant(row)) == row


def test_ten_digits_in_a_grant_or_org_id_are_not_an_nhs_number(
    tmp_path: Path, warehouse_path: Path
) -> None:
    """9434765919 passes the NHS number check digit; in an identifier of a grant or an
    organisation (their contract patterns say so) it is a reference number."""
    record = grant("360G-blf-9434765919")
    record["recipientOrganization"][0]["id"] = "GB-COH-9434765919"
    result = load_file(FUNDING, package(tmp_path, "a.json", record), warehouse_path)
    assert result.rows_loaded == 1


def test_an_nhs_number_in_a_description_still_refuses(tmp_path: Path, warehouse_path: Path) -> None:
    record = grant("360G-a-1", description="For patient 943 476 5919")
    with pytest.raises(InputError, match="outside the contract: 1 value looks like an NHS number"):
        load_file(FUNDING, package(tmp_path, "a.json", record), warehouse_path)


def test_the_programme_rules_name_only_known_purposes() -> None:
    """The editable mapping (a dbt seed) gives one of the contract's funding purposes, and
    its sensible defaults classify common programme names."""
    import re

    import polars as pl

    from ingest.contracts.sources import FUNDING_PURPOSES

    seed = Path(__file__).resolve().parents[2] / "dbt_project/seeds/grant_programme_purposes.csv"
    rules = pl.read_csv(seed).sort("priority")
    assert set(rules["funding_purpose"]) <= set(FUNDING_PURPOSES)

    def purpose(title: str) -> str:
        for pattern, found in rules.select("pattern", "funding_purpose").iter_rows():
            if re.search(pattern, title, re.IGNORECASE):
                return found
        return "unknown"

    assert purpose("Social Prescribing Referral Contracts") == "social_prescribing_contract"
    assert purpose("Core Support Grants") == "core"
    assert purpose("Awards for All England") == "project"
    assert purpose("Voluntary Sector Grants") == "project"
    assert purpose("Migrants and Refugees") == "unknown"
