"""Run the ``icb-insight`` command line in-process as a user would (tests/ is on sys.path
under pytest: its conftest.py sits there without an __init__.py)."""

import sys

import pytest

from orchestration.cli import main


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``icb-insight ARGS``."""
    monkeypatch.setattr(sys, "argv", ["icb-insight", *args])
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
