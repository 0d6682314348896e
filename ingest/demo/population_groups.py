"""Residents of each fictional LSOA by age band, sex and ethnic group (contract
``population_groups``, the census's long layout): the denominators of referral rates by group.

Each characteristic's groups add up exactly to the LSOA's ``population_total``; the age bands
65-74, 75-84 and 85+ add up to its ``population_aged_65_plus``; the ethnic mix follows the
local authority's white share that the referrals are drawn from (ingest.demo.people). Sex is
female or male only and nobody's ethnic group is unknown, as in the census; the referral
file's ``other`` and ``unknown`` groups therefore have no denominator.
"""

import numpy as np
import polars as pl

from ingest.contracts.sources import AGE_BANDS
from ingest.demo.common import pick
from ingest.demo.places import Places

# Shares of England's residents by age band (ONS mid-2022, rounded), under 65 and 65+.
_UNDER_65 = np.array([0.210, 0.085, 0.135, 0.130, 0.130, 0.125])  # 0-17 .. 55-64
_65_PLUS = np.array([0.100, 0.068, 0.025])  # 65-74, 75-84, 85+
_SEXES = ("female", "male")
_FEMALE_SHARE = 0.508
_ETHNIC_GROUPS = ("asian", "black", "mixed", "white", "other")
_NOT_WHITE_SPLIT = np.array([0.55, 0.20, 0.15, 0.10])  # asian, black, mixed, other


def apportion(totals: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Whole numbers per row and group, in proportion to ``shares`` (rows x groups), that add
    up exactly to ``totals`` (largest remainders get the leftover people)."""
    shares = shares / shares.sum(axis=1, keepdims=True)
    exact = totals[:, None] * shares
    whole = np.floor(exact).astype(np.int64)
    short = totals - whole.sum(axis=1)
    order = np.argsort(-(exact - whole), axis=1, kind="stable")
    bump = np.arange(shares.shape[1])[None, :] < short[:, None]
    np.put_along_axis(whole, order, np.take_along_axis(whole, order, axis=1) + bump, axis=1)
    return whole


def population_groups_frame(places: Places) -> pl.DataFrame:
    """One row per LSOA, characteristic and group, in contract ``population_groups`` order."""
    n = len(places.lsoa_code)
    total = places.lsoa_pop.astype(np.int64)
    aged_65 = np.minimum(places.lsoa_pop65.astype(np.int64), total)
    ages = np.hstack(
        [
            apportion(total - aged_65, np.broadcast_to(_UNDER_65, (n, _UNDER_65.size))),
            apportion(aged_65, np.broadcast_to(_65_PLUS, (n, _65_PLUS.size))),
        ]
    )
    sexes = apportion(total, np.broadcast_to([_FEMALE_SHARE, 1 - _FEMALE_SHARE], (n, 2)))
    white = places.la_white_share[places.lsoa_la][:, None]
    not_white = (1 - white) * _NOT_WHITE_SPLIT[None, :]
    ethnic = apportion(total, np.hstack([not_white[:, :3], white, not_white[:, 3:]]))

    parts = []
    for characteristic, groups, counts in (
        ("age_band", AGE_BANDS, ages),
        ("sex", _SEXES, sexes),
        ("ethnic_group", _ETHNIC_GROUPS, ethnic),
    ):
        k = len(groups)
        lsoa = np.repeat(np.arange(n), k)
        group = np.tile(np.arange(k), n)
        parts.append(
            pl.DataFrame(
                [
                    pick("lsoa_code", places.lsoa_code, lsoa),
                    pl.Series("characteristic", [characteristic] * (n * k), dtype=pl.String),
                    pick("group_value", groups, group),
                    pl.Series("population", counts.reshape(-1), dtype=pl.Int64),
                ]
            )
        )
    year = int(places.population["population_year"][0])
    return pl.concat(parts).with_columns(pl.lit(year, dtype=pl.Int64).alias("population_year"))
