"""Figures published on 2011 LSOAs (IoD2019 and its mid-2015 denominators) carried onto 2021
LSOAs with the ONS LSOA (2011) to LSOA (2021) lookup, whose change codes say what happened:

- U unchanged: the 2021 LSOA takes the 2011 figures;
- S split: each 2021 child takes its parent's score, rank and decile; a count (population)
  is shared equally among the children (the lookup has no weights);
- M merged: the 2021 LSOA takes the population-weighted average of its parents' scores and
  ranks, its decile recomputed from that rank, and the sum of their populations;
- X complex (9 rows in England): as for M, with each 2011 LSOA's population shared equally
  among the 2021 LSOAs it touches.

One rule covers all four: a 2011 LSOA with population p split among k 2021 LSOAs gives each
weight p / k; a 2021 figure is the weight-averaged figure of its 2011 LSOAs (a count: the sum
of p / k). ``lsoa_change_code`` records which case made each row.
"""

from pathlib import Path

import polars as pl

from ingest.errors import InputError
from ingest.reference.csv import read_text_csv
from ingest.reference.iod import BLOCK_KEYS, LSOAS_IN_ENGLAND, decile_of_rank


def read_lsoa11_lsoa21_lookup(path: Path) -> pl.DataFrame:
    raw = read_text_csv(path)
    needed = ["lsoa11_code", "lsoa21_code", "change_code"]
    if any(column not in raw.columns for column in needed):
        raise InputError(
            "not the LSOA (2011) to LSOA (2021) lookup: needs " + ", ".join(needed), path=path
        )
    return raw.select(
        "lsoa11_code",
        "lsoa21_code",
        pl.col("change_code").str.strip_chars().alias("change_code"),
        *[pl.col(c) for c in ("ltla22_code", "ltla22_name") if c in raw.columns],
    ).filter(pl.col("lsoa21_code").str.starts_with("E01"))


def _weights(lookup: pl.DataFrame, population: pl.DataFrame) -> pl.DataFrame:
    """lsoa11_code, lsoa21_code, change_code, weight (population / children)."""
    children = lookup.group_by("lsoa11_code").agg(pl.len().alias("children"))
    return (
        lookup.join(children, on="lsoa11_code")
        .join(population.select("lsoa11_code", "population_total"), on="lsoa11_code", how="left")
        .with_columns(
            weight=pl.col("population_total").fill_null(1.0) / pl.col("children"),
        )
    )


def _change_code() -> pl.Expr:
    # one code per 2021 LSOA: X beats M beats S beats U
    order = pl.col("change_code").replace_strict({"U": 0, "S": 1, "M": 2, "X": 3}, default=3)
    return pl.col("change_code").sort_by(order).last().alias("lsoa_change_code")


def population_to_2021(lookup: pl.DataFrame, population11: pl.DataFrame) -> pl.DataFrame:
    """Population counts (columns ``population_*`` keyed by ``lsoa_code`` 2011) on 2021 LSOAs."""
    counts = [c for c in population11.columns if c.startswith("population_")]
    pop = population11.rename({"lsoa_code": "lsoa11_code"})
    weighted = _weights(lookup, pop).drop("population_total").join(pop, on="lsoa11_code")
    return (
        weighted.group_by("lsoa21_code")
        .agg(
            *[(pl.col(c) / pl.col("children")).sum().alias(c) for c in counts],
            _change_code(),
        )
        .rename({"lsoa21_code": "lsoa_code"})
        .sort("lsoa_code")
    )


def iod_to_2021(lookup: pl.DataFrame, iod11: pl.DataFrame) -> pl.DataFrame:
    """IoD2019 File 7 columns (canonical names, 2011 LSOAs) on 2021 LSOAs.

    Scores and ranks are weight-averaged (see the module docstring), deciles are those of the
    averaged rank among the 32,844 LSOAs ranked in 2019, population columns are shared out.
    """
    weighted = _weights(lookup, iod11.rename({"lsoa_code": "lsoa11_code"})).join(
        iod11.drop("population_total").rename({"lsoa_code": "lsoa11_code"}), on="lsoa11_code"
    )
    lsoas = LSOAS_IN_ENGLAND[2011]
    averaged = []
    for key in BLOCK_KEYS:
        for part in ("score", "rank"):
            column = f"{key}_{part}"
            value = pl.col(column)
            known = pl.col("weight").filter(value.is_not_null()).sum()
            averaged.append(
                pl.when(known > 0)
                .then((value * pl.col("weight")).sum() / known)
                .otherwise(None)
                .alias(column)
            )
    counts = [c for c in iod11.columns if c.startswith("population_")]
    frame = (
        weighted.group_by("lsoa21_code")
        .agg(
            *averaged,
            *[(pl.col(c) / pl.col("children")).sum().alias(c) for c in counts],
            pl.col("ltla22_code").first().alias("lad_code")
            if "ltla22_code" in weighted.columns
            else pl.col("lad_code").first(),
            pl.col("ltla22_name").first().alias("lad_name")
            if "ltla22_name" in weighted.columns
            else pl.col("lad_name").first(),
            _change_code(),
            pl.len().alias("lsoa11_parents"),
        )
        .rename({"lsoa21_code": "lsoa_code"})
    )
    # Ranks: a single parent's rank is kept exactly; an average is rounded to a whole rank.
    frame = frame.with_columns(
        [pl.col(f"{key}_rank").round(0).cast(pl.Int64).alias(f"{key}_rank") for key in BLOCK_KEYS]
    ).with_columns(
        [decile_of_rank(pl.col(f"{key}_rank"), lsoas).alias(f"{key}_decile") for key in BLOCK_KEYS]
    )
    # Where one 2011 LSOA made the 2021 one, keep its published decile (identical anyway).
    single = iod11.select(
        pl.col("lsoa_code").alias("lsoa11_code"), *[f"{k}_decile" for k in BLOCK_KEYS]
    )
    only = lookup.join(
        frame.filter(pl.col("lsoa11_parents") == 1).select("lsoa_code"),
        left_on="lsoa21_code",
        right_on="lsoa_code",
        how="semi",
    )
    published = only.join(single, on="lsoa11_code").select(
        pl.col("lsoa21_code").alias("lsoa_code"), *[f"{k}_decile" for k in BLOCK_KEYS]
    )
    frame = frame.update(published, on="lsoa_code")
    return frame.sort("lsoa_code")
