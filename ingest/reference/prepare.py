"""Contract-shaped geography, practices, population and deprivation for one real ICB (or all
of England), from the published reference files in one folder.

``prepare(reference_dir, icb_code, out_dir)`` writes ``geography.csv``, ``practices.csv``,
``population.csv`` and ``deprivation.csv`` (the layouts ``icb-insight ingest`` and the build
read) and ``reference_provenance.json`` (which file and vintage each came from).
"""

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingest.contracts import CONTRACTS
from ingest.demo.write import contract_layout, write_csv
from ingest.errors import InputError
from ingest.reference.csv import read_text_csv
from ingest.reference.geography import build_geography
from ingest.reference.iod import File7, read_file7, read_population_denominators
from ingest.reference.layout import with_optional_columns
from ingest.reference.practices import build_practices
from ingest.reference.summaries import fill_population
from ingest.reference.vintage import iod_to_2021, population_to_2021, read_lsoa11_lsoa21_lookup

log = logging.getLogger(__name__)

# Each role, and the file names accepted for it in a reference folder (first found wins):
# the names `icb-insight reference download` saves under, then the names of the copies in
# ../shared/data/reference.
ROLES: dict[str, tuple[str, ...]] = {
    "lsoa21_icb_lookup": ("lsoa21_sicbl24_icb24_lad24_lookup_en_geographr.csv",),
    "lsoa21_ward_lookup": ("lsoa21_ward24_lad24_lookup_ew_geographr.csv",),
    "lad_region_lookup": ("lad24_region24_lookup_en_geographr.csv",),
    "msoa21_names": ("hocl_msoa_names_2021_v2.2.csv",),
    "lsoa11_lsoa21_lookup": ("lsoa11_lsoa21_lad22_lookup_ew_geographr.csv",),
    "iod2019_file7": (
        "iod2019_file7_all_scores_ranks_deciles_population_lsoa11.csv",
        "iod2019_lsoa11_file7_subset_ASSEMBLED.csv",
    ),
    "iod2025_file7": (
        "iod2025_file7_all_scores_ranks_deciles_population_lsoa21.csv",
        "iod2025_lsoa21_file7_subset_ASSEMBLED.csv",
    ),
    "iod2019_file6": ("iod2019_file6_population_denominators_lsoa11.csv",),
    "epcn_membership": ("ods_epcn_practice_to_pcn.xlsx", "ods_epcn_practice_to_pcn_2023-02.csv"),
    "epraccur": ("ods_epraccur.csv", "ods_epraccur_2023-02.csv"),
    "registered_patients": ("nhsd_gp_reg_pat_prac_all.csv", "nhsd_gp_reg_pat_prac_all_2022-05.csv"),
}

OPTIONAL_ROLES = {"iod2019_file7", "iod2025_file7", "iod2019_file6", "epraccur",
                  "registered_patients", "lsoa11_lsoa21_lookup", "lad_region_lookup"}  # fmt: skip


def find(reference_dir: Path, role: str) -> Path | None:
    for name in ROLES[role]:
        path = Path(reference_dir) / name
        if path.is_file():
            return path
    if role not in OPTIONAL_ROLES:
        raise InputError(
            f"no {role.replace('_', ' ')} file: expected one of {', '.join(ROLES[role])}",
            path=reference_dir,
        )
    return None


def require(reference_dir: Path, role: str) -> Path:
    """The file for a role every preparation needs (``find`` raises when it is missing)."""
    path = find(reference_dir, role)
    if path is None:  # only optional roles come back empty
        raise InputError(f"no {role.replace('_', ' ')} file", path=reference_dir)
    return path


@dataclass
class Prepared:
    """Contract-shaped frames (England or one ICB) and where each figure came from."""

    geography: pl.DataFrame
    practices: pl.DataFrame
    population: pl.DataFrame
    deprivation: pl.DataFrame
    provenance: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def frames(self) -> dict[str, pl.DataFrame]:
        return {
            "geography": self.geography,
            "practices": self.practices,
            "population": self.population,
            "deprivation": self.deprivation,
        }


def deprivation_2021(reference_dir: Path, edition: int) -> tuple[pl.DataFrame, File7]:
    """IoD figures on 2021 LSOAs with ``iod_edition``, ``source_lsoa_vintage`` and
    ``lsoa_change_code``: IoD2025 as published, IoD2019 carried over from 2011 LSOAs."""
    path = find(reference_dir, f"iod{edition}_file7")
    if path is None:
        raise InputError(f"no IoD{edition} File 7 in the folder", path=reference_dir)
    file7 = read_file7(path)
    if file7.lsoa_vintage == 2021:
        frame = file7.frame.with_columns(
            iod_edition=pl.lit(file7.edition, pl.Int64),
            source_lsoa_vintage=pl.lit(2021, pl.Int64),
            lsoa_change_code=pl.lit(None, pl.String),
        )
        return frame, file7
    lookup_path = find(reference_dir, "lsoa11_lsoa21_lookup")
    if lookup_path is None:
        raise InputError("IoD2019 is on 2011 LSOAs: the LSOA (2011) to (2021) lookup is needed")
    iod = file7.frame
    if iod["population_total"].null_count() == iod.height:
        file6 = find(reference_dir, "iod2019_file6")
        if file6 is not None:
            pops = read_population_denominators(file6)
            iod = iod.drop(pops.columns[1:]).join(pops, on="lsoa_code", how="left")
    frame = iod_to_2021(read_lsoa11_lsoa21_lookup(lookup_path), iod).with_columns(
        iod_edition=pl.lit(file7.edition, pl.Int64),
        source_lsoa_vintage=pl.lit(2011, pl.Int64),
    )
    return frame, file7


def population_2021(
    reference_dir: Path, deprivation: pl.DataFrame, file7: File7
) -> tuple[pl.DataFrame, str]:
    """Population by LSOA 2021 and a sentence on its vintage: the IoD's own denominators
    (mid-2022 in IoD2025, mid-2015 in IoD2019), carried onto 2021 LSOAs when needed."""
    if deprivation["population_total"].null_count() < deprivation.height:
        year = 2022 if file7.edition == 2025 else 2015
        source = deprivation
        vintage = file7.lsoa_vintage
        change = "lsoa_change_code"
        what = (
            f"IoD{file7.edition} population denominators, mid-{year} excluding prisoners, "
            f"published on {vintage} LSOAs"
        )
    else:
        file6 = find(reference_dir, "iod2019_file6")
        lookup = find(reference_dir, "lsoa11_lsoa21_lookup")
        if file6 is None or lookup is None:
            raise InputError(
                "no population: the IoD File 7 has no denominators, and IoD2019 File 6 with "
                "the LSOA (2011) to (2021) lookup is not in the folder",
                path=reference_dir,
            )
        year, vintage = 2015, 2011
        source = population_to_2021(
            read_lsoa11_lsoa21_lookup(lookup), read_population_denominators(file6)
        )
        change = "lsoa_change_code"
        what = (
            "IoD2019 File 6 population denominators, mid-2015 excluding prisoners, published "
            "on 2011 LSOAs and carried onto 2021 LSOAs (splits shared equally)"
        )
    frame = source.select(
        "lsoa_code",
        pl.lit(year, pl.Int64).alias("population_year"),
        pl.col("population_total").round(0).cast(pl.Int64),
        pl.lit(None, pl.Int64).alias("population_aged_65_plus"),
        pl.lit(vintage, pl.Int64).alias("source_lsoa_vintage"),
        pl.col(change) if vintage == 2011 else pl.lit(None, pl.String).alias(change),
        # not a contract column (the writer leaves it out): shapes the demo's ages
        pl.col("population_aged_60_plus")
        if "population_aged_60_plus" in source.columns
        else pl.lit(None, pl.Float64).alias("population_aged_60_plus"),
    )
    return frame, what


def lad_regions(path: Path | None) -> pl.DataFrame:
    """Local authority district to region (ONS lookup as packaged by geographr): an empty
    frame when the folder has no such file, so the deprivation file's region_code is empty."""
    if path is None:
        return pl.DataFrame(schema={"lad_code": pl.String, "region_code": pl.String})
    raw = read_text_csv(path)
    missing = [c for c in ("ltla24_code", "region24_code") if c not in raw.columns]
    if missing:
        raise InputError(
            f"lacks the published column(s) {', '.join(missing)}; has {', '.join(raw.columns)}",
            path=path,
        )
    return raw.select(
        pl.col("ltla24_code").alias("lad_code"), pl.col("region24_code").alias("region_code")
    ).unique("lad_code")


def prepare_frames(reference_dir: Path, icb_code: str | None, *, edition: int = 2025) -> Prepared:
    """Contract-shaped frames for one ICB (``icb_code`` E54...) or England (None)."""
    reference_dir = Path(reference_dir)
    if not reference_dir.is_dir():
        raise InputError("reference folder not found", path=reference_dir)
    paths = {role: find(reference_dir, role) for role in ROLES}
    england = build_geography(
        require(reference_dir, "lsoa21_icb_lookup"),
        require(reference_dir, "lsoa21_ward_lookup"),
        require(reference_dir, "msoa21_names"),
    )
    geography = england
    if icb_code is not None:
        geography = england.filter(pl.col("icb_code") == icb_code)
        if geography.is_empty():
            known = england.select("icb_code", "icb_name").unique().sort("icb_code")
            listing = "; ".join(f"{c} {n}" for c, n in known.iter_rows())
            raise InputError(f"no ICB {icb_code!r} in the lookup; ICBs: {listing}")
    deprivation, file7 = deprivation_2021(reference_dir, edition)
    population, population_what = population_2021(reference_dir, deprivation, file7)
    lsoas = geography.select("lsoa_code", "lsoa_name")
    # Deprivation for every LSOA in England, not only the ICB's: the area summaries
    # (fct_area_deprivation) rank districts among all of England's. Where the File 7 has no
    # denominators (the IoD2025 reconstruction), the population source's figures fill them.
    denominators_filled = deprivation["population_total"].null_count() > 0
    if "lsoa_name" not in deprivation.columns:  # IoD2019 carried over: 2021 names from ONS
        deprivation = deprivation.join(
            england.select("lsoa_code", "lsoa_name"), on="lsoa_code", how="left"
        )
    deprivation = (
        fill_population(deprivation, population, "population_total")
        .with_columns(pl.col("population_total").round(0).cast(pl.Int64))
        .filter(pl.col("lsoa_code").str.starts_with("E01"))
        # each LSOA's sub-ICB location and ICB, so the summaries rank them nationally too,
        # and its MSOA, ward and region, so a grant to an area partly outside the ICB is
        # shared by the whole area's population
        .join(
            england.select(
                "lsoa_code",
                "sub_icb_code",
                "sub_icb_name",
                "icb_code",
                "icb_name",
                "msoa_code",
                "ward_code",
            ),
            on="lsoa_code",
            how="left",
        )
        # region by the LSOA's 2024 district (an IoD2019 file gives the 2019 districts)
        .join(
            england.select("lsoa_code", "lad_code")
            .join(lad_regions(paths["lad_region_lookup"]), on="lad_code", how="inner")
            .select("lsoa_code", "region_code"),
            on="lsoa_code",
            how="left",
        )
        .sort("lsoa_code")
    )
    population = population.join(lsoas.select("lsoa_code"), on="lsoa_code", how="semi")
    practices = build_practices(
        require(reference_dir, "epcn_membership"),
        paths["registered_patients"],
        paths["epraccur"],
    )
    if icb_code is not None:
        subs = geography["sub_icb_ods_code"].drop_nulls().unique().to_list()
        practices = practices.filter(pl.col("sub_icb_ods_code").is_in(subs))
    notes = [file7.describe(), f"population: {population_what}"]
    notes.append(
        f"deprivation covers all {deprivation.height:,} LSOAs in England, with their sub-ICB "
        "location and ICB (the area summaries rank districts, ICBs and sub-ICB locations "
        "nationally); geography and population cover the ICB"
        if icb_code is not None
        else f"deprivation covers {deprivation.height:,} LSOAs"
    )
    if denominators_filled:
        notes.append(
            f"the IoD{file7.edition} File 7 lacks population denominators: the deprivation "
            f"file's population column holds the population source's figures ({population_what})"
        )
    missing_dep = lsoas.join(deprivation, on="lsoa_code", how="anti").height
    if missing_dep:
        notes.append(f"{missing_dep:,} LSOAs have no deprivation figures")
    provenance = {
        "icb_code": icb_code,
        "icb_name": geography["icb_name"][0] if icb_code and geography.height else None,
        "lsoas": geography.height,
        "files": {role: str(path) if path else None for role, path in paths.items()},
        "geography": "ONS LSOA (2021) to sub-ICB location to ICB (April 2024) with LAD 2024; "
        "ward 2024 best fit; MSOA 2021 from the LSOA name, named by the House of Commons "
        "Library MSOA names v2.2",
        "deprivation": {
            "iod_edition": file7.edition,
            "published_on_lsoa_vintage": file7.lsoa_vintage,
            "columns_present": len(file7.present),
            "columns_lacking": list(file7.missing),
            "lsoas": "every LSOA in England (geography and population: the ICB's only)",
            "population_column": "IoD denominators as published"
            if not denominators_filled
            else f"not in the File 7; filled from the population source: {population_what}",
            "mapping": None
            if file7.lsoa_vintage == 2021
            else "ONS LSOA (2011) to LSOA (2021) lookup: U/S take the 2011 figures, M/X the "
            "population-weighted average (docs/reference-data.md)",
        },
        "population": population_what,
        "practices": "ODS ePCN open practice-to-PCN relationships (active epraccur GP "
        "practices), NHS Digital registered patients; practice LSOA left empty (no postcode "
        "lookup)",
        "notes": notes,
    }
    # sub_icb_ods_code and list_size_extract_date are not contract columns: the writer
    # leaves them out; the real-geography demo places practices with the first.
    return Prepared(
        geography=geography,
        practices=practices,
        population=population,
        deprivation=deprivation,
        provenance=provenance,
        notes=notes,
    )


def write_prepared(prepared: Prepared, out_dir: Path) -> dict[str, Path]:
    """Write the four contract files and ``reference_provenance.json`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, frame in prepared.frames().items():
        contract = CONTRACTS[name]
        path = out_dir / contract.file_name
        write_csv(contract_layout(contract, with_optional_columns(contract, frame)), path)
        written[name] = path
    provenance = out_dir / "reference_provenance.json"
    provenance.write_text(json.dumps(prepared.provenance, indent=1) + "\n", encoding="utf-8")
    written["provenance"] = provenance
    return written


def prepare(
    reference_dir: Path, icb_code: str | None, out_dir: Path, *, edition: int = 2025
) -> tuple[Prepared, dict[str, Path]]:
    prepared = prepare_frames(reference_dir, icb_code, edition=edition)
    return prepared, write_prepared(prepared, out_dir)
