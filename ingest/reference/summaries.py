"""Area deprivation summaries computed from LSOA figures the way the IoD's local authority
summaries are (IoD2019 research report, summary measures): population-weighted average
score and rank, and the proportion of an area's LSOAs in the most deprived 10% nationally.

Extent and local concentration (the other two published summary measures) are not computed
yet: see docs/reference-data.md.
"""

import polars as pl


def area_summaries(
    lsoas: pl.DataFrame,
    area: str,
    *,
    name: str | None = None,
    population: str = "population_total",
) -> pl.DataFrame:
    """One row per ``area``: LSOA count, population, population-weighted average IMD score
    and rank (rank 1 most deprived, so a lower average rank is more deprived), the proportion
    of LSOAs in national decile 1, and each measure's rank among the areas (1 most deprived).

    ``lsoas`` needs ``imd_score``, ``imd_rank``, ``imd_decile`` and ``population``.
    """
    weight = pl.col(population)
    keys = [area] + ([name] if name else [])
    frame = lsoas.group_by(keys).agg(
        pl.len().alias("lsoas"),
        weight.sum().alias("population"),
        ((pl.col("imd_score") * weight).sum() / weight.sum()).alias("imd_average_score"),
        ((pl.col("imd_rank") * weight).sum() / weight.sum()).alias("imd_average_rank"),
        (pl.col("imd_decile") == 1).mean().alias("imd_proportion_lsoas_most_deprived_10pct"),
    )
    return frame.with_columns(
        pl.col("imd_average_score").rank("min", descending=True).alias("imd_average_score_rank"),
        pl.col("imd_average_rank").rank("min").alias("imd_average_rank_rank"),
        pl.col("imd_proportion_lsoas_most_deprived_10pct")
        .rank("min", descending=True)
        .alias("imd_proportion_lsoas_most_deprived_10pct_rank"),
    ).sort(area)
