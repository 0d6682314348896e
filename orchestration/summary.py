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
    round(referrals_per_1000_12m, 1),
    round(weekly_places_per_1000, 1),
    round(funding_per_head_12m_gbp, 2),
    round(gap_score, 2)
from marts.fct_neighbourhood_gap
order by gap_rank
limit 5
"""


def build_summary(db_path: Path) -> str:
    """Rows per table and the five neighbourhoods with the widest need-capacity gap."""
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
        lines += [
            "",
            "Widest need-capacity gaps (last 12 months; see docs/metrics.md):",
            f"  {'rank':>4}  {'code':<10} {'neighbourhood':<32} {'ref/1k':>7} "
            f"{'places/1k':>9} {'£/head':>7} {'gap':>6}",
        ]
        for rank, code, name, referrals, places, funding, gap in con.execute(GAP_QUERY).fetchall():
            lines.append(
                f"  {rank:>4}  {code:<10} {name[:32]:<32} {referrals:>7} {places:>9} "
                f"{funding:>7} {gap:>6}"
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
