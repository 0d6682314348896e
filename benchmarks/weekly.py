"""One more week of demo data, as a weekly delivery: the files an ICB would send the week
after a full build (used by the benchmark's ``weekly_*`` phases and by the incremental test).

The demo generator is run again with the as-of date one week later (same seed and scale),
and of its period sources (referrals, onward referrals, activity sessions, link worker
capacity) only the rows in the months the new week touches are kept: from the month after
the old as-of date up to the new as-of date. Loaded, those files replace those months (the
loader's rule: a later file replaces the months it covers), so the warehouse gains the new
week and the current month is refreshed. Snapshot sources (geography, practices, the
community offer, grants) are not re-sent: they change rarely, and a new snapshot makes the
facts rebuild whole (see dbt_project/macros/incremental.sql).

The generator invents every week afresh from its seed and as-of date, so the re-sent months
are not the same people as before, and onward referrals or sessions whose referral or
activity the warehouse does not hold are set aside by the loader's foreign-key rule (the
numbers are reported; they are counted as read = loaded + quarantined like any other row).
Referral and onward referral ids are re-keyed (see ``REKEYED``).
"""

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from ingest.contracts import CONTRACTS, get_contract
from ingest.generate import generate
from ingest.load import DEFAULT_BATCH_BYTES, find_source_file
from ingest.read import NotStreamable, is_batchable, read_csv_batches, read_raw

WEEK = timedelta(days=7)
# The generator numbers referrals and onward referrals afresh for every as-of date, so a
# new week's ids could repeat ids of last week's other months: they are re-keyed with the
# new as-of date (the same way in every file, so onward referrals still find their referral).
REKEYED = ("referral_id", "onward_referral_id")
# hex digits written as letters: a run of digits could look like an NHS number to the
# loader's identifiable-data screen (and be refused, rightly)
LETTERS = str.maketrans("0123456789", "ghijklmnop")


def as_of_of(src: Path) -> date:
    """The as-of date a generated folder was made with (from its demo_truth.json)."""
    truth = json.loads((Path(src) / "demo_truth.json").read_text())
    return date.fromisoformat(truth["as_of"])


def first_new_month(old_as_of: date) -> date:
    day = old_as_of + timedelta(days=1)
    return day.replace(day=1)


def write_weekly_delivery(
    src: Path, out: Path, *, scale: str, seed: int, work: Path | None = None
) -> dict[str, int]:
    """Generate the week after ``src``'s as-of date and write the weekly delivery into
    ``out`` (one CSV per period source); return rows written per source."""
    old_as_of = as_of_of(src)
    new_as_of = old_as_of + WEEK
    generated = Path(work or out.parent) / "weekly_generated"
    generate(generated, seed=seed, scale=scale, as_of=new_as_of)
    out.mkdir(parents=True, exist_ok=True)
    start = first_new_month(old_as_of)
    written = {}
    for contract in CONTRACTS.values():
        if contract.period_column is None:
            continue
        period = pl.col(contract.period_column).str.slice(0, 10).str.to_date("%Y-%m-%d")
        week = _read_generated(generated, contract.name, (period >= start) & (period <= new_as_of))
        if week is None:
            continue
        week = week.with_columns(
            _rekeyed(column, new_as_of) for column in REKEYED if column in week.columns
        )
        path = out / f"{contract.name}.csv"
        week.write_csv(path, quote_style="necessary")
        written[contract.name] = week.height
    return written


def _rekeyed(column: str, as_of: date) -> pl.Expr:
    salt = f"@{as_of.isoformat()}"
    return (
        pl.col(column)
        .map_elements(
            lambda value: (
                hashlib.sha1((value + salt).encode()).hexdigest()[:16].translate(LETTERS)
                if value
                else value
            ),
            return_dtype=pl.String,
        )
        .alias(column)
    )


def _read_generated(
    folder: Path, name: str, keep: pl.Expr, batch_bytes: int = DEFAULT_BATCH_BYTES
) -> pl.DataFrame | None:
    """The rows ``keep`` selects of a generated source, as text columns, whatever format the
    generator wrote it in; a large CSV is read in the loader's batches (England's sessions
    whole took 1.6 GB more than the generator's own peak)."""
    path = find_source_file(folder, get_contract(name))
    if path is None:
        return None
    try:
        if not is_batchable(path, batch_bytes):
            raise NotStreamable("small")
        frame = pl.concat(
            [batch.filter(keep) for batch in read_csv_batches(path, batch_bytes)],
            how="vertical_relaxed",
        )
    except NotStreamable:
        frame = read_raw(get_contract(name), path).filter(keep)
    return frame.select([column for column in frame.columns if not column.startswith("_")])
