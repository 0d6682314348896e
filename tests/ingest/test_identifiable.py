"""ingest.identifiable: whole-file refusal of NHS numbers, postcodes, names and addresses."""

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.contracts.sources import ACTIVITY_SESSIONS, PROVIDERS, REFERRALS
from ingest.errors import InputError
from ingest.identifiable import (
    IdentifiableDataError,
    check_identifiable,
    find_identifiable,
    identifiable_header,
    nhs_number_is_valid,
)
from ingest.read import read_raw, to_typed

PATH = Path("referrals.csv")
VALID_NHS = "9434765919"  # the NHS's own example of a valid number
INVALID_NHS = "9434765918"  # same digits, wrong check digit


def check_digit(nine: str) -> int | None:
    """Reference modulus 11 check digit (None when the remainder makes it 10: invalid)."""
    total = sum(int(digit) * weight for digit, weight in zip(nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return {11: 0, 10: None}.get(check, check)


def refusal(frame: pl.DataFrame, contract=REFERRALS) -> IdentifiableDataError:
    with pytest.raises(IdentifiableDataError) as caught:
        check_identifiable(contract, frame, PATH)
    assert isinstance(caught.value, InputError)
    assert caught.value.path == PATH
    return caught.value


def one_column(name: str, *values: str | None) -> pl.DataFrame:
    return pl.DataFrame({name: list(values)}, schema={name: pl.String})


@pytest.mark.parametrize(
    "value",
    [
        VALID_NHS,
        "943 476 5919",
        "943-476-5919",
        f"patient {VALID_NHS} said",
        f"{VALID_NHS}.0",  # a number column saved from a float
        "4010232137",
        "94347 65919",  # any separator between any digits
    ],
)
def test_nhs_numbers_refuse_the_file_without_echoing_them(value: str) -> None:
    error = refusal(one_column("person_id", "abcdef123", value))
    assert "NHS number" in error.reason and "person_id" in error.reason
    assert "1 value" in error.reason
    digits = value.replace(" ", "").replace("-", "")[:10]
    assert digits not in str(error) and value not in str(error)


@pytest.mark.parametrize(
    "value",
    [
        INVALID_NHS,  # fails modulus 11: not an NHS number
        "12345678901",  # 11 digits
        "871731000000106",  # SNOMED code
        "0.9434765919",  # a decimal
        "2024-01-01",
    ],
)
def test_numbers_that_are_not_nhs_numbers_pass(value: str) -> None:
    check_identifiable(REFERRALS, one_column("person_id", value), PATH)


@settings(max_examples=120, deadline=None)
@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(0, 9))
def test_modulus_11_matches_the_reference(nine: str, last: int) -> None:
    number = nine + str(last)
    expected = check_digit(nine) == last
    got = pl.select(nhs_number_is_valid(pl.lit(number))).item()
    assert got is expected
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"
    found = find_identifiable(REFERRALS, one_column("person_id", spaced))
    assert bool(found) is expected


POSTCODES = ["SW1A 1AA", "sw1a1aa", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "EC1A 1BB"]


@pytest.mark.parametrize("value", [*POSTCODES, "meet at W1A 0AX on Monday"])
def test_full_postcodes_refuse_in_any_column(value: str) -> None:
    error = refusal(one_column("lsoa_code", value))
    assert "full postcode" in error.reason and "lsoa_code" in error.reason
    assert value not in str(error)


@pytest.mark.parametrize(
    "value", ["SW1A", "M1", "E01000001", "E02000001", "B86001", "U12345", "QF7", "GB-CHC-1234567"]
)
def test_codes_and_outward_codes_pass(value: str) -> None:
    check_identifiable(REFERRALS, one_column("lsoa_code", value), PATH)


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("nhs_number", "NHS number"),
        ("NHS No", "NHS number"),
        ("Patient NHS Number", "NHS number"),
        ("Patient Name", "name"),
        ("Forename", "name"),
        ("Surname", "name"),
        ("first_name", "name"),
        ("Date of Birth", "date of birth"),
        ("DOB", "date of birth"),
        ("BirthDate", "date of birth"),
        ("Address Line 1", "address"),
        ("Home address", "address"),
        ("Postcode", "postcode"),
        ("Patient Post Code", "postcode"),
        ("Email", "email"),
        ("Telephone", "telephone"),
    ],
)
def test_identifiable_headers(header: str, kind: str) -> None:
    assert kind in (identifiable_header(header) or "")
    error = refusal(one_column(header, None, "x"))
    assert repr(header) in error.reason


@pytest.mark.parametrize(
    "header",
    ["lsoa_name", "provider_name", "activity_name", "postcode_district", "website address",
     "referral_date", "person_id", "link_worker_id"],
)  # fmt: skip
def test_ordinary_headers_pass(header: str) -> None:
    assert identifiable_header(header) is None


def test_an_extra_column_the_reader_would_drop_still_refuses(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    path.write_text(
        "activity_id,session_date,places_available,attendees,referred_attendees,nhs number\n"
        "A00001,2024-02-01,10,8,3,\n"
    )
    raw = read_raw(ACTIVITY_SESSIONS, path)
    with pytest.raises(IdentifiableDataError, match="'nhs number': the header names an NHS number"):
        check_identifiable(ACTIVITY_SESSIONS, raw, path)


def test_nhs_number_in_an_unknown_column_refuses(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    path.write_text(
        "activity_id,session_date,places_available,attendees,referred_attendees,ref\n"
        "A00001,2024-02-01,10,8,3,943 476 5919\n"
    )
    with pytest.raises(IdentifiableDataError, match="column 'ref': 1 value looks like an NHS"):
        check_identifiable(ACTIVITY_SESSIONS, read_raw(ACTIVITY_SESSIONS, path), path)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("Mrs Smith feels isolated", "name"),
        ("referred by Dr. Patel", "name"),
        ("MR JOHN SMITH", "name"),
        ("Lives at 12 Acacia Avenue", "address"),
        ("flat 3, 27b Station Road", "address"),
        ("4 church street", "address"),
    ],
)
def test_names_and_addresses_in_free_text(value: str, kind: str) -> None:
    error = refusal(one_column("Referral Reason", "lonely since bereavement", value))
    assert kind in error.reason and "'Referral Reason'" in error.reason
    assert value not in str(error)
    for word in value.split():
        if word[0].isupper() and len(word) > 3:
            assert word not in str(error)


@pytest.mark.parametrize(
    "value",
    [
        "lonely since bereavement",
        "wants to get out more; went 3 times to the park",
        "interested in the walking group on Tuesdays",
        "debt advice needed",
    ],
)
def test_ordinary_free_text_passes(value: str) -> None:
    check_identifiable(REFERRALS, one_column("referral_reason", value), PATH)


def test_names_outside_free_text_columns_are_not_screened() -> None:
    # Organisation names often contain titles or streets; only free text is screened for names.
    frame = one_column("provider_name", "Mr Men Toddler Group at 12 Station Road Hall")
    check_identifiable(PROVIDERS, frame, PATH)


def test_every_finding_is_reported_with_counts() -> None:
    frame = pl.DataFrame(
        {
            "person_id": [VALID_NHS, "943 476 5919", INVALID_NHS],
            "referral_reason": ["Mrs Smith", "Mr Jones", "12 Acacia Avenue"],
            "lsoa_code": ["SW1A 1AA", "E01000001", "E01000002"],
            "DOB": [None, None, None],
        }
    )
    error = refusal(frame)
    found = {(f.column, f.kind.split(" (")[0], f.count) for f in error.findings}
    assert found == {
        ("person_id", "an NHS number", 2),
        ("referral_reason", "a person's name", 2),
        ("referral_reason", "a street address", 1),
        ("lsoa_code", "a full postcode", 1),
        ("DOB", "a date of birth", 0),
    }
    for value in ("Smith", "Jones", "Acacia", "SW1A 1AA", VALID_NHS, "476"):
        assert value not in str(error)


def test_typed_frames_are_screened_too() -> None:
    frame = pl.DataFrame({"person_id": [9434765919], "contacts_count": [3]})
    assert find_identifiable(REFERRALS, frame)[0].kind.startswith("an NHS number")


def test_a_file_without_its_header_row_is_refused_without_echoing(tmp_path: Path) -> None:
    path = tmp_path / "referrals.csv"
    path.write_text(
        "R000001,9434765919,2025-01-10,SW1A 1AA\nR000002,4010232137,2025-01-11,M1 1AE\n"
    )
    raw = read_raw(REFERRALS, path)
    error = refusal(raw)
    assert "column 2: the header holds an NHS number or a postcode" in error.reason
    assert "column 4" in error.reason
    for value in ("9434765919", "4010232137", "SW1A 1AA", "M1 1AE"):
        assert value not in str(error)
    with pytest.raises(InputError) as caught:  # the reader alone does not echo them either
        to_typed(REFERRALS, raw, path=path)
    for value in ("9434765919", "SW1A 1AA"):
        assert value not in str(caught.value)
