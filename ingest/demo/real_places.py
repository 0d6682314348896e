"""``Places`` built from a real ICB's published geography, population, deprivation and GP
practices (``ingest.reference.prepare``), so the demo's people and community phases run on
real neighbourhoods.

Real: LSOAs, MSOAs, wards, local authorities, sub-ICB locations and the ICB (codes and names),
population, IoD figures, practices, PCNs and list sizes. Invented, for the demo only:

- which LSOAs each PCN serves (the reference files give no practice locations): within each
  sub-ICB location, runs of LSOAs in MSOA order are dealt to its PCNs in proportion to their
  list sizes; PCNs left without an LSOA are left out of the demo, with their practices;
- residents aged 65 and over (the IoD gives 60 and over): 77% of those aged 60 and over,
  England's ratio, used only to shape the invented people's ages;
- each authority's ethnic mix and which authority is "post-industrial" (the one with the
  highest population-weighted IMD score), used only to shape invented referrals.
"""

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from ingest.demo.common import rng_for
from ingest.demo.places import Places, assemble_places
from ingest.errors import InputError
from ingest.generate import TRUTH_FILE, GenerateResult, generate
from ingest.reference.iod import LSOAS_IN_ENGLAND
from ingest.reference.prepare import Prepared, prepare_frames

SHARE_65_OF_60_PLUS = 0.77


def _index(values: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values in order of first appearance, and each value's position among them."""
    distinct = values.unique(maintain_order=True)
    lookup = dict(zip(distinct.to_list(), range(len(distinct)), strict=True))
    return distinct.to_numpy().astype(str), np.array([lookup[v] for v in values.to_list()])


def _mode_by(group: np.ndarray, value: np.ndarray, weight: np.ndarray, n: int) -> np.ndarray:
    """For each group 0..n-1, the value with the largest total weight."""
    frame = pl.DataFrame({"group": group, "value": value, "weight": weight})
    best = (
        frame.group_by("group", "value")
        .agg(pl.col("weight").sum())
        .sort(["group", "weight", "value"], descending=[False, True, False])
        .unique("group", keep="first")
        .sort("group")
    )
    out = np.zeros(n, dtype=np.int64)
    out[best["group"].to_numpy()] = best["value"].to_numpy()
    return out


def _deal(weights_lsoa: np.ndarray, pcn_share: np.ndarray) -> np.ndarray:
    """Deal consecutive LSOAs to PCNs: an LSOA goes to the PCN whose cumulative share of list
    size covers the midpoint of the LSOA's cumulative share of population."""
    cum = np.cumsum(weights_lsoa) - weights_lsoa / 2
    mid = cum / weights_lsoa.sum()
    bounds = np.cumsum(pcn_share) / pcn_share.sum()
    return np.minimum(np.searchsorted(bounds, mid, side="left"), len(pcn_share) - 1)


def build_real_places(prepared: Prepared, seed: int) -> Places:
    """``Places`` for one real ICB from ``prepare_frames(reference_dir, icb_code)``."""
    rng = rng_for(seed, "real-places")
    geography = prepared.geography
    if geography.is_empty() or geography["icb_code"].n_unique() != 1:
        raise InputError("a real-geography demo needs the LSOAs of exactly one ICB")
    population = prepared.population.select(
        "lsoa_code",
        pl.col("population_total").alias("population"),
        *(
            [pl.col("population_aged_60_plus").alias("pop60")]
            if "population_aged_60_plus" in prepared.population.columns
            else []
        ),
    )
    deprivation = prepared.deprivation.select(
        "lsoa_code", "imd_score", "imd_rank", "imd_decile", "iod_edition"
    )
    lsoas = geography.join(population, on="lsoa_code").join(deprivation, on="lsoa_code")
    lsoas = lsoas.filter(pl.col("population") > 0)
    if "pop60" not in lsoas.columns:
        lsoas = lsoas.with_columns(pop60=pl.lit(None, pl.Float64))
    # each MSOA in the authority holding most of its LSOAs, so an MSOA is one run of LSOAs
    msoa_lad = (
        lsoas.group_by("msoa_code", "lad_code")
        .agg(pl.len().alias("n"))
        .sort(["msoa_code", "n", "lad_code"], descending=[False, True, False])
        .unique("msoa_code", keep="first")
        .select("msoa_code", pl.col("lad_code").alias("msoa_lad_code"))
    )
    lsoas = lsoas.join(msoa_lad, on="msoa_code").sort("msoa_lad_code", "msoa_code", "lsoa_code")
    n = lsoas.height

    la_code, lsoa_la = _index(lsoas["msoa_lad_code"])
    la_name = np.array(
        [lsoas.filter(pl.col("lad_code") == code)["lad_name"].first() or code for code in la_code]
    )
    msoa_code, lsoa_msoa = _index(lsoas["msoa_code"])
    n_msoas, n_las = len(msoa_code), len(la_code)
    msoa_name = lsoas.unique("msoa_code", maintain_order=True)["msoa_name"].to_numpy().astype(str)
    msoa_la = lsoa_la[np.unique(lsoa_msoa, return_index=True)[1]]
    msoa_pos = np.zeros(n_msoas, dtype=np.int64)
    for la in range(n_las):
        members = np.flatnonzero(msoa_la == la)
        msoa_pos[members] = np.arange(len(members))
    ward_code, lsoa_ward = _index(lsoas["ward_code"])
    ward_name = lsoas.unique("ward_code", maintain_order=True)["ward_name"].to_numpy().astype(str)
    sub_code, lsoa_sub = _index(lsoas["sub_icb_code"])
    sub_name = (
        lsoas.unique("sub_icb_code", maintain_order=True)["sub_icb_name"].to_numpy().astype(str)
    )

    lsoa_pop = lsoas["population"].to_numpy().astype(np.int64)
    pop60 = lsoas["pop60"].to_numpy()
    estimate = np.where(np.isnan(pop60), lsoa_pop * 0.19 / SHARE_65_OF_60_PLUS, pop60)
    lsoa_pop65 = np.minimum(lsoa_pop, np.round(estimate * SHARE_65_OF_60_PLUS)).astype(np.int64)
    imd_score = lsoas["imd_score"].to_numpy().astype(np.float64)
    imd_rank = lsoas["imd_rank"].to_numpy().astype(np.int64)
    imd_decile = lsoas["imd_decile"].to_numpy().astype(np.int64)
    editions = lsoas["iod_edition"].drop_nulls().to_list()
    edition = int(editions[0]) if editions else 2025
    national = LSOAS_IN_ENGLAND[2011 if edition == 2019 else 2021]
    imd_q = (imd_rank - 0.5) / national
    msoa_pop = np.bincount(lsoa_msoa, weights=lsoa_pop, minlength=n_msoas).astype(np.int64)
    msoa_imd = np.bincount(lsoa_msoa, weights=imd_score * lsoa_pop) / msoa_pop

    la_sub = _mode_by(lsoa_la, lsoa_sub, lsoa_pop, n_las)
    la_icb = np.zeros(n_las, dtype=np.int64)
    la_pop = np.bincount(lsoa_la, weights=lsoa_pop, minlength=n_las)
    la_imd = np.bincount(lsoa_la, weights=imd_score * lsoa_pop, minlength=n_las) / la_pop
    la_deprived = np.zeros(n_las, dtype=bool)
    la_deprived[int(np.argmax(la_imd))] = True
    la_white_share = np.where(
        la_deprived, rng.uniform(0.62, 0.8, n_las), rng.uniform(0.78, 0.95, n_las)
    )
    icb_code = np.array([geography["icb_code"][0]])
    icb_name = np.array([geography["icb_name"][0]])
    short = icb_name[0].removeprefix("NHS ").removesuffix(" Integrated Care Board")
    icb_short = np.array([short])

    # --- PCNs: real practices and list sizes; the LSOAs each serves are dealt out ---------
    practices = prepared.practices
    if "sub_icb_ods_code" not in practices.columns or practices.is_empty():
        raise InputError("no GP practices for the ICB in the reference files")
    ods_to_sub = dict(geography.select("sub_icb_ods_code", "sub_icb_code").unique().iter_rows())
    sub_index = {code: i for i, code in enumerate(sub_code)}
    practices = practices.with_columns(
        pl.col("registered_patients")
        .fill_null(pl.col("registered_patients").median())
        .round(0)
        .cast(pl.Int64),
        sub=pl.col("sub_icb_ods_code").replace_strict(ods_to_sub, default=None),
    ).with_columns(pl.col("sub").replace_strict(sub_index, default=None, return_dtype=pl.Int64))
    pcns = (
        practices.group_by("pcn_code")
        .agg(
            pl.col("pcn_name").first(),
            pl.col("registered_patients").sum().alias("list"),
            pl.col("sub").drop_nulls().mode().first().alias("sub"),
        )
        .sort("pcn_code")
    )
    lsoa_pcn_code = np.empty(n, dtype=object)
    for s in range(len(sub_code)):
        members = np.flatnonzero(lsoa_sub == s)
        here = pcns.filter(pl.col("sub") == s)
        if here.is_empty():
            here = pcns  # a sub-ICB location without PCNs of its own in the ePCN file
        dealt = _deal(lsoa_pop[members].astype(np.float64), here["list"].to_numpy())
        lsoa_pcn_code[members] = here["pcn_code"].to_numpy()[dealt]
    kept = [code for code in pcns["pcn_code"].to_list() if code in set(lsoa_pcn_code)]
    pcns = pcns.filter(pl.col("pcn_code").is_in(kept))
    pcn_code = pcns["pcn_code"].to_numpy().astype(str)
    pcn_name = pcns["pcn_name"].to_numpy().astype(str)
    pcn_index = {code: i for i, code in enumerate(pcn_code)}
    lsoa_pcn = np.array([pcn_index[code] for code in lsoa_pcn_code])
    pcn_pop = np.bincount(lsoa_pcn, weights=lsoa_pop, minlength=len(pcn_code)).astype(np.int64)
    pcn_la = _mode_by(lsoa_pcn, lsoa_la, lsoa_pop, len(pcn_code))

    practices = practices.filter(pl.col("pcn_code").is_in(kept)).with_columns(
        pcn=pl.col("pcn_code").replace_strict(pcn_index, return_dtype=pl.Int64)
    )
    practices = practices.sort("pcn", "practice_code")
    practice_pcn = practices["pcn"].to_numpy()
    first_lsoa = np.array([np.flatnonzero(lsoa_pcn == p)[0] for p in range(len(pcn_code))])

    lsoa_code = lsoas["lsoa_code"].to_numpy().astype(str)
    lsoa_name = lsoas["lsoa_name"].to_numpy().astype(str)
    practice_code = practices["practice_code"].to_numpy().astype(str)
    practice_name = practices["practice_name"].to_numpy().astype(str)
    practice_lsoa = first_lsoa[practice_pcn]
    practice_list = practices["registered_patients"].to_numpy().astype(np.int64)
    population = prepared.population.filter(pl.col("lsoa_code").is_in(lsoa_code))
    geography = geography.filter(pl.col("lsoa_code").is_in(lsoa_code))
    # every LSOA in England: fct_area_deprivation ranks districts nationally
    deprivation = prepared.deprivation
    practices = practices.drop("sub", "pcn")
    return assemble_places(locals())


def real_places(reference_dir: Path, icb_code: str, seed: int, *, edition: int = 2025) -> Places:
    """``Places`` for ICB ``icb_code`` from the published files in ``reference_dir``."""
    return build_real_places(prepare_frames(reference_dir, icb_code, edition=edition), seed)


REAL_README_TEXT = """\
icb-insight demo data on a REAL ICB's geography ({icb_name}; seed {seed}, data up to {as_of})

Made by `icb-insight demo --icb` from the government's published reference files.

- REAL: the LSOAs, MSOAs, wards, local authorities, sub-ICB locations and ICB,
  their population (IoD denominators) and deprivation (English Indices of
  Deprivation), GP practices, PCNs and list sizes. reference_provenance.json
  says which file and vintage each came from.
- SYNTHETIC: every referral, person, onward referral, attendance, link worker
  return, community organisation, activity, session and grant. Which LSOAs each
  PCN serves is also invented (dealt out by list size within each sub-ICB
  location). Organisation names carry "(fictional)"; any resemblance to real
  groups is accidental.

The referral and community figures describe no real place: do not publish or
quote them as facts about this ICB.
"""


def generate_real(
    out_dir: Path,
    reference_dir: Path,
    icb_code: str,
    *,
    seed: int = 42,
    scale: str = "icb",
    as_of: date | None = None,
    edition: int = 2025,
    progress: Callable[[str], None] | None = None,
) -> GenerateResult:
    """Demo source files on ICB ``icb_code``'s real geography (``scale`` sets only the years
    of history), with ``reference_provenance.json``; ``demo_truth.json`` says the geography
    is real."""
    if progress is not None:
        progress(f"reading the published reference files for {icb_code} from {reference_dir}")
    prepared = prepare_frames(reference_dir, icb_code, edition=edition)
    places = build_real_places(prepared, seed)
    result = generate(
        out_dir,
        seed=seed,
        scale=scale,
        as_of=as_of,
        progress=progress,
        places=places,
        readme_text=REAL_README_TEXT,
    )
    (Path(out_dir) / "reference_provenance.json").write_text(
        json.dumps(prepared.provenance, indent=1) + "\n", encoding="utf-8"
    )
    truth_path = Path(out_dir) / TRUTH_FILE
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    truth.update(
        fictional=False,
        geography="real: " + str(prepared.provenance.get("geography")),
        pcns_left_out=sorted(
            set(prepared.practices["pcn_code"].to_list()) - set(places.pcn_code.tolist())
        ),
    )
    truth_path.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    result.truth.update(truth)
    return result
