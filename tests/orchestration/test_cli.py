"""The command line as a user meets it: help, exit codes, plain messages, no tracebacks."""

import sys
from pathlib import Path

import pytest

from orchestration.cli import main


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["icb-insight", *args])
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_lists_every_command(monkeypatch, capsys) -> None:
    code, out, _ = run_cli(["--help"], monkeypatch, capsys)
    assert code == 0
    for command in ("generate", "ingest", "build", "demo"):
        assert command in out


def test_ingest_help_names_the_sources(monkeypatch, capsys) -> None:
    code, out, _ = run_cli(["ingest", "--help"], monkeypatch, capsys)
    assert code == 0
    assert "referrals" in out and "identifiable" in out


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
