"""Disclosure control: small counts never shown, the rest rounded, and no suppressed count
recoverable from the published totals (checked by solving for it with an exact integer
program, independent of the module's own check)."""

import math
from collections.abc import Sequence

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from orchestration.disclosure import (
    DEFAULT_RULE,
    DOC_PATH,
    SUPPRESSED_SUFFIX,
    TOTAL_FLAG,
    Column,
    DisclosureRule,
    Kind,
    Table,
    as_text,
    protect,
    render_doc,
    secondary_suppress,
    with_totals,
)

NEED = "fct_neighbourhood_need_capacity_monthly"

# ------------------------------------------------------------------ the attacker's solver

Cell = tuple[int, str]  # (row, column)


def published_bounds(
    value: int | None, suppressed: bool, rule: DisclosureRule
) -> tuple[float, float]:
    """What a reader knows about a cell's true value from what is published."""
    if suppressed or value is None:
        return (1, math.inf)  # 0 is always shown, so a hidden count is at least 1
    if value == 0 or rule.rounding_base == 1:
        return (value, value)
    half = rule.rounding_base // 2
    low = 1 if value == rule.rounding_base else value - half  # 1 and 2 also show as 5
    return (max(low, rule.threshold + 1), value + (rule.rounding_base - 1 - half))


def recoverable(
    bounds: dict[Cell, tuple[float, float]],
    equations: Sequence[Sequence[tuple[Cell, int]]],
    hidden: Sequence[Cell],
) -> dict[Cell, int]:
    """Hidden cells whose value is the same in every integer solution of the published
    equations and bounds: {cell: value}."""
    cells = sorted(bounds)
    index = {cell: i for i, cell in enumerate(cells)}
    matrix = np.zeros((max(len(equations), 1), len(cells)))
    for row, equation in enumerate(equations):
        for cell, coefficient in equation:
            matrix[row, index[cell]] += coefficient
    lower = np.array([bounds[cell][0] for cell in cells])
    upper = np.array([bounds[cell][1] for cell in cells])
    constraint = LinearConstraint(matrix, 0, 0)
    integral = np.ones(len(cells))
    feasible = milp(
        np.zeros(len(cells)),
        integrality=integral,
        bounds=Bounds(lower, upper),
        constraints=constraint,
    )
    assert feasible.status == 0, "the published figures contradict the reader's model"
    found = {}
    for cell in hidden:
        objective = np.zeros(len(cells))
        objective[index[cell]] = 1
        ends = []
        for sign in (1, -1):
            result = milp(
                sign * objective,
                integrality=integral,
                bounds=Bounds(lower, upper),
                constraints=constraint,
            )
            # feasible, so anything but optimal means unbounded that way
            ends.append(round(sign * result.fun) if result.status == 0 else None)
        if ends[0] is not None and ends[0] == ends[1]:
            found[cell] = ends[0]
    return found


def table_equations(frame: pl.DataFrame, counts: Sequence[str], spec: Table) -> list:
    """The published totals: each count column's rows add up to the total row (one group),
    and each row's declared parts add up to its total column."""
    rows = list(range(frame.height))
    totals = frame[TOTAL_FLAG].to_list()
    equations = [[((row, name), -1 if totals[row] else 1) for row in rows] for name in counts]
    for total, parts in spec.breakdowns:
        if not {total, *parts} <= set(counts):
            continue  # a breakdown the table does not publish
        for row in rows:
            equations.append([((row, total), -1)] + [((row, part), 1) for part in parts])
    return equations


def assert_nothing_recoverable(
    published: pl.DataFrame, counts: Sequence[str], spec: Table, rule: DisclosureRule
) -> None:
    bounds, hidden = {}, []
    for name in counts:
        flags = published[name + SUPPRESSED_SUFFIX].to_list()
        for row, (value, flag) in enumerate(zip(published[name].to_list(), flags, strict=True)):
            bounds[(row, name)] = published_bounds(value, flag, rule)
            if flag:
                hidden.append((row, name))
    found = recoverable(bounds, table_equations(published, counts, spec), hidden)
    assert not found, f"suppressed cells worked out from totals: {found}"


# ------------------------------------------------------------------ tables to protect


def crossed_spec(parts: int) -> tuple[Table, list[str]]:
    names = [f"group{i}_count" for i in range(parts)]
    columns = {
        "area_code": Column(Kind.KEY),
        "month_start_date": Column(Kind.PERIOD),
        "population_total": Column(Kind.PUBLIC),
        **{name: Column(Kind.COUNT) for name in names},
        "people_count": Column(Kind.COUNT),
        "people_per_1000": Column(Kind.RATE, ("people_count",), "population_total", 1000),
    }
    breakdowns = (("people_count", tuple(names)),) if parts > 1 else ()
    return Table(columns, breakdowns), [*names, "people_count"]


def crossed_table(values: list[list[int]], populations: list[int]) -> pl.DataFrame:
    """Areas x groups, a people_count column that is their sum (the row total)."""
    parts = len(values[0])
    data = {
        "area_code": [f"A{i}" for i in range(len(values))],
        "month_start_date": ["2026-01-01"] * len(values),
        "population_total": populations,
    }
    for j in range(parts):
        data[f"group{j}_count"] = [row[j] for row in values]
    data["people_count"] = [sum(row) for row in values]
    data["people_per_1000"] = [0.0] * len(values)
    return pl.DataFrame(data)


def protect_crossed(values, populations, rule):
    spec, counts = crossed_spec(len(values[0]))
    frame = crossed_table(values, populations)
    truth = with_totals(
        frame, "test", by=["month_start_date"], key="area_code", key_value="ALL", spec=spec
    )
    published = protect(truth, "test", rule, by=["month_start_date"], spec=spec)
    return truth, published, spec, counts


counts_strategy = st.one_of(st.integers(0, 9), st.integers(0, 60))


@st.composite
def crossed_tables(draw):
    rows = draw(st.integers(2, 6))
    parts = draw(st.integers(1, 3))
    values = [[draw(counts_strategy) for _ in range(parts)] for _ in range(rows)]
    populations = [draw(st.integers(0, 5000)) for _ in range(rows)]
    return values, populations


RULES = [DisclosureRule(), DisclosureRule(rounding_base=1), DisclosureRule(threshold=4)]


# ------------------------------------------------------------------ properties


@pytest.mark.parametrize("rule", RULES, ids=["default", "no-rounding", "threshold-4"])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=crossed_tables())
def test_disclosure_rule_holds_for_any_table(table, rule: DisclosureRule) -> None:
    values, populations = table
    truth, published, spec, counts = protect_crossed(values, populations, rule)
    for name in counts:
        flags = published[name + SUPPRESSED_SUFFIX].to_list()
        for true, shown, flag in zip(truth[name], published[name], flags, strict=True):
            if rule.is_primary(true):
                assert flag and shown is None  # every small count is hidden
            if flag:
                assert shown is None
                continue
            assert not rule.is_primary(shown)  # nothing from 1 to the threshold is shown
            assert shown == rule.round_count(true)
            assert (shown == 0) == (true == 0)  # 0 stays 0, nothing else becomes 0
            assert shown % rule.rounding_base == 0
    # rates only from what is shown
    for row in published.iter_rows(named=True):
        if row["people_count_is_suppressed"] or not row["population_total"]:
            assert row["people_per_1000"] is None
        else:
            expected = round(row["people_count"] / row["population_total"] * 1000, 2)
            assert row["people_per_1000"] == pytest.approx(expected)
    assert_nothing_recoverable(published, counts, spec, rule)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(counts_strategy, min_size=1, max_size=12),
    threshold=st.integers(0, 10),
)
def test_secondary_suppression_of_one_total_never_leaves_one_cell_alone(
    values: list[int], threshold: int
) -> None:
    rule = DisclosureRule(threshold=threshold, rounding_base=1)
    cells = [*values, sum(values)]
    equation = [(i, 1) for i in range(len(values))] + [(len(values), -1)]
    hidden = secondary_suppress(cells, [equation], rule)
    assert {i for i, v in enumerate(cells) if rule.is_primary(v)} <= hidden
    assert len(hidden) != 1
    if hidden:  # not all at the least a hidden count can be
        same_sign = [i for i in hidden if i < len(values)]
        assert len(hidden) > len(same_sign) or any(cells[i] > 1 for i in hidden)


@pytest.mark.parametrize("rounding", [1, 5])
def test_rounding_nearest_base_halves_up_never_to_zero(rounding: int) -> None:
    rule = DisclosureRule(threshold=0, rounding_base=rounding)
    if rounding == 5:
        assert [rule.round_count(v) for v in (0, 1, 2, 3, 8, 12, 13, 17, 18)] == [
            0, 5, 5, 5, 10, 10, 15, 15, 20,
        ]  # fmt: skip
    else:
        assert [rule.round_count(v) for v in (0, 1, 12)] == [0, 1, 12]


def test_one_small_count_beside_a_total_takes_a_second_cell_with_it() -> None:
    # referrals 3 (hidden) beside 20, 40, 0 and a total: the smallest other non-zero cell
    # (20) is hidden too; the zero stays 0; onward 1 + 1 are both at the least a hidden
    # count can be, so a third cell goes.
    frame = pl.DataFrame(
        {
            "neighbourhood_code": ["A", "B", "C", "D"],
            "month_start_date": ["2026-01-01"] * 4,
            "population_total": [1000, 2000, 1500, 500],
            "referrals_count": [3, 20, 40, 0],
            "referrals_per_1000": [0.0] * 4,
            "onward_referrals_count": [1, 1, 30, 0],
            "gap_score": [1.0] * 4,
        }
    )
    truth = with_totals(
        frame, NEED, by=["month_start_date"], key="neighbourhood_code", key_value="LA"
    )
    published = protect(truth, NEED, by=["month_start_date"])
    assert published["referrals_count"].to_list() == [None, None, 40, 0, 65]
    assert published["onward_referrals_count"].to_list() == [None, None, None, 0, 30]
    assert published["referrals_per_1000"].to_list() == [None, None, 26.67, 0.0, 13.0]
    assert "gap_score" not in published.columns  # undeclared: never leaves
    text = as_text(published)
    assert text["referrals_count"].to_list() == ["[c]", "[c]", "40", "0", "65"]
    assert not any(name.endswith(SUPPRESSED_SUFFIX) for name in text.columns)


def test_docs_show_the_rule_as_configured() -> None:
    text = DOC_PATH.read_text()
    assert render_doc(text) == text, (
        "docs/disclosure.md is stale: python -m orchestration.disclosure"
    )


def test_protect_guards_text_a_spreadsheet_could_run_and_leaves_numbers() -> None:
    frame = pl.DataFrame(
        {
            "neighbourhood_code": ["A", "B"],
            "neighbourhood_name": ['=HYPERLINK("x")', "Upper Green"],
            "population_total": [-1, 5],
        }
    )
    published = protect(frame, "dim_neighbourhoods")
    assert published["neighbourhood_name"].to_list() == ['\'=HYPERLINK("x")', "Upper Green"]
    assert published["population_total"].to_list() == [-1, 5]
    again = protect(published, "dim_neighbourhoods")  # guarded once, not twice
    assert again["neighbourhood_name"].to_list() == published["neighbourhood_name"].to_list()


# ------------------------------------------------------------------ derived columns

PRESSURE = "fct_activity_pressure_weekly"


def pressure_weeks(seed: int, activities: int = 6, weeks: int = 14) -> pl.DataFrame:
    """Activity-weeks as the mart makes them: one session a week, full when the attendees
    reach the places (and then, as nearly always, equal them), over capacity when full or
    an onward referral went unmet, and the 12-week counts of the flags."""
    import random
    from datetime import date, timedelta

    rng = random.Random(seed)
    rows = []
    for number in range(activities):
        places = rng.randint(2, 12)
        flags: list[bool] = []
        for week in range(weeks):
            attendees = rng.choice([places, rng.randint(0, places), rng.randint(1, 7)])
            attendees = min(attendees, places)
            onward = rng.randint(0, 9)
            unmet = rng.choice([0, 0, rng.randint(0, onward)])
            flags.append(attendees >= places or unmet > 0)
            window = flags[-12:]
            rows.append(
                {
                    "activity_id": f"act-{number}",
                    "neighbourhood_code": "N1",
                    "week_start_date": (date(2026, 1, 5) + timedelta(weeks=week)).isoformat(),
                    "sessions_count": 1,
                    "sessions_full_count": int(attendees >= places),
                    "places_count": places,
                    "attendees_count": attendees,
                    "referred_attendees_count": rng.randint(0, attendees),
                    "onward_referrals_count": onward,
                    "onward_referrals_unmet_count": unmet,
                    "is_over_capacity": flags[-1],
                    "weeks_with_sessions_12w": len(window),
                    "weeks_over_capacity_12w": sum(window),
                    "is_persistently_over_capacity": 100 * sum(window) >= 75 * len(window),
                }
            )
    return pl.DataFrame(rows)


def attack_pressure(published: pl.DataFrame, tmp_path) -> dict:
    """The attacker of tests/disclosure_attacker.py on one local authority's CSV."""
    from disclosure_attacker import Pressure, Program, add_extract_pressure, read_csv

    path = tmp_path / "activity_pressure.csv"
    as_text(published).write_csv(path)
    program = Program()
    add_extract_pressure(program, Pressure(), "LA", read_csv(path))
    return program.pinned()


@pytest.mark.parametrize("seed", range(4))
def test_columns_derived_from_a_hidden_count_are_hidden_with_it(seed: int, tmp_path) -> None:
    """Full sessions, the over-capacity flag and its 12-week count would, with the public
    places, give hidden attendee counts back (before: the attacker pins some of them): they
    are hidden with the counts, in the row and over the 12-week window, and nothing is
    pinned."""
    from orchestration.extracts import with_la_totals

    truth = pressure_weeks(seed)
    published = with_la_totals(truth, PRESSURE, "LA", "LA", DEFAULT_RULE)
    body = published.filter(~pl.col(TOTAL_FLAG))
    hidden = (
        body["attendees_count_is_suppressed"] | body["onward_referrals_unmet_count_is_suppressed"]
    )
    assert (body["is_over_capacity_is_suppressed"] == hidden).all()
    assert (
        body["sessions_full_count_is_suppressed"] == body["attendees_count_is_suppressed"]
    ).all()
    windowed = body.with_columns(over_hidden=pl.col("is_over_capacity_is_suppressed")).with_columns(
        any_hidden=pl.col("over_hidden")
        .cast(pl.Int8)
        .rolling_max(12, min_samples=1)
        .over("activity_id", order_by="week_start_date")
        > 0
    )
    assert (windowed["weeks_over_capacity_12w_is_suppressed"] == windowed["any_hidden"]).all()
    assert (
        body["is_persistently_over_capacity_is_suppressed"]
        == body["weeks_over_capacity_12w_is_suppressed"]
    ).all()
    for name in ("sessions_full_count", "is_over_capacity", "weeks_over_capacity_12w"):
        assert published.filter(pl.col(name + SUPPRESSED_SUFFIX))[name].is_null().all()
        # a total row never sums or takes a derived figure
        assert published.filter(pl.col(TOTAL_FLAG))[name].is_null().all()
    assert not attack_pressure(published, tmp_path)


def test_the_attacker_pins_counts_when_derived_columns_are_shown(tmp_path) -> None:
    """The same tables with the derived columns declared as public figures and plain flags
    (as they were): the attacker pins hidden attendee counts from the places."""
    from dataclasses import replace

    from orchestration.disclosure import TABLES

    columns = dict(TABLES[PRESSURE].columns)
    for name in ("sessions_full_count", "weeks_over_capacity_12w"):
        columns[name] = Column(Kind.PUBLIC)
    for name in ("is_over_capacity", "is_persistently_over_capacity"):
        columns[name] = Column(Kind.FLAG)
    spec = replace(TABLES[PRESSURE], columns=columns)
    pinned = 0
    for seed in range(4):
        truth = pressure_weeks(seed)
        frame = with_totals(
            truth, PRESSURE, by=["week_start_date"], key="neighbourhood_code", key_value="LA",
            spec=spec,
        )  # fmt: skip
        published = protect(frame, PRESSURE, by=["week_start_date"], spec=spec)
        found = attack_pressure(published, tmp_path)
        for (kind, activity, week, name), (value, _) in found.items():
            if kind != "week":
                continue  # a total row's
            true = truth.filter(
                (pl.col("activity_id") == activity) & (pl.col("week_start_date") == week)
            )[name].item()
            assert value == true  # pinned to the true value
        pinned += len(found)
        if pinned:
            break
    assert pinned > 0


def test_a_place_count_that_would_pin_a_hidden_count_is_hidden_with_its_total() -> None:
    """One place and one attendee: the attendee count is hidden, but places 1 would say it
    is 1, so the places are hidden in the row and in its week's total row (the total less
    the other rows would give them back)."""
    frame = pressure_weeks(0, activities=3, weeks=1).with_columns(
        places_count=pl.Series([1, 20, 30]),
        attendees_count=pl.Series([1, 15, 25]),
        referred_attendees_count=pl.Series([0, 0, 0]),
    )
    frame = with_totals(
        frame, PRESSURE, by=["week_start_date"], key="neighbourhood_code", key_value="LA"
    )
    published = protect(frame, PRESSURE, by=["week_start_date"])
    assert published["places_count"].to_list() == [None, 20, 30, None]
    assert published["places_count_is_suppressed"].to_list() == [True, False, False, True]
    assert published["attendees_count_is_suppressed"][0]


@settings(max_examples=50, deadline=None)
@given(
    parts=st.lists(st.integers(0, 12), min_size=1, max_size=6),
    data=st.data(),
)
def test_ranges_worked_out_by_hand_agree_with_linear_programming(parts, data) -> None:
    """One total and bounds on single cells (attendees at most the places): the by-hand
    ranges of orchestration.disclosure find the cells the linear program finds."""
    from orchestration.disclosure import _fixed_by_bounds, _fixed_in_boxes

    values = [*parts, sum(parts)]
    cells = range(len(values))
    drawn = data.draw(st.sets(st.sampled_from(list(cells)), min_size=1))
    suppressed = {cell for cell in drawn if values[cell] > 0}  # a zero is always shown
    equation = [(cell, 1) for cell in range(len(parts))] + [(len(parts), -1)]
    limits = [
        ([(cell, 1)], values[cell] + data.draw(st.integers(0, 3)))
        for cell in sorted(suppressed)
        if data.draw(st.booleans())
    ]
    if not limits:
        return  # without limits the block never takes this path
    by_hand = _fixed_in_boxes([equation], values, suppressed, limits)
    assert by_hand is not None
    assert by_hand == _fixed_by_bounds([equation], values, suppressed, limits)


def test_an_icb_week_whose_local_authority_totals_are_hidden_is_hidden_with_them(
    tmp_path,
) -> None:
    """Twelve activities in two local authorities, one onward referral each in a week: each
    extract hides its total (6) and every activity's 1, but shows the zeros of other weeks.
    The report's whole-ICB week (12, shown as 10: at most 12) with the count of hidden cells
    (each at least 1) pins every one to 1. Hidden with the totals it adds up, nothing is."""
    from disclosure_attacker import (
        Pressure,
        Program,
        add_extract_pressure,
        add_report_icb_weekly,
        read_csv,
    )

    from orchestration.extracts import with_la_totals
    from orchestration.report_data import (
        hide_weeks_extracts_hide,
        protect_table,
        weeks_extracts_hide,
    )

    week = pressure_weeks(0, activities=6, weeks=1).with_columns(
        onward_referrals_count=pl.lit(1), onward_referrals_unmet_count=pl.lit(0)
    )
    las = {
        la: with_la_totals(
            week.with_columns(activity_id=pl.lit(la) + pl.col("activity_id")),
            PRESSURE, la, la, DEFAULT_RULE,
        )
        for la in ("LA1", "LA2")
    }  # fmt: skip
    icb = pl.DataFrame(
        {
            "week_start_date": week["week_start_date"][:1],
            "referrals_count": [40],
            "onward_referrals_count": [12],
            "onward_referrals_refused_no_capacity_count": [0],
            "onward_referrals_attended_count": [9],
            "onward_referral_conversion_pct": [None],
        }
    )
    protected = protect_table(icb, "icb_weekly")
    assert protected["onward_referrals_count"].to_list() == [10]  # shown as it was
    assert protected["onward_referral_conversion_pct"].to_list() == [100.0]  # 10 of 10

    def attack(report: pl.DataFrame) -> dict:
        program, pressure = Program(), Pressure()
        for la, published in las.items():
            path = tmp_path / f"{la}.csv"
            as_text(published).write_csv(path)
            add_extract_pressure(program, pressure, la, read_csv(path))
        add_report_icb_weekly(program, pressure, report)
        return program.pinned()

    pinned = attack(protected)
    assert {value for value, _ in pinned.values()} >= {1}
    assert len([key for key in pinned if key[0] == "week"]) == 12

    hidden = hide_weeks_extracts_hide(protected, weeks_extracts_hide(pl.concat(las.values())))
    assert hidden["onward_referrals_count"].to_list() == [None]
    assert hidden["onward_referrals_count" + SUPPRESSED_SUFFIX].to_list() == [True]
    assert hidden["onward_referral_conversion_pct"].is_null().all()
    assert not attack(hidden)
