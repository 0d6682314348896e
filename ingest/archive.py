"""Where files live around the warehouse: the archive, the landing folders, the refusal notes.

Every folder is derived from the warehouse file, so a test or a trial run on a temporary
warehouse keeps all of its files beside it::

    <data>/warehouse/warehouse.duckdb               the warehouse (``--warehouse``)
    <data>/archive/<source>/<sha256>/<label>        every accepted CSV or JSON file, under
                                                    its label, byte for byte
    <data>/archive/<source>/<sha256>/<label>.screened.parquet
                                                    every accepted XLSX or Parquet file: its
                                                    screened table, not its bytes
    <data>/landing/<source>/                        drop a file here; the sensor ingests it
    <data>/rejected/<source>/<label>.refused.txt    a refused landing file's note: the
                                                    reason, the time and the sha256

``<data>`` is the folder above the warehouse's folder when that folder is called
``warehouse`` (the default layout, ``data/warehouse/``), else the warehouse's own folder.

A file is known everywhere by its **label** (``file_label``): the source, the first 12
characters of its sha256 and its extension, e.g. ``referrals-3f2a9c01b4de.csv``. The name it
was sent under is kept nowhere (not in the warehouse, the archive, a refusal note or a log the
pipeline writes): a name can hold what the screen is there to keep out, and the sender can
match a label to their file by its sha256.

The archive is content-addressed: the same bytes are kept once, under their sha256, so
archiving is idempotent and an archived file can be checked against ``audit.loads``. A refused
file is deleted once its note is written: nothing of it is kept. A note never holds a value
from the file (the reason names the rule, the column and the row only).

Only what the privacy screen has seen is kept. Every cell of a CSV or JSON file reaches the
screen (a title line or an extra column is a row or a column of the table; the headers and
values of columns outside the contract get every value check, ``ingest.identifiable.OutsideScreen``;
every field of a 360Giving grant is screened), so those are kept byte for byte. A workbook
holds parts that cannot be screened (images, embedded objects, macros, charts), and a Parquet
file metadata the reader never looks at: for those the archive keeps the table the reader
parsed and the screen passed (every column as text under its original header, with
``_row_number``), as Parquet, named ``<label>.screened.parquet``. So is every file of a
360Giving source (whatever its form): its reader drops organisations' addresses (public facts
about organisations) without screening them, so its bytes are not kept.
"""

import io
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from ingest.contracts import CONTRACTS
from ingest.read import FORMATS_BY_SUFFIX

WAREHOUSE_FOLDER = "warehouse"

# The extensions a label keeps (the file types ingest.read accepts); any other is left out.
LABEL_EXTENSIONS = tuple(FORMATS_BY_SUFFIX)
LABEL_SHA_CHARACTERS = 12


def file_label(source: str, sha256: str, name: str | Path) -> str:
    """The neutral name a file is known by: ``<source>-<sha256[:12]><extension>``. Only the
    extension comes from ``name``, and only one of ``LABEL_EXTENSIONS`` (lower case)."""
    suffix = Path(name).suffix.lower()
    extension = suffix if suffix in LABEL_EXTENSIONS else ""
    return f"{source}-{sha256[:LABEL_SHA_CHARACTERS]}{extension}"


def file_label_sql(source: str, sha256: str, name: str) -> str:
    """``file_label`` as a SQL expression over three column expressions, for what is read out
    of a warehouse into anything published: the label is made again from the source, the
    sha256 and a known extension, whatever a (possibly older) row holds as the name."""
    extensions = ", ".join(f"'{extension}'" for extension in LABEL_EXTENSIONS)
    extension = f"lower(regexp_extract({name}, '\\.[A-Za-z]+$'))"
    return (
        f"({source} || '-' || left({sha256}, {LABEL_SHA_CHARACTERS}) || "
        f"case when {extension} in ({extensions}) then {extension} else '' end)"
    )


def is_own_label(source: str, sha256: str, name: str | Path) -> bool:
    """True when ``name`` is the label of the file with this sha256 (so it holds nothing
    of what was sent but its extension)."""
    return Path(name).name == file_label(source, sha256, name)


# Formats whose original cannot be screened whole: the archive keeps their screened table.
ARCHIVED_AS_TABLE = frozenset({".xlsx", ".parquet"})
SCREENED_SUFFIX = ".screened.parquet"


def data_dir(db_path: Path) -> Path:
    """The data folder the warehouse file belongs to (see the module notes)."""
    folder = Path(db_path).resolve().parent
    return folder.parent if folder.name == WAREHOUSE_FOLDER else folder


def archive_dir(db_path: Path) -> Path:
    return data_dir(db_path) / "archive"


def landing_dir(db_path: Path) -> Path:
    return data_dir(db_path) / "landing"


def rejected_dir(db_path: Path) -> Path:
    return data_dir(db_path) / "rejected"


def archive_path(db_path: Path, source: str, sha256: str, name: str) -> Path:
    return archive_dir(db_path) / source / sha256 / name


def keeps_original(path: Path, source: str | None = None) -> bool:
    """Whether the archive keeps ``path``'s bytes (else its screened table). A source
    published as nested JSON (360Giving: ``file_format`` json) is kept as its table in every
    form: its reader drops organisations' addresses without screening them."""
    if source is not None and source in CONTRACTS and CONTRACTS[source].file_format == "json":
        return False
    return Path(path).suffix.lower() not in ARCHIVED_AS_TABLE


def screened_table(path: Path, raw: pl.DataFrame, source: str | None = None) -> bytes | None:
    """What the archive keeps of ``path`` when not its bytes: ``raw`` (the table as read and
    screened) as Parquet; None for a file kept as it is."""
    if keeps_original(path, source):
        return None
    buffer = io.BytesIO()
    raw.write_parquet(buffer, compression="zstd")
    return buffer.getvalue()


def archive_file(
    path: Path,
    source: str,
    sha256: str,
    db_path: Path,
    *,
    name: str | None = None,
    screened: bytes | None = None,
) -> Path | None:
    """Keep ``path`` in the archive (once per sha256) and return where it is: its bytes, or for
    a workbook or Parquet file the ``screened`` table (``screened_table``) under
    ``<name>.screened.parquet``; ``name`` defaults to the file's label (``file_label``). None
    when a file archived as a table is archived again without its table and none is kept yet."""
    name = name or file_label(source, sha256, path)
    if keeps_original(path, source):
        target = archive_path(db_path, source, sha256, name)
        if not target.is_file():
            _copy_atomically(Path(path), target)
        return target
    target = archive_path(db_path, source, sha256, name + SCREENED_SUFFIX)
    if target.is_file():
        return target
    if screened is None:
        kept = sorted(target.parent.glob(f"*{SCREENED_SUFFIX}")) if target.parent.is_dir() else []
        return kept[0] if kept else None
    _write_atomically(screened, target)
    return target


def reject_file(path: Path, source: str, reason: str, sha256: str, db_path: Path) -> Path:
    """Delete a refused landing file, leaving ``rejected/<source>/<label>.refused.txt``.

    The note is written first (so a refusal is never silent), then the file goes: nothing of
    a refused file is kept. ``reason`` must be value-free and must not hold the file's name
    (``InputError.reason`` with its row and column, not its path). Returns the note's path.
    """
    path = Path(path)
    label = file_label(source, sha256, path)
    folder = rejected_dir(db_path) / source
    folder.mkdir(parents=True, exist_ok=True)
    note = folder / f"{label}.refused.txt"
    note.write_text(
        refusal_report(source=source, label=label, reason=reason, sha256=sha256),
        encoding="utf-8",
    )
    path.unlink(missing_ok=True)
    return note


def refusal_report(*, source: str, label: str, reason: str, sha256: str) -> str:
    """The note kept for a refused file: what, when, why; never a value or the file's name."""
    refused_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"file:     {label} (the file's label; its own name is not kept)\n"
        f"source:   {source}\n"
        f"refused:  {refused_at}\n"
        f"sha256:   {sha256}\n"
        f"reason:   {reason}\n"
        "\n"
        "Nothing of this file was loaded or kept: it was deleted. Match it to the file you sent\n"
        f"by its sha256, fix what the reason says and drop the corrected file into the landing\n"
        f"folder for {source} again.\n"
    )


def _copy_atomically(source: Path, target: Path) -> None:
    _atomically(target, lambda temporary: shutil.copyfile(source, temporary))


def _write_atomically(data: bytes, target: Path) -> None:
    _atomically(target, lambda temporary: Path(temporary).write_bytes(data))


def _atomically(target: Path, write) -> None:  # noqa: ANN001 - a one-argument callable
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
