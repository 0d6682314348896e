"""Local authority extracts: for each local authority in the ICB, a folder
``<warehouse dir>/../extracts/RUN_DATE/LA_CODE/`` (``data/extracts/...`` by default) holding
its own neighbourhoods only, with small numbers suppressed (``orchestration.disclosure``):

* ``neighbourhoods``: the neighbourhood list (marts.dim_neighbourhoods);
* ``need_capacity_monthly``: need next to community capacity per neighbourhood and month
  (marts.fct_neighbourhood_need_capacity_monthly), with one total row per month for the
  local authority;
* ``activity_pressure``: the activity pressure mart, when the warehouse has one;

each as CSV and Parquet, all of them in one XLSX workbook with a README sheet (definitions,
period, build date, suppression rule), and ``manifest.json`` (row counts, sha256 of every
file, the source files loaded, the dbt and project versions).

Extracts are read from the PUBLISHED warehouse (read-only), so they only ever show a build
that passed every check. Each package is written into a hidden folder and renamed into place,
so a package is either complete or absent.
"""

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from orchestration.disclosure import (
    DEFAULT_RULE,
    NEED_COLUMNS,
    SOURCE_COLUMNS,
    SUPPRESSED_SUFFIX,
    TOTAL_FLAG,
    DisclosureRule,
    Kind,
    as_text,
    neutralised,
    neutralised_text,
    protect,
    table_spec,
    with_totals,
)
from orchestration.metrics_doc import mart_column_descriptions
from orchestration.publish import published_path

log = logging.getLogger(__name__)

EXTRACTS_DIR = "extracts"
NEED_MART = "fct_neighbourhood_need_capacity_monthly"
ACTIVITY_PRESSURE_PREFIX = "fct_activity_pressure"
# Referrals by primary need and by source, per neighbourhood and month, are nearly all
# under 8 (so nearly all [c]), and protecting their totals three ways (need x source x
# neighbourhood) takes minutes per local authority: left out until a coarser grain is made.
LEFT_OUT = {NEED_MART: NEED_COLUMNS + SOURCE_COLUMNS}
# Local authorities are read from the marts together, in batches of up to this many
# neighbourhoods (one query per mart and batch, not per local authority: each query scans the
# whole mart, and at England 296 of them took longer than writing the packages); a batch's
# rows, about 3,600 activity-pressure rows a neighbourhood at England, bound the memory.
NEIGHBOURHOODS_PER_BATCH = 150
# DuckDB's own memory while it reads a batch (its default, 80% of RAM, held 2 GB more).
DUCKDB_MEMORY_LIMIT = "1GB"
EXCEL_MAX_ROWS = 1_048_576  # a worksheet's rows, its header row included


def _not_included(tables: dict[str, tuple[pl.DataFrame, str]]) -> dict[str, str]:
    """What a reader might look for and will not find, and why (README sheet, manifest)."""
    missing = {
        "referral mix": "referrals by primary need and by source per neighbourhood and "
        "month: nearly every figure is under 8, so it waits for a coarser grain",
    }
    if "activity_pressure" not in tables:
        missing["activity_pressure"] = (
            f"the published warehouse has no marts.{ACTIVITY_PRESSURE_PREFIX}* table yet"
        )
    for name in _too_long_for_a_sheet(tables):
        missing[f"{name} sheet"] = (
            f"{tables[name][0].height:,} rows, more than a worksheet holds "
            f"({EXCEL_MAX_ROWS - 1:,} under its header): the table is in {name}.csv and "
            f"{name}.parquet only"
        )
    return missing


def _too_long_for_a_sheet(tables: dict[str, tuple[pl.DataFrame, str]]) -> list[str]:
    return [name for name, (frame, _) in tables.items() if frame.height >= EXCEL_MAX_ROWS]


class ExtractError(Exception):
    """An extract could not be made (no published warehouse, unknown local authority)."""


@dataclass(frozen=True)
class Extract:
    la_code: str
    path: Path
    manifest: dict[str, Any]


def extracts_root(build_db: Path) -> Path:
    """``<warehouse dir>/../extracts``: data/extracts beside data/warehouse."""
    return Path(build_db).resolve().parent.parent / EXTRACTS_DIR


def _connect(build_db: Path) -> duckdb.DuckDBPyConnection:
    published = published_path(build_db)
    if not published.exists():
        raise ExtractError(f"{published} does not exist; run the build first")
    return duckdb.connect(
        str(published), read_only=True, config={"memory_limit": DUCKDB_MEMORY_LIMIT}
    )


def _frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(sql, params=params or []).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def local_authorities(build_db: Path) -> list[tuple[str, str]]:
    """(code, name) of every local authority with a neighbourhood in the published marts."""
    con = _connect(build_db)
    try:
        return [
            (code, name)
            for code, name in con.execute(
                "select lad_code, any_value(lad_name) from marts.dim_neighbourhoods "
                "group by lad_code order by lad_code"
            ).fetchall()
        ]
    finally:
        con.close()


def build_extracts(
    build_db: Path,
    la_codes: Sequence[str] | None = None,
    *,
    run_date: date | None = None,
    rule: DisclosureRule = DEFAULT_RULE,
) -> list[Extract]:
    """Write the package of every local authority (or of ``la_codes``)."""
    known = dict(local_authorities(build_db))
    chosen = list(la_codes) if la_codes else list(known)
    unknown = [code for code in chosen if code not in known]
    if unknown:
        raise ExtractError(
            f"no neighbourhoods for local authority {', '.join(unknown)} in the published "
            f"warehouse; known: {', '.join(known) or 'none'}"
        )
    run_date = run_date or datetime.now(UTC).date()
    run_dir = extracts_root(build_db) / run_date.isoformat()
    con = _connect(build_db)
    try:
        context = _Context.read(con, rule, run_date)
        extracts = []
        sizes = dict(
            con.execute(
                "select lad_code, count(*) from marts.dim_neighbourhoods group by lad_code"
            ).fetchall()
        )
        for batch in _batches(chosen, sizes, NEIGHBOURHOODS_PER_BATCH):
            rows = _read_batch(con, context, batch)
            for code in batch:
                extracts.append(_build_one(context, run_dir, code, known[code], rows[code]))
            log.info("extracts: %d of %d local authorities", len(extracts), len(chosen))
        return extracts
    finally:
        con.close()


def _batches(codes: Sequence[str], sizes: dict[str, int], limit: int) -> Iterator[list[str]]:
    """``codes`` in order, in runs whose sizes add up to at most ``limit`` (a code larger than
    ``limit`` alone)."""
    batch: list[str] = []
    total = 0
    for code in codes:
        if batch and total + sizes[code] > limit:
            yield batch
            batch, total = [], 0
        batch.append(code)
        total += sizes[code]
    if batch:
        yield batch


@dataclass(frozen=True)
class _Context:
    """What every package of one run shares."""

    rule: DisclosureRule
    run_date: date
    build_info: dict[str, Any]
    sources: list[dict[str, Any]]
    activity_pressure: str | None

    @classmethod
    def read(
        cls, con: duckdb.DuckDBPyConnection, rule: DisclosureRule, run_date: date
    ) -> "_Context":
        info = {
            key: json.loads(value)
            for key, value in con.execute("select * from meta.build_info").fetchall()
        }
        sources = (
            _frame(
                con,
                "select source, file_name, file_sha256, rows_loaded, loaded_at from audit.loads "
                "where status = 'loaded' order by loaded_at, source",
            )
            .with_columns(pl.col("loaded_at").cast(pl.String))
            .to_dicts()
        )
        pressure = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_name like ? order by table_name limit 1",
            [ACTIVITY_PRESSURE_PREFIX + "%"],
        ).fetchall()
        table = pressure[0][0] if pressure else None
        if table and "neighbourhood_code" not in {
            name for (name, *_) in con.execute(f"describe marts.{table}").fetchall()
        }:
            log.warning("marts.%s has no neighbourhood_code: left out of the extracts", table)
            table = None
        return cls(rule, run_date, info, sources, table)


def _build_one(
    context: _Context, run_dir: Path, la_code: str, la_name: str, rows: dict[str, pl.DataFrame]
) -> Extract:
    tables = _tables(context, la_code, la_name, rows)
    run_dir.mkdir(parents=True, exist_ok=True)
    partial = run_dir / f".{la_code}.partial.{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        for name, (frame, _) in tables.items():
            as_text(frame, context.rule).write_csv(partial / f"{name}.csv")
            frame.write_parquet(partial / f"{name}.parquet")
        workbook = partial / f"{la_code}_extract.xlsx"
        _write_workbook(workbook, tables, context, la_code, la_name)
        manifest = _manifest(partial, tables, context, la_code, la_name)
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        final = run_dir / la_code
        if final.exists():
            old = run_dir / f".{la_code}.old.{os.getpid()}"
            os.replace(final, old)
            os.replace(partial, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    log.debug("extract for %s %s: %s", la_code, la_name, final)
    return Extract(la_code, final, manifest)


def _read_batch(
    con: duckdb.DuckDBPyConnection, context: _Context, la_codes: Sequence[str]
) -> dict[str, dict[str, pl.DataFrame]]:
    """LA code -> mart name -> its rows (unprotected), in each table's published order."""
    wanted: dict[str, dict[str, pl.DataFrame]] = {code: {} for code in la_codes}
    queries = {
        "neighbourhoods": "select lad_code as _la, * from marts.dim_neighbourhoods "
        "where lad_code in (select unnest(?)) order by _la, neighbourhood_code",
        "need_capacity_monthly": f"""
            select dim.lad_code as _la, dim.neighbourhood_name, dim.lad_code, dim.lad_name, mart.*
            from marts.{NEED_MART} as mart
            inner join marts.dim_neighbourhoods as dim using (neighbourhood_code)
            where dim.lad_code in (select unnest(?))
            order by _la, mart.month_start_date, mart.neighbourhood_code
            """,
    }
    if context.activity_pressure:
        queries["activity_pressure"] = activity_pressure_sql(context.activity_pressure)
    for name, sql in queries.items():
        frame = _frame(con, sql, [list(la_codes)])
        parts = frame.partition_by("_la", as_dict=True, include_key=False, maintain_order=True)
        for code in la_codes:
            wanted[code][name] = parts.get((code,), frame.clear().drop("_la"))
    return wanted


def activity_pressure_sql(table: str, where: str = "true") -> str:
    """The activity pressure rows of the local authorities given as the one parameter, with
    ``_la``, sorted by every column of the mart in order after the local authority: the order
    the extracts protect them in (so the report, protecting some of the weeks the same way,
    hides the same cells)."""
    return f"""
        select dim.lad_code as _la, mart.*
        from marts.{table} as mart
        inner join marts.dim_neighbourhoods as dim using (neighbourhood_code)
        where dim.lad_code in (select unnest(?)) and ({where})
        order by all
        """


def _tables(
    context: _Context, la_code: str, la_name: str, rows: dict[str, pl.DataFrame]
) -> dict[str, tuple[pl.DataFrame, str]]:
    """Name -> (protected frame, source mart)."""
    rule = context.rule
    tables = {
        "neighbourhoods": (
            protect(rows["neighbourhoods"], "dim_neighbourhoods", rule),
            "dim_neighbourhoods",
        )
    }
    need = rows["need_capacity_monthly"]
    need = need.select(
        ["neighbourhood_code"]
        + [c for c in need.columns if c != "neighbourhood_code" and c not in LEFT_OUT[NEED_MART]]
    )
    tables["need_capacity_monthly"] = (
        with_la_totals(need, NEED_MART, la_code, la_name, rule),
        NEED_MART,
    )
    if "activity_pressure" in rows:
        assert context.activity_pressure
        tables["activity_pressure"] = (
            with_la_totals(
                rows["activity_pressure"], context.activity_pressure, la_code, la_name, rule
            ),
            context.activity_pressure,
        )
    return tables


def with_la_totals(
    frame: pl.DataFrame, table: str, la_code: str, la_name: str, rule: DisclosureRule
) -> pl.DataFrame:
    """Add the local authority total row for each period, then protect the whole table."""
    spec = table_spec(table, frame.columns)
    periods = [
        name
        for name in frame.columns
        if name in spec.columns and spec.columns[name].kind == Kind.PERIOD
    ]
    label = "neighbourhood_name" if "neighbourhood_name" in frame.columns else None
    totals = with_totals(
        frame,
        table,
        by=periods,
        key="neighbourhood_code",
        key_value=la_code,
        label=label,
        label_value=f"All neighbourhoods in {la_name}",
    )
    for name in ("lad_code", "lad_name"):
        if name in totals.columns:
            totals = totals.with_columns(
                pl.col(name).fill_null(la_code if name == "lad_code" else la_name)
            )
    return protect(totals, table, rule, by=periods)


def _period(tables: dict[str, tuple[pl.DataFrame, str]]) -> str:
    need = tables["need_capacity_monthly"][0]
    if need.is_empty():
        return "no months"
    first, last = need["month_start_date"].min(), need["month_start_date"].max()
    return f"months starting {first} to {last} (the last may be incomplete: see is_complete_month)"


def _write_workbook(
    path: Path,
    tables: dict[str, tuple[pl.DataFrame, str]],
    context: _Context,
    la_code: str,
    la_name: str,
) -> None:
    import xlsxwriter

    described = mart_column_descriptions()
    readme: list[tuple[str, str, str]] = [
        ("Extract", f"{la_name} ({la_code}): its neighbourhoods only", ""),
        ("Period", _period(tables), ""),
        ("Build date", str(context.build_info.get("published_at", "")), ""),
        ("Extract date", context.run_date.isoformat(), ""),
        ("Published version", str(context.build_info.get("version_id", "")), ""),
        ("Suppression rule", context.rule.describe(), ""),
        ("Total rows", "is_total = true: the sum over the local authority's neighbourhoods", ""),
        *(("Not included", f"{name}: {why}", "") for name, why in _not_included(tables).items()),
        ("", "", ""),
        ("Sheet", "Column", "Definition"),
    ]
    for name, (frame, mart) in tables.items():
        readme.append((name, "", f"from marts.{mart}"))
        for column in frame.columns:
            if column == TOTAL_FLAG:
                text = "True on the local authority total row (one per period)."
            else:
                text = described.get(mart, {}).get(column) or described.get(
                    "dim_neighbourhoods", {}
                ).get(column, "")
            readme.append((name, column, text))
    data_sheets: dict[str, str] = {}
    too_long = _too_long_for_a_sheet(tables)
    with xlsxwriter.Workbook(path) as book:
        _write_sheet(book.add_worksheet("README"), readme)
        book.worksheets()[0].set_column(0, 1, 28)
        book.worksheets()[0].set_column(2, 2, 120)
        for index, name in enumerate((name for name in tables if name not in too_long), 2):
            # left empty here: its rows are written below, a whole column at a time
            book.add_worksheet(name).freeze_panes(1, 0)
            data_sheets[f"xl/worksheets/sheet{index}.xml"] = name
    _fill_sheets(
        path,
        {part: _sheet_data(tables[name][0], context.rule) for part, name in data_sheets.items()},
    )


def _write_sheet(sheet: Any, rows: Sequence[Sequence[Any]]) -> None:
    for row, values in enumerate(rows):
        for col, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(row, col, value)
            elif isinstance(value, int | float):
                sheet.write_number(row, col, value)
            else:
                sheet.write_string(row, col, neutralised_text(str(value)))


# A data sheet's rows are made as XML by polars, a column at a time, instead of cell by cell
# through xlsxwriter (about 30 us a cell: 30 minutes for England's 296 packages). What a cell
# holds is unchanged: a number stays a number, a flag a boolean, a suppressed cell is the
# marker, anything else its text (inline strings, which xlsxwriter also writes).
_CONTROL = "[\x00-\x08\x0b\x0c\x0e-\x1f]"  # not allowed in XML 1.0


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _xml_text(value: pl.Expr) -> pl.Expr:
    return (
        value.str.replace_all(_CONTROL, "")
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def _string_cell(ref: pl.Expr, text: pl.Expr) -> pl.Expr:
    return pl.concat_str(
        [
            pl.lit('<c r="'),
            ref,
            pl.lit('" t="inlineStr"><is><t xml:space="preserve">'),
            _xml_text(text),
            pl.lit("</t></is></c>"),
        ]
    )


ROWS_PER_CHUNK = 50_000  # sheet rows made as XML at a time (about 60 MB at England)


@dataclass(frozen=True)
class _SheetXml:
    """A data sheet's ``<sheetData>``: the header row, then its rows made a chunk at a time
    (a whole sheet as one string took 2 GB for England's largest local authority)."""

    header: str
    chunks: Callable[[], Iterator[str]]
    dimension: str
    rows: int


def _sheet_data(frame: pl.DataFrame, rule: DisclosureRule) -> _SheetXml:
    """A table's sheet as ``_write_sheet`` would write it: a header row, then each cell its
    typed value, the marker where the flag says suppressed, empty where null."""
    names = [name for name in frame.columns if not name.endswith(SUPPRESSED_SUFFIX)]
    cells = []
    for index, name in enumerate(names):
        letter = _column_letter(index)
        ref = pl.concat_str([pl.lit(letter), pl.col("_row")])
        column, dtype = pl.col(name), frame.schema[name]
        if dtype == pl.Boolean:
            cell = pl.concat_str(
                [pl.lit('<c r="'), ref, pl.lit('" t="b"><v>'), column.cast(pl.Int8).cast(pl.String),
                 pl.lit("</v></c>")]
            )  # fmt: skip
        elif dtype.is_numeric():
            if dtype.is_float() and not frame[name].drop_nulls().is_finite().all():
                raise ExtractError(f"{name}: a value that is not a finite number (NaN or inf)")
            cell = pl.concat_str(
                [pl.lit('<c r="'), ref, pl.lit('"><v>'), column.cast(pl.String), pl.lit("</v></c>")]
            )
        else:
            cell = _string_cell(ref, neutralised(column.cast(pl.String)))
        flag = name + SUPPRESSED_SUFFIX
        if flag in frame.columns:
            marker = _string_cell(ref, pl.lit(rule.marker))
            cell = pl.when(pl.col(flag)).then(marker).otherwise(cell)
        cells.append(cell.fill_null(""))
    header = "".join(
        f'<c r="{_column_letter(index)}1" t="inlineStr"><is><t xml:space="preserve">'
        f"{_escape(name)}</t></is></c>"
        for index, name in enumerate(names)
    )
    xml_row = pl.concat_str([pl.lit('<row r="'), pl.col("_row"), pl.lit('">'), *cells,
                             pl.lit("</row>")])  # fmt: skip

    def chunks() -> Iterator[str]:
        if not names:
            return
        for start in range(0, frame.height, ROWS_PER_CHUNK):
            part = frame.slice(start, ROWS_PER_CHUNK)
            numbered = part.with_columns(
                pl.int_range(start + 2, start + 2 + part.height).cast(pl.String).alias("_row")
            )
            yield numbered.select(xml_row.str.join("")).item()

    last = f"{_column_letter(max(len(names) - 1, 0))}{frame.height + 1}"
    return _SheetXml(f'<row r="1">{header}</row>', chunks, f"A1:{last}", frame.height)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fill_sheets(path: Path, sheets: dict[str, _SheetXml]) -> None:
    """Put each part's rows into the workbook xlsxwriter wrote empty, streamed into the zip."""
    import re
    import zipfile

    filled = path.with_name(path.name + ".filled")
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(filled, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
    ):
        for item in source.infolist():
            data = source.read(item)
            # the fastest deflate: the sheets are large and repetitive (level 6 took 1 s each)
            item.compress_type, item._compresslevel = zipfile.ZIP_DEFLATED, 1  # type: ignore[attr-defined]
            sheet = sheets.get(item.filename)
            if sheet is None:
                target.writestr(item, data)
                continue
            xml = data.decode("utf-8")
            found = re.search(r"<sheetData\s*/>|<sheetData>.*?</sheetData>", xml, flags=re.S)
            if not found:
                raise ExtractError(f"{path}: no sheetData in {item.filename}")
            head = re.sub(
                r'<dimension ref="[^"]*"\s*/>',
                f'<dimension ref="{sheet.dimension}"/>',
                xml[: found.start()],
                count=1,
            )
            chunks = sheet.chunks()
            first = next(chunks, "").encode()
            # ZIP64 sizes only for a sheet that may pass zipfile's 2 GB (Excel is strict about
            # ZIP64 headers, so not by default), estimated from the first chunk with a margin;
            # an estimate too low stops with zipfile's error, never a broken workbook
            per_row = len(first) / max(min(sheet.rows, ROWS_PER_CHUNK), 1)
            large = per_row * sheet.rows * 1.25 > zipfile.ZIP64_LIMIT
            with target.open(item, "w", force_zip64=large) as out:
                out.write(f"{head}<sheetData>{sheet.header}".encode())
                out.write(first)
                for chunk in chunks:
                    out.write(chunk.encode())
                out.write(f"</sheetData>{xml[found.end() :]}".encode())
    os.replace(filled, path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _manifest(
    folder: Path,
    tables: dict[str, tuple[pl.DataFrame, str]],
    context: _Context,
    la_code: str,
    la_name: str,
) -> dict[str, Any]:
    rule = context.rule
    return {
        "la_code": la_code,
        "la_name": la_name,
        "run_date": context.run_date.isoformat(),
        "created_at": datetime.now(UTC).isoformat(),
        "period": _period(tables),
        "tables": {
            name: {"rows": frame.height, "source": f"marts.{mart}"}
            for name, (frame, mart) in tables.items()
        },
        "not_included": _not_included(tables),
        "files": {
            path.name: {"sha256": _sha256(path), "bytes": path.stat().st_size}
            for path in sorted(folder.iterdir())
            if path.is_file()
        },
        "disclosure": {
            "threshold": rule.threshold,
            "rounding_base": rule.rounding_base,
            "marker": rule.marker,
            "rule": rule.describe(),
        },
        "published_version": context.build_info,
        "source_files": context.sources,
        "versions": {
            "icb-insight": version("icb-insight"),
            "dbt-core": version("dbt-core"),
            "dbt-duckdb": version("dbt-duckdb"),
            "duckdb": version("duckdb"),
            "polars": version("polars"),
        },
    }
