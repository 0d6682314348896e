"""Where files live around the warehouse: the archive, the landing folders, the rejected files.

Every folder is derived from the warehouse file, so a test or a trial run on a temporary
warehouse keeps all of its files beside it::

    <data>/warehouse/warehouse.duckdb                 the warehouse (``--warehouse``)
    <data>/archive/<source>/<sha256>/<original name>  every accepted file, byte for byte
    <data>/landing/<source>/                          drop a file here; the sensor ingests it
    <data>/rejected/<source>/<name>                   a refused landing file, moved here, with
    <data>/rejected/<source>/<name>.refused.txt       the reason, the time and the sha256

``<data>`` is the folder above the warehouse's folder when that folder is called
``warehouse`` (the default layout, ``data/warehouse/``), else the warehouse's own folder.

The archive is content-addressed: the same bytes are kept once, under their sha256, so
archiving is idempotent and an archived file can be checked against ``audit.loads``. A
refusal report never holds a value from the file (the reason names columns and counts only).
"""

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

WAREHOUSE_FOLDER = "warehouse"


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


def archive_file(path: Path, source: str, sha256: str, db_path: Path) -> Path:
    """Copy ``path`` unchanged into the archive (once per sha256) and return where it is."""
    target = archive_path(db_path, source, sha256, Path(path).name)
    if target.is_file():
        return target
    _copy_atomically(Path(path), target)
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
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
