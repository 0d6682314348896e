"""``icb-insight-dbt``: dbt as a child process that ends when its parent does.

dagster-dbt runs dbt as a subprocess of the build (``icb-insight build``, or Dagster's run
worker). Were the parent killed (SIGKILL, the machine's out-of-memory killer), dbt would run on
and keep the DuckDB file locked, so that the next build could not start. The Dagster dbt
resource runs this executable instead of dbt (``orchestration.dbt.assets``): on Linux it asks
the kernel to kill it when its parent dies (``prctl(PR_SET_PDEATHSIG)``, kept across ``exec``),
checks the parent is still there, then becomes dbt (``exec``, the same process). Elsewhere it
only becomes dbt.

The dbt it becomes is ``$ICB_INSIGHT_DBT_EXECUTABLE``, else the dbt beside this Python. Kept
free of heavy imports: it starts with every dbt command.
"""

import ctypes
import os
import signal
import sys
from pathlib import Path

from orchestration.settings import DBT_EXECUTABLE_ENV, DBT_PARENT_ENV

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process (and what it execs) when its parent dies."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_PDEATHSIG): {os.strerror(error)}")


def main() -> None:
    parent = int(os.environ.get(DBT_PARENT_ENV) or os.getppid())
    die_with_parent()
    if os.getppid() != parent:  # it died before the kernel was asked: no signal will come
        sys.stderr.write("icb-insight-dbt: the process that started dbt has ended\n")
        sys.exit(1)
    dbt = os.environ.get(DBT_EXECUTABLE_ENV) or str(Path(sys.executable).parent / "dbt")
    os.execv(dbt, [dbt, *sys.argv[1:]])


if __name__ == "__main__":
    main()
