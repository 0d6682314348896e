"""Real 360Giving publications load as their publishers released them (the JSON package, the
flat CSV, the XLSX spreadsheet; the same grants as an ODS spreadsheet), and the flat forms go
through flattentool to the one JSON mapping.

Fixtures in tests/fixtures/published/giving360 (found by helper R; PROVENANCE.md there
says more), each as published, byte for byte:
- trafford-council-voluntary-sector-grants.csv / .json: Trafford Council (GB-LAE-TRF), OGL v3,
  github traffordDataLab/council_open_data@fe5479dc (the JSON is 360Giving's Data Quality Tool
  conversion of the CSV; one grant to what may be a private person left out of both);
  ...-2021-release.xlsx: its earlier release, traffordDataLab/open_data@42d62ff.
- andrew-lloyd-webber-foundation-2011-2021.xlsx, ab-charitable-trust-2013-2020.xlsx: CC BY
  4.0, as held by github ThreeSixtyGiving/dataquality@783b746f tools/data/original.
- lloyds-bank-foundation-2010-2015.xlsx: Lloyds Bank Foundation for England and Wales,
  CC BY 4.0, github ThreeSixtyGiving/grantnav@969a138 sample_data.
- sport-england-*.csv: Sport England's awards as 360Giving converted them in 2015
  (github ThreeSixtyGiving/data-conversion@be9f136; Sport England publishes under OGL v3);
  not produced by Sport England itself.
"""

import zipfile
from pathlib import Path

import polars as pl
import pytest

from ingest.contracts import get_contract
from ingest.errors import InputError
from ingest.identifiable import IdentifiableDataError
from ingest.load import load_file
from ingest.read import read_source
from tests.ingest.test_giving360 import rows

FUNDING = get_contract("provider_funding")
PUBLISHED = Path(__file__).resolve().parents[1] / "fixtures" / "published" / "giving360"
TRAFFORD_CSV = PUBLISHED / "trafford-council-voluntary-sector-grants.csv"
TRAFFORD_JSON = PUBLISHED / "trafford-council-voluntary-sector-grants.json"
ALWF = PUBLISHED / "andrew-lloyd-webber-foundation-2011-2021.xlsx"
ABCT = PUBLISHED / "ab-charitable-trust-2013-2020.xlsx"


LBFEW = PUBLISHED / "lloyds-bank-foundation-2010-2015.xlsx"
SPORT_EXCHEQUER = PUBLISHED / "sport-england-exchequer-awards-2009-2015.csv"
SPORT_LOTTERY = PUBLISHED / "sport-england-lottery-awards-2014-15.csv"
TRAFFORD_2021 = PUBLISHED / "trafford-council-voluntary-sector-grants-2021-release.xlsx"


# Each publication: its funder, rows read, and the rows set aside with the fault in its data
# (rule (columns) -> rows); every other grant loads as published.
@pytest.mark.parametrize(
    ("path", "funder", "read", "faults"),
    [
        (TRAFFORD_JSON, "GB-LAE-TRF", 554, {}),  # a council, JSON package
        (TRAFFORD_CSV, "GB-LAE-TRF", 554, {}),  # the same council, its own CSV
        (TRAFFORD_2021, "GB-LAE-TRF", 366, {}),  # its earlier release, XLSX
        (ALWF, "GB-CHC-1015648", 475, {}),  # a foundation, XLSX: durations only
        (ABCT, "GB-CHC-1000147", 783, {}),  # a trust, XLSX: no planned dates, postcodes
        # a national foundation: one recipient org-id with a space in it, one with none
        (
            LBFEW,
            "GB-CHC-327114",
            4116,
            {"pattern (recipient_org_id)": 1, "required (recipient_org_id)": 1},
        ),
        # a national and lottery funder, as 360Giving converted its awards in 2015: no
        # recipient org-ids at all (360Giving requires one), and one row per payment, so
        # grant ids repeat
        (
            SPORT_EXCHEQUER,
            "GB-COH-RC000766",
            2434,
            {"required (recipient_org_id, grant_id)": 1227, "required (recipient_org_id)": 1207},
        ),
        (
            SPORT_LOTTERY,
            "GB-COH-RC000766",
            2780,
            {"required (recipient_org_id)": 2584, "required (recipient_org_id, grant_id)": 196},
        ),
    ],
    ids=[
        "council-json",
        "council-csv",
        "council-xlsx-2021",
        "foundation-xlsx",
        "trust-xlsx",
        "national-foundation-xlsx",
        "national-exchequer-csv",
        "lottery-csv",
    ],
)
def test_each_publication_loads_as_published(
    path: Path, funder: str, read: int, faults: dict[str, int], tmp_path: Path
) -> None:
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    result = load_file(FUNDING, path, db)
    set_aside = sum(faults.values())
    assert (result.rows_read, result.rows_loaded) == (read, read - set_aside)
    assert result.quarantine_reasons == faults
    if result.rows_loaded:
        assert rows(db, "select distinct funding_org_id from raw.provider_funding") == [(funder,)]
    assert result.archive_path is not None and result.archive_path.name.endswith(
        ".screened.parquet"
    )
    kept = pl.read_parquet(result.archive_path)
    assert not any("postal" in name.casefold() for name in kept.columns)


def test_a_newer_release_replaces_only_its_publishers_grants(tmp_path: Path) -> None:
    """The council's 2021 XLSX, a trust's file, then the council's 2024 CSV: the council's
    366 grants of 2021 are replaced by its 554, the trust's stay."""
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    load_file(FUNDING, TRAFFORD_2021, db)
    load_file(FUNDING, ABCT, db)
    newer = load_file(FUNDING, TRAFFORD_CSV, db)
    assert newer.rows_replaced == 366
    counts = rows(
        db, "select funding_org_id, count(*) from raw.provider_funding group by 1 order by 1"
    )
    assert counts == [("GB-CHC-1000147", 783), ("GB-LAE-TRF", 554)]


def test_the_council_json_and_csv_are_the_same_grants() -> None:
    """The CSV is unflattened by flattentool and mapped as the JSON package is."""
    from_json = read_source(FUNDING, TRAFFORD_JSON).drop("_row_number")
    from_csv = read_source(FUNDING, TRAFFORD_CSV).drop("_row_number")
    assert from_csv.sort("grant_id").equals(from_json.sort("grant_id"))
    # as published: no planned dates, a 12-month duration, the whole borough benefits
    assert from_json["planned_start_date"].null_count() == 554
    assert set(from_json["planned_duration_months"].to_list()) == {12.0}
    assert set(from_json["beneficiary_area_codes"].to_list()) == {"E08000009"}
    # recipients' 360G- ids with underscores, apostrophes and lower case are org-ids
    assert from_json.filter(pl.col("recipient_org_id").str.contains("_")).height > 200


def test_spreadsheet_rows_are_named_by_their_spreadsheet_row() -> None:
    frame = read_source(FUNDING, ALWF)
    assert frame["_row_number"].to_list()[:2] == [2, 3]
    # a date typed as text and a date cell both give the date
    assert frame["award_date"].null_count() == 0


def test_several_publishers_side_by_side(tmp_path: Path) -> None:
    """A council, then a trust, then the council's file again corrected: the trust's grants
    stay, the council's are replaced."""
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    load_file(FUNDING, TRAFFORD_CSV, db)
    trust = load_file(FUNDING, ABCT, db)
    assert trust.rows_replaced == 0
    corrected = tmp_path / "trafford.csv"
    lines = TRAFFORD_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    corrected.write_text("".join(lines[:101]), encoding="utf-8")  # the first 100 grants
    again = load_file(FUNDING, corrected, db)
    assert again.rows_replaced == 554
    counts = rows(
        db, "select funding_org_id, count(*) from raw.provider_funding group by 1 order by 1"
    )
    assert counts == [("GB-CHC-1000147", 783), ("GB-LAE-TRF", 100)]


def ods(path: Path, sheets: dict[str, pl.DataFrame]) -> Path:
    import pandas as pd

    with pd.ExcelWriter(path, engine="odf") as writer:
        for name, frame in sheets.items():
            frame.to_pandas().to_excel(writer, sheet_name=name, index=False)
    return path


def trafford_sample(n: int = 30) -> pl.DataFrame:
    return pl.read_csv(TRAFFORD_CSV, infer_schema=False).head(n)


def test_an_ods_spreadsheet_loads_like_the_csv(tmp_path: Path) -> None:
    path = ods(tmp_path / "grants.ods", {"grants": trafford_sample()})
    result = load_file(FUNDING, path, tmp_path / "w.duckdb")
    assert (result.rows_loaded, result.rows_quarantined) == (30, 0)
    frame = read_source(FUNDING, path)
    assert frame["_row_number"].to_list()[:3] == [2, 3, 4]


def test_beneficiary_locations_on_a_second_sheet_are_joined(tmp_path: Path) -> None:
    grants = trafford_sample(2).drop(
        [c for c in trafford_sample(1).columns if c.startswith("Beneficiary Location")]
    )
    first = grants["Identifier"][0]
    locations = pl.DataFrame(
        {
            "Identifier": [first, first, first],
            "Beneficiary Location:Name": ["Trafford", "Stretford ward", "The north west"],
            "Beneficiary Location:Geographic Code": ["E08000009", "E05000829", None],
        }
    )
    path = tmp_path / "grants.xlsx"
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    for name, frame in {"grants": grants, "locations": locations}.items():
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, frame.columns)
        for index, row in enumerate(frame.iter_rows(), start=1):
            sheet.write_row(index, 0, ["" if cell is None else cell for cell in row])
    book.close()
    frame = read_source(FUNDING, path)
    assert frame["beneficiary_area_codes"].to_list() == ["E08000009;E05000829", None]
    assert frame["beneficiary_locations_without_code"].to_list() == [1, None]


def test_an_nhs_number_on_any_sheet_refuses_the_spreadsheet(tmp_path: Path) -> None:
    notes = pl.DataFrame({"Notes": ["checked", "patient 943 476 5919"]})
    path = ods(tmp_path / "grants.ods", {"grants": trafford_sample(5), "notes": notes})
    with pytest.raises(IdentifiableDataError, match="sheet 2"):
        load_file(FUNDING, path, tmp_path / "w.duckdb")
    assert not (tmp_path / "archive").exists()


def test_a_column_of_dates_of_birth_refuses_the_spreadsheet(tmp_path: Path) -> None:
    sample = trafford_sample(5).with_columns(pl.lit("1960-01-01").alias("Date of Birth"))
    path = ods(tmp_path / "grants.ods", {"grants": sample})
    with pytest.raises(IdentifiableDataError, match="a date of birth"):
        load_file(FUNDING, path, tmp_path / "w.duckdb")


def test_a_grant_to_an_individual_in_a_spreadsheet_refuses_it(tmp_path: Path) -> None:
    sample = trafford_sample(5).with_columns(
        pl.lit("360G-x-person").alias("Recipient Ind:Identifier")
    )
    path = ods(tmp_path / "grants.ods", {"grants": sample})
    with pytest.raises(IdentifiableDataError, match="recipientIndividual"):
        load_file(FUNDING, path, tmp_path / "w.duckdb")


def test_an_ods_comment_is_screened_and_an_image_refuses(tmp_path: Path) -> None:
    path = ods(tmp_path / "grants.ods", {"grants": trafford_sample(5)})
    content = zipfile.ZipFile(path).read("content.xml").decode()
    note = "<office:annotation><text:p>patient 943 476 5919</text:p></office:annotation>"
    commented = tmp_path / "commented.ods"
    _rewrite(path, commented, {"content.xml": content.replace("<text:p>", note + "<text:p>", 1)})
    with pytest.raises(IdentifiableDataError, match="comments, names and shapes"):
        load_file(FUNDING, commented, tmp_path / "w.duckdb")
    pictured = tmp_path / "pictured.ods"
    _rewrite(path, pictured, {"Pictures/logo.png": "\x89PNG"})
    with pytest.raises(InputError, match="images, embedded objects or macros"):
        load_file(FUNDING, pictured, tmp_path / "w.duckdb")


def _rewrite(source: Path, target: Path, parts: dict[str, str]) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename not in parts:
                new.writestr(info, old.read(info.filename))
        for name, text in parts.items():
            new.writestr(name, text)


def test_a_repeated_grant_id_in_a_spreadsheet_is_quarantined_not_merged(tmp_path: Path) -> None:
    sample = trafford_sample(3)
    sample = sample.with_columns(
        pl.Series("Identifier", [sample["Identifier"][0]] * 2 + [sample["Identifier"][2]])
    )
    path = tmp_path / "grants.csv"
    sample.write_csv(path)
    result = load_file(FUNDING, path, tmp_path / "w.duckdb")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 1, 2)
    assert result.quarantine_rows == {"duplicate_key (grant_id)": [2, 3]}


def _nhs_number(stem: int) -> str:
    """A 10-digit number passing the NHS number check digit (9 digits, then the check)."""
    digits = f"{stem:09d}"
    total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return digits + str(check) if check != 10 else _nhs_number(stem + 1)


def test_a_column_of_reference_numbers_is_not_nhs_numbers_but_nhs_numbers_are(
    tmp_path: Path,
) -> None:
    """Ten-digit award references of which about 1 in 11 pass the NHS check digit (as
    Sport England's URNs) load; the same column of NHS numbers refuses the file."""
    sample = trafford_sample(30)
    references = [str(2010008896 + 7919 * i) for i in range(30)]
    path = tmp_path / "references.csv"
    sample.with_columns(pl.Series("URN", references)).write_csv(path)
    assert load_file(FUNDING, path, tmp_path / "w.duckdb").rows_loaded == 30
    numbers = [_nhs_number(400_000_000 + 7919 * i) for i in range(30)]
    path = tmp_path / "numbers.csv"
    sample.with_columns(pl.Series("URN", numbers)).write_csv(path)
    with pytest.raises(IdentifiableDataError, match="NHS number"):
        load_file(FUNDING, path, tmp_path / "w.duckdb")
