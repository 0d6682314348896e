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
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from posixpath import normpath
from xml.parsers import expat

from ingest import limits
from ingest.errors import InputError
from ingest.identifiable import Finding, merge_findings, screen_texts

# Parts with no text a person types into the workbook (formatting, calculation order, package
# plumbing) or that name the workbook's authors.
_SKIPPED = re.compile(
    r"(?i)^(?:\[content_types\]\.xml|.*\.rels|xl/styles\.xml|xl/theme/.*|xl/calcchain\.xml"
    r"|xl/persons/.*|xl/printersettings/.*|xl/media/.*|customxml/itemprops\d*\.xml|.*\.vml)$"
)
_AUTHORSHIP = frozenset({"creator", "lastModifiedBy", "author", "authors", "Manager"})
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


class _Dtd(Exception):
    pass


@dataclass
class _Sheet:
    position: int  # 1-based, in the workbook's order (hidden sheets included)
    name: str
    member: str


class _Texts:
    """Texts met while parsing, handed to ``on_batch`` every ``_BATCH`` and at the end."""

    def __init__(self, on_batch: Callable[[list[str]], None]) -> None:
        self.on_batch = on_batch
        self.texts: list[str] = []
        self.pieces: list[str] = []
        self.size = 0

    def add(self, data: str) -> None:
        self.size += len(data)
        if self.size > limits.MAX_XLSX_TEXT_CHARS:
            raise _TooLong
        self.pieces.append(data)

    def flush(self) -> None:
        """The text gathered since the last flush is one text."""
        if self.pieces:
            self.take("".join(self.pieces))
            self.pieces = []
        self.size = 0

    def take(self, text: str) -> None:
        if text:
            self.texts.append(text)
            if len(self.texts) >= _BATCH:
                self.done()

    def done(self) -> None:
        if self.texts:
            self.on_batch(self.texts)
            self.texts = []


class _PartScan(_Texts):
    """Any XML part: every element's own text and its attributes in ``_TEXT_ATTRIBUTES``,
    except the authorship elements. ``on_element(local, attributes)`` sees every element."""

    def __init__(
        self,
        on_batch: Callable[[list[str]], None],
        on_element: Callable[[str, dict[str, str]], None] | None = None,
    ) -> None:
        super().__init__(on_batch)
        self.on_element = on_element
        self.skipping = 0  # inside an authorship element

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.flush()
        local = name.rsplit(" ", 1)[-1]
        if self.on_element is not None:
            self.on_element(local, attributes)
        if local in _AUTHORSHIP or self.skipping:
            self.skipping += 1
            return
        for key, value in attributes.items():
            if key.rsplit(" ", 1)[-1] in _TEXT_ATTRIBUTES:
                self.take(value)

    def end(self, _name: str) -> None:
        if self.skipping:
            self.skipping -= 1
            self.pieces, self.size = [], 0
        self.flush()

    def text(self, data: str) -> None:
        if not self.skipping:
            self.add(data)


class _SheetScan(_PartScan):
    """A worksheet: outside its cells, everything (page headers and footers, validation
    prompts, hyperlink texts...); in its cells, formulas, and for a sheet that is not read its
    values too (but not a shared string's index). Also the row of the first filled cell, and
    for the sheet read, how many of its cells show each shared string (``shared``).
    The cells are most of a sheet: they take the fast path."""

    def __init__(self, on_batch: Callable[[list[str]], None], *, read: bool) -> None:
        super().__init__(on_batch)
        self.read = read
        self.shared = array("I")  # shared string index -> cells of the read sheet showing it
        self.in_data = False
        self.capture = False
        self.counting = False
        self.in_value = False
        self.cell_type: str | None = None
        self.row = 0
        self.first_row: int | None = None

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if not self.in_data:
            if name.endswith(" sheetData"):
                self.flush()
                self.in_data = True
            else:
                super().start(name, attributes)
            return
        if name == _C:
            self.cell_type = attributes.get("t")
        elif name == _V:
            self.in_value = True
            if self.cell_type == "s":
                self.counting = self.read  # a shared string's index
            else:
                self.capture = not self.read
        elif name == _ROW:
            number = attributes.get("r")
            self.row = int(number) if number and number.isdigit() else self.row + 1
        elif name == _F:
            self.capture = True
        elif name == _T:
            self.capture = not self.read
        elif name == _IS:
            if self.first_row is None:
                self.first_row = self.row
        else:  # another namespace (strict OOXML) or element: the slow, careful path
            local = name.rsplit(" ", 1)[-1]
            self.start(_MAIN + local, attributes) if _MAIN + local != name else None
            return
        self.pieces, self.size = [], 0

    def end(self, name: str) -> None:
        if not self.in_data:
            super().end(name)
            return
        if self.capture:
            self.flush()
            self.capture = False
        elif self.counting:
            text = "".join(self.pieces)
            index = int(text) if text.isdigit() else -1
            if not 0 <= index < _MAX_SHARED_INDEX:
                raise _BadIndex
            if index >= len(self.shared):
                missing = index + 1 - len(self.shared)
                self.shared.frombytes(bytes(missing * self.shared.itemsize))
            self.shared[index] += 1
            self.pieces, self.size, self.counting = [], 0, False
        self.in_value = False
        if name.endswith(" sheetData"):
            self.in_data = False

    def text(self, data: str) -> None:
        if not self.in_data:
            super().text(data)
            return
        if self.in_value and self.first_row is None and data:
            self.first_row = self.row
        if self.capture or self.counting:
            self.add(data)


class _TableTooLarge(Exception):
    pass


class _BadIndex(Exception):
    pass


# No shared strings part within its size limit holds more strings than this ("<si/>" each).
_MAX_SHARED_INDEX = limits.MAX_XLSX_SHARED_STRINGS_BYTES // 5


class _SharedStringScan(_Texts):
    """Each ``<si>``'s text (its ``<t>`` runs joined; phonetic runs left out). The strings
    the read sheet shows (``used``: index -> cells) are not handed on (the table's screen
    sees them) but counted: the reader copies a string into every cell that shows it."""

    def __init__(self, on_batch: Callable[[list[str]], None], used: "array[int]") -> None:
        super().__init__(on_batch)
        self.used = used
        self.index = 0
        self.table_chars = 0
        self.in_text = False
        self.phonetic = 0

    def start(self, name: str, _attributes: dict[str, str]) -> None:
        local = name.rsplit(" ", 1)[-1]
        if local == "si":
            self.pieces, self.size = [], 0
        elif local == "rPh":
            self.phonetic += 1
        self.in_text = local == "t" and not self.phonetic

    def end(self, name: str) -> None:
        local = name.rsplit(" ", 1)[-1]
        self.in_text = False
        if local == "rPh":
            self.phonetic -= 1
        elif local == "si":
            text = "".join(self.pieces)
            cells = self.used[self.index] if self.index < len(self.used) else 0
            if cells:
                self.table_chars += len(text) * cells
                if self.table_chars > limits.MAX_XLSX_TABLE_CHARS:
                    raise _TableTooLarge
            else:
                self.take(text)
            self.index += 1
            self.pieces, self.size = [], 0

    def text(self, data: str) -> None:
        if self.in_text:
            self.add(data)


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main "
_C, _V, _ROW, _F, _T, _IS = (_MAIN + tag for tag in ("c", "v", "row", "f", "t", "is"))


class Workbook:
    """An XLSX file checked against the limits; ``screen_structure`` looks at every part but
    the table that is read."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.infos = zip_parts(self.path, "XLSX")
        self.members = {info.filename: info for info in self.infos}
        if "xl/workbook.xml" not in self.members:
            raise InputError("not an XLSX file (a zip archive without a workbook)", path=path)
        self.findings: list[Finding] = []
        self._first_rows: dict[str, int] = {}
        # the shared strings part: named by the workbook's relationships (the reader looks
        # there), else by its usual name
        self.shared_strings = next(
            (name for name in self.members if name.casefold() == "xl/sharedstrings.xml"), ""
        )
        self.sheets = self._sheets()
        shared = self.members.get(self.shared_strings)
        if shared is not None and shared.file_size > limits.MAX_XLSX_SHARED_STRINGS_BYTES:
            raise limits.refuse(
                self.path,
                f"the shared strings uncompressed are {limits.size_of(shared.file_size)}",
                limits.MAX_XLSX_SHARED_STRINGS_BYTES,
            )

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

    def _parse(self, member: str, handler: "_Texts") -> None:
        """Stream ``member`` through an expat parser (no DTD, so no entities) into
        ``handler``, then hand on its last texts."""
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.buffer_text = True  # one call per run of text, not per block

        def no_dtd(*_: object) -> None:
            raise _Dtd

        parser.StartDoctypeDeclHandler = no_dtd
        parser.EntityDeclHandler = no_dtd
        parser.StartElementHandler = handler.start  # type: ignore[attr-defined]
        parser.EndElementHandler = handler.end  # type: ignore[attr-defined]
        parser.CharacterDataHandler = handler.text  # type: ignore[attr-defined]
        part = f"part {self._position(member)}"
        try:
            for chunk in self._chunks(member):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except _BadIndex:
            raise InputError(
                f"not a readable XLSX file: {part} refers to a shared string that cannot exist",
                path=self.path,
            ) from None
        except _Dtd:
            raise InputError(
                f"refused: {part} of the workbook declares a DTD (Excel never writes one)",
                path=self.path,
            ) from None
        except expat.ExpatError:
            raise InputError(
                f"not a readable XLSX file: {part} is not valid XML", path=self.path
            ) from None
        except _TooLong:
            raise limits.refuse(
                self.path,
                f"{part} of the workbook holds a text longer than a cell may",
                f"{limits.MAX_XLSX_TEXT_CHARS:,} characters",
            ) from None
        handler.flush()
        handler.done()

    def _position(self, member: str) -> int:
        return next(i for i, info in enumerate(self.infos, start=1) if info.filename == member)

    def _screener(self, where: str) -> Callable[[list[str]], None]:
        def screen(texts: list[str]) -> None:
            self.findings.extend(screen_texts(texts, where))

        return screen

    # --- the structure ---

    def _sheets(self) -> list[_Sheet]:
        targets: dict[str, str] = {}
        rels = "xl/_rels/workbook.xml.rels"
        if rels in self.members:

            def relation(local: str, attributes: dict[str, str]) -> None:
                if local == "Relationship":
                    target = attributes.get("Target", "")
                    member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                    targets[attributes.get("Id", "")] = normpath(member)
                    if attributes.get("Type", "").endswith("/sharedStrings"):
                        self.shared_strings = normpath(member)

            self._parse(rels, _PartScan(lambda texts: None, relation))
        sheets: list[_Sheet] = []

        def sheet(local: str, attributes: dict[str, str]) -> None:
            if local == "sheet":
                relation = next(
                    (v for k, v in attributes.items() if k.rsplit(" ", 1)[-1] == "id"), ""
                )
                name = attributes.get("name", "")
                sheets.append(_Sheet(len(sheets) + 1, name, targets.get(relation, "")))

        where = "the workbook's sheet and defined names"
        self._parse("xl/workbook.xml", _PartScan(self._screener(where), sheet))
        return sheets

    def first_rows(self) -> dict[str, int]:
        """Sheet name -> the row of its first filled cell (known after ``screen_structure``)."""
        return dict(self._first_rows)

    # --- the screen ---

    def screen_structure(self, read_member: str | set[str]) -> None:
        """Stream every XML part (sizes verified, cells counted, texts screened) before the
        table is read; the shared strings last, once the read sheet's are known. Findings
        accumulate in ``findings`` (``refuse_if_found``). ``read_member``: the sheet read, or
        the sheets read (whose cells the caller screens)."""
        by_member = {sheet.member: sheet for sheet in self.sheets}
        read = {read_member} if isinstance(read_member, str) else set(read_member)
        used = array("I")
        for info in self.infos:
            member = info.filename
            if member == "xl/workbook.xml" or info.is_dir():
                continue
            xml = member.casefold().endswith((".xml", ".rels", ".vml"))
            if member == self.shared_strings or _SKIPPED.match(member) or not xml:
                if xml:  # the reader may read it: its sizes must be true
                    self.verify(member)
                continue
            sheet = by_member.get(member)
            if sheet is None:
                self._parse(member, _PartScan(self._screener(_part_label(member))))
                continue
            self._count_cells(sheet)
            scan = _SheetScan(self._screener(f"sheet {sheet.position}"), read=member in read)
            self._parse(member, scan)
            if scan.first_row is not None:
                self._first_rows[sheet.name] = scan.first_row
            if member in read:
                if len(used) < len(scan.shared):
                    used.extend([0] * (len(scan.shared) - len(used)))
                for index, cells in enumerate(scan.shared):
                    used[index] += cells
        self._screen_shared_strings(used)

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

    def _screen_shared_strings(self, used: "array[int]") -> None:
        """Screen the shared strings the read sheet does not show (those it shows go through
        the contract's screen, which knows which columns are free text), and bound the text
        the reader will make of the ones it does."""
        member = self.shared_strings
        if member not in self.members:
            return
        screen = self._screener("the workbook's other text (shared strings)")
        try:
            self._parse(member, _SharedStringScan(screen, used))
        except _TableTooLarge:
            raise limits.refuse(
                self.path,
                "the sheet read holds more text than a sheet may (each shared string counted "
                "in every cell that shows it)",
                f"{limits.MAX_XLSX_TABLE_CHARS:,} characters",
            ) from None

    def refuse_if_found(self) -> None:
        """Raise ``IdentifiableDataError`` for everything found in the workbook's parts."""
        from ingest.identifiable import IdentifiableDataError

        if self.findings:
            raise IdentifiableDataError(merge_findings(self.findings), path=self.path)


def zip_parts(path: Path, kind: str) -> list[zipfile.ZipInfo]:
    """The parts of a zip-based spreadsheet (an ``kind`` file: XLSX, ODS), its directory
    checked against the limits before and after ``zipfile`` reads it."""
    try:
        limits.check_zip_directory(path)
    except InputError as error:  # (its words are a workbook's)
        raise InputError(error.reason.replace("XLSX", kind), path=path) from None
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise InputError(
            f"not a readable {kind} file: it is truncated or corrupt", path=path
        ) from None
    limits.check_zip_members(path, infos)
    return infos


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
