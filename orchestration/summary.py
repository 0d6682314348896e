"""The one-screen summary printed after a build."""

from pathlib import Path

import duckdb

from ingest.contracts import CONTRACTS
from orchestration.extracts import extracts_root
from orchestration.publish import published_path

GAP_QUERY = """
select
    gap_rank,
    neighbourhood_code,
    neighbourhood_name,
    round(gap_score, 2),
    is_underfunded,
    need_main_component,
    capacity_weakest_component
from marts.fct_neighbourhood_need_capacity_index
where is_latest_month
order by gap_rank
limit 5
"""

# the index's component columns in plain words (need: why high; capacity: why low)
NEED_REASONS = {
    "referrals_per_1000_12m": "many referrals per head",
    "imd_score_pop_weighted": "high deprivation",
    "onward_referrals_unmet_pct_12m": "onward referrals refused or waitlisted",
}
CAPACITY_REASONS = {
    "weekly_places_per_1000": "few weekly places",
    "funding_per_head_12m_gbp": "little funding per head",
    "link_worker_fte_per_10k": "few link workers",
}


def build_summary(db_path: Path) -> str:
    """Rows per table and the five neighbourhoods with the widest need-capacity gap in the
    latest complete month, whether each is flagged underfunded, and why."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        lines = ["Rows loaded per source (quarantined):"]
        quarantined = dict(
            con.execute(
                "select source, sum(rows_quarantined) from audit.loads "
                "where status = 'loaded' group by source"
            ).fetchall()
        )
        for name in CONTRACTS:
            (count,) = con.execute(f"select count(*) from raw.{name}").fetchone()  # type: ignore[misc]
            lines.append(f"  raw.{name:<24} {count:>12,}  ({quarantined.get(name, 0):,})")
        marts = con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' order by table_name"
        ).fetchall()
        lines += ["", "Marts:"]
        for (table,) in marts:
            (count,) = con.execute(f"select count(*) from marts.{table}").fetchone()  # type: ignore[misc]
            lines.append(f"  marts.{table:<40} {count:>10,} rows")
        gaps = con.execute(GAP_QUERY).fetchall()
        month = con.execute(
            "select max(month_start_date) from marts.fct_neighbourhood_need_capacity_index"
        ).fetchone()[0]  # type: ignore[index]
        period = f"12 months to {month:%B %Y}" if month else "no complete month yet"
        lines += [
            "",
            f"Widest need-capacity gaps, {period} "
            "(marts.fct_neighbourhood_need_capacity_index; see docs/metrics.md):",
            f"  {'rank':>4}  {'code':<10} {'neighbourhood':<28} {'gap':>6}  "
            f"{'underfunded':<11}  why",
        ]
        for rank, code, name, gap, flagged, need, capacity in gaps:
            why = (
                f"need: {NEED_REASONS.get(need, need)}; "
                f"capacity: {CAPACITY_REASONS.get(capacity, capacity)}"
            )
            lines.append(
                f"  {rank:>4}  {code:<10} {name[:28]:<28} {gap:>6}  "
                f"{'yes' if flagged else 'no':<11}  {why}"
            )
        lines += [
            "",
            f"Build warehouse (written by the pipeline): {db_path}",
            f"Published warehouse (open this, read-only): {published_path(db_path)}",
            f"Local authority extracts (small numbers suppressed): {extracts_root(db_path)}/",
            "Run history and the asset graph: `make dev`, then http://127.0.0.1:3000",
        ]
        return "\n".join(lines)
    finally:
        con.close()
