"""An attacker of the disclosure control: everything that leaves (every local authority's
extract package and the report's data) read back as a reader gets it, turned into one
integer program, and every suppressed count searched for.

A reader knows, for every count of people that is published somewhere:

* a suppressed count (``[c]`` in CSV, null with its ``_is_suppressed`` flag in the report) is
  at least 1 (0 is always shown);
* a shown count ``v`` is 0 exactly when 0, else came from the interval that rounds to ``v``
  and is above the threshold (rounding base 5: ``[v - 2, v + 2]``);
* the same cell shown in several products (an extract and the report) has one true value;
* published totals: a local authority total row is the sum of its neighbourhoods' (or
  activities') rows; the report's whole-ICB row the sum of every neighbourhood's; a 12-month
  count the sum of the 12 monthly counts of its window; a 12-week count the sum of its
  activity's 12 weekly counts; an equity dimension's groups the referrals of every
  neighbourhood over the period's months (and every dimension's onward referrals one
  total); the report's weekly ICB onward referrals every activity's of that week; the PCNs'
  (12-month) referrals the neighbourhoods'; the community groups' onward referrals over
  their year the neighbourhoods' monthly ones over its months;
* what the columns derived from counts imply, with the public places and sessions: a week
  whose every session was full had at least as many attendees as places, one with no full
  session at most places - sessions; a week flagged over capacity had attendees >= places or
  an unmet onward referral, one not flagged neither; weeks over capacity in 12 is the number
  of flagged weeks in the activity's window, and "persistently over capacity" says whether
  it is at least the share set in dbt_project.yml; referred attendees are some of the
  attendees, unmet onward referrals some of the onward referrals; an activity missing from the
  report's list for its week is not persistently over capacity.

For each suppressed cell the program is minimised and maximised (scipy's ``milp``, HiGHS);
the cell is pinned when the two agree. ``pinned`` returns every pinned cell.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import yaml
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from orchestration.disclosure import DEFAULT_RULE, SUPPRESSED_SUFFIX, TABLES, DisclosureRule, Kind

CEILING = 100_000.0  # above any count here: a cell that reaches it is unbounded to a reader
NEED_MART = "fct_neighbourhood_need_capacity_monthly"
PRESSURE_MART = "fct_activity_pressure_weekly"
DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml"

Key = tuple[Any, ...]


def counts_of(table: str) -> list[str]:
    return [name for name, column in TABLES[table].columns.items() if column.kind == Kind.COUNT]


def shown_bounds(value: float | None, rule: DisclosureRule) -> tuple[float, float]:
    """A shown count's true interval (``value`` None: suppressed)."""
    if value is None:
        return (1.0, CEILING)
    if value == 0 or rule.rounding_base == 1:
        return (value, value)
    half = rule.rounding_base // 2
    low = max(value - half, rule.threshold + 1)
    return (low, value + (rule.rounding_base - 1 - half))


def text_value(text: str | None) -> tuple[bool, float | None]:
    """(published?, value) of a CSV cell: the marker is published as hidden (None)."""
    if text is None or text == "":
        return False, None
    if text == DEFAULT_RULE.marker:
        return True, None
    return True, float(text)


@dataclass
class Program:
    """The reader's integer program: variables by key, linear constraints lo <= a.x <= hi."""

    rule: DisclosureRule = DEFAULT_RULE
    index: dict[Key, int] = field(default_factory=dict)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    rows: list[tuple[dict[int, float], float, float]] = field(default_factory=list)
    hidden: dict[Key, list[str]] = field(default_factory=lambda: defaultdict(list))

    def var(self, key: Key, lower: float = 0.0, upper: float = CEILING) -> int:
        if key not in self.index:
            self.index[key] = len(self.lower)
            self.lower.append(0.0)
            self.upper.append(CEILING)
        at = self.index[key]
        self.lower[at] = max(self.lower[at], lower)
        self.upper[at] = min(self.upper[at], upper)
        return at

    def binary(self, key: Key) -> int:
        return self.var(key, 0.0, 1.0)

    def count(self, key: Key, published: bool, value: float | None, where: str) -> int:
        """A count cell as published in ``where``."""
        if not published:
            return self.var(key)
        if value is None:
            self.hidden[key].append(where)
        return self.var(key, *shown_bounds(value, self.rule))

    def constrain(self, terms: dict[int, float], lower: float, upper: float) -> None:
        self.rows.append((terms, lower, upper))

    def equal_sum(self, total: int, parts: Iterable[int]) -> None:
        terms: dict[int, float] = defaultdict(float)
        terms[total] -= 1
        for part in parts:
            terms[part] += 1
        self.constrain(dict(terms), 0, 0)

    # ------------------------------------------------------------------ the search

    def pinned(self) -> dict[Key, tuple[int, list[str]]]:
        """Suppressed cells with one value in every solution: {key: (value, where hidden)}."""
        found: dict[Key, tuple[int, list[str]]] = {}
        for variables, constraints in self._components():
            targets = [self.index[key] for key in self.hidden if self.index[key] in variables]
            if not targets:
                continue
            for at, value in _pinned_in(self, sorted(variables), constraints, targets).items():
                key = next(key for key, i in self.index.items() if i == at)
                found[key] = (value, self.hidden[key])
        return found

    def _components(self) -> list[tuple[set[int], list[int]]]:
        parent = list(range(len(self.lower)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for terms, _, _ in self.rows:
            first, *rest = terms
            for other in rest:
                parent[find(other)] = find(first)
        variables: dict[int, set[int]] = defaultdict(set)
        for i in range(len(self.lower)):
            variables[find(i)].add(i)
        constraints: dict[int, list[int]] = defaultdict(list)
        for row, (terms, _, _) in enumerate(self.rows):
            constraints[find(next(iter(terms)))].append(row)
        return [(members, constraints[root]) for root, members in variables.items()]


def _pinned_in(
    program: Program, variables: list[int], constraints: list[int], targets: list[int]
) -> dict[int, int]:
    column = {v: i for i, v in enumerate(variables)}
    data, rows, cols, lows, highs = [], [], [], [], []
    for row, at in enumerate(constraints):
        terms, low, high = program.rows[at]
        for v, coefficient in terms.items():
            rows.append(row)
            cols.append(column[v])
            data.append(coefficient)
        lows.append(low)
        highs.append(high)
    size = len(variables)
    bounds = Bounds(
        np.array([program.lower[v] for v in variables]),
        np.array([program.upper[v] for v in variables]),
    )
    constraint = (
        [LinearConstraint(csr_array((data, (rows, cols)), shape=(len(lows), size)), lows, highs)]
        if lows
        else []
    )
    integral = np.ones(size)

    def solve(objective: np.ndarray) -> np.ndarray | None:
        result = milp(objective, integrality=integral, bounds=bounds, constraints=constraint)
        return np.round(result.x) if result.status == 0 else None

    first = solve(np.zeros(size))
    assert first is not None, "the published figures contradict the reader's model"
    local = [column[t] for t in targets]
    seen = {t: {first[t]} for t in local}
    moved = {t for t in local if len(seen[t]) > 1}
    while True:  # push every unmoved target up together, then down together
        before = len(moved)
        for sign in (-1.0, 1.0):
            objective = np.zeros(size)
            objective[[t for t in local if t not in moved]] = sign
            solution = solve(objective)
            if solution is not None:
                for t in local:
                    seen[t].add(solution[t])
            moved = {t for t in local if len(seen[t]) > 1}
        if len(moved) == before or len(moved) == len(local):
            break
    pinned = {}
    for t in local:
        if t in moved:
            continue
        ends = []
        for sign in (1.0, -1.0):
            objective = np.zeros(size)
            objective[t] = sign
            solution = solve(objective)
            ends.append(None if solution is None else solution[t])
            if solution is not None:
                seen[t].add(solution[t])
            if len(seen[t]) > 1:
                break
        if len(seen[t]) == 1 and ends[0] is not None and ends[-1] is not None:
            pinned[variables[t]] = int(ends[0])
    return pinned


# ---------------------------------------------------------------------- what is published


def read_csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def _published_count(row: dict, name: str) -> tuple[bool, float | None]:
    """(published?, value) of a report cell: None with its flag set is suppressed."""
    if name not in row:
        return False, None
    if row.get(name + SUPPRESSED_SUFFIX):
        return True, None
    value = row[name]
    return (value is not None), (None if value is None else float(value))


# parts of a count, per neighbourhood and month: (part columns, the count); a reader also
# takes attendees to be at most the places
MONTHLY_PARTS = (
    (("onward_referrals_refused_no_capacity_count", "onward_referrals_waitlisted_count"),
     "onward_referrals_count"),
    (("onward_referrals_attended_count",), "onward_referrals_count"),
    (("first_visits_supported_count",), "onward_referrals_attended_count"),
    (("session_referred_attendees_count",), "session_attendees_count"),
)  # fmt: skip


def _monthly_parts(program: Program, neighbourhood: str, month: str, row: dict) -> None:
    for parts, whole in MONTHLY_PARTS:
        if whole not in row or not all(part in row for part in parts):
            continue
        terms = {program.var(("month", neighbourhood, month, whole)): -1.0}
        for part in parts:
            terms[program.var(("month", neighbourhood, month, part))] = 1.0
        program.constrain(terms, -CEILING, 0)
    published, places = text_value(str(row.get("session_places_count") or ""))
    if (
        published
        and places is not None
        and row.get("session_attendees_count")
        in (
            DEFAULT_RULE.marker,
            None,
        )
    ):
        attendees = program.var(("month", neighbourhood, month, "session_attendees_count"))
        program.constrain({attendees: 1.0}, -CEILING, places)


def add_extract_monthly(program: Program, la: str, frame: pl.DataFrame) -> None:
    where = f"extract {la} need_capacity_monthly"
    counts = [name for name in counts_of(NEED_MART) if name in frame.columns]
    by_month: dict[str, list[dict]] = defaultdict(list)
    for row in frame.iter_rows(named=True):
        by_month[row["month_start_date"]].append(row)
        if row["is_total"] != "true":
            _monthly_parts(program, row["neighbourhood_code"], row["month_start_date"], row)
    for month, rows in by_month.items():
        for name in counts:
            parts, total = [], None
            for row in rows:
                published, value = text_value(row[name])
                if row["is_total"] == "true":
                    key = ("month-la", la, month, name)
                    total = program.count(key, published, value, where)
                else:
                    key = ("month", row["neighbourhood_code"], month, name)
                    parts.append(program.count(key, published, value, where))
            if total is not None:
                program.equal_sum(total, parts)


def add_report_monthly(program: Program, frame: pl.DataFrame) -> None:
    where = "report neighbourhood_monthly"
    counts = [name for name in counts_of(NEED_MART) if name in frame.columns]
    by_month: dict[Any, list[dict]] = defaultdict(list)
    for row in frame.iter_rows(named=True):
        by_month[str(row["month_start_date"])].append(row)
    for month, rows in by_month.items():
        for name in counts:
            parts, total = [], None
            for row in rows:
                published, value = _published_count(row, name)
                if row["is_total"]:
                    total = program.count(("month-icb", month, name), published, value, where)
                else:
                    key = ("month", row["neighbourhood_code"], month, name)
                    parts.append(program.count(key, published, value, where))
            if total is not None:
                program.equal_sum(total, parts)


# 12-month counts of the gap table: the monthly counts they add up
TWELVE_MONTHS = {
    "referrals_12m_count": ("referrals_count",),
    "onward_referrals_12m_count": ("onward_referrals_count",),
    "onward_referrals_unmet_12m_count": (
        "onward_referrals_refused_no_capacity_count",
        "onward_referrals_waitlisted_count",
    ),
}


def _months(start: Any, end: Any) -> list[str]:
    dates = pl.date_range(start, end, "1mo", eager=True)
    return [str(day) for day in dates]


def add_report_gap(program: Program, frame: pl.DataFrame) -> None:
    where = "report neighbourhood_gap"
    for row in frame.iter_rows(named=True):
        months = _months(row["period_start_date"], row["period_end_date"])
        for name, monthly in TWELVE_MONTHS.items():
            published, value = _published_count(row, name)
            if not published:
                continue
            total = program.count(
                ("12m", row["neighbourhood_code"], months[0], name), published, value, where
            )
            parts = [
                program.var(("month", row["neighbourhood_code"], month, part))
                for month in months
                for part in monthly
            ]
            program.equal_sum(total, parts)


def add_report_equity(program: Program, frame: pl.DataFrame, neighbourhoods: list[str]) -> None:
    """Each dimension's groups share out the referrals of the period: their sum is the sum of
    every neighbourhood's monthly referrals over the period's months."""
    where = "report equity"
    for (dimension,), rows in frame.partition_by(
        "equity_dimension", as_dict=True, maintain_order=True
    ).items():
        parts = []
        for row in rows.iter_rows(named=True):
            published, value = _published_count(row, "referrals_count")
            key = ("equity", dimension, row["group_value"], "referrals_count")
            parts.append(program.count(key, published, value, where))
        first = rows.row(0, named=True)
        months = _months(first["period_start_date"], first["period_end_date"])
        monthly = [
            program.var(("month", code, month, "referrals_count"))
            for code in neighbourhoods
            for month in months
        ]
        terms: dict[int, float] = defaultdict(float)
        for part in parts:
            terms[part] += 1
        for cell in monthly:
            terms[cell] -= 1
        program.constrain(dict(terms), 0, 0)


def _sum_of(program: Program, parts: Iterable[int], wholes: Iterable[int]) -> None:
    """sum(parts) = sum(wholes): two publications of one total."""
    terms: dict[int, float] = defaultdict(float)
    for part in parts:
        terms[part] += 1
    for whole in wholes:
        terms[whole] -= 1
    program.constrain(dict(terms), 0, 0)


def _at_most(program: Program, part: int, whole: int) -> None:
    program.constrain({part: 1.0, whole: -1.0}, -CEILING, 0)


def _twelve_months(end: Any) -> list[str]:
    start = pl.Series([end]).cast(pl.Date).dt.offset_by("-11mo")[0]
    return _months(start, end)


def add_report_equity_onward(program: Program, frame: pl.DataFrame) -> None:
    """Every dimension shares out the same onward referrals (and those attended): the groups
    of each dimension add up to one total; per group attended <= onward <= referrals. (Not
    tied to the monthly counts: the equity table counts them by another date.)"""
    where = "report equity"
    names = ("referrals_count", "onward_referrals_count", "onward_referrals_attended_count")
    for (dimension,), rows in frame.partition_by(
        "equity_dimension", as_dict=True, maintain_order=True
    ).items():
        cells: dict[str, list[int]] = defaultdict(list)
        for row in rows.iter_rows(named=True):
            for name in names:
                published, value = _published_count(row, name)
                key = ("equity", dimension, row["group_value"], name)
                cells[name].append(program.count(key, published, value, where))
            _at_most(program, cells[names[2]][-1], cells[names[1]][-1])
            _at_most(program, cells[names[1]][-1], cells[names[0]][-1])
        for name in names[1:]:
            _sum_of(program, cells[name], [program.var(("equity-total", name))])


def add_report_pcn(program: Program, frame: pl.DataFrame, neighbourhoods: list[str]) -> None:
    """The PCNs share out the ICB's referrals: their month's referrals add up to every
    neighbourhood's referrals of that month, their 12-month referrals to the 12 months to it;
    per PCN first contacts within 14 days <= referrals <= 12-month referrals. (Open caseloads
    are published nowhere else.)"""
    where = "report pcn_caseload"
    names = (
        "open_caseload",
        "referrals_count",
        "referrals_12m_count",
        "first_contact_within_14_days_count",
    )
    for (month,), rows in frame.partition_by(
        "month_start_date", as_dict=True, maintain_order=True
    ).items():
        cells: dict[str, list[int]] = defaultdict(list)
        for row in rows.iter_rows(named=True):
            for name in names:
                published, value = _published_count(row, name)
                key = ("pcn", row["pcn_code"], str(month), name)
                cells[name].append(program.count(key, published, value, where))
            _at_most(program, cells[names[3]][-1], cells[names[1]][-1])
            _at_most(program, cells[names[1]][-1], cells[names[2]][-1])
        monthly = [
            program.var(("month", code, str(month), "referrals_count")) for code in neighbourhoods
        ]
        _sum_of(program, cells["referrals_count"], monthly)
        window = [
            program.var(("month", code, m, "referrals_count"))
            for code in neighbourhoods
            for m in _twelve_months(month)
        ]
        _sum_of(program, cells["referrals_12m_count"], window)


def add_report_groups(program: Program, frame: pl.DataFrame, neighbourhoods: list[str]) -> None:
    """Community groups over a year: the onward referrals they received add up to every
    neighbourhood's monthly onward referrals over the year's months; per group the referred
    people who came <= the referrals it received."""
    where = "report community_groups"
    if frame.is_empty():
        return
    received = []
    for row in frame.iter_rows(named=True):
        cells = []
        for name in ("onward_referrals_received_count", "referred_people_attended_count"):
            published, value = _published_count(row, name)
            key = ("group", row["provider_id"], name)
            cells.append(program.count(key, published, value, where))
        _at_most(program, cells[1], cells[0])
        received.append(cells[0])
    months = _months(frame["period_start_date"].min(), frame["period_end_date"].max())
    monthly = [
        program.var(("month", code, m, "onward_referrals_count"))
        for code in neighbourhoods
        for m in months
    ]
    _sum_of(program, received, monthly)


def add_report_icb_weekly(program: Program, pressure: Pressure, frame: pl.DataFrame) -> None:
    """The ICB's week: its onward referrals are every activity's of that week (the activity
    pressure rows); refused <= every activity's unmet; refused, attended <= onward. (Its
    referrals are published weekly nowhere else, and weeks straddle months.)"""
    where = "report icb_weekly"
    names = (
        "referrals_count",
        "onward_referrals_count",
        "onward_referrals_refused_no_capacity_count",
        "onward_referrals_attended_count",
    )
    for row in frame.iter_rows(named=True):
        week = str(row["week_start_date"])
        cells = {}
        for name in names:
            published, value = _published_count(row, name)
            cells[name] = program.count(("week-icb", week, name), published, value, where)
        onward = cells["onward_referrals_count"]
        _at_most(program, cells["onward_referrals_refused_no_capacity_count"], onward)
        _at_most(program, cells["onward_referrals_attended_count"], onward)
        activities = [a for a, weeks in pressure.weeks.items() if week in weeks]
        if not activities:
            continue  # a week no extract shows
        _sum_of(
            program,
            [program.var(("week", a, week, "onward_referrals_count")) for a in activities],
            [onward],
        )
        unmet = [program.var(("week", a, week, "onward_referrals_unmet_count")) for a in activities]
        program.constrain(
            {cells["onward_referrals_refused_no_capacity_count"]: 1.0, **{u: -1.0 for u in unmet}},
            -CEILING,
            0,
        )


@dataclass
class Pressure:
    """What the activity-pressure rows published say about each activity's weeks."""

    weeks: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    public: dict[tuple[str, str], dict] = field(default_factory=dict)
    share: float = 75.0


def _persistently(program: Program, window: list[int], weeks_with: int, flag: bool, share: float):
    """``flag``: 100 x (flagged weeks in the window) / weeks_with >= share."""
    if weeks_with <= 0:
        return
    least = math.ceil(share * weeks_with / 100 - 1e-9)
    terms = {v: 1.0 for v in window}
    if flag:
        program.constrain(terms, least, CEILING)
    else:
        program.constrain(terms, -CEILING, least - 1)


def add_extract_pressure(program: Program, pressure: Pressure, la: str, frame: pl.DataFrame):
    where = f"extract {la} activity_pressure"
    counts = [name for name in counts_of(PRESSURE_MART) if name in frame.columns]
    frame = frame.sort("activity_id", "week_start_date", nulls_last=True)
    by_week: dict[str, list[dict]] = defaultdict(list)
    for row in frame.iter_rows(named=True):
        by_week[row["week_start_date"]].append(row)
        if row["is_total"] != "true":
            pressure.weeks[row["activity_id"]].append(row["week_start_date"])
    for week, rows in by_week.items():
        for name in counts:
            parts, total = [], None
            for row in rows:
                published, value = text_value(row[name])
                if row["is_total"] == "true":
                    total = program.count(("week-la", la, week, name), published, value, where)
                else:
                    key = ("week", row["activity_id"], week, name)
                    parts.append(program.count(key, published, value, where))
            if total is not None:
                program.equal_sum(total, parts)
        total_row = next((row for row in rows if row["is_total"] == "true"), None)
        for row in rows:
            if row["is_total"] == "true":
                continue
            activity = row["activity_id"]
            pressure.public[(activity, week)] = row
            _week_implications(program, row, activity, week)
            if total_row is not None and total_row.get("is_over_capacity") in ("true", "false"):
                # a total row takes a flag that is the same in every row of its week
                flag = float(total_row["is_over_capacity"] == "true")
                program.var(("over", activity, week), flag, flag)
    for activity, weeks in pressure.weeks.items():
        for at, week in enumerate(weeks):
            row = pressure.public.get((activity, week))
            if row is None:
                continue
            window = [
                program.binary(("over", activity, w)) for w in weeks[max(0, at - 11) : at + 1]
            ]
            published, value = text_value(row.get("weeks_over_capacity_12w"))
            if published and value is not None:
                program.constrain({v: 1.0 for v in window}, value, value)
            flag = row.get("is_persistently_over_capacity")
            with_ = text_value(row.get("weeks_with_sessions_12w"))[1]
            if flag in ("true", "false") and with_ is not None:
                _persistently(program, window, int(with_), flag == "true", pressure.share)


def _week_implications(program: Program, row: dict, activity: str, week: str) -> None:
    def number(name: str) -> float | None:
        published, value = text_value(row.get(name))
        return value if published else None

    attendees = program.var(("week", activity, week, "attendees_count"))
    referred = program.var(("week", activity, week, "referred_attendees_count"))
    onward = program.var(("week", activity, week, "onward_referrals_count"))
    unmet = program.var(("week", activity, week, "onward_referrals_unmet_count"))
    program.constrain({referred: 1, attendees: -1}, -CEILING, 0)
    program.constrain({unmet: 1, onward: -1}, -CEILING, 0)
    sessions, places, full = number("sessions_count"), number("places_count"), None
    if row.get("sessions_full_count") not in (None, "", DEFAULT_RULE.marker):
        full = float(row["sessions_full_count"])
    over = program.binary(("over", activity, week))
    flag = row.get("is_over_capacity")
    if flag in ("true", "false"):
        value = float(flag == "true")
        program.var(("over", activity, week), value, value)
    if sessions is None or places is None:
        return
    if sessions == 0:
        program.var(("week", activity, week, "attendees_count"), 0, 0)
        program.var(("over", activity, week), 0, 0)
        return
    hidden = row.get("attendees_count") == DEFAULT_RULE.marker
    if hidden and places is not None:  # the reader takes attendance to be at most the places
        program.constrain({attendees: 1}, -CEILING, places)
    if full is not None and full == sessions:
        # full: attendees >= places; where attendees are hidden the reader takes them to be
        # the places (true of every such week in the demo, though a session can be overfull)
        program.constrain({attendees: 1}, places, places if hidden else CEILING)
    if full == 0:
        program.constrain({attendees: 1}, -CEILING, places - sessions)
    # over capacity: attendees >= places (utilisation >= 100%) or an unmet onward referral;
    # not over capacity: attendees <= places - 1 and no unmet onward referral
    by_places = program.binary(("over-places", activity, week))
    by_unmet = program.binary(("over-unmet", activity, week))
    program.constrain({attendees: 1, over: -CEILING}, -CEILING, places - 1)
    program.constrain({unmet: 1, over: -CEILING}, -CEILING, 0)
    program.constrain({attendees: 1, by_places: -places}, 0, CEILING)
    if hidden:  # over capacity by places: the reader takes attendees to be the places
        program.constrain({attendees: 1, by_places: CEILING}, -CEILING, places + CEILING)
    program.constrain({unmet: 1, by_unmet: -1}, 0, CEILING)
    program.constrain({by_places: 1, by_unmet: 1, over: -1}, 0, CEILING)


def add_report_pressure(program: Program, pressure: Pressure, frame: pl.DataFrame) -> None:
    where = "report activity_pressure"
    listed = set()
    weeks_shown = {str(week) for week in frame["week_start_date"].to_list()}
    for row in frame.iter_rows(named=True):
        activity, week = row["activity_id"], str(row["week_start_date"])
        listed.add(activity)
        weeks = pressure.weeks.get(activity, [])
        if week not in weeks:
            continue  # an activity no extract shows: nothing to tie it to
        at = weeks.index(week)
        span = weeks[max(0, at - 11) : at + 1]
        window = [program.binary(("over", activity, w)) for w in span]
        if row.get("weeks_over_capacity_12w") is not None:
            value = float(row["weeks_over_capacity_12w"])
            program.constrain({v: 1.0 for v in window}, value, value)
        if (
            row.get("is_persistently_over_capacity") is not None
            and row.get("weeks_with_sessions_12w") is not None
        ):
            _persistently(
                program,
                window,
                int(row["weeks_with_sessions_12w"]),
                bool(row["is_persistently_over_capacity"]),
                pressure.share,
            )
        published, value = _published_count(row, "onward_referrals_12w_count")
        if published:
            total = program.count(("12w", activity, week), published, value, where)
            parts = [program.var(("week", activity, w, "onward_referrals_count")) for w in span]
            program.equal_sum(total, parts)
    # the list is every activity persistently over capacity (or referred without funding)
    # that week: one missing is not persistently over capacity
    for week in weeks_shown:
        for activity, weeks in pressure.weeks.items():
            if activity in listed or week not in weeks:
                continue
            row = pressure.public.get((activity, week), {})
            with_ = text_value(row.get("weeks_with_sessions_12w"))[1]
            if with_ is None:
                continue
            at = weeks.index(week)
            window = [
                program.binary(("over", activity, w)) for w in weeks[max(0, at - 11) : at + 1]
            ]
            _persistently(program, window, int(with_), False, pressure.share)


def attack(extracts_run: Path, report_db: Path | None, rule: DisclosureRule = DEFAULT_RULE):
    """The program of everything published in the extract packages of ``extracts_run``
    (one run date's folder) and the report database ``report_db``; its pinned cells."""
    program = Program(rule)
    variables = (yaml.safe_load(DBT_PROJECT.read_text()) or {}).get("vars", {})
    pressure = Pressure(share=float(variables.get("persistently_over_capacity_weeks_pct", 75)))
    for package in sorted(p for p in extracts_run.iterdir() if p.is_dir()):
        monthly = package / "need_capacity_monthly.csv"
        if monthly.exists():
            add_extract_monthly(program, package.name, read_csv(monthly))
        weekly = package / "activity_pressure.csv"
        if weekly.exists():
            add_extract_pressure(program, pressure, package.name, read_csv(weekly))
    if report_db is not None:
        con = duckdb.connect(str(report_db), read_only=True)
        try:
            tables = {
                name: con.sql(f'select * from icp."{name}"').pl()
                for (name,) in con.execute(
                    "select table_name from information_schema.tables where table_schema = 'icp'"
                ).fetchall()
            }
        finally:
            con.close()
        if "neighbourhood_monthly" in tables:
            add_report_monthly(program, tables["neighbourhood_monthly"])
        if "neighbourhood_gap" in tables:
            add_report_gap(program, tables["neighbourhood_gap"])
        if "equity" in tables and "neighbourhoods" in tables:
            codes = tables["neighbourhoods"]["neighbourhood_code"].to_list()
            add_report_equity(program, tables["equity"], codes)
        if "activity_pressure" in tables:
            add_report_pressure(program, pressure, tables["activity_pressure"])
        if "icb_weekly" in tables:
            add_report_icb_weekly(program, pressure, tables["icb_weekly"])
        codes = (
            tables["neighbourhoods"]["neighbourhood_code"].to_list()
            if "neighbourhoods" in tables
            else []
        )
        if "equity" in tables:
            add_report_equity_onward(program, tables["equity"])
        if "pcn_caseload" in tables and codes:
            add_report_pcn(program, tables["pcn_caseload"], codes)
        if "community_groups" in tables and codes:
            add_report_groups(program, tables["community_groups"], codes)
    return program
