"""360Giving publications in their flat forms: the CSV and the spreadsheet (XLSX or ODS).

A funder publishes the same grants as a JSON package, a CSV or a spreadsheet whose column
titles are the standard's ("Identifier", "Recipient Org:Identifier", "Planned Dates:Duration
(months)", "Beneficiary Location:Geographic Code"...), one sheet or several (a sheet of
beneficiary locations linked to the grants by "Identifier", say). The standard's own tool,
flattentool, turns a flat form back into the JSON package, with the 360Giving schema kept in
``ingest/contracts/schemas/360giving`` (read offline), and the JSON goes down the one path
every package takes (``ingest.read``, then ``ingest.contracts.giving360.GRANT_PATHS``), so
there is one mapping.

The privacy screen sees every cell of every sheet before flattentool reads any:

* the columns flattentool turns into contract fields are screened with their contract column
  afterwards (``ingest.identifiable``, knowing which are identifiers or names of
  organisations);
* organisations' addresses ("Recipient Org:Postal Code", "Funding Org:Street Address"...) are
  public facts about organisations: read past, neither screened nor kept;
* every other cell, whatever its header, is screened as the text of an open publication
  about organisations (``Contract.published_openly``: NHS numbers and dates of birth refuse
  the file; names in it are of organisations, their staff and places), and a header naming
  personal data ("Date of Birth", "NHS Number") refuses the file, as does a grant to an
  individual ("Recipient Ind:..." becomes recipientIndividual).

An XLSX workbook's other parts (comments, properties, names...) are screened by
``ingest.workbook``. An ODS spreadsheet is a zip of XML parts too (``OdsSpreadsheet``): its
sheets' cells are read, and everything else a person types into one (comments, shapes, sheet
and range names, links, headers and footers, document properties) is screened; a spreadsheet
holding images, embedded objects or macros, which cannot be screened, is refused, as is an
encrypted one. (The thumbnail LibreOffice saves is a picture of the first sheet's cells,
which are screened; settings.xml holds the program's view settings. Neither is read or kept.)
"""

import csv
import json
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.parsers import expat

import polars as pl

from ingest import limits
from ingest.contracts.giving360 import is_contract_leaf, is_organisation_detail
from ingest.contracts.model import Contract
from ingest.errors import InputError

# The 360Giving Data Standard's grant schema, 1.4.3 (github.com/ThreeSixtyGiving/standard,
# schema/360-giving-schema.json; CC BY 4.0, 360Giving), kept here so flattentool reads it
# offline.
SCHEMA = Path(__file__).parent / "contracts" / "schemas" / "360giving" / "360-giving-schema.json"
ROW_NUMBER = "_row_number"
# Marks a grant id made unique for flattentool (which merges the rows of one id); removed after.
_SEPARATOR = "\x1f"


def is_flat_layout(headers: list[str]) -> bool:
    """Whether a table's headers are the 360Giving spreadsheet's column titles (a title of a
    nested field holds ':'), so that flattentool must unflatten it."""
    return any(":" in header for header in headers)


@dataclass
class Table:
    """One sheet (or the CSV): its cells as text under their headers, with the spreadsheet row
    of each (``_row_number``)."""

    position: int
    frame: pl.DataFrame

    @property
    def headers(self) -> list[str]:
        return [name for name in self.frame.columns if name != ROW_NUMBER]


# --- which column is which --------------------------------------------------------------------


@lru_cache(maxsize=1)
def _title_lookup() -> Any:
    from flattentool.schema import SchemaParser

    parser = SchemaParser(schema_filename=str(SCHEMA), root_id="")
    parser.parse()
    return parser.title_lookup


def title_path(title: str) -> tuple:
    """The JSON path flattentool gives a column title, in the shape ``ingest.read`` walks a
    grant (a list's items by index): "Recipient Org:Postal Code" is
    ``("recipientOrganization", 0, "postalCode")``."""
    try:
        found = _title_lookup().lookup_header(title) or title
    except Exception:  # flattentool's lookup raises on titles it cannot parse
        found = title
    parts: list[Any] = [int(part) if part.isdigit() else part for part in found.split("/")]
    if len(parts) >= 2 and not isinstance(parts[1], int):
        parts.insert(1, 0)
    return tuple(parts)


def column_kind(title: str) -> str:
    """ "contract" (screened with its contract column once read), "organisation" (an address:
    read past) or "other"."""
    path = title_path(title)
    if is_organisation_detail(path):
        return "organisation"
    if is_contract_leaf(path):
        return "contract"
    return "other"


def screen_tables(tables: list[Table], path: Path) -> None:
    """Refuse the file (``IdentifiableDataError``) for anything identifiable in a cell or
    header of any sheet, as the module notes say."""
    from ingest.identifiable import (
        Finding,
        IdentifiableDataError,
        identifiable_header,
        merge_findings,
        screen_texts,
    )

    findings: list[Finding] = []
    for table in tables:
        where = f"sheet {table.position}"
        texts: list[str] = []
        references: list[str] = []
        for position, title in enumerate(table.headers, start=1):
            kind = column_kind(title)
            if kind in ("contract", "organisation"):
                continue
            header_kind = identifiable_header(title)
            if header_kind is not None:
                findings.append(Finding(f"{where}, column {position}", header_kind, 0))
            values = table.frame.get_column(title).drop_nulls()
            if is_reference_numbers(values):
                references += values.to_list()
            else:
                texts += values.to_list()
        findings += screen_texts(texts, f"{where}, columns outside the contract", role="public")
        findings += screen_texts(references, f"{where}, reference numbers", role="reference")
    if findings:
        raise IdentifiableDataError(merge_findings(findings), path=path)


def is_reference_numbers(values: pl.Series) -> bool:
    """A column of a funder's own reference numbers (Sport England's "URN"): every value a
    number of digits, and most of its ten-digit ones failing the NHS number check digit, as
    numbers not made to pass it do (about 10 in 11); NHS numbers pass it every time."""
    from ingest.identifiable import nhs_number_is_valid

    text = values.cast(pl.String).str.strip_chars()
    if text.len() < 20 or not text.str.contains(r"^\d{1,15}$").all():
        return False
    ten = text.filter(text.str.len_chars() == 10)
    if ten.len() < 20:
        return False
    valid = ten.to_frame("digits").select(nhs_number_is_valid(pl.col("digits"))).to_series()
    return bool(valid.mean() < 0.5)  # type: ignore[operator]


# --- unflattening -----------------------------------------------------------------------------


def unflatten(tables: list[Table], path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """The grants flattentool makes of the tables, with the spreadsheet row each came from
    (in the first sheet holding grant identifiers; a grant only another sheet names comes
    after them, numbered on from the last row)."""
    import flattentool

    main = next((t for t in tables if "id" in {title_path(h)[0] for h in t.headers}), None)
    rows_by_id: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="icb-360giving-") as folder:
        for table in tables:
            frame = table.frame
            if table is main:
                frame, rows_by_id = _unique_ids(frame)
            _write_sheet(frame.drop(ROW_NUMBER), Path(folder) / f"s{table.position:04d}.csv")
        output = Path(folder) / "package.json"
        try:
            with warnings.catch_warnings():  # its warnings quote cells: never passed on
                warnings.simplefilter("ignore")
                flattentool.unflatten(
                    folder,
                    input_format="csv",
                    output_name=str(output),
                    root_list_path="grants",
                    root_id="",
                    id_name="id",
                    convert_titles=True,
                    schema=str(SCHEMA),
                )
            grants = json.loads(output.read_text(encoding="utf-8")).get("grants", [])
        except Exception as error:  # flattentool raises many kinds; none is passed on
            raise InputError(
                "the spreadsheet could not be turned into 360Giving JSON by flattentool "
                f"({type(error).__name__}); check its column titles against the 360Giving "
                "template",
                path=path,
            ) from None
    last = max(rows_by_id.values(), default=1)
    numbered = []
    for grant in grants:
        key = str(grant.get("id", ""))
        row = rows_by_id.get(key)
        if row is None:
            last += 1
            row = last
        if _SEPARATOR in key:
            original = key.split(_SEPARATOR, 1)[0]
            if original:
                grant["id"] = original
            else:
                del grant["id"]
        numbered.append((row, grant))
    numbered.sort(key=lambda pair: pair[0])
    return [grant for _, grant in numbered], [row for row, _ in numbered]


def _unique_ids(frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
    """The main sheet with every row's identifier unique (a blank or repeated one marked with
    its row), so that flattentool keeps each row a grant: a repeated id is then quarantined
    as a duplicate key like any other, rather than merged."""
    column = next(h for h in frame.columns if h != ROW_NUMBER and title_path(h)[0] == "id")
    ids, rows = frame.get_column(column).to_list(), frame.get_column(ROW_NUMBER).to_list()
    seen: set[str] = set()
    unique, by_id = [], {}
    for value, row in zip(ids, rows, strict=True):
        text = (value or "").strip()
        if not text or text in seen:
            text = f"{text}{_SEPARATOR}{row}"
        seen.add(text)
        unique.append(text)
        by_id[text] = row
    return frame.with_columns(pl.Series(column, unique, dtype=pl.String)), by_id


def _write_sheet(frame: pl.DataFrame, target: Path) -> None:
    """A table as flattentool's CSV input: UTF-8, every cell as text; unnamed columns (which
    flattentool would read past: screened already) left out."""
    named = [name for name in frame.columns if not name.startswith("(unnamed column ")]
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(named)
        for row in frame.select(named).iter_rows():
            writer.writerow(["" if cell is None else cell for cell in row])


# --- spreadsheets -----------------------------------------------------------------------------


def read_sheets(contract: Contract, path: Path, file_format: str) -> list[Table]:
    """Every sheet of an XLSX or ODS file, after its other parts passed the screen."""
    from ingest.read import _drop_empty_rows, _headers

    if file_format == "xlsx":
        from ingest.workbook import Workbook

        book = Workbook(path)
        book.screen_structure({sheet.member for sheet in book.sheets})
        book.refuse_if_found()
        first_rows = book.first_rows()
        sheet_count = len(book.sheets)
    else:
        ods = OdsSpreadsheet(path)
        ods.screen()
        ods.refuse_if_found()
        first_rows = {}
        sheet_count = ods.sheet_count

    import fastexcel

    tables = []
    try:
        reader = fastexcel.read_excel(str(path))
        names = list(reader.sheet_names)
    except Exception:
        raise InputError("the spreadsheet could not be read (corrupt?)", path=path) from None
    if len(names) != sheet_count:  # every sheet's cells are screened as the reader reads them
        raise InputError(
            "refused: the spreadsheet has a sheet the reader cannot read (so not screen)",
            path=path,
        )
    for position, name in enumerate(names, start=1):
        try:
            frame = reader.load_sheet(name, header_row=None, dtypes="string").to_polars()
        except Exception:
            raise InputError(f"sheet {position} could not be read (corrupt?)", path=path) from None
        if frame.height == 0 or frame.width == 0:
            continue
        frame = frame.select(pl.all().cast(pl.String))
        header_row = first_rows.get(name, 1)
        names_map = _headers(frame.row(0), frame.columns, path)
        body = frame.slice(1).rename(names_map)
        body = body.select(
            pl.int_range(header_row + 1, header_row + 1 + body.height, dtype=pl.Int64).alias(
                ROW_NUMBER
            ),
            *names_map.values(),
        )
        tables.append(Table(position, _drop_empty_rows(body)))
    if not tables:
        raise InputError("the spreadsheet has no filled sheet", path=path)
    return tables


# --- ODS --------------------------------------------------------------------------------------

_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
# Parts read past: package plumbing, and the program's view settings and thumbnail.
_ODS_PLUMBING = frozenset(
    {
        "mimetype",
        "META-INF/manifest.xml",
        "manifest.rdf",
        "settings.xml",
        "Thumbnails/thumbnail.png",
    }
)
_ODS_SCREENED = frozenset({"content.xml", "styles.xml", "meta.xml"})
# Attributes that hold typed text: a cell's text value, sheet and range names, link targets,
# a shape's title.
_ODS_TEXT_ATTRIBUTES = frozenset({"string-value", "name", "href", "title", "description"})
# Elements naming the document's authors (not the people in the data; not kept).
_ODS_AUTHORSHIP = frozenset({"creator", "initial-creator", "generator", "printed-by"})


class OdsSpreadsheet:
    """An ODS file checked against the workbook limits; ``screen`` looks at every part but
    the cells of its sheets (read and screened as tables)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with self.path.open("rb") as handle:
            head = handle.read(4)
        if head != b"PK\x03\x04":
            raise InputError("not an ODS file (not a zip archive)", path=self.path)
        from ingest.workbook import zip_parts

        self.infos = zip_parts(self.path, "ODS")
        self.members = {info.filename: info for info in self.infos}
        if "content.xml" not in self.members:
            raise InputError("not an ODS file (a zip archive without content)", path=self.path)
        self.findings: list = []
        self.sheet_count = 0

    def _bytes(self, member: str) -> bytes:
        with self.path.open("rb") as handle:
            try:
                return b"".join(limits.member_chunks(handle, self.members[member]))
            except limits.ZipLies:
                raise InputError(
                    "not a readable ODS file: a part does not match the archive's directory",
                    path=self.path,
                ) from None

    def screen(self) -> None:
        from ingest.identifiable import screen_texts

        if "mimetype" not in self.members or self._bytes("mimetype").strip() != _ODS_MIME:
            raise InputError("not an ODS spreadsheet (its mimetype is not one)", path=self.path)
        for info in self.infos:
            member = info.filename
            if info.is_dir() or member in _ODS_PLUMBING:
                continue
            configuration = member.startswith("Configurations2/") and member.endswith(".xml")
            if member not in _ODS_SCREENED and not configuration:
                raise InputError(
                    "refused: the spreadsheet holds images, embedded objects or macros, which "
                    "cannot be screened; save it without them (or as CSV) and send it again",
                    path=self.path,
                )
            texts = self._texts(member)
            where = {"meta.xml": "document properties", "styles.xml": "headers and footers"}
            self.findings += screen_texts(texts, where.get(member, "comments, names and shapes"))

    def _texts(self, member: str) -> list[str]:
        """The typed texts of a part, but a sheet's cells in content.xml (a comment inside a
        cell is not the cell's text: it is taken)."""
        texts: list[str] = []
        stack: list[str] = []
        pieces: list[str] = []

        def in_cell() -> bool:
            inside = False
            for name in stack:
                if name in (_TABLE + "table-cell", _TABLE + "covered-table-cell"):
                    inside = True
                elif name == _OFFICE + "annotation":
                    inside = False
            return inside

        def flush() -> None:
            text = "".join(pieces).strip()
            if text:
                texts.append(text)
            pieces.clear()

        def start(name: str, attributes: dict[str, str]) -> None:
            flush()
            stack.append(name)
            if name == _TABLE + "table":
                self.sheet_count += 1
            local = name.rsplit(" ", 1)[-1]
            if local in _ODS_AUTHORSHIP:
                return
            for key, value in attributes.items():
                if key.rsplit(" ", 1)[-1] in _ODS_TEXT_ATTRIBUTES:
                    if key.rsplit(" ", 1)[-1] == "string-value" and in_cell():
                        continue  # the cell's own text: read with the sheet
                    texts.append(value)

        def end(_name: str) -> None:
            local = stack.pop().rsplit(" ", 1)[-1] if stack else ""
            if local in _ODS_AUTHORSHIP:
                pieces.clear()
            flush()

        def text(data: str) -> None:
            if in_cell() or any(n.rsplit(" ", 1)[-1] in _ODS_AUTHORSHIP for n in stack[-1:]):
                return
            pieces.append(data)

        parser = expat.ParserCreate(namespace_separator=" ")
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.buffer_text = True

        def no_dtd(*_: object) -> None:
            raise InputError("refused: a part of the spreadsheet declares a DTD", path=self.path)

        parser.StartDoctypeDeclHandler = no_dtd
        parser.EntityDeclHandler = no_dtd
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text
        try:
            parser.Parse(self._bytes(member), True)
        except expat.ExpatError:
            raise InputError(
                "not a readable ODS file: a part is not valid XML", path=self.path
            ) from None
        return texts

    def refuse_if_found(self) -> None:
        from ingest.identifiable import IdentifiableDataError, merge_findings

        if self.findings:
            raise IdentifiableDataError(merge_findings(self.findings), path=self.path)


# --- one entry point --------------------------------------------------------------------------


def read_flat_grants(
    contract: Contract,
    path: Path,
    tables: list[Table],
    to_rows: Callable[[Contract, Any, Path], list[dict[str, Any]]],
) -> tuple[list[dict[str, Any]], list[int]]:
    """The screened tables unflattened and mapped to contract rows (``to_rows``: the JSON
    package's mapping), with each row's spreadsheet row."""
    screen_tables(tables, path)
    grants, rows = unflatten(tables, path)
    return to_rows(contract, grants, path), rows
