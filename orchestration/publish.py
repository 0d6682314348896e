"""Write-audit-publish: analysts read a published copy that only ever changes to a build that
passed every check, atomically.

The build writes into the working file (``warehouse.duckdb``). After every dbt test and asset
check has passed, ``publish`` copies the analyst-facing schemas into a brand-new file under
``versions/`` (written in the DuckDB v1.4 storage format, so Evidence and older clients can
read it), checks the copy, and then swaps ``published.duckdb`` to it with one ``rename``:

* a build that fails, or is killed at any moment (SIGKILL included), never reaches the
  rename, so ``published.duckdb`` stays exactly as it was;
* an analyst holding ``published.duckdb`` open read-only keeps reading the version they
  opened (the old file lives on until they close it); the next open sees the new version.
  (DuckDB shares one database per path within a process: a new connection made while
  another in the same process is still open gets the version that one opened.)
  No lock is shared between the build and the readers, so readers never block a build.

What is published: every table of ``marts``, and of ``audit`` what says what became of each
file and row without a value from it (``_audit_query``): ``audit.loads`` without the
archive's path, ``audit.quarantine`` as load, source, file label, row number, column, rule
and the value-free reason, without ``record`` (the row's values, which stay in the working
warehouse for the data owner). A file is named by its label (``ingest.archive.file_label``),
made again here from the source and the sha256, so no name a file was sent under leaves, even
from a row written before names were replaced; the extracts' manifests and the report read
the published copy, so they name files by label too.

The last ``keep`` versions are kept with their build metadata (``versions/<id>.json``);
``rollback`` points ``published.duckdb`` back at the previous one.
"""

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ingest.archive import file_label_sql
from ingest.load import STORAGE_COMPATIBILITY

PUBLISHED_NAME = "published.duckdb"
VERSIONS_DIR = "versions"
PUBLISHED_SCHEMAS = ("marts", "audit")
DEFAULT_KEEP = 5

# Columns of audit tables never published: the archive's path (a local folder; in a warehouse
# loaded before labels, a file's name) and a quarantined row's values (``record``).
WITHHELD_AUDIT_COLUMNS = ("archive_path", "record")


class PublishError(Exception):
    """Publishing could not complete; the published file is unchanged."""


@dataclass(frozen=True)
class Version:
    version_id: str
    path: Path
    metadata: dict[str, Any]


def published_path(build_db: Path) -> Path:
    return Path(build_db).parent / PUBLISHED_NAME


def _versions_dir(build_db: Path) -> Path:
    return Path(build_db).parent / VERSIONS_DIR


def list_versions(build_db: Path) -> list[Version]:
    """Published versions, oldest first."""
    directory = _versions_dir(build_db)
    if not directory.is_dir():
        return []
    versions = []
    for path in sorted(directory.glob("*.duckdb")):
        sidecar = path.with_suffix(".json")
        metadata = json.loads(sidecar.read_text()) if sidecar.exists() else {}
        versions.append(Version(path.stem, path, metadata))
    return versions


def current_version(build_db: Path) -> Version | None:
    """The version ``published.duckdb`` is now (same file on disk), if any."""
    published = published_path(build_db)
    if not published.exists():
        return None
    for version in list_versions(build_db):
        if os.path.samefile(version.path, published):
            return version
    return None


def _swap_published(build_db: Path, version_path: Path) -> None:
    """Point published.duckdb at ``version_path`` with one atomic rename."""
    published = published_path(build_db)
    temporary = published.with_name(f".{PUBLISHED_NAME}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    os.link(version_path, temporary)
    os.replace(temporary, published)
    _fsync_dir(published.parent)


def _fsync_dir(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _copy_schemas(build_db: Path, target: Path, build_info: dict[str, Any]) -> dict[str, int]:
    """Copy the published schemas' tables into a new v1.4-format file; return row counts."""
    con = duckdb.connect()
    counts: dict[str, int] = {}
    try:
        con.execute("attach ? as build (read_only)", [str(build_db)])
        con.execute(
            f"attach ? as snapshot (storage_version '{STORAGE_COMPATIBILITY}')", [str(target)]
        )
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = 'build' and schema_name in (select unnest(?)) "
            "order by 1, 2",
            [list(PUBLISHED_SCHEMAS)],
        ).fetchall()
        if not any(schema == "marts" for schema, _ in tables):
            raise PublishError(f"{build_db} has no marts to publish; run the build first")
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"create schema if not exists snapshot.{schema}")
        for schema, table in tables:
            query = f'select * from build.{schema}."{table}"'
            if schema == "audit":
                query = _audit_query(con, table)
            con.execute(f'create table snapshot.{schema}."{table}" as {query}')
            (counts[f"{schema}.{table}"],) = con.execute(  # type: ignore[misc]
                f'select count(*) from snapshot.{schema}."{table}"'
            ).fetchone()
        con.execute("create schema if not exists snapshot.meta")
        con.execute(
            "create table snapshot.meta.build_info as select unnest(?) as key, unnest(?) as value",
            [list(build_info), [json.dumps(value) for value in build_info.values()]],
        )
        con.execute("checkpoint snapshot")
        con.execute("detach snapshot")
    finally:
        con.close()
    return counts


def _audit_query(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """What of ``build.audit.<table>`` is published: every column but the withheld ones, with
    ``file_name`` made again as the file's label from the source and the sha256 (its own, or
    its load's); a ``file_name`` that cannot be labelled so is left out."""
    columns = _columns(con, table)
    loads = _columns(con, "loads")
    selected = []
    for name in columns:
        if name in WITHHELD_AUDIT_COLUMNS:
            continue
        if name != "file_name":
            selected.append(f'audit."{name}"')
            continue
        if "file_sha256" in columns:
            sha = "audit.file_sha256"
        elif "load_id" in columns and {"load_id", "file_sha256"} <= set(loads):
            sha = (
                "(select any_value(loads.file_sha256) from build.audit.loads as loads "
                "where loads.load_id = audit.load_id)"
            )
        else:
            continue
        if "source" in columns:
            label = file_label_sql("audit.source", sha, "audit.file_name")
            selected.append(f"{label} as file_name")
    return f'select {", ".join(selected)} from build.audit."{table}" as audit'


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "select column_name from duckdb_columns() where database_name = 'build' "
            "and schema_name = 'audit' and table_name = ? order by column_index",
            [table],
        ).fetchall()
    ]


def _verify(target: Path, counts: dict[str, int]) -> None:
    """Reopen the new file read-only and check every table is there with its rows."""
    con = duckdb.connect(str(target), read_only=True)
    try:
        for name, expected in counts.items():
            schema, table = name.split(".", 1)
            (found,) = con.execute(f'select count(*) from {schema}."{table}"').fetchone()  # type: ignore[misc]
            if found != expected:
                raise PublishError(f"copy of {name} has {found} rows, expected {expected}")
    finally:
        con.close()


def publish(
    build_db: Path,
    *,
    build_info: dict[str, Any] | None = None,
    keep: int = DEFAULT_KEEP,
) -> Version:
    """Publish the checked build in ``build_db``; return the new version."""
    build_db = Path(build_db)
    if not build_db.exists():
        raise PublishError(f"{build_db} does not exist; run the build first")
    directory = _versions_dir(build_db)
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob(".*.partial*"):  # from a publish that was killed
        leftover.unlink()
    for leftover in build_db.parent.glob(f".{PUBLISHED_NAME}.*.tmp"):  # killed mid-swap
        leftover.unlink()

    now = datetime.now(UTC)
    version_id = now.strftime("%Y%m%dT%H%M%S%fZ")
    partial = directory / f".{version_id}.duckdb.partial"
    info = {"version_id": version_id, "published_at": now.isoformat(), **(build_info or {})}
    try:
        counts = _copy_schemas(build_db, partial, info)
        _verify(partial, counts)
        final = directory / f"{version_id}.duckdb"
        info["tables"] = counts
        final.with_suffix(".json").write_text(json.dumps(info, indent=2, default=str) + "\n")
        os.chmod(partial, 0o444)
        os.replace(partial, final)
        _fsync_dir(directory)
    except BaseException:
        for path in directory.glob(f".{version_id}.duckdb.partial*"):
            path.unlink(missing_ok=True)
        (directory / f"{version_id}.json").unlink(missing_ok=True)
        raise

    _swap_published(build_db, final)
    _prune(build_db, keep)
    return Version(version_id, final, info)


def _prune(build_db: Path, keep: int) -> None:
    current = current_version(build_db)
    versions = list_versions(build_db)
    for version in versions[: max(0, len(versions) - keep)]:
        if current is not None and version.version_id == current.version_id:
            continue
        version.path.unlink(missing_ok=True)
        version.path.with_suffix(".json").unlink(missing_ok=True)


def rollback(build_db: Path) -> Version:
    """Point published.duckdb at the version before the current one."""
    versions = list_versions(build_db)
    current = current_version(build_db)
    if current is None or len(versions) < 2:
        raise PublishError("there is no earlier published version to roll back to")
    index = [version.version_id for version in versions].index(current.version_id)
    if index == 0:
        raise PublishError(f"{current.version_id} is the oldest version kept; nothing earlier")
    previous = versions[index - 1]
    _swap_published(build_db, previous.path)
    return previous
