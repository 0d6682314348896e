"""Render docs/contracts.md from the contracts (``python -m ingest.contracts.docs``).

The page is generated, never hand-edited; tests/ingest/test_contract_docs.py fails when the
committed page differs from what the contracts say.
"""

from pathlib import Path

from ingest.contracts import CONTRACTS, Contract
from ingest.limits import LIMITS
from ingest.openreferral import DIRECTORY_FEEDS

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "contracts.md"

HEADER = """\
# Input contracts

<!-- Generated from ingest/contracts/ by `python -m ingest.contracts.docs` (make docs).
     Do not edit by hand: change the contract and regenerate. -->

Every file icb-insight accepts has a contract: its columns, types, the values each may take,
its keys and the other sources it refers to. Files are read by header name (case, spaces and
column order do not matter; the aliases listed are accepted too). A file is refused whole if
it cannot be read, lacks a required column, or carries identifiable data (NHS numbers, full
postcodes, dates of birth, names or addresses); otherwise each row that breaks a rule is
quarantined with the reason and the rest are loaded.

Load order (every foreign key points to a source loaded earlier):
{order}

Type names: `string`, `integer`, `float` (decimal), `date` (YYYY-MM-DD; DD/MM/YYYY accepted),
`boolean` (true/false, yes/no, 1/0).
"""


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_contract(contract: Contract) -> str:
    lines = [
        f"## `{contract.name}`: {contract.title}",
        "",
        contract.description,
        "",
        f"- File: `{contract.file_name}` ({contract.file_format.upper()}); "
        f"sent by: {contract.sender}.",
        f"- Grain (primary key): {', '.join(f'`{key}`' for key in contract.primary_key)}.",
    ]
    if contract.standards:
        lines.append(f"- Standards followed: {'; '.join(contract.standards)}.")
    if contract.foreign_keys:
        keys = ", ".join(f"`{fk.column}` → `{fk.references}`" for fk in contract.foreign_keys)
        lines.append(f"- Foreign keys: {keys}.")
    if contract.replace_scope:
        names = ", ".join(f"`{name}`" for name in contract.replace_scope)
        lines.append(
            f"- Side by side: a file replaces only the rows loaded before with the same {names} "
            "as its own rows; the rest stay (load each publisher's file in any order)."
        )
        lines.append(
            f"- Adding a publisher: `icb-insight ingest {contract.name} FILE` (or drop the file "
            f"in `data/landing/{contract.name}/`, or keep it in the sources folder's "
            f"`{contract.name}/` subfolder, which `icb-insight build` loads file by file). Its "
            "file is taken as published; send a corrected file the same way and it replaces "
            "that publisher's rows only."
        )
    if contract.published_openly:
        lines.append(
            "- Screen: an open publication about organisations. Organisations' addresses and "
            "postcodes are read past and never kept; every other text is screened for NHS "
            "numbers and dates of birth (names in it are of organisations, staff and places); "
            "a column named for personal data, or a grant to an individual, refuses the file."
        )
    if contract.file_format == "json" and contract.standards:
        lines.append(
            f"- Forms: the {contract.standards[0]} JSON package, or its flat CSV or spreadsheet "
            "(XLSX or ODS, one sheet or several, the standard's column titles), which the "
            "standard's own tool, flattentool, turns into the JSON package first; a CSV or "
            "XLSX with this contract's own column names is read as a table."
        )
    elif contract.period_column:
        lines.append(
            f"- Period: the months of `{contract.period_column}` in a file; a later file for "
            "the same months replaces the rows loaded before."
        )
    elif not contract.replace_scope:
        lines.append("- Snapshot: each new file replaces the previous one.")
    if contract.free_text_columns:
        names = ", ".join(f"`{name}`" for name in contract.free_text_columns)
        lines.append(f"- Free text screened for names and addresses: {names}.")
    lines.append(
        f"- Freshness: warn after {contract.freshness_warn_days} days without a new file, "
        f"error after {contract.freshness_error_days}."
    )
    lines += ["", "| column | type | rules | meaning | also accepted as |", "|---|---|---|---|---|"]
    for column in contract.columns:
        aliases = ", ".join(f"`{alias}`" for alias in column.aliases)
        rules = "; ".join(column.rules())
        lines.append(
            f"| `{column.name}` | {column.dtype} | {_escape(rules)} | "
            f"{_escape(column.description)} | {_escape(aliases)} |"
        )
    return "\n".join(lines)


def render_limits() -> str:
    """The size limits checked before a file is parsed (``ingest.limits``)."""
    lines = [
        "## Size limits",
        "",
        "Checked before a file is parsed, so that memory stays bounded whatever arrives; a file "
        "past one is refused whole, with the limit named. A workbook's zip directory is checked "
        "before anything is decompressed, and every part is decompressed with a cap, so a part "
        "whose declared size is false is refused too. Every part of a workbook a person can type "
        "into (all sheets, hidden ones too, rows above the header, comments, document "
        "properties, names, headers and footers) is screened for identifiable data.",
        "",
        "| format | what | limit |",
        "|---|---|---|",
    ]
    lines += [f"| {kind} | {_escape(what)} | {bound} |" for kind, what, bound in LIMITS]
    return "\n".join(lines)


def render_markdown() -> str:
    order = "\n".join(f"{index}. `{name}`" for index, name in enumerate(CONTRACTS, start=1))
    sections = [HEADER.format(order=order)]
    sections += [render_contract(contract) for contract in CONTRACTS.values()]
    sections.append(DIRECTORY_FEEDS.rstrip("\n"))
    sections.append(render_limits())
    return "\n\n".join(sections) + "\n"


def main() -> None:
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text(render_markdown())
    print(f"wrote {DOC_PATH}")


if __name__ == "__main__":
    main()
