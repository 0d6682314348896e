"""ONS geography lookups, read as published (or as packaged by geographr; SOURCES.md in the
reference folder says which), joined into the ``geography`` contract: one row per LSOA 2021
in England with its MSOA, ward, local authority, sub-ICB location and ICB.

- LSOA 2021 -> sub-ICB location -> ICB (April 2024), with LAD 2024;
- LSOA 2021 -> electoral ward (2024) best fit;
- LSOA 2021 -> MSOA 2021: an LSOA's name is its MSOA's name plus one letter ("Halton 001B" is
  in "Halton 001"), so the MSOA is found by name in the MSOA names file, which also gives the
  House of Commons Library's readable MSOA name ("North Lancing").
"""

from pathlib import Path

import polars as pl

from ingest.errors import InputError
from ingest.reference.csv import read_text_csv


def _need(frame: pl.DataFrame, path: Path, columns: list[str]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputError(
            "lacks the published column(s) "
            + ", ".join(missing)
            + "; has "
            + ", ".join(frame.columns),
            path=path,
        )


def read_lsoa21_icb_lookup(path: Path) -> pl.DataFrame:
    """LSOA21 -> SICBL24 -> ICB24 -> LAD24 (one row per LSOA 2021 in England)."""
    raw = read_text_csv(path)
    _need(
        raw,
        path,
        [
            "lsoa21_code",
            "lsoa21_name",
            "sicbl24_code",
            "sicbl24_name",
            "icb24_code",
            "icb24_name",
            "ltla24_code",
            "ltla24_name",
        ],
    )
    return raw.select(
        pl.col("lsoa21_code").alias("lsoa_code"),
        pl.col("lsoa21_name").alias("lsoa_name"),
        pl.col("ltla24_code").alias("lad_code"),
        pl.col("ltla24_name").alias("lad_name"),
        pl.col("sicbl24_code").alias("sub_icb_code"),
        pl.col("sicbl24_name").alias("sub_icb_name"),
        pl.col("sicbl24_code_nhs").alias("sub_icb_ods_code")
        if "sicbl24_code_nhs" in raw.columns
        else pl.lit(None, dtype=pl.String).alias("sub_icb_ods_code"),
        pl.col("icb24_code").alias("icb_code"),
        pl.col("icb24_name").alias("icb_name"),
    )


def _read_renamed(path: Path, names: dict[str, str]) -> pl.DataFrame:
    """The published columns ``names`` (published -> ours) of a lookup file."""
    raw = read_text_csv(path)
    _need(raw, path, list(names))
    return raw.select(pl.col(published).alias(ours) for published, ours in names.items())


def read_lsoa21_ward_lookup(path: Path) -> pl.DataFrame:
    """LSOA21 -> ward 2024 best fit (England and Wales)."""
    return _read_renamed(
        path, {"lsoa21_code": "lsoa_code", "ward24_code": "ward_code", "ward24_name": "ward_name"}
    )


def read_msoa21_names(path: Path) -> pl.DataFrame:
    """House of Commons Library MSOA names (2021): ONS code and name, readable name."""
    return _read_renamed(
        path, {"msoa21cd": "msoa_code", "msoa21nm": "msoa_ons_name", "msoa21hclnm": "msoa_name"}
    )


def build_geography(icb_lookup: Path, ward_lookup: Path, msoa_names: Path) -> pl.DataFrame:
    """The ``geography`` contract for every LSOA 2021 in England (``is_fictional`` false)."""
    lsoas = read_lsoa21_icb_lookup(icb_lookup)
    wards = read_lsoa21_ward_lookup(ward_lookup)
    msoas = read_msoa21_names(msoa_names)
    frame = (
        lsoas.with_columns(
            msoa_ons_name=pl.col("lsoa_name").str.slice(0, pl.col("lsoa_name").str.len_chars() - 1)
        )
        .join(msoas, on="msoa_ons_name", how="left")
        .join(wards, on="lsoa_code", how="left")
    )
    unmatched = frame.filter(pl.col("msoa_code").is_null() | pl.col("ward_code").is_null())
    if unmatched.height:
        raise InputError(
            f"{unmatched.height:,} LSOAs without an MSOA or ward in the lookups (first: "
            f"{unmatched['lsoa_code'][0]} {unmatched['lsoa_name'][0]}); are the files the same "
            "vintage (2021 LSOAs, 2024 wards)?"
        )
    return frame.select(
        "lsoa_code",
        "lsoa_name",
        "msoa_code",
        pl.col("msoa_name").fill_null(pl.col("msoa_ons_name")),
        "ward_code",
        "ward_name",
        "lad_code",
        "lad_name",
        "sub_icb_code",
        "sub_icb_name",
        "icb_code",
        "icb_name",
        pl.lit(False).alias("is_fictional"),
        "sub_icb_ods_code",
    ).sort("lsoa_code")
