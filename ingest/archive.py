"""Where files live around the warehouse: the archive, the landing folders, the rejected files.

Every folder is derived from the warehouse file, so a test or a trial run on a temporary
warehouse keeps all of its files beside it::

    <data>/warehouse/warehouse.duckdb                 the warehouse (``--warehouse``)
    <data>/archive/<source>/<sha256>/<original name>  every accepted CSV or JSON file, byte
                                                      for byte
    <data>/archive/<source>/<sha256>/<name>.screened.parquet
                                                      every accepted XLSX or Parquet file: its
                                                      screened table, not its bytes
    <data>/landing/<source>/                          drop a file here; the sensor ingests it
    <data>/rejected/<source>/<name>                   a refused landing file, moved here, with
    <data>/rejected/<source>/<name>.refused.txt       the reason, the time and the sha256

``<data>`` is the folder above the warehouse's folder when that folder is called
``warehouse`` (the default layout, ``data/warehouse/``), else the warehouse's own folder.

The archive is content-addressed: the same bytes are kept once, under their sha256 (of the
file as received, recorded in ``audit.loads``), so archiving is idempotent. A refusal report
never holds a value from the file (the reason names columns and counts only).

Only what the privacy screen has seen is kept. Every cell of a CSV or JSON file reaches the
screen (a title line or an extra column is a row or a column of the table; the headers and
values of columns outside the contract get every value check, ``ingest.read.OutsideScreen``;
every field of a 360Giving grant is screened), so those are kept byte for byte. A workbook
holds parts that cannot be screened (images, embedded objects, macros, charts), and a Parquet
file metadata the reader never looks at: for those the archive keeps the table the reader
parsed and the screen passed (every column as text under its original header, with
``_row_number``), as Parquet, named ``<name>.screened.parquet``.
"""

import io
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

WAREHOUSE_FOLDER = "warehouse"

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


def keeps_original(path: Path) -> bool:
    """Whether the archive keeps ``path``'s bytes (else its screened table)."""
    return Path(path).suffix.lower() not in ARCHIVED_AS_TABLE


def screened_table(path: Path, raw: pl.DataFrame) -> bytes | None:
    """What the archive keeps of ``path`` when not its bytes: ``raw`` (the table as read and
    screened) as Parquet; None for a file kept as it is."""
    if keeps_original(path):
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
    ``<name>.screened.parquet``. ``name`` replaces the file's own name. None when a file
    archived as a table is archived again without its table and none is kept yet."""
    name = name or Path(path).name
    if keeps_original(path):
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


def reject_file(
    path: Path,
    source: str,
    reason: str,
    sha256: str | None,
    db_path: Path,
    *,
    name: str | None = None,
) -> Path:
    """Move a refused landing file to ``rejected/<source>/`` with a ``.refused.txt`` report.

    ``reason`` must be value-free (an ``InputError`` message is); ``name`` replaces the file's
    own name when that is not fit to keep. Returns the report's path.
    """
    path = Path(path)
    name = name or path.name
    folder = rejected_dir(db_path) / source
    folder.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), folder / name)
    report = folder / f"{name}.refused.txt"
    report.write_text(
        refusal_report(source=source, name=name, reason=reason, sha256=sha256),
        encoding="utf-8",
    )
    return report


def refusal_report(*, source: str, name: str, reason: str, sha256: str | None) -> str:
    """The small text kept beside a rejected file: what, when, why; never a value."""
    refused_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"file:     {name}\n"
        f"source:   {source}\n"
        f"refused:  {refused_at}\n"
        f"sha256:   {sha256 or '-'}\n"
        f"reason:   {reason}\n"
        "\n"
        "Nothing of this file was loaded. Fix what the reason says and drop the corrected file\n"
        f"into the landing folder for {source} again.\n"
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
