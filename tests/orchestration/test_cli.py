"""The command line as a user meets it: help, exit codes, plain messages, no tracebacks."""

from pathlib import Path

from cli_runner import run_cli


def test_help_lists_every_command(monkeypatch, capsys) -> None:
    code, out, _ = run_cli(["--help"], monkeypatch, capsys)
    assert code == 0
    for command in ("generate", "ingest", "build", "demo"):
        assert command in out


def test_ingest_help_names_the_sources_and_the_rules(monkeypatch, capsys) -> None:
    from ingest.contracts import CONTRACTS

    code, out, _ = run_cli(["ingest", "--help"], monkeypatch, capsys)
    assert code == 0
    text = " ".join(out.split())
    for name in CONTRACTS:
        assert name in text
    for words in ("identifiable", "NHS numbers", "quarantine", "Exit codes", "sha256", "--strict"):
        assert words in text


def test_ingest_reports_loaded_and_quarantined_rows_grouped(
    monkeypatch, capsys, tmp_path: Path
) -> None:
    path = tmp_path / "practices.csv"
    path.write_text(
        "practice_code,practice_name,pcn_code,pcn_name,lsoa_code,registered_patients\n"
        "Z90001,One Surgery,U90001,North PCN,E01900023,12042\n"
        "Z90002,Two Surgery,U90001,North PCN,E0X,9000\n"
        "Z90003,Three Surgery,U90001,North PCN,E0Y,9000\n"
        "Z90004,Four Surgery,U90001,North PCN,E01900023,-5\n"
    )
    args = ["ingest", "practices", str(path), "--warehouse", str(tmp_path / "w")]
    code, out, err = run_cli(args, monkeypatch, capsys)
    assert code == 0, err
    assert "4 rows read, 1 loaded, 3 quarantined" in out
    assert "quarantined 2 rows: pattern (lsoa_code) (rows 3, 4); first: lsoa_code is not a" in out
    assert "E0X" not in out and "E0Y" not in out  # rule, column and row; never the value
    assert "quarantined 1 row: minimum (registered_patients) (row 5)" in out
    assert "audit.quarantine where load_id" in out

    code, out, _ = run_cli(args, monkeypatch, capsys)
    assert code == 0
    assert "already loaded (same sha256), nothing to do" in out


def test_unknown_source_is_a_plain_error(monkeypatch, capsys, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    code, _, err = run_cli(
        ["ingest", "nonsense", str(path), "--warehouse", str(tmp_path / "w")], monkeypatch, capsys
    )
    assert code == 2
    assert "unknown source 'nonsense'" in err
    assert "Traceback" not in err


def test_missing_file_names_the_file(monkeypatch, capsys, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"
    code, _, err = run_cli(
        ["ingest", "referrals", str(missing), "--warehouse", str(tmp_path / "w")],
        monkeypatch,
        capsys,
    )
    assert code == 2
    assert str(missing) in err and "not found" in err
    assert "Traceback" not in err


def test_file_missing_required_columns_lists_them(monkeypatch, capsys, tmp_path: Path) -> None:
    path = tmp_path / "practices.csv"
    path.write_text("practice_code,practice_name\nZ90001,Demo Surgery\n")
    code, _, err = run_cli(
        ["ingest", "practices", str(path), "--warehouse", str(tmp_path / "w")],
        monkeypatch,
        capsys,
    )
    assert code == 2
    assert "pcn_code" in err and "pcn_name" in err
    assert "Traceback" not in err


def test_bad_option_value_exits_2(monkeypatch, capsys, tmp_path: Path) -> None:
    code, _, err = run_cli(
        ["generate", "--out", str(tmp_path), "--as-of", "yesterday"], monkeypatch, capsys
    )
    assert code == 2
    assert "--as-of" in err
