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

The report is one ICB's. A warehouse holding several (a region, England) is read through
``scoped_connection``: the ICB chosen (``icb_code``, or ``ICB_INSIGHT_REPORT_ICB``) and only
its neighbourhoods' and PCNs' rows; without a choice it is refused, naming the ICBs.
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
from orchestration.settings import DBT_PROJECT_DIR, DBT_TARGET_DIR

log = logging.getLogger(__name__)

REPORT_DB_NAME = "report.duckdb"
ICB_ENV = "ICB_INSIGHT_REPORT_ICB"  # which ICB's report, when the warehouse holds several
# Read whole even when one ICB of several is chosen: public figures whose report query keeps
# the ICB's own areas (fct_area_deprivation), and the calendar.
UNSCOPED_MARTS = ("fct_area_deprivation", "dim_dates")
GEOJSON_NAME = "report_neighbourhoods.geojson"
PUBLISHER_QUALITY_NAME = "publisher_data_quality.csv"
PUBLISHER_QUALITY_SCHEMA = {
    **dict.fromkeys(
        (
            "publisher_kind",
            "publisher_id",
            "publisher_name",
            "check_code",
            "check_title",
            "check_description",
        ),
        pl.String,
    ),
    "how_to_fix": pl.String,
    "records_count": pl.Int64,
    "records_failing_count": pl.Int64,
    "records_failing_pct": pl.Float64,
    "as_of_date": pl.Date,
}
STORAGE_COMPATIBILITY = "v1.4.0"  # Evidence bundles DuckDB 1.4
SCHEMA = "icp"  # not "report": the file is report.duckdb, and DuckDB would find both
REFERENCE_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "reference"
MSOA_BOUNDARIES = "boundaries_msoa21_ew_bsc_simplified_geographr.geojson"
LAD_BOUNDARIES = "boundaries_lad24_uk_bsc.geojson"
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
    spec = d.TABLES.get(table)
    if spec is None:  # fail closed: every table the report shows is declared there
        raise ReportDataError(f"{table} is not declared in orchestration.disclosure.TABLES")
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


DBT_PROJECT_FILE = DBT_PROJECT_DIR / "dbt_project.yml"
# The mart's weights when the project file cannot be read (dbt_project.yml vars are the
# source of truth: need_index_weights, capacity_index_weights).
_INDEX_WEIGHTS = {
    "need_index_weights": {
        "referrals_per_1000_12m": 0.4,
        "imd_score_pop_weighted": 0.4,
        "onward_referrals_unmet_pct_12m": 0.2,
    },
    "capacity_index_weights": {
        "weekly_places_per_1000": 0.5,
        "funding_per_head_12m_gbp": 0.5,
        "link_worker_fte_per_10k": 0.0,
    },
}


def index_weights(project_file: Path = DBT_PROJECT_FILE) -> dict[str, dict[str, float]]:
    """The need and capacity index weights of fct_neighbourhood_need_capacity_index, from
    the dbt project's vars (one definition for the mart and the report)."""
    import yaml

    found = dict(_INDEX_WEIGHTS)
    if project_file.exists():
        variables = (yaml.safe_load(project_file.read_text()) or {}).get("vars", {}) or {}
        for name in found:
            if isinstance(variables.get(name), dict):
                found[name] = {key: float(value) for key, value in variables[name].items()}
    return found


def _index(frame: pl.DataFrame, weights: dict[str, float]) -> pl.Expr:
    """The mart's index: weighted mean of the components' z-scores, a missing component
    (null, or a column the published warehouse lacks) counting as average (0)."""
    total = sum(weights.values()) or 1.0
    parts = [
        weight * _z(pl.col(component)).fill_null(0.0)
        for component, weight in weights.items()
        if weight and component in frame.columns
    ]
    return (pl.sum_horizontal(parts) if parts else pl.lit(0.0)) / total


def recompute_gap_scores(
    gap: pl.DataFrame, weights: dict[str, dict[str, float]] | None = None
) -> pl.DataFrame:
    """need_z, capacity_z, gap_score and gap_rank from the PROTECTED figures, by the
    formula of fct_neighbourhood_need_capacity_index (which fct_neighbourhood_gap copies):
    need = weighted mean of the z-scores of referrals per 1,000, IMD score and share of
    onward referrals unmet; capacity = weighted mean of the z-scores of weekly places per
    1,000 and funding per head (weights from the dbt vars); gap = need - capacity, rank 1
    widest. The mart's own scores come from exact counts and would let a reader work
    them out."""
    weights = weights or index_weights()
    scored = gap.with_columns(
        need_z=_index(gap, weights["need_index_weights"]),
        capacity_z=_index(gap, weights["capacity_index_weights"]),
        weekly_places_per_1000_z=_z(pl.col("weekly_places_per_1000")),
        funding_per_head_12m_z=_z(pl.col("funding_per_head_12m_gbp")),
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


Rings = list[list[tuple[float, float]]]


def _read_rings(boundaries: Path, codes: set[str], code_key: str | None = None) -> dict[str, Rings]:
    """Outer rings (longitude, latitude) of the features of ``boundaries`` whose code is in
    ``codes``: the property ``code_key``, else the first property ending in ``_code``."""
    rings_by_code: dict[str, Rings] = {}
    for feature in json.loads(boundaries.read_text())["features"]:
        properties = feature["properties"]
        code = (
            properties.get(code_key)
            if code_key
            else next((v for k, v in properties.items() if k.endswith("_code")), None)
        )
        if code not in codes:
            continue
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        rings_by_code[code] = [
            [(float(x), float(y)) for x, y in polygon[0]] for polygon in polygons
        ]
    return rings_by_code


def _projector(rings_by_code: dict[str, Rings]) -> Callable[[Rings], Rings]:
    """Longitude/latitude to map units, fitting every ring of ``rings_by_code`` in the box
    (an equirectangular projection squashed at the mean latitude: fine at ICB scale)."""
    points = [point for rings in rings_by_code.values() for ring in rings for point in ring]
    lon_min, lon_max = min(p[0] for p in points), max(p[0] for p in points)
    lat_min, lat_max = min(p[1] for p in points), max(p[1] for p in points)
    squash = math.cos(math.radians((lat_min + lat_max) / 2))
    span_x, span_y = (lon_max - lon_min) * squash or 1, (lat_max - lat_min) or 1
    scale = min(MAP_WIDTH / span_x, MAP_HEIGHT / span_y)

    def project(rings: Rings) -> Rings:
        return [
            [((x - lon_min) * squash * scale, (lat_max - y) * scale) for x, y in ring]
            for ring in rings
        ]

    return project


def real_shapes(
    codes: set[str], boundaries: Path, lad_codes: set[str] = frozenset(), lads: Path | None = None
) -> tuple[dict[str, Rings], dict[str, Rings]] | None:
    """Rings of the real MSOA boundaries for ``codes`` projected into map units, and of the
    local authorities ``lad_codes`` (from ``lads``, in the same projection; empty when that
    file lacks any), or None when the MSOA file lacks any neighbourhood."""
    if not boundaries.exists():
        return None
    rings_by_code = _read_rings(boundaries, codes)
    if set(rings_by_code) != codes:
        return None
    project = _projector(rings_by_code)
    outlines: dict[str, Rings] = {}
    if lads is not None and lads.exists() and lad_codes:
        lad_rings = _read_rings(lads, set(lad_codes), "LAD24CD")
        if set(lad_rings) == set(lad_codes):
            outlines = {code: project(rings) for code, rings in lad_rings.items()}
    return {code: project(rings) for code, rings in rings_by_code.items()}, outlines


def _svg_path(rings: Rings) -> str:
    return " ".join("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in ring) + " Z" for ring in rings)


def _box(rings: Rings) -> tuple[float, float, float, float]:
    xs = [x for ring in rings for x, _ in ring]
    ys = [y for ring in rings for _, y in ring]
    return min(xs), min(ys), max(xs), max(ys)


def la_shapes(
    neighbourhoods: pl.DataFrame, shapes: dict[str, Rings], outlines: dict[str, Rings]
) -> pl.DataFrame:
    """One row per local authority for the map: its outline (the real boundary when there is
    one, else the box around its tiles) and where its name goes (the middle of its
    neighbourhoods), so a council member can find their area."""
    rows = []
    if "lad_name" not in neighbourhoods.columns:
        neighbourhoods = neighbourhoods.with_columns(lad_name=pl.col("lad_code"))
    for (lad_code, lad_name), group in neighbourhoods.group_by(
        ["lad_code", "lad_name"], maintain_order=True
    ):
        rings = [ring for code in group["neighbourhood_code"] for ring in shapes.get(code, [])]
        if not rings:
            continue
        left, top, right, bottom = _box(rings)
        if lad_code in outlines:
            outline = outlines[lad_code]
        else:
            pad = 3.0
            outline = [
                [
                    (left - pad, top - pad),
                    (right + pad, top - pad),
                    (right + pad, bottom + pad),
                    (left - pad, bottom + pad),
                ]
            ]
        rows.append(
            {
                "lad_code": lad_code,
                "lad_name": lad_name,
                "svg_path": _svg_path(outline),
                "label_x": round((left + right) / 2, 1),
                "label_y": round((top + bottom) / 2, 1),
            }
        )
    schema = {
        "lad_code": pl.String,
        "lad_name": pl.String,
        "svg_path": pl.String,
        "label_x": pl.Float64,
        "label_y": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema).sort("lad_code")


def neighbourhood_shapes(
    neighbourhoods: pl.DataFrame, reference_dir: Path = REFERENCE_DIR
) -> tuple[pl.DataFrame, dict[str, Any], pl.DataFrame]:
    """The map's shapes as a table (code, SVG path, where the shape came from), the same
    shapes as GeoJSON (map units for generated tiles, WGS84 for real boundaries), and the
    local authorities' outlines and label positions (``la_shapes``)."""
    codes = set(neighbourhoods["neighbourhood_code"].to_list())
    lad_codes = set(neighbourhoods["lad_code"].drop_nulls().to_list())
    real = None
    if codes and not any(_is_fictional(code) for code in codes):
        real = real_shapes(
            codes, reference_dir / MSOA_BOUNDARIES, lad_codes, reference_dir / LAD_BOUNDARIES
        )
    shapes, outlines = real if real is not None else (generated_shapes(neighbourhoods), {})
    origin = "ONS MSOA 2021 boundaries" if real is not None else "generated tiles (not a map)"
    if outlines:
        origin += ", council boundaries ONS LAD 2024"
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
    return table, geojson, la_shapes(neighbourhoods, shapes, outlines)


# ---------------------------------------------------------------------- the tables


# The marts every build of the report needs (the "This week" and gap pages).
REQUIRED_MARTS = (
    "fct_neighbourhood_gap",
    "fct_neighbourhood_need_capacity_monthly",
    "fct_neighbourhood_need_capacity_weekly",
    "fct_neighbourhood_need_capacity_index",
    "fct_area_deprivation",  # every council page opens with its deprivation
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
            sum(funding_gbp)::double as funding_gbp,
            -- funding at risk for the ICB: the neighbourhoods' shares weighted by their
            -- current funding (the mart's own formula, summed before dividing)
            sum(current_funding_per_day_gbp)::double as current_funding_per_day_gbp,
            sum(current_funding_per_day_gbp * funding_at_risk_6m_pct / 100)::double
                as funding_ending_6m_per_day_gbp,
            sum(current_funding_per_day_gbp * funding_at_risk_12m_pct / 100)::double
                as funding_ending_12m_per_day_gbp,
            null::double as funding_at_risk_6m_pct,
            null::double as funding_at_risk_12m_pct
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
    # the ICB's and each council's deprivation, as the IoD area summaries compute it
    "area_deprivation": (
        "fct_area_deprivation",
        """
        select
            area_type, area_code, area_name, lsoa_count, population_total,
            ranked_among_count, imd_average_score, imd_average_score_rank,
            100 * imd_proportion_lsoas_most_deprived_10pct
                as imd_proportion_lsoas_most_deprived_10pct,
            imd_proportion_lsoas_most_deprived_10pct_rank
        from marts.fct_area_deprivation
        where (area_type = 'icb' and {this_icb})
            or (area_type = 'local_authority'
                and area_code in (select lad_code from marts.dim_neighbourhoods))
        order by area_type, area_code
        """,
    ),
    # what each funder's and directory's data lacks (marts.fct_publisher_data_quality): counts
    # of grants and services, written beside the report as a file publishers can act on
    "publisher_data_quality": (
        "fct_publisher_data_quality",
        """
        select
            publisher_kind, publisher_id, publisher_name, check_code, check_title,
            check_description, how_to_fix, records_count, records_failing_count,
            records_failing_pct, as_of_date
        from marts.fct_publisher_data_quality
        order by publisher_kind desc, publisher_id, check_code
        """,
    ),
    # each community group over the last four complete quarters (a year): referrals it took,
    # referred people who came, and the money it received; the flags recomputed for the year
    "community_groups": (
        "fct_community_group_quarters",
        """
        with quarters as (
            select distinct quarter_start_date
            from marts.fct_community_group_quarters
            where is_complete_quarter
            order by quarter_start_date desc
            limit 4
        ),
        year as (
            select
                groups.provider_id,
                any_value(groups.provider_name) as provider_name,
                any_value(groups.provider_type) as provider_type,
                any_value(groups.neighbourhood_code) as neighbourhood_code,
                bool_or(groups.is_volunteer_led) as is_volunteer_led,
                min(groups.quarter_start_date) as period_start_date,
                max(groups.quarter_start_date + interval 3 month - interval 1 day)::date
                    as period_end_date,
                sum(groups.onward_referrals_received_count)::bigint
                    as onward_referrals_received_count,
                sum(groups.referred_people_attended_count)::bigint
                    as referred_people_attended_count,
                sum(groups.funding_gbp)::double as funding_gbp,
                sum(groups.funding_social_prescribing_contract_gbp)::double
                    as funding_social_prescribing_contract_gbp
            from marts.fct_community_group_quarters as groups
            inner join quarters using (quarter_start_date)
            group by groups.provider_id
        )
        select
            year.provider_id,
            year.provider_name,
            year.provider_type,
            year.is_volunteer_led,
            year.neighbourhood_code,
            neighbourhoods.neighbourhood_name,
            neighbourhoods.lad_code,
            neighbourhoods.lad_name,
            year.period_start_date,
            year.period_end_date,
            year.onward_referrals_received_count,
            year.referred_people_attended_count,
            year.funding_gbp,
            year.funding_social_prescribing_contract_gbp,
            null::double as funding_per_referred_attendee_gbp,
            year.onward_referrals_received_count > 0
                and year.funding_social_prescribing_contract_gbp = 0
                as is_taking_referrals_without_payment,
            year.onward_referrals_received_count > 0 and year.funding_gbp = 0
                as is_taking_referrals_without_any_funding
        from year
        left join marts.dim_neighbourhoods as neighbourhoods
            on neighbourhoods.neighbourhood_code = year.neighbourhood_code
        order by year.provider_id
        """,
    ),
    # places a week whose every grant ends within 3, 6 or 12 months, per neighbourhood
    "funding_cliff": (
        "fct_funding_cliff",
        """
        select
            neighbourhoods.neighbourhood_code,
            neighbourhoods.neighbourhood_name,
            neighbourhoods.lad_code,
            neighbourhoods.lad_name,
            max(cliff.as_of_date) as as_of_date,
            coalesce(sum(cliff.weekly_places), 0)::double as weekly_places,
            coalesce(sum(cliff.weekly_places_losing_all_funding_3m), 0)::double
                as weekly_places_losing_all_funding_3m,
            coalesce(sum(cliff.weekly_places_losing_all_funding_6m), 0)::double
                as weekly_places_losing_all_funding_6m,
            coalesce(sum(cliff.weekly_places_losing_all_funding_12m), 0)::double
                as weekly_places_losing_all_funding_12m,
            coalesce(sum(cliff.current_funding_per_year_gbp), 0)::double
                as current_funding_per_year_gbp,
            coalesce(sum(cliff.funding_ending_3m_per_year_gbp), 0)::double
                as funding_ending_3m_per_year_gbp,
            coalesce(sum(cliff.funding_ending_6m_per_year_gbp), 0)::double
                as funding_ending_6m_per_year_gbp,
            coalesce(sum(cliff.funding_ending_12m_per_year_gbp), 0)::double
                as funding_ending_12m_per_year_gbp
        from marts.dim_neighbourhoods as neighbourhoods
        left join marts.fct_funding_cliff as cliff
            on cliff.neighbourhood_code = neighbourhoods.neighbourhood_code
        group by all
        order by neighbourhoods.neighbourhood_code
        """,
    ),
}


PRESSURE_MART = "fct_activity_pressure_weekly"
_PRESSURE_WINDOW_WEEKS = 12  # weeks_over_capacity_12w: the latest week and the 11 before


def _pressure_as_extracted(
    con: duckdb.DuckDBPyConnection, where: str, parameters: list[Any]
) -> pl.DataFrame:
    """The activity pressure rows ``where`` holds, with every local authority's total rows,
    protected per local authority exactly as the extracts protect them."""
    from orchestration.extracts import activity_pressure_sql, with_la_totals

    las = dict(
        con.execute(
            "select lad_code, any_value(lad_name) from marts.dim_neighbourhoods group by lad_code"
        ).fetchall()
    )
    weekly = _frame(con, activity_pressure_sql(PRESSURE_MART, where), [list(las), *parameters])
    protected = [
        with_la_totals(frame, PRESSURE_MART, code, las[code], _disclosure().DEFAULT_RULE)
        for (code,), frame in weekly.partition_by(
            "_la", as_dict=True, include_key=False, maintain_order=True
        ).items()
    ]
    return pl.concat(protected, how="diagonal_relaxed")


# icb_weekly's counts that are sums of a count every local authority's extract shows per
# week (its activity pressure total row): the ICB week's onward referrals are all of them,
# and those refused for want of capacity some of the unmet ones (refused <= unmet). Where an
# extract hides the total, the ICB figure less the other totals would give it (with the
# shown zeros, to the person): such a week's ICB figure is hidden too.
ICB_WEEKLY_FROM_EXTRACTS = {
    "onward_referrals_count": "onward_referrals_count",
    "onward_referrals_refused_no_capacity_count": "onward_referrals_unmet_count",
}


def weeks_extracts_hide(pressure: pl.DataFrame) -> pl.DataFrame:
    """Per week, for each of ICB_WEEKLY_FROM_EXTRACTS's counts (``_hidden_<count>``): does
    some local authority's extract hide its total of the count it adds up? ``pressure``:
    the activity pressure rows as the extracts protect them (with their total rows)."""
    from orchestration.disclosure import SUPPRESSED_SUFFIX

    return (
        pressure.filter(pl.col("is_total"))
        .group_by("week_start_date")
        .agg(
            pl.col(source + SUPPRESSED_SUFFIX).any().alias(f"_hidden_{name}")
            for name, source in ICB_WEEKLY_FROM_EXTRACTS.items()
        )
    )


def hide_weeks_extracts_hide(icb_weekly: pl.DataFrame, hidden: pl.DataFrame | None) -> pl.DataFrame:
    """``icb_weekly`` (protected) with ICB_WEEKLY_FROM_EXTRACTS's counts hidden in the weeks
    ``hidden`` (weeks_extracts_hide) says an extract hides a total they add up."""
    from orchestration.disclosure import SUPPRESSED_SUFFIX

    if hidden is None:
        return icb_weekly
    joined = icb_weekly.join(hidden, on="week_start_date", how="left")
    d = _disclosure()
    for name in ICB_WEEKLY_FROM_EXTRACTS:
        if name not in joined.columns:
            continue
        hide = pl.col(f"_hidden_{name}").fill_null(False)
        joined = joined.with_columns(
            pl.when(hide).then(None).otherwise(pl.col(name)).alias(name),
            (pl.col(name + SUPPRESSED_SUFFIX) | hide).alias(name + SUPPRESSED_SUFFIX),
        )
        # a rate over (or of) the count would give it back: hidden with it
        for rate_name, column in d.TABLES["icb_weekly"].columns.items():
            if column.kind == d.Kind.RATE and rate_name in joined.columns:
                if name == column.denominator or name in column.numerator:
                    joined = joined.with_columns(
                        pl.when(hide).then(None).otherwise(pl.col(rate_name)).alias(rate_name)
                    )
                    flag = rate_name + SUPPRESSED_SUFFIX
                    if flag in joined.columns:
                        joined = joined.with_columns((pl.col(flag) | hide).alias(flag))
    return joined.select(icb_weekly.columns)


def activity_pressure_rows(con: duckdb.DuckDBPyConnection) -> pl.DataFrame | None:
    """Activities persistently over capacity, or taking referrals while their provider has
    no funding, in the latest complete week, as the local authority extracts show them.

    The weekly rows of the window the 12-week columns are computed over are protected per
    local authority exactly as the extracts protect them (``with_la_totals``, same order),
    so a flag the extracts hide (it comes from a hidden count) is hidden here too. An
    activity whose flag is hidden is listed (flag null), so one not listed is one whose flag
    is shown false. The 12-week onward referrals are a count, protected in ``protect_table``.
    """
    from orchestration.disclosure import SUPPRESSED_SUFFIX

    if not _has_table(con, "marts", PRESSURE_MART):
        return None
    (latest,) = con.execute(
        f"select max(week_start_date) from marts.{PRESSURE_MART} where is_complete_week"
    ).fetchone() or (None,)
    protected = _pressure_as_extracted(
        con,
        f"mart.week_start_date between ?::date - interval "
        f"{(_PRESSURE_WINDOW_WEEKS - 1) * 7} day and ?::date",
        [latest, latest],
    )
    flag = "is_persistently_over_capacity"
    listed = (
        protected.filter(
            ~pl.col("is_total"),
            pl.col("week_start_date") == latest,
            pl.col(flag).fill_null(True) | pl.col("is_referred_without_funding"),
        ).select(
            "activity_id",
            "provider_id",
            "category",
            "neighbourhood_code",
            "week_start_date",
            "weekly_places",
            "weeks_with_sessions_12w",
            "weeks_over_capacity_12w",
            "weeks_over_capacity_12w" + SUPPRESSED_SUFFIX,
            flag,
            flag + SUPPRESSED_SUFFIX,
            "is_referred_without_funding",
        )  # fmt: skip
    )
    names = _frame(
        con,
        f"""
        select
            pressure.activity_id,
            pressure.onward_referrals_12w_count,
            activities.activity_name,
            providers.provider_name,
            neighbourhoods.neighbourhood_name,
            neighbourhoods.lad_name
        from marts.{PRESSURE_MART} as pressure
        left join marts.dim_activities as activities using (activity_id)
        left join marts.dim_providers as providers
            on providers.provider_id = pressure.provider_id
        left join marts.dim_neighbourhoods as neighbourhoods
            on neighbourhoods.neighbourhood_code = pressure.neighbourhood_code
        where pressure.week_start_date = ?
        """,
        [latest],
    )
    return listed.join(names, on="activity_id", how="left").sort("activity_id")


def _annualise_equity(frame: pl.DataFrame, *, back: bool = False) -> pl.DataFrame:
    """fct_equity's rate is per 1,000 per YEAR over months_count months: disclosure control
    recomputes it per 1,000 over the period, so scale by 12 / months_count afterwards."""
    if not back or "months_count" not in frame.columns:
        return frame
    return frame.with_columns(
        (pl.col("referrals_per_1000_per_year") * 12 / pl.col("months_count")).round(2)
    )


# ---------------------------------------------------------------------- the build's tests

BUILD_TESTS_COLUMNS = {
    "check_source": pl.String,
    "test_name": pl.String,
    "status": pl.String,
    "severity": pl.String,
}
_DBT_STATUSES = ("pass", "warn", "fail", "error", "skipped")


def dbt_run_results(run_id: str, target_dir: Path = DBT_TARGET_DIR) -> Path | None:
    """run_results.json of the dbt build in Dagster run ``run_id`` (the one that published),
    or None when it is not on this machine. Never another run's: a later build that failed
    wrote its own folder, and is not the published version."""
    if not run_id or not target_dir.is_dir():
        return None
    found = [
        path / "run_results.json"
        for path in target_dir.glob(f"*-{run_id[:7]}-*")
        if (path / "run_results.json").exists()
        and json.loads((path / "run_results.json").read_text()).get("args", {}).get("which")
        == "build"
    ]
    return max(found, key=lambda path: path.stat().st_mtime) if found else None


def dbt_test_rows(run_results: Path) -> list[dict[str, str]]:
    """One row per dbt data test and unit test in ``run_results``: name and outcome."""
    rows = []
    for result in json.loads(run_results.read_text()).get("results", []):
        unique_id = str(result.get("unique_id", ""))
        kind = unique_id.split(".", 1)[0]
        if kind not in ("test", "unit_test"):
            continue
        status = str(result.get("status", "")).lower()
        status = status if status in _DBT_STATUSES else "error"
        name = unique_id.split(".")[2] if kind == "test" else ".".join(unique_id.split(".")[2:])
        rows.append(
            {
                "check_source": "dbt unit test" if kind == "unit_test" else "dbt test",
                "test_name": name,
                "status": status,
                "severity": "warn" if status == "warn" else "error",
            }
        )
    return rows


def published_run_id(published: Path) -> str:
    """The Dagster run that built the published warehouse ('' when it does not say)."""
    if not published.exists():
        return ""
    con = duckdb.connect(str(published), read_only=True)
    try:
        if not _has_table(con, "meta", "build_info"):
            return ""
        rows = con.execute("select value from meta.build_info where key = 'run_id'").fetchall()
    finally:
        con.close()
    return str(json.loads(rows[0][0])) if rows else ""


def build_test_rows(
    run_id: str,
    asset_checks: Sequence[dict[str, str]] = (),
    target_dir: Path = DBT_TARGET_DIR,
) -> tuple[pl.DataFrame, str]:
    """The published build's test results (dbt tests from its run_results.json and the
    Dagster asset checks of its run that are not dbt tests) and where they came from."""
    results = dbt_run_results(run_id, target_dir)
    rows = dbt_test_rows(results) if results else []
    dbt_names = {row["test_name"] for row in rows}
    # dagster-dbt reports each dbt test as an asset check too ("<test> on <asset>"): once
    rows += [row for row in asset_checks if row["test_name"].partition(" on ")[0] not in dbt_names]
    origin = (
        f"dbt run_results.json of Dagster run {run_id}"
        if results
        else f"not found: no dbt results of Dagster run {run_id or '(unknown)'} on this machine"
    )
    return pl.DataFrame(rows, schema=BUILD_TESTS_COLUMNS), origin


@dataclass
class ReportData:
    path: Path
    geojson: Path
    tables: dict[str, int] = field(default_factory=dict)  # rows per table
    # what publishers' data lacks, as CSV (None when the warehouse has no such mart)
    publisher_quality: Path | None = None


def _frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(sql, params=params or []).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def _has_column(
    con: duckdb.DuckDBPyConnection, table: str, column: str, schema: str = "marts"
) -> bool:
    rows = con.execute(
        "select count(*) from information_schema.columns where table_schema = ? "
        "and table_name = ? and column_name = ? and table_catalog = current_database()",
        [schema, table, column],
    ).fetchall()
    return bool(rows[0][0])


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    rows = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ? "
        "and table_catalog = current_database()",
        [schema, table],
    ).fetchall()
    return bool(rows[0][0])


def scoped_connection(published: Path, icb_code: str | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only view of the published warehouse as one ICB's: the file itself when it holds
    one ICB; else, for ``icb_code``, an in-memory database whose ``marts``, ``audit`` and
    ``meta`` tables are views of the file keeping that ICB's neighbourhoods (tables with a
    neighbourhood_code) and PCNs (tables with a pcn_code; a PCN is the ICB's when one of its
    LSOAs is). A mart with neither is left out (fct_equity: its groups span every ICB), except
    ``UNSCOPED_MARTS``. Without ``icb_code`` a warehouse of several ICBs is refused."""
    con = duckdb.connect(str(published), read_only=True)
    try:
        icbs = (
            [
                code
                for (code,) in con.execute(
                    "select distinct icb_code from marts.dim_neighbourhoods order by icb_code"
                ).fetchall()
            ]
            if _has_column(con, "dim_neighbourhoods", "icb_code")
            else []
        )
        if icb_code is not None and icb_code not in icbs:
            raise ReportDataError(
                f"{published} has no neighbourhoods in ICB {icb_code}; it holds "
                f"{', '.join(icbs) or 'no ICB codes'}"
            )
        if len(icbs) <= 1:
            return con
        if icb_code is None:
            raise ReportDataError(
                f"{published} holds {len(icbs)} ICBs ({', '.join(icbs[:5])}"
                f"{', ...' if len(icbs) > 5 else ''}) and the report is one ICB's: choose it "
                f"with {ICB_ENV}=<code> (or --icb)"
            )
        columns: dict[tuple[str, str], set[str]] = {}
        for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database() and table_schema in ('marts', 'audit', "
            "'meta')"
        ).fetchall():
            columns.setdefault((schema, table), set()).add(column)
    except BaseException:
        con.close()
        raise
    con.close()
    scoped = duckdb.connect()
    try:
        path = str(published).replace("'", "''")
        scoped.execute(f"attach '{path}' as whole (read_only)")
        scoped.execute(
            "create table main.icb_neighbourhoods as select neighbourhood_code "
            "from whole.marts.dim_neighbourhoods where icb_code = ?",
            [icb_code],
        )
        scoped.execute(
            "create table main.icb_pcns as select distinct pcn_code from whole.marts.dim_lsoas "
            "where icb_code = ?"
            if ("marts", "dim_lsoas") in columns
            else "create table main.icb_pcns (pcn_code varchar)",
            [icb_code] if ("marts", "dim_lsoas") in columns else [],
        )
        left_out = []
        for schema in sorted({schema for schema, _ in columns}):
            scoped.execute(f'create schema "{schema}"')
        for (schema, table), names in sorted(columns.items()):
            source = f'whole."{schema}"."{table}"'
            if schema != "marts" or table in UNSCOPED_MARTS:
                where = ""
            elif "neighbourhood_code" in names:
                where = " where neighbourhood_code in (select * from main.icb_neighbourhoods)"
            elif "pcn_code" in names:
                where = " where pcn_code in (select * from main.icb_pcns)"
            else:
                left_out.append(table)
                continue
            scoped.execute(f'create view "{schema}"."{table}" as select * from {source}{where}')
    except BaseException:
        scoped.close()
        raise
    log.info(
        "report: ICB %s of the %d in %s (not per ICB, left out: %s)",
        icb_code,
        len(icbs),
        published,
        ", ".join(left_out) or "none",
    )
    return scoped


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
    published: Path,
    extracts_root: Path | None = None,
    *,
    asset_checks: Sequence[dict[str, str]] = (),
    dbt_target_dir: Path = DBT_TARGET_DIR,
    icb_code: str | None = None,
) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    """Every table the report shows, protected, read from the published file."""
    if not published.exists():
        raise ReportDataError(f"{published} does not exist; build and publish the warehouse first")
    con = scoped_connection(published, icb_code)
    try:
        for mart in REQUIRED_MARTS:
            if not _has_table(con, "marts", mart):
                raise ReportDataError(f"{published} has no marts.{mart}")
        gap = _frame(con, "select * from marts.fct_neighbourhood_gap")
        # the index's other components over the same 12 months (the gap mart is its latest
        # month): the counts behind the share of onward referrals unmet, link worker FTE
        extra = [
            name
            for name in (
                "onward_referrals_12m_count",
                "onward_referrals_unmet_12m_count",
                "link_worker_fte_per_10k",
            )
            if _has_column(con, "fct_neighbourhood_need_capacity_index", name)
            and name not in gap.columns
        ]
        if extra and _has_column(con, "fct_neighbourhood_need_capacity_index", "is_latest_month"):
            components = _frame(
                con,
                f"select neighbourhood_code, {', '.join(extra)} "
                "from marts.fct_neighbourhood_need_capacity_index where is_latest_month",
            )
            gap = gap.join(components, on="neighbourhood_code", how="left")
            if "onward_referrals_12m_count" in gap.columns:
                gap = gap.with_columns(onward_referrals_unmet_pct_12m=pl.lit(None, pl.Float64))
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
        has_loads = _has_table(con, "audit", "loads")
        # the latest load of each source, and of each part of a source loaded side by side
        # (each funder's grants, each directory's records: audit.loads.replace_scope)
        scoped = has_loads and _has_column(con, "loads", "replace_scope", schema="audit")
        part = ", replace_scope" if scoped else ""
        loads_sql = (
            "select source, file_name, loaded_at, periods, rows_read as rows_read_count, "
            "rows_loaded as rows_loaded_count, rows_quarantined as rows_quarantined_count "
            "from {} where status = 'loaded' "
            f"qualify row_number() over (partition by source{part} order by loaded_at desc) = 1 "
            "order by source, file_name"
        )
        no_loads = (
            "(select ''::varchar as source, ''::varchar as file_name, null::timestamp as "
            "loaded_at, ''::varchar as periods, 0::bigint as rows_read, 0::bigint as "
            "rows_loaded, 0::bigint as rows_quarantined, ''::varchar as status where false)"
        )
        loads = _frame(con, loads_sql.format("audit.loads" if has_loads else no_loads))
        # the mart ranks every ICB when the deprivation source covers England: keep this one
        this_icb = (
            "area_code in (select icb_code from marts.dim_neighbourhoods)"
            if _has_column(con, "dim_neighbourhoods", "icb_code")
            else "true"
        )
        optional = {
            name: _frame(con, sql.replace("{this_icb}", this_icb))
            for name, (mart, sql) in OPTIONAL_TABLES.items()
            if _has_table(con, "marts", mart)
        }
        pressure = activity_pressure_rows(con)
        weeks_hidden = (
            weeks_extracts_hide(_pressure_as_extracted(con, "true", []))
            if "icb_weekly" in optional and pressure is not None
            else None
        )
        if pressure is not None:
            optional["activity_pressure"] = pressure
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
    tests, tests_origin = build_test_rows(str(info.get("run_id", "")), asset_checks, dbt_target_dir)
    tables["build_tests"] = protect_table(tests, "build_tests")
    for name, frame in optional.items():
        if name == "equity":
            frame = _annualise_equity(frame)
        tables[name] = protect_table(frame, name)
        if name == "icb_weekly":
            tables[name] = hide_weeks_extracts_hide(tables[name], weeks_hidden)
        if name == "equity":
            tables[name] = _annualise_equity(tables[name], back=True)
    # the Methods page always lists publishers' gaps: none when no such mart was published
    tables.setdefault("publisher_data_quality", pl.DataFrame(schema=PUBLISHER_QUALITY_SCHEMA))
    shapes, geojson, councils = neighbourhood_shapes(tables["neighbourhoods"])
    tables["neighbourhood_shapes"] = shapes
    tables["la_shapes"] = councils

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
            "published_run_id": [str(info.get("run_id", ""))],
            "tests_origin": [tests_origin],
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
    asset_checks: Sequence[dict[str, str]] = (),
    dbt_target_dir: Path = DBT_TARGET_DIR,
    write: Callable[[dict[str, pl.DataFrame], Path], dict[str, int]] = write_report_db,
    icb_code: str | None = None,
) -> ReportData:
    """Read the published warehouse beside ``build_db``, protect every table, and write
    ``report.duckdb`` and the map's GeoJSON beside it."""
    source = published or published_path(build_db)
    tables, extra = read_tables(
        source,
        extracts_root,
        asset_checks=asset_checks,
        dbt_target_dir=dbt_target_dir,
        icb_code=icb_code or os.environ.get(ICB_ENV) or None,
    )
    target = report_db_path(build_db)
    counts = write(tables, target)
    geojson = target.with_name(GEOJSON_NAME)
    _replace_with(geojson, lambda partial: partial.write_text(json.dumps(extra["geojson"])))
    quality = write_publisher_quality(tables.get("publisher_data_quality"), target)
    log.info("report data: %s (%s)", target, ", ".join(f"{k} {v}" for k, v in counts.items()))
    return ReportData(target, geojson, counts, quality)


def write_publisher_quality(frame: pl.DataFrame | None, report_db: Path) -> Path | None:
    """``publisher_data_quality.csv`` beside ``report_db``: what each funder's and directory's
    data lacks (the protected table, as the Methods page shows it), for the publisher; None,
    and any earlier file removed, when there is nothing to say (no such mart, no publisher)."""
    path = report_db.with_name(PUBLISHER_QUALITY_NAME)
    if frame is None or frame.is_empty():
        path.unlink(missing_ok=True)
        return None
    _replace_with(path, frame.write_csv)
    return path


def _replace_with(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` a partial file beside ``path``, then put it in ``path``'s place at once."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    write(partial)
    os.replace(partial, path)
