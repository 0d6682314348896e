"""The report's data: every table the ICP report shows, made safe to leave the ICB, in one file.

The report is read by people outside the ICB (Integrated Care Partnership members, councils),
so every figure on it passes the same statistical disclosure control as the local authority
extracts (``orchestration.disclosure``): small counts suppressed, the rest rounded, rates
recomputed from the published counts. This module is the one place that happens for the
report: it reads the PUBLISHED warehouse read-only, protects each table with
``protect_table`` (the only call into the disclosure module), recomputes the scores that
derive from protected figures (an exact z-score would give back the exact count), and writes

    <warehouse dir>/report.duckdb      (DuckDB v1.4 storage, readable by Evidence)
    <warehouse dir>/report_neighbourhoods.geojson

to temporary names first and renames them into place, so a reader never sees half a file.
The Evidence source (``reports/sources/report/``) reads that file and nothing else.

Tables (schema ``icp``):

* ``neighbourhood_gap``: need, capacity and the gap per neighbourhood over 12 months;
* ``neighbourhood_monthly``: need and capacity per neighbourhood and month;
* ``neighbourhoods``: the neighbourhood list with local authority and deprivation;
* ``local_authorities``: one row per council, with its latest extract package if any;
* ``neighbourhood_shapes``: one SVG path per neighbourhood for the map (real boundaries when
  the codes are real and the reference file is there, else generated tiles);
* ``source_freshness``: when each source file was last loaded (audit.loads);
* ``report_info``: what was published, when, and the suppression rule in words.
"""

import json
import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from orchestration.publish import published_path

log = logging.getLogger(__name__)

REPORT_DB_NAME = "report.duckdb"
GEOJSON_NAME = "report_neighbourhoods.geojson"
STORAGE_COMPATIBILITY = "v1.4.0"  # Evidence bundles DuckDB 1.4
SCHEMA = "icp"  # not "report": the file is report.duckdb, and DuckDB would find both
REFERENCE_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "reference"
MSOA_BOUNDARIES = "boundaries_msoa21_ew_bsc_simplified_geographr.geojson"
# The map's drawing box (SVG user units); the component scales it to the page width.
MAP_WIDTH, MAP_HEIGHT = 800.0, 560.0


ICB_TOTAL_CODE, ICB_TOTAL_NAME = "ICB", "Whole ICB"


class ReportDataError(Exception):
    """The report's data could not be made (no published warehouse, a table unsafe)."""


# ---------------------------------------------------------------------- disclosure control


def _disclosure() -> Any:
    """orchestration.disclosure, or a clear error: the report never ships unprotected."""
    try:
        from orchestration import disclosure
    except ImportError as error:  # pragma: no cover - only before the module landed
        raise ReportDataError(
            "orchestration.disclosure is not available: the report cannot be made safe to "
            "leave the ICB, so it is not built"
        ) from error
    return disclosure


def _report_declarations() -> dict[str, Any]:
    """What each column of the report's own tables is, for the tables the disclosure module
    does not declare itself (passed to ``protect`` as ``spec``; a declaration there wins)."""
    d = _disclosure()
    column, kind = d.Column, d.Kind
    rate = d._rate  # the module's own constructor, whatever shape a rate's numerator takes
    neighbourhood = {
        "neighbourhood_code": column(kind.KEY),
        "neighbourhood_name": column(kind.LABEL),
        "neighbourhood_level": column(kind.LABEL),
        "lad_code": column(kind.KEY),
        "lad_name": column(kind.LABEL),
    }
    return {
        "fct_neighbourhood_gap": d.Table(
            {
                **neighbourhood,
                "period_start_date": column(kind.PERIOD),
                "period_end_date": column(kind.PERIOD),
                "months_count": column(kind.PUBLIC),  # months in the window, not people
                "population_total": column(kind.PUBLIC),
                "imd_score_pop_weighted": column(kind.CONTEXT),
                "is_core20": column(kind.FLAG),
                "referrals_12m_count": column(kind.COUNT),
                "referrals_per_1000_12m": rate("referrals_12m_count", "population_total", 1000),
                "weekly_places": column(kind.PUBLIC),
                "weekly_places_per_1000": rate("weekly_places", "population_total", 1000),
                "funding_12m_gbp": column(kind.MONEY),
                "funding_per_head_12m_gbp": rate("funding_12m_gbp", "population_total"),
                # need_z, capacity_z, gap_score and gap_rank are recomputed from the
                # protected rates (recompute_gap_scores): the mart's exact ones are not read.
            }
        ),
        "icb_weekly": d.Table(
            {
                "week_start_date": column(kind.PERIOD),
                "is_complete_week": column(kind.FLAG),
                "population_total": column(kind.PUBLIC),
                "referrals_count": column(kind.COUNT),
                "onward_referrals_count": column(kind.COUNT),
                "onward_referrals_refused_no_capacity_count": column(kind.COUNT),
                "onward_referrals_attended_count": column(kind.COUNT),
                "onward_referral_conversion_pct": rate(
                    "onward_referrals_attended_count", "onward_referrals_count", 100
                ),
                "weekly_places": column(kind.PUBLIC),
                "weekly_places_per_1000": rate("weekly_places", "population_total", 1000),
                "funding_gbp": column(kind.MONEY),
            }
        ),
        "underfunded_changes": d.Table(
            {
                **neighbourhood,
                "month_start_date": column(kind.PERIOD),
                "previous_month_start_date": column(kind.PERIOD),
                "is_underfunded": column(kind.FLAG),
                "was_underfunded": column(kind.FLAG),
                "change_label": column(kind.LABEL),
            }
        ),
        "pcn_caseload": d.Table(
            {
                "pcn_code": column(kind.KEY),
                "pcn_name": column(kind.LABEL),
                "month_start_date": column(kind.PERIOD),
                "link_worker_fte": column(kind.PUBLIC),  # workforce, not patients
                "link_worker_fte_mean_12m": column(kind.PUBLIC),
                "open_caseload": column(kind.COUNT),
                "open_caseload_per_fte": rate("open_caseload", "link_worker_fte"),
                "referrals_count": column(kind.COUNT),
                "referrals_12m_count": column(kind.COUNT),
                "referrals_per_fte_12m": rate("referrals_12m_count", "link_worker_fte_mean_12m"),
                "is_over_safe_caseload": column(kind.FLAG),
                "first_contact_within_14_days_count": column(kind.COUNT),
                "first_contact_within_14_days_pct": rate(
                    "first_contact_within_14_days_count", "referrals_count", 100
                ),
            }
        ),
        "equity": d.Table(
            {
                "equity_dimension": column(kind.KEY),
                "group_value": column(kind.LABEL),
                "period_start_date": column(kind.PERIOD),
                "period_end_date": column(kind.PERIOD),
                "months_count": column(kind.PUBLIC),
                "population_total": column(kind.PUBLIC),
                "referrals_count": column(kind.COUNT),
                # x 1,000 x 12 / months: the table holds 12 months unless fewer are loaded;
                # equity_rows rescales when it holds fewer
                "referrals_per_1000_per_year": rate("referrals_count", "population_total", 1000),
                "onward_referrals_count": column(kind.COUNT),
                "onward_referrals_attended_count": column(kind.COUNT),
                "onward_referral_conversion_pct": rate(
                    "onward_referrals_attended_count", "onward_referrals_count", 100
                ),
            }
        ),
        "activity_pressure": d.Table(
            {
                "activity_id": column(kind.KEY),
                "activity_name": column(kind.LABEL),
                "provider_name": column(kind.LABEL),
                "category": column(kind.LABEL),
                "neighbourhood_code": column(kind.KEY),
                "neighbourhood_name": column(kind.LABEL),
                "lad_name": column(kind.LABEL),
                "week_start_date": column(kind.PERIOD),
                "weekly_places": column(kind.PUBLIC),
                "weeks_with_sessions_12w": column(kind.PUBLIC),  # weeks, not people
                "weeks_over_capacity_12w": column(kind.PUBLIC),
                "is_persistently_over_capacity": column(kind.FLAG),
                "is_referred_without_funding": column(kind.FLAG),
                "onward_referrals_12w_count": column(kind.COUNT),
            }
        ),
        "audit_loads": d.Table(
            {
                "source": column(kind.KEY),
                "file_name": column(kind.LABEL),
                "loaded_at": column(kind.PERIOD),
                "periods": column(kind.LABEL),
                # rows of whole files across the ICB; counted like people, to be safe
                "rows_read_count": column(kind.COUNT),
                "rows_loaded_count": column(kind.COUNT),
                "rows_quarantined_count": column(kind.COUNT),
            }
        ),
    }


def protect_table(
    frame: pl.DataFrame, table: str, *, total_by: Sequence[str] = (), total_key: str = ""
) -> pl.DataFrame:
    """The one call into disclosure control: ``frame`` (rows of mart ``table``) made safe.

    Undeclared columns are dropped (fail closed); counts are suppressed or rounded with a
    ``<column>_is_suppressed`` flag; rates are recomputed from the published counts. With
    ``total_by``, one whole-ICB total row per group is added first (``is_total``, key column
    ``total_key`` = 'ICB'), so the cells are protected against their published total too.
    """
    d = _disclosure()
    # the disclosure module's own declaration wins; the report declares only what it lacks
    spec = None if table in d.TABLES else _report_declarations().get(table)
    if total_by:
        frame = d.with_totals(
            frame,
            table,
            by=list(total_by),
            key=total_key,
            key_value=ICB_TOTAL_CODE,
            label="neighbourhood_name" if "neighbourhood_name" in frame.columns else None,
            label_value=ICB_TOTAL_NAME,
            spec=spec,
        )
    return d.protect(frame, table, d.DEFAULT_RULE, by=list(total_by), spec=spec)


def rule_in_words() -> str:
    d = _disclosure()
    return d.DEFAULT_RULE.describe()


# ---------------------------------------------------------------------- derived scores


def _z(values: pl.Expr) -> pl.Expr:
    """(value - mean) / population sd; 0 when every value is the same (as the mart does)."""
    sd = values.std(ddof=0)
    return (
        pl.when(values.is_null())
        .then(None)
        .when(sd == 0)
        .then(0.0)
        .otherwise((values - values.mean()) / sd)
    )


def recompute_gap_scores(gap: pl.DataFrame) -> pl.DataFrame:
    """need_z, capacity_z, gap_score and gap_rank from the PROTECTED rates, by the mart's
    formula (fct_neighbourhood_gap): need = z(referrals per 1,000), capacity = mean of
    z(weekly places per 1,000) and z(funding per head), gap = need - capacity, rank 1 widest.
    The mart's own scores come from exact counts and would let a reader work them out."""
    scored = gap.with_columns(
        need_z=_z(pl.col("referrals_per_1000_12m")),
        weekly_places_per_1000_z=_z(pl.col("weekly_places_per_1000")),
        funding_per_head_12m_z=_z(pl.col("funding_per_head_12m_gbp")),
    ).with_columns(
        capacity_z=(pl.col("weekly_places_per_1000_z") + pl.col("funding_per_head_12m_z")) / 2
    )
    scored = scored.with_columns(gap_score=pl.col("need_z") - pl.col("capacity_z"))
    scored = scored.sort(
        [pl.col("gap_score").is_null(), pl.col("gap_score"), pl.col("neighbourhood_code")],
        descending=[False, True, False],
    ).with_row_index("gap_rank", offset=1)
    return scored.with_columns(
        pl.col("gap_rank").cast(pl.Int64),
        *[
            pl.col(name).round(2)
            for name in (
                "need_z",
                "weekly_places_per_1000_z",
                "funding_per_head_12m_z",
                "capacity_z",
                "gap_score",
            )
        ],
    )


# ---------------------------------------------------------------------- map shapes


def _is_fictional(code: str) -> bool:
    """Demo codes put a 9 straight after the three-character prefix (E02900001)."""
    return len(code) == 9 and code[3] == "9"


def generated_shapes(neighbourhoods: pl.DataFrame) -> dict[str, list[list[tuple[float, float]]]]:
    """Deterministic tiles for a fictional geography: each local authority a block of square
    tiles, blocks side by side, neighbourhoods in code order. Returns rings in map units."""
    las = (
        neighbourhoods.group_by("lad_code")
        .agg(pl.col("neighbourhood_code").sort())
        .sort("lad_code")
    )
    total = neighbourhoods.height or 1
    columns_total = max(1, math.ceil(math.sqrt(total * MAP_WIDTH / MAP_HEIGHT)))
    shapes: dict[str, list[list[tuple[float, float]]]] = {}
    blocks: list[tuple[list[str], int]] = []
    for codes in las["neighbourhood_code"].to_list():
        width = max(1, round(columns_total * len(codes) / total))
        blocks.append((codes, width))
    grid_columns = sum(width for _, width in blocks) + len(blocks) - 1
    grid_rows = max(math.ceil(len(codes) / width) for codes, width in blocks) if blocks else 1
    cell = min(MAP_WIDTH / max(grid_columns, 1), MAP_HEIGHT / max(grid_rows, 1))
    pad = cell * 0.06
    x0 = 0
    for codes, width in blocks:
        for index, code in enumerate(codes):
            col, row = x0 + index % width, index // width
            left, top = col * cell + pad, row * cell + pad
            right, bottom = (col + 1) * cell - pad, (row + 1) * cell - pad
            shapes[code] = [[(left, top), (right, top), (right, bottom), (left, bottom)]]
        x0 += width + 1
    return shapes


def real_shapes(
    codes: set[str], boundaries: Path
) -> dict[str, list[list[tuple[float, float]]]] | None:
    """Rings of the real MSOA boundaries for ``codes`` projected into map units, or None when
    the reference file lacks any of them."""
    if not boundaries.exists():
        return None
    features = json.loads(boundaries.read_text())["features"]
    rings_by_code: dict[str, list[list[tuple[float, float]]]] = {}
    for feature in features:
        code = next((v for k, v in feature["properties"].items() if k.endswith("_code")), None)
        if code not in codes:
            continue
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        rings_by_code[code] = [
            [(float(x), float(y)) for x, y in polygon[0]] for polygon in polygons
        ]
    if set(rings_by_code) != codes:
        return None
    points = [point for rings in rings_by_code.values() for ring in rings for point in ring]
    lon_min, lon_max = min(p[0] for p in points), max(p[0] for p in points)
    lat_min, lat_max = min(p[1] for p in points), max(p[1] for p in points)
    squash = math.cos(math.radians((lat_min + lat_max) / 2))
    span_x, span_y = (lon_max - lon_min) * squash or 1, (lat_max - lat_min) or 1
    scale = min(MAP_WIDTH / span_x, MAP_HEIGHT / span_y)
    return {
        code: [
            [((x - lon_min) * squash * scale, (lat_max - y) * scale) for x, y in ring]
            for ring in rings
        ]
        for code, rings in rings_by_code.items()
    }


def _svg_path(rings: list[list[tuple[float, float]]]) -> str:
    return " ".join("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in ring) + " Z" for ring in rings)


def neighbourhood_shapes(
    neighbourhoods: pl.DataFrame, reference_dir: Path = REFERENCE_DIR
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The map's shapes as a table (code, SVG path, where the shape came from) and the same
    shapes as GeoJSON (map units for generated tiles, WGS84 for real boundaries)."""
    codes = set(neighbourhoods["neighbourhood_code"].to_list())
    real = None
    if codes and not any(_is_fictional(code) for code in codes):
        real = real_shapes(codes, reference_dir / MSOA_BOUNDARIES)
    shapes = real if real is not None else generated_shapes(neighbourhoods)
    origin = "ONS MSOA 2021 boundaries" if real is not None else "generated tiles (not a map)"
    table = pl.DataFrame(
        {
            "neighbourhood_code": list(shapes),
            "svg_path": [_svg_path(rings) for rings in shapes.values()],
            "shape_origin": [origin] * len(shapes),
        },
        schema={"neighbourhood_code": pl.String, "svg_path": pl.String, "shape_origin": pl.String},
    )
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"neighbourhood_code": code, "shape_origin": origin},
                "geometry": {
                    "type": "MultiPolygon",
                    "coordinates": [[[list(point) for point in ring]] for ring in rings],
                },
            }
            for code, rings in shapes.items()
        ],
    }
    return table, geojson


# ---------------------------------------------------------------------- the tables


# The marts every build of the report needs (the "This week" and gap pages).
REQUIRED_MARTS = (
    "fct_neighbourhood_gap",
    "fct_neighbourhood_need_capacity_monthly",
    "fct_neighbourhood_need_capacity_weekly",
    "fct_neighbourhood_need_capacity_index",
)
# Tables read from a mart: required ones above, the others shown only when their mart is in
# the published warehouse (their page is left out of the site otherwise: PAGE_NEEDS in
# orchestration/reporting/site.py).
OPTIONAL_TABLES: dict[str, tuple[str, str]] = {
    # the whole ICB per week: the headline figures of "This week"
    "icb_weekly": (
        "fct_neighbourhood_need_capacity_weekly",
        """
        select
            week_start_date,
            bool_and(is_complete_week) as is_complete_week,
            sum(population_total)::bigint as population_total,
            sum(referrals_count) as referrals_count,
            sum(onward_referrals_count) as onward_referrals_count,
            sum(onward_referrals_refused_no_capacity_count)
                as onward_referrals_refused_no_capacity_count,
            sum(onward_referrals_attended_count) as onward_referrals_attended_count,
            null::double as onward_referral_conversion_pct,
            sum(weekly_places)::double as weekly_places,
            null::double as weekly_places_per_1000,
            sum(funding_gbp)::double as funding_gbp
        from marts.fct_neighbourhood_need_capacity_weekly
        group by week_start_date
        order by week_start_date
        """,
    ),
    # neighbourhoods flagged underfunded in the latest month against the month before
    "underfunded_changes": (
        "fct_neighbourhood_need_capacity_index",
        """
        with months as (
            select distinct month_start_date
            from marts.fct_neighbourhood_need_capacity_index
            order by month_start_date desc
            limit 2
        ),
        latest as (
            select * from marts.fct_neighbourhood_need_capacity_index
            where month_start_date = (select max(month_start_date) from months)
        ),
        previous as (
            select * from marts.fct_neighbourhood_need_capacity_index
            where month_start_date = (select min(month_start_date) from months)
                and (select count(*) from months) = 2
        )
        select
            latest.neighbourhood_code,
            latest.neighbourhood_name,
            latest.lad_code,
            latest.lad_name,
            latest.month_start_date,
            previous.month_start_date as previous_month_start_date,
            coalesce(latest.is_underfunded, false) as is_underfunded,
            coalesce(previous.is_underfunded, false) as was_underfunded,
            case
                when previous.month_start_date is null then
                    case when latest.is_underfunded then 'flagged' else 'not flagged' end
                when latest.is_underfunded and not coalesce(previous.is_underfunded, false)
                    then 'newly flagged'
                when not coalesce(latest.is_underfunded, false) and previous.is_underfunded
                    then 'left the list'
                when latest.is_underfunded then 'still flagged'
                else 'not flagged'
            end as change_label
        from latest
        left join previous using (neighbourhood_code)
        order by latest.neighbourhood_code
        """,
    ),
    # link worker caseload per PCN, latest complete month
    "pcn_caseload": (
        "fct_pcn_link_worker_caseload_monthly",
        """
        select
            pcn_code, pcn_name, month_start_date, link_worker_fte, link_worker_fte_mean_12m,
            open_caseload, open_caseload_per_fte, referrals_count, referrals_12m_count,
            referrals_per_fte_12m, is_over_safe_caseload, first_contact_within_14_days_count,
            first_contact_within_14_days_pct
        from marts.fct_pcn_link_worker_caseload_monthly
        where month_start_date = (
            select max(month_start_date) from marts.fct_pcn_link_worker_caseload_monthly
            where is_complete_month
        )
        order by pcn_code
        """,
    ),
    "equity": (
        "fct_equity",
        """
        select
            equity_dimension, group_value, period_start_date, period_end_date, months_count,
            population_total, referrals_count, referrals_per_1000_per_year,
            onward_referrals_count, onward_referrals_attended_count,
            onward_referral_conversion_pct
        from marts.fct_equity
        order by equity_dimension, group_value
        """,
    ),
    # activities persistently over capacity, or taking referrals with no funding: latest week
    "activity_pressure": (
        "fct_activity_pressure_weekly",
        """
        select
            pressure.activity_id,
            activities.activity_name,
            providers.provider_name,
            pressure.category,
            pressure.neighbourhood_code,
            neighbourhoods.neighbourhood_name,
            neighbourhoods.lad_name,
            pressure.week_start_date,
            pressure.weekly_places,
            pressure.weeks_with_sessions_12w,
            pressure.weeks_over_capacity_12w,
            pressure.is_persistently_over_capacity,
            pressure.is_referred_without_funding,
            pressure.onward_referrals_12w_count
        from marts.fct_activity_pressure_weekly as pressure
        left join marts.dim_activities as activities using (activity_id)
        left join marts.dim_providers as providers
            on providers.provider_id = pressure.provider_id
        left join marts.dim_neighbourhoods as neighbourhoods
            on neighbourhoods.neighbourhood_code = pressure.neighbourhood_code
        where pressure.week_start_date = (
            select max(week_start_date) from marts.fct_activity_pressure_weekly
            where is_complete_week
        )
            and (pressure.is_persistently_over_capacity or pressure.is_referred_without_funding)
        order by pressure.activity_id
        """,
    ),
}


def _annualise_equity(frame: pl.DataFrame, *, back: bool = False) -> pl.DataFrame:
    """fct_equity's rate is per 1,000 per YEAR over months_count months: disclosure control
    recomputes it per 1,000 over the period, so scale by 12 / months_count afterwards."""
    if not back or "months_count" not in frame.columns:
        return frame
    return frame.with_columns(
        (pl.col("referrals_per_1000_per_year") * 12 / pl.col("months_count")).round(2)
    )


@dataclass
class ReportData:
    path: Path
    geojson: Path
    tables: dict[str, int] = field(default_factory=dict)  # rows per table


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(sql).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    rows = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return bool(rows[0][0])


def latest_extracts(extracts_root: Path | None) -> dict[str, dict[str, Any]]:
    """For each local authority, its newest extract package: run date, folder, files."""
    found: dict[str, dict[str, Any]] = {}
    if extracts_root is None or not extracts_root.is_dir():
        return found
    for run_dir in sorted(p for p in extracts_root.iterdir() if p.is_dir()):
        if run_dir.name.startswith("."):
            continue
        for la_dir in run_dir.iterdir():
            if (
                la_dir.is_dir()
                and not la_dir.name.startswith(".")
                and (la_dir / "manifest.json").exists()
            ):
                found[la_dir.name] = {
                    "run_date": run_dir.name,
                    "path": la_dir,
                    "files": sorted(p.name for p in la_dir.iterdir() if p.is_file()),
                }
    return found


def read_tables(
    published: Path, extracts_root: Path | None = None
) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    """Every table the report shows, protected, read from the published file."""
    if not published.exists():
        raise ReportDataError(f"{published} does not exist; build and publish the warehouse first")
    con = duckdb.connect(str(published), read_only=True)
    try:
        for mart in REQUIRED_MARTS:
            if not _has_table(con, "marts", mart):
                raise ReportDataError(f"{published} has no marts.{mart}")
        gap = _frame(con, "select * from marts.fct_neighbourhood_gap")
        monthly = _frame(
            con,
            # only the columns the report shows: each extra count widens secondary suppression
            "select monthly.neighbourhood_code, monthly.month_start_date, "
            "monthly.is_complete_month, monthly.population_total, monthly.referrals_count, "
            "monthly.referrals_per_1000, monthly.onward_referrals_count, "
            "monthly.onward_referrals_refused_no_capacity_count, "
            "monthly.activities_active_count, monthly.weekly_places, "
            "monthly.weekly_places_per_1000, monthly.funding_gbp, monthly.funding_per_head_gbp, "
            "neighbourhoods.neighbourhood_name, neighbourhoods.lad_code, "
            "neighbourhoods.lad_name "
            "from marts.fct_neighbourhood_need_capacity_monthly as monthly "
            "left join marts.dim_neighbourhoods as neighbourhoods "
            "using (neighbourhood_code)",
        )
        dim = _frame(con, "select * from marts.dim_neighbourhoods")
        loads_sql = (
            "select source, file_name, loaded_at, periods, rows_read as rows_read_count, "
            "rows_loaded as rows_loaded_count, rows_quarantined as rows_quarantined_count "
            "from {} where status = 'loaded' "
            "qualify row_number() over (partition by source order by loaded_at desc) = 1 "
            "order by source"
        )
        no_loads = (
            "(select ''::varchar as source, ''::varchar as file_name, null::timestamp as "
            "loaded_at, ''::varchar as periods, 0::bigint as rows_read, 0::bigint as "
            "rows_loaded, 0::bigint as rows_quarantined, ''::varchar as status where false)"
        )
        has_loads = _has_table(con, "audit", "loads")
        loads = _frame(con, loads_sql.format("audit.loads" if has_loads else no_loads))
        optional = {
            name: _frame(con, sql)
            for name, (mart, sql) in OPTIONAL_TABLES.items()
            if _has_table(con, "marts", mart)
        }
        info: dict[str, Any] = {}
        if _has_table(con, "meta", "build_info"):
            info = {
                key: json.loads(value)
                for key, value in con.execute("select key, value from meta.build_info").fetchall()
            }
    finally:
        con.close()

    tables: dict[str, pl.DataFrame] = {}
    exact_scores = [name for name in gap.columns if name.endswith("_z") or name.startswith("gap_")]
    tables["neighbourhood_gap"] = recompute_gap_scores(
        protect_table(gap.drop(exact_scores), "fct_neighbourhood_gap")
    )
    # with a whole-ICB row per month (is_total): the headline totals are published ones,
    # and secondary suppression keeps them from giving a suppressed neighbourhood away
    tables["neighbourhood_monthly"] = protect_table(
        monthly,
        "fct_neighbourhood_need_capacity_monthly",
        total_by=["month_start_date"],
        total_key="neighbourhood_code",
    )
    tables["neighbourhoods"] = protect_table(dim, "dim_neighbourhoods")
    tables["source_freshness"] = protect_table(loads, "audit_loads")
    for name, frame in optional.items():
        if name == "equity":
            frame = _annualise_equity(frame)
        tables[name] = protect_table(frame, name)
        if name == "equity":
            tables[name] = _annualise_equity(tables[name], back=True)
    shapes, geojson = neighbourhood_shapes(tables["neighbourhoods"])
    tables["neighbourhood_shapes"] = shapes

    extracts = latest_extracts(extracts_root)
    las = (
        tables["neighbourhoods"]
        .group_by("lad_code")
        .agg(
            pl.col("lad_name").first(),
            pl.len().alias("neighbourhoods_count"),
            pl.col("population_total").sum(),
        )
        .sort("lad_code")
    )
    tables["local_authorities"] = las.with_columns(
        extract_run_date=pl.col("lad_code").map_elements(
            lambda code: extracts.get(code, {}).get("run_date"), return_dtype=pl.String
        ),
        extract_files=pl.col("lad_code").map_elements(
            lambda code: ",".join(extracts.get(code, {}).get("files", [])),
            return_dtype=pl.String,
        ),
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    tables["report_info"] = pl.DataFrame(
        {
            "built_at": [now],
            "published_version_id": [str(info.get("version_id", ""))],
            "published_at": [str(info.get("published_at", ""))],
            "is_demo": [any(_is_fictional(c) for c in gap["neighbourhood_code"].to_list())],
            "suppression_rule": [rule_in_words()],
            "shape_origin": [shapes["shape_origin"][0] if shapes.height else ""],
        }
    )
    return tables, {"geojson": geojson, "extracts": extracts}


def write_report_db(tables: dict[str, pl.DataFrame], target: Path) -> dict[str, int]:
    """Write ``tables`` into schema ``icp`` of a new v1.4-format file, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    try:
        con = duckdb.connect(
            str(partial), config={"storage_compatibility_version": STORAGE_COMPATIBILITY}
        )
        try:
            con.execute(f"create schema {SCHEMA}")
            for name, frame in tables.items():
                con.register("incoming", frame.to_arrow())
                con.execute(f'create table {SCHEMA}."{name}" as select * from incoming')
                con.unregister("incoming")
                counts[name] = frame.height
            con.execute("checkpoint")
        finally:
            con.close()
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return counts


def report_db_path(build_db: Path) -> Path:
    return Path(build_db).parent / REPORT_DB_NAME


def build_report_data(
    build_db: Path,
    *,
    extracts_root: Path | None = None,
    published: Path | None = None,
    write: Callable[[dict[str, pl.DataFrame], Path], dict[str, int]] = write_report_db,
) -> ReportData:
    """Read the published warehouse beside ``build_db``, protect every table, and write
    ``report.duckdb`` and the map's GeoJSON beside it."""
    source = published or published_path(build_db)
    tables, extra = read_tables(source, extracts_root)
    target = report_db_path(build_db)
    counts = write(tables, target)
    geojson = target.with_name(GEOJSON_NAME)
    partial = geojson.with_name(f".{geojson.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(extra["geojson"]))
    os.replace(partial, geojson)
    log.info("report data: %s (%s)", target, ", ".join(f"{k} {v}" for k, v in counts.items()))
    return ReportData(target, geojson, counts)
