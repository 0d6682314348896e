"""ingest.validate: every contract rule, the quarantine's shape, and agreement with GX."""

import dataclasses
import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ingest.contracts.model import Column, Contract
from ingest.contracts.sources import ACTIVITY_SESSIONS, REFERRALS
from ingest.read import LINE_NUMBER, POLARS_TYPES, ROW_NUMBER, read_source
from ingest.validate import (
    QUARANTINE_SCHEMA,
    RULES,
    RowSplit,
    expectation_suite,
    run_expectations,
    split_rows,
)

TODAY = dt.date(2025, 6, 30)

GOOD_REFERRAL: dict[str, Any] = {
    "referral_id": "R000001",
    "person_id": "P000001",
    "referral_date": dt.date(2025, 1, 10),
    "snomed_code": "871731000000106",
    "referral_source": "gp",
    "practice_code": "B86001",
    "lsoa_code": "E01000001",
    "age_band": "65-74",
    "sex": "female",
    "ethnic_group": "white",
    "primary_need": "loneliness_isolation",
    "referral_reason": "Feels alone since moving",
    "link_worker_id": "LW0001",
    "first_contact_date": dt.date(2025, 1, 15),
    "contacts_count": 3,
    "outcome": "in_progress",
    "discharge_date": None,
    "wellbeing_baseline_swemwbs": 17.43,
    "wellbeing_followup_swemwbs": None,
}


def typed(contract: Contract, rows: list[dict[str, Any]], **raw: list[str | None]) -> pl.DataFrame:
    """A frame shaped like read_source output (rows numbered from 2), with optional _raw__ cols."""
    schema = {ROW_NUMBER: pl.Int64} | {c.name: POLARS_TYPES[c.dtype] for c in contract.columns}
    data = [{ROW_NUMBER: index + 2} | row for index, row in enumerate(rows)]
    frame = pl.DataFrame(data, schema=schema)
    for name, values in raw.items():
        frame = frame.with_columns(pl.Series(f"_raw__{name}", values, dtype=pl.String))
    return frame


def referrals(*changes: dict[str, Any], **raw: list[str | None]) -> pl.DataFrame:
    rows = [
        GOOD_REFERRAL | {"referral_id": f"R{index:06d}"} | change
        for index, change in enumerate(changes, start=1)
    ]
    return typed(REFERRALS, rows, **raw)


def only_failure(split: RowSplit) -> dict[str, Any]:
    assert split.quarantined.height == 1, split.quarantined
    return split.quarantined.row(0, named=True)


def test_good_rows_pass_and_the_shapes_are_right() -> None:
    frame = referrals({}, {}, {"discharge_date": dt.date(2025, 3, 1), "outcome": "completed"})
    split = split_rows(REFERRALS, frame, today=TODAY)
    assert split.valid.equals(frame)
    assert split.quarantined.height == 0
    assert split.quarantined.schema == pl.Schema(QUARANTINE_SCHEMA)


@pytest.mark.parametrize(
    ("change", "column", "rule", "reason"),
    [
        ({"person_id": None}, "person_id", "required", "person_id is empty but required"),
        ({"sex": "F"}, "sex", "allowed_values",
         "sex is not one of female, male, other, unknown"),
        ({"lsoa_code": "E0100001"}, "lsoa_code", "pattern",
         "lsoa_code is not an LSOA code"),
        ({"practice_code": "b86001"}, "practice_code", "pattern", "is not a GP practice ODS code"),
        ({"contacts_count": -1}, "contacts_count", "minimum",
         "contacts_count is below the minimum 0"),
        ({"contacts_count": 201}, "contacts_count", "maximum",
         "contacts_count is above the maximum 200"),
        ({"wellbeing_baseline_swemwbs": 6.5}, "wellbeing_baseline_swemwbs", "minimum",
         "below the minimum 7"),
        (
            {"first_contact_date": dt.date(2025, 1, 9)},
            "first_contact_date",
            "not_before",
            "first_contact_date is before referral_date",
        ),
        (
            {"referral_date": dt.date(2025, 7, 1), "first_contact_date": dt.date(2025, 7, 2)},
            "referral_date, first_contact_date",
            "not_future",
            "referral_date is in the future (after 2025-06-30)",
        ),
    ],
)  # fmt: skip
def test_each_column_rule(change: dict, column: str, rule: str, reason: str) -> None:
    split = split_rows(REFERRALS, referrals({}, change), today=TODAY)
    failure = only_failure(split)
    assert (failure[ROW_NUMBER], failure["column"], failure["rule"]) == (3, column, rule)
    assert reason in failure["reason"]
    for value in change.values():  # the reason names the column and rule, never the value
        assert value is None or str(value) not in failure["reason"]
    assert split.valid[ROW_NUMBER].to_list() == [2]


def test_nullable_columns_may_be_empty_and_rules_skip_nulls() -> None:
    change = {
        "link_worker_id": None,
        "first_contact_date": None,
        "wellbeing_baseline_swemwbs": None,
        "referral_reason": None,
    }
    assert split_rows(REFERRALS, referrals(change), today=TODAY).quarantined.height == 0


def test_type_failures_are_quarantined_not_nulled() -> None:
    frame = referrals({}, {"contacts_count": None}, contacts_count=[None, "lots"])
    split = split_rows(REFERRALS, frame, today=TODAY)
    failure = only_failure(split)
    assert (failure["column"], failure["rule"]) == ("contacts_count", "type")
    assert failure["reason"] == "contacts_count is not a whole number"  # not "required" too
    assert json.loads(failure["record"])["contacts_count"] == "lots"
    assert not [c for c in split.valid.columns if c.startswith("_raw__")]
    assert split.valid.columns == [ROW_NUMBER, *REFERRALS.column_names]


def test_type_failures_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    path.write_text(
        "activity_id,session_date,places_available,attendees,referred_attendees\n"
        "A00001,2024-02-01,10,8,3\n"
        "A00002,31/02/2024,10,8.5,3\n"
    )
    split = split_rows(ACTIVITY_SESSIONS, read_source(ACTIVITY_SESSIONS, path), today=TODAY)
    failure = only_failure(split)
    assert (failure[ROW_NUMBER], failure["column"], failure["rule"]) == (
        3,
        "session_date, attendees",
        "type",
    )
    assert failure["reason"] == (
        "session_date is not a date (use yyyy-mm-dd or dd/mm/yyyy); "
        "attendees is not a whole number"
    )  # fmt: skip


def test_several_failures_in_one_row_are_one_quarantine_row() -> None:
    change = {"sex": "F", "contacts_count": 999, "person_id": None}
    failure = only_failure(split_rows(REFERRALS, referrals(change), today=TODAY))
    assert failure["rule"] == "required"  # person_id comes first in the contract
    assert failure["column"] == "person_id, sex, contacts_count"
    assert failure["reason"].count("; ") == 2


def test_duplicate_keys_quarantine_every_row_sharing_the_key() -> None:
    frame = referrals({}, {}, {}, {})
    frame = frame.with_columns(referral_id=pl.Series(["R1DUPE", "R2OK00", "R1DUPE", "R1DUPE"]))
    split = split_rows(REFERRALS, frame, today=TODAY)
    assert split.valid["referral_id"].to_list() == ["R2OK00"]
    assert split.quarantined[ROW_NUMBER].to_list() == [2, 4, 5]
    assert set(split.quarantined["rule"]) == {"duplicate_key"}
    assert (
        split.quarantined["reason"][0] == "duplicate key (referral_id): occurs 3 times in the file"
    )


def test_compound_keys() -> None:
    rows = [
        {"activity_id": "A00001", "session_date": dt.date(2025, 1, day), "places_available": 10,
         "attendees": 5, "referred_attendees": 1}
        for day in (1, 2, 1)
    ]  # fmt: skip
    split = split_rows(ACTIVITY_SESSIONS, typed(ACTIVITY_SESSIONS, rows), today=TODAY)
    assert split.quarantined[ROW_NUMBER].to_list() == [2, 4]
    assert split.quarantined["column"].to_list() == ["activity_id, session_date"] * 2
    assert (
        "duplicate key (activity_id, session_date): occurs 2 times"
        in (split.quarantined["reason"][0])
    )


def test_foreign_keys_only_when_known() -> None:
    frame = referrals({}, {"lsoa_code": "E01999999"})
    assert split_rows(REFERRALS, frame, today=TODAY).quarantined.height == 0
    known = {"geography.lsoa_code": {"E01000001"}, "practices.practice_code": {"B86001"}}
    failure = only_failure(split_rows(REFERRALS, frame, today=TODAY, known_keys=known))
    assert (failure[ROW_NUMBER], failure["column"], failure["rule"]) == (
        3,
        "lsoa_code",
        "foreign_key",
    )
    assert failure["reason"] == "lsoa_code is not a known lsoa_code in geography"


def test_cross_column_rule() -> None:
    rows = [
        {"activity_id": "A00001", "session_date": dt.date(2025, 1, day), "places_available": 10,
         "attendees": 5, "referred_attendees": referred}
        for day, referred in ((1, 5), (2, 6), (3, None))
    ]  # fmt: skip
    frame = typed(ACTIVITY_SESSIONS, rows)
    failures = split_rows(ACTIVITY_SESSIONS, frame, today=TODAY).quarantined
    assert failures.select(ROW_NUMBER, "rule").rows() == [(3, "cross_column"), (4, "required")]
    assert failures["reason"][0] == "referred_attendees is more than attendees"
    assert failures["column"][0] == "referred_attendees, attendees"


def test_free_text_is_never_echoed_but_kept_in_the_record() -> None:
    notes = Column("notes", "string", "Free text.", allowed=("fine",))
    contract = dataclasses.replace(
        ACTIVITY_SESSIONS, columns=(*ACTIVITY_SESSIONS.columns, notes), free_text_columns=("notes",)
    )
    row = {"activity_id": "A00001", "session_date": dt.date(2025, 1, 1), "places_available": 10,
           "attendees": 5, "referred_attendees": 1, "notes": "Private words here"}  # fmt: skip
    failure = only_failure(split_rows(contract, typed(contract, [row]), today=TODAY))
    assert failure["reason"] == "notes is not one of fine"
    assert "Private" not in failure["reason"]
    assert json.loads(failure["record"])["notes"] == "Private words here"


def test_records_are_json_text_of_the_row() -> None:
    failure = only_failure(split_rows(REFERRALS, referrals({"sex": "F"}), today=TODAY))
    record = json.loads(failure["record"])
    assert list(record) == REFERRALS.column_names
    assert record["referral_date"] == "2025-01-10" and record["contacts_count"] == "3"
    assert record["discharge_date"] is None


def test_multi_line_records_name_their_first_line(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    path.write_text(
        'activity_id,session_date,places_available,attendees,referred_attendees,"two\nlines"\n'
        'A00001,2024-02-01,10,8,9,"a\nb"\n'
    )
    frame = read_source(ACTIVITY_SESSIONS, path)
    assert frame[LINE_NUMBER].to_list() == [3]
    failure = only_failure(split_rows(ACTIVITY_SESSIONS, frame, today=TODAY))
    assert failure[ROW_NUMBER] == 2
    assert failure["reason"].endswith("(the record starts on line 3 of the file)")


def test_today_defaults_to_the_real_date() -> None:
    future = dt.date.today() + dt.timedelta(days=2)
    split = split_rows(REFERRALS, referrals({"referral_date": future, "first_contact_date": None}))
    assert only_failure(split)["rule"] == "not_future"


def test_rule_names_are_the_documented_ones() -> None:
    assert RULES == (
        "type", "required", "allowed_values", "pattern", "minimum", "maximum", "not_before",
        "not_future", "duplicate_key", "foreign_key", "cross_column",
    )  # fmt: skip


# --- Great Expectations agrees with split_rows -----------------------------------------------


def corrupt(contract: Contract, frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Break one cell of every column that has a rule, in a way chosen at random."""
    rng = random.Random(seed)
    for index, column in enumerate(contract.columns):
        options: list[Any] = []
        if not column.nullable:
            options.append(None)
        if column.allowed:
            options.append("not-allowed")
        if column.pattern:
            options.append("!bad!")
        if column.minimum is not None:
            options.append(column.minimum - 1)
        if column.maximum is not None:
            options.append(column.maximum + 1)
        if column.not_future:
            options.append(TODAY + dt.timedelta(days=30))
        if column.dtype != "string":
            options.append("type")
        if not options:
            continue
        choice = rng.choice(options)
        here = pl.int_range(pl.len()) == index % frame.height
        value = None if choice == "type" else choice
        frame = frame.with_columns(
            pl.when(here)
            .then(pl.lit(value, frame.schema[column.name]))
            .otherwise(pl.col(column.name))
            .alias(column.name)
        )
        if choice == "type":
            frame = frame.with_columns(
                pl.when(here).then(pl.lit("not a value")).alias(f"_raw__{column.name}")
            )
    return frame


def failing_columns(split: RowSplit) -> set[str]:
    return {name for joined in split.quarantined["column"] for name in joined.split(", ")}


def test_great_expectations_and_split_rows_agree() -> None:
    known = {"geography.lsoa_code": {"E01000001"}}
    suite = expectation_suite(REFERRALS, today=TODAY, known_keys=known)
    assert {e.expectation_type for e in suite.expectations} >= {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_unique",
    }
    good = referrals(*({} for _ in range(12)), {"lsoa_code": "E01000002"})
    sessions = typed(
        ACTIVITY_SESSIONS,
        [
            {"activity_id": "A00001", "session_date": dt.date(2025, 1, day % 3 + 1),
             "places_available": 10, "attendees": 5, "referred_attendees": 5 + day}
            for day in range(3)
        ],
    )  # fmt: skip
    cases = [(REFERRALS, corrupt(REFERRALS, good, seed=7)), (ACTIVITY_SESSIONS, sessions)]
    for contract, frame in cases:
        split = split_rows(contract, frame, today=TODAY, known_keys=known)
        results = run_expectations(contract, frame, today=TODAY, known_keys=known)
        assert all(set(result) >= {"expectation", "column", "success", "unexpected_count"}
                   for result in results)  # fmt: skip
        gx_failing = {
            name
            for result in results
            if not result["success"]
            for name in result["column"].split(", ")
        }
        assert split.quarantined.height > 0
        assert gx_failing == failing_columns(split), (contract.name, split.quarantined)
