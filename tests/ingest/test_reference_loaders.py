"""Loaders of the published reference files, on the real copies in ../shared/data/reference."""

from pathlib import Path

import polars as pl
import pytest

from ingest.contracts import CONTRACTS
from ingest.errors import InputError
from ingest.load import load_file
from ingest.reference.geography import build_geography
from ingest.reference.iod import LAYOUTS, read_file7, read_population_denominators
from ingest.reference.practices import build_practices
from ingest.reference.prepare import prepare
from ingest.reference.vintage import iod_to_2021, population_to_2021, read_lsoa11_lsoa21_lookup

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "data" / "reference"

pytestmark = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason=f"the real reference files are not at {REFERENCE}"
)

SOUTH_YORKSHIRE = "E54000061"


@pytest.fixture(scope="module")
def iod2019():
    return read_file7(REFERENCE / "iod2019_lsoa11_file7_subset_ASSEMBLED.csv")


@pytest.fixture(scope="module")
def iod2025():
    return read_file7(REFERENCE / "iod2025_lsoa21_file7_subset_ASSEMBLED.csv")


@pytest.fixture(scope="module")
def geography() -> pl.DataFrame:
    return build_geography(
        REFERENCE / "lsoa21_sicbl24_icb24_lad24_lookup_en_geographr.csv",
        REFERENCE / "lsoa21_ward24_lad24_lookup_ew_geographr.csv",
        REFERENCE / "hocl_msoa_names_2021_v2.2.csv",
    )


@pytest.fixture(scope="module")
def lookup() -> pl.DataFrame:
    return read_lsoa11_lsoa21_lookup(REFERENCE / "lsoa11_lsoa21_lad22_lookup_ew_geographr.csv")


def _check_iod(frame: pl.DataFrame, lsoas: int) -> None:
    assert frame.height == lsoas
    assert frame["lsoa_code"].n_unique() == lsoas
    assert frame["lsoa_code"].str.contains(r"^E01\d{6}$").all()
    assert frame["imd_rank"].min() == 1 and frame["imd_rank"].max() <= lsoas
    for column in [c for c in frame.columns if c.endswith("_decile")]:
        values = frame[column].drop_nulls()
        assert values.is_empty() or values.is_between(1, 10).all(), column
    # a higher score is never ranked less deprived
    ordered = frame.sort("imd_rank", "imd_score", descending=[False, True])
    assert (ordered["imd_score"].diff().drop_nulls() <= 0).all()


def test_iod2019_subset_says_which_columns_it_lacks(iod2019) -> None:
    assert iod2019.edition == 2019 and iod2019.lsoa_vintage == 2011
    assert len(LAYOUTS[2019]) == 57
    assert len(iod2019.present) == 44
    assert len(iod2019.missing) == 13
    assert set(iod2019.missing) == {
        "Education, Skills and Training Score",
        "Health Deprivation and Disability Score",
        "Crime Score",
        "Barriers to Housing and Services Score",
        "Living Environment Score",
        "Income Deprivation Affecting Children Index (IDACI) Score (rate)",
        "Income Deprivation Affecting Older People (IDAOPI) Score (rate)",
        "Children and Young People Sub-domain Score",
        "Adult Skills Sub-domain Score",
        "Geographical Barriers Sub-domain Score",
        "Wider Barriers Sub-domain Score",
        "Indoors Sub-domain Score",
        "Outdoors Sub-domain Score",
    }
    assert iod2019.extra == ()
    assert "lacks: Education, Skills and Training Score" in iod2019.describe()
    _check_iod(iod2019.frame, 32_844)
    assert iod2019.frame["population_total"].sum() == 54_728_204


def test_iod2019_deciles_are_tenths_of_32844(iod2019) -> None:
    counts = iod2019.frame["imd_decile"].value_counts()["count"].to_list()
    assert sorted(set(counts)) == [3_284, 3_285]


def test_iod2025_subset_with_a_header_cut_short(iod2025) -> None:
    assert iod2025.edition == 2025 and iod2025.lsoa_vintage == 2021
    assert len(iod2025.present) == 46
    # "...Decile (where 1 is most deprived 10% of LSO" is matched, not reported as extra
    assert "children_young_people_decile" in iod2025.present
    assert iod2025.extra == ()
    assert iod2025.frame["children_young_people_decile"].is_between(1, 10).all()
    _check_iod(iod2025.frame, 33_755)
    counts = iod2025.frame["imd_decile"].value_counts()["count"].to_list()
    assert sorted(set(counts)) == [3_375, 3_376]
    assert iod2025.frame["imd_rank"].sort().to_list() == list(range(1, 33_756))


def test_full_published_layout_is_accepted(tmp_path: Path) -> None:
    headers = [field.header for field in LAYOUTS[2019]]
    values = ["E01000001", "City of London 001A", "E09000001", "City of London"]
    values += ["1.5", "29199", "9"] * 16 + ["1296", "175", "656", "465", "715"]
    path = tmp_path / "file7.csv"
    pl.DataFrame([values], schema=headers, orient="row").write_csv(path)
    file7 = read_file7(path)
    assert file7.missing == () and len(file7.present) == 57
    assert file7.frame["outdoors_score"][0] == 1.5
    assert file7.frame["population_working_age"][0] == 715


def test_full_iod2025_layout_is_accepted(tmp_path: Path) -> None:
    """The 56 columns of IoD2025 File 7 in the published order (LSOA and LAD 2024 codes and
    names; IMD, the seven domains, IDACI, IDAOPI, the six sub-domains; four mid-2022
    denominators), with the children-and-young-people decile header cut short as published."""
    headers = [field.header for field in LAYOUTS[2025]]
    cut = [i for i, h in enumerate(headers) if h.startswith("Children and Young People")][2]
    headers[cut] = headers[cut][: headers[cut].index("10% of LSO") + len("10% of LSO")]
    values = ["E01000001", "City of London 001A", "E09000001", "City of London"]
    values += ["2.5", "30001", "9"] * 16 + ["1500", "200", "800", "500"]
    path = tmp_path / "file7_2025.csv"
    pl.DataFrame([values], schema=headers, orient="row").write_csv(path)
    file7 = read_file7(path)
    assert file7.edition == 2025 and file7.lsoa_vintage == 2021
    assert file7.missing == () and file7.extra == () and len(file7.present) == 56
    assert file7.frame["children_young_people_decile"][0] == 9
    assert file7.frame["population_aged_60_plus"][0] == 500


def test_ons_headed_lookups_give_the_same_geography(
    tmp_path: Path, geography: pl.DataFrame
) -> None:
    """The lookups as the ONS Open Geography Portal serves them (LSOA21CD, SICBL24CDH, ...,
    and an ObjectId column) read as the geographr copies do."""
    from ingest.reference.csv import ONS_HEADERS

    to_ons = {ours: ons for ons, ours in ONS_HEADERS.items()}
    paths = []
    for name in (
        "lsoa21_sicbl24_icb24_lad24_lookup_en_geographr.csv",
        "lsoa21_ward24_lad24_lookup_ew_geographr.csv",
    ):
        frame = pl.read_csv(REFERENCE / name, infer_schema=False)
        renamed = frame.rename({c: to_ons[c] for c in frame.columns}).with_row_index("ObjectId")
        paths.append(tmp_path / name)
        renamed.write_csv(paths[-1])
    ons = build_geography(*paths, REFERENCE / "hocl_msoa_names_2021_v2.2.csv")
    assert ons.sort("lsoa_code").equals(geography.sort("lsoa_code"))
    lookup = pl.read_csv(REFERENCE / "lsoa11_lsoa21_lad22_lookup_ew_geographr.csv")
    ons_lookup = tmp_path / "lsoa11_lsoa21.csv"
    lookup.rename({c: to_ons[c] for c in lookup.columns}).write_csv(ons_lookup)
    assert read_lsoa11_lsoa21_lookup(ons_lookup).equals(
        read_lsoa11_lsoa21_lookup(REFERENCE / "lsoa11_lsoa21_lad22_lookup_ew_geographr.csv")
    )


def test_a_file_without_the_imd_score_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "file1.csv"
    path.write_text(
        "LSOA code (2011),Index of Multiple Deprivation (IMD) Rank,"
        "Index of Multiple Deprivation (IMD) Decile\nE01000001,29199,9\n"
    )
    with pytest.raises(InputError, match="imd_score"):
        read_file7(path)


def test_geography_is_complete_for_england(geography: pl.DataFrame) -> None:
    assert geography.height == 33_755
    assert geography["lsoa_code"].n_unique() == 33_755
    for column in geography.columns:
        if column != "sub_icb_ods_code":
            assert geography[column].null_count() == 0, column
    assert geography["icb_code"].n_unique() == 42
    assert geography["sub_icb_code"].n_unique() == 106
    assert geography["lad_code"].n_unique() == 296
    assert geography["msoa_code"].n_unique() == 6_856
    assert geography["msoa_code"].str.contains(r"^E02\d{6}$").all()
    assert geography["ward_code"].str.contains(r"^E05\d{6}$").all()
    # every MSOA lies in one local authority, but one: E01027305 "West Northamptonshire 048E"
    # is in Cherwell in the 2024 LAD best fit (a 2024 boundary change), its MSOA is not
    straddling = geography.group_by("msoa_code").agg(pl.col("lad_code").n_unique().alias("n"))
    assert straddling.filter(pl.col("n") > 1)["msoa_code"].to_list() == ["E02005686"]
    south_yorkshire = geography.filter(pl.col("icb_code") == SOUTH_YORKSHIRE)
    assert south_yorkshire["icb_name"][0] == "NHS South Yorkshire Integrated Care Board"
    assert set(south_yorkshire["lad_name"]) == {"Barnsley", "Doncaster", "Rotherham", "Sheffield"}


def test_practices_one_row_each_in_a_pcn() -> None:
    practices = build_practices(
        REFERENCE / "ods_epcn_practice_to_pcn_2023-02.csv",
        REFERENCE / "nhsd_gp_reg_pat_prac_all_2022-05.csv",
        REFERENCE / "ods_epraccur_2023-02.csv",
    )
    assert practices["practice_code"].n_unique() == practices.height > 6_000
    assert practices["practice_code"].str.contains(r"^[A-Z]\d{5}$").all()
    assert practices["pcn_code"].str.contains(r"^U\d{5}$").all()
    assert practices["registered_patients"].null_count() < practices.height * 0.05
    assert 55_000_000 < practices["registered_patients"].sum() < 65_000_000


def test_iod2019_carried_onto_2021_lsoas(iod2019, lookup: pl.DataFrame) -> None:
    mapped = iod_to_2021(lookup, iod2019.frame)
    assert mapped.height == 33_755
    assert mapped["imd_score"].null_count() == 0
    assert mapped["imd_decile"].is_between(1, 10).all()
    assert set(mapped["lsoa_change_code"]) == {"U", "S", "M", "X"}
    by_2011 = iod2019.frame.select("lsoa_code", "imd_score", "imd_rank", "population_total")
    # a split: every child takes its parent's score and rank
    split = lookup.filter(pl.col("change_code") == "S").head(1)
    parent = by_2011.filter(pl.col("lsoa_code") == split["lsoa11_code"][0])
    child = mapped.filter(pl.col("lsoa_code") == split["lsoa21_code"][0])
    assert child["imd_score"][0] == pytest.approx(parent["imd_score"][0])
    assert child["imd_rank"][0] == parent["imd_rank"][0]
    # a merge: the population-weighted average of the parents
    merged_code = lookup.filter(pl.col("change_code") == "M")["lsoa21_code"][0]
    parents = lookup.filter(pl.col("lsoa21_code") == merged_code).join(
        by_2011, left_on="lsoa11_code", right_on="lsoa_code"
    )
    assert parents.height >= 2
    expected = (parents["imd_score"] * parents["population_total"]).sum() / parents[
        "population_total"
    ].sum()
    got = mapped.filter(pl.col("lsoa_code") == merged_code)
    assert got["imd_score"][0] == pytest.approx(expected)
    assert got["population_total"][0] == pytest.approx(parents["population_total"].sum())


def test_population_shared_out_keeps_the_england_total(lookup: pl.DataFrame) -> None:
    file6 = read_population_denominators(
        REFERENCE / "iod2019_file6_population_denominators_lsoa11.csv"
    )
    mapped = population_to_2021(lookup, file6)
    assert mapped.height == 33_755
    assert mapped["population_total"].sum() == pytest.approx(54_728_204)


@pytest.mark.parametrize("edition", [2025, 2019])
def test_prepared_icb_files_load_without_quarantine(tmp_path: Path, edition: int) -> None:
    prepared, files = prepare(REFERENCE, SOUTH_YORKSHIRE, tmp_path / "out", edition=edition)
    assert prepared.geography.height == 860
    assert prepared.deprivation.height == 33_755  # every LSOA in England: national ranks
    assert prepared.deprivation["population_total"].null_count() == 0
    # MSOA, ward and region of every LSOA in England, so that a grant to an area partly
    # outside the ICB is shared by the whole area's population
    for column in ("msoa_code", "ward_code", "region_code"):
        assert prepared.deprivation[column].null_count() == 0, column
    assert prepared.deprivation["region_code"].n_unique() == 9
    sheffield = prepared.deprivation.filter(pl.col("lad_code") == "E08000019")
    assert set(sheffield["region_code"]) == {"E12000003"}  # Yorkshire and The Humber
    assert prepared.population.height == 860
    assert prepared.practices.height > 100
    assert set(prepared.deprivation["iod_edition"]) == {edition}
    assert set(prepared.deprivation["source_lsoa_vintage"]) == {2021 if edition == 2025 else 2011}
    assert set(prepared.population["population_year"]) == {2015}
    db = tmp_path / "warehouse.duckdb"
    for name in ("geography", "practices", "population", "deprivation"):
        result = load_file(CONTRACTS[name], files[name], db)
        assert result.rows_quarantined == 0, (name, result.quarantine_lines())
        assert (
            result.rows_loaded
            == {
                "geography": 860,
                "population": 860,
                "deprivation": 33_755,
                "practices": prepared.practices.height,
            }[name]
        )


def test_unknown_icb_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="E54000061 NHS South Yorkshire"):
        prepare(REFERENCE, "E54000999", tmp_path)


def test_every_practice_falls_in_an_icb_and_every_icb_has_practices(
    geography: pl.DataFrame,
) -> None:
    """The ePCN (February 2023) sub-ICB codes all exist in the April 2024 lookup."""
    practices = build_practices(
        REFERENCE / "ods_epcn_practice_to_pcn_2023-02.csv",
        REFERENCE / "nhsd_gp_reg_pat_prac_all_2022-05.csv",
        REFERENCE / "ods_epraccur_2023-02.csv",
    )
    subs = geography.select("sub_icb_ods_code", "icb_code").unique()
    placed = practices.join(subs, on="sub_icb_ods_code", how="left")
    assert placed["icb_code"].null_count() == 0
    assert placed["icb_code"].n_unique() == 42
