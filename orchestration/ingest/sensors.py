"""The landing sensor: a file dropped into ``data/landing/<source>/`` is ingested, then every
asset downstream of that source (staging, marts, the published warehouse) is rebuilt.

Each tick looks at every source's landing folder (beside the warehouse: see
``ingest.archive``). Files still being written are left for a later tick: a file counts as
landed once it has not changed for ``settle_seconds``; hidden files, Excel lock files
(``~$...``) and partial downloads are ignored. All landed files go into one run of the
``full_build`` job, restricted to ``raw/<source>`` for each source with files plus everything
downstream of those (except other sources' ingest assets, which are not reloaded); the ingest
assets get the files through their config. In that run an accepted file leaves the landing
folder for the archive, and a refused one is deleted, leaving ``rejected/<source>/<label>
.refused.txt`` (reason, time, sha256; no values), so it is never picked up again.

A file's name never reaches Dagster (run config, tags, logs, metadata): before a run is
requested each settled file is renamed in place to its label (``ingest.archive.file_label``:
source, short sha256, extension), and a file whose name is identifiable is refused there and
then (deleted, with its note), before any run.

DuckDB allows one writer, so while a run this sensor started is still queued or running the
sensor waits (``SkipReason``) rather than start a second. A run that failed and left the
files in the landing folder (refused because a build held the warehouse lock) is tried again
on a later tick under a new run key, up to ``MAX_FAILED_RUNS`` times.
"""

import hashlib
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from dagster import (
    AssetKey,
    AssetSelection,
    DagsterRunStatus,
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from ingest.archive import file_label, landing_dir
from ingest.contracts import CONTRACTS
from ingest.load import file_sha256, reject_identifiable_name
from orchestration.ingest.assets import IngestConfig
from orchestration.resources import WarehouseResource

SENSOR_NAME = "landing_files"
JOB_NAME = "full_build"
SETTLE_SECONDS = 10
FINGERPRINT_TAG = "icb_insight/landed_fingerprint"
MAX_FAILED_RUNS = 5
_IGNORED_PREFIXES = (".", "~$")
_IGNORED_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download")
_ACTIVE = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]


@dataclass(frozen=True)
class LandedFile:
    source: str
    path: Path
    size: int
    modified_ns: int


def landed_files(
    landing: Path, *, settle_seconds: float = SETTLE_SECONDS, now: float | None = None
) -> list[LandedFile]:
    """Files in ``landing/<source>/`` for every source, oldest first, that have settled."""
    now = time.time() if now is None else now
    found = []
    for name in CONTRACTS:
        folder = landing / name
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if not path.is_file() or path.name.startswith(_IGNORED_PREFIXES):
                continue
            if path.name.lower().endswith(_IGNORED_SUFFIXES):
                continue
            stat = path.stat()
            if now - stat.st_mtime < settle_seconds:
                continue
            found.append(LandedFile(name, path, stat.st_size, stat.st_mtime_ns))
    return sorted(found, key=lambda landed: (landed.modified_ns, landed.path.name))


def labelled(landed: LandedFile) -> LandedFile:
    """The landed file renamed in place to its label (the same bytes dropped twice become
    one file)."""
    label = file_label(landed.source, file_sha256(landed.path), landed.path)
    if landed.path.name == label:
        return landed
    target = landed.path.with_name(label)
    os.replace(landed.path, target)
    return replace(landed, path=target)


def landing_run_request(
    files: list[LandedFile], downstream: dict[str, list[AssetKey]]
) -> RunRequest:
    """One run for these files: their sources' ingest assets, with the files as config, and
    ``downstream[source]`` (the assets to rebuild after each source)."""
    by_source: dict[str, list[str]] = {}
    for landed in files:
        by_source.setdefault(landed.source, []).append(str(landed.path))
    selection: list[AssetKey] = []
    for source in by_source:
        for key in [AssetKey(["raw", source]), *downstream.get(source, [])]:
            if key not in selection:
                selection.append(key)
    fingerprint = hashlib.sha256(
        "\n".join(
            f"{landed.source}/{landed.path.name}/{landed.size}/{landed.modified_ns}"
            for landed in files
        ).encode()
    ).hexdigest()[:16]
    return RunRequest(
        run_key=f"landing-{fingerprint}",
        run_config={
            "ops": {
                f"raw__{source}": {"config": IngestConfig(landed_files=paths).model_dump()}
                for source, paths in by_source.items()
            }
        },
        asset_selection=selection,
        tags={"icb_insight/landed": ", ".join(sorted(by_source)), FINGERPRINT_TAG: fingerprint},
    )


def retried(request: RunRequest, failed: int) -> RunRequest | SkipReason:
    """The request again after ``failed`` runs for the same files failed without taking them
    (refused because another build held the warehouse, say): Dagster drops a run key it has
    seen, so each retry gets its own key; after ``MAX_FAILED_RUNS`` the files wait, said in
    the sensor's skip reason, until they change or are removed."""
    if failed == 0:
        return request
    if failed >= MAX_FAILED_RUNS:
        return SkipReason(
            f"{failed} runs for the landed files failed (see their logs in the Dagster UI); "
            "they are not tried again until they change or are removed"
        )
    return request.with_replaced_attrs(run_key=f"{request.run_key}-retry{failed}")


def build_landing_sensor(*, settle_seconds: float = SETTLE_SECONDS) -> SensorDefinition:
    @sensor(
        name=SENSOR_NAME,
        job_name=JOB_NAME,
        minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.RUNNING,
        description="Ingests files dropped into data/landing/<source>/, then rebuilds "
        "everything downstream; refused files are deleted, leaving a note in "
        "data/rejected/<source>/.",
    )
    def landing_files_sensor(
        context: SensorEvaluationContext, warehouse: WarehouseResource
    ) -> RunRequest | SkipReason:
        landing = landing_dir(warehouse.db_path)
        for name in CONTRACTS:
            (landing / name).mkdir(parents=True, exist_ok=True)
        active = context.instance.get_run_records(
            RunsFilter(tags={"dagster/sensor_name": SENSOR_NAME}, statuses=_ACTIVE), limit=1
        )
        if active:  # landed files are read (hashed, renamed) only for a run about to start
            return SkipReason("waiting: a landing run is still queued or running")
        files: dict[Path, LandedFile] = {}
        for landed in landed_files(landing, settle_seconds=settle_seconds):
            # a name holding an NHS number or postcode is refused there and then (the file is
            # deleted, its note kept); any other name is replaced by the file's label, so no
            # name reaches the run config, logs or metadata Dagster stores
            if reject_identifiable_name(landed.source, landed.path, warehouse.db_path):
                continue
            if not landed.path.is_file():  # gone since it was listed
                continue
            landed = labelled(landed)
            files[landed.path] = landed
        if not files:
            return SkipReason(f"no files in {landing}/<source>/")
        found = list(files.values())
        request = landing_run_request(found, _downstream(context, {f.source for f in found}))
        failed = context.instance.get_run_records(
            RunsFilter(
                tags={FINGERPRINT_TAG: request.tags[FINGERPRINT_TAG]},
                statuses=[DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED],
            ),
            limit=MAX_FAILED_RUNS,
        )
        return retried(request, len(failed))

    return landing_files_sensor


def _downstream(context: SensorEvaluationContext, sources: set[str]) -> dict[str, list[AssetKey]]:
    """Everything built from each source's ingest asset, other ingest assets aside (empty
    without a repository)."""
    repository = context.repository_def
    if repository is None:
        return {}
    graph = repository.asset_graph
    found = {}
    for source in sources:
        raw = AssetKey(["raw", source])
        keys = AssetSelection.assets(raw).downstream().resolve(graph)
        # other sources' ingest assets depend on this one (foreign keys) but are not reloaded;
        # partitioned assets (one LA extract) are not in full_build, which builds them whole
        rebuilt = (
            key
            for key in keys
            if key.path[0] != "raw"
            and graph.get(key).is_materializable
            and not graph.get(key).is_partitioned
        )
        found[source] = sorted(rebuilt, key=lambda key: key.to_string())
    return found


landing_sensor = build_landing_sensor()
defs = Definitions(sensors=[landing_sensor])
