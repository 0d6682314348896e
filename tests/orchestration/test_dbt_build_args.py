"""The data build's dbt command: data tests, never the unit tests (they run in ``make test``,
tests/e2e/test_dbt_unit_tests.py), and the benchmark times the same command."""

import pytest

from benchmarks.phases import DATA_BUILD
from orchestration.dbt.assets import FULL_REFRESH_ENV, dbt_build_args


def test_the_data_build_leaves_unit_tests_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FULL_REFRESH_ENV, raising=False)
    assert dbt_build_args() == ["build", "--exclude-resource-type", "unit_test"]
    assert dbt_build_args() == DATA_BUILD


def test_a_full_refresh_leaves_unit_tests_out_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FULL_REFRESH_ENV, "1")
    assert dbt_build_args() == ["build", "--exclude-resource-type", "unit_test", "--full-refresh"]
