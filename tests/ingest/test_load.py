"""load_file: archive, audit, no-op reloads, period replacement and superseded loads."""

from pathlib import Path

import duckdb
import pytest

from ingest.archive import data_dir, file_label
from ingest.errors import InputError
from ingest.load import evolve_schema, file_sha256, load_file, reject_identifiable_name

HEADER = (
    "referral_id,person_id,referral_date,snomed_code,referral_source,practice_code,lsoa_code,"
    "age_band,sex,ethnic_group,primary_need,referral_reason,link_worker_id,first_contact_date,"
    "contacts_count,outcome,discharge_date,wellbeing_baseline_swemwbs,wellbeing_followup_swemwbs"
)


def referral(token: str, day: str, *, lsoa: str = "E01900007", person: str = "") -> str:
    person = person or f"p{token}"
    return (
        f"r{token},{person},{day},871731000000106,gp,Z90003,{lsoa},65-74,male,white,"
        f"long_term_condition,,lw0001aa,,1,in_progress,,21.54,"
    )


def write(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def practices(path: Path, code: str, lsoa: str = "E01900023") -> Path:
    path.write_text(
        "practice_code,practice_name,pcn_code,pcn_name,lsoa_code,registered_patients\n"
        f"{code},A Surgery,U90001,North PCN,{lsoa},9000\n"
    )
    return path


def label(source: str, path: Path) -> str:
    return file_label(source, file_sha256(path), path)


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_accepted_file_is_archived_unchanged_and_recorded(tmp_path, warehouse_path) -> None:
    path = write(tmp_path / "march.csv", referral("aaaa01", "2026-03-02"))
    result = load_file("referrals", path, warehouse_path)
    sha = file_sha256(path)
    expected = tmp_path / "archive" / "referrals" / sha / f"referrals-{sha[:12]}.csv"
    assert result.archive_path == expected and expected.name == result.label
    assert expected.read_bytes() == path.read_bytes()
    assert query(
        warehouse_path, "select status, archive_path, file_sha256, file_name from audit.loads"
    ) == [("loaded", str(expected), sha, result.label)]
    # the name it was sent under is kept nowhere: the file is known by its label
    assert query(warehouse_path, "select distinct _source_file from raw.referrals") == [
        (result.label,)
    ]
    assert "march" not in result.summary()


def test_quarantine_names_the_label_rule_column_and_row_never_the_value(
    tmp_path, warehouse_path
) -> None:
    path = write(
        tmp_path / "Firstname_Surname.csv",
        referral("aaaa01", "2026-03-02"),
        referral("aaaa02", "2026-03-02", lsoa="E0XSECRET"),
    )
    result = load_file("referrals", path, warehouse_path)
    rows = query(
        warehouse_path,
        "select file_name, row_number, column_name, rule, reason, record from audit.quarantine",
    )
    assert [row[:5] for row in rows] == [
        (
            result.label,
            3,
            "lsoa_code",
            "pattern",
            "lsoa_code is not an LSOA code (E01 and 6 digits)",
        )
    ]
    assert "E0XSECRET" in rows[0][5]  # the value stays in record, for the data owner
    lines = "\n".join([result.summary(), *result.quarantine_lines()])
    assert "SECRET" not in lines and "Surname" not in lines
    assert "pattern (lsoa_code) (row 3)" in lines


def test_data_dir_is_beside_the_warehouse_folder(tmp_path) -> None:
    assert data_dir(tmp_path / "warehouse" / "w.duckdb") == tmp_path
    assert data_dir(tmp_path / "elsewhere" / "w.duckdb") == tmp_path / "elsewhere"


def test_same_file_again_is_a_no_op(tmp_path, warehouse_path) -> None:
    path = write(tmp_path / "march.csv", referral("aaaa01", "2026-03-02"))
    first = load_file("referrals", path, warehouse_path)
    again = load_file("referrals", path, warehouse_path)
    assert (first.status, again.status) == ("loaded", "unchanged")
    assert "already loaded" in again.summary()
    assert query(warehouse_path, "select count(*) from raw.referrals") == [(1,)]
    assert query(warehouse_path, "select count(*) from audit.loads") == [(1,)]


def test_corrected_month_replaces_and_old_file_is_superseded(tmp_path, warehouse_path) -> None:
    old = write(
        tmp_path / "old.csv",
        referral("aaaa01", "2026-03-02"),
        referral("aaaa02", "2026-03-20"),
        referral("aaaa03", "2026-04-01"),
    )
    corrected = write(tmp_path / "march.csv", referral("bbbb01", "2026-03-05"))
    load_file("referrals", old, warehouse_path)
    result = load_file("referrals", corrected, warehouse_path)
    assert result.rows_replaced == 2
    ids = query(warehouse_path, "select referral_id from raw.referrals order by 1")
    assert ids == [("raaaa03",), ("rbbbb01",)]
    statuses = dict(query(warehouse_path, "select file_name, status from audit.loads"))
    old_label, march_label = label("referrals", old), label("referrals", corrected)
    assert statuses == {old_label: "superseded", march_label: "loaded"}

    # the old file again is a real load (not "unchanged"): it takes March back
    again = load_file("referrals", old, warehouse_path)
    assert again.status == "loaded" and again.rows_replaced == 2
    ids = query(warehouse_path, "select referral_id from raw.referrals order by 1")
    assert ids == [("raaaa01",), ("raaaa02",), ("raaaa03",)]
    assert query(
        warehouse_path, "select file_name, status from audit.loads order by loaded_at"
    ) == [(old_label, "superseded"), (march_label, "superseded"), (old_label, "loaded")]


def test_snapshot_replaces_the_table_and_supersedes_every_earlier_load(
    tmp_path, warehouse_path
) -> None:
    first = practices(tmp_path / "p1.csv", "Z90001")
    second = practices(tmp_path / "p2.csv", "Z90002")
    load_file("practices", first, warehouse_path)
    load_file("practices", second, warehouse_path)
    assert query(warehouse_path, "select practice_code from raw.practices") == [("Z90002",)]
    assert dict(query(warehouse_path, "select file_name, status from audit.loads")) == {
        label("practices", first): "superseded",
        label("practices", second): "loaded",
    }
    assert load_file("practices", first, warehouse_path).status == "loaded"


def test_refusal_is_audited_without_values_and_not_archived(tmp_path, warehouse_path) -> None:
    path = write(tmp_path / "nhs.csv", referral("aaaa01", "2026-03-02", person="943 476 5919"))
    with pytest.raises(InputError, match="NHS number"):
        load_file("referrals", path, warehouse_path)
    ((status, message, rows),) = query(
        warehouse_path, "select status, message, rows_loaded from audit.loads"
    )
    assert (status, rows) == ("refused", 0)
    assert "person_id" in message and "943" not in message
    assert not (tmp_path / "archive").exists()
    assert query(warehouse_path, "select count(*) from raw.referrals") == [(0,)]


def test_old_warehouse_without_archive_column_keeps_working(tmp_path, warehouse_path) -> None:
    path = write(tmp_path / "march.csv", referral("aaaa01", "2026-03-02"))
    load_file("referrals", path, warehouse_path)
    con = duckdb.connect(str(warehouse_path))
    con.execute("alter table audit.loads drop column archive_path")
    con.close()
    assert load_file("referrals", path, warehouse_path).status == "unchanged"
    other = write(tmp_path / "april.csv", referral("aaaa02", "2026-04-02"))
    assert load_file("referrals", other, warehouse_path).status == "loaded"
    rows = query(warehouse_path, "select file_name, archive_path is null from audit.loads")
    assert sorted(rows) == sorted(
        [(label("referrals", other), False), (label("referrals", path), True)]
    )


def test_a_file_with_no_valid_row_replaces_nothing(tmp_path, warehouse_path) -> None:
    good = practices(tmp_path / "good.csv", "Z90001")
    broken = practices(tmp_path / "broken.csv", "Z90002", lsoa="nowhere")
    load_file("practices", good, warehouse_path)
    result = load_file("practices", broken, warehouse_path)
    assert (result.rows_loaded, result.rows_quarantined, result.rows_replaced) == (0, 1, 0)
    assert "the rows loaded before stay" in result.summary()
    assert query(warehouse_path, "select practice_code from raw.practices") == [("Z90001",)]
    assert dict(query(warehouse_path, "select file_name, status from audit.loads")) == {
        label("practices", good): "loaded",
        label("practices", broken): "loaded",
    }


def test_old_warehouse_gains_columns_a_contract_added(tmp_path, warehouse_path) -> None:
    """A warehouse loaded before deprivation gained lsoa_change_code: the column is added
    (null) on the next load, or by evolve_schema before dbt runs when no file is loaded, so
    dbt's accepted_values test on it binds instead of failing."""
    path = write(tmp_path / "march.csv", referral("aaaa01", "2026-03-02"))
    load_file("referrals", path, warehouse_path)
    con = duckdb.connect(str(warehouse_path))
    con.execute("alter table raw.deprivation drop column lsoa_change_code")
    con.execute("alter table raw.referrals drop column wellbeing_followup_swemwbs")
    con.close()
    evolve_schema(warehouse_path)
    assert query(
        warehouse_path,
        "select count(*) from raw.deprivation where lsoa_change_code not in ('U', 'S', 'M', 'X')",
    ) == [(0,)]
    assert query(
        warehouse_path, "select count(wellbeing_followup_swemwbs), count(*) from raw.referrals"
    ) == [(0, 1)]
    con = duckdb.connect(str(warehouse_path))
    con.execute("alter table raw.deprivation drop column lsoa_change_code")
    con.close()
    other = write(tmp_path / "april.csv", referral("aaaa02", "2026-04-02"))
    assert load_file("referrals", other, warehouse_path).status == "loaded"
    columns = query(
        warehouse_path,
        "select column_name from information_schema.columns where table_schema = 'raw' "
        "and table_name = 'deprivation'",
    )
    assert ("lsoa_change_code",) in columns


def test_evolve_schema_leaves_a_missing_warehouse_missing(tmp_path) -> None:
    evolve_schema(tmp_path / "nowhere" / "warehouse.duckdb")
    assert not (tmp_path / "nowhere").exists()


def test_a_file_under_its_own_label_skips_the_name_screen(
    tmp_path, warehouse_path, monkeypatch
) -> None:
    """The landing sensor renames files to their labels: a label is made by us, so the name
    screen (which a short checksum could trip) does not judge it; any other name it does."""
    import ingest.load as load_module

    monkeypatch.setattr(load_module, "identifiable_file_name", lambda name: "a full postcode")
    sent = write(tmp_path / "march.csv", referral("aaaa01", "2026-03-02"))
    with pytest.raises(InputError, match="name looks like it holds a full postcode"):
        load_file("referrals", sent, warehouse_path)
    labelled = sent.rename(tmp_path / label("referrals", sent))
    assert not reject_identifiable_name("referrals", labelled, warehouse_path)  # the sensor's
    assert load_file("referrals", labelled, warehouse_path).status == "loaded"


def test_loads_recorded_under_sent_names_are_relabelled(tmp_path, warehouse_path) -> None:
    """A warehouse loaded before files had labels: its names go on the next load (or
    evolve_schema), from audit, raw and the archive."""
    old = write(tmp_path / "Firstname_Surname.csv", referral("aaaa01", "2026-03-02"))
    first = load_file("referrals", old, warehouse_path)
    first.archive_path.rename(first.archive_path.with_name(old.name))
    con = duckdb.connect(str(warehouse_path))
    con.execute("update raw.referrals set _source_file = ?", [old.name])
    con.execute(
        "update audit.loads set file_name = ?, archive_path = ?",
        [old.name, str(first.archive_path.with_name(old.name))],
    )
    con.execute("update audit.loads set message = 'rows replaced by Firstname_Surname.csv'")
    con.execute(
        "insert into audit.quarantine values (?, 'referrals', ?, 3, 'sex', 'required', 'x', '{}')",
        [first.load_id, old.name],
    )
    con.close()
    evolve_schema(warehouse_path)
    rows = query(
        warehouse_path,
        "select file_name, archive_path, message from audit.loads union all "
        "select distinct _source_file, null, null from raw.referrals union all "
        "select file_name, null, null from audit.quarantine",
    )
    assert rows == [
        (first.label, str(first.archive_path), f"rows replaced by {first.label}"),
        (first.label, None, None),
        (first.label, None, None),
    ]
    assert first.archive_path.read_bytes() == old.read_bytes()
    assert [path.name for path in first.archive_path.parent.iterdir()] == [first.label]
