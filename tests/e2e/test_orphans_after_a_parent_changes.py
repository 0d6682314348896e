"""A build is never stuck on a file nobody needs to resend: after the e2e build, a referrals
file without one referral that onward referrals point to is loaded, then the unchanged onward
referrals file (as the next build brings it), and dbt's relationship tests on onward
referrals pass."""

import shutil
from pathlib import Path

import duckdb
import polars as pl

from ingest.load import load_file
from tests.e2e.test_incremental import _dbt_run


def test_dbt_relationships_pass_after_a_referral_goes(built: dict, tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(built["db"], db)
    files = built["generated"].files
    with duckdb.connect(str(db), read_only=True) as con:
        [(gone,)] = con.execute(
            "select referral_id from raw.onward_referrals order by onward_referral_id limit 1"
        ).fetchall()
    referrals = pl.read_csv(files["referrals"], infer_schema=False)
    fewer = tmp_path / "referrals.csv"
    referrals.filter(pl.col("referral_id") != gone).write_csv(fewer)

    loaded = load_file("referrals", fewer, db)
    assert loaded.rows_set_aside_later.get("onward_referrals", 0) >= 1
    unchanged = load_file("onward_referrals", files["onward_referrals"], db)
    assert unchanged.status == "unchanged"

    test = _dbt_run(db, tmp_path / "dbt", "--select", "source:raw.onward_referrals", verb=["test"])
    output = test.communicate(timeout=600)[0]
    assert test.returncode == 0, output[-3000:]
    # the test that fails without the check again (FAIL 1: the orphan onward referral)
    assert "PASS source_relationships_raw_onward_referrals_referral_id" in output
    assert "ERROR=0" in output
