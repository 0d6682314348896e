"""The dbt models stay portable: DuckDB-only syntax that has a cross-database form is not
written in dbt_project's SQL (docs/benchmarks.md, "Kept portable", lists what stays
DuckDB-only because nothing portable does the same)."""

import re
from pathlib import Path

import pytest

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
SCANNED = ("models", "macros", "tests")

# DuckDB-only syntax -> the portable form to write instead
DUCKDB_ONLY = {
    r"\bfilter\s*\(\s*where\b": (
        "aggregate filter clause: write count(case when ... then 1 end), "
        "sum(case when ... then x end)"
    ),
    r"::": "DuckDB/Postgres cast: write cast(... as ...)",
    r"\binterval\b": "interval arithmetic: write dbt.dateadd / dbt.datediff",
    r"(?<![\w.])(date_trunc|datediff|date_diff|dateadd|date_add|date_sub|last_day)\s*\(": (
        "date function: write dbt.date_trunc / dbt.datediff / dbt.dateadd / dbt.last_day"
    ),
    r"(?<![\w.])(year|quarter|month|day|dayofmonth|hour|minute|second)\s*\(": (
        "date part function: write extract(part from ...)"
    ),
    r"(?<![\w.])(strftime|strptime|epoch|epoch_ms|make_date)\s*\(": (
        "DuckDB date formatting: use dbt.date_trunc / dbt.dateadd / cast(... as date)"
    ),
}


def _without_comments(sql: str) -> str:
    """The SQL and Jinja code of a file, without Jinja or SQL line comments (which may name
    the syntax they avoid); lines keep their numbers."""
    sql = re.sub(
        r"\{#.*?#\}", lambda comment: "\n" * comment.group().count("\n"), sql, flags=re.DOTALL
    )
    return re.sub(r"--[^\n]*", "", sql)


def duckdb_only_uses(sql: str) -> list[tuple[int, str, str]]:
    """(line, text, what to write instead) for each DuckDB-only construct in ``sql``; a
    construct may span lines (``filter (`` then ``where`` on the next)."""
    code = _without_comments(sql)
    lines = code.splitlines()
    found = []
    for pattern, instead in DUCKDB_ONLY.items():
        for match in re.finditer(pattern, code, flags=re.IGNORECASE):
            number = code.count("\n", 0, match.start()) + 1
            found.append((number, lines[number - 1].strip(), instead))
    return sorted(found)


@pytest.mark.parametrize(
    "sql",
    [
        "count(*) filter (where is_attended) as attended",
        "sum(x) FILTER ( WHERE y = 1 )",
        "sum(x) filter (\n    where y = 1\n) as z",
        "select referral_date::date",
        "period_end_date + interval 6 month",
        "cast(date_trunc('month', d) as date)",
        "cast(year(date_day) as integer)",
        "strftime(d, '%Y')",
    ],
)
def test_the_scan_finds_duckdb_only_syntax(sql: str) -> None:
    assert duckdb_only_uses(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "count(case when is_attended then 1 end) as attended",
        "{{ dbt.dateadd('month', 6, 'period_end_date') }}",
        "cast({{ dbt.date_trunc('month', 'd') }} as date)",
        "cast(extract(year from date_day) as integer) as calendar_year",
        "-- not count(*) filter (where ...): Snowflake has no filter clause",
        "{# + interval 6 month #} select 1",
    ],
)
def test_portable_sql_passes(sql: str) -> None:
    assert not duckdb_only_uses(sql)


def test_dbt_sql_uses_no_duckdb_only_syntax_that_has_a_portable_form() -> None:
    files = sorted(path for folder in SCANNED for path in (DBT_PROJECT / folder).rglob("*.sql"))
    assert len(files) > 40, f"expected the dbt project's SQL under {DBT_PROJECT}"
    problems = [
        f"{path.relative_to(DBT_PROJECT)}:{number}: {text}  ({instead})"
        for path in files
        for number, text, instead in duckdb_only_uses(path.read_text(encoding="utf-8"))
    ]
    assert not problems, "DuckDB-only syntax in the dbt project:\n" + "\n".join(problems)
