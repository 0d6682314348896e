"""Writers that lay frames out as each contract says and give byte-identical files."""

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from ingest.contracts.giving360 import row_to_grant
from ingest.contracts.model import Contract


def contract_layout(
    contract: Contract, frame: pl.DataFrame, *, published: bool = False
) -> pl.DataFrame:
    """The contract's columns in contract order; ``published`` renames to first aliases."""
    frame = frame.select(contract.column_names)
    if published:
        frame = frame.rename({c.name: c.aliases[0] for c in contract.columns if c.aliases})
    return frame


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    """UTF-8 CSV: ISO dates, true/false, empty for null."""
    frame.write_csv(path, date_format="%Y-%m-%d", null_value="")


def write_xlsx(frame: pl.DataFrame, path: Path, *, sheet: str, created: date) -> None:
    """One sheet, real date cells shown as yyyy-mm-dd; fixed document dates for determinism."""
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties(
        {
            "title": sheet,
            "author": "icb-insight demo generator (synthetic data)",
            "created": datetime(created.year, created.month, created.day),
        }
    )
    frame.write_excel(
        workbook=workbook,
        worksheet=sheet,
        dtype_formats={pl.Date: "yyyy-mm-dd"},
        float_precision=2,
        autofit=False,
        table_style="Table Style Light 1",
    )
    workbook.close()


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_360giving(rows: list[dict[str, Any]], path: Path) -> None:
    """A 360Giving JSON package ``{"grants": [...]}`` built with ``row_to_grant``."""
    grants = [row_to_grant(row) for row in rows]
    # one grant a line: readable, and fast (the C encoder only runs without ``indent``)
    lines = [json.dumps(grant, default=_json_default, ensure_ascii=False) for grant in grants]
    path.write_text('{"grants": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")
