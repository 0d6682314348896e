"""The landing sensor, the landed-file run and the ingest asset checks, in process."""

import hashlib
import os
import time
from pathlib import Path

import duckdb
import pytest
from dagster import (
    AssetCheckSeverity,
    AssetKey,
    DagsterInstance,
    RunRequest,
    SkipReason,
    build_sensor_context,
    job,
    op,
)
from landing_runner import landed_run

from ingest.archive import file_label
from ingest.load import LoadRecord
from orchestration.ingest.checks import reconcile
from orchestration.ingest.sensors import MAX_FAILED_RUNS, build_landing_sensor, landed_files
from orchestration.resources import WarehouseResource

PRACTICES_HEADER = "practice_code,practice_name,pcn_code,pcn_name,lsoa_code,registered_patients\n"
GOOD = PRACTICES_HEADER + (
    "Z90001,One Surgery,U90001,North PCN,E01900023,12042\n"
    "Z90002,Two Surgery,U90001,North PCN,E0X,9000\n"
)
IDENTIFIABLE = "practice_code,nhs_number\nZ90001,943 476 5919\n"


def label(text: str) -> str:
    """The label a practices file with this content is known by."""
    return file_label("practices", hashlib.sha256(text.encode()).hexdigest(), "x.csv")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data folder: warehouse/, landing/practices/ with one good and one refused file."""
    landing = tmp_path / "landing" / "practices"
    landing.mkdir(parents=True)
    (landing / "practices_march.csv").write_text(GOOD)
    (landing / "bad.csv").write_text(IDENTIFIABLE)
    (landing / ".hidden.csv").write_text(GOOD)
    (landing / "still_copying.csv.part").write_text(GOOD)
    past = time.time() - 60
    for path in landing.iterdir():
        os.utime(path, (past, past))
    return tmp_path


def test_landed_files_wait_until_settled(data: Path) -> None:
    landing = data / "landing"
    fresh = landing / "practices" / "fresh.csv"
    fresh.write_text(GOOD)
    names = [landed.path.name for landed in landed_files(landing, settle_seconds=10)]
    assert sorted(names) == ["bad.csv", "practices_march.csv"]


def test_sensor_requests_one_run_for_the_landed_files_and_downstream(data, dbt_manifest) -> None:
    from orchestration.definitions import defs

    warehouse = WarehouseResource(location=str(data / "warehouse"))
    sensor = build_landing_sensor(settle_seconds=10)
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(
            instance=instance, resources={"warehouse": warehouse}, definitions=defs
        )
        request = sensor(context)
    assert isinstance(request, RunRequest)
    config = request.run_config["ops"]["raw__practices"]["config"]
    # the files were renamed to their labels: no name reaches the run config Dagster keeps
    assert sorted(Path(name).name for name in config["landed_files"]) == sorted(
        [label(IDENTIFIABLE), label(GOOD)]
    )
    assert "bad" not in str(request.run_config) and "march" not in str(request.run_config)
    selection = set(request.asset_selection or [])
    assert AssetKey(["raw", "practices"]) in selection
    assert any(key.path[-1] == "stg_reference__practices" for key in selection)
    assert AssetKey(["raw", "referrals"]) not in selection  # other sources are not reloaded
    job_keys = defs.resolve_job_def("full_build").asset_layer.selected_asset_keys
    assert selection <= set(job_keys)  # nothing the job cannot run (a partitioned asset)
    assert len(selection) > 3  # marts and the published warehouse follow
    # every other source got an empty landing folder to drop files into
    assert (data / "landing" / "referrals").is_dir()


def test_sensor_skips_when_nothing_landed(tmp_path: Path) -> None:
    warehouse = WarehouseResource(location=str(tmp_path / "warehouse"))
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(instance=instance, resources={"warehouse": warehouse})
        assert isinstance(build_landing_sensor()(context), SkipReason)


def test_landed_run_archives_rejects_and_checks(data: Path) -> None:
    warehouse = WarehouseResource(location=str(data / "warehouse"))
    _, result = landed_run(data, "practices", DagsterInstance.ephemeral())
    assert result.success

    landing = data / "landing" / "practices"
    assert sorted(path.name for path in landing.iterdir()) == [
        ".hidden.csv",
        "still_copying.csv.part",
    ]
    archived = list((data / "archive" / "practices").rglob("*.csv"))
    assert len(archived) == 1 and archived[0].name == label(GOOD)
    assert archived[0].read_text() == GOOD
    # the refused file is gone: only its note is kept
    rejected = data / "rejected" / "practices"
    assert [path.name for path in rejected.iterdir()] == [f"{label(IDENTIFIABLE)}.refused.txt"]
    report = (rejected / f"{label(IDENTIFIABLE)}.refused.txt").read_text()
    assert "NHS number" in report and "sha256:" in report
    assert "943" not in report and "bad" not in report

    checks = {
        evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()
    }
    assert checks["rows_reconcile"].passed
    rules = checks["contract_rules"]
    assert not rules.passed and rules.severity == AssetCheckSeverity.WARN
    assert rules.metadata["expectations_failed"].value == 1
    failed = rules.metadata["failed"].value
    assert failed == [
        {
            "expectation": "expect_column_values_to_match_regex",
            "column": "lsoa_code",
            "rule": "pattern",
            "unexpected_count": 1,
        }
    ]
    con = duckdb.connect(str(warehouse.db_path), read_only=True)
    statuses = sorted(con.execute("select file_name, status from audit.loads").fetchall())
    con.close()
    assert statuses == sorted([(label(IDENTIFIABLE), "refused"), (label(GOOD), "loaded")])


def test_reconcile_fails_as_an_error_when_rows_are_lost() -> None:
    record = LoadRecord("id", "referrals", "f.csv", "loaded", 10, 7, 2, 7, 2)
    result = reconcile(record)
    assert not result.passed and result.severity == AssetCheckSeverity.ERROR
    assert "rows read 10 != loaded 7 + quarantined 2" in (result.description or "")
    assert reconcile(LoadRecord("id", "referrals", "f.csv", "loaded", 9, 7, 2, 7, 2)).passed
    superseded = LoadRecord("id", "referrals", "f.csv", "superseded", 9, 7, 2, 0, 2)
    assert reconcile(superseded).passed


def settled_landing(tmp_path: Path, *names: str) -> Path:
    """The practices landing folder holding GOOD under each of ``names``, settled (unchanged
    for a minute, so the sensor takes them)."""
    landing = tmp_path / "landing" / "practices"
    landing.mkdir(parents=True)
    past = time.time() - 60
    for name in names:
        (landing / name).write_text(GOOD)
        os.utime(landing / name, (past, past))
    return landing


def test_sensor_rejects_a_file_whose_name_is_a_postcode_before_any_run(tmp_path: Path) -> None:
    landing = settled_landing(tmp_path, "LS1 4AP.csv")
    warehouse = WarehouseResource(location=str(tmp_path / "warehouse"))
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(instance=instance, resources={"warehouse": warehouse})
        assert isinstance(build_landing_sensor()(context), SkipReason)
    assert list(landing.iterdir()) == []
    rejected = sorted(path.name for path in (tmp_path / "rejected" / "practices").iterdir())
    assert rejected == [f"{label(GOOD)}.refused.txt"]  # the note only, under the label
    report = next(p for p in (tmp_path / "rejected" / "practices").glob("*.refused.txt"))
    assert "a full postcode" in report.read_text() and "LS1" not in report.read_text()


def test_sensor_renames_landed_files_to_their_labels(tmp_path: Path) -> None:
    # the same bytes under two names
    landing = settled_landing(tmp_path, "Practices March.csv", "copy of Practices March.csv")
    warehouse = WarehouseResource(location=str(tmp_path / "warehouse"))
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(instance=instance, resources={"warehouse": warehouse})
        request = build_landing_sensor()(context)
    assert isinstance(request, RunRequest)
    assert [path.name for path in landing.iterdir()] == [label(GOOD)]
    config = request.run_config["ops"]["raw__practices"]["config"]
    assert config["landed_files"] == [str(landing / label(GOOD))]


@op
def _noop() -> None:
    pass


@job
def _NOOP_JOB() -> None:
    _noop()


def test_files_left_by_a_failed_run_are_tried_again_a_few_times(tmp_path: Path) -> None:
    """A run refused by the build lock leaves the files where they were; Dagster drops a run
    key it has seen, so the sensor asks again under a new key, and gives up after a few."""
    settled_landing(tmp_path, "practices.csv")
    warehouse = WarehouseResource(location=str(tmp_path / "warehouse"))
    keys = []
    with DagsterInstance.ephemeral() as instance:
        for _ in range(MAX_FAILED_RUNS + 1):
            context = build_sensor_context(instance=instance, resources={"warehouse": warehouse})
            request = build_landing_sensor()(context)
            if isinstance(request, SkipReason):
                break
            keys.append(request.run_key)
            run = instance.create_run_for_job(job_def=_NOOP_JOB, tags=request.tags)
            instance.report_run_failed(run)
    assert len(keys) == MAX_FAILED_RUNS and len(set(keys)) == MAX_FAILED_RUNS
    assert "not tried again" in str(request.skip_message)
