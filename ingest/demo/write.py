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


def write_360giving_flat(rows: list[dict[str, Any]], path: Path) -> None:
    """The grants as a funder's flat 360Giving file (``path``'s suffix: .csv, or .xlsx with
    one sheet "grants"), with the standard's column titles: flattentool flattens the JSON
    package (one item of each list rolled up into the grant's row), as a funder using the
    standard's tools would."""
    import shutil
    import tempfile
    import warnings

    import flattentool

    from ingest.giving import SCHEMA

    with tempfile.TemporaryDirectory(prefix="icb-demo-360giving-") as folder:
        package = Path(folder) / "grants.json"
        write_360giving(rows, package)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            flattentool.flatten(
                str(package),
                output_name=str(Path(folder) / "flat"),
                output_format="csv",
                schema=str(SCHEMA),
                root_list_path="grants",
                main_sheet_name="grants",
                use_titles=True,
                root_id="",
                id_name="id",
                rollup=True,
                remove_empty_schema_columns=True,
                line_terminator="LF",
            )
        main = Path(folder) / "flat" / "grants.csv"
        if path.suffix == ".csv":
            shutil.copyfile(main, path)
            return
        frame = pl.read_csv(main, infer_schema=False)
        workbook = xlsxwriter.Workbook(str(path))
        latest = max(row["award_date"] for row in rows)  # fixed properties: the same bytes
        workbook.set_properties(
            {
                "title": "grants",
                "author": "icb-insight demo generator (synthetic data)",
                "created": datetime(latest.year, latest.month, latest.day),
            }
        )
        sheet = workbook.add_worksheet("grants")
        sheet.write_row(0, 0, frame.columns)
        for index, row in enumerate(frame.iter_rows(), start=1):
            for column, cell in enumerate(row):
                if cell is not None:
                    sheet.write_string(index, column, cell)
        workbook.close()


def write_360giving(rows: list[dict[str, Any]], path: Path) -> None:
    """A 360Giving JSON package ``{"grants": [...]}`` built with ``row_to_grant``."""
    grants = [row_to_grant(row) for row in rows]
    # one grant a line: readable, and fast (the C encoder only runs without ``indent``)
    lines = [json.dumps(grant, default=_json_default, ensure_ascii=False) for grant in grants]
    path.write_text('{"grants": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")
