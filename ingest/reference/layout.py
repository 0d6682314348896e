"""Frames laid out for a contract: absent optional columns added as typed nulls."""

import polars as pl

from ingest.contracts.model import Contract

_POLARS = {
    "string": pl.String,
    "integer": pl.Int64,
    "float": pl.Float64,
    "date": pl.Date,
    "boolean": pl.Boolean,
}


def with_optional_columns(contract: Contract, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` plus every optional contract column it lacks, empty (a contract may gain an
    optional column that older writers, such as the demo generator, do not fill)."""
    absent = [c for c in contract.columns if c.optional and c.name not in frame.columns]
    return frame.with_columns(pl.lit(None, dtype=_POLARS[c.dtype]).alias(c.name) for c in absent)
