"""Area deprivation summaries computed from LSOA figures the way the IoD's local authority
summaries are (IoD2019 research report, chapter on summary measures), for districts, and for
ICBs and sub-ICB locations, which no official file covers.

- average score: population-weighted mean of the LSOA scores;
- average rank: population-weighted mean of the LSOA ranks, with the ranks turned round as
  the published summaries do (the most deprived LSOA counts N, the least 1), so a higher
  average rank is more deprived;
- proportion of the area's LSOAs in the most deprived 10% nationally (decile 1);
- extent: the share of the population living in the most deprived 30% of LSOAs, those in the
  most deprived 10% counting in full and those between 10% and 30% on a sliding weight from
  0.95 down to 0.05;
- local concentration: the population-weighted mean turned-round rank of the area's most
  deprived LSOAs that hold exactly 10% of its population (the last one counted in part).

The district ranks these give on IoD2019 match those quoted from the published File 10 for
every measure (tests/ingest/test_reference_checks.py cites the pages: Manchester's extent and
local concentration ranks, the top tens on average score and average rank, and others), which
checks the sliding weight of extent and the part-LSOA of local concentration; the File 10
values of extent and local concentration themselves were not found quoted anywhere.
"""

from pathlib import Path

import polars as pl


def area_summaries(
    lsoas: pl.DataFrame,
    area: str,
    *,
    name: str | None = None,
    national_lsoas: int,
    population: str = "population_total",
) -> pl.DataFrame:
    """One row per ``area`` with the five summary measures and each one's rank among the
    areas (1 most deprived). ``lsoas`` needs ``imd_score``, ``imd_rank`` (1 most deprived,
    out of ``national_lsoas``), ``imd_decile`` and ``population``."""
    weight = pl.col(population)
    turned = national_lsoas + 1 - pl.col("imd_rank")
    fraction = pl.col("imd_rank") / national_lsoas
    extent_weight = (
        pl.when(fraction <= 0.1)
        .then(1.0)
        .when(fraction <= 0.3)
        .then(0.95 - 0.9 * (fraction - 0.1) / 0.2)
        .otherwise(0.0)
    )
    keys = [area] + ([name] if name else [])
    # local concentration: the most deprived LSOAs up to 10% of the area's population
    ordered = lsoas.sort(area, "imd_rank").with_columns(
        _cum=weight.cum_sum().over(area),
        _tenth=0.1 * weight.sum().over(area),
    )
    ordered = ordered.with_columns(
        _within=pl.min_horizontal(weight, pl.col("_tenth") - (pl.col("_cum") - weight)).clip(0)
    )
    frame = ordered.group_by(keys).agg(
        pl.len().alias("lsoas"),
        weight.sum().alias("population"),
        ((turned * weight).sum() / weight.sum()).alias("imd_average_rank"),
        ((pl.col("imd_score") * weight).sum() / weight.sum()).alias("imd_average_score"),
        (pl.col("imd_decile") == 1).mean().alias("imd_proportion_lsoas_most_deprived_10pct"),
        ((extent_weight * weight).sum() / weight.sum()).alias("imd_extent"),
        ((turned * pl.col("_within")).sum() / pl.col("_within").sum()).alias(
            "imd_local_concentration"
        ),
    )
    return frame.with_columns(
        pl.col(m).rank("min", descending=True).cast(pl.Int64).alias(f"{m}_rank") for m in MEASURES
    ).sort(area)


MEASURES = (
    "imd_average_rank",
    "imd_average_score",
    "imd_proportion_lsoas_most_deprived_10pct",
    "imd_extent",
    "imd_local_concentration",
)


def fill_population(lsoas: pl.DataFrame, population: pl.DataFrame, column: str) -> pl.DataFrame:
    """``lsoas`` with ``column`` (the IoD's population denominators) filled where null from
    ``population`` (lsoa_code, population_total): the weight of the area summaries, in the
    prepared deprivation file and in the mart alike."""
    source = population.select("lsoa_code", pl.col("population_total").alias("_population"))
    return (
        lsoas.join(source, on="lsoa_code", how="left")
        .with_columns(pl.coalesce(column, "_population").alias(column))
        .drop("_population")
    )


def national_lsoa_count(iod_edition: int | None, max_rank: int) -> int:
    """How many LSOAs an edition ranks (its ranks run 1..N): 32,844 for IoD2019 (2011 LSOAs,
    also when carried onto 2021 LSOAs), 33,755 for IoD2025; for files that say no edition
    (the fictional demo ranks on 2021 LSOAs), 33,755 or the highest rank if higher."""
    from ingest.reference.iod import LSOA_VINTAGE, LSOAS_IN_ENGLAND

    if iod_edition in LSOA_VINTAGE:
        return LSOAS_IN_ENGLAND[LSOA_VINTAGE[iod_edition]]
    return max(LSOAS_IN_ENGLAND[2021], max_rank)


def warehouse_summaries(deprivation: pl.DataFrame, geography: pl.DataFrame) -> pl.DataFrame:
    """The rows of marts.fct_area_deprivation (dbt model int_lsoas_summarised_to_areas calls
    this): every local authority district, sub-ICB location and ICB of the LSOAs in
    ``deprivation``, each ranked among the areas of its type present (``ranked_among_count``).
    The real-ICB demo's deprivation file covers England and names each LSOA's sub-ICB location
    and ICB, so all 296 districts, 106 sub-ICB locations and 42 ICBs are ranked; where the file
    names none (the fictional demo), those of ``geography`` (the build's own ICB) are used.

    ``deprivation``: lsoa_code, lad_code, lad_name, imd_score, imd_rank, imd_decile,
    iod_population_total (the IoD's own denominators, which its summaries weight by),
    iod_edition, and optionally sub_icb_code/name, icb_code/name. ``geography``: lsoa_code,
    sub_icb_code/name, icb_code/name, and population_total (the population source), used as
    the weight where the deprivation file has no denominator.
    """
    editions = deprivation["iod_edition"].drop_nulls().unique().to_list()
    if len(editions) > 1:
        from ingest.errors import InputError

        raise InputError(f"the deprivation source mixes IoD editions {sorted(editions)}")
    national = national_lsoa_count(
        editions[0] if editions else None, int(deprivation["imd_rank"].max() or 0)
    )
    areas = ["sub_icb_code", "sub_icb_name", "icb_code", "icb_name"]
    given = deprivation.select("lsoa_code", *[c for c in areas if c in deprivation.columns])
    lsoas = (
        fill_population(deprivation.drop(areas, strict=False), geography, "iod_population_total")
        .with_columns(population_total=pl.col("iod_population_total").cast(pl.Float64))
        .filter(pl.col("imd_rank").is_not_null() & pl.col("population_total").is_not_null())
        .join(given, on="lsoa_code", how="left")
        .join(
            geography.select("lsoa_code", *[pl.col(c).alias(f"{c}_geo") for c in areas]),
            on="lsoa_code",
            how="left",
        )
    )
    for column in areas:
        own = pl.col(column) if column in given.columns else pl.lit(None, pl.String)
        lsoas = lsoas.with_columns(pl.coalesce(own, pl.col(f"{column}_geo")).alias(column))
    parts = []
    for area_type, code, name in (
        ("local_authority", "lad_code", "lad_name"),
        ("sub_icb", "sub_icb_code", "sub_icb_name"),
        ("icb", "icb_code", "icb_name"),
    ):
        frame = lsoas.filter(pl.col(code).is_not_null())
        summary = area_summaries(frame, code, name=name, national_lsoas=national)
        parts.append(
            summary.select(
                pl.lit(area_type).alias("area_type"),
                pl.col(code).alias("area_code"),
                pl.col(name).alias("area_name"),
                pl.col("lsoas").alias("lsoa_count"),
                pl.col("population").alias("population_total"),
                pl.len().alias("ranked_among_count"),
                pl.lit(national).alias("national_lsoa_count"),
                *[c for m in MEASURES for c in (pl.col(m), pl.col(f"{m}_rank"))],
            )
        )
    return pl.concat(parts)


AREAS = {
    "lad": ("lad_code", "lad_name"),
    "icb": ("icb_code", "icb_name"),
    "sub_icb": ("sub_icb_code", "sub_icb_name"),
}


def reference_summaries(
    reference_dir: Path, *, area: str = "lad", edition: int = 2019
) -> tuple[pl.DataFrame, str]:
    """Summaries for every district (``lad``: the IoD's own districts, LAD 2019 or 2024),
    ICB or sub-ICB location (April 2024, from 2021 LSOAs) in England, and a sentence on the
    figures' vintage."""
    from ingest.errors import InputError
    from ingest.reference.iod import LSOAS_IN_ENGLAND, read_file7
    from ingest.reference.prepare import deprivation_2021, find, population_2021, prepare_frames

    if area not in AREAS:
        raise InputError(f"unknown area {area!r}; choose one of {', '.join(AREAS)}")
    code, name = AREAS[area]
    if area == "lad" and edition == 2019:
        path = find(reference_dir, "iod2019_file7")
        if path is None:
            raise InputError("no IoD2019 File 7 in the folder", path=reference_dir)
        file7 = read_file7(path)
        lsoas = file7.frame
        if lsoas["population_total"].null_count():
            raise InputError("the IoD2019 File 7 has no population denominators", path=path)
        what = "IoD2019 on 2011 LSOAs and 2019 districts, mid-2015 denominators, as published"
        national = LSOAS_IN_ENGLAND[2011]
    else:
        deprivation, file7 = deprivation_2021(reference_dir, edition)
        population, population_what = population_2021(reference_dir, deprivation, file7)
        lsoas = deprivation.drop("population_total").join(
            population.select("lsoa_code", "population_total"), on="lsoa_code"
        )
        if area != "lad":
            geography = prepare_frames(reference_dir, None, edition=edition).geography
            lsoas = lsoas.drop("lad_code", "lad_name").join(geography, on="lsoa_code")
        national = LSOAS_IN_ENGLAND[file7.lsoa_vintage]
        what = f"IoD{edition} on 2021 LSOAs; population: {population_what}"
    frame = area_summaries(lsoas, code, name=name, national_lsoas=national)
    return frame, what
