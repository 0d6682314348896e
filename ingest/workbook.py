"""The parts of an XLSX workbook around the table that is read: limits, and the privacy screen.

A workbook is a zip of XML parts. The table the reader takes (one sheet, under its header) is
only part of what a person can type into one: other sheets (hidden ones too), rows above the
header, cell comments and threaded comments, document properties, sheet and defined names,
headers and footers, data-validation prompts, hyperlink texts, tables, pivot caches (which keep
a copy of their source data), charts and drawings (text boxes, cached series). ``Workbook``
checks the zip against ``ingest.limits`` before anything is decompressed, then streams every
XML part with a byte cap (never a part whole: expat, fed a block at a time, with no DTD) and
screens its texts with ``ingest.identifiable.screen_texts``, labelled by where they were
("sheet 2", "comments", "document properties"), never by a value.

Binary parts (images, embedded objects, macros, printer settings) cannot be screened: they are
never kept. The archive keeps the screened, parsed table instead of the workbook's bytes
(``ingest.archive``). The names of the people who wrote the file (document creator, last
modified by, comment authors) are not screened: they name the sender's staff, not the people
in the data, and are not kept either.
"""

import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from posixpath import normpath
from xml.parsers import expat

from ingest import limits
from ingest.errors import InputError
from ingest.identifiable import Finding, screen_texts

# Parts with no text a person types into the workbook (formatting, calculation order, package
# plumbing) or that name the workbook's authors.
_SKIPPED = re.compile(
    r"(?i)^(?:\[content_types\]\.xml|.*\.rels|xl/styles\.xml|xl/theme/.*|xl/calcchain\.xml"
    r"|xl/persons/.*|xl/printersettings/.*|xl/media/.*|customxml/itemprops\d*\.xml|.*\.vml)$"
)
_AUTHORSHIP = frozenset({"creator", "lastModifiedBy", "author", "authors"})
# Attributes that hold typed text (names, captions, prompts, cached values).
_TEXT_ATTRIBUTES = frozenset(
    {
        "name",
        "display",
        "tooltip",
        "prompt",
        "promptTitle",
        "error",
        "errorTitle",
        "v",
        "caption",
        "displayName",
        "description",
        "uniqueName",
        "title",
    }
)
_BATCH = 50_000  # texts screened at once
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")


class _TooLong(Exception):
    pass


@dataclass
class _Sheet:
    position: int  # 1-based, in the workbook's order (hidden sheets included)
    name: str
    member: str


@dataclass
class _PartScan:
    """What one XML part gave: texts to screen; for a sheet, its cells and first filled row."""

    texts: list[str] = field(default_factory=list)
    first_row: int | None = None


class Workbook:
    """An XLSX file checked against the limits; ``screen`` looks at every part but the table."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        limits.check_zip_directory(self.path)
        try:
            with zipfile.ZipFile(self.path) as archive:
                self.infos = archive.infolist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            raise self._corrupt() from None
        limits.check_zip_members(self.path, self.infos)
        self.members = {info.filename: info for info in self.infos}
        if "xl/workbook.xml" not in self.members:
            raise InputError("not an XLSX file (a zip archive without a workbook)", path=path)
        self.findings: list[Finding] = []
        self.sheets = self._sheets()

    def _corrupt(self) -> InputError:
        return InputError("not a readable XLSX file: it is truncated or corrupt", path=self.path)

    # --- streaming a part ---

    def _chunks(self, member: str) -> Iterable[bytes]:
        info = self.members[member]
        with self.path.open("rb") as handle:
            try:
                yield from limits.member_chunks(handle, info)
            except limits.ZipLies:
                raise InputError(
                    "not a readable XLSX file: a part does not match the archive's directory "
                    "(damaged, or its declared sizes are false)",
                    path=self.path,
                ) from None

    def verify(self, member: str) -> None:
        """Decompress a part with the cap without parsing it (its sizes are true)."""
        for _ in self._chunks(member):
            pass

    def _scan(
        self,
        member: str,
        *,
        collect: Callable[[str, list[str], dict[str, str]], bool],
        sheet: bool = False,
        on_text: Callable[[list[str]], None] | None = None,
    ) -> _PartScan:
        """Stream one XML part. ``collect(local_name, open_elements, attributes)`` says whether
        an element's own text is wanted; attribute texts in ``_TEXT_ATTRIBUTES`` are taken
        whenever the element's text is, and always outside a sheet's cells."""
        scan = _PartScan()
        stack: list[str] = []
        wanted: list[bool] = []
        buffer: list[str] = []
        size = [0]
        row = [0]

        def take(text: str) -> None:
            if text:
                scan.texts.append(text)
                if on_text is not None and len(scan.texts) >= _BATCH:
                    on_text(scan.texts)
                    scan.texts = []

        def start(name: str, attributes: dict[str, str]) -> None:
            local = name.rsplit(" ", 1)[-1]
            if sheet and local == "row":
                number = attributes.get("r")
                row[0] = int(number) if number and number.isdigit() else row[0] + 1
            want = collect(local, stack, attributes)
            stack.append(local)
            wanted.append(want)
            if want or (sheet and "sheetData" not in stack):
                for key, value in attributes.items():
                    if key.rsplit(" ", 1)[-1] in _TEXT_ATTRIBUTES:
                        take(value)
            if want:
                buffer.clear()
                size[0] = 0
            if sheet and local == "is" and scan.first_row is None:
                scan.first_row = row[0]

        def text(data: str) -> None:
            if sheet and scan.first_row is None and stack and stack[-1] == "v" and data:
                scan.first_row = row[0]
            if wanted and wanted[-1]:
                size[0] += len(data)
                if size[0] > limits.MAX_XLSX_TEXT_CHARS:
                    raise _TooLong
                buffer.append(data)

        def end(name: str) -> None:
            stack.pop()
            if wanted.pop():
                take("".join(buffer))
                buffer.clear()
                size[0] = 0
            del name

        parser = _parser(start, end, text)
        try:
            for chunk in self._chunks(member):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except _Dtd:
            raise InputError(
                "refused: a workbook part declares a DTD (Excel never writes one)", path=self.path
            ) from None
        except expat.ExpatError:
            raise InputError(
                f"not a readable XLSX file: part {self._position(member)} is not valid XML",
                path=self.path,
            ) from None
        except _TooLong:
            raise limits.refuse(
                self.path,
                f"part {self._position(member)} holds a text longer than a cell may",
                f"{limits.MAX_XLSX_TEXT_CHARS:,} characters",
            ) from None
        return scan

    def _position(self, member: str) -> int:
        return next(i for i, info in enumerate(self.infos, start=1) if info.filename == member)

    # --- the structure ---

    def _sheets(self) -> list[_Sheet]:
        targets: dict[str, str] = {}
        rels = "xl/_rels/workbook.xml.rels"
        if rels in self.members:
            relations: list[dict[str, str]] = []

            def relation(local: str, _stack: list[str], attributes: dict[str, str]) -> bool:
                if local == "Relationship":
                    relations.append(attributes)
                return False

            self._scan(rels, collect=relation)
            for attributes in relations:
                target = attributes.get("Target", "")
                member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                targets[attributes.get("Id", "")] = normpath(member)
        sheets: list[_Sheet] = []
        names: list[str] = []

        def sheet(local: str, _stack: list[str], attributes: dict[str, str]) -> bool:
            if local == "sheet":
                relation = next(
                    (v for k, v in attributes.items() if k.rsplit(" ", 1)[-1] == "id"), ""
                )
                name = attributes.get("name", "")
                sheets.append(_Sheet(len(sheets) + 1, name, targets.get(relation, "")))
                names.append(name)
            return local == "definedName"

        scan = self._scan("xl/workbook.xml", collect=sheet)
        self._screen([*names, *scan.texts], "the workbook's sheet and defined names")
        return sheets

    def first_rows(self) -> dict[str, int]:
        """Sheet name -> the row of its first filled cell (filled in by ``screen``)."""
        return dict(self._first_rows)

    # --- the screen ---

    def _screen(self, texts: list[str], where: str) -> None:
        if texts:
            self.findings.extend(screen_texts(texts, where))

    def screen_structure(self, read_member: str) -> None:
        """Stream every XML part (sizes verified, cells counted, texts screened) before the
        table is read, except the shared strings (``screen_shared_strings`` does those once
        the table's own values are known). Findings accumulate in ``findings``."""
        self._first_rows: dict[str, int] = {}
        by_member = {sheet.member: sheet for sheet in self.sheets}
        for info in self.infos:
            member = info.filename
            if member == "xl/workbook.xml" or info.is_dir():
                continue
            if member.casefold() == "xl/sharedstrings.xml":
                self.verify(member)  # the reader holds it whole: its size must be true
                continue
            xml = member.casefold().endswith((".xml", ".rels", ".vml"))
            if _SKIPPED.match(member) or not xml:
                if xml:
                    self.verify(member)
                continue
            sheet = by_member.get(member)
            if sheet is not None:
                self._screen_sheet(sheet, read=member == read_member)
            else:
                where = _part_label(member)
                scan = self._scan(member, collect=_any_text, on_text=self._batcher(where))
                self._screen(scan.texts, where)

    def _batcher(self, where: str) -> Callable[[list[str]], None]:
        return lambda texts: self._screen(texts, where)

    def _count_cells(self, sheet: _Sheet) -> None:
        """Refuse a sheet with more cells than ``limits.MAX_XLSX_CELLS``, counted in the bytes
        (fast: before the sheet is parsed; a tag cut by a block's end is missed, at most one
        a MiB)."""
        cells = 0
        for chunk in self._chunks(sheet.member):
            cells += len(_CELL.findall(chunk))
            if cells > limits.MAX_XLSX_CELLS:
                raise limits.refuse(
                    self.path,
                    f"sheet {sheet.position} has more cells than a sheet may",
                    f"{limits.MAX_XLSX_CELLS:,} cells",
                )

    def _screen_sheet(self, sheet: _Sheet, *, read: bool) -> None:
        where = f"sheet {sheet.position}"
        self._count_cells(sheet)
        cell_type = ["n"]

        def collect(local: str, stack: list[str], attributes: dict[str, str]) -> bool:
            if "sheetData" not in stack:
                return local != "sheetData"
            if local == "c":
                cell_type[0] = attributes.get("t", "n")
            if local == "f":
                return True  # a formula can hold typed text
            if read:
                return False  # the table's cells: the reader gives them to the screen
            if local == "v":
                return cell_type[0] != "s"  # a shared string's index is not text
            return local == "t"

        scan = self._scan(sheet.member, collect=collect, sheet=True, on_text=self._batcher(where))
        self._screen(scan.texts, where)
        if scan.first_row is not None:
            self._first_rows[sheet.name] = scan.first_row

    def screen_shared_strings(self, table_values: set[str]) -> None:
        """Screen the shared strings the read table does not hold (its own values go through
        the contract's screen, which knows which columns are free text)."""
        member = next(
            (name for name in self.members if name.casefold() == "xl/sharedstrings.xml"), None
        )
        if member is None:
            return
        where = "the workbook's other text (shared strings)"

        def screen(texts: list[str]) -> None:
            self._screen([text for text in texts if text not in table_values], where)

        scan = _SharedStringScan(screen)
        parser = _parser(scan.start, scan.end, scan.text)
        try:
            for chunk in self._chunks(member):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except (expat.ExpatError, _Dtd):
            raise InputError(
                "not a readable XLSX file: the shared strings are not valid XML", path=self.path
            ) from None
        except _TooLong:
            raise limits.refuse(
                self.path,
                "a shared string is longer than a cell may hold",
                f"{limits.MAX_XLSX_TEXT_CHARS:,} characters",
            ) from None
        screen(scan.strings)

    def refuse_if_found(self) -> None:
        from ingest.identifiable import IdentifiableDataError

        if self.findings:
            raise IdentifiableDataError(_merged(self.findings), path=self.path)


class _Dtd(Exception):
    pass


class _SharedStringScan:
    """Each ``<si>``'s text (its ``<t>`` runs joined; phonetic runs left out), handed on in
    batches."""

    def __init__(self, on_batch: Callable[[list[str]], None]) -> None:
        self.on_batch = on_batch
        self.strings: list[str] = []
        self.stack: list[str] = []
        self.pieces: list[str] = []
        self.size = 0
        self.in_text = False

    def start(self, name: str, _attributes: dict[str, str]) -> None:
        local = name.rsplit(" ", 1)[-1]
        if local == "si":
            self.pieces, self.size = [], 0
        self.in_text = local == "t" and "rPh" not in self.stack
        self.stack.append(local)

    def text(self, data: str) -> None:
        if self.in_text:
            self.size += len(data)
            if self.size > limits.MAX_XLSX_TEXT_CHARS:
                raise _TooLong
            self.pieces.append(data)

    def end(self, _name: str) -> None:
        local = self.stack.pop()
        self.in_text = False
        if local == "si":
            self.strings.append("".join(self.pieces))
            self.pieces = []
            if len(self.strings) >= _BATCH:
                self.on_batch(self.strings)
                self.strings = []


def _parser(
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None],
    text: Callable[[str], None],
) -> "expat.XMLParserType":
    """An expat parser with namespaces split off, that refuses any DTD (so no entities)."""

    def no_dtd(*_: object) -> None:
        raise _Dtd

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    return parser


def _any_text(local: str, _stack: list[str], _attributes: dict[str, str]) -> bool:
    return local not in _AUTHORSHIP


def _part_label(member: str) -> str:
    """Where a text was, for a message: the kind of part, never its name in the archive (a
    part's file name is typed by whoever made the file)."""
    folded = member.casefold()
    kinds = (
        ("docprops/", "document properties"),
        ("xl/comments", "comments"),
        ("xl/threadedcomments", "comments"),
        ("xl/drawings/", "drawings and notes"),
        ("xl/charts/", "charts"),
        ("xl/tables/", "tables"),
        ("xl/pivot", "pivot tables"),
        ("xl/externallinks/", "external links"),
        ("customxml/", "custom XML"),
    )
    for prefix, kind in kinds:
        if folded.startswith(prefix):
            return kind
    return "other workbook parts"


def _merged(findings: list[Finding]) -> list[Finding]:
    """One finding per (where, kind), counts added (texts are screened in batches)."""
    counts: dict[tuple[str, str], int] = {}
    for finding in findings:
        key = (finding.column, finding.kind)
        counts[key] = counts.get(key, 0) + finding.count
    return [Finding(column, kind, count) for (column, kind), count in counts.items()]
