"""Run ``duckdb_mart.sql`` (the engine floor) against a warehouse's raw tables, read-only,
into a table ``duckdb_mart`` of a separate DuckDB file."""

from pathlib import Path

import duckdb

SQL_PATH = Path(__file__).with_name("duckdb_mart.sql")


def build(warehouse: Path, out_db: Path) -> int:
    """Create ``duckdb_mart`` in ``out_db`` from the raw tables of ``warehouse``; return rows."""
    out_db.unlink(missing_ok=True)
    con = duckdb.connect(str(out_db))
    try:
        con.execute(f"attach '{warehouse}' as warehouse (read_only)")
        con.execute("use warehouse")
        query = SQL_PATH.read_text()
        con.execute(f"create table {_quote(out_db)}.main.duckdb_mart as {query}")
        return con.execute(f"select count(*) from {_quote(out_db)}.main.duckdb_mart").fetchone()[0]
    finally:
        con.close()


def _quote(path: Path) -> str:
    return '"' + path.stem.replace('"', '""') + '"'
