"""Statistical disclosure control: the one place every outward product (local authority
extracts, the ICP report) makes its tables safe to leave the NHS.

The rule (``DisclosureRule``, defaults the NHS convention):

* **primary suppression**: a count of people from 1 to ``threshold`` (7) is not shown;
  0 stays 0 (a true zero discloses nobody, and NHS Digital, OpenSAFELY and ONS all
  publish zeros);
* **rounding**: every other count is rounded to the nearest ``rounding_base`` (5), half up,
  and never to 0; totals are rounded from their true value, so rounded cells need not add
  up to the rounded total;
* **secondary suppression**: wherever published totals (a local authority total row, or
  parts that add up to a total column) would let a suppressed value be worked out, more
  cells are suppressed, the smallest first, until none can be (see ``secondary_suppress``);
* **rates** are recomputed from the published (rounded) numerator, and are suppressed with it;
* **derived figures** (a flag, a count of full sessions or of flagged weeks, declared
  ``derived``) are hidden wherever a count they come from is, in the row or its window;
* **bounds**: a count declared ``at_most`` a figure of its row (attendees, the places) is
  known by a reader to be within it, and secondary suppression takes that in;
* **text** that a spreadsheet could run as a formula gets a single quote before it;
* a suppressed cell is ``null`` with a companion ``<column>_is_suppressed`` flag in
  Parquet, and the text ``[c]`` in CSV and XLSX (``as_text``).

What each column is (a count of people, a rate and of what, money, a public figure) is
declared once, in ``TABLES`` below. A table not declared falls back to the naming
convention of the marts (``_count`` is a count, ``_gbp`` money, ...); any column neither
declared nor recognised never leaves (fail closed). ``python -m orchestration.disclosure``
writes the generated part of docs/disclosure.md from this module.
"""

import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import polars as pl

log = logging.getLogger(__name__)

TOTAL_FLAG = "is_total"
SUPPRESSED_SUFFIX = "_is_suppressed"


class DisclosureError(Exception):
    """A table could not be made safe; nothing of it may be published."""


class Kind(StrEnum):
    KEY = "key"  # identifies the row (codes)
    LABEL = "label"  # names
    PERIOD = "period"  # dates
    FLAG = "flag"  # booleans about the row, not about people
    COUNT = "count"  # a count of people or of their events: suppressed and rounded
    RATE = "rate"  # numerator / denominator x per, recomputed from published figures
    MEAN = "mean"  # a mean over the people in a count column: hidden with that count
    PUBLIC = "public"  # a figure already public or not about people (population, places)
    MONEY = "money"  # pounds to organisations: rounded to pence, never suppressed
    CONTEXT = "context"  # a public, non-additive descriptor (deprivation, funding at risk)
    # a figure computed from counts (a flag, a count of full sessions or of flagged weeks)
    # that, with a public figure, would give a count back: hidden wherever a count it comes
    # from is hidden, never summed into a total row
    DERIVED = "derived"


ADDITIVE = (Kind.COUNT, Kind.PUBLIC, Kind.MONEY)


@dataclass(frozen=True)
class Window:
    """A trailing window of rows: this row and the ``rows - 1`` before it within ``by``,
    ordered by ``order`` (a rolling 12 weeks, say)."""

    by: str
    order: str
    rows: int


@dataclass(frozen=True)
class Column:
    kind: Kind
    # RATE: columns added up over the denominator; DERIVED: the columns it is computed from
    numerator: tuple[str, ...] = ()
    denominator: str | None = None  # RATE; MEAN: the count of people it is a mean over
    per: float = 1.0  # RATE only: 1000 for per-1,000
    window: Window | None = None  # DERIVED: computed over a trailing window of rows
    # DERIVED: the table it was protected in before (its hidden cells arrive hidden)
    upstream: str | None = None
    # COUNT: a shown figure of the same row it never exceeds (attendees and the places
    # offered): a reader knows a hidden count is at most that; secondary suppression takes
    # it in
    at_most: str | None = None


@dataclass(frozen=True)
class Table:
    columns: dict[str, Column]
    # Parts that add up exactly to a total within each row: (total column, part columns).
    breakdowns: tuple[tuple[str, tuple[str, ...]], ...] = ()


def rate(numerator: str | tuple[str, ...], denominator: str, per: float = 1.0) -> Column:
    """A rate column: numerator (one column, or several added up) / denominator x per."""
    parts = (numerator,) if isinstance(numerator, str) else numerator
    return Column(Kind.RATE, parts, denominator, per)


def derived(
    sources: str | tuple[str, ...] = (),
    window: Window | None = None,
    *,
    upstream: str | None = None,
) -> Column:
    """A column computed from ``sources`` (counts or other derived columns of the table, in
    the same row or, with ``window``, in the window's rows): hidden wherever one of them is.
    With ``upstream``, a column taken from that table already protected: hidden where it was."""
    parts = (sources,) if isinstance(sources, str) else sources
    return Column(Kind.DERIVED, parts, window=window, upstream=upstream)


TWELVE_WEEKS = Window("activity_id", "week_start_date", 12)


_NEEDS = (
    "loneliness_isolation", "mental_wellbeing", "financial_debt", "housing",
    "physical_activity", "long_term_condition", "carer_support", "food_insecurity", "other",
)  # fmt: skip
_SOURCES = (
    "gp", "other_health_professional", "mental_health_service", "local_authority", "vcse",
    "self", "family_or_friend", "other",
)  # fmt: skip
NEED_COLUMNS = tuple(f"referrals_need_{need}_count" for need in _NEEDS)
SOURCE_COLUMNS = tuple(f"referrals_source_{source}_count" for source in _SOURCES)


_NEIGHBOURHOOD_ID = {
    "neighbourhood_code": Column(Kind.KEY),
    "neighbourhood_name": Column(Kind.LABEL),
    "lad_code": Column(Kind.KEY),
    "lad_name": Column(Kind.LABEL),
}

# The one declaration of what every published column is.
TABLES: dict[str, Table] = {
    "dim_neighbourhoods": Table(
        {
            **_NEIGHBOURHOOD_ID,
            "neighbourhood_level": Column(Kind.LABEL),
            "icb_code": Column(Kind.KEY),
            "icb_name": Column(Kind.LABEL),
            "population_total": Column(Kind.PUBLIC),  # ONS mid-year estimates
            "lsoa_count": Column(Kind.PUBLIC),
            "lsoas_with_imd_count": Column(Kind.PUBLIC),
            "imd_score_pop_weighted": Column(Kind.CONTEXT),
            "share_lsoas_most_deprived_decile_pct": Column(Kind.CONTEXT),
            "population_core20_pct": Column(Kind.CONTEXT),
            "is_core20": Column(Kind.FLAG),
        }
    ),
    "fct_neighbourhood_need_capacity_monthly": Table(
        {
            **_NEIGHBOURHOOD_ID,
            "month_start_date": Column(Kind.PERIOD),
            "is_complete_month": Column(Kind.FLAG),
            "population_total": Column(Kind.PUBLIC),
            "imd_score_pop_weighted": Column(Kind.CONTEXT),
            "share_lsoas_most_deprived_decile_pct": Column(Kind.CONTEXT),
            "referrals_count": Column(Kind.COUNT),
            "referrals_per_1000": rate("referrals_count", "population_total", 1000),
            **{name: Column(Kind.COUNT) for name in NEED_COLUMNS + SOURCE_COLUMNS},
            "onward_referrals_count": Column(Kind.COUNT),
            # parts of onward_referrals_count whose complement is not published: no equation
            "onward_referrals_refused_no_capacity_count": Column(Kind.COUNT),
            "onward_referrals_waitlisted_count": Column(Kind.COUNT),
            "onward_referrals_unmet_pct": rate(
                ("onward_referrals_refused_no_capacity_count", "onward_referrals_waitlisted_count"),
                "onward_referrals_count",
                100,
            ),
            "onward_referrals_attended_count": Column(Kind.COUNT),
            "onward_referral_conversion_pct": rate(
                "onward_referrals_attended_count", "onward_referrals_count", 100
            ),
            "first_visits_supported_count": Column(Kind.COUNT),
            "supported_first_visit_pct": rate(
                "first_visits_supported_count", "onward_referrals_attended_count", 100
            ),
            "activities_active_count": Column(Kind.PUBLIC),  # advertised groups, not people
            "weekly_places": Column(Kind.PUBLIC),
            "weekly_places_per_1000": rate("weekly_places", "population_total", 1000),
            "session_places_count": Column(Kind.PUBLIC),  # places offered, not people
            "session_attendees_count": Column(Kind.COUNT, at_most="session_places_count"),
            "session_referred_attendees_count": Column(Kind.COUNT),
            "utilisation_pct": rate("session_attendees_count", "session_places_count", 100),
            "funding_gbp": Column(Kind.MONEY),
            "funding_per_head_gbp": rate("funding_gbp", "population_total"),
            "funding_core_gbp": Column(Kind.MONEY),
            "funding_core_share_pct": rate("funding_core_gbp", "funding_gbp", 100),
            "current_funding_per_day_gbp": Column(Kind.MONEY),
            # grants to organisations (public 360Giving data), not people
            "funding_at_risk_6m_pct": Column(Kind.CONTEXT),
            "funding_at_risk_12m_pct": Column(Kind.CONTEXT),
            "link_worker_fte": Column(Kind.PUBLIC),  # workforce capacity, not patients
            "link_worker_fte_per_10k": rate("link_worker_fte", "population_total", 10_000),
            "referrals_per_fte": rate("referrals_count", "link_worker_fte"),
            "wellbeing_change_recorded_count": Column(Kind.COUNT),
            "wellbeing_change_mean_swemwbs": Column(
                Kind.MEAN, denominator="wellbeing_change_recorded_count"
            ),
        },
        # every referral has exactly one primary need and one source
        breakdowns=(("referrals_count", NEED_COLUMNS), ("referrals_count", SOURCE_COLUMNS)),
    ),
    "fct_activity_pressure_weekly": Table(
        {
            "neighbourhood_code": Column(Kind.KEY),
            "activity_id": Column(Kind.KEY),
            "provider_id": Column(Kind.KEY),
            "category": Column(Kind.LABEL),
            "week_start_date": Column(Kind.PERIOD),
            "is_complete_week": Column(Kind.FLAG),
            "weekly_places": Column(Kind.PUBLIC),
            # sessions and places are the offer, not people
            "sessions_count": Column(Kind.PUBLIC),
            # every session full means attendees >= places (nearly always = places), none
            # full means attendees <= places - sessions: hidden with the attendees
            "sessions_full_count": derived("attendees_count"),
            "places_count": Column(Kind.PUBLIC),
            "attendees_count": Column(Kind.COUNT, at_most="places_count"),
            "referred_attendees_count": Column(Kind.COUNT),
            "utilisation_pct": rate("attendees_count", "places_count", 100),
            "onward_referrals_count": Column(Kind.COUNT),
            "onward_referrals_unmet_count": Column(Kind.COUNT),
            "referred_arrivals_per_100_places": rate(
                "referred_attendees_count", "places_count", 100
            ),
            "provider_funding_per_day_gbp": Column(Kind.MONEY),
            "provider_social_prescribing_funding_per_day_gbp": Column(Kind.MONEY),
            # utilisation >= 100% (attendees >= places) or an unmet onward referral; not
            # over capacity: attendees < places and none unmet
            "is_over_capacity": derived(("attendees_count", "onward_referrals_unmet_count")),
            "weeks_with_sessions_12w": Column(Kind.PUBLIC),
            # the weeks flagged over capacity among the activity's last 12: hidden when any
            # of the 12 flags is (else differences of consecutive weeks give the flag back)
            "weeks_over_capacity_12w": derived("is_over_capacity", TWELVE_WEEKS),
            "is_persistently_over_capacity": derived("weeks_over_capacity_12w"),
            # whether the 12-week sum of onward referrals is 0 (a zero is shown anyway) while
            # the provider has no funding: says no more than the weekly counts do
            "is_referred_without_funding": Column(Kind.FLAG),
            # not onward_referrals_12w_count: a rolling sum of onward_referrals_count, so
            # differences of consecutive weeks would give hidden weekly counts back
        }
    ),
}

# The ICP report's own tables (orchestration/report_data.py): rows it reads from the marts,
# reshaped for a page. Declared here, beside the marts', so every column leaving the ICB is
# declared in one place.
_REPORT_NEIGHBOURHOOD = {**_NEIGHBOURHOOD_ID, "neighbourhood_level": Column(Kind.LABEL)}
TABLES.update(
    {
        "fct_neighbourhood_gap": Table(
            {
                **_REPORT_NEIGHBOURHOOD,
                "period_start_date": Column(Kind.PERIOD),
                "period_end_date": Column(Kind.PERIOD),
                "months_count": Column(Kind.PUBLIC),  # months in the window, not people
                "population_total": Column(Kind.PUBLIC),
                "imd_score_pop_weighted": Column(Kind.CONTEXT),
                "is_core20": Column(Kind.FLAG),
                "referrals_12m_count": Column(Kind.COUNT),
                "referrals_per_1000_12m": rate("referrals_12m_count", "population_total", 1000),
                "weekly_places": Column(Kind.PUBLIC),
                "weekly_places_per_1000": rate("weekly_places", "population_total", 1000),
                "funding_12m_gbp": Column(Kind.MONEY),
                "funding_per_head_12m_gbp": rate("funding_12m_gbp", "population_total"),
                # the index's other components (fct_neighbourhood_need_capacity_index)
                "onward_referrals_12m_count": Column(Kind.COUNT),
                "onward_referrals_unmet_12m_count": Column(Kind.COUNT),
                "onward_referrals_unmet_pct_12m": rate(
                    "onward_referrals_unmet_12m_count", "onward_referrals_12m_count", 100
                ),
                "link_worker_fte_per_10k": Column(Kind.PUBLIC),  # workforce, not patients
                # the index's flag (its rule is in docs/metrics.md): a yes/no per area
                "is_underfunded": Column(Kind.FLAG),
                # need_z, capacity_z, gap_score and gap_rank are recomputed from the
                # protected rates (recompute_gap_scores): the mart's exact ones are not read.
            }
        ),
        "icb_weekly": Table(
            {
                "week_start_date": Column(Kind.PERIOD),
                "is_complete_week": Column(Kind.FLAG),
                "population_total": Column(Kind.PUBLIC),
                "referrals_count": Column(Kind.COUNT),
                "onward_referrals_count": Column(Kind.COUNT),
                "onward_referrals_refused_no_capacity_count": Column(Kind.COUNT),
                "onward_referrals_attended_count": Column(Kind.COUNT),
                "onward_referral_conversion_pct": rate(
                    "onward_referrals_attended_count", "onward_referrals_count", 100
                ),
                "weekly_places": Column(Kind.PUBLIC),
                "weekly_places_per_1000": rate("weekly_places", "population_total", 1000),
                "funding_gbp": Column(Kind.MONEY),
                # grants to organisations (public 360Giving data): money, not people
                "current_funding_per_day_gbp": Column(Kind.MONEY),
                "funding_ending_6m_per_day_gbp": Column(Kind.MONEY),
                "funding_ending_12m_per_day_gbp": Column(Kind.MONEY),
                "funding_at_risk_6m_pct": rate(
                    "funding_ending_6m_per_day_gbp", "current_funding_per_day_gbp", 100
                ),
                "funding_at_risk_12m_pct": rate(
                    "funding_ending_12m_per_day_gbp", "current_funding_per_day_gbp", 100
                ),
            }
        ),
        "underfunded_changes": Table(
            {
                **_REPORT_NEIGHBOURHOOD,
                "month_start_date": Column(Kind.PERIOD),
                "previous_month_start_date": Column(Kind.PERIOD),
                "is_underfunded": Column(Kind.FLAG),
                "was_underfunded": Column(Kind.FLAG),
                "change_label": Column(Kind.LABEL),
            }
        ),
        "pcn_caseload": Table(
            {
                "pcn_code": Column(Kind.KEY),
                "pcn_name": Column(Kind.LABEL),
                "month_start_date": Column(Kind.PERIOD),
                "link_worker_fte": Column(Kind.PUBLIC),  # workforce, not patients
                "link_worker_fte_mean_12m": Column(Kind.PUBLIC),
                "open_caseload": Column(Kind.COUNT),
                "open_caseload_per_fte": rate("open_caseload", "link_worker_fte"),
                "referrals_count": Column(Kind.COUNT),
                "referrals_12m_count": Column(Kind.COUNT),
                "referrals_per_fte_12m": rate("referrals_12m_count", "link_worker_fte_mean_12m"),
                # referrals in 12 months per FTE over the safe level: with the public FTE a
                # bound on the count
                "is_over_safe_caseload": derived("referrals_12m_count"),
                "first_contact_within_14_days_count": Column(Kind.COUNT),
                "first_contact_within_14_days_pct": rate(
                    "first_contact_within_14_days_count", "referrals_count", 100
                ),
            }
        ),
        "equity": Table(
            {
                "equity_dimension": Column(Kind.KEY),
                "group_value": Column(Kind.LABEL),
                "period_start_date": Column(Kind.PERIOD),
                "period_end_date": Column(Kind.PERIOD),
                "months_count": Column(Kind.PUBLIC),
                "population_total": Column(Kind.PUBLIC),
                "referrals_count": Column(Kind.COUNT),
                # x 1,000 x 12 / months: the table holds 12 months unless fewer are loaded;
                # equity_rows rescales when it holds fewer
                "referrals_per_1000_per_year": rate("referrals_count", "population_total", 1000),
                "onward_referrals_count": Column(Kind.COUNT),
                "onward_referrals_attended_count": Column(Kind.COUNT),
                "onward_referral_conversion_pct": rate(
                    "onward_referrals_attended_count", "onward_referrals_count", 100
                ),
            }
        ),
        "activity_pressure": Table(
            {
                "activity_id": Column(Kind.KEY),
                "activity_name": Column(Kind.LABEL),
                "provider_name": Column(Kind.LABEL),
                "category": Column(Kind.LABEL),
                "neighbourhood_code": Column(Kind.KEY),
                "neighbourhood_name": Column(Kind.LABEL),
                "lad_name": Column(Kind.LABEL),
                "week_start_date": Column(Kind.PERIOD),
                "weekly_places": Column(Kind.PUBLIC),
                "weeks_with_sessions_12w": Column(Kind.PUBLIC),  # weeks, not people
                # rows of fct_activity_pressure_weekly as the extracts protect them (with the
                # same local authority totals), so the report hides what they hide
                "weeks_over_capacity_12w": derived(upstream="fct_activity_pressure_weekly"),
                "is_persistently_over_capacity": derived(upstream="fct_activity_pressure_weekly"),
                "is_referred_without_funding": Column(Kind.FLAG),
                "onward_referrals_12w_count": Column(Kind.COUNT),
            }
        ),
        "audit_loads": Table(
            {
                "source": Column(Kind.KEY),
                "file_name": Column(Kind.LABEL),
                "loaded_at": Column(Kind.PERIOD),
                "periods": Column(Kind.LABEL),
                # rows of whole files across the ICB; counted like people, to be safe
                "rows_read_count": Column(Kind.COUNT),
                "rows_loaded_count": Column(Kind.COUNT),
                "rows_quarantined_count": Column(Kind.COUNT),
            }
        ),
        # IoD area summaries: published statistics about places, not people
        "area_deprivation": Table(
            {
                "area_type": Column(Kind.KEY),
                "area_code": Column(Kind.KEY),
                "area_name": Column(Kind.LABEL),
                "lsoa_count": Column(Kind.PUBLIC),
                "population_total": Column(Kind.PUBLIC),
                "ranked_among_count": Column(Kind.PUBLIC),  # areas, not people
                "imd_average_score": Column(Kind.CONTEXT),
                "imd_average_score_rank": Column(Kind.CONTEXT),
                # x 100 here: a percentage of the area's LSOAs
                "imd_proportion_lsoas_most_deprived_10pct": Column(Kind.CONTEXT),
                "imd_proportion_lsoas_most_deprived_10pct_rank": Column(Kind.CONTEXT),
            }
        ),
        # a year of fct_community_group_quarters per group: the people it was sent are counts
        # (no total is published beside them, so no cell can be worked out from one)
        "community_groups": Table(
            {
                "provider_id": Column(Kind.KEY),
                "provider_name": Column(Kind.LABEL),
                "provider_type": Column(Kind.LABEL),
                "is_volunteer_led": Column(Kind.FLAG),
                **_NEIGHBOURHOOD_ID,
                "period_start_date": Column(Kind.PERIOD),
                "period_end_date": Column(Kind.PERIOD),
                "onward_referrals_received_count": Column(Kind.COUNT),
                "referred_people_attended_count": Column(Kind.COUNT),
                "funding_gbp": Column(Kind.MONEY),  # grants to organisations
                "funding_social_prescribing_contract_gbp": Column(Kind.MONEY),
                "funding_per_referred_attendee_gbp": rate(
                    "funding_gbp", "referred_people_attended_count"
                ),
                "is_taking_referrals_without_payment": Column(Kind.FLAG),
                "is_taking_referrals_without_any_funding": Column(Kind.FLAG),
            }
        ),
        # fct_funding_cliff summed per neighbourhood: places offered and grants, not people
        "funding_cliff": Table(
            {
                **_NEIGHBOURHOOD_ID,
                "as_of_date": Column(Kind.PERIOD),
                "weekly_places": Column(Kind.PUBLIC),
                "weekly_places_losing_all_funding_3m": Column(Kind.PUBLIC),
                "weekly_places_losing_all_funding_6m": Column(Kind.PUBLIC),
                "weekly_places_losing_all_funding_12m": Column(Kind.PUBLIC),
                "current_funding_per_year_gbp": Column(Kind.MONEY),
                "funding_ending_3m_per_year_gbp": Column(Kind.MONEY),
                "funding_ending_6m_per_year_gbp": Column(Kind.MONEY),
                "funding_ending_12m_per_year_gbp": Column(Kind.MONEY),
            }
        ),
        # what each publisher's data lacks: counts of grants and services (organisations'
        # records, not people), published whole so a funder or council can act on them
        "publisher_data_quality": Table(
            {
                "publisher_kind": Column(Kind.KEY),
                "publisher_id": Column(Kind.KEY),
                "publisher_name": Column(Kind.LABEL),
                "check_code": Column(Kind.KEY),
                "check_title": Column(Kind.LABEL),
                "check_description": Column(Kind.LABEL),
                "how_to_fix": Column(Kind.LABEL),
                "records_count": Column(Kind.PUBLIC),
                "records_failing_count": Column(Kind.PUBLIC),
                "records_failing_pct": Column(Kind.CONTEXT),
                "as_of_date": Column(Kind.PERIOD),
            }
        ),
        # the published build's test results: names and outcomes of checks, no figures (not
        # dbt's messages: they give the number of failing rows)
        "build_tests": Table(
            {
                "check_source": Column(Kind.LABEL),
                "test_name": Column(Kind.LABEL),
                "status": Column(Kind.LABEL),
                "severity": Column(Kind.LABEL),
            }
        ),
    }
)

# For tables not in TABLES: the marts' naming convention (STYLE.md). Rates are not
# recognised this way: without a declared numerator they cannot be recomputed, so they stay in.
_CONVENTION: tuple[tuple[str, Kind], ...] = (
    ("_count", Kind.COUNT),
    ("_gbp", Kind.MONEY),
    ("_code", Kind.KEY),
    ("_name", Kind.LABEL),
    ("_date", Kind.PERIOD),
)


def table_spec(table: str, columns: Iterable[str]) -> Table:
    """The declaration for ``table``, or one inferred from the naming convention."""
    if table in TABLES:
        return TABLES[table]
    inferred: dict[str, Column] = {}
    for name in columns:
        if name.startswith(("is_", "has_")):
            inferred[name] = Column(Kind.FLAG)
            continue
        for suffix, kind in _CONVENTION:
            if name.endswith(suffix):
                inferred[name] = Column(kind)
                break
    return Table(inferred)


@dataclass(frozen=True)
class DisclosureRule:
    threshold: int = 7  # counts 1..threshold are suppressed
    rounding_base: int = 5  # other counts rounded to the nearest; 1 turns rounding off
    marker: str = "[c]"  # how CSV and XLSX show a suppressed cell
    money_decimals: int = 2
    rate_decimals: int = 2

    def __post_init__(self) -> None:
        if self.threshold < 0 or self.rounding_base < 1:
            raise ValueError("threshold must be >= 0 and rounding_base >= 1")

    def round_count(self, value: int) -> int:
        """Nearest multiple of the base, halves up; a non-zero count never becomes 0."""
        if value == 0 or self.rounding_base == 1:
            return value
        rounded = (value + self.rounding_base // 2) // self.rounding_base * self.rounding_base
        return max(rounded, self.rounding_base)

    def is_primary(self, value: int | None) -> bool:
        return value is not None and 1 <= value <= self.threshold

    def describe(self) -> str:
        """The rule in one paragraph, for README sheets and report footers."""
        rounding = (
            f"Other counts are rounded to the nearest {self.rounding_base} (a count above "
            f"zero never shows as 0), and totals are rounded from their true value, so "
            f"rounded figures need not add up to the rounded total. "
            if self.rounding_base > 1
            else "Other counts are shown exactly. "
        )
        return (
            f"Counts of people from 1 to {self.threshold} are suppressed and shown as "
            f"{self.marker} (null in Parquet, with a companion <column>{SUPPRESSED_SUFFIX} "
            f"flag); 0 is shown as 0. {rounding}Where a total would let a suppressed count "
            f"be worked out, further counts are suppressed (secondary suppression, also shown "
            f"as {self.marker}). Rates are recomputed from the published counts and are "
            f"suppressed with them, and so are figures derived from a suppressed count (full "
            f"sessions, over-capacity flags and weeks). Population, places, activities and "
            f"funding are not counts of people and are shown as they are, except places "
            f"that alone would give a suppressed count away."
        )


DEFAULT_RULE = DisclosureRule()


# --------------------------------------------------------------------------- totals


def with_totals(
    frame: pl.DataFrame,
    table: str,
    *,
    by: Sequence[str],
    key: str,
    key_value: str,
    label: str | None = None,
    label_value: str | None = None,
    spec: Table | None = None,
) -> pl.DataFrame:
    """Append one total row per ``by`` group (true sums of the additive columns), flagged
    ``is_total``; rates are filled in later by ``protect``, other columns are null."""
    spec = spec or table_spec(table, frame.columns)
    additive = [
        name
        for name in frame.columns
        if name in spec.columns and spec.columns[name].kind in ADDITIVE
    ]
    fixed = {key: pl.lit(key_value)}
    if label is not None:
        fixed[label] = pl.lit(label_value)
    totals = frame.group_by(list(by), maintain_order=True).agg(
        [pl.col(name).sum() for name in additive]
        + [
            pl.when(pl.col(name).n_unique() == 1).then(pl.col(name).first()).alias(name)
            for name in frame.columns
            if _same_in_group(name, spec, by)
        ]
    )
    totals = totals.with_columns(**fixed)
    body = frame.with_columns(pl.lit(False).alias(TOTAL_FLAG))
    totals = totals.with_columns(pl.lit(True).alias(TOTAL_FLAG))
    return pl.concat([body, totals], how="diagonal_relaxed").select(body.columns)


def _same_in_group(name: str, spec: Table, by: Sequence[str]) -> bool:
    """Flags such as is_complete_month may describe the group (the month): a total row takes
    a flag when every row of its group has the same value."""
    column = spec.columns.get(name)
    return name not in by and column is not None and column.kind == Kind.FLAG


# --------------------------------------------------------------------------- protect


def protect(
    frame: pl.DataFrame,
    table: str,
    rule: DisclosureRule = DEFAULT_RULE,
    *,
    by: Sequence[str] = (),
    spec: Table | None = None,
) -> pl.DataFrame:
    """Make ``frame`` (rows of mart ``table``) safe to publish.

    If the frame has an ``is_total`` column, within each ``by`` group the non-total rows of
    every count column add up to the total row: published totals. Declared breakdowns add
    up within each row. Returns the declared columns only, counts suppressed (null) or
    rounded with ``<column>_is_suppressed`` flags, rates recomputed. ``spec`` overrides the
    declaration in ``TABLES`` (for a table made for one product, such as a report page).
    """
    spec = spec or table_spec(table, frame.columns)
    arrived_hidden = _arrived_hidden(frame, table, spec)
    dropped = [
        name
        for name in frame.columns
        if name not in spec.columns and name != TOTAL_FLAG and name not in arrived_hidden
    ]
    if dropped:
        log.info("%s: not published (not declared in orchestration.disclosure): %s", table, dropped)
    keep = [name for name in frame.columns if name in spec.columns or name == TOTAL_FLAG]
    frame = frame.select(keep)
    counts = [name for name in keep if spec.columns.get(name, Column(Kind.KEY)).kind == Kind.COUNT]

    # cells: the non-null counts, column by column, rows in order
    values: list[int] = []
    cell_of: dict[tuple[int, str], int] = {}
    ids: dict[str, np.ndarray] = {}  # per count column: each row's cell, -1 where null
    for name in counts:
        present = frame[name].is_not_null().to_numpy()
        rows = np.flatnonzero(present)
        first = len(values)
        ids[name] = np.full(frame.height, -1, dtype=np.int64)
        ids[name][rows] = np.arange(first, first + len(rows))
        cell_of.update(
            zip([(row, name) for row in rows.tolist()], ids[name][rows].tolist(), strict=True)
        )
        values.extend(frame[name].drop_nulls().cast(pl.Int64).to_list())
    equations = _equations(frame, spec, counts, cell_of, by)
    limits, bound_hidden = _limits(frame, spec, counts, cell_of, values, rule)
    if bound_hidden and TOTAL_FLAG in frame.columns:
        # the total row's figure, less the others shown, would give a hidden one back
        keyed = list(frame.select(by).iter_rows()) if by else [()] * frame.height
        totals = frame[TOTAL_FLAG].fill_null(False).to_list()
        for rows in bound_hidden.values():
            groups = {keyed[row] for row in rows}
            rows.update(i for i, key in enumerate(keyed) if totals[i] and key in groups)
    suppressed = np.fromiter(
        secondary_suppress(values, equations, rule, limits=limits), dtype=np.int64
    )

    out = {}
    for name in counts:
        flags = np.isin(ids[name], suppressed)  # a null (-1) is never suppressed
        rounded = _rounded(frame[name].cast(pl.Int64), rule)
        out[name] = rounded.scatter(np.flatnonzero(flags), None).alias(name)
        out[name + SUPPRESSED_SUFFIX] = pl.Series(name + SUPPRESSED_SUFFIX, flags, dtype=pl.Boolean)
    for name, rows in bound_hidden.items():
        flags = np.zeros(frame.height, dtype=bool)
        flags[sorted(rows)] = True
        out[name] = frame[name].scatter(np.flatnonzero(flags), None)
        out[name + SUPPRESSED_SUFFIX] = pl.Series(name + SUPPRESSED_SUFFIX, flags, dtype=pl.Boolean)
    frame = frame.with_columns(list(out.values()))
    frame = frame.with_columns(
        [
            pl.col(name).round(rule.money_decimals)
            for name in keep
            if spec.columns.get(name, Column(Kind.KEY)).kind == Kind.MONEY
        ]
    )
    frame = frame.with_columns(_rates(frame, spec, rule))
    frame = neutralise_text_columns(_derived(frame, table, spec, arrived_hidden))
    order = []
    for name in keep:
        order.append(name)
        if name + SUPPRESSED_SUFFIX in frame.columns:
            order.append(name + SUPPRESSED_SUFFIX)
    return frame.select(order)


def _arrived_hidden(frame: pl.DataFrame, table: str, spec: Table) -> dict[str, pl.Series]:
    """The ``_is_suppressed`` flags of the derived columns taken from a table protected before
    (``upstream``): a column of that kind arriving without its flag is refused."""
    found = {}
    for name, column in spec.columns.items():
        if column.kind != Kind.DERIVED or column.upstream is None or name not in frame.columns:
            continue
        flag = name + SUPPRESSED_SUFFIX
        if flag not in frame.columns:
            raise DisclosureError(
                f"{table}.{name} is taken from {column.upstream} as protected there, but "
                f"arrived without {flag}"
            )
        found[flag] = frame[flag].fill_null(True)
    return found


def _derived(
    frame: pl.DataFrame, table: str, spec: Table, arrived_hidden: dict[str, pl.Series]
) -> pl.DataFrame:
    """Derived columns hidden (null, flagged) wherever a column they come from is hidden, in
    the row or in its window, in declaration order (one may come from another); a source
    missing from the frame hides the column everywhere (fail closed)."""
    for name, column in spec.columns.items():
        if column.kind != Kind.DERIVED or name not in frame.columns:
            continue
        needed = [
            *column.numerator,
            *((column.window.by, column.window.order) if column.window else ()),
        ]
        missing = [source for source in needed if source not in frame.columns]
        if missing:
            log.info("%s.%s: hidden, computed from %s, which is not here", table, name, missing)
        flags = [
            pl.col(source + SUPPRESSED_SUFFIX)
            for source in column.numerator
            if source + SUPPRESSED_SUFFIX in frame.columns
        ]
        if name + SUPPRESSED_SUFFIX in arrived_hidden:
            flags.append(pl.lit(arrived_hidden[name + SUPPRESSED_SUFFIX]))
        hidden = pl.lit(bool(missing))
        if flags:
            hidden = hidden | pl.any_horizontal(flags).fill_null(True)
        if column.window is not None:
            window = column.window
            hidden = (
                hidden.cast(pl.Int8)
                .rolling_max(window_size=window.rows, min_samples=1)
                .over(window.by, order_by=window.order)
                > 0
            )
        frame = frame.with_columns(hidden.alias(name + SUPPRESSED_SUFFIX)).with_columns(
            pl.when(pl.col(name + SUPPRESSED_SUFFIX)).then(None).otherwise(pl.col(name)).alias(name)
        )
    return frame


def _rounded(value: pl.Series, rule: DisclosureRule) -> pl.Series:
    """``rule.round_count`` of every value (nulls stay null)."""
    if rule.rounding_base == 1:
        return value
    base = rule.rounding_base
    rounded = ((value + base // 2) // base * base).clip(lower_bound=base)
    return rounded.zip_with((value != 0).fill_null(True), value)  # 0 stays 0


def _rates(frame: pl.DataFrame, spec: Table, rule: DisclosureRule) -> list[pl.Expr]:
    """Rates from the published figures, hidden when any figure they use is hidden; means
    hidden with the count they are taken over."""
    expressions = []
    for name in frame.columns:
        column = spec.columns.get(name)
        if column is None or column.kind not in (Kind.RATE, Kind.MEAN):
            continue
        assert column.denominator, name
        used = [*column.numerator, column.denominator]
        flags = [
            pl.col(f + SUPPRESSED_SUFFIX) for f in used if f + SUPPRESSED_SUFFIX in frame.columns
        ]
        hidden = pl.any_horizontal(flags) if flags else pl.lit(False)
        if column.kind == Kind.MEAN:
            value = pl.when(hidden).then(None).otherwise(pl.col(name).round(rule.rate_decimals))
        else:
            assert column.numerator, name
            numerator = pl.sum_horizontal(
                [pl.col(part).cast(pl.Float64) for part in column.numerator]
            )
            denominator = pl.col(column.denominator)
            value = (
                pl.when(hidden | denominator.is_null() | (denominator == 0))
                .then(None)
                .otherwise(numerator / denominator * column.per)
                .round(rule.rate_decimals)
            )
        expressions.append(value.alias(name))
        if flags:
            expressions.append(hidden.alias(name + SUPPRESSED_SUFFIX))
    return expressions


Equation = list[tuple[int, int]]  # (cell, coefficient): sum of coefficient x value = 0


def _equations(
    frame: pl.DataFrame,
    spec: Table,
    counts: Sequence[str],
    cell_of: dict[tuple[int, str], int],
    by: Sequence[str],
) -> list[Equation]:
    equations: list[Equation] = []
    if TOTAL_FLAG in frame.columns:
        indexed = frame.select(list(by) + [TOTAL_FLAG]).with_row_index("_row")
        # one list of rows per group, in order of first appearance (as iterating the groups)
        groups = (
            indexed.group_by(list(by), maintain_order=True).agg("_row", TOTAL_FLAG)
            if by
            else indexed.select(pl.col("_row").implode(), pl.col(TOTAL_FLAG).implode())
        )
        for rows, totals in zip(
            groups["_row"].to_list(), groups[TOTAL_FLAG].to_list(), strict=True
        ):
            if sum(totals) != 1:
                continue
            for name in counts:
                equation = [
                    (cell_of[(row, name)], -1 if total else 1)
                    for row, total in zip(rows, totals, strict=True)
                    if (row, name) in cell_of
                ]
                equations.append(equation)
    for total, parts in spec.breakdowns:
        if total not in counts or not all(part in counts for part in parts):
            continue
        for row in range(frame.height):
            names = [total, *parts]
            if all((row, name) in cell_of for name in names):
                equations.append(
                    [(cell_of[(row, total)], -1)] + [(cell_of[(row, part)], 1) for part in parts]
                )
    return equations


Limit = tuple[Equation, int]  # (cell, coefficient) pairs whose sum is at most the number


def _limits(
    frame: pl.DataFrame,
    spec: Table,
    counts: Sequence[str],
    cell_of: dict[tuple[int, str], int],
    values: Sequence[int],
    rule: DisclosureRule,
) -> tuple[list[Limit], dict[str, set[int]]]:
    """What a reader knows from ``at_most``: each count is at most its bound, a shown figure
    of the same row such as the places offered. A bound below the true value (a session
    over-full) is taken as the true value: the reader's belief is wrong there and gives
    nothing away. Where a shown figure alone would pin a count of 1 (one place, one
    attendee), that figure is hidden in the row instead (returned). A bound that is itself
    a count is refused: secondary suppression does not take those in (docs/disclosure.md)."""
    limits: list[Limit] = []
    hidden: dict[str, set[int]] = {}
    for name in counts:
        bound = spec.columns[name].at_most
        if bound is None or bound not in frame.columns:
            continue
        if bound in counts:
            raise DisclosureError(f"{name} is declared at most {bound}, a count: not supported")
        bounds = frame[bound].to_list()
        for row, figure in enumerate(bounds):
            cell = cell_of.get((row, name))
            if cell is None:
                continue
            if figure is not None:
                ceiling = max(math.floor(figure), values[cell])
                if ceiling <= 1 and rule.is_primary(values[cell]):
                    hidden.setdefault(bound, set()).add(row)
                    continue
                limits.append(([(cell, 1)], ceiling))
    return limits, hidden


# ----------------------------------------------------------------- secondary suppression


def secondary_suppress(
    values: Sequence[int],
    equations: Sequence[Equation],
    rule: DisclosureRule = DEFAULT_RULE,
    *,
    limits: Sequence[Limit] = (),
) -> set[int]:
    """Cells to suppress: every 1..threshold count, plus the fewest-smallest others found
    one at a time until no suppressed cell can be worked out from the published ones.

    A cell can be worked out when the equations of the published totals, with every
    suppressed count at least 1 and within its ``limits``, leave it one whole value
    (``exposed_cells``).
    """
    array = np.asarray(values, dtype=np.int64)
    primary = (array >= 1) & (array <= rule.threshold)  # rule.is_primary, for every cell
    suppressed = set(np.flatnonzero(primary).tolist())
    by_cell: dict[int, list[int]] = {}
    for index, equation in enumerate(equations):
        for cell, _ in equation:
            by_cell.setdefault(cell, []).append(index)
    cache: dict[tuple[tuple[int, ...], frozenset[int]], set[int]] = {}
    while True:
        exposed = exposed_cells(values, equations, suppressed, rule, cache=cache, limits=limits)
        if not exposed:
            return suppressed
        # One more cell beside each exposed cell whose totals got none yet this round:
        # independent tables (months, say) are mended in the same round.
        added: set[int] = set()
        touched: set[int] = set()
        for cell in sorted(exposed):
            around = by_cell.get(cell, [])
            if touched.intersection(around):
                continue
            candidate = _next_to_suppress(
                values, [equations[i] for i in around], suppressed | added
            )
            if candidate is not None:
                added.add(candidate)
                touched.update(around, by_cell.get(candidate, []))
        if not added:
            raise DisclosureError(
                f"cells {sorted(exposed)} cannot be protected: every cell beside them is hidden"
            )
        suppressed |= added


def _next_to_suppress(
    values: Sequence[int], equations: Sequence[Equation], suppressed: set[int]
) -> int | None:
    """The smallest published non-zero cell of the equations holding an exposed cell, parts
    before totals. Zeros are never hidden: a reader knows a hidden count is at least 1, and
    a hidden zero beside a hidden count could not stop the count being worked out anyway."""
    pool = {
        (cell, coefficient)
        for equation in equations
        for cell, coefficient in equation
        if cell not in suppressed and values[cell] > 0
    }
    if not pool:
        return None
    return min(pool, key=lambda c: (values[c[0]], c[1] < 0, c[0]))[0]


def exposed_cells(
    values: Sequence[int],
    equations: Sequence[Equation],
    suppressed: set[int],
    rule: DisclosureRule = DEFAULT_RULE,
    *,
    cache: dict[tuple[tuple[int, ...], frozenset[int]], set[int]] | None = None,
    limits: Sequence[Limit] = (),
) -> set[int]:
    """Suppressed cells a reader could work out from the published cells and totals,
    knowing that a suppressed count is at least 1 (0 is always shown) and within its
    ``limits`` (at most the places, say).

    Equations sharing a suppressed cell form a block. In each: first the equations alone
    (cheap); then, if they fix no cell, the bounds too: for one equation by hand (its
    hidden cells can move unless they all carry the same sign and are all 1), for more
    by linear programming (always, where a block has limits). ``cache`` keeps the answer of
    blocks unchanged between rounds.
    """
    cache = {} if cache is None else cache
    exposed: set[int] = set()
    rows = [*equations, *(terms for terms, _ in limits)]
    relevant = [i for i, eq in enumerate(rows) if any(c in suppressed for c, _ in eq)]
    for indices in _blocks([rows[i] for i in relevant], suppressed):
        block_ids = tuple(relevant[i] for i in indices)
        block = [equations[i] for i in block_ids if i < len(equations)]
        bounded = [limits[i - len(equations)] for i in block_ids if i >= len(equations)]
        hidden = frozenset(cell for i in block_ids for cell, _ in rows[i] if cell in suppressed)
        key = (block_ids, hidden)
        if key not in cache:
            fixed = _linearly_determined(block, suppressed) if block else set()
            if not fixed and len(block) == 1 and not bounded:
                signs = {coefficient for cell, coefficient in block[0] if cell in hidden}
                if len(signs) == 1 and all(values[cell] == 1 for cell in hidden):
                    fixed = set(hidden)
            elif not fixed:
                by_hand = _fixed_in_boxes(block, values, suppressed, bounded)
                fixed = (
                    by_hand
                    if by_hand is not None
                    else _fixed_by_bounds(block, values, suppressed, bounded)
                )
            cache[key] = fixed
        exposed |= cache[key]
    return exposed


def _fixed_in_boxes(
    block: Sequence[Equation],
    values: Sequence[int],
    suppressed: set[int],
    limits: Sequence[Limit],
) -> set[int] | None:
    """For at most one equation whose limits each bound one hidden cell (the common case:
    a total row, and attendees at most the places): each hidden cell's range, worked out
    by hand from the others' boxes. None when the block is not of that shape."""
    if len(block) > 1 or not limits:
        return None
    low: dict[int, float] = {}
    high: dict[int, float] = {}
    for terms, bound in limits:
        hidden = [(cell, coefficient) for cell, coefficient in terms if cell in suppressed]
        if len(hidden) != 1 or hidden[0][1] not in (1, -1):
            return None
        cell, sign = hidden[0]
        rest = bound - sum(c * values[other] for other, c in terms if other not in suppressed)
        if sign == 1:
            high[cell] = min(high.get(cell, math.inf), rest)
        else:
            low[cell] = max(low.get(cell, 1), -rest)
    cells = {cell for terms, _ in limits for cell, _ in terms if cell in suppressed}
    equation = block[0] if block else []
    coefficient: dict[int, int] = {}
    right = 0
    for cell, c in equation:
        if cell in suppressed:
            coefficient[cell] = coefficient.get(cell, 0) + c
            cells.add(cell)
        else:
            right -= c * values[cell]
    if any(c not in (1, -1) for c in coefficient.values() if c):
        return None
    box = {cell: (max(low.get(cell, 1), 1), high.get(cell, math.inf)) for cell in cells}
    # sum of coefficient x cell over the hidden cells = right: each term's range
    terms = {
        cell: sorted((c * box[cell][0], c * box[cell][1])) for cell, c in coefficient.items() if c
    }

    def summed(ends: list[float]) -> tuple[float, int]:
        """The sum of the finite ends, and how many are infinite (all of one sign)."""
        return sum(end for end in ends if math.isfinite(end)), sum(
            not math.isfinite(end) for end in ends
        )

    def without(total: tuple[float, int], own: float, infinity: float) -> float:
        """The sum of the ends less ``own``, one of them."""
        finite, infinite = total
        if not math.isfinite(own):
            return infinity if infinite > 1 else finite
        return infinity if infinite else finite - own

    all_lows = summed([lo for lo, _ in terms.values()])
    all_highs = summed([hi for _, hi in terms.values()])
    fixed = set()
    for cell in cells:
        lo, hi = box[cell]
        c = coefficient.get(cell, 0)
        if c:
            others_least = without(all_lows, terms[cell][0], -math.inf)
            others_most = without(all_highs, terms[cell][1], math.inf)
            ends = ((right - others_most) * c, (right - others_least) * c)
            lo, hi = max(lo, min(ends)), min(hi, max(ends))
        if (
            math.isfinite(lo)
            and math.isfinite(hi)
            and math.ceil(lo - 1e-9) == math.floor(hi + 1e-9)
        ):
            fixed.add(cell)
    return fixed


def _fixed_by_bounds(
    block: Sequence[Equation],
    values: Sequence[int],
    suppressed: set[int],
    limits: Sequence[Limit] = (),
) -> set[int]:
    """Suppressed cells with one whole value in every solution of the block's equations
    with every suppressed cell at least 1. Solutions pushing all unmoved cells up, then
    down, show most cells can move; each remaining cell gets its own maximum and, unless it
    is already seen to move or its true value is the floor of 1, its own minimum."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_array

    every = [*block, *(terms for terms, _ in limits)]
    cells = sorted({cell for eq in every for cell, _ in eq if cell in suppressed})
    column = {cell: index for index, cell in enumerate(cells)}

    def program(equations: Sequence[Equation], right: np.ndarray) -> csr_array | None:
        """The equations over the hidden cells; the shown cells moved to ``right``."""
        rows, columns, coefficients = [], [], []
        for row, equation in enumerate(equations):
            for cell, coefficient in equation:
                if cell in column:
                    rows.append(row)
                    columns.append(column[cell])
                    coefficients.append(float(coefficient))
                else:
                    right[row] -= coefficient * values[cell]
        # sparse (duplicates summed): an equation holds few of a block's cells, and HiGHS
        # takes a sparse matrix as it is rather than converting a dense one every program
        shape = (len(equations), len(cells))
        return csr_array((coefficients, (rows, columns)), shape=shape) if equations else None

    right = np.zeros(len(block))
    matrix = program(block, right)
    upper = np.array([float(bound) for _, bound in limits])
    limit_matrix = program([terms for terms, _ in limits], upper)
    true = np.array([values[cell] for cell in cells], dtype=float)
    # a ceiling no reader knows, only so that every program has an optimum
    ceiling = 2.0 * sum(abs(v) for v in values) + 10
    bounds = [(1.0, ceiling)] * len(cells)

    def solve(objective: np.ndarray) -> np.ndarray | None:
        result = linprog(
            objective,
            A_eq=matrix,
            b_eq=right if matrix is not None else None,
            A_ub=limit_matrix,
            b_ub=upper if limit_matrix is not None else None,
            bounds=bounds,
            method="highs",
        )
        return result.x if result.status == 0 else None

    moved = np.zeros(len(cells), dtype=bool)
    while not moved.all():  # push every unmoved cell up together, then down together
        before = moved.sum()
        for sign in (-1, 1):
            solution = solve(sign * (~moved).astype(float))
            if solution is not None:
                moved |= np.abs(solution - true) >= 1 - 1e-6
        if moved.sum() == before:
            break
    fixed = set()
    for index in np.flatnonzero(~moved):
        if moved[index]:  # moved in an earlier cell's programs
            continue
        objective = np.zeros(len(cells))
        objective[index] = 1
        highest = solve(-objective)
        if highest is None:
            continue  # cannot happen for a consistent table; leave it to the equations
        moved |= np.abs(highest - true) >= 1 - 1e-6
        if moved[index]:
            continue  # it can go up by 1: not fixed, and the minimum is not needed
        # the true value is a solution, so the minimum is at most it: at the floor of 1 it
        # is 1 without a program
        lowest = None if true[index] == 1 else solve(objective)
        if lowest is None and true[index] != 1:
            continue  # cannot happen for a consistent table; leave it to the equations
        low = 1.0 if lowest is None else lowest[index]
        if math.ceil(low - 1e-6) == math.floor(highest[index] + 1e-6):
            fixed.add(cells[index])
        elif lowest is not None:
            moved |= np.abs(lowest - true) >= 1 - 1e-6
    return fixed


def _blocks(equations: Sequence[Equation], suppressed: set[int]) -> list[list[int]]:
    """Indices of equations grouped where they share a suppressed cell (union-find)."""
    parent = list(range(len(equations)))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    owner: dict[int, int] = {}
    for index, equation in enumerate(equations):
        for cell, _ in equation:
            if cell in suppressed:
                if cell in owner:
                    parent[find(index)] = find(owner[cell])
                else:
                    owner[cell] = index
    blocks: dict[int, list[int]] = {}
    for index in range(len(equations)):
        blocks.setdefault(find(index), []).append(index)
    return list(blocks.values())


def _linearly_determined(block: Sequence[Equation], suppressed: set[int]) -> set[int]:
    """Suppressed cells fixed by the equations: those lying in the row space of the
    equations' matrix over the suppressed cells (what is left once the published cells are
    moved to the right-hand side). The row space comes from a singular value decomposition;
    a cell is fixed when its unit vector projects onto it whole."""
    if len(block) == 1:
        # one equation: its row space is its own coefficients, so a cell is fixed when it is
        # the only hidden cell with a non-zero coefficient (what the decomposition finds)
        summed: dict[int, int] = {}
        for cell, coefficient in block[0]:
            if cell in suppressed:
                summed[cell] = summed.get(cell, 0) + coefficient
        nonzero = [cell for cell, coefficient in summed.items() if coefficient != 0]
        return set(nonzero) if len(nonzero) == 1 else set()
    cells = sorted({cell for eq in block for cell, _ in eq if cell in suppressed})
    column = {cell: index for index, cell in enumerate(cells)}
    matrix = np.zeros((len(block), len(cells)))
    for row, equation in enumerate(block):
        for cell, coefficient in equation:
            if cell in column:
                matrix[row, column[cell]] += coefficient
    _, singular, right = np.linalg.svd(matrix, full_matrices=False)
    rank = int((singular > 1e-9 * max(matrix.shape)).sum())
    weight = (right[:rank] ** 2).sum(axis=0)
    return {cell for cell, share in zip(cells, weight, strict=True) if share > 1 - 1e-9}


# --------------------------------------------------------------------------- output


# Text a spreadsheet may take for a formula (OWASP, CSV injection): a cell starting with a
# tab or carriage return, or with = + - @ after any white space, full-width forms included.
FORMULA_START = "^(?:[\t\r]|\\s*[=+\\-@\uff1d\uff0b\uff0d\uff20])"
FORMULA_GUARD = "'"  # put before such text: a spreadsheet shows it as text


def neutralised(text: pl.Expr) -> pl.Expr:
    """Text with ``FORMULA_GUARD`` before it where it could be read as a formula (nothing
    else changes, and text already guarded stays as it is)."""
    return pl.when(text.str.contains(FORMULA_START)).then(FORMULA_GUARD + text).otherwise(text)


def neutralised_text(text: str) -> str:
    """``neutralised`` for one value (cells written one at a time)."""
    return FORMULA_GUARD + text if re.match(FORMULA_START, text) else text


def neutralise_text_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column of ``frame`` through ``neutralised``; numbers stay numbers."""
    return frame.with_columns(
        neutralised(pl.col(name)).alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


def as_text(frame: pl.DataFrame, rule: DisclosureRule = DEFAULT_RULE) -> pl.DataFrame:
    """For CSV and XLSX: suppressed cells become the marker, the flag columns go, text that a
    spreadsheet could take for a formula is guarded (``neutralised``)."""
    frame = neutralise_text_columns(frame)
    flags = [name for name in frame.columns if name.endswith(SUPPRESSED_SUFFIX)]
    expressions = []
    for flag in flags:
        name = flag.removesuffix(SUPPRESSED_SUFFIX)
        expressions.append(
            pl.when(pl.col(flag))
            .then(pl.lit(rule.marker))
            .otherwise(pl.col(name).cast(pl.String))
            .alias(name)
        )
    return frame.with_columns(expressions).drop(flags)


# --------------------------------------------------------------------------- docs

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "disclosure.md"
BEGIN, END = "<!-- BEGIN generated by orchestration.disclosure -->", "<!-- END generated -->"


def rule_markdown(rule: DisclosureRule = DEFAULT_RULE) -> str:
    """The generated part of docs/disclosure.md: parameters and every declared column."""
    lines = [
        "| parameter | value |",
        "|---|---|",
        f"| threshold (counts 1 to this are suppressed) | {rule.threshold} |",
        f"| rounding base (other counts, nearest multiple) | {rule.rounding_base} |",
        f"| marker in CSV and XLSX | `{rule.marker}` |",
        f"| money rounded to decimals | {rule.money_decimals} |",
        f"| rates rounded to decimals | {rule.rate_decimals} |",
        "",
        f"In words (also the README sheet of every extract): {rule.describe()}",
        "",
        "Declared columns (`orchestration.disclosure.TABLES`):",
        "",
        "| table | column | kind | recomputed as, hidden with, bounded by |",
        "|---|---|---|---|",
    ]
    for table, spec in TABLES.items():
        for name, column in spec.columns.items():
            formula = (
                f"{' + '.join(column.numerator)} / {column.denominator} x {column.per:g}"
                if column.kind == Kind.RATE
                else f"hidden with {column.denominator}"
                if column.kind == Kind.MEAN
                else _derived_text(column)
                if column.kind == Kind.DERIVED
                else f"at most {column.at_most}"
                if column.at_most
                else ""
            )
            lines.append(f"| {table} | {name} | {column.kind} | {formula} |")
    return "\n".join(lines)


def _derived_text(column: Column) -> str:
    text = []
    if column.numerator:
        text.append(f"hidden with {' or '.join(column.numerator)}")
    if column.window is not None:
        window = column.window
        text.append(
            f"in any of the {window.rows} rows to this one (per {window.by}, by {window.order})"
        )
    if column.upstream:
        text.append(f"hidden where {column.upstream} hides it")
    return " ".join(text)


def render_doc(text: str, rule: DisclosureRule = DEFAULT_RULE) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{rule_markdown(rule)}\n{END}{tail}"


if __name__ == "__main__":
    DOC_PATH.write_text(render_doc(DOC_PATH.read_text()))
