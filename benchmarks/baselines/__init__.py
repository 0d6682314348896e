"""The core monthly need-versus-capacity mart written without the pipeline: in pandas alone
(``pandas_mart.py``) and as one DuckDB SQL script over the raw tables (``duckdb_mart.sql``)."""
