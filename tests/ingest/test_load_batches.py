"""Large CSV files are loaded in batches (``ingest.load._Batched``) with the same result, row
for row, as loading them whole: the same raw rows, audit.loads and audit.quarantine, the same
refusals. The batch size is set tiny here so that small files span many batches."""

import re
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

import ingest.load as load_module
from ingest.archive import file_label
from ingest.contracts import CONTRACTS
from ingest.errors import InputError
from ingest.generate import generate
from ingest.load import BATCH_BYTES_ENV, file_sha256, load_file
from ingest.openreferral.load import load_sources
from ingest.read import NotStreamable, read_csv_batches

AS_OF = date(2026, 11, 22)
TODAY = date(2026, 11, 25)
SMALL = 8 * 1024  # bytes per batch: the demo's referrals file is about 40 batches

HEADER = (
    "referral_id,person_id,referral_date,snomed_code,referral_source,practice_code,lsoa_code,"
    "age_band,sex,ethnic_group,primary_need,referral_reason,link_worker_id,first_contact_date,"
    "contacts_count,outcome,discharge_date,wellbeing_baseline_swemwbs,wellbeing_followup_swemwbs"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    generate(folder, seed=7, scale="tiny", as_of=AS_OF)
    return folder


def referral(token: str, day: str, *, reason: str = "", practice: str = "", lsoa: str = "") -> str:
    return (
        f"r{token},p{token},{day},871731000000106,gp,{practice},{lsoa},65-74,male,white,"
        f"long_term_condition,{reason},lw0001aa,,1,in_progress,,21.54,"
    )


def first_practice(demo: Path) -> tuple[str, str]:
    """A practice code and LSOA code the demo's warehouse knows (for the foreign keys)."""
    frame = pl.read_csv(demo / "practices.csv", infer_schema=False)
    return frame["practice_code"][0], frame["lsoa_code"][0]


def crafted_referrals(path: Path, practice: str, lsoa: str, *, last: str = "") -> Path:
    """About 60 KB: a duplicate key 7 batches after its first row, a record spanning lines,
    blank lines, and bad values in the last batch; ``last`` is appended as the final row."""
    rows = [HEADER]
    for i in range(900):
        day = f"2026-{1 + i % 3:02d}-{1 + i % 28:02d}"
        rows.append(referral(f"crafted{i:05d}", day, practice=practice, lsoa=lsoa))
    rows[3] = referral("crafted00001", "2026-01-03", practice=practice, lsoa=lsoa)  # dup, row 3
    rows[600] = referral("crafted00010", "2026-02-11", practice=practice, lsoa=lsoa)  # dup of 10
    rows[120] = referral(
        "crafted00119", "2026-01-12", reason='"wants support,\nwith ""housing"""', practice=practice
    )  # spans two lines, lsoa missing -> quarantined, naming the line it starts on
    rows[200] = ""  # blank lines are skipped, not renumbered
    rows[201] = ",,,"
    rows[880] = referral("crafted00879", "2026-13-01", practice=practice, lsoa=lsoa)  # bad date
    rows[890] = referral("crafted00889", "2026-02-02", practice="Q99999", lsoa=lsoa)  # FK
    rows[895] = referral("crafted00894", "2099-02-02", practice=practice, lsoa=lsoa)  # future
    if last:
        rows.append(last)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Everything a load writes, without what differs between two runs (ids, times, paths)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = {
            name: con.execute(
                f"select * exclude (_load_id, _loaded_at) from raw.{name} order by all"
            ).fetchall()
            for name in CONTRACTS
        }
        found["audit.loads"] = [
            tuple(
                re.sub(r"load [0-9a-f]{32}", "load <id>", v) if isinstance(v, str) else v
                for v in row
            )
            for row in con.execute(
                "select * exclude (load_id, loaded_at, archive_path) from audit.loads order by all"
            ).fetchall()
        ]
        found["audit.quarantine"] = con.execute(
            "select * exclude (load_id) from audit.quarantine order by all"
        ).fetchall()
    finally:
        con.close()
    return found


def load_both(
    demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra: Path | None,
    sources: list[str] | None = None,
) -> tuple[dict, dict, list, list]:
    """Load the demo (then ``extra``) into two warehouses: files whole, and in small batches."""
    snapshots, results = [], []
    for mode, size in (("whole", None), ("batched", str(SMALL))):
        if size is None:
            monkeypatch.delenv(BATCH_BYTES_ENV, raising=False)
        else:
            monkeypatch.setenv(BATCH_BYTES_ENV, size)
        db = tmp_path / mode / "warehouse.duckdb"
        found = load_sources(demo, db, today=TODAY, sources=sources)
        if extra is not None:
            try:
                found.append(load_file("referrals", extra, db, today=TODAY))
            except InputError as error:
                found.append(error.message)
        snapshots.append(snapshot(db))
        results.append(found)
    return snapshots[0], snapshots[1], results[0], results[1]


def test_batches_match_the_whole_file_read(demo: Path) -> None:
    path = demo / "referrals.csv"
    batches = list(read_csv_batches(path, SMALL))
    assert len(batches) > 30
    numbers = [n for batch in batches for n in batch["_row_number"].to_list()]
    assert numbers == list(range(2, len(numbers) + 2))  # file rows, across batches


def test_demo_and_crafted_file_load_the_same_in_batches(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    practice, lsoa = first_practice(demo)
    crafted = crafted_referrals(tmp_path / "referrals_2026q1.csv", practice, lsoa)
    read_whole = []
    original = load_module.read_raw
    monkeypatch.setattr(
        load_module,
        "read_raw",
        lambda c, p, **k: read_whole.append(Path(p).name) or original(c, p, **k),
    )
    whole, batched, whole_results, batched_results = load_both(demo, tmp_path, monkeypatch, crafted)

    assert read_whole.count("referrals_2026q1.csv") == 1  # read whole in the first run only
    assert read_whole.count("referrals.csv") == 1
    assert whole == batched
    assert [r.summary() for r in whole_results] == [r.summary() for r in batched_results]
    for one, other in zip(whole_results, batched_results, strict=True):
        assert one.quarantine_reasons == other.quarantine_reasons
        assert one.quarantine_rows == other.quarantine_rows
        assert one.quarantine_examples == other.quarantine_examples

    crafted_result = batched_results[-1]
    assert crafted_result.rows_read == 898  # 900 data rows, two of them empty
    assert crafted_result.rows_read == crafted_result.rows_loaded + crafted_result.rows_quarantined
    assert crafted_result.rows_replaced > 0  # the demo's January to March rows
    quarantine = {
        row[2]: (row[4], row[5])  # row number: rule, reason
        for row in batched["audit.quarantine"]
        if row[1] == crafted_result.label
    }
    assert sorted(quarantine) == [3, 4, 12, 121, 601, 881, 891, 896]
    assert quarantine[4][0] == "duplicate_key" and quarantine[601][0] == "duplicate_key"
    assert quarantine[12][0] == "duplicate_key"  # r...00010 again at row 601, batches later
    assert "occurs 2 times in the file" in quarantine[601][1]
    assert quarantine[121][0] == "required"  # the record spanning two lines, lsoa empty
    assert "starts on line" not in quarantine[121][1]
    assert "(the record starts on line 882 of the file)" in quarantine[881][1]
    assert quarantine[881][0] == "type"
    assert quarantine[891][0] == "foreign_key"
    assert quarantine[896][0] == "not_future"
    assert 201 not in quarantine and 202 not in quarantine


def test_identifiable_value_in_the_last_batch_refuses_the_whole_file(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    practice, lsoa = first_practice(demo)
    last = referral(
        "crafted99999", "2026-03-03", reason="Mrs Smith asked", practice=practice, lsoa=lsoa
    )
    crafted = crafted_referrals(tmp_path / "referrals_2026q1.csv", practice, lsoa, last=last)
    assert len(list(read_csv_batches(crafted, SMALL))) > 5
    whole, batched, whole_results, batched_results = load_both(
        demo, tmp_path, monkeypatch, crafted, ["geography", "practices", "referrals"]
    )
    assert whole == batched
    assert whole_results[-1] == batched_results[-1]
    assert "identifiable" in batched_results[-1] and "referral_reason" in batched_results[-1]
    refused = [row for row in batched["audit.loads"] if row[3] == "refused"]
    label = file_label("referrals", file_sha256(crafted), crafted)
    assert len(refused) == 1 and refused[0][1] == label
    assert not [row for row in batched["audit.quarantine"] if row[1] == label]
    assert not [row for row in batched["referrals"] if row[0].startswith("rcrafted")]


def test_a_failure_mid_file_leaves_the_warehouse_as_it_was(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv(BATCH_BYTES_ENV, str(SMALL))
    load_sources(demo, db, today=TODAY, sources=["geography", "practices"])
    before = snapshot(db)
    calls = []
    original = load_module._insert_valid

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise OSError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(load_module, "_insert_valid", failing)
    with pytest.raises(OSError):
        load_file("referrals", demo / "referrals.csv", db, today=TODAY)
    assert len(calls) == 5  # four batches were in before it failed
    assert snapshot(db) == before
    con = duckdb.connect(str(db), read_only=True)
    try:  # and the staging tables of the batches went
        staged = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'loading'"
        ).fetchall()
    finally:
        con.close()
    assert staged == [(0,)]


def test_files_that_are_not_plain_csv_are_read_whole(tmp_path: Path) -> None:
    cp1252 = tmp_path / "referrals.csv"
    cp1252.write_bytes(
        (
            HEADER + "\n" + "\n".join(referral(f"x{i:09d}", "2026-01-02") for i in range(400))
        ).encode()
        + b"\nrcaf\xe9,x\n"
    )
    with pytest.raises(NotStreamable):
        list(read_csv_batches(cp1252, SMALL))
