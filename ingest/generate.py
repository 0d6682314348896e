"""Synthetic demo sources for a fictional ICB, one file per input contract.

``generate(out_dir)`` writes every source the pipeline accepts (file names and layouts from
``ingest.contracts``; the community directory as the councils' Open Referral JSON pages in
``directories/``, with the fictional LSOA polygons their venues fall in), a
``demo_truth.json`` that lists the patterns planted in the data so end-to-end tests can
check the marts find them, and a ``README.txt``. Same seed, scale and
``as_of`` give byte-identical files. Everything is invented: the areas, codes (in ranges no
real area uses), organisations and people.

Planted patterns:

- referral rates per 1,000 rise with deprivation and follow the seasons;
- some deprived MSOAs have almost no community offer, others are well served;
- some activities are always full, and onward referrals to them are waitlisted or refused;
- some PCNs have far too few link workers (long waits, caseloads far above 250 per FTE);
- supported first visits nearly always convert to attendance, unsupported ones mostly not;
- some grants end in the months after ``as_of`` (the funding cliff).
"""

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ingest.contracts import CONTRACTS
from ingest.demo.common import Scale, to_days
from ingest.demo.community import (
    Community,
    activities_frame,
    build_community,
    grants_ending,
    providers_frame,
)
from ingest.demo.directory import BOUNDARIES_FILE, DIRECTORIES_FOLDER, write_directories
from ingest.demo.people import People, activity_sessions, build_people
from ingest.demo.places import Places, build_places
from ingest.demo.population_groups import population_groups_frame
from ingest.demo.scales import SCALES
from ingest.demo.write import (
    contract_layout,
    write_360giving,
    write_360giving_flat,
    write_csv,
    write_xlsx,
)
from ingest.errors import InputError
from ingest.load import SOURCE_EXTENSIONS
from ingest.reference.layout import with_optional_columns

__all__ = ["SCALES", "GenerateResult", "Scale", "default_as_of", "generate"]

log = logging.getLogger(__name__)

TRUTH_FILE = "demo_truth.json"
README_FILE = "README.txt"
# sources the demo publishes as Open Referral directories (for a fictional geography)
DIRECTORY_SOURCES = ("providers", "activities")

README_TEXT = """\
icb-insight demo data ({scale} scale, seed {seed}, data up to {as_of})

Everything in this folder is SYNTHETIC and FICTIONAL. It was made by
`icb-insight generate` to demonstrate the pipeline.

- The geography is invented: "{icb_name}", its sub-ICB locations, local
  authorities, wards, MSOAs and LSOAs do not exist. Their codes use ranges
  that no real area uses (E54000901, E389009xx, E0x000901.., E05900001..,
  E02900001.., E01900001..). Practices (Z9xxxx) and PCNs (U9xxxx) are invented.
- directories/ holds each local authority's community directory as Open Referral
  JSON (list pages and full service records); lsoa_boundaries.geojson holds the
  fictional LSOA polygons their venues' coordinates fall in (a grid in the sea).
- Community organisations, activities, funders and grants are invented; org-ids
  use 360G-DEMO-, GB-CHC-9xxxxxx and GB-COH-DVxxxxxx numbers that belong to no one.
- People are random draws: pseudonymous tokens, no NHS numbers, names,
  addresses, postcodes or dates of birth. Any resemblance to real people or
  places is accidental.
- Deprivation figures imitate the layout of the English Indices of Deprivation
  but are not the published values.

demo_truth.json lists the patterns planted in the data (for tests); it is not
a source file.
"""


@dataclass(frozen=True)
class GenerateResult:
    """What ``generate`` wrote: files and row counts by contract name, and the planted truth."""

    files: dict[str, Path]
    rows: dict[str, int]
    as_of: date
    truth: dict[str, Any] = field(default_factory=dict)


def default_as_of(today: date | None = None) -> date:
    """The most recent Sunday on or before ``today``."""
    today = today or date.today()
    return today - timedelta(days=(today.weekday() + 1) % 7)


def history_start(as_of: date, years: float) -> date:
    return as_of - timedelta(days=int(round(years * 365.25)) - 1)


def write_funders_files(community: Any, folder: Path) -> Path:
    """Each funder's grants in its own file and form (``Funder.form``), as real funders
    publish: the folder is loaded file by file, each replacing only its funder's grants."""
    from ingest.demo.community import published_grants

    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        stale.unlink()
    for funder in community.funders:
        rows = [row for row in community.grants if row["funding_org_id"] == funder.org_id]
        if not rows:
            continue
        path = folder / f"{funder.file_stem}.{funder.form}"
        if funder.form == "json":
            write_360giving(published_grants(rows), path)
        else:
            write_360giving_flat(published_grants(rows), path)
    return folder


def generate(
    out_dir: Path,
    *,
    seed: int = 42,
    scale: str = "icb",
    as_of: date | None = None,
    progress: Callable[[str], None] | None = None,
    places: Places | None = None,
    readme_text: str = README_TEXT,
) -> GenerateResult:
    """Write every demo source file for a fictional ICB into ``out_dir``, or, given
    ``places`` (``ingest.demo.real_places``), synthetic activity on a real ICB's geography."""
    if scale not in SCALES:
        raise InputError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    chosen = SCALES[scale]
    as_of = as_of or default_as_of()
    start = history_start(as_of, chosen.years)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    def say(message: str) -> None:
        log.debug(message)
        if progress is not None:
            progress(message)

    # residents by age, sex and ethnic group are invented only for invented places: a real
    # ICB's published files give no such split, so its rates by group stay empty
    fictional = places is None
    if places is None:
        say(f"inventing the geography ({chosen.n_lsoas:,} LSOAs), population and deprivation")
        places = build_places(chosen, seed, population_year=as_of.year - 1)
    say(f"inventing {len(places.practice_code):,} GP practices in {len(places.pcn_code):,} PCNs")
    say("inventing community providers, activities, sessions and funding")
    community = build_community(places, seed, as_of, start, chosen.activities_per_1000)
    say(f"inventing referrals from {start} to {as_of}, onward referrals and attendance")
    people = build_people(places, community, seed, as_of, start)
    truth = _truth(chosen, seed, as_of, places, community, people)

    # Each table is made when it is written and let go after it, and the sessions (the
    # largest, made from the onward referrals' first sessions) come last, once the
    # referrals are written and gone: at England scale the generator would otherwise hold
    # every table at once (5.6 GB; see docs/benchmarks.md).
    first_sessions = people.first_sessions
    frames: dict[str, Callable[[], pl.DataFrame | None]] = {
        "geography": lambda: places.geography,
        "practices": lambda: places.practices,
        "population": lambda: places.population,
        "population_groups": lambda: population_groups_frame(places) if fictional else None,
        "deprivation": lambda: places.deprivation,
        "providers": lambda: providers_frame(community, places),
        "activities": lambda: activities_frame(community, places),
        "link_worker_capacity": lambda: people.link_worker_capacity,
        "referrals": lambda: people.referrals,
        "onward_referrals": lambda: people.onward_referrals,
        "activity_sessions": lambda: activity_sessions(seed, community, first_sessions),
    }
    _remove_other_directory_form(out_dir, fictional)
    files: dict[str, Path] = {}
    rows: dict[str, int] = {}
    for name in sorted(CONTRACTS, key=lambda name: name == "activity_sessions"):
        contract = CONTRACTS[name]
        path = out_dir / contract.file_name
        if name == "provider_funding":  # one file per funder, each in its own form
            folder = out_dir / name
            say(f"writing {folder.name}/: one 360Giving file per funder")
            files[name] = write_funders_files(community, folder)
            rows[name] = len(community.grants)
            continue
        if name == "activity_sessions":  # the referrals' tables are written: let them go
            del people
        if fictional and name in DIRECTORY_SOURCES:
            # councils publish their directories as Open Referral: one per local authority
            if DIRECTORIES_FOLDER not in {path.name for path in files.values()}:
                say(f"writing {DIRECTORIES_FOLDER}/ (Open Referral pages) and {BOUNDARIES_FILE}")
                folder, directory_rows, unknown = write_directories(
                    community, places, out_dir, seed=seed, as_of=as_of
                )
                truth.update(unknown)
                truth["definitions"].update(
                    directory_activities_without_capacity="published with no capacity: "
                    "places unknown (not 0) in the marts",
                    directory_activities_without_location="published with no location: "
                    "placed in their council's area (venue_placement publisher_area)",
                )
            files[name] = folder
            rows[name] = directory_rows[name]
            continue
        frame = frames.pop(name)()
        if frame is None:
            continue
        say(f"writing {path.name}")
        frame = contract_layout(
            contract, with_optional_columns(contract, frame), published=name == "deprivation"
        )
        if contract.file_format == "xlsx":
            write_xlsx(frame, path, sheet=name, created=as_of)
        else:
            write_csv(frame, path)
        rows[name] = frame.height
        files[name] = path
        del frame

    say("writing demo_truth.json and README.txt")
    (out_dir / TRUTH_FILE).write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    (out_dir / README_FILE).write_text(
        readme_text.format(scale=scale, seed=seed, as_of=as_of, icb_name=places.icb_name[0]),
        encoding="utf-8",
    )
    return GenerateResult(files=files, rows=rows, as_of=as_of, truth=truth)


def _remove_other_directory_form(out_dir: Path, fictional: bool) -> None:
    """The community directory is written in one form only: a flat file left by an earlier
    run in the other form would be loaded instead of (or beside) this run's."""
    if fictional:
        for name in DIRECTORY_SOURCES:
            for extension in SOURCE_EXTENSIONS:
                (out_dir / f"{name}.{extension}").unlink(missing_ok=True)
    else:
        shutil.rmtree(out_dir / DIRECTORIES_FOLDER, ignore_errors=True)
        (out_dir / BOUNDARIES_FILE).unlink(missing_ok=True)


def _places_per_1000(places: Places, community: Community, as_of: date) -> np.ndarray:
    """Weekly places at activities open on ``as_of``, per 1,000 residents, by MSOA."""
    active = community.active_on(to_days(as_of))
    weekly = community.act_places * community.act_spw * active
    per_msoa = np.bincount(community.act_msoa, weights=weekly, minlength=len(places.msoa_code))
    return per_msoa / places.msoa_pop * 1000


def _truth(
    scale: Scale, seed: int, as_of: date, places: Places, community: Community, people: People
) -> dict[str, Any]:
    order = np.argsort(-places.msoa_imd, kind="stable")
    tenth = max(1, int(round(0.1 * len(order))))
    offer = _places_per_1000(places, community, as_of)

    def msoas(indices: np.ndarray) -> list[str]:
        return [str(code) for code in places.msoa_code[np.sort(indices)]]

    def offer_of(indices: np.ndarray) -> dict[str, float]:
        return {str(places.msoa_code[i]): round(float(offer[i]), 2) for i in np.sort(indices)}

    referrals = people.referrals
    per_lsoa = referrals.group_by("lsoa_code").len().rename({"len": "referrals"})
    rates = (
        pl.DataFrame(
            {
                "lsoa_code": places.lsoa_code,
                "imd_decile": places.imd_decile,
                "population": places.lsoa_pop,
            }
        )
        .join(per_lsoa, on="lsoa_code", how="left")
        .with_columns(pl.col("referrals").fill_null(0))
        .group_by("imd_decile")
        .agg(pl.col("referrals").sum(), pl.col("population").sum())
        .sort("imd_decile")
    )
    years = scale.years
    rate_by_decile = {
        str(decile): round(count / pop * 1000 / years, 2)
        for decile, count, pop in rates.iter_rows()
    }
    return {
        "fictional": True,
        "seed": seed,
        "scale": scale.name,
        "as_of": as_of.isoformat(),
        "history_start": history_start(as_of, scale.years).isoformat(),
        "icb_code": str(places.icb_code[0]),
        "icb_name": str(places.icb_name[0]),
        "icb_codes": [str(code) for code in places.icb_code],
        "sub_icb_codes": [str(code) for code in places.sub_code],
        "la_codes": [str(code) for code in places.la_code],
        "post_industrial_la_codes": [str(c) for c in places.la_code[places.la_deprived]],
        "most_deprived_msoas": msoas(order[:tenth]),
        "least_deprived_msoas": msoas(order[-tenth:]),
        "deprived_msoas": msoas(community.deprived_msoas),
        "underserved_deprived_msoas": msoas(community.underserved_msoas),
        "well_served_deprived_msoas": msoas(community.well_served_msoas),
        "weekly_places_per_1000_underserved": offer_of(community.underserved_msoas),
        "weekly_places_per_1000_well_served": offer_of(community.well_served_msoas),
        "oversubscribed_activities": [
            str(a) for a in community.act_id[community.act_oversubscribed]
        ],
        "pcns_over_caseload": sorted(people.over_caseload_pcns),
        "pcn_caseload": people.pcn_stats,
        "grants_ending_within_6_months": sorted(grants_ending(community.grants, as_of, 6)),
        "grants_ending_within_12_months": sorted(grants_ending(community.grants, as_of, 12)),
        "referrals_per_1000_per_year_by_imd_decile": rate_by_decile,
        "definitions": {
            "most_deprived_msoas": "top 10% of MSOAs by population-weighted LSOA IMD score",
            "least_deprived_msoas": "bottom 10% of MSOAs by population-weighted IMD score",
            "deprived_msoas": "top 30% of MSOAs by population-weighted IMD score",
            "underserved_deprived_msoas": "deprived MSOAs planted with none or one activity",
            "well_served_deprived_msoas": "deprived MSOAs planted with at least eight activities",
            "weekly_places": "places_per_session x sessions_per_week of activities open on "
            "as_of (start_date <= as_of and end_date empty or >= as_of), by venue MSOA",
            "oversubscribed_activities": "every session full (attendees >= places_available); "
            "most onward referrals to them waitlisted or refused_no_capacity",
            "pcns_over_caseload": "referrals in the 12 months to as_of per mean link worker "
            "FTE over the months starting in that period, above 250 (safe: 200-250 a year)",
            "grants_ending_within_n_months": "planned_end_date after as_of and on or before "
            "as_of plus n calendar months",
        },
    }
