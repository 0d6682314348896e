"""Foreign keys checked again when the keys they point to change: rows loaded earlier whose
key has gone move to audit.quarantine (rule foreign_key, load id and row number kept), and
every file's rows read = loaded + quarantined still holds."""

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from test_load import HEADER, query  # tests/ingest is on sys.path under pytest

import ingest.load as load_module
from ingest.contracts import CONTRACTS, get_contract
from ingest.generate import generate
from ingest.load import load_file
from ingest.openreferral.load import load_sources

ONWARD_HEADER = (
    "onward_referral_id,referral_id,activity_id,onward_referral_date,status,"
    "supported_first_visit,first_attended_date"
)
AS_OF = date(2026, 11, 22)
TODAY = date(2026, 11, 25)


def referrals(path: Path, *tokens: str) -> Path:
    rows = [
        f"r{token},p{token},2026-03-0{n + 1},871731000000106,gp,Z90003,E01900007,65-74,male,"
        "white,long_term_condition,,lw0001aa,,1,in_progress,,21.54,"
        for n, token in enumerate(tokens)
    ]
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def onward(path: Path, *tokens: str) -> Path:
    rows = [f"o{token},r{token},act0001a,2026-03-10,accepted,true," for token in tokens]
    path.write_text("\n".join([ONWARD_HEADER, *rows]) + "\n")
    return path


def orphans(db: Path) -> dict[str, int]:
    """Rows in raw whose foreign key is not in its (loaded) target, per contract and key."""
    found = {}
    for contract in CONTRACTS.values():
        for fk in contract.foreign_keys:
            (loaded,) = query(db, f"select count(*) from raw.{fk.contract}")[0]
            if not loaded:
                continue
            (count,) = query(
                db,
                f"select count(*) from raw.{contract.name} where {fk.column} is not null and "
                f"{fk.column} not in (select {fk.target_column} from raw.{fk.contract} "
                f"where {fk.target_column} is not null)",
            )[0]
            if count:
                found[f"{contract.name}.{fk.column}"] = count
    return found


def unbalanced_loads(db: Path) -> list[tuple]:
    """Accepted loads whose counts do not add up, or do not match what raw and quarantine
    hold (a superseded load's raw rows may be fewer)."""
    return query(
        db,
        "select l.load_id, l.source, l.rows_read, l.rows_loaded, l.rows_quarantined, "
        "(select count(*) from audit.quarantine q where q.load_id = l.load_id) as in_q "
        "from audit.loads l where l.status in ('loaded', 'superseded') and ("
        "l.rows_read != l.rows_loaded + l.rows_quarantined or "
        "l.rows_quarantined != (select count(*) from audit.quarantine q "
        "where q.load_id = l.load_id))",
    ) + [
        row
        for source in CONTRACTS
        for row in query(
            db,
            f"select l.load_id, l.rows_loaded, count(r._load_id) from audit.loads l "
            f"left join raw.{source} r on r._load_id = l.load_id where l.source = '{source}' "
            "and l.status = 'loaded' group by all having count(r._load_id) != l.rows_loaded",
        )
    ]


def test_a_referral_gone_sets_its_onward_referral_aside(tmp_path: Path, warehouse_path) -> None:
    db = warehouse_path
    load_file("referrals", referrals(tmp_path / "ref1.csv", "00001", "00002", "00003"), db)
    first = load_file(
        "onward_referrals", onward(tmp_path / "onw.csv", "00001", "00002", "00003"), db
    )
    assert first.rows_loaded == 3

    # March again, without r00002: its onward referral (row 3 of onw.csv) has nothing to join
    again = load_file("referrals", referrals(tmp_path / "ref2.csv", "00001", "00003"), db)
    assert again.rows_replaced == 3
    assert again.rows_set_aside_later == {"onward_referrals": 1}
    assert "set aside 1 row of onward_referrals loaded earlier" in again.downstream_lines()[0]

    assert orphans(db) == {}
    assert query(db, "select onward_referral_id from raw.onward_referrals order by 1") == [
        ("o00001",),
        ("o00003",),
    ]
    assert query(
        db,
        "select load_id, source, row_number, column_name, rule from audit.quarantine "
        "where source = 'onward_referrals'",
    ) == [(first.load_id, "onward_referrals", 3, "referral_id", "foreign_key")]
    (status, read, loaded, quarantined, message) = query(
        db,
        "select status, rows_read, rows_loaded, rows_quarantined, message from audit.loads "
        f"where load_id = '{first.load_id}'",
    )[0]
    assert (status, read, loaded, quarantined) == ("loaded", 3, 2, 1)
    assert f"1 row set aside after load {again.load_id}" in message
    assert unbalanced_loads(db) == []

    # the unchanged onward file: nothing left to do, and still balanced
    same = load_file("onward_referrals", tmp_path / "onw.csv", db)
    assert same.status == "unchanged" and same.rows_set_aside_later == {}
    assert unbalanced_loads(db) == []


def test_an_unchanged_file_has_its_rows_checked_again(
    tmp_path: Path, warehouse_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warehouse left with an orphan (by a load made before keys were checked again) is
    mended when the unchanged file comes again, as every build brings it."""
    db = warehouse_path
    load_file("referrals", referrals(tmp_path / "ref.csv", "00001", "00002"), db)
    first = load_file("onward_referrals", onward(tmp_path / "onw.csv", "00001", "00002"), db)
    with monkeypatch.context() as before:  # as the loader did before it checked again
        before.setattr(load_module, "recheck_foreign_keys", lambda *args, **kwargs: {})
        load_file("referrals", referrals(tmp_path / "ref2.csv", "00002"), db)
    assert orphans(db) == {"onward_referrals.referral_id": 1}

    same = load_file("onward_referrals", tmp_path / "onw.csv", db)
    assert same.status == "unchanged"
    assert same.rows_set_aside_later == {"onward_referrals": 1}
    assert orphans(db) == {}
    assert query(
        db,
        "select load_id, row_number, rule from audit.quarantine where source = 'onward_referrals'",
    ) == [(first.load_id, 2, "foreign_key")]
    assert unbalanced_loads(db) == []


def test_a_key_added_back_changes_nothing_set_aside_and_no_replace_no_recheck(
    tmp_path: Path, warehouse_path
) -> None:
    """A referrals file for another month replaces nothing: no onward row moves."""
    db = warehouse_path
    load_file("referrals", referrals(tmp_path / "ref.csv", "00001"), db)
    load_file("onward_referrals", onward(tmp_path / "onw.csv", "00001"), db)
    april = (
        (tmp_path / "ref.csv")
        .read_text()
        .replace("2026-03-", "2026-04-")
        .replace("r00001", "r00009")
    )
    (tmp_path / "april.csv").write_text(april)
    result = load_file("referrals", tmp_path / "april.csv", db)
    assert result.rows_replaced == 0 and result.rows_set_aside_later == {}
    assert query(db, "select count(*) from raw.onward_referrals") == [(1,)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    generate(folder, seed=7, scale="tiny", as_of=AS_OF)
    return folder


def test_a_provider_gone_takes_its_activities_sessions_and_onward_referrals(
    demo: Path, tmp_path: Path
) -> None:
    """Down the chain: providers -> activities -> activity sessions and onward referrals."""
    db = tmp_path / "warehouse" / "warehouse.duckdb"
    load_sources(demo, db, today=TODAY)
    assert orphans(db) == {}
    # the demo's providers come from the councils' directories: the busiest provider listed
    # by one directory only, and that directory's providers as a flat file without it
    [(busiest, directory)] = query(
        db,
        "select provider_id, any_value(directory_id) from raw.activities group by 1 "
        "having count(distinct directory_id) = 1 order by count(*) desc, 1 limit 1",
    )
    columns = get_contract("providers").column_names
    providers = pl.DataFrame(
        query(
            db,
            f"select {', '.join(columns)} from raw.providers where directory_id = '{directory}'",
        ),
        schema=columns,
        orient="row",
    )
    gone = [
        row[0]
        for row in query(
            db, f"select activity_id from raw.activities where provider_id = '{busiest}'"
        )
    ]
    (sessions,) = query(
        db, f"select count(*) from raw.activity_sessions where activity_id in {tuple(gone)}"
    )[0]
    (onwards,) = query(
        db, f"select count(*) from raw.onward_referrals where activity_id in {tuple(gone)}"
    )[0]
    assert sessions and onwards

    smaller = tmp_path / "providers.csv"
    providers.filter(pl.col("provider_id") != busiest).write_csv(smaller)
    (funding,) = query(
        db, f"select count(*) from raw.provider_funding where recipient_org_id = '{busiest}'"
    )[0]
    result = load_file("providers", smaller, db, today=TODAY)
    expected = {"activities": len(gone), "activity_sessions": sessions, "onward_referrals": onwards}
    assert result.rows_set_aside_later == expected
    # a grant is the funder's record, not the directory's: its recipient leaving the
    # directory leaves it in place (grants to groups missing from the directory still count)
    assert query(
        db, f"select count(*) from raw.provider_funding where recipient_org_id = '{busiest}'"
    ) == [(funding,)]
    assert orphans(db) == {}
    assert unbalanced_loads(db) == []
    # the whole demo again, unchanged files included: nothing moves, nothing is lost
    load_sources(demo, db, today=TODAY)
    assert orphans(db) == {}
    assert unbalanced_loads(db) == []
