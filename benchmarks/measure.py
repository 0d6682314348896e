"""Run a command and write its resource use as JSON: ``python -m benchmarks.measure OUT.json --
COMMAND ...`` (exit code passed through).

Why a separate small process: on Linux a child's ``ru_maxrss`` starts from the resident set of
the process that spawned it (``exec`` keeps the old memory's high-water mark), so a child of
the harness, which holds duckdb and pandas, could never report less than the harness itself.
This shim imports only the standard library, so the floor it passes on is a bare Python's.
"""

import json
import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    out, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit(__doc__)
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = code = os.waitstatus_to_exitcode(status)
    with open(out, "w") as handle:
        json.dump(
            {
                "returncode": code,
                "max_rss_kb": usage.ru_maxrss,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            },
            handle,
        )
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
