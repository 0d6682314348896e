"""Open Referral directories as published: ORUK-style list pages and full records of a real
council directory (Buckinghamshire), the HSDS 3.0 and 3.1 examples, loaded as providers and
activities with venues placed in LSOA 2021 polygons of the shared reference boundaries."""

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from cli_runner import run_cli
from test_load import query

from ingest.errors import InputError
from ingest.load import load_file
from ingest.openreferral.feed import Directory, as_token, read_directory
from ingest.openreferral.load import load_directory_feed
from ingest.openreferral.places import DEFAULT_BOUNDARIES, LsoaLocator
from ingest.openreferral.schedule import (
    running_dates,
    schedule_sessions_per_week,
    sessions_per_week,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "published" / "openreferral"
BUCKS_PAGE = FIXTURES / "buckinghamshire-outpost-services-page1.json"
BUCKS_RECORD = FIXTURES / "buckinghamshire-outpost-service-1.json"
BOUNDARIES = DEFAULT_BOUNDARIES  # the shared reference copy
SHARED_REFERENCE = DEFAULT_BOUNDARIES.parent
BUCKINGHAMSHIRE = "E06000060"
TODAY = date(2026, 11, 22)

needs_reference = pytest.mark.skipif(
    not BOUNDARIES.is_file(), reason="the shared LSOA boundaries are not on this machine"
)


@pytest.fixture(scope="module")
def geography_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Buckinghamshire's LSOAs as a geography file (real codes, from the shared lookups)."""
    from ingest.reference.geography import build_geography

    frame = build_geography(
        SHARED_REFERENCE / "lsoa21_sicbl24_icb24_lad24_lookup_en_geographr.csv",
        SHARED_REFERENCE / "lsoa21_ward24_lad24_lookup_ew_geographr.csv",
        SHARED_REFERENCE / "hocl_msoa_names_2021_v2.2.csv",
    ).filter(pl.col("lad_code") == BUCKINGHAMSHIRE)
    path = tmp_path_factory.mktemp("geography") / "geography.csv"
    frame.write_csv(path)
    return path


@pytest.fixture
def warehouse(warehouse_path: Path, geography_csv: Path) -> Path:
    load_file("geography", geography_csv, warehouse_path)
    return warehouse_path


def load(paths: list[Path], db: Path, directory: str, **options) -> list:
    return load_directory_feed(
        paths,
        db,
        directory_id=directory,
        boundaries=BOUNDARIES,
        today=TODAY,
        **options,
    )


@needs_reference
def test_a_council_list_page_loads_with_its_organisations(warehouse: Path) -> None:
    results = load([BUCKS_PAGE], warehouse, "bucks", local_authority=BUCKINGHAMSHIRE)
    assert [result.source for result in results] == ["providers", "activities"]
    providers, activities = results
    assert activities.rows_read == 20 and activities.rows_loaded == 20
    assert providers.rows_loaded == providers.rows_read > 0
    # integer ids of the directory become tokens under the directory's name
    assert query(warehouse, "select count(*) from raw.activities where activity_id = 'bucks-1'")
    placements = dict(
        query(
            warehouse,
            "select venue_placement, count(*) from raw.activities group by venue_placement",
        )
    )
    # 2 services have no location and 5 sit at (0, 0), the feed's mark for online or
    # nationwide: all 7 are placed in the publisher's local authority; one venue's
    # coordinates are outside the county (Oxfordshire)
    assert placements == {"coordinates": 12, "outside_area": 1, "publisher_area": 7}
    assert query(
        warehouse,
        "select distinct venue_lad_code, venue_lsoa_code from raw.activities "
        "where venue_placement = 'publisher_area'",
    ) == [(BUCKINGHAMSHIRE, None)]
    # loads as one load per contract
    assert query(warehouse, "select source, count(*) from audit.loads group by 1 order by 1") == [
        ("activities", 1),
        ("geography", 1),
        ("providers", 1),
    ]


@needs_reference
def test_full_records_place_venues_in_lsoas_from_coordinates(warehouse: Path) -> None:
    load([BUCKS_PAGE, BUCKS_RECORD], warehouse, "bucks", local_authority=BUCKINGHAMSHIRE)
    lsoas = {row[0] for row in query(warehouse, "select lsoa_code from raw.geography")}
    rows = query(
        warehouse,
        "select activity_id, venue_lsoa_code, venue_lad_code, sessions_per_week, "
        "taxonomy_terms from raw.activities "
        "where venue_placement in ('coordinates', 'outside_area') order by activity_id",
    )
    assert len(rows) == 13
    inside = [row for row in rows if row[1] is not None]
    assert len(inside) == 12
    assert all(lsoa in lsoas and lad == BUCKINGHAMSHIRE for _, lsoa, lad, _, _ in inside)
    # service 2 says Aylesbury but its coordinates are in Oxfordshire: outside the geography
    assert [row[:3] for row in rows if row[1] is None] == [("bucks-2", None, None)]
    record = next(row for row in rows if row[0] == "bucks-1")
    # the full record's schedule (one Monday) gives one session a week; its taxonomy is kept
    assert record[3] == 1.0
    assert record[4] == "Clubs and groups;Things to do"
    # nothing of the contacts, addresses or postcodes is kept
    columns = {row[0] for row in query(warehouse, "describe raw.activities")}
    assert not columns & {"postal_code", "contacts", "email", "address_1"}


@needs_reference
def test_a_venue_outside_the_warehouse_geography_gets_no_lsoa(tmp_path: Path) -> None:
    # two London LSOAs only: Aylesbury's coordinates fall in neither
    locator = LsoaLocator(BOUNDARIES, {"E01000001": "E09000001", "E01000002": "E09000001"})
    assert locator.lsoa_at(-0.0967, 51.519) == "E01000001"
    directory = read_directory(
        [BUCKS_RECORD], directory_id="bucks", local_authority=None, locator=locator, today=TODAY
    )
    [activity] = directory.activities
    assert activity["venue_lsoa_code"] is None
    assert activity["venue_placement"] == "outside_area"


def record_with(**fields) -> dict:
    base = json.loads((FIXTURES / "hsds-3.1-example-service_full.json").read_text())
    base.update(fields)
    return base


def read_record(tmp_path: Path, record: dict) -> Directory:
    path = tmp_path / "service.json"
    path.write_text(json.dumps(record))
    locator = LsoaLocator(BOUNDARIES, {})
    return read_directory(
        [path], directory_id="example", local_authority=BUCKINGHAMSHIRE, locator=locator,
        today=TODAY,
    )  # fmt: skip


def read_one(tmp_path: Path, record: dict) -> dict:
    [activity] = read_record(tmp_path, record).activities
    return activity


@needs_reference
def test_hsds_31_capacity_in_places_gives_places(tmp_path: Path) -> None:
    capacity = [{"id": "c1", "unit": {"id": "u1", "name": "Places"}, "available": 4, "maximum": 12}]
    activity = read_one(tmp_path, record_with(capacities=capacity))
    assert activity["places_per_session"] == 12
    assert activity["capacity_unit"] == "Places"


@needs_reference
def test_no_capacity_or_a_capacity_not_of_people_gives_unknown_places(tmp_path: Path) -> None:
    # the HSDS 3.1 example as published: capacity in kilograms, which is not places
    published = read_one(tmp_path, record_with())
    assert published["places_per_session"] is None
    assert published["capacity_unit"] == "Kilogram"
    # the HSDS 3.0 example has no capacity at all: unknown, never 0
    activity = read_one(
        tmp_path, json.loads((FIXTURES / "hsds-3.0-example-service_full.json").read_text())
    )
    assert activity["places_per_session"] is None
    assert activity["capacity_unit"] is None
    # its impossible coordinates (100, 101) place nothing: the publisher's area
    assert activity["venue_placement"] == "publisher_area"
    assert activity["venue_lad_code"] == BUCKINGHAMSHIRE


@needs_reference
def test_hsds_organisation_identifiers_give_org_id_and_company_number(tmp_path: Path) -> None:
    path = tmp_path / "service.json"
    path.write_text((FIXTURES / "hsds-3.1-example-service_full.json").read_text())
    directory = read_directory(
        [path, FIXTURES / "hsds-3.1-example-service_list.json"],
        directory_id="example",
        local_authority=None,
        locator=LsoaLocator(BOUNDARIES, {}),
        today=TODAY,
    )
    [provider] = directory.providers
    assert provider["company_number"] == "01234567"
    assert provider["org_id"] == "GB-COH-01234567"
    [activity] = directory.activities
    assert activity["cost_to_attend_gbp"] == 35.0
    assert activity["record_updated_date"] == "2023-03-15"


@needs_reference
def test_two_directories_side_by_side_each_replaces_only_its_own(
    warehouse: Path, tmp_path: Path
) -> None:
    load([BUCKS_PAGE], warehouse, "bucks", local_authority=BUCKINGHAMSHIRE)
    load(
        [FIXTURES / "hsds-3.0-example-service_full.json"],
        warehouse,
        "example",
        local_authority=BUCKINGHAMSHIRE,
    )
    count = "select directory_id, count(*) from raw.activities group by 1 order by 1"
    assert query(warehouse, count) == [("bucks", 20), ("example", 1)]
    # Buckinghamshire's next page lacks a service: its load replaces only its own records
    page = json.loads(BUCKS_PAGE.read_text())
    page["content"] = page["content"][:-1]
    shorter = tmp_path / "page1.json"
    shorter.write_text(json.dumps(page))
    load([shorter], warehouse, "bucks", local_authority=BUCKINGHAMSHIRE)
    assert query(warehouse, count) == [("bucks", 19), ("example", 1)]
    loads = query(
        warehouse,
        "select l.status, a.directory_id from audit.loads l join "
        "(select distinct _load_id, directory_id from raw.activities) a "
        "on a._load_id = l.load_id order by 2",
    )
    assert loads == [("loaded", "bucks"), ("loaded", "example")]
    superseded = query(
        warehouse,
        "select count(*) from audit.loads where source = 'activities' and status = 'superseded'",
    )
    assert superseded == [(1,)]
    # the same files again change nothing
    results = load([shorter], warehouse, "bucks", local_authority=BUCKINGHAMSHIRE)
    assert {result.status for result in results} == {"unchanged"}


@needs_reference
def test_a_directory_before_the_geography_is_refused_with_a_message(warehouse_path) -> None:
    with pytest.raises(InputError, match="load the geography first"):
        load([BUCKS_PAGE], warehouse_path, "bucks")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('{"content": {"id": 1}}', '"content" must be a list of services'),
        ('{"content": [{"name": "no id"}]}', "a service has no id"),
        ('{"content": [3]}', "a service must be a JSON object"),
        ('{"title": "not a feed"}', "not an Open Referral services page or service record"),
        ('{"id": "s1", "cost_options": "free"}', "service s1: 'cost_options' must be a list"),
        ('{"id": "s1", "organization": "Acme"}', "service s1: 'organization' must be an object"),
        ('{"content": [', "not valid JSON"),
    ],
)
def test_bad_input_is_a_message_naming_the_file_and_service(
    tmp_path: Path, document: str, message: str
) -> None:
    path = tmp_path / "feed.json"
    path.write_text(document)
    with pytest.raises(InputError, match=message) as raised:
        read_directory(
            [path],
            directory_id="x",
            local_authority=None,
            locator=LsoaLocator(BOUNDARIES, {}),
            today=TODAY,
        )
    assert str(path) in raised.value.message


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ({"freq": "WEEKLY", "interval": 1, "byday": "TH,FR"}, 2.0),
        ({"freq": "WEEKLY", "interval": 2, "byday": "MO"}, 0.5),
        ({"freq": "MONTHLY", "byday": "1MO,3MO"}, round(2 * 12 / 52, 4)),
        ({"freq": "MONTHLY", "bymonthday": "15"}, round(12 / 52, 4)),
        ({"freq": "DAILY"}, 7.0),
        ({"byday": "TU"}, 1.0),
        ({"weekday": "Wednesday", "opens_at": "10:00"}, 1.0),
        ({"freq": "WEEKLY", "byday": "MO", "valid_to": "2020-01-01"}, 1.0),
        ({"opens_at": "10:00"}, None),
    ],
)
def test_schedules_give_sessions_a_week(schedule: dict, expected: float | None) -> None:
    assert sessions_per_week([schedule], TODAY) == expected


def test_schedules_of_a_service_add_up_and_give_its_dates() -> None:
    weekly = {"freq": "WEEKLY", "byday": "MO"}
    assert sessions_per_week([weekly, {"weekday": "Friday"}], TODAY) == 2.0
    # an ended schedule is left out while another is in force
    old = {"freq": "WEEKLY", "byday": "MO,TU,WE", "valid_from": "2020-01-06", "until": "2021-01-01"}
    new = {"freq": "WEEKLY", "byday": "MO", "valid_from": "2021-01-04"}
    assert sessions_per_week([old, new], TODAY) == 1.0
    assert running_dates([old, new]) == (date(2020, 1, 6), None)
    assert running_dates([old]) == (date(2020, 1, 6), date(2021, 1, 1))
    assert schedule_sessions_per_week({"opens_at": "10:00"}) is None


def test_ids_become_tokens_without_losing_published_ones() -> None:
    uuid = "ac148810-d857-441c-9679-408f346de14b"
    assert as_token(uuid, "bucks") == uuid
    assert as_token(1883, "bucks") == "bucks-1883"
    assert as_token("svc/12", "bucks") == "bucks-svc-12"


@needs_reference
def test_cli_loads_a_directory_and_says_why_it_cannot(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("ICB_INSIGHT_LSOA_BOUNDARIES", str(BOUNDARIES))
    args = ["ingest", "directory", str(BUCKS_PAGE), str(BUCKS_RECORD)]
    options = ["--directory", "bucks", "--local-authority", BUCKINGHAMSHIRE]
    code, out, err = run_cli([*args, *options, "--warehouse", str(warehouse)], monkeypatch, capsys)
    assert code == 0, err
    assert "20 rows read, 20 loaded" in out
    assert "Directory bucks: 2 files read" in out
    assert query(warehouse, "select count(*) from raw.activities") == [(20,)]

    bad = ["--local-authority", "Bucks", "--warehouse", str(warehouse)]
    code, _, err = run_cli([*args, *bad], monkeypatch, capsys)
    assert code == 2
    assert "--local-authority must be a local authority code" in err
    assert "Traceback" not in err

    # the existing per-contract command keeps working
    code, out, err = run_cli(["ingest", "providers", "--help"], monkeypatch, capsys)
    assert code == 0


@needs_reference
def test_flat_directory_files_of_our_own_still_load_and_replace_each_other(
    warehouse: Path, tmp_path: Path
) -> None:
    """A providers CSV of the old layout (no directory_id) loads beside a directory feed; a
    newer one replaces it (no directory matches no directory), never the feed's rows."""
    load([BUCKS_PAGE], warehouse, "bucks", local_authority=BUCKINGHAMSHIRE)
    [(lsoa,)] = query(warehouse, "select min(lsoa_code) from raw.geography")
    header = "provider_id,provider_name,provider_type,base_lsoa_code\n"
    first = tmp_path / "providers.csv"
    first.write_text(
        header + f"GB-CHC-1234567,Old Town Walkers,registered_charity,{lsoa}\n"
        f"360G-oldtown-lunch,Old Town Lunch Club,community_group,{lsoa}\n"
    )
    load_file("providers", first, warehouse)
    second = tmp_path / "providers-2.csv"
    second.write_text(header + f"GB-CHC-1234567,Old Town Walkers,registered_charity,{lsoa}\n")
    result = load_file("providers", second, warehouse)
    assert result.rows_replaced == 2
    by_directory = query(
        warehouse,
        "select coalesce(directory_id, '(none)'), count(*) from raw.providers "
        "group by 1 order by 1",
    )
    [(bucks,)] = query(
        warehouse,
        "select count(distinct provider_id) from raw.activities where directory_id = 'bucks'",
    )
    assert by_directory == [("(none)", 1), ("bucks", bucks)]


@needs_reference
def test_a_service_naming_only_its_organisation_id_still_has_a_provider(tmp_path: Path) -> None:
    record = record_with(organization_id="org-only-id-1")
    del record["organization"]
    directory = read_record(tmp_path, record)
    assert [row["provider_id"] for row in directory.providers] == ["org-only-id-1"]
    assert directory.providers[0]["provider_name"] is None
    assert directory.activities[0]["provider_id"] == "org-only-id-1"


@pytest.mark.parametrize(
    ("legal_status", "volunteer_led", "provider_type"),
    [
        ("Community group (volunteer-led)", True, "community_group"),
        ("Registered charity (with paid staff)", False, "registered_charity"),
        ("Unincorporated association, no paid staff", True, "community_group"),
        ("Limited Company", None, None),
    ],
)
def test_legal_status_says_what_kind_and_whether_volunteer_led(
    tmp_path: Path, legal_status: str, volunteer_led: bool | None, provider_type: str | None
) -> None:
    record = record_with()
    record["organization"]["legal_status"] = legal_status
    [provider] = read_record(tmp_path, record).providers
    assert provider["is_volunteer_led"] is volunteer_led
    assert provider["provider_type"] == provider_type
