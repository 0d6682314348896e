"""docs/metrics.md is generated from the marts' yml; every mart column has a definition."""

import yaml

from orchestration.metrics_doc import DOC_PATH, MARTS_DIR, render_markdown


def test_committed_metrics_page_matches_the_marts_yml() -> None:
    assert DOC_PATH.read_text() == render_markdown(), (
        "docs/metrics.md is out of date: run `make docs` (python -m orchestration.metrics_doc)"
    )


def test_every_mart_column_has_a_definition() -> None:
    for path in MARTS_DIR.glob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            for column in model.get("columns", []):
                assert column.get("description", "").strip(), f"{model['name']}.{column['name']}"
    assert "{{ doc(" not in render_markdown()
