"""ingest.read: every accepted format into a typed frame, and every refusal as an InputError."""

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from ingest.contracts.giving360 import row_to_grant
from ingest.contracts.sources import (
    ACTIVITY_SESSIONS,
    DEPRIVATION,
    LINK_WORKER_CAPACITY,
    POPULATION,
    PROVIDER_FUNDING,
    PROVIDERS,
)
from ingest.errors import InputError
from ingest.read import (
    LINE_NUMBER,
    ROW_NUMBER,
    read_raw,
    read_source,
    sniff_delimiter,
    to_typed,
)

SESSIONS_HEADER = "activity_id,session_date,places_available,attendees,referred_attendees"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def sessions_csv(*rows: str, header: str = SESSIONS_HEADER, sep: str = ",") -> str:
    return "\n".join([header.replace(",", sep), *(row.replace(",", sep) for row in rows)]) + "\n"


def refusal(path: Path, contract=ACTIVITY_SESSIONS, **kwargs) -> InputError:
    with pytest.raises(InputError) as caught:
        read_source(contract, path, **kwargs)
    assert caught.value.path == path
    assert str(path) in str(caught.value)
    return caught.value


# --- the typed frame -------------------------------------------------------------------------


def test_csv_gives_contract_columns_in_order_typed_with_row_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sessions.csv",
        sessions_csv("A00001,2024-02-01,10,8,3", "A00002,01/03/2024, 12 ,12.0,0"),
    )
    frame = read_source(ACTIVITY_SESSIONS, path)
    assert frame.columns == [ROW_NUMBER, *ACTIVITY_SESSIONS.column_names]
    assert frame.schema == pl.Schema(
        {
            ROW_NUMBER: pl.Int64,
            "activity_id": pl.String,
            "session_date": pl.Date,
            "places_available": pl.Int64,
            "attendees": pl.Int64,
            "referred_attendees": pl.Int64,
        }
    )
    assert frame.rows() == [
        (2, "A00001", dt.date(2024, 2, 1), 10, 8, 3),
        (3, "A00002", dt.date(2024, 3, 1), 12, 12, 0),
    ]


def test_utf8_bom_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = write(
        tmp_path, "s.csv", b"\xef\xbb\xbf" + sessions_csv("A00001,2024-02-01,1,1,1").encode()
    )
    assert read_source(ACTIVITY_SESSIONS, path)["activity_id"].to_list() == ["A00001"]


def test_windows_1252_falls_back(tmp_path: Path) -> None:
    text = "provider_id,provider_name,provider_type,base_lsoa_code\n"
    text += "GB-CHC-1234567,Café £5 Club – Tuesdays,community_group,E01000001\n"
    path = write(tmp_path, "providers.csv", text.encode("cp1252"))
    frame = read_source(PROVIDERS, path)
    assert frame["provider_name"].to_list() == ["Café £5 Club – Tuesdays"]
    assert frame["is_volunteer_led"].dtype == pl.Boolean  # optional and absent: nulls
    assert frame["is_volunteer_led"].null_count() == 1


@pytest.mark.parametrize(
    ("name", "sep"), [("s.csv", ";"), ("s.tsv", "\t"), ("s.txt", "\t"), ("s.csv", "|")]
)
def test_delimiters_are_sniffed(tmp_path: Path, name: str, sep: str) -> None:
    path = write(tmp_path, name, sessions_csv("A00001,2024-02-01,1,1,1", sep=sep))
    assert read_source(ACTIVITY_SESSIONS, path).row(0)[1:3] == ("A00001", dt.date(2024, 2, 1))


def test_sniffer_ignores_delimiters_inside_quotes() -> None:
    assert sniff_delimiter('a;b;c\n"x, y, z";2;3\n') == ";"
    assert sniff_delimiter('a,b,c\n"x; y; z",2,3\n') == ","


def test_quoted_newlines_keep_row_numbers_and_report_lines(tmp_path: Path) -> None:
    text = (
        "provider_id,provider_name,provider_type,base_lsoa_code\n"
        'GB-CHC-1234567,"Two\nline\nname",community_group,E01000001\n'
        "GB-CHC-1234568,Plain,community_group,E01000002\n"
    )
    frame = read_source(PROVIDERS, write(tmp_path, "p.csv", text))
    assert frame[ROW_NUMBER].to_list() == [2, 3]  # records, as a spreadsheet shows them
    assert frame[LINE_NUMBER].to_list() == [2, 5]  # where each record starts in the text
    assert frame["provider_name"].to_list() == ["Two\nline\nname", "Plain"]


def test_blank_lines_count_as_rows_and_empty_rows_are_dropped(tmp_path: Path) -> None:
    text = sessions_csv("A00001,2024-02-01,1,1,1", "", ",,,,", "A00002,2024-02-01,1,1,1")
    frame = read_source(ACTIVITY_SESSIONS, write(tmp_path, "s.csv", "\r\n".join(text.split("\n"))))
    assert frame[ROW_NUMBER].to_list() == [2, 5]
    assert LINE_NUMBER not in frame.columns


def test_whitespace_is_stripped_and_blank_becomes_null(tmp_path: Path) -> None:
    text = "pcn_code,month_start_date,link_worker_fte,open_caseload\n  U12345 ,2024-01-01,   ,\t\n"
    frame = read_source(LINK_WORKER_CAPACITY, write(tmp_path, "c.csv", text))
    assert frame.row(0) == (2, "U12345", dt.date(2024, 1, 1), None, None)
    assert not [c for c in frame.columns if c.startswith("_raw__")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-29", dt.date(2024, 2, 29)),
        ("29/02/2024", dt.date(2024, 2, 29)),
        ("1/2/2024", dt.date(2024, 2, 1)),
        ("2024-02-29T13:45:00", dt.date(2024, 2, 29)),
        ("2024-02-29 13:45:00.000000", dt.date(2024, 2, 29)),
        ("2024-02-29T23:30:00+01:00", dt.date(2024, 2, 29)),
        ("2023-02-29", None),
        ("02/29/2024", None),
        ("29-02-2024", None),
        ("yesterday", None),
    ],
)
def test_dates(text: str, expected: dt.date | None) -> None:
    raw = pl.DataFrame({"pcn_code": ["U12345"], "month_start_date": [text]})
    raw = raw.with_columns(link_worker_fte=pl.lit("1"), open_caseload=pl.lit("1"))
    frame = to_typed(LINK_WORKER_CAPACITY, raw)
    assert frame["month_start_date"].to_list() == [expected]
    assert ("_raw__month_start_date" in frame.columns) is (expected is None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), ("12.0", 12), ("+3", 3), ("1,234", 1234), ("1e3", 1000), ("-0", 0)]
    + [(bad, None) for bad in ("12.5", "twelve", "1,2", "NaN", "inf", "12 people", "£12")],
)
def test_integers(text: str, expected: int | None) -> None:
    raw = pl.DataFrame(
        {"lsoa_code": ["E01000001"], "population_year": ["2022"], "population_total": [text]}
    )
    frame = to_typed(POPULATION, raw)
    assert frame["population_total"].to_list() == [expected]
    if expected is None:  # kept as text for the quarantine, never silently null
        assert frame["_raw__population_total"].to_list() == [text]


@pytest.mark.parametrize(
    ("text", "expected"),
    [(t, True) for t in ("true", "TRUE", "Yes", "y", "1", "t")]
    + [(f, False) for f in ("false", "No", "N", "0", "f")]
    + [("maybe", None), ("2", None)],
)
def test_booleans(text: str, expected: bool | None) -> None:
    raw = pl.DataFrame(
        {
            "provider_id": ["GB-CHC-1234567"],
            "provider_name": ["x"],
            "provider_type": ["other"],
            "base_lsoa_code": ["E01000001"],
            "is_volunteer_led": [text],
        }
    )
    frame = to_typed(PROVIDERS, raw)
    assert frame["is_volunteer_led"].to_list() == [expected]
    assert ("_raw__is_volunteer_led" in frame.columns) is (expected is None)


def test_cast_failures_keep_their_text_only_where_they_failed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.csv",
        sessions_csv("A00001,2024-02-01,10,8,3", "A00002,2024-02-30,ten,8.5,3"),
    )
    frame = read_source(ACTIVITY_SESSIONS, path)
    assert frame["_raw__session_date"].to_list() == [None, "2024-02-30"]
    assert frame["_raw__places_available"].to_list() == [None, "ten"]
    assert frame["_raw__attendees"].to_list() == [None, "8.5"]
    assert "_raw__referred_attendees" not in frame.columns
    assert frame.row(1)[:6] == (3, "A00002", None, None, None, 3)


# --- headers ---------------------------------------------------------------------------------


def test_headers_match_ignoring_case_spacing_punctuation_and_order(tmp_path: Path) -> None:
    header = "Referred Attendees,ATTENDEES,Session-Date, activity ID ,places.available,Notes"
    path = write(tmp_path, "s.csv", header + "\n3,8,2024-02-01,A00001,10,extra column\n")
    frame = read_source(ACTIVITY_SESSIONS, path)
    assert frame.columns == [ROW_NUMBER, *ACTIVITY_SESSIONS.column_names]
    assert frame.row(0) == (2, "A00001", dt.date(2024, 2, 1), 10, 8, 3)


def test_iod_published_headers_with_trailing_spaces(tmp_path: Path) -> None:
    headers = [
        "LSOA code (2021) ",
        "LSOA name (2021) ",
        "Local Authority District code (2024) ",
        "Local Authority District name (2024) ",
        "Index of Multiple Deprivation (IMD) Score ",
        "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived) ",
        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs) ",
        "Income Score (rate) ",
        "Income Rank (where 1 is most deprived) ",
        "Education, Skills and Training Score ",
        "Income Deprivation Affecting Children Index (IDACI) Score (rate) ",
    ]
    values = ["E01000001", "City of London 001A", "E09000001", "City of London", "6.208"]
    values += ["29199", "9", "0.007", "32831", "0.024", "0.006"]
    line = ",".join(f'"{v}"' for v in values)
    path = write(tmp_path, "iod.csv", ",".join(f'"{h}"' for h in headers) + "\n" + line + "\n")
    frame = read_source(DEPRIVATION, path)
    row = frame.row(0, named=True)
    assert row["lsoa_code"] == "E01000001"
    assert row["imd_score"] == pytest.approx(6.208)
    assert row["imd_rank"] == 29199 and row["imd_decile"] == 9
    assert row["income_score"] == pytest.approx(0.007) and row["income_rank"] == 32831
    assert row["education_score"] == pytest.approx(0.024)
    assert row["health_score"] is None  # optional domain absent: null
    assert frame.columns == [ROW_NUMBER, *DEPRIVATION.column_names]


def test_iod2019_headers_with_other_vintages_match(tmp_path: Path) -> None:
    headers = [
        "LSOA code (2011)",
        "LSOA name (2011)",
        "Local Authority District code (2019)",
        "Local Authority District name (2019)",
        "Index of Multiple Deprivation (IMD) Score",
        "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
        "Total population: mid 2015 (excluding prisoners)",
    ]
    line = "E01000001,City of London 001A,E09000001,City of London,6.208,29199,9,1296"
    path = write(tmp_path, "iod.csv", ",".join(f'"{h}"' for h in headers) + "\n" + line + "\n")
    row = read_source(DEPRIVATION, path).row(0, named=True)
    assert (row["lsoa_code"], row["lad_code"], row["population_total"]) == (
        "E01000001",
        "E09000001",
        1296,
    )


def test_missing_required_columns_are_all_listed(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "activity_id,attendees\nA00001,3\n")
    error = refusal(path)
    for name in ("session_date", "places_available", "referred_attendees"):
        assert name in error.reason
    assert "missing required columns" in error.reason


def test_unknown_columns_dropped_or_refused_when_strict(tmp_path: Path) -> None:
    text = sessions_csv("A00001,2024-02-01,1,1,1,x,y", header=SESSIONS_HEADER + ",notes,Venue")
    path = write(tmp_path, "s.csv", text)
    assert read_source(ACTIVITY_SESSIONS, path).columns == [
        ROW_NUMBER,
        *ACTIVITY_SESSIONS.column_names,
    ]
    error = refusal(path, strict=True)
    # Headers no contract knows may be values (a file sent without its header row): named by
    # position only.
    assert "column 6, column 7" in error.reason
    assert "notes" not in error.reason and "Venue" not in error.reason


def test_duplicate_headers_are_refused(tmp_path: Path) -> None:
    exact = write(
        tmp_path,
        "a.csv",
        sessions_csv("A00001,2024-02-01,1,1,1,2", header=SESSIONS_HEADER + ",attendees"),
    )
    assert "duplicate header 'attendees'" in refusal(exact).reason
    same = write(
        tmp_path,
        "b.csv",
        sessions_csv("A00001,2024-02-01,1,1,1,2", header=SESSIONS_HEADER + ",Attendees"),
    )
    assert "duplicate columns" in refusal(same).reason


# --- XLSX, Parquet, JSON ---------------------------------------------------------------------


def write_capacity_xlsx(path: Path) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    notes = workbook.add_worksheet("Notes")
    notes.write(0, 0, "Link worker capacity return")
    sheet = workbook.add_worksheet("Capacity")
    as_date = workbook.add_format({"num_format": "dd/mm/yyyy"})
    # A title row and a blank row above the header, as real returns have.
    sheet.write(0, 0, "PCN link worker capacity")
    sheet.write_row(2, 0, ["PCN Code", "Month start date", "Link worker FTE", "Open caseload"])
    sheet.write(3, 0, "U12345")
    sheet.write_datetime(3, 1, dt.datetime(2024, 1, 1), as_date)
    sheet.write_row(3, 2, [2.5, 310])
    sheet.write_row(4, 0, ["U12346", "01/02/2024", 1, "12.0"])
    sheet.write_row(6, 0, ["U12347", "2024-03-01", "lots", 7])
    workbook.close()


def test_xlsx_named_sheet_with_excel_and_text_dates(tmp_path: Path) -> None:
    path = tmp_path / "capacity.xlsx"
    write_capacity_xlsx(path)
    frame = read_source(LINK_WORKER_CAPACITY, path, sheet="Capacity")
    # The header is on sheet row 3 (under a title and a blank row); row 6 is blank.
    assert frame[ROW_NUMBER].to_list() == [4, 5, 7]
    assert frame["month_start_date"].to_list() == [
        dt.date(2024, 1, 1),
        dt.date(2024, 2, 1),
        dt.date(2024, 3, 1),
    ]
    assert frame["open_caseload"].to_list() == [310, 12, 7]
    assert frame["link_worker_fte"].to_list() == [2.5, 1.0, None]
    assert frame["_raw__link_worker_fte"].to_list() == [None, None, "lots"]


def test_xlsx_first_sheet_by_default_and_unknown_sheet_refused(tmp_path: Path) -> None:
    path = tmp_path / "capacity.xlsx"
    write_capacity_xlsx(path)
    # The first sheet is the notes page, which is not a capacity table.
    assert "no data rows" in refusal(path, LINK_WORKER_CAPACITY).reason
    assert "no sheet 'Nope'" in refusal(path, LINK_WORKER_CAPACITY, sheet="Nope").reason

    simple = tmp_path / "simple.xlsx"
    pl.DataFrame(
        {
            "pcn_code": ["U12345"],
            "month_start_date": [dt.date(2024, 1, 1)],
            "link_worker_fte": [1.0],
            "open_caseload": [5],
        }
    ).write_excel(simple)
    frame = read_source(LINK_WORKER_CAPACITY, simple)
    assert frame.row(0) == (2, "U12345", dt.date(2024, 1, 1), 1.0, 5)


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "sessions.parquet"
    pl.DataFrame(
        {
            "Activity ID": ["A00001", "A00002"],
            "session_date": [dt.date(2024, 2, 1), dt.date(2024, 2, 2)],
            "places_available": [10, 12],
            "attendees": [8.0, 12.5],
            "referred_attendees": [3, 0],
            "extra": [True, False],
        }
    ).write_parquet(path)
    frame = read_source(ACTIVITY_SESSIONS, path)
    assert frame[ROW_NUMBER].to_list() == [1, 2]
    assert frame["attendees"].to_list() == [8, None]
    assert frame["_raw__attendees"].to_list() == [None, "12.5"]
    assert frame["session_date"].to_list() == [dt.date(2024, 2, 1), dt.date(2024, 2, 2)]


FUNDING_ROW = {
    "grant_id": "360G-icb-0001",
    "title": "Core funding",
    "currency": "GBP",
    "amount_awarded_gbp": 15000,
    "award_date": "2024-04-01",
    "planned_start_date": "2024-04-01",
    "planned_end_date": "2025-03-31",
    "recipient_org_id": "GB-CHC-1234567",
    "recipient_org_name": "Green Gym",
    "funding_org_id": "GB-GOV-1",
    "funding_org_name": "An ICB",
    "grant_programme_title": "Core grants",
    "beneficiary_area_codes": "E02000001",
}


def test_360giving_package(tmp_path: Path) -> None:
    second = FUNDING_ROW | {"grant_id": "360G-icb-0002", "amount_awarded_gbp": 2500.5}
    del second["beneficiary_area_codes"]
    package = {"grants": [row_to_grant(FUNDING_ROW), row_to_grant(second)]}
    path = write(tmp_path, "funding.json", json.dumps(package))
    frame = read_source(PROVIDER_FUNDING, path)
    assert frame.columns == [ROW_NUMBER, *PROVIDER_FUNDING.column_names]
    assert frame["grant_id"].to_list() == ["360G-icb-0001", "360G-icb-0002"]
    assert frame["amount_awarded_gbp"].to_list() == [15000.0, 2500.5]
    assert frame["planned_end_date"].to_list() == [dt.date(2025, 3, 31)] * 2
    assert frame["beneficiary_area_codes"].to_list() == ["E02000001", None]


def test_json_array_of_flat_records_with_aliases(tmp_path: Path) -> None:
    records = [
        {"Activity ID": "A00001", "sessionDate": "2024-02-01", "places_available": 10,
         "attendees": 8, "referred_attendees": None},
        {"sessionDate": "2024-02-02", "Activity ID": "A00002", "places_available": "12",
         "attendees": 8.0, "referred_attendees": 1},
    ]  # fmt: skip
    frame = read_source(ACTIVITY_SESSIONS, write(tmp_path, "sessions.json", json.dumps(records)))
    assert frame.rows() == [
        (1, "A00001", dt.date(2024, 2, 1), 10, 8, None),
        (2, "A00002", dt.date(2024, 2, 2), 12, 8, 1),
    ]
    # 360Giving spreadsheet titles are aliases too.
    titled = {"Identifier": "360G-x", "Amount Awarded": 5} | {
        key: value
        for key, value in FUNDING_ROW.items()
        if key not in ("grant_id", "amount_awarded_gbp")
    }
    funding = write(tmp_path, "f.json", json.dumps([titled]))
    assert read_source(PROVIDER_FUNDING, funding)["amount_awarded_gbp"].to_list() == [5.0]


# --- refusals --------------------------------------------------------------------------------


def test_missing_and_empty_files(tmp_path: Path) -> None:
    assert "not found" in refusal(tmp_path / "nowhere.csv").reason
    assert "empty" in refusal(write(tmp_path, "zero.csv", b"")).reason
    assert "empty" in refusal(write(tmp_path, "blank.csv", "\n\n  \n")).reason
    assert "no data rows" in refusal(write(tmp_path, "header.csv", SESSIONS_HEADER + "\n")).reason
    only_blank = write(tmp_path, "h2.csv", SESSIONS_HEADER + "\n,,,,\n\n")
    assert "no data rows" in refusal(only_blank).reason
    assert "no data rows" in refusal(write(tmp_path, "e.json", "[]")).reason
    assert "unsupported file type" in refusal(write(tmp_path, "s.xls", b"x")).reason


def test_content_must_match_the_extension(tmp_path: Path) -> None:
    csv_text = sessions_csv("A00001,2024-02-01,1,1,1")
    assert "not an XLSX file" in refusal(write(tmp_path, "s.xlsx", csv_text)).reason
    assert "not a Parquet file" in refusal(write(tmp_path, "s.parquet", csv_text)).reason
    assert "not valid JSON" in refusal(write(tmp_path, "s.json", csv_text)).reason

    workbook = tmp_path / "book.xlsx"
    write_capacity_xlsx(workbook)
    renamed = write(tmp_path, "capacity.csv", workbook.read_bytes())
    assert "not a CSV file" in refusal(renamed).reason


def test_binary_and_unreadable_text_refused(tmp_path: Path) -> None:
    assert "binary" in refusal(write(tmp_path, "b.csv", bytes(range(256)) * 4)).reason
    nul = sessions_csv("A00001,2024-02-01,1,1,1").encode() + b"\x00\x00"
    assert "binary" in refusal(write(tmp_path, "n.csv", nul)).reason
    undefined = SESSIONS_HEADER.encode() + b"\nA\x81\x8d,2024-02-01,1,1,1\n"
    error = refusal(write(tmp_path, "u.csv", undefined))
    assert "neither UTF-8 nor Windows-1252" in error.reason


def test_truncated_files_refused(tmp_path: Path) -> None:
    book = tmp_path / "full.xlsx"
    write_capacity_xlsx(book)
    data = book.read_bytes()
    cut = write(tmp_path, "cut.xlsx", data[: len(data) // 2])
    assert "truncated or corrupt" in refusal(cut, LINK_WORKER_CAPACITY).reason

    table = tmp_path / "full.parquet"
    pl.DataFrame({"a": list(range(1000))}).write_parquet(table)
    data = table.read_bytes()
    assert "truncated" in refusal(write(tmp_path, "cut.parquet", data[: len(data) - 40])).reason
    # Damage inside, footer intact.
    damaged = data[:8] + b"\xff" * (len(data) - 40) + data[-32:]
    assert "corrupt" in refusal(write(tmp_path, "bad.parquet", damaged)).reason

    package = json.dumps({"grants": [row_to_grant(FUNDING_ROW)] * 3})
    cut_json = write(tmp_path, "cut.json", package[: len(package) // 2])
    error = refusal(cut_json, PROVIDER_FUNDING)
    assert "not valid JSON (truncated or corrupt?)" in error.reason


def test_malformed_csv_says_where_without_echoing(tmp_path: Path) -> None:
    ragged = write(
        tmp_path, "r.csv", sessions_csv("A00001,2024-02-01,1,1,1", "SECRET1,2024-02-01,1,1,1,9")
    )
    error = refusal(ragged)
    assert error.row == 3 and "6 values but the header has 5" in error.reason
    assert "SECRET1" not in str(error)

    unclosed = write(
        tmp_path, "q.csv", sessions_csv("A00001,2024-02-01,1,1,1", 'SECRET2,"2024-02-01,1,1,1')
    )
    error = refusal(unclosed)
    assert error.row == 3 and "SECRET2" not in str(error)

    # Trailing empty fields (a common spreadsheet export) are not an error.
    trailing = write(
        tmp_path, "t.csv", sessions_csv("A00001,2024-02-01,1,1,1,,", 'A"00002,2024-02-01,1,1,1')
    )
    assert read_source(ACTIVITY_SESSIONS, trailing)["activity_id"].to_list() == [
        "A00001",
        'A"00002',
    ]


def test_json_shapes_refused(tmp_path: Path) -> None:
    nested = write(tmp_path, "n.json", json.dumps([{"activity_id": {"x": 1}}]))
    error = refusal(nested)
    assert (error.row, error.column) == (1, "activity_id")
    assert "flat records" in refusal(write(tmp_path, "o.json", '{"rows": []}')).reason
    grants = write(tmp_path, "g.json", json.dumps({"grants": [row_to_grant(FUNDING_ROW)]}))
    assert "only provider_funding" in refusal(grants).reason
    repeated = write(tmp_path, "r.json", '[{"activity_id": "A", "activity_id": "B"}]')
    reason = refusal(repeated).reason
    assert "repeats a key (in record 1)" in reason and "activity_id" not in reason


def test_read_raw_keeps_every_column_with_original_headers(tmp_path: Path) -> None:
    text = sessions_csv(
        "A00001,2024-02-01,1,1,1,9434765919", header=SESSIONS_HEADER + ",NHS Number"
    )
    raw = read_raw(ACTIVITY_SESSIONS, write(tmp_path, "s.csv", text))
    assert raw.columns == [ROW_NUMBER, *SESSIONS_HEADER.split(","), "NHS Number"]
    assert all(raw.schema[name] == pl.String for name in raw.columns[1:])
    assert to_typed(ACTIVITY_SESSIONS, raw).columns == [ROW_NUMBER, *ACTIVITY_SESSIONS.column_names]
