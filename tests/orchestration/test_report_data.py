"""The report's data: every table passes disclosure control, scores are recomputed from the
protected figures, the file is written atomically in the v1.4 format, the map has a shape per
neighbourhood, and a failed site build leaves last week's report in place."""

import json
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from orchestration import report_data
from orchestration.reporting import site

AS_OF = date(2026, 10, 1)


def write_published(path: Path, referrals: list[int]) -> None:
    """A published warehouse: one neighbourhood per entry of ``referrals`` (12-month count)."""
    con = duckdb.connect(str(path), config={"storage_compatibility_version": "v1.4.0"})
    try:
        con.execute("create schema marts; create schema audit; create schema meta")
        rows = []
        for i, count in enumerate(referrals, start=1):
            code = f"E02{900_000 + i:06d}"
            lad = ("E06900001", "Northmoor") if i % 2 else ("E06900002", "Southdene")
            population = 5000 + 100 * i
            rows.append(
                (code, f"Place {i}", *lad, population, 10.0 + i, count, 10.0 * i, 120.0 * i)
            )
        con.execute(
            "create table marts.dim_neighbourhoods (neighbourhood_code varchar, "
            "neighbourhood_name varchar, lad_code varchar, lad_name varchar, "
            "population_total bigint, imd_score_pop_weighted double, "
            "secret_note varchar)"
        )
        con.executemany(
            "insert into marts.dim_neighbourhoods values (?, ?, ?, ?, ?, ?, 'x')",
            [row[:6] for row in rows],
        )
        con.execute(
            "create table marts.fct_neighbourhood_gap as select "
            "code as neighbourhood_code, name as neighbourhood_name, 'msoa' as "
            "neighbourhood_level, lad_code, lad_name, date '2025-10-01' as period_start_date, "
            "date '2026-09-30' as period_end_date, population::bigint as population_total, "
            "imd as imd_score_pop_weighted, referrals::bigint as referrals_12m_count, "
            "1000.0 * referrals / population as referrals_per_1000_12m, places as weekly_places, "
            "1000.0 * places / population as weekly_places_per_1000, funding as funding_12m_gbp, "
            "funding / population as funding_per_head_12m_gbp, 0.123456 as need_z, "
            "0.0 as capacity_z, 0.123456 as gap_score, 1 as gap_rank "
            "from (select unnest(?, recursive := true)) "
            "as t(code, name, lad_code, lad_name, population, imd, referrals, places, funding)",
            [
                [
                    dict(
                        zip(
                            [
                                "code",
                                "name",
                                "lad_code",
                                "lad_name",
                                "population",
                                "imd",
                                "referrals",
                                "places",
                                "funding",
                            ],
                            row,
                            strict=True,
                        )
                    )
                    for row in rows
                ]
            ],
        )
        con.execute(
            "create table marts.fct_neighbourhood_need_capacity_monthly as select "
            "neighbourhood_code, date '2026-09-01' as month_start_date, true as "
            "is_complete_month, population_total, referrals_12m_count as referrals_count, "
            "referrals_per_1000_12m as referrals_per_1000, 3::bigint as onward_referrals_count, "
            "0::bigint as onward_referrals_refused_no_capacity_count, "
            "2::bigint as activities_active_count, weekly_places, weekly_places_per_1000, "
            "funding_12m_gbp as funding_gbp, funding_per_head_12m_gbp as funding_per_head_gbp, "
            "imd_score_pop_weighted from marts.fct_neighbourhood_gap"
        )
        con.execute(
            "create table marts.fct_neighbourhood_need_capacity_weekly as select "
            "neighbourhood_code, date '2026-09-21' as week_start_date, true as "
            "is_complete_week, population_total, referrals_count, onward_referrals_count, "
            "onward_referrals_refused_no_capacity_count, 1::bigint as "
            "onward_referrals_attended_count, weekly_places, funding_gbp, "
            # neighbourhood i: £10 i a day of current funding, 10 i % ending within 6 months
            "10.0 * row_number() over (order by neighbourhood_code) "
            "as current_funding_per_day_gbp, "
            "10.0 * row_number() over (order by neighbourhood_code) as funding_at_risk_6m_pct, "
            "100.0 as funding_at_risk_12m_pct "
            "from marts.fct_neighbourhood_need_capacity_monthly"
        )
        con.execute(
            "create table marts.fct_area_deprivation as select * from (values "
            "('icb', 'E54000901', 'Demo ICB', 12::bigint, 30000::bigint, 1::bigint, 20.0, "
            "1::bigint, 0.1, 1::bigint), "
            "('local_authority', 'E06900001', 'Northmoor', 6, 15000, 3, 25.0, 1, 0.2, 1), "
            "('local_authority', 'E06900002', 'Southdene', 6, 15000, 3, 15.0, 2, 0.0, 2), "
            "('local_authority', 'E06000099', 'Outside', 6, 15000, 3, 5.0, 3, 0.0, 3)) "
            "as t(area_type, area_code, area_name, lsoa_count, population_total, "
            "ranked_among_count, imd_average_score, imd_average_score_rank, "
            "imd_proportion_lsoas_most_deprived_10pct, "
            "imd_proportion_lsoas_most_deprived_10pct_rank)"
        )
        con.execute(
            "create table marts.fct_neighbourhood_need_capacity_index as select "
            "neighbourhood_code, month_start_date, neighbourhood_name, lad_code, lad_name, "
            "referrals_12m_count > 50 as is_underfunded from marts.fct_neighbourhood_gap, "
            "(select date '2026-09-01' as month_start_date)"
        )
        con.execute(
            "create table audit.loads (source varchar, file_name varchar, status varchar, "
            "rows_read bigint, rows_loaded bigint, rows_quarantined bigint, periods varchar, "
            "loaded_at timestamp)"
        )
        con.execute(
            "insert into audit.loads values "
            "('referrals', 'old.csv', 'loaded', 100, 100, 0, null, '2026-09-01'), "
            "('referrals', 'referrals.csv', 'loaded', 1003, 1000, 3, null, '2026-10-01')"
        )
        con.execute("create table meta.build_info (key varchar, value varchar)")
        con.execute(
            "insert into meta.build_info values ('version_id', ?), ('published_at', ?)",
            [json.dumps("20261001T000000Z"), json.dumps("2026-10-01T00:00:00+00:00")],
        )
    finally:
        con.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """The build database's path; published.duckdb sits beside it (the build file need not)."""
    folder = tmp_path / "warehouse"
    folder.mkdir()
    write_published(folder / "published.duckdb", [5, 12, 133, 40, 0, 78])
    return folder / "warehouse.duckdb"


def read(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_counts_are_suppressed_rounded_and_rates_recomputed(warehouse: Path) -> None:
    data = report_data.build_report_data(warehouse)
    assert data.path == warehouse.parent / "report.duckdb"
    rows = read(
        data.path,
        "select referrals_12m_count, referrals_12m_count_is_suppressed, referrals_per_1000_12m, "
        "population_total from icp.neighbourhood_gap order by neighbourhood_code",
    )
    counts = [row[0] for row in rows]
    assert counts == [None, 10, 135, 40, 0, 80]  # 5 suppressed, the rest to the nearest 5
    assert [row[1] for row in rows] == [True, False, False, False, False, False]
    for count, _, rate, population in rows:
        if count is None:
            assert rate is None
        else:
            assert rate == pytest.approx(round(1000 * count / population, 2))


def test_scores_come_from_the_protected_figures_not_the_mart(warehouse: Path) -> None:
    data = report_data.build_report_data(warehouse)
    rows = read(
        data.path,
        "select gap_rank, need_z, capacity_z, gap_score from icp.neighbourhood_gap "
        "order by gap_rank",
    )
    assert [row[0] for row in rows] == list(range(1, 7))
    assert all(row[1] != 0.123456 for row in rows), "the mart's exact z-score leaked"
    scored = [row for row in rows if row[3] is not None]
    assert [row[3] for row in scored] == sorted((row[3] for row in scored), reverse=True)
    for _, need, capacity, gap in scored:
        assert gap == pytest.approx(need - capacity, abs=0.011)


def test_undeclared_columns_never_reach_the_report(warehouse: Path) -> None:
    data = report_data.build_report_data(warehouse)
    columns = {
        name
        for (name,) in read(
            data.path,
            "select column_name from information_schema.columns where table_schema = 'icp'",
        )
    }
    assert "secret_note" not in columns
    assert "referrals_12m_count_is_suppressed" in columns


def test_report_file_is_v14_and_has_every_table(warehouse: Path) -> None:
    data = report_data.build_report_data(warehouse)
    tables = {name for (name,) in read(data.path, "select table_name from duckdb_tables()")}
    assert {
        "neighbourhood_gap",
        "neighbourhood_monthly",
        "neighbourhoods",
        "neighbourhood_shapes",
        "local_authorities",
        "source_freshness",
        "report_info",
        "icb_weekly",
        "underfunded_changes",
    } <= tables
    assert "pcn_caseload" not in tables, "no mart, no table (and no page)"
    con = duckdb.connect()
    try:
        con.execute("attach ? as report (read_only)", [str(data.path)])
        (version,) = con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = 'report'"
        ).fetchone() or (None,)
    finally:
        con.close()
    if version is not None:
        assert str(version).startswith("v1.4"), version
    freshness = read(
        data.path, "select source, file_name, rows_loaded_count from icp.source_freshness"
    )
    assert freshness == [("referrals", "referrals.csv", 1000)]
    info = read(
        data.path, "select is_demo, published_version_id, suppression_rule from icp.report_info"
    )
    assert info[0][0] is True and info[0][1] == "20261001T000000Z"
    assert "suppressed" in info[0][2]
    assert not list(warehouse.parent.glob(".*partial*")), "no temporary file is left behind"


def test_generated_map_has_one_tile_per_neighbourhood(warehouse: Path) -> None:
    data = report_data.build_report_data(warehouse)
    shapes = read(
        data.path,
        "select neighbourhood_code, svg_path, shape_origin from icp.neighbourhood_shapes",
    )
    assert len(shapes) == 6
    assert all(path.startswith("M") and path.endswith("Z") for _, path, _ in shapes)
    assert {origin for *_, origin in shapes} == {"generated tiles (not a map)"}
    geojson = json.loads(data.geojson.read_text())
    assert len(geojson["features"]) == 6
    again = report_data.build_report_data(warehouse)
    assert read(again.path, "select svg_path from icp.neighbourhood_shapes order by 1") == sorted(
        (path,) for _, path, _ in shapes
    ), "the tiles are deterministic"


def test_real_codes_use_the_reference_boundaries(tmp_path: Path) -> None:
    import polars as pl

    boundaries = tmp_path / report_data.MSOA_BOUNDARIES
    square = [[[-1.0, 52.0], [-0.9, 52.0], [-0.9, 52.1], [-1.0, 52.1], [-1.0, 52.0]]]
    boundaries.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"msoa21_code": "E02000001", "msoa21_name": "A"},
                        "geometry": {"type": "Polygon", "coordinates": square},
                    }
                ],
            }
        )
    )
    frame = pl.DataFrame({"neighbourhood_code": ["E02000001"], "lad_code": ["E09000001"]})
    table, _, councils = report_data.neighbourhood_shapes(frame, reference_dir=tmp_path)
    assert table["shape_origin"].to_list() == ["ONS MSOA 2021 boundaries"]
    # no council boundaries file: the council is outlined by the box around its shapes
    assert councils["lad_code"].to_list() == ["E09000001"]
    assert councils["svg_path"].str.count_matches("L").to_list() == [3]

    lads = tmp_path / report_data.LAD_BOUNDARIES
    council = [[[-1.1, 51.9], [-0.8, 51.9], [-0.8, 52.2], [-1.1, 52.2], [-1.1, 51.9]]]
    lads.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"LAD24CD": "E09000001", "LAD24NM": "City"},
                        "geometry": {"type": "MultiPolygon", "coordinates": [council]},
                    }
                ],
            }
        )
    )
    table, _, councils = report_data.neighbourhood_shapes(frame, reference_dir=tmp_path)
    assert table["shape_origin"].to_list() == [
        "ONS MSOA 2021 boundaries, council boundaries ONS LAD 2024"
    ]
    # the council's real outline, in the same projection: it reaches beyond the MSOA's box
    points = [
        tuple(map(float, point.split(",")))
        for point in councils["svg_path"][0].strip("M Z").split(" L")
    ]
    assert min(x for x, _ in points) < 0 and max(y for _, y in points) > 0


def test_no_published_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(report_data.ReportDataError, match="does not exist"):
        report_data.build_report_data(tmp_path / "warehouse.duckdb")


def test_failed_site_build_leaves_last_weeks_report(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = tmp_path / "reports"
    (reports / "pages").mkdir(parents=True)
    (reports / "node_modules").mkdir()
    (reports / "build").mkdir()
    (reports / "build" / "index.html").write_text("last week")
    data = report_data.build_report_data(warehouse)
    monkeypatch.setattr(
        site, "ensure_node_modules", lambda reports_dir: reports_dir / "node_modules"
    )

    def failing(command: list[str], cwd: Path, timeout_s: int, env: dict) -> str:
        if "build:strict" in command:
            raise site.ReportBuildError("build failed")
        return ""

    monkeypatch.setattr(site, "run", failing)
    with pytest.raises(site.ReportBuildError):
        site.build_site(data.path, reports_dir=reports)
    assert (reports / "build" / "index.html").read_text() == "last week"
    assert [p.name for p in reports.iterdir() if p.name.startswith(".")] == []

    def succeeding(command: list[str], cwd: Path, timeout_s: int, env: dict) -> str:
        if "build:strict" in command:
            (cwd / "build").mkdir()
            (cwd / "build" / "index.html").write_text("this week")
        return ""

    monkeypatch.setattr(site, "run", succeeding)
    site.build_site(data.path, reports_dir=reports, static_files={"data/x.geojson": data.geojson})
    assert (reports / "build" / "index.html").read_text() == "this week"


def test_asset_writes_report_data_without_the_site(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import materialize

    from orchestration.reporting.assets import ReportResource, icb_report
    from orchestration.resources import WarehouseResource

    monkeypatch.setenv(site.SKIP_ENV, "1")
    result = materialize(
        [icb_report],
        resources={
            "warehouse": WarehouseResource(location=str(warehouse)),
            "report": ReportResource(),
        },
    )
    assert result.success
    assert (warehouse.parent / "report.duckdb").exists()
    metadata = result.asset_materializations_for_node("icb_report")[0].metadata
    assert metadata["site_built"].value is False


def test_icb_weekly_is_protected_and_flags_compare_months(warehouse: Path) -> None:
    data = report_data.build_report_data(warehouse)
    # 5 + 12 + 133 + 40 + 0 + 78 = 268 referrals in the week: rounded to 270
    assert read(data.path, "select referrals_count from icp.icb_weekly") == [(270,)]
    # 3 per neighbourhood: 18 onward referrals, rounded to 20; 6 attended is 1-7: suppressed
    row = read(
        data.path,
        "select onward_referrals_count, onward_referrals_attended_count, "
        "onward_referral_conversion_pct from icp.icb_weekly",
    )
    assert row == [(20, None, None)]
    labels = read(
        data.path, "select change_label, count(*) from icp.underfunded_changes group by 1"
    )
    assert dict(labels) == {"flagged": 2, "not flagged": 4}  # one month: no change to report


def test_funding_at_risk_is_the_icb_share_of_current_funding(warehouse: Path) -> None:
    data = report_data.build_report_data(warehouse)
    # £10 i a day in neighbourhood i = 1..6 (£210), 10 i % of it ending within 6 months:
    # sum of 10 i x i / 10 = 91 of 210 a day = 43.33%
    assert read(
        data.path,
        "select current_funding_per_day_gbp, funding_at_risk_6m_pct, funding_at_risk_12m_pct "
        "from icp.icb_weekly",
    ) == [(210.0, 43.33, 100.0)]


def test_area_deprivation_is_the_icb_and_its_councils(warehouse: Path) -> None:
    # the mart ranks every ICB when the deprivation source covers England: only this one
    con = duckdb.connect(str(warehouse.parent / "published.duckdb"))
    con.execute("alter table marts.dim_neighbourhoods add column icb_code varchar")
    con.execute("update marts.dim_neighbourhoods set icb_code = 'E54000901'")
    con.execute(
        "insert into marts.fct_area_deprivation values "
        "('icb', 'E54000902', 'Other ICB', 9, 9000, 42, 30.0, 1, 0.3, 1)"
    )
    con.close()
    data = report_data.build_report_data(warehouse)
    assert read(
        data.path,
        "select area_code, imd_proportion_lsoas_most_deprived_10pct, ranked_among_count "
        "from icp.area_deprivation order by 1",
    ) == [("E06900001", 20.0, 3), ("E06900002", 0.0, 3), ("E54000901", 10.0, 1)]


def write_run_results(target: Path, folder: str, statuses: dict[str, str]) -> None:
    (target / folder).mkdir(parents=True)
    results = [
        {"unique_id": f"test.icb_insight.{name}.abc123", "status": status}
        for name, status in statuses.items()
    ] + [{"unique_id": "model.icb_insight.fct_x", "status": "success"}]
    (target / folder / "run_results.json").write_text(
        json.dumps({"args": {"which": "build"}, "results": results})
    )


def test_build_tests_are_those_of_the_published_build(warehouse: Path, tmp_path: Path) -> None:
    published = warehouse.parent / "published.duckdb"
    con = duckdb.connect(str(published))
    con.execute("insert into meta.build_info values ('run_id', ?)", [json.dumps("abcdef12-3456")])
    con.close()
    target = tmp_path / "target"
    write_run_results(
        target,
        "icb_dbt_models-abcdef1-1111111",
        {"not_null_fct_x_id": "pass", "unique_fct_x_id": "pass", "freshness_ok": "warn"},
    )
    # a later build that failed: never published, so never shown
    write_run_results(target, "icb_dbt_models-9999999-2222222", {"unique_fct_x_id": "fail"})
    checks = [
        {
            "check_source": "Dagster asset check",
            "test_name": "rows_reconcile on raw/referrals",
            "status": "pass",
            "severity": "error",
        },
        {  # a dbt test as Dagster sees it: counted once, from dbt's own results
            "check_source": "Dagster asset check",
            "test_name": "unique_fct_x_id on fct_x",
            "status": "pass",
            "severity": "error",
        },
    ]
    data = report_data.build_report_data(warehouse, asset_checks=checks, dbt_target_dir=target)
    assert read(
        data.path, "select check_source, test_name, status from icp.build_tests order by 2"
    ) == [
        ("dbt test", "freshness_ok", "warn"),
        ("dbt test", "not_null_fct_x_id", "pass"),
        ("Dagster asset check", "rows_reconcile on raw/referrals", "pass"),
        ("dbt test", "unique_fct_x_id", "pass"),
    ]
    (origin,) = read(data.path, "select tests_origin from icp.report_info")[0]
    assert "abcdef12-3456" in origin
    # no results for the published run on this machine: said so, nothing else shown
    (target / "icb_dbt_models-abcdef1-1111111" / "run_results.json").unlink()
    data = report_data.build_report_data(warehouse, dbt_target_dir=target)
    assert read(data.path, "select count(*) from icp.build_tests") == [(0,)]
    (origin,) = read(data.path, "select tests_origin from icp.report_info")[0]
    assert origin.startswith("not found")


def test_community_groups_and_funding_cliff_are_protected(warehouse: Path) -> None:
    published = warehouse.parent / "published.duckdb"
    con = duckdb.connect(str(published))
    con.execute(
        "create table marts.fct_community_group_quarters as select * from (values "
        # group A: 3 referrals a quarter, no contract money; B: 20, paid; C: old quarter only
        "('A', date '2026-01-01', true, 'E02900001', 'Group A', 'charity', true, 3, 2, 0.0, 0.0),"
        "('A', date '2026-04-01', true, 'E02900001', 'Group A', 'charity', true, 3, 2, 0.0, 0.0),"
        "('B', date '2026-04-01', true, 'E02900002', 'Group B', 'cic', false, 20, 12, 1200.0,"
        " 300.0),"
        "('B', date '2026-07-01', false, 'E02900002', 'Group B', 'cic', false, 99, 99, 1.0, 1.0)"
        ") as t(provider_id, quarter_start_date, is_complete_quarter, neighbourhood_code, "
        "provider_name, provider_type, is_volunteer_led, onward_referrals_received_count, "
        "referred_people_attended_count, funding_gbp, funding_social_prescribing_contract_gbp)"
    )
    con.execute(
        "create table marts.fct_funding_cliff as select 'E02900001' as neighbourhood_code, "
        "date '2026-10-01' as as_of_date, 30.0 as weekly_places, 0.0 as "
        "weekly_places_losing_all_funding_3m, 30.0 as weekly_places_losing_all_funding_6m, "
        "30.0 as weekly_places_losing_all_funding_12m, 3650.0 as current_funding_per_year_gbp, "
        "0.0 as funding_ending_3m_per_year_gbp, 3650.0 as funding_ending_6m_per_year_gbp, "
        "3650.0 as funding_ending_12m_per_year_gbp, 'secret' as provider_name"
    )
    con.close()
    data = report_data.build_report_data(warehouse)
    assert read(
        data.path,
        "select provider_name, onward_referrals_received_count, "
        "onward_referrals_received_count_is_suppressed, referred_people_attended_count, "
        "funding_gbp, funding_per_referred_attendee_gbp, is_taking_referrals_without_payment, "
        "is_taking_referrals_without_any_funding, lad_name from icp.community_groups "
        "order by 1",
    ) == [
        ("Group A", None, True, None, 0.0, None, True, True, "Northmoor"),  # 6 and 4: hidden
        ("Group B", 20, False, 10, 1200.0, 120.0, False, False, "Southdene"),  # 12 -> 10
    ]
    cliff = read(
        data.path,
        "select neighbourhood_code, weekly_places_losing_all_funding_6m, "
        "funding_ending_6m_per_year_gbp from icp.funding_cliff order by 1",
    )
    assert len(cliff) == 6, "every neighbourhood, with or without funding"
    assert cliff[0] == ("E02900001", 30.0, 3650.0) and cliff[1] == ("E02900002", 0.0, 0.0)
    columns = {
        name
        for (name,) in read(
            data.path,
            "select column_name from information_schema.columns where table_name = 'funding_cliff'",
        )
    }
    assert "provider_name" not in columns


def test_missing_required_mart_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "warehouse"
    folder.mkdir()
    write_published(folder / "published.duckdb", [10, 20])
    con = duckdb.connect(str(folder / "published.duckdb"))
    con.execute("drop table marts.fct_neighbourhood_need_capacity_weekly")
    con.close()
    with pytest.raises(report_data.ReportDataError, match="fct_neighbourhood_need_capacity_weekly"):
        report_data.build_report_data(folder / "warehouse.duckdb")


def test_report_runs_after_publish_and_extracts_in_the_weekly_job(dbt_manifest: Path) -> None:
    from dagster import AssetKey

    from orchestration.definitions import defs

    job = defs.resolve_job_def("full_build")
    assert AssetKey(["icb_report"]) in job.asset_layer.executable_asset_keys
    parents = defs.resolve_asset_graph().get(AssetKey(["icb_report"])).parent_keys
    assert parents == {AssetKey(["published_warehouse"]), AssetKey(["la_extracts"])}


def test_a_warehouse_of_several_icbs_gives_the_chosen_icbs_report(
    warehouse: Path, monkeypatch
) -> None:
    """A region's or England's warehouse: the report is refused until an ICB is chosen, then
    holds that ICB's neighbourhoods, councils and whole-ICB totals only; fct_equity (groups
    across every ICB) is left out."""
    con = duckdb.connect(str(warehouse.parent / "published.duckdb"))
    con.execute("alter table marts.dim_neighbourhoods add column icb_code varchar")
    con.execute(
        "update marts.dim_neighbourhoods set icb_code = "
        "case lad_code when 'E06900001' then 'E54000901' else 'E54000902' end"
    )
    con.execute(
        "insert into marts.fct_area_deprivation values "
        "('icb', 'E54000902', 'Other ICB', 9, 9000, 42, 30.0, 1, 0.3, 1)"
    )
    con.execute("create table marts.fct_equity as select 1 as referrals_count")
    con.close()
    monkeypatch.delenv(report_data.ICB_ENV, raising=False)
    with pytest.raises(report_data.ReportDataError, match="holds 2 ICBs .* ICB_INSIGHT_REPORT_ICB"):
        report_data.build_report_data(warehouse)
    with pytest.raises(report_data.ReportDataError, match="no neighbourhoods in ICB E54000999"):
        report_data.build_report_data(warehouse, icb_code="E54000999")
    monkeypatch.setenv(report_data.ICB_ENV, "E54000902")
    data = report_data.build_report_data(warehouse)
    assert read(data.path, "select distinct lad_code from icp.neighbourhood_gap") == [
        ("E06900002",)
    ]
    assert read(data.path, "select lad_code from icp.local_authorities") == [("E06900002",)]
    assert read(data.path, "select area_code from icp.area_deprivation order by 1") == [
        ("E06900002",),
        ("E54000902",),
    ]
    # the whole-ICB total row of each month adds up this ICB's neighbourhoods only
    assert read(
        data.path,
        "select count(*) from icp.neighbourhood_monthly where not coalesce(is_total, false)",
    ) == [(3,)]
    assert "equity" not in data.tables


def test_activity_list_hides_what_the_extracts_hide(warehouse: Path) -> None:
    """The report's activities under pressure come from the weekly rows protected as the
    extracts protect them: a flag the local authority's extract hides (it comes from a
    small attendance) is hidden in the report too, and such an activity is listed with the
    flag blank, so one not listed is one whose flag is shown false."""
    import polars as pl
    from test_disclosure import pressure_weeks

    from orchestration.disclosure import as_text
    from orchestration.extracts import build_extracts, extracts_root

    weeks = pressure_weeks(1, activities=8, weeks=14).with_columns(
        pl.col("week_start_date").str.to_date(),
        neighbourhood_code=pl.when(pl.col("activity_id") < "act-4")
        .then(pl.lit("E02900001"))
        .otherwise(pl.lit("E02900002")),
        provider_id=pl.lit("P1"),
        category=pl.lit("arts"),
        is_complete_week=pl.lit(True),
        weekly_places=pl.col("places_count").cast(pl.Float64),
        onward_referrals_12w_count=pl.col("onward_referrals_count"),
        is_referred_without_funding=pl.lit(False),
    )
    published = warehouse.parent / "published.duckdb"
    con = duckdb.connect(str(published))
    try:
        con.register("weeks", weeks.to_arrow())
        con.execute("create table marts.fct_activity_pressure_weekly as select * from weeks")
        con.execute(
            "create table marts.dim_activities as select distinct activity_id, "
            "'Group ' || activity_id as activity_name from weeks"
        )
        con.execute("alter table audit.loads add column file_sha256 varchar")  # for extracts
        con.execute("create table marts.dim_providers as select 'P1' as provider_id, "
                    "'=HYPERLINK(\"x\")' as provider_name")  # fmt: skip
    finally:
        con.close()
    build_extracts(warehouse, run_date=date(2026, 10, 1))
    tables, _ = report_data.read_tables(published)
    listed = tables["activity_pressure"]
    latest = weeks["week_start_date"].max()
    extract = pl.concat(
        pl.read_csv(path, infer_schema=False)
        for path in extracts_root(warehouse).glob("*/*/activity_pressure.csv")
    ).filter(pl.col("week_start_date") == str(latest), pl.col("is_total") == "false")
    shown = as_text(listed)
    assert set(shown["week_start_date"].cast(pl.String)) == {str(latest)}
    for name in ("weeks_over_capacity_12w", "is_persistently_over_capacity"):
        report = dict(zip(shown["activity_id"], shown[name], strict=True))
        extracted = dict(zip(extract["activity_id"], extract[name], strict=True))
        assert report and all(report[key] == extracted[key] for key in report), name
    # every activity not listed has its flag shown false in the extract
    missing = extract.filter(~pl.col("activity_id").is_in(listed["activity_id"].to_list()))
    assert set(missing["is_persistently_over_capacity"]) <= {"false"}
    assert listed["provider_name"].str.starts_with("'=").all()  # a formula, guarded


def test_publisher_data_quality_is_listed_and_written_for_publishers(warehouse: Path) -> None:
    published = warehouse.parent / "published.duckdb"
    # without the mart: an empty table for the Methods page, and no file
    data = report_data.build_report_data(warehouse)
    assert read(data.path, "select count(*) from icp.publisher_data_quality") == [(0,)]
    assert data.publisher_quality is None
    con = duckdb.connect(str(published))
    try:
        con.execute(
            """
            create table marts.fct_publisher_data_quality as
            select * from (values
                ('funder', 'GB-CHC-1', 'A Trust', 'grant_without_planned_dates', 'No dates',
                 'Grants without planned dates', 'Publish them', 3, 2, 66.7, date '2026-09-30'),
                ('directory', 'dir-a', 'dir-a', 'service_without_capacity', 'No capacity',
                 'Services without a capacity', 'Publish it', 4, 0, 0.0, date '2026-09-30')
            ) as t(publisher_kind, publisher_id, publisher_name, check_code, check_title,
                   check_description, how_to_fix, records_count, records_failing_count,
                   records_failing_pct, as_of_date)
            """
        )
    finally:
        con.close()
    data = report_data.build_report_data(warehouse)
    rows = read(
        data.path,
        "select publisher_id, records_count, records_failing_count "
        "from icp.publisher_data_quality order by publisher_id",
    )
    # counts of grants and services, not people: published as they are (2 is not suppressed)
    assert rows == [("GB-CHC-1", 3, 2), ("dir-a", 4, 0)]
    assert data.publisher_quality is not None
    written = pl.read_csv(data.publisher_quality)
    assert written["check_code"].to_list() == [
        "grant_without_planned_dates",
        "service_without_capacity",
    ]
    files = site.static_files_for(data.geojson, {}, data.publisher_quality)
    assert files["data/publisher_data_quality.csv"] == data.publisher_quality
