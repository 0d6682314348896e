"""End to end on a real ICB: NHS South Yorkshire's published geography, population and
deprivation with synthetic activity on top, through the full Dagster job."""

import json
import os
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "data" / "reference"
SOUTH_YORKSHIRE = "E54000061"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not REFERENCE.is_dir(), reason=f"the real reference files are not at {REFERENCE}"
    ),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> dict:
    from dagster import DagsterInstance

    from ingest.demo.real_places import generate_real
    from orchestration.definitions import defs
    from orchestration.resources import SourceFilesResource, WarehouseResource

    os.environ["ICB_INSIGHT_SKIP_REPORT"] = "1"
    root = tmp_path_factory.mktemp("real_demo")
    sources = root / "sources"
    generated = generate_real(
        sources, REFERENCE, SOUTH_YORKSHIRE, seed=3, scale="tiny", as_of=date(2026, 11, 22)
    )
    db_path = root / "warehouse" / "warehouse.duckdb"
    result = defs.resolve_job_def("full_build").execute_in_process(
        instance=DagsterInstance.ephemeral(),
        resources={
            "warehouse": WarehouseResource(location=str(db_path)),
            "source_files": SourceFilesResource(directory=str(sources)),
        },
        raise_on_error=False,
    )
    failures = [event.message for event in result.all_events if event.is_step_failure]
    assert result.success, failures
    return {"db": db_path, "sources": sources, "generated": generated}


def query(built: dict, sql: str) -> list[tuple]:
    con = duckdb.connect(str(built["db"]), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_sources_say_what_is_real(built: dict) -> None:
    truth = json.loads((built["sources"] / "demo_truth.json").read_text())
    assert truth["fictional"] is False and truth["icb_code"] == SOUTH_YORKSHIRE
    assert "REAL" in (built["sources"] / "README.txt").read_text()
    provenance = json.loads((built["sources"] / "reference_provenance.json").read_text())
    assert provenance["icb_code"] == SOUTH_YORKSHIRE and provenance["lsoas"] == 860


def test_reference_sources_load_whole(built: dict) -> None:
    rows = dict(
        query(
            built,
            "select source, rows_quarantined from audit.loads where status = 'loaded' and "
            "source in ('geography', 'population', 'deprivation', 'practices')",
        )
    )
    assert rows == {"geography": 0, "population": 0, "deprivation": 0, "practices": 0}
    assert query(built, "select count(*), count(distinct icb_code) from raw.geography") == [
        (860, 1)
    ]


def test_marts_cover_the_real_neighbourhoods(built: dict) -> None:
    geography = pl.read_csv(built["sources"] / "geography.csv")
    msoas = set(geography["msoa_code"])
    codes = {
        code for (code,) in query(built, "select neighbourhood_code from marts.dim_neighbourhoods")
    }
    assert codes == msoas
    gap = query(built, "select count(*) from marts.fct_neighbourhood_gap")[0][0]
    assert gap > 0


def test_neighbourhood_deprivation_is_the_published_one(built: dict) -> None:
    """The marts' population-weighted IMD score of each MSOA, from the published LSOA scores
    in the source files."""
    sources = built["sources"]
    deprivation = pl.read_csv(sources / "deprivation.csv", infer_schema=False)
    assert set(deprivation["iod_edition"]) == {"2025"}
    lsoas = (
        pl.read_csv(sources / "geography.csv")
        .join(pl.read_csv(sources / "population.csv"), on="lsoa_code")
        .join(
            deprivation.select(
                pl.col("LSOA code (2021)").alias("lsoa_code"),
                pl.col("Index of Multiple Deprivation (IMD) Score").cast(pl.Float64).alias("imd"),
            ),
            on="lsoa_code",
        )
    )
    expected = lsoas.group_by("msoa_code").agg(
        (
            (pl.col("imd") * pl.col("population_total")).sum() / pl.col("population_total").sum()
        ).alias("expected")
    )
    marts = pl.DataFrame(
        query(
            built, "select neighbourhood_code, imd_score_pop_weighted from marts.dim_neighbourhoods"
        ),
        schema=["msoa_code", "got"],
        orient="row",
    )
    both = expected.join(marts, on="msoa_code")
    assert both.height == expected.height
    assert (both["expected"] - both["got"]).abs().max() < 1e-6


def test_area_deprivation_ranks_every_area_in_england(built: dict) -> None:
    """The deprivation source carries every LSOA in England with its sub-ICB location and
    ICB, so the mart ranks all 296 districts, 106 sub-ICB locations and 42 ICBs, with the
    same figures (the same code) as `icb-insight reference la-summaries --iod 2025`."""
    from ingest.reference.summaries import reference_summaries

    counts = dict(
        query(
            built,
            "select area_type || ':' || ranked_among_count, count(*) "
            "from marts.fct_area_deprivation group by all",
        )
    )
    assert counts == {"local_authority:296": 296, "icb:42": 42, "sub_icb:106": 106}
    assert query(built, "select count(*) from raw.deprivation") == [(33_755,)]
    for area_type, area in (("local_authority", "lad"), ("icb", "icb"), ("sub_icb", "sub_icb")):
        cli, _ = reference_summaries(REFERENCE, area=area, edition=2025)
        mart = pl.DataFrame(
            query(
                built,
                "select area_code, imd_average_score, imd_average_rank_rank, imd_extent, "
                "imd_local_concentration_rank from marts.fct_area_deprivation "
                f"where area_type = '{area_type}'",
            ),
            schema=[f"{area}_code", "score", "rank_of_average_rank", "extent", "lc_rank"],
            orient="row",
        )
        both = mart.join(cli, on=f"{area}_code")
        assert both.height == cli.height == mart.height
        assert (both["score"] - both["imd_average_score"]).abs().max() < 1e-9
        assert (both["extent"] - both["imd_extent"]).abs().max() < 1e-9
        assert (both["rank_of_average_rank"] == both["imd_average_rank_rank"]).all()
        assert (both["lc_rank"] == both["imd_local_concentration_rank"]).all()
