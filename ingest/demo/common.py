"""Small vectorised helpers shared by every layer of the demo generator."""

import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

EPOCH = date(1970, 1, 1)
NATIONAL_LSOAS = 33_755  # LSOAs 2021 in England: national ranks run 1..33,755
DECILE_WIDTH = NATIONAL_LSOAS / 10

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# Positions forced to a letter so that no token holds a run of more than four digits
# (a token must never look like an NHS number).
_LETTER_POSITIONS = [0, 5, 10, 15]


@dataclass(frozen=True)
class Scale:
    """How big a demo to build.

    ``population`` and ``years`` are the headline numbers; the counts below fix the shape
    of the fictional geography (England has 42 ICBs, 106 sub-ICB locations, 296 local
    authority districts and 33,755 LSOAs).
    """

    name: str
    population: int
    years: float
    n_lsoas: int
    n_icbs: int = 1
    n_sub_icbs: int = 3
    n_las: int = 5
    description: str = ""
    # community activities per 1,000 residents (before the planted deserts and well-served
    # places); the benchmark's England uses a denser offer so that it has the tens of
    # millions of session rows a national benchmark needs
    activities_per_1000: float = 0.6


def rng_for(seed: int, phase: str) -> np.random.Generator:
    """An independent random stream per phase, so changing one phase leaves the rest."""
    return np.random.default_rng([seed, zlib.crc32(phase.encode())])


def to_days(value: date) -> int:
    return (value - EPOCH).days


def from_days(days: int) -> date:
    return EPOCH + timedelta(days=int(days))


def date_series(name: str, days: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    """Days since 1970 as a polars Date column; ``valid`` False gives nulls."""
    series = pl.Series(name, np.asarray(days, dtype=np.int32)).cast(pl.Date)
    return series if valid is None else masked(name, series, valid)


def masked(name: str, values: np.ndarray | pl.Series, valid: np.ndarray) -> pl.Series:
    """A column of ``values`` with nulls where ``valid`` is False."""
    series = values.alias(name) if isinstance(values, pl.Series) else pl.Series(name, values)
    return (
        pl.select(pl.when(pl.Series(np.asarray(valid, dtype=bool))).then(series).otherwise(None))
        .to_series()
        .alias(name)
    )


def month_index(days: np.ndarray) -> np.ndarray:
    """Months since January 1970 for each day."""
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_of_year(days: np.ndarray) -> np.ndarray:
    """Calendar month 1..12 for each day."""
    return month_index(days) % 12 + 1


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 .. Sunday = 6 (1 January 1970 was a Thursday)."""
    return (np.asarray(days) + 3) % 7


def month_start_days(month: np.ndarray) -> np.ndarray:
    """First day (days since 1970) of months given as months since January 1970."""
    return np.asarray(month, dtype="datetime64[M]").astype("datetime64[D]").astype(np.int64)


def add_months(value: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's last day."""
    month_zero = value.month - 1 + months
    year = value.year + month_zero // 12
    month = month_zero % 12 + 1
    for day in (value.day, 30, 29, 28):
        try:
            return date(year, month, min(value.day, day))
        except ValueError:
            continue
    raise ValueError(value)  # pragma: no cover


# Month names spelt in hex digits: "23dec1913" inside a token reads as a date of birth to the
# screen (ingest.identifiable), which refuses the file, so no token holds one.
_MONTHS_IN_HEX = ((13, 14, 12), (15, 14, 11))  # dec, feb


def tokens(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct 16-character lowercase hex tokens (numpy ``S16``), with letters at fixed
    positions so that no token holds a run of more than four digits, and none spelling a
    month's name."""
    keys = np.empty(n, dtype=np.uint64)
    todo = np.arange(n)
    while todo.size:
        fresh = rng.integers(
            0, np.iinfo(np.uint64).max, size=todo.size, dtype=np.uint64, endpoint=True
        )
        for position in _LETTER_POSITIONS:
            shift = np.uint64(4 * (15 - position))
            nibble = (fresh >> shift) & np.uint64(15)
            letter = np.uint64(10) + nibble % np.uint64(6)
            fresh = (fresh & ~(np.uint64(15) << shift)) | (letter << shift)
        keys[todo] = fresh
        spelt = np.flatnonzero(_spells_a_month(_hex_digits(keys[todo])))
        todo = np.union1d(_repeats(keys), todo[spelt])
    return np.ascontiguousarray(_HEX[_hex_digits(keys)]).view("S16").ravel()


def _hex_digits(keys: np.ndarray) -> np.ndarray:
    """The 16 hex digits of each key, most significant first."""
    pairs = keys.byteswap().view(np.uint8).reshape(keys.size, 8)  # big-endian bytes
    digits = np.empty((keys.size, 16), dtype=np.uint8)
    digits[:, 0::2] = pairs >> 4
    digits[:, 1::2] = pairs & 15
    return digits


def _spells_a_month(digits: np.ndarray) -> np.ndarray:
    """Rows of ``digits`` holding a month's name (``_MONTHS_IN_HEX``) anywhere."""
    found = np.zeros(digits.shape[0], dtype=bool)
    for first, second, third in _MONTHS_IN_HEX:
        found |= (
            (digits[:, :-2] == first) & (digits[:, 1:-1] == second) & (digits[:, 2:] == third)
        ).any(axis=1)
    return found


def _repeats(keys: np.ndarray) -> np.ndarray:
    """Positions holding a key already seen earlier in the array."""
    ordered = np.sort(keys)
    if not (ordered[1:] == ordered[:-1]).any():
        return np.array([], dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    repeated = np.zeros(keys.size, dtype=bool)
    repeated[1:] = ordered[1:] == ordered[:-1]
    return np.sort(order[repeated])


def draw_one(rng: np.random.Generator, probs: np.ndarray | list[float]) -> int:
    """One category index drawn with ``probs`` (a cheap scalar ``draw_categories``)."""
    cumulative = np.cumsum(probs)
    return int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))


def text(name: str, values: np.ndarray) -> pl.Series:
    """A String column from a numpy array of bytes (``S``) or unicode strings."""
    if values.dtype.kind == "S":
        return pl.Series(name, values).cast(pl.String)
    return pl.Series(name, values, dtype=pl.String)


def pick(
    name: str, values: np.ndarray | list[str] | tuple[str, ...], index: np.ndarray
) -> pl.Series:
    """``values[index]`` as a String column, gathered in polars (fast for long columns)."""
    return pl.Series(name, list(values), dtype=pl.String).gather(np.asarray(index, dtype=np.int64))


def draw_categories(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category index per row of ``probs`` (rows need not sum to exactly 1)."""
    probs = np.atleast_2d(np.asarray(probs, dtype=np.float64))
    cumulative = np.cumsum(probs, axis=1)
    cumulative /= cumulative[:, -1:]
    u = rng.random(probs.shape[0])[:, None]
    return np.minimum((u > cumulative).sum(axis=1), probs.shape[1] - 1)


def draw_within_groups(
    rng: np.random.Generator,
    group_of_row: np.ndarray,
    item_group: np.ndarray,
    item_weight: np.ndarray,
) -> np.ndarray:
    """For each row, an item index from the row's group, chosen by ``item_weight``.

    Items must be sorted by group and every group used by a row must have an item.
    Vectorised: cumulative weights within a group are offset by the group number.
    """
    item_group = np.asarray(item_group, dtype=np.int64)
    weight = np.asarray(item_weight, dtype=np.float64)
    totals = np.bincount(item_group, weights=weight)
    cumulative = np.cumsum(weight)
    starts = np.concatenate([[0.0], np.cumsum(totals)[:-1]])
    within = (cumulative - starts[item_group]) / totals[item_group]
    last = np.flatnonzero(np.diff(np.append(item_group, -1)) != 0)
    within[last] = 1.0
    key = item_group + np.minimum(within, 1.0)
    target = np.asarray(group_of_row) + rng.random(len(group_of_row)) * 0.999999 + 1e-9
    return np.searchsorted(key, target, side="left")


def national_ranks(q: np.ndarray, total: int = NATIONAL_LSOAS) -> np.ndarray:
    """Distinct national ranks 1..total from fractions ``q`` (0 = most deprived), in order."""
    n = len(q)
    order = np.argsort(q, kind="stable")
    ranks = np.empty(n, dtype=np.int64)
    if n >= total:
        ranks[order] = np.arange(1, n + 1)
        return ranks
    wanted = np.clip(1 + np.floor(q[order] * total).astype(np.int64), 1, total)
    position = np.arange(n)
    wanted = np.maximum.accumulate(wanted - position) + position
    wanted = np.minimum(wanted, total - (n - 1 - position))
    ranks[order] = wanted
    return ranks


def deciles(ranks: np.ndarray) -> np.ndarray:
    """National decile of a rank: decile = ceil(rank / 3,375.5); 1 is most deprived."""
    return np.clip(np.ceil(np.asarray(ranks) / DECILE_WIDTH), 1, 10).astype(np.int64)


def percentile_within(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Where each value falls among all of them, 0 for the largest: (rank - u) / n with u
    uniform in (0, 1), so that two columns ranked this way do not share the same fractions."""
    n = len(values)
    order = np.argsort(-np.asarray(values), kind="stable")
    out = np.empty(n, dtype=np.float64)
    out[order] = (np.arange(n) + rng.uniform(0.02, 0.98, n)) / n
    return out


def split_sizes(
    rng: np.random.Generator, total: int, sizes: list[int], probs: list[float]
) -> np.ndarray:
    """Cut ``total`` consecutive items into runs whose lengths are drawn from ``sizes``."""
    draws = rng.choice(sizes, size=total, p=probs)
    cuts = np.cumsum(draws)
    cuts = cuts[cuts < total]
    runs = np.diff(np.concatenate([[0], cuts, [total]]))
    if len(runs) > 1 and runs[-1] < min(sizes):
        # hand the short last run out, one item each, to earlier runs with room
        leftover = int(runs[-1])
        runs = runs[:-1]
        for i in range(len(runs) - 1, -1, -1):
            if leftover == 0:
                break
            if runs[i] < max(sizes):
                runs[i] += 1
                leftover -= 1
        runs[-1] += leftover
    return runs


def runs_to_labels(runs: np.ndarray) -> np.ndarray:
    """[3, 2] -> [0, 0, 0, 1, 1]."""
    return np.repeat(np.arange(len(runs)), runs)
