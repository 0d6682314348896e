"""Who may write a warehouse, and one at a time.

``writing(db_path)`` is held by every command that writes the warehouse (``ingest``, ``build``,
``demo``, ``reference demo``, ``publish --rollback``, ``extracts``) and by every Dagster run
that uses it (through the jobs' executor, ``orchestration.executor``). Before anything is
written it refuses, with a plain ``InputError``:

* the published warehouse (``published.duckdb``) or a version under ``versions/``: they are
  only ever written by publishing, as a whole new file; commands write ``warehouse.duckdb``;
* a warehouse that cannot be written: its folder or file not writable, or the file held open
  by another process (DuckDB allows one writer and no writer beside a reader);
* a second writer while one runs: the lock is the operating system's ``flock`` on
  ``<warehouse>.lock`` beside the file, so it goes with the process that held it however it
  ended (a lock file left by a killed build never blocks the next). The file holds the
  holder's pid and start time, for the refusal's message.

The lock is re-entrant within a process: ``icb-insight build`` takes it, then runs the
Dagster job in the same process, whose run takes it again.
"""

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

from ingest.errors import InputError
from orchestration.publish import PUBLISHED_NAME, VERSIONS_DIR
from orchestration.settings import BUILD_DB_NAME

LOCK_SUFFIX = ".lock"

_held: dict[Path, int] = {}  # lock files this process holds, with how many holders
_guard = threading.Lock()


def lock_path(db_path: Path) -> Path:
    return Path(db_path).with_name(Path(db_path).name + LOCK_SUFFIX)


def check_not_published(db_path: Path) -> None:
    """Refuse the published file and the versions under ``versions/`` as a warehouse to write
    (a published version is hard-linked from versions/, under any name; a working file never
    is)."""
    db_path = Path(db_path)
    folder = db_path.parent
    if db_path.parent.name == VERSIONS_DIR:
        what, folder = f"is a published version (in {VERSIONS_DIR}/)", db_path.parent.parent
    elif db_path.name == PUBLISHED_NAME:
        what = "is the published warehouse"
    elif db_path.is_file() and db_path.stat().st_nlink > 1:
        what = "has other hard links, as a published version has"
    else:
        return
    raise InputError(
        f"{db_path} {what}: analysts read it and only publishing replaces it, so commands "
        f"write the working warehouse, {folder / BUILD_DB_NAME} (give --warehouse the "
        f"warehouse folder or its {BUILD_DB_NAME})"
    )


def check_writable(db_path: Path) -> None:
    """Refuse a warehouse whose folder or file is not writable."""
    db_path = Path(db_path)
    folder = db_path.parent
    existing = next((path for path in [folder, *folder.parents] if path.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InputError(
            f"{existing} is a file, not a folder: the warehouse {db_path} cannot go there"
        )
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(
            f"the warehouse folder {existing} is not writable, so the warehouse {db_path} "
            "cannot be written (make the folder writable, or choose another with --warehouse)"
        )
    if db_path.exists() and not os.access(db_path, os.R_OK | os.W_OK):
        raise InputError(
            f"the warehouse file {db_path} is read-only, so it cannot be written (make it "
            "writable, or choose another with --warehouse)"
        )


def check_not_open_elsewhere(db_path: Path) -> None:
    """Refuse a warehouse file another process holds open (DuckDB: one writer, and no writer
    beside a reader)."""
    if not Path(db_path).is_file():
        return
    try:
        duckdb.connect(str(db_path)).close()
    except duckdb.IOException as error:
        text = str(error)
        if "lock" not in text.lower():
            raise InputError(f"the warehouse {db_path} cannot be opened: {text}") from None
        holder = _duckdb_lock_holder(text)
        raise InputError(
            f"the warehouse {db_path} is open in another process{holder}: it cannot be written "
            "until that process closes it (analysts open published.duckdb, never the working "
            "warehouse)"
        ) from None
    except PermissionError:
        raise InputError(f"the warehouse file {db_path} is read-only") from None
    except duckdb.Error as error:  # not a DuckDB file, or one this DuckDB cannot read
        raise InputError(f"the warehouse {db_path} cannot be opened: {error}") from None


def _duckdb_lock_holder(text: str) -> str:
    """' (pid N)' from DuckDB's lock error ('... Conflicting lock is held in X (PID N) ...')."""
    marker = "(PID "
    start = text.find(marker)
    if start < 0:
        return ""
    pid = text[start + len(marker) :].split(")")[0].strip()
    return f" (pid {pid})" if pid.isdigit() else ""


class BuildRunning(InputError):
    """Another process holds the warehouse's build lock."""


@contextmanager
def build_lock(db_path: Path) -> Iterator[None]:
    """Hold the warehouse's build lock, or raise ``BuildRunning`` at once."""
    path = lock_path(Path(db_path).resolve())
    with _guard:
        if path in _held:
            _held[path] += 1
            acquired = None
        else:
            acquired = _acquire(path, Path(db_path))
            _held[path] = 1
    try:
        yield
    finally:
        with _guard:
            _held[path] -= 1
            if _held[path] == 0:
                del _held[path]
                if acquired is not None:
                    _release(acquired)


def _acquire(path: Path, db_path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except PermissionError:
        raise InputError(
            f"the warehouse folder {path.parent} is not writable: the warehouse {db_path} "
            "cannot be written"
        ) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(handle)
        os.close(handle)
        raise BuildRunning(
            f"a build is already running on {db_path}{holder}; wait for it to finish "
            "(nothing was changed)"
        ) from None
    os.ftruncate(handle, 0)
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    os.pwrite(handle, f"{os.getpid()}\n{started}\n".encode(), 0)
    return handle


def _read_holder(handle: int) -> str:
    """' (pid N, since HH:MM:SS)' from the lock file, as much of it as was written."""
    text = os.pread(handle, 200, 0).decode(errors="replace").split()
    if not text or not text[0].isdigit():
        return ""
    since = ""
    if len(text) > 1:
        try:
            since = f", since {datetime.fromisoformat(text[1]).strftime('%H:%M:%S')}"
        except ValueError:
            pass
    return f" (pid {text[0]}{since})"


def _release(handle: int) -> None:
    try:
        os.ftruncate(handle, 0)  # the next holder writes its own pid; the file itself stays
    finally:
        os.close(handle)  # closing releases the flock


@contextmanager
def writing(db_path: Path) -> Iterator[None]:
    """Everything a command that writes the warehouse needs before it starts: not a published
    file, writable, no other build running (the lock, held until the block ends)."""
    check_not_published(db_path)
    check_writable(db_path)
    with build_lock(db_path):
        check_not_open_elsewhere(db_path)  # after the lock: a running build is said as such
        yield
