"""Write-audit-publish: a publish killed at any moment (SIGKILL, in a real process) leaves
published.duckdb readable and byte-for-byte unchanged; a reader in another process holding
the published file open during publishes sees the old or the new version, never an error;
rollback restores the previous version; a build with nothing to publish changes nothing."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ingest.load import ensure_schema
from orchestration.publish import (
    PublishError,
    current_version,
    list_versions,
    publish,
    published_path,
    rollback,
)

BIG_ROWS = 3_000_000


def _make_build(db: Path, rows: int, marker: str) -> None:
    db.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db))
    con.execute("create schema if not exists marts; create schema if not exists audit")
    con.execute(
        "create or replace table marts.fct_big as select range as id, "
        "hash(range) % 1000 as value, ? as marker from range(?)",
        [marker, rows],
    )
    ensure_schema(con)  # the audit tables, as a load makes them
    con.close()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read(path: Path) -> tuple[str, int, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        ((marker, rows),) = con.execute(
            "select any_value(marker), count(*) from marts.fct_big"
        ).fetchall()
        ((version,),) = con.execute(
            "select value from meta.build_info where key = 'version_id'"
        ).fetchall()
        return marker, rows, json.loads(version)
    finally:
        con.close()


@pytest.fixture(scope="module")
def big_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("publish") / "warehouse" / "warehouse.duckdb"
    _make_build(db, BIG_ROWS, "first")
    publish(db)
    return db


PUBLISH_SCRIPT = """
import sys
from pathlib import Path
from orchestration.publish import publish
print("start", flush=True)
publish(Path(sys.argv[1]))
print("done", flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.3, 0.8])
def test_sigkill_during_publish_leaves_the_published_file_unchanged(
    big_build: Path, delay: float
) -> None:
    published = published_path(big_build)
    before = _sha256(published)
    versions_before = [version.version_id for version in list_versions(big_build)]
    process = subprocess.Popen(
        [sys.executable, "-c", PUBLISH_SCRIPT, str(big_build)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "start"
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    if process.returncode == 0:  # finished before the kill: a correct publish is fine too
        pytest.skip(f"publish finished within {delay} s")
    assert process.returncode == -signal.SIGKILL
    versions_after = [version.version_id for version in list_versions(big_build)]
    if _sha256(published) != before:
        # killed after the swap but before the process ended (a loaded machine): the published
        # file must then be the whole new version, never a part of one
        current = current_version(big_build)
        assert current is not None and current.version_id == versions_after[-1]
        assert current.version_id not in versions_before
    else:
        assert versions_after == versions_before
    marker, rows, _ = _read(published)
    assert (marker, rows) == ("first", BIG_ROWS)


def test_publish_after_a_kill_cleans_up_and_succeeds(big_build: Path) -> None:
    version = publish(big_build)
    assert current_version(big_build) == version
    leftovers = [p.name for p in big_build.parent.rglob(".*") if p.is_file()]
    assert not leftovers, leftovers


READER_SCRIPT = """
import json, sys, time
import duckdb
path, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
errors, seen = [], set()
def version(con):
    return json.loads(con.execute(
        "select value from meta.build_info where key = 'version_id'").fetchall()[0][0])
# DuckDB shares one database per file within a process, so each mode has its own process:
# "hold" keeps one connection open through every publish, "reopen" opens afresh each time.
held = duckdb.connect(path, read_only=True) if mode == "hold" else None
held_version = version(held) if held else None
print("ready", flush=True)
end = time.monotonic() + seconds
while time.monotonic() < end:
    try:
        if held:
            seen.add(version(held))
            held.execute("select count(*), sum(value) from marts.fct_big").fetchall()
        else:
            con = duckdb.connect(path, read_only=True)
            seen.add(version(con))
            con.execute("select count(*), sum(value) from marts.fct_big").fetchall()
            con.close()
    except Exception as error:
        errors.append(f"{type(error).__name__}: {error}")
print(json.dumps({"errors": errors[:5], "seen": sorted(seen)}))
"""


def test_readers_see_old_or_new_never_an_error(tmp_path: Path) -> None:
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    _make_build(db, 200_000, "reader")
    first = publish(db)
    readers = {
        mode: subprocess.Popen(
            [sys.executable, "-c", READER_SCRIPT, str(published_path(db)), mode, "3"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for mode in ("hold", "reopen")
    }
    for reader in readers.values():
        assert reader.stdout is not None
        assert reader.stdout.readline().strip() == "ready"
    published = [first.version_id]
    for _ in range(4):
        published.append(publish(db).version_id)
        time.sleep(0.3)
    reports = {
        mode: json.loads(reader.communicate(timeout=60)[0]) for mode, reader in readers.items()
    }
    for report in reports.values():
        assert report["errors"] == []
        assert set(report["seen"]) <= set(published)
    assert reports["hold"]["seen"] == [first.version_id]  # the version it opened, throughout
    assert len(reports["reopen"]["seen"]) >= 2, "a new open never saw a new version"


def test_rollback_restores_the_previous_version(tmp_path: Path) -> None:
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    _make_build(db, 10, "one")
    first = publish(db)
    _make_build(db, 20, "two")
    second = publish(db)
    assert _read(published_path(db))[:2] == ("two", 20)
    restored = rollback(db)
    assert restored.version_id == first.version_id
    assert _read(published_path(db)) == ("one", 10, first.version_id)
    assert current_version(db) == first
    with pytest.raises(PublishError):
        rollback(db)  # nothing older kept
    assert {v.version_id for v in list_versions(db)} == {first.version_id, second.version_id}


def test_versions_are_read_only_and_kept_up_to_keep(tmp_path: Path) -> None:
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    _make_build(db, 10, "v")
    ids = [publish(db, keep=2).version_id for _ in range(3)]
    assert [v.version_id for v in list_versions(db)] == ids[1:]
    for version in list_versions(db):
        assert not os.access(version.path, os.W_OK) or os.geteuid() == 0
        assert version.metadata["tables"]["marts.fct_big"] == 10


def test_nothing_to_publish_leaves_the_published_file_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    _make_build(db, 10, "good")
    publish(db)
    before = _sha256(published_path(db))
    con = duckdb.connect(str(db))
    con.execute("drop schema marts cascade")
    con.close()
    with pytest.raises(PublishError, match="no marts"):
        publish(db)
    assert _sha256(published_path(db)) == before
    assert not [p for p in (db.parent / "versions").iterdir() if p.name.startswith(".")]


def test_audit_is_published_without_values_or_file_names(tmp_path: Path) -> None:
    """audit.quarantine leaves without ``record`` and every file is named by its label, made
    again from source and sha256 even where a row (written before labels) holds a name."""
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    _make_build(db, 10, "audit")
    sha = "ab" * 32
    con = duckdb.connect(str(db))
    con.execute(
        "insert into audit.loads (load_id, source, file_name, file_sha256, status, rows_read, "
        "rows_loaded, rows_quarantined, rows_replaced, loaded_at, archive_path) values "
        "('L1', 'referrals', 'Firstname_Surname_1944-06-17.CSV', ?, 'loaded', 2, 1, 1, 0, "
        "now(), '/data/archive/referrals/x/Firstname_Surname_1944-06-17.CSV')",
        [sha],
    )
    con.execute(
        "insert into audit.quarantine values ('L1', 'referrals', "
        "'Firstname_Surname_1944-06-17.CSV', 3, 'age_band', 'allowed_values', "
        "'age_band is not one of 0-17, 18-24', '{\"age_band\": \"17/06/1944\"}')"
    )
    con.close()
    publish(db)
    con = duckdb.connect(str(published_path(db)), read_only=True)
    try:
        quarantine = con.execute("select * from audit.quarantine").fetchall()
        columns = [name for name, *_ in con.execute("describe audit.quarantine").fetchall()]
        loads = con.execute("select * from audit.loads").fetchall()
        load_columns = [name for name, *_ in con.execute("describe audit.loads").fetchall()]
    finally:
        con.close()
    label = f"referrals-{sha[:12]}.csv"
    assert columns == [
        "load_id", "source", "file_name", "row_number", "column_name", "rule", "reason"
    ]  # fmt: skip
    assert quarantine == [
        ("L1", "referrals", label, 3, "age_band", "allowed_values",
         "age_band is not one of 0-17, 18-24")
    ]  # fmt: skip
    assert "archive_path" not in load_columns and "record" not in load_columns
    assert loads[0][2] == label
    published = " ".join(str(value) for row in [*quarantine, *loads] for value in row)
    assert "Surname" not in published and "1944" not in published
    # the working warehouse keeps the row's values for the data owner
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select record from audit.quarantine").fetchone()[0].count("1944") == 1
    con.close()
