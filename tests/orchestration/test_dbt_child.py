"""dbt ends when the process that started it dies (orchestration.dbt.child): the build's dbt
resource runs dbt through icb-insight-dbt, which has the kernel kill it with its parent."""

import os
import subprocess
import sys
import time
from pathlib import Path

from orchestration import settings
from orchestration.dbt.assets import dbt_child_executable, dbt_resource

# a stand-in for dbt: answers dagster-dbt's `dbt --version`, and otherwise runs for a minute,
# as a long dbt build would
STAND_IN = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "Core: installed: 1.11.0"; exit 0; fi
exec sleep 60
"""

# the parent: the Dagster dbt resource the build uses, starting a dbt command as the dbt asset
# does; it says its child's pid and waits for it
PARENT = """
from orchestration.dbt.assets import dbt_resource
invocation = dbt_resource().cli(["build"], raise_on_error=False)
print(invocation.process.pid, flush=True)
invocation.wait()
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left to collect


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def test_the_build_runs_dbt_through_the_child_wrapper() -> None:
    assert Path(dbt_resource().dbt_executable) == dbt_child_executable()
    assert dbt_child_executable().name == settings.DBT_CHILD_EXECUTABLE


def test_dbt_ends_when_its_parent_is_killed(tmp_path: Path, dbt_manifest) -> None:
    stand_in = tmp_path / "dbt"
    stand_in.write_text(STAND_IN)
    stand_in.chmod(0o755)
    env = {**os.environ, settings.DBT_EXECUTABLE_ENV: str(stand_in)}
    env.pop(settings.DBT_PARENT_ENV, None)  # the parent is the process below
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, env=env
    )
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        deadline = time.monotonic() + 20
        while "sleep 60" not in _command(child):  # past the wrapper: dbt (the stand-in) runs
            assert time.monotonic() < deadline, _command(child)
            time.sleep(0.05)
        parent.kill()  # SIGKILL: no handler of the parent's runs
        parent.wait()
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child), f"dbt ({child}) still runs after its parent was killed"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if child and _alive(child):
            os.kill(child, 9)


def test_the_child_refuses_to_start_for_a_parent_already_gone(tmp_path: Path) -> None:
    stand_in = tmp_path / "dbt"
    stand_in.write_text(STAND_IN)
    stand_in.chmod(0o755)
    env = {
        **os.environ,
        settings.DBT_EXECUTABLE_ENV: str(stand_in),
        settings.DBT_PARENT_ENV: "1",  # not the process that starts it: that one has gone
    }
    started = subprocess.run(
        [str(dbt_child_executable()), "--version"], capture_output=True, text=True, env=env
    )
    assert started.returncode == 1
    assert "the process that started dbt has ended" in started.stderr
    env.pop(settings.DBT_PARENT_ENV)
    started = subprocess.run(
        [str(dbt_child_executable()), "--version"], capture_output=True, text=True, env=env
    )
    assert started.returncode == 0 and "1.11.0" in started.stdout
