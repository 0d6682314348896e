"""One writer per warehouse, and only a warehouse that may be written: a second build is
refused at once, the published file and versions/ are never a command's warehouse, a missing
or empty sources folder and an unwritable warehouse get a plain message (exit 2)."""

import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import run_cli
from dagster import (
    DagsterInstance,
    Definitions,
    JobDefinition,
    asset,
    define_asset_job,
    execute_job,
    reconstructable,
)

from orchestration import settings
from orchestration.build_lock import BuildRunning, lock_path, writing
from orchestration.executor import one_writer_executor
from orchestration.resources import WarehouseResource

PRACTICES = (
    "practice_code,practice_name,pcn_code,pcn_name,lsoa_code,registered_patients\n"
    "Z90001,One Surgery,U90001,North PCN,E01900023,12042\n"
)


def _holding(code: str, path: Path) -> subprocess.Popen:
    """A Python process that runs ``code`` (with ``path``), says 'held', and waits for its
    stdin to close."""
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        path = Path(sys.argv[1])
        {code}
        """
    ).format(code=textwrap.indent(code, " " * 0).strip())
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def _end(process: subprocess.Popen) -> None:
    if process.poll() is None:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


HOLD_LOCK = """
from orchestration.build_lock import build_lock
with build_lock(path):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def other_build(warehouse_path: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the warehouse's build lock, as a running build does."""
    process = _holding(HOLD_LOCK, warehouse_path)
    yield process
    _end(process)


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "practices.csv").write_text(PRACTICES)
    return folder


def _build_logs() -> set[Path]:
    return set((settings.DATA_DIR / "logs").glob("build-*.log"))


@pytest.mark.parametrize(
    "command",
    [
        ["build", "--sources", "{sources}"],
        ["ingest", "practices", "{sources}/practices.csv"],
        ["publish", "--rollback"],
        ["extracts"],
    ],
    ids=lambda command: command[0],
)
def test_a_second_writer_is_refused_at_once_with_who_holds_it(
    command, other_build, warehouse_path, sources, monkeypatch, capsys
) -> None:
    logs = _build_logs()
    args = [part.format(sources=sources) for part in command]
    code, out, err = run_cli([*args, "--warehouse", str(warehouse_path)], monkeypatch, capsys)
    assert code == 2, err
    assert re.search(
        rf"^error: a build is already running on {re.escape(str(warehouse_path))} "
        rf"\(pid {other_build.pid}, since \d\d:\d\d:\d\d\)",
        err,
    ), err
    assert "Traceback" not in err
    assert not warehouse_path.exists()  # nothing written
    assert _build_logs() == logs  # and no log of its own (nor the running build's)


TRY_LOCK = """
import sys
from pathlib import Path
from orchestration.build_lock import BuildRunning, build_lock
try:
    with build_lock(Path(sys.argv[1])):
        print("got it")
except BuildRunning as error:
    print("refused:", error.message.split(" (pid")[0])
"""


@asset
def lock_probe(warehouse: WarehouseResource) -> None:
    """Another process tries the lock while the run runs; what it got goes beside the file."""
    probe = subprocess.run(
        [sys.executable, "-c", TRY_LOCK, str(warehouse.db_path)], capture_output=True, text=True
    )
    (warehouse.db_path.parent / "probe.txt").write_text(probe.stdout.strip())


def probe_job() -> JobDefinition:
    """A job run as Dagster launches runs (its own executor), for ``reconstructable``."""
    return Definitions(
        assets=[lock_probe],
        jobs=[define_asset_job("probe", [lock_probe])],
        resources={"warehouse": WarehouseResource()},
        executor=one_writer_executor,
    ).resolve_job_def("probe")


def full_build_job() -> JobDefinition:
    from orchestration.definitions import defs

    return defs.resolve_job_def("full_build")


def _run(job, warehouse_path: Path):  # type: ignore[no-untyped-def]
    config = {"resources": {"warehouse": {"config": {"location": str(warehouse_path)}}}}
    with DagsterInstance.ephemeral() as instance:
        return execute_job(
            reconstructable(job), instance=instance, run_config=config, raise_on_error=False
        )


def test_a_dagster_run_is_refused_while_a_build_runs(other_build, warehouse_path, dbt_manifest):
    result = _run(full_build_job, warehouse_path)
    assert not result.success
    messages = " ".join(
        f"{event.message} {event.event_specific_data}" for event in result.all_events
    )
    assert f"a build is already running on {warehouse_path} (pid {other_build.pid}" in messages
    assert not any(event.is_step_start for event in result.all_events)  # refused before any
    assert not warehouse_path.exists()


def test_a_dagster_run_holds_the_lock_until_it_ends(warehouse_path) -> None:
    assert _run(probe_job, warehouse_path).success
    said = (warehouse_path.parent / "probe.txt").read_text()
    assert said == f"refused: a build is already running on {warehouse_path}"
    probe = subprocess.run(
        [sys.executable, "-c", TRY_LOCK, str(warehouse_path)], capture_output=True, text=True
    )
    assert probe.stdout.strip() == "got it"  # released when the run ended


def test_a_lock_left_by_a_killed_build_does_not_block(warehouse_path, sources, monkeypatch, capsys):
    process = _holding(HOLD_LOCK, warehouse_path)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert str(process.pid) in lock_path(warehouse_path).read_text()  # the file stays
    args = ["ingest", "practices", str(sources / "practices.csv"), "--warehouse"]
    code, out, err = run_cli([*args, str(warehouse_path)], monkeypatch, capsys)
    assert code == 0, err
    assert "1 rows read, 1 loaded" in out or "1 row read, 1 loaded" in out


def test_the_lock_is_reentrant_in_one_process(warehouse_path) -> None:
    with writing(warehouse_path), writing(warehouse_path):
        assert f"{os.getpid()}" in lock_path(warehouse_path).read_text()
    probe = subprocess.run(
        [sys.executable, "-c", TRY_LOCK, str(warehouse_path)], capture_output=True, text=True
    )
    assert probe.stdout.strip() == "got it"
    assert issubclass(BuildRunning, Exception)


# --- the published warehouse is never a command's warehouse ----------------------------------


def _published(tmp_path: Path) -> tuple[Path, Path]:
    """A warehouse folder with a published file hard-linked to its version, as publishing
    leaves it."""
    folder = tmp_path / "warehouse"
    (folder / "versions").mkdir(parents=True)
    version = folder / "versions" / "20260101T000000.duckdb"
    version.write_bytes(b"published bytes")
    os.link(version, folder / "published.duckdb")
    return folder / "published.duckdb", version


@pytest.mark.parametrize(
    "command",
    [
        ["build", "--sources", "{sources}"],
        ["demo", "--scale", "tiny"],
        ["ingest", "practices", "{sources}/practices.csv"],
        ["publish"],
        ["publish", "--rollback"],
        ["extracts"],
        ["reference", "demo", "--reference-dir", "{sources}", "--icb", "E54000901"],
    ],
    ids=lambda command: "-".join(command[:2]),
)
@pytest.mark.parametrize("target", ["published", "version", "env", "hard link"])
def test_commands_refuse_the_published_warehouse(
    command, target, tmp_path, sources, monkeypatch, capsys
) -> None:
    published, version = _published(tmp_path)
    chosen = {"version": version, "hard link": tmp_path / "warehouse" / "copy.duckdb"}.get(
        target, published
    )
    if target == "hard link":  # a published version under another name
        os.link(version, chosen)
    args = [part.format(sources=sources) for part in command]
    if target == "env":
        monkeypatch.setenv(settings.WAREHOUSE_ENV, str(chosen))
    else:
        args += ["--warehouse", str(chosen)]
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 2, err
    assert f"error: {chosen} " in err and "analysts read it" in err
    assert f"commands write the working warehouse, {tmp_path / 'warehouse'}" in err
    assert "Traceback" not in err
    assert published.read_bytes() == version.read_bytes() == b"published bytes"
    left = {"published.duckdb", "versions"} | ({chosen.name} if target == "hard link" else set())
    assert {path.name for path in (tmp_path / "warehouse").iterdir()} == left


def test_a_file_that_is_not_a_warehouse_is_named(tmp_path, sources, monkeypatch, capsys):
    not_duckdb = tmp_path / "notes.duckdb"
    not_duckdb.write_text("not a database\n" * 1000)
    args = ["ingest", "practices", str(sources / "practices.csv"), "--warehouse"]
    code, _, err = run_cli([*args, str(not_duckdb)], monkeypatch, capsys)
    assert code == 2, err
    assert f"error: the warehouse {not_duckdb} cannot be opened" in err
    assert "Traceback" not in err and "internal error" not in err


# --- the sources folder -----------------------------------------------------------------------


def test_a_missing_sources_folder_is_named(tmp_path, warehouse_path, monkeypatch, capsys) -> None:
    missing = tmp_path / "nowhere"
    args = ["build", "--sources", str(missing), "--warehouse", str(warehouse_path)]
    code, _, err = run_cli(args, monkeypatch, capsys)
    assert code == 2
    assert err.strip() == (
        f"error: the sources folder {missing} (--sources, or ${settings.SOURCES_ENV}) "
        "does not exist"
    )


def test_a_sources_file_or_empty_folder_is_named(
    tmp_path, warehouse_path, monkeypatch, capsys
) -> None:
    a_file = tmp_path / "referrals.csv"
    a_file.write_text("x\n")
    code, _, err = run_cli(
        ["build", "--sources", str(a_file), "--warehouse", str(warehouse_path)], monkeypatch, capsys
    )
    assert code == 2 and f"{a_file} (--sources" in err and "is a file, not a folder" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a source\n")
    monkeypatch.setenv(settings.SOURCES_ENV, str(empty))
    code, _, err = run_cli(["build", "--warehouse", str(warehouse_path)], monkeypatch, capsys)
    assert code == 2
    assert f"the sources folder {empty}" in err and "holds no source file" in err
    assert "referrals.csv" in err and "activities.xlsx" in err and "Traceback" not in err
    assert not warehouse_path.exists()


# --- a warehouse that cannot be written -------------------------------------------------------

HOLD_OPEN = """
import duckdb
con = duckdb.connect(str(path), read_only=True)
print("held", flush=True)
sys.stdin.read()
"""


def test_a_warehouse_open_in_another_process_is_named(
    warehouse_path, sources, monkeypatch, capsys
) -> None:
    args = ["ingest", "practices", str(sources / "practices.csv"), "--warehouse"]
    assert run_cli([*args, str(warehouse_path)], monkeypatch, capsys)[0] == 0
    reader = _holding(HOLD_OPEN, warehouse_path)
    try:
        code, _, err = run_cli([*args, str(warehouse_path)], monkeypatch, capsys)
    finally:
        _end(reader)
    assert code == 2, err
    assert f"error: the warehouse {warehouse_path} is open in another process" in err
    assert f"(pid {reader.pid})" in err and "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write read-only files and folders")
@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_warehouse_is_named(what, warehouse_path, sources, monkeypatch, capsys) -> None:
    args = ["ingest", "practices", str(sources / "practices.csv"), "--warehouse"]
    assert run_cli([*args, str(warehouse_path)], monkeypatch, capsys)[0] == 0
    target = warehouse_path if what == "file" else warehouse_path.parent
    mode = target.stat().st_mode
    target.chmod(0o444 if what == "file" else 0o555)
    try:
        code, _, err = run_cli([*args, str(warehouse_path)], monkeypatch, capsys)
    finally:
        target.chmod(mode)
    assert code == 2, err
    said = "is read-only" if what == "file" else "is not writable"
    assert f"error: the warehouse {what} {target} {said}" in err
    assert "Traceback" not in err
