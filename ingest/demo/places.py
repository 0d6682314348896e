"""A fictional ICB: geography, population, deprivation, GP practices and PCNs.

Deprivation is spatial: a local-authority effect (one post-industrial town far more
deprived, one affluent district), an autocorrelated MSOA effect along the MSOAs of each
authority (neighbours look alike) and a small LSOA effect. National ranks, deciles and
scores are derived from that latent value the way the published IoD derives them from
scores: rank 1 is the most deprived, decile = ceil(rank / 3,375.5).
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import polars as pl

from ingest.demo.common import (
    NATIONAL_LSOAS,
    Scale,
    deciles,
    national_ranks,
    percentile_within,
    rng_for,
    runs_to_labels,
    split_sizes,
)
from ingest.demo.names import PRACTICE_TEMPLATES, NamePool

FIRST_ICB_NAME = "Demo Vale"

# IoD2019-like national score at a given national rank fraction (0 = most deprived).
_IMD_KNOTS = (
    (0.0, 0.01, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
    (92.0, 68.0, 45.0, 34.2, 27.7, 22.5, 18.3, 14.9, 11.9, 9.1, 6.3, 0.5),
)
_DOMAIN_Q = (0.0, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
# domain key -> (correlation with the IMD latent, scores at _DOMAIN_Q)
DOMAINS: dict[str, tuple[float, tuple[float, ...]]] = {
    "income": (0.95, (0.62, 0.45, 0.27, 0.16, 0.10, 0.065, 0.035, 0.005)),
    "employment": (0.92, (0.55, 0.38, 0.22, 0.13, 0.085, 0.06, 0.035, 0.005)),
    "education": (0.82, (95.0, 75.0, 48.0, 27.0, 17.0, 10.0, 4.5, 0.1)),
    "health": (0.86, (3.6, 2.4, 1.25, 0.45, 0.0, -0.45, -1.1, -3.2)),
    "crime": (0.55, (3.4, 2.2, 1.1, 0.45, 0.05, -0.4, -1.0, -3.0)),
    "barriers": (0.05, (68.0, 48.0, 35.0, 26.0, 21.0, 16.0, 10.0, 1.5)),
    "living_environment": (0.4, (92.0, 65.0, 45.0, 27.0, 18.0, 12.0, 6.0, 0.4)),
}


@dataclass
class Places:
    """Every area of the fictional geography, as aligned numpy arrays (index = position)."""

    # LSOAs
    lsoa_code: np.ndarray
    lsoa_name: np.ndarray
    lsoa_msoa: np.ndarray
    lsoa_ward: np.ndarray
    lsoa_la: np.ndarray
    lsoa_pop: np.ndarray
    lsoa_pop65: np.ndarray
    imd_score: np.ndarray
    imd_rank: np.ndarray
    imd_decile: np.ndarray
    imd_q: np.ndarray  # national rank fraction, 0 = most deprived
    lsoa_pcn: np.ndarray
    # MSOAs
    msoa_code: np.ndarray
    msoa_name: np.ndarray
    msoa_la: np.ndarray
    msoa_pos: np.ndarray  # order along its local authority (neighbours are adjacent)
    msoa_pop: np.ndarray
    msoa_imd: np.ndarray  # population-weighted IMD score
    # wards
    ward_code: np.ndarray
    ward_name: np.ndarray
    # local authorities, sub-ICBs, ICBs
    la_code: np.ndarray
    la_name: np.ndarray
    la_sub: np.ndarray
    la_icb: np.ndarray
    la_white_share: np.ndarray
    la_deprived: np.ndarray  # the planted post-industrial town of each ICB
    sub_code: np.ndarray
    sub_name: np.ndarray
    icb_code: np.ndarray
    icb_name: np.ndarray
    icb_short: np.ndarray
    # PCNs and practices
    pcn_code: np.ndarray
    pcn_name: np.ndarray
    pcn_la: np.ndarray
    pcn_pop: np.ndarray
    practice_code: np.ndarray
    practice_name: np.ndarray
    practice_pcn: np.ndarray
    practice_lsoa: np.ndarray
    practice_list: np.ndarray
    # frames in contract layout
    geography: pl.DataFrame
    population: pl.DataFrame
    deprivation: pl.DataFrame
    practices: pl.DataFrame

    @property
    def n_lsoas(self) -> int:
        return len(self.lsoa_code)


def assemble_places(values: Mapping[str, object]) -> Places:
    """``Places`` from a mapping that holds every field by name (the builders pass their
    local variables), so the fields are listed once, in the dataclass."""
    names = [field.name for field in fields(Places)]
    missing = [name for name in names if name not in values]
    if missing:
        raise TypeError(f"Places needs {', '.join(missing)}")
    return Places(**{name: values[name] for name in names})  # type: ignore[arg-type]


def _block_sizes(rng: np.random.Generator, total: int, parts: int, minimum: int) -> np.ndarray:
    """Split ``total`` into ``parts`` uneven sizes of at least ``minimum``."""
    weights = rng.dirichlet(np.full(parts, 3.0))
    sizes = np.maximum(minimum, np.floor(weights * total)).astype(np.int64)
    while sizes.sum() > total:
        sizes[np.argmax(sizes)] -= 1
    sizes[np.argmax(sizes)] += total - sizes.sum()
    return sizes


def _codes(prefix: str, start: int, n: int) -> np.ndarray:
    return np.array([f"{prefix}{start + i:06d}" for i in range(n)])


def build_places(scale: Scale, seed: int, population_year: int) -> Places:
    rng = rng_for(seed, "places")
    names = NamePool(rng_for(seed, "names"))
    n = scale.n_lsoas

    # --- LSOAs into MSOAs, MSOAs into local authorities --------------------------------
    mean_pop = scale.population / n
    lsoa_pop = np.clip(np.round(rng.normal(mean_pop, 0.14 * mean_pop, n)), 1050, 2950)
    msoa_runs = split_sizes(rng, n, [5, 6, 7, 8], [0.3, 0.35, 0.22, 0.13])
    lsoa_msoa = runs_to_labels(msoa_runs)
    n_msoas = len(msoa_runs)
    msoa_total = np.bincount(lsoa_msoa, weights=lsoa_pop)
    shrink = np.minimum(1.0, 14_800 / msoa_total)
    lsoa_pop = np.maximum(1000, np.floor(lsoa_pop * shrink[lsoa_msoa])).astype(np.int64)
    msoa_pop = np.bincount(lsoa_msoa, weights=lsoa_pop).astype(np.int64)

    # authorities big enough for a PCN of 30,000+ people (at least 2 MSOAs)
    per_pcn = int(round(32_000 / msoa_pop.mean()))
    la_sizes = _block_sizes(
        rng, n_msoas, scale.n_las, minimum=max(2, min(n_msoas // scale.n_las, per_pcn))
    )
    msoa_la = runs_to_labels(la_sizes)
    msoa_pos = np.concatenate([np.arange(size) for size in la_sizes])
    lsoa_la = msoa_la[lsoa_msoa]

    # --- ICBs and sub-ICB locations ----------------------------------------------------
    la_icb = np.concatenate(
        [
            np.full(len(part), i)
            for i, part in enumerate(np.array_split(np.arange(scale.n_las), scale.n_icbs))
        ]
    )
    las_per_icb = np.bincount(la_icb, minlength=scale.n_icbs)
    subs_per_icb = np.maximum(1, np.round(las_per_icb / las_per_icb.sum() * scale.n_sub_icbs))
    subs_per_icb = np.minimum(subs_per_icb, las_per_icb).astype(np.int64)
    la_sub = np.empty(scale.n_las, dtype=np.int64)
    next_sub = 0
    for icb in range(scale.n_icbs):
        las = np.flatnonzero(la_icb == icb)
        for part in np.array_split(las, subs_per_icb[icb]):
            la_sub[part] = next_sub
            next_sub += 1
    n_subs = next_sub
    sub_icb = np.array([la_icb[np.flatnonzero(la_sub == s)[0]] for s in range(n_subs)])

    # --- Deprivation latent: authority + neighbourhood (AR(1) along MSOAs) + LSOA ------
    la_effect = rng.normal(0.0, 0.35, scale.n_las)
    la_deprived = np.zeros(scale.n_las, dtype=bool)
    for icb in range(scale.n_icbs):
        las = np.flatnonzero(la_icb == icb)
        chosen = las[rng.permutation(len(las))]
        la_deprived[chosen[0]] = True
        la_effect[chosen[0]] = abs(la_effect[chosen[0]]) + 1.2
        if len(chosen) > 2:
            la_effect[chosen[1]] = -abs(la_effect[chosen[1]]) - 0.5
    phi, sd = 0.75, 0.7
    msoa_effect = np.empty(n_msoas)
    shocks = rng.normal(0.0, 1.0, n_msoas)
    for m in range(n_msoas):
        if msoa_pos[m] == 0:
            msoa_effect[m] = sd * shocks[m]
        else:
            msoa_effect[m] = phi * msoa_effect[m - 1] + sd * np.sqrt(1 - phi**2) * shocks[m]
    latent = la_effect[lsoa_la] + msoa_effect[lsoa_msoa] + rng.normal(0.0, 0.3, n)
    latent_std = (latent - latent.mean()) / latent.std()

    skew = 1.0 if n >= NATIONAL_LSOAS else 1.15
    imd_q_raw = percentile_within(latent, rng) ** skew
    imd_rank = national_ranks(imd_q_raw)
    imd_q = (imd_rank - 0.5) / NATIONAL_LSOAS
    imd_score = np.round(np.interp(imd_q, *_IMD_KNOTS), 3)
    imd_decile = deciles(imd_rank)

    share65 = np.clip(0.19 - 0.05 * latent_std + rng.normal(0.0, 0.03, n), 0.06, 0.38)
    lsoa_pop65 = np.round(lsoa_pop * share65).astype(np.int64)
    msoa_imd = np.bincount(lsoa_msoa, weights=imd_score * lsoa_pop) / msoa_pop

    # --- Wards: runs of 3-6 LSOAs inside each authority, not aligned with MSOAs ----------
    lsoa_ward = np.empty(n, dtype=np.int64)
    next_ward = 0
    for la in range(scale.n_las):
        members = np.flatnonzero(lsoa_la == la)
        runs = split_sizes(rng, len(members), [3, 4, 5, 6], [0.25, 0.35, 0.25, 0.15])
        lsoa_ward[members] = next_ward + runs_to_labels(runs)
        next_ward += len(runs)
    n_wards = next_ward

    # --- Names and codes --------------------------------------------------------------
    icb_short = [FIRST_ICB_NAME]
    for _ in range(1, scale.n_icbs):
        first, second = names.take(2, bare=True)
        icb_short.append(f"{first} and {second}")
    icb_name = np.array([f"NHS {short} Integrated Care Board (fictional)" for short in icb_short])
    icb_code = np.array([f"E54{900 + i + 1:06d}" for i in range(scale.n_icbs)])
    la_name = np.array(names.take(scale.n_las, bare=True))
    # Real formats, unused ranges: metropolitan districts E08, unitaries E06, districts E07.
    biggest = np.zeros(scale.n_las, dtype=bool)
    for icb in range(scale.n_icbs):
        las = np.flatnonzero(la_icb == icb)
        biggest[las[np.argmax(la_sizes[las])]] = True
    la_kind = np.where(la_deprived, "E08", "E06")
    if scale.n_las > 6:
        districts = (~la_deprived) & (~biggest) & (rng.random(scale.n_las) < 0.5)
        la_kind = np.where(districts, "E07", la_kind)
    la_code = np.empty(scale.n_las, dtype=object)
    for kind in ("E06", "E07", "E08"):
        where = np.flatnonzero(la_kind == kind)
        la_code[where] = _codes(kind, 901, len(where))
    la_code = la_code.astype(str)
    sub_code = _codes("E38", 900_901, n_subs)
    sub_name = np.array(
        [
            f"NHS {icb_short[sub_icb[s]]} ICB - "
            + " and ".join(la_name[np.flatnonzero(la_sub == s)][:2])
            + (" and district" if (la_sub == s).sum() > 2 else "")
            + " (fictional)"
            for s in range(n_subs)
        ]
    )
    msoa_code = _codes("E02", 900_001, n_msoas)
    msoa_name = np.array(names.take(n_msoas))
    ward_code = _codes("E05", 900_001, n_wards)
    ward_name = np.array(names.take(n_wards))
    lsoa_code = _codes("E01", 900_001, n)
    first_in_msoa = np.concatenate([[0], np.cumsum(msoa_runs)[:-1]])
    letter = np.arange(n) - first_in_msoa[lsoa_msoa]
    lsoa_name = np.array(
        [
            f"{la_name[lsoa_la[i]]} {msoa_pos[lsoa_msoa[i]] + 1:03d}{chr(65 + letter[i])}"
            for i in range(n)
        ]
    )
    la_white_share = np.where(
        la_deprived, rng.uniform(0.62, 0.8, scale.n_las), rng.uniform(0.78, 0.95, scale.n_las)
    )

    # --- PCNs (30,000-50,000 people, consecutive MSOAs of one authority) and practices ---
    msoa_pcn = np.empty(n_msoas, dtype=np.int64)
    pcn_la_list: list[int] = []
    for la in range(scale.n_las):
        members = np.flatnonzero(msoa_la == la)
        groups: list[list[int]] = [[]]
        total = 0.0
        target = rng.uniform(32_000, 48_000)
        for m in members:
            if total >= target or (groups[-1] and total + msoa_pop[m] > 50_000):
                groups.append([])
                total = 0.0
                target = rng.uniform(32_000, 48_000)
            groups[-1].append(int(m))
            total += msoa_pop[m]
        if len(groups) > 1 and msoa_pop[groups[-1]].sum() < 25_000:
            if msoa_pop[groups[-2]].sum() + msoa_pop[groups[-1]].sum() <= 55_000:
                groups[-2].extend(groups.pop())
        for group in groups:
            msoa_pcn[group] = len(pcn_la_list)
            pcn_la_list.append(la)
    pcn_la = np.array(pcn_la_list)
    n_pcns = len(pcn_la)
    lsoa_pcn = msoa_pcn[lsoa_msoa]
    pcn_pop = np.bincount(lsoa_pcn, weights=lsoa_pop).astype(np.int64)
    pcn_code = np.array([f"U9{i + 1:04d}" for i in range(n_pcns)])
    first_msoa_of_pcn = np.array([np.flatnonzero(msoa_pcn == p)[0] for p in range(n_pcns)])
    pcn_name = np.array([f"{msoa_name[m]} PCN" for m in first_msoa_of_pcn])

    per_pcn = np.maximum(2, np.round(pcn_pop / 8000 * rng.uniform(0.8, 1.25, n_pcns)))
    practice_pcn = np.repeat(np.arange(n_pcns), per_pcn.astype(np.int64))
    n_practices = len(practice_pcn)
    practice_lsoa = np.empty(n_practices, dtype=np.int64)
    practice_list = np.empty(n_practices, dtype=np.int64)
    for p in range(n_pcns):
        slots = np.flatnonzero(practice_pcn == p)
        members = np.flatnonzero(lsoa_pcn == p)
        weights = lsoa_pop[members] / lsoa_pop[members].sum()
        practice_lsoa[slots] = rng.choice(members, size=len(slots), p=weights)
        shares = rng.dirichlet(np.full(len(slots), 3.0))
        practice_list[slots] = np.round(pcn_pop[p] * rng.uniform(1.02, 1.08) * shares)
    practice_code = np.array([f"Z9{i + 1:04d}" for i in range(n_practices)])
    practice_name = _practice_names(rng, msoa_name[lsoa_msoa[practice_lsoa]])

    # --- Frames in contract layout ------------------------------------------------------
    lsoa_sub = la_sub[lsoa_la]
    lsoa_icb = la_icb[lsoa_la]
    geography = pl.DataFrame(
        {
            "lsoa_code": lsoa_code,
            "lsoa_name": lsoa_name,
            "msoa_code": msoa_code[lsoa_msoa],
            "msoa_name": msoa_name[lsoa_msoa],
            "ward_code": ward_code[lsoa_ward],
            "ward_name": ward_name[lsoa_ward],
            "lad_code": la_code[lsoa_la],
            "lad_name": la_name[lsoa_la],
            "sub_icb_code": sub_code[lsoa_sub],
            "sub_icb_name": sub_name[lsoa_sub],
            "icb_code": icb_code[lsoa_icb],
            "icb_name": icb_name[lsoa_icb],
            "is_fictional": np.ones(n, dtype=bool),
        }
    )
    population = pl.DataFrame(
        {
            "lsoa_code": lsoa_code,
            "population_year": np.full(n, population_year, dtype=np.int64),
            "population_total": lsoa_pop,
            "population_aged_65_plus": lsoa_pop65,
        }
    )
    deprivation = _deprivation_frame(
        rng,
        lsoa_code,
        lsoa_name,
        la_code[lsoa_la],
        la_name[lsoa_la],
        latent_std,
        skew,
        imd_score,
        imd_rank,
        imd_decile,
        lsoa_pop,
    )
    practices = pl.DataFrame(
        {
            "practice_code": practice_code,
            "practice_name": practice_name,
            "pcn_code": pcn_code[practice_pcn],
            "pcn_name": pcn_name[practice_pcn],
            "lsoa_code": lsoa_code[practice_lsoa],
            "registered_patients": practice_list,
        }
    )
    icb_short = np.array(icb_short)
    return assemble_places(locals())


def _practice_names(rng: np.random.Generator, places: np.ndarray) -> np.ndarray:
    """A distinct name per practice, from the place of its surgery."""
    used: set[str] = set()
    names = []
    for place in places:
        options = [
            PRACTICE_TEMPLATES[i].format(place=place)
            for i in rng.permutation(len(PRACTICE_TEMPLATES))
        ]
        options += [f"{place} Practice {k}" for k in range(2, 100)]
        name = next(option for option in options if option not in used)
        used.add(name)
        names.append(name)
    return np.array(names)


def _deprivation_frame(
    rng: np.random.Generator,
    lsoa_code: np.ndarray,
    lsoa_name: np.ndarray,
    lad_code: np.ndarray,
    lad_name: np.ndarray,
    latent_std: np.ndarray,
    skew: float,
    imd_score: np.ndarray,
    imd_rank: np.ndarray,
    imd_decile: np.ndarray,
    lsoa_pop: np.ndarray,
) -> pl.DataFrame:
    """IoD 'file 7' columns under canonical names (the writer renames to published headers)."""
    columns: dict[str, np.ndarray] = {
        "lsoa_code": lsoa_code,
        "lsoa_name": lsoa_name,
        "lad_code": lad_code,
        "lad_name": lad_name,
        "imd_score": imd_score,
        "imd_rank": imd_rank,
        "imd_decile": imd_decile,
    }
    n = len(lsoa_code)
    for key, (rho, scores) in DOMAINS.items():
        domain_latent = rho * latent_std + np.sqrt(1 - rho**2) * rng.normal(0.0, 1.0, n)
        ranks = national_ranks(percentile_within(domain_latent, rng) ** skew)
        q = (ranks - 0.5) / NATIONAL_LSOAS
        columns[f"{key}_score"] = np.round(np.interp(q, _DOMAIN_Q, scores), 3)
        columns[f"{key}_rank"] = ranks
        columns[f"{key}_decile"] = deciles(ranks)
    columns["population_total"] = np.round(lsoa_pop * rng.uniform(0.96, 1.0, n)).astype(np.int64)
    return pl.DataFrame(columns)
