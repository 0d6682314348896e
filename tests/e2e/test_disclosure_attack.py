"""The attacker (tests/disclosure_attacker.py) against everything the shared e2e build let
out: every local authority's extract package (CSV, as a reader opens it) and the report's
data (report.duckdb), all months and weeks together. No suppressed count may be pinned."""

from pathlib import Path

import pytest
from disclosure_attacker import attack

from orchestration.extracts import extracts_root

pytestmark = pytest.mark.e2e


def test_no_suppressed_count_can_be_pinned_across_everything_published(built: dict) -> None:
    db: Path = built["db"]
    runs = sorted(p for p in extracts_root(db).iterdir() if p.is_dir())
    report = db.parent / "report.duckdb"
    assert runs and report.exists(), "the build wrote no extracts or no report data"
    packages = [p for p in runs[-1].iterdir() if p.is_dir()]
    assert len(packages) >= 2, "the attack needs several local authorities"
    program = attack(runs[-1], report)
    # the attack has something to work on: hidden cells in extracts and in the report
    places = {where.split()[0] for wheres in program.hidden.values() for where in wheres}
    assert places == {"extract", "report"}, places
    assert len(program.hidden) > 100
    pinned = program.pinned()
    shown = "\n".join(
        f"{key}: {value} (hidden in {', '.join(where)})"
        for key, (value, where) in list(pinned.items())[:20]
    )
    assert not pinned, f"{len(pinned)} suppressed counts pinned:\n{shown}"
