"""Render docs/metrics.md from the marts' dbt yml (``python -m orchestration.metrics_doc``).

The yml is the one place each mart column and its formula is written; this page is a
readable copy for people who do not open dbt docs. tests/orchestration/test_metrics_doc.py
fails when the committed page differs.
"""

import functools
import re

import yaml

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

MARTS_DIR = DBT_PROJECT_DIR / "models" / "marts"
DOC_PATH = PROJECT_ROOT / "docs" / "metrics.md"
DOC_BLOCK = re.compile(r"{%\s*docs\s+(\w+)\s*%}(.*?){%\s*enddocs\s*%}", re.S)
DOC_REF = re.compile(r"{{\s*doc\(\s*['\"](\w+)['\"]\s*\)\s*}}")


def _doc_blocks() -> dict[str, str]:
    blocks: dict[str, str] = {}
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("*.md")):
        for name, body in DOC_BLOCK.findall(path.read_text()):
            blocks[name] = body.strip()
    return blocks


def _resolve(text: str, blocks: dict[str, str]) -> str:
    return DOC_REF.sub(lambda match: blocks.get(match.group(1), match.group(0)), text or "")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _value(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}: {item}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "null" if value is None else str(value)


def _settings() -> list[str]:
    """The dbt vars that change what the marts say: name, default and the comment written
    above each in dbt_project.yml."""
    text = (DBT_PROJECT_DIR / "dbt_project.yml").read_text()
    defaults = yaml.safe_load(text).get("vars", {})
    comments: dict[str, str] = {}
    pending: list[str] = []
    in_vars = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            pending = []
            continue
        if not line.startswith(" "):
            in_vars = line.startswith("vars:")
            continue
        if not in_vars:
            continue
        elif stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip())
        elif re.match(r"^  \w+:", line):
            comments[stripped.split(":")[0]] = " ".join(pending)
            pending = []
    lines = [
        "",
        "## Settings (dbt vars)",
        "",
        "Set in `dbt_project/dbt_project.yml`, or for one run with "
        "`dbt build --vars '{name: value}'`.",
        "",
        "| var | default | what it does |",
        "|---|---|---|",
    ]
    for name, value in defaults.items():
        lines.append(f"| `{name}` | {_cell(_value(value))} | {_cell(comments.get(name, ''))} |")
    return lines


@functools.cache
def mart_column_descriptions() -> dict[str, dict[str, str]]:
    """Model -> column -> description, from the marts yml (doc blocks resolved).

    Parsed once per process: every local authority's extract workbook reads the same
    definitions, and parsing the yml per LA was half the time of an extracts run."""
    blocks = _doc_blocks()
    described: dict[str, dict[str, str]] = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted(MARTS_DIR.glob("*.yml")):
        for model in yaml.load(path.read_text(), Loader=loader).get("models", []):  # noqa: S506
            described[model["name"]] = {
                column["name"]: " ".join(_resolve(column.get("description", ""), blocks).split())
                for column in model.get("columns", [])
            }
    return described


def render_markdown() -> str:
    blocks = _doc_blocks()
    lines = [
        "# Metrics: every mart column and how it is worked out",
        "",
        "<!-- Generated from dbt_project/models/marts/*.yml by `python -m "
        "orchestration.metrics_doc` (make docs). Edit the yml, not this page. -->",
        "",
        "The marts are in the `marts` schema of the warehouse. Rates say their base in their "
        "name (`_per_1000`, `_pct`); money is in pounds (`_gbp`).",
    ]
    lines += _settings()
    for path in sorted(MARTS_DIR.glob("*.yml")):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            lines += [
                "",
                f"## `marts.{model['name']}`",
                "",
                _resolve(model.get("description", ""), blocks).strip(),
            ]
            lines += ["", "| column | type | definition |", "|---|---|---|"]
            for column in model.get("columns", []):
                description = _cell(_resolve(column.get("description", ""), blocks))
                lines.append(
                    f"| `{column['name']}` | {column.get('data_type', '')} | {description} |"
                )
    return "\n".join(lines) + "\n"


def main() -> None:
    DOC_PATH.write_text(render_markdown())
    print(f"wrote {DOC_PATH}")


if __name__ == "__main__":
    main()
