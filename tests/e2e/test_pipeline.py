"""End to end: generate a small fictional ICB, run the full Dagster job in-process into a
temporary DuckDB file (fixture `built`, tests/e2e/conftest.py), and check the marts find what
the generator planted."""

from pathlib import Path

import duckdb


def query(built: dict, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(built["db"]), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_every_row_read_is_loaded_or_quarantined(built: dict) -> None:
    rows = query(
        built,
        "select source, rows_read, rows_loaded, rows_quarantined from audit.loads "
        "where status = 'loaded'",
    )
    assert {source for source, *_ in rows} == set(built["generated"].rows)
    read_by_source: dict[str, int] = {}
    for source, read, loaded, quarantined in rows:
        assert read == loaded + quarantined, source
        # a source loaded from several directories has one load per directory
        read_by_source[source] = read_by_source.get(source, 0) + read
    assert read_by_source == built["generated"].rows


def test_mart_referral_total_equals_rows_loaded(built: dict) -> None:
    ((mart_total,),) = query(
        built, "select sum(referrals_count) from marts.fct_neighbourhood_need_capacity_monthly"
    )
    ((loaded,),) = query(built, "select count(*) from raw.referrals")
    assert loaded > 0
    assert mart_total == loaded


def test_mart_covers_every_neighbourhood_every_month(built: dict) -> None:
    ((neighbourhoods, months, rows),) = query(
        built,
        "select count(distinct neighbourhood_code), count(distinct month_start_date), count(*) "
        "from marts.fct_neighbourhood_need_capacity_monthly",
    )
    ((msoas,),) = query(built, "select count(distinct msoa_code) from raw.geography")
    assert neighbourhoods == msoas
    assert rows == neighbourhoods * months


def test_referral_rates_rise_with_deprivation(built: dict) -> None:
    truth = built["truth"]
    sql = """
        select sum(referrals_count) * 1000.0 / sum(population_total)
        from marts.fct_neighbourhood_need_capacity_monthly
        where neighbourhood_code in (select unnest(?))
    """
    ((most,),) = query(built, sql, [truth["most_deprived_msoas"]])
    ((least,),) = query(built, sql, [truth["least_deprived_msoas"]])
    assert most > least * 1.3


def test_population_weighted_imd_matches_a_hand_computation(built: dict) -> None:
    rows = query(
        built,
        """
        with by_hand as (
            select
                geography.msoa_code,
                sum(population.population_total * deprivation.imd_score)
                    / sum(population.population_total) as imd_score
            from raw.geography as geography
            inner join raw.population as population using (lsoa_code)
            inner join raw.deprivation as deprivation using (lsoa_code)
            group by geography.msoa_code
        )
        select max(abs(by_hand.imd_score - dim.imd_score_pop_weighted))
        from by_hand
        inner join marts.dim_neighbourhoods as dim
            on dim.neighbourhood_code = by_hand.msoa_code
        """,
    )
    assert rows[0][0] is not None and rows[0][0] < 1e-6


def test_planted_underserved_neighbourhoods_rank_above_well_served(built: dict) -> None:
    truth = built["truth"]
    ranks = dict(
        query(built, "select neighbourhood_code, gap_rank from marts.fct_neighbourhood_gap")
    )
    underserved = [ranks[code] for code in truth["underserved_deprived_msoas"] if code in ranks]
    well_served = [ranks[code] for code in truth["well_served_deprived_msoas"] if code in ranks]
    assert underserved and well_served
    assert sum(underserved) / len(underserved) < sum(well_served) / len(well_served)


def test_a_second_build_on_the_same_files_changes_nothing(built: dict) -> None:
    from dagster import DagsterInstance

    from orchestration.definitions import defs
    from orchestration.resources import SourceFilesResource, WarehouseResource
    from orchestration.settings import DBT_TARGET_DIR

    before = query(built, "select count(*) from raw.referrals")
    # one load per source file, and per source per community directory
    ((loads_before,),) = query(built, "select count(*) from audit.loads")
    job = defs.resolve_job_def("full_build")
    result = job.execute_in_process(
        instance=DagsterInstance.ephemeral(),
        resources={
            "warehouse": WarehouseResource(location=str(built["db"])),
            "source_files": SourceFilesResource(
                directory=str(built["generated"].files["referrals"].parent)
            ),
        },
    )
    assert result.success
    assert query(built, "select count(*) from raw.referrals") == before
    statuses = query(built, "select status, count(*) from audit.loads group by status")
    assert loads_before > len(built["generated"].rows)
    assert dict(statuses) == {"loaded": loads_before}
    # dbt started from the parse the first build kept for this warehouse
    (dbt_log,) = list(DBT_TARGET_DIR.glob(f"*-{result.run_id[:7]}-*/dbt.log"))
    log = dbt_log.read_text()
    assert "Unable to do partial parsing" not in log
    assert "Partial parsing enabled" in log


def test_published_audit_names_rules_and_labels_never_values_or_file_names(built: dict) -> None:
    from ingest.archive import file_label
    from orchestration.publish import published_path

    con = duckdb.connect(str(published_path(built["db"])), read_only=True)
    try:
        columns = {
            table: {name for name, *_ in con.execute(f"describe audit.{table}").fetchall()}
            for table in ("loads", "quarantine")
        }
        loads = con.execute("select source, file_name, file_sha256 from audit.loads").fetchall()
        quarantine = con.execute(
            "select load_id, row_number, file_name, reason from audit.quarantine order by all"
        ).fetchall()
    finally:
        con.close()
    assert "record" not in columns["quarantine"] and "archive_path" not in columns["loads"]
    files = built["generated"].files
    # a source sent as several files (one per funder) is a folder named for it; a directory's
    # rows are loaded as the flat CSV read from its Open Referral pages
    sent_files = {
        source: sorted(path.iterdir())
        if path.is_dir() and path.name == source
        else [path if path.is_file() else Path(f"{source}.csv")]
        for source, path in files.items()
    }
    for source, name, sha in loads:  # never the name it was sent as
        assert name in {file_label(source, sha, path) for path in sent_files[source]}
    sent = {path.name for paths in sent_files.values() for path in paths}
    assert not sent & {row[2] for row in quarantine}
    # the reasons published are those made at load: rule and column words, no quoted value
    working = query(built, "select load_id, row_number, reason from audit.quarantine order by all")
    assert [(load, row, reason) for load, row, _, reason in quarantine] == working
    assert not [reason for *_, reason in quarantine if "'" in reason]
