"""Figures computed from the loaded LSOA data against official ones.

The IoD2019 local authority summaries (File 10, MHCLG, September 2019) are not in the
reference folder; the values below are those it publishes for the districts at the top of
each measure (docs/reference-data.md). Everything else is checked against counts the
publishers state: 32,844 LSOAs in 2011, 33,755 in 2021, deciles of a tenth each, 42 ICBs.
"""

from pathlib import Path

import polars as pl
import pytest

from ingest.reference.iod import read_file7
from ingest.reference.prepare import prepare_frames
from ingest.reference.summaries import area_summaries

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "data" / "reference"

pytestmark = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason=f"the real reference files are not at {REFERENCE}"
)


@pytest.fixture(scope="module")
def la_2019() -> pl.DataFrame:
    iod = read_file7(REFERENCE / "iod2019_lsoa11_file7_subset_ASSEMBLED.csv").frame
    return area_summaries(iod, "lad_code", name="lad_name", national_lsoas=32_844)


@pytest.fixture(scope="module")
def england_2019() -> pl.DataFrame:
    """Every 2021 LSOA in England with IoD2019 carried over, as the loaders produce it (the
    deprivation file's district, LAD 2022 from the LSOA lookup, as ``lad22_code``)."""
    prepared = prepare_frames(REFERENCE, None, edition=2019)
    deprivation = prepared.deprivation.rename({"lad_code": "lad22_code"}).drop("lad_name")
    return prepared.geography.join(deprivation, "lsoa_code")


def test_317_districts_of_2019(la_2019: pl.DataFrame) -> None:
    assert la_2019.height == 317
    assert la_2019["lsoas"].sum() == 32_844


@pytest.mark.parametrize(
    ("district", "published_score"),
    [("Blackpool", 45.039), ("Knowsley", 43.006), ("Liverpool", 42.412)],
)
def test_average_score_matches_the_published_summary(
    la_2019: pl.DataFrame, district: str, published_score: float
) -> None:
    row = la_2019.filter(pl.col("lad_name") == district)
    assert row["imd_average_score"][0] == pytest.approx(published_score, abs=0.0005)


def test_most_deprived_on_average_score_is_blackpool(la_2019: pl.DataFrame) -> None:
    top = la_2019.sort("imd_average_score_rank").head(5)["lad_name"].to_list()
    assert top == [
        "Blackpool",
        "Knowsley",
        "Liverpool",
        "Kingston upon Hull, City of",
        "Middlesbrough",
    ]


def test_proportion_in_most_deprived_10pct_matches_the_published_summary(
    la_2019: pl.DataFrame,
) -> None:
    top = la_2019.sort("imd_proportion_lsoas_most_deprived_10pct_rank").head(5)
    assert top["lad_name"].to_list() == [
        "Middlesbrough",
        "Liverpool",
        "Knowsley",
        "Kingston upon Hull, City of",
        "Manchester",
    ]
    # Middlesbrough: 42 of its 86 LSOAs, published as 48.8%
    assert top["imd_proportion_lsoas_most_deprived_10pct"][0] == pytest.approx(42 / 86)
    assert round(top["imd_proportion_lsoas_most_deprived_10pct"][0] * 100, 1) == 48.8


def test_england_on_2021_lsoas_is_complete(england_2019: pl.DataFrame) -> None:
    assert england_2019.height == 33_755
    assert england_2019["icb_code"].n_unique() == 42
    assert england_2019["imd_score"].null_count() == 0
    assert england_2019["population_total"].sum() == pytest.approx(54_728_204, abs=1_000)


def test_carried_over_district_figures_stay_close(
    england_2019: pl.DataFrame, la_2019: pl.DataFrame
) -> None:
    """Carrying IoD2019 onto 2021 LSOAs must not move a district's population-weighted average
    score: compared on districts whose 2019 and 2022 codes are the same."""
    carried = area_summaries(england_2019, "lad22_code", national_lsoas=32_844).rename(
        {"lad22_code": "lad_code"}
    )
    both = la_2019.join(carried, on="lad_code", suffix="_2021")
    assert both.height > 250
    diff = (both["imd_average_score"] - both["imd_average_score_2021"]).abs()
    assert (diff < 0.01).mean() > 0.97
    assert diff.max() < 0.1  # a few districts whose LSOAs were redrawn across a boundary


def test_icb_summaries_cover_england(england_2019: pl.DataFrame) -> None:
    icbs = area_summaries(england_2019, "icb_code", name="icb_name", national_lsoas=32_844)
    assert icbs.height == 42
    assert icbs["lsoas"].sum() == 33_755
    south_yorkshire = icbs.filter(pl.col("icb_code") == "E54000061")
    assert 25 < south_yorkshire["imd_average_score"][0] < 35


def test_summary_measures_on_a_hand_computed_area() -> None:
    """Four LSOAs of 100 people among 100 nationally: ranks 5 (decile 1), 20, 40 and 90."""
    lsoas = pl.DataFrame(
        {
            "area": ["A"] * 4,
            "imd_score": [50.0, 30.0, 20.0, 5.0],
            "imd_rank": [5, 20, 40, 90],
            "imd_decile": [1, 2, 4, 9],
            "population_total": [100, 100, 100, 100],
        }
    )
    row = area_summaries(lsoas, "area", national_lsoas=100).row(0, named=True)
    assert row["imd_average_score"] == pytest.approx(26.25)
    assert row["imd_average_rank"] == pytest.approx((96 + 81 + 61 + 11) / 4)
    assert row["imd_proportion_lsoas_most_deprived_10pct"] == pytest.approx(0.25)
    # rank 5: weight 1; rank 20: 0.95 - 0.9 * 0.1 / 0.2 = 0.5; ranks 40, 90: 0
    assert row["imd_extent"] == pytest.approx((1 + 0.5) / 4)
    # 10% of 400 people = 40, all from the most deprived LSOA
    assert row["imd_local_concentration"] == pytest.approx(96)
