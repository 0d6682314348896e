"""Quiet progress for long commands: the full log goes to a file, the screen gets one line
per step that matters (a file loaded, a model built, a test that failed, the totals)."""

import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SHOWN = (
    (re.compile(r"rows read|already loaded"), lambda line: "  ingest  " + line.split(" - ")[-1]),
    (
        re.compile(r"^\d+ of \d+ OK created \S+ \S+ model (\S+)"),
        lambda line: "  dbt     built " + re.search(r"model (\S+)", line).group(1),  # type: ignore[union-attr]
    ),
    (re.compile(r"^\d+ of \d+ (FAIL|ERROR|WARN) "), lambda line: f"  dbt     {line}"),
    (re.compile(r"^Done\. PASS="), lambda line: f"  dbt     {line}"),
    (re.compile(r"^Failure in |^Error in |Compilation Error|Runtime Error"), lambda line: line),
)


def _interesting(line: str) -> str | None:
    for pattern, render in SHOWN:
        if pattern.search(line):
            return render(line.strip(" .").rstrip())
    return None


@contextmanager
def quiet_output(log_path: Path, echo: Callable[[str], None] | None = None) -> Iterator[None]:
    """Send everything written to stdout/stderr (this process and its children) to
    ``log_path`` while the block runs, echoing the interesting lines to the real stderr."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    real_err = os.fdopen(os.dup(2), "w", buffering=1)
    write = echo or (lambda text: print(text, file=real_err))
    log_file = open(log_path, "w", buffering=1)  # noqa: SIM115 - closed below
    os.dup2(log_file.fileno(), 1)
    os.dup2(log_file.fileno(), 2)
    stop = threading.Event()
    seen: set[str] = set()

    def follow() -> None:
        with open(log_path, errors="replace") as reader:
            while True:
                line = reader.readline()
                if not line:
                    if stop.is_set():
                        return
                    stop.wait(0.5)
                    continue
                shown = _interesting(ANSI.sub("", line.rstrip("\n")))
                if shown and shown not in seen:
                    seen.add(shown)
                    write(shown)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        stop.set()
        follower.join(timeout=10)
        log_file.close()
        real_err.close()
