"""Fetch the official reference files from their publishers into a local folder, with
checksums and a record of what came from where.

``MANIFEST`` lists every file ``icb-insight reference prepare`` reads: the name it is saved
under, the publisher's address (``url``; ``None`` where the publisher gives no stable address
for the file itself, only a page to pick it from) and that page. With ``base_url`` every file
is fetched from ``{base_url}/{mirror_name}`` instead, a mirror laid out like
``../shared/data/reference`` (its file names), and saved under that name.

Written into the folder: the files, ``SHA256SUMS`` (``sha256sum -c`` reads it) and
``provenance.json`` (for each file: where it came from, when, its size and sha256, or why it
was not fetched). The addresses were written down without internet access here: check them
on the first real run (the record says which failed). Each entry's ``address_note`` says where
its address was confirmed (public code or pages that use it), or that only the page is known.
"""

import hashlib
import io
import json
import logging
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingest.errors import InputError

log = logging.getLogger(__name__)

GOV_IOD2019 = "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019"
GOV_IOD2025 = "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2025"
ONS_GEOPORTAL = "https://geoportal.statistics.gov.uk/"
ONS_LSOA11_LSOA21 = (
    "https://geoportal.statistics.gov.uk/datasets/ons::lsoa-2011-to-lsoa-2021-to-local-"
    "authority-district-2022-lookup-for-england-and-wales-version-2/about"
)
ODS_ZIPS = (
    "the ODS bulk zip address used widely in public code (e.g. jtrim-ons, nhs-r-community "
    "scripts); public code of 2026 reports it answers 403 to non-browser clients, so it may "
    "have to be fetched by hand from the page"
)
ODS_GP = "https://digital.nhs.uk/services/organisation-data-service/export-data-files/csv-downloads/gp-and-gp-practice-related-data"
NHSD_REGISTERED = "https://digital.nhs.uk/data-and-information/publications/statistical/patients-registered-at-a-gp-practice"
OGL = "Open Government Licence v3.0"


@dataclass(frozen=True)
class Entry:
    """One reference file: saved as ``name`` (``mirror_name`` when fetched from a mirror)."""

    name: str
    what: str
    publisher: str
    licence: str
    page: str
    url: str | None = None
    mirror_name: str | None = None
    # the member to take when the publisher serves a zip
    member: str | None = None
    required: bool = True
    # where the address was confirmed, or why there is none
    address_note: str | None = None

    def source(self, base_url: str | None) -> str | None:
        if base_url:
            return f"{base_url.rstrip('/')}/{self.mirror_name or self.name}"
        return self.url

    def target(self, base_url: str | None) -> str:
        return (self.mirror_name or self.name) if base_url else self.name


MANIFEST: tuple[Entry, ...] = (
    Entry(
        "iod2019_file7_all_scores_ranks_deciles_population_lsoa11.csv",
        "IoD2019 File 7: all scores, ranks, deciles and population denominators (2011 LSOAs)",
        "MHCLG",
        OGL,
        GOV_IOD2019,
        url="https://assets.publishing.service.gov.uk/media/5dc407b440f0b6379a7acc8d/"
        "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv",
        mirror_name="iod2019_lsoa11_file7_subset_ASSEMBLED.csv",
        address_note="as used by github.com/OxfordIHTM/ihtm-hackathon-2025 read_data.R; the "
        "file is listed on the IoD2019 statistics page",
    ),
    Entry(
        "iod2019_file6_population_denominators_lsoa11.csv",
        "IoD2019 File 6: population denominators, mid-2015 (the same columns as File 7)",
        "MHCLG",
        OGL,
        GOV_IOD2019,
        required=False,
        address_note="published as xlsx only (assets.publishing.service.gov.uk/government/"
        "uploads/system/uploads/attachment_data/file/833980/File_6_-_IoD2019_Population_"
        "Denominators.xlsx, per github.com/anetobradley/energy_flex); the loaders read CSV, and "
        "File 7 carries the same columns, so it is not fetched",
    ),
    Entry(
        "iod2025_file7_all_scores_ranks_deciles_population_lsoa21.csv",
        "IoD2025 File 7: all scores, ranks, deciles and population denominators (2021 LSOAs)",
        "MHCLG",
        OGL,
        GOV_IOD2025,
        url="https://assets.publishing.service.gov.uk/media/68ff5daabcb10f6bf9bef911/"
        "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv",
        mirror_name="iod2025_lsoa21_file7_subset_ASSEMBLED.csv",
        address_note="as used by github.com/traffordDataLab/open_data "
        "IndicesOfDeprivation/IoD2025/lsoa/pre-processing.R; listed on the IoD2025 page",
    ),
    Entry(
        "lsoa21_sicbl24_icb24_lad24_lookup_en_geographr.csv",
        "LSOA (2021) to Sub ICB Location to ICB to LAD (April 2024) lookup in England",
        "ONS",
        OGL,
        ONS_GEOPORTAL,
        address_note="landing page only: search the portal for 'LSOA (2021) to SICBL to ICB to "
        "Cancer Alliances to LAD (April 2024) Lookup in EN' (service "
        "LSOA21_SICBL24_ICB24_CAL24_LAD24_EN_LU); the ONS headers (LSOA21CD, SICBL24CDH, ...) "
        "are read as they are",
    ),
    Entry(
        "lsoa21_ward24_lad24_lookup_ew_geographr.csv",
        "LSOA (2021) to Electoral Ward (2024) to LAD (2024) best-fit lookup",
        "ONS",
        OGL,
        ONS_GEOPORTAL,
        address_note="landing page only: search the portal for 'LSOA (2021) to Electoral Ward "
        "(2024) to LAD (2024) Best Fit Lookup in EW'",
    ),
    Entry(
        "lsoa11_lsoa21_lad22_lookup_ew_geographr.csv",
        "LSOA (2011) to LSOA (2021) to LAD (2022) exact-fit lookup with change codes",
        "ONS",
        OGL,
        ONS_LSOA11_LSOA21,
        address_note="dataset page only (as cited in public code); download the CSV from it",
    ),
    Entry(
        "hocl_msoa_names_2021_v2.2.csv",
        "MSOA names 2.2 (2021 MSOAs)",
        "House of Commons Library",
        "Open Parliament Licence v3.0",
        "https://houseofcommonslibrary.github.io/msoanames/",
        url="https://houseofcommonslibrary.github.io/msoanames/MSOA-Names-2.2.csv",
        address_note="the GitHub Pages address of msoanames/MSOA-Names-2.2.csv in "
        "github.com/houseofcommonslibrary/houseofcommonslibrary.github.io",
    ),
    Entry(
        "ods_epcn_practice_to_pcn.xlsx",
        "ODS ePCN: PCNs and practice-to-PCN membership",
        "NHS England ODS",
        OGL,
        ODS_GP,
        url="https://files.digital.nhs.uk/assets/ods/current/ePCN.zip",
        mirror_name="ods_epcn_practice_to_pcn_2023-02.csv",
        member="ePCN.xlsx",
        address_note=ODS_ZIPS + " (ePCN: name casing not confirmed; epcn.zip also seen)",
    ),
    Entry(
        "ods_epraccur.csv",
        "ODS epraccur: GP practices and prescribing cost centres",
        "NHS England ODS",
        OGL,
        ODS_GP,
        url="https://files.digital.nhs.uk/assets/ods/current/epraccur.zip",
        mirror_name="ods_epraccur_2023-02.csv",
        member="epraccur.csv",
        required=False,
        address_note=ODS_ZIPS,
    ),
    Entry(
        "nhsd_gp_reg_pat_prac_all.csv",
        "Patients Registered at a GP Practice: practice totals (gp-reg-pat-prac-all.csv)",
        "NHS England (NHS Digital)",
        OGL,
        NHSD_REGISTERED,
        mirror_name="nhsd_gp_reg_pat_prac_all_2022-05.csv",
        required=False,
        address_note="landing page only: a new monthly publication page each month; take "
        "gp-reg-pat-prac-all.csv from the latest",
    ),
)


@dataclass(frozen=True)
class Fetched:
    entry: Entry
    name: str
    source: str | None
    status: str  # fetched, no_address, failed
    sha256: str | None = None
    bytes: int | None = None
    message: str | None = None

    def record(self, fetched_at: str) -> dict[str, object]:
        return {
            "name": self.name,
            "what": self.entry.what,
            "publisher": self.entry.publisher,
            "licence": self.entry.licence,
            "page": self.entry.page,
            "source_url": self.source,
            "address_note": self.entry.address_note,
            "zip_member": self.entry.member if self.status == "fetched" else None,
            "status": self.status,
            "fetched_at": fetched_at if self.status == "fetched" else None,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "message": self.message,
        }


def _get(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "icb-insight reference download"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return response.read()


def _unzip(data: bytes, member: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = {name.casefold(): name for name in archive.namelist()}
        if member.casefold() not in names:
            raise InputError(f"the zip has no {member} (it has {', '.join(archive.namelist())})")
        return archive.read(names[member.casefold()])


def download(
    out_dir: Path,
    *,
    base_url: str | None = None,
    manifest: tuple[Entry, ...] = MANIFEST,
    timeout: float = 120.0,
) -> list[Fetched]:
    """Fetch every manifest file into ``out_dir``; write SHA256SUMS and provenance.json.

    Raises ``InputError`` (after writing the record) when a required file could not be had.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    results: list[Fetched] = []
    for entry in manifest:
        name, source = entry.target(base_url), entry.source(base_url)
        if source is None:
            results.append(
                Fetched(entry, name, None, "no_address",
                        message=f"no stable address for the file; get it from {entry.page}"
                        + (f" ({entry.address_note})" if entry.address_note else ""))
            )  # fmt: skip
            continue
        log.info("fetching %s from %s", name, source)
        try:
            data = _get(source, timeout)
            if data[:2] == b"PK" and entry.member:
                data = _unzip(data, entry.member)
        except (urllib.error.URLError, OSError, InputError, zipfile.BadZipFile) as error:
            reason = getattr(error, "reason", None) or error
            results.append(Fetched(entry, name, source, "failed", message=str(reason)))
            continue
        path = out_dir / name
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(data)
        partial.replace(path)
        digest = hashlib.sha256(data).hexdigest()
        results.append(Fetched(entry, name, source, "fetched", digest, len(data)))
    fetched = [r for r in results if r.status == "fetched"]
    (out_dir / "SHA256SUMS").write_text(
        "".join(f"{r.sha256}  {r.name}\n" for r in fetched), encoding="utf-8"
    )
    provenance = {
        "fetched_by": "icb-insight reference download",
        "started_at": started,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "base_url": base_url,
        "files": [r.record(started) for r in results],
    }
    (out_dir / "provenance.json").write_text(json.dumps(provenance, indent=1) + "\n", "utf-8")
    missing = [r for r in results if r.status != "fetched" and r.entry.required]
    if missing:
        raise InputError(
            "not fetched: "
            + "; ".join(f"{r.name} ({r.message})" for r in missing)
            + f". What was fetched is in {out_dir}, with provenance.json"
        )
    return results
