"""Load source files into the warehouse's ``raw`` schema, with an audit row for every file.

One function does the work for the CLI, the Dagster assets and the tests:
``load_file(contract, path, db_path)``. It reads the file, refuses it whole if it carries
identifiable data, splits rows into valid and quarantined, and writes both together with one
``audit.loads`` row in a single transaction, so that for every file

    rows read = rows loaded + rows quarantined

Loading the same bytes again (same source, same sha256) is a no-op reported as ``unchanged``.

Foreign keys are checked again when the keys they point to change: a load that replaced rows
of a source (a snapshot, or months of a periodic source) moves the rows of the sources that
refer to it (``contract.foreign_keys``, and on down the chain) whose key is no longer there to
``audit.quarantine`` under rule ``foreign_key``, keeping their load id and row number, and
updates those loads' ``rows_loaded`` and ``rows_quarantined`` (so rows read = loaded +
quarantined still holds for every file) with a line in their ``message``. A file loaded again
unchanged has its own rows checked the same way. So a file nobody needs to resend never leaves
the warehouse failing dbt's relationship tests. (A row set aside so is not put back if its key
returns later: loading its file again does that.)
Periods: for a contract with a ``period_column``, a file replaces the rows already loaded for
the months it covers (a corrected file for March replaces March). For a contract with a
``replace_scope``, a file replaces the rows loaded before that share its values in those
columns (a funder's file replaces that funder's grants, and no other funder's), and its audit
row's ``replace_scope`` says which values. Other contracts are snapshots (reference data,
the community offer): a new file replaces the table. A file in which no row passed replaces
nothing (a broken export must not empty the practices table).

``audit.loads.status`` says what became of each file:

* ``loaded``: its rows are in the warehouse (or it had none that passed);
* ``superseded``: a later file replaced some or all of its rows (its months, or the whole
  snapshot); loading it again is a real load, not a no-op, and puts its rows back;
* ``refused``: nothing of it was loaded; ``message`` says why, without a value from the file.

Every accepted file is kept in the archive (``ingest.archive``: a CSV or JSON file unchanged,
a workbook or Parquet file as the table that was screened), and ``audit.loads.archive_path``
says where.

A file is known by its label (``ingest.archive.file_label``: source, short sha256, extension)
in ``raw.<source>._source_file``, ``audit.loads.file_name``, ``audit.quarantine.file_name``,
the archive and every message: the name it was sent under is kept nowhere. Messages name the
file (its label), the rule, the row and the column, never a value from the file; the failing
values stay in ``audit.quarantine.record`` of the working warehouse for the data owner, and
are not published (``orchestration.publish``). A file refused whole has no quarantine rows.
"""

import hashlib
import json
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from ingest.archive import (
    archive_file,
    file_label,
    file_label_sql,
    is_own_label,
    reject_file,
    screened_table,
)
from ingest.contracts import CONTRACTS, Contract, get_contract
from ingest.errors import InputError
from ingest.identifiable import (
    IdentifiableDataError,
    IdentifiableScreen,
    OutsideScreen,
    check_identifiable,
    check_outside,
    identifiable_file_name,
)
from ingest.read import (
    FORMATS_BY_SUFFIX,
    HELPER_COLUMNS,
    POLARS_TYPES,
    NotStreamable,
    drop_empty_rows,
    is_batchable,
    read_csv_batches,
    read_raw,
    to_typed,
    unnamed_columns,
)
from ingest.validate import file_key_counts, key_hashes, repeated_hashes, split_rows

log = logging.getLogger(__name__)

# Large delimited files are read in batches of about this many bytes of the file (the
# environment variable overrides it; tests set it small to exercise batching).
BATCH_BYTES_ENV = "ICB_INSIGHT_INGEST_BATCH_BYTES"
DEFAULT_BATCH_BYTES = 64 << 20

# DuckDB 2 files cannot be read by the DuckDB 1.4 that Evidence and older clients bundle.
STORAGE_COMPATIBILITY = "v1.4.0"

METADATA_COLUMNS: dict[str, str] = {
    "_load_id": "varchar",
    "_source_file": "varchar",
    "_file_sha256": "varchar",
    "_row_number": "bigint",
    "_loaded_at": "timestamp",
}

AUDIT_DDL = """
create schema if not exists raw;
create schema if not exists audit;
create table if not exists audit.loads (
    load_id varchar primary key,
    source varchar not null,
    file_name varchar not null,
    file_sha256 varchar not null,
    status varchar not null,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    rows_replaced bigint not null,
    periods varchar,
    message varchar,
    loaded_at timestamp not null
);
-- Added after the first release: older warehouses gain the column on their next load.
alter table audit.loads add column if not exists archive_path varchar;
-- For a source whose files replace only their own part (a funder's grants): which part,
-- as "column: value;value" (public identifiers such as funders' org-ids, never personal).
alter table audit.loads add column if not exists replace_scope varchar;
create table if not exists audit.quarantine (
    load_id varchar not null,
    source varchar not null,
    file_name varchar not null,
    row_number bigint not null,
    column_name varchar,
    rule varchar not null,
    reason varchar not null,
    record varchar
);
"""


@dataclass(frozen=True)
class LoadResult:
    """What happened to one file."""

    source: str
    path: Path
    status: str  # loaded | unchanged
    file_sha256: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_replaced: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    # per quarantine_reasons key: the first rows (up to five) and the first row's reason
    quarantine_rows: dict[str, list[int]] = field(default_factory=dict)
    quarantine_examples: dict[str, str] = field(default_factory=dict)
    load_id: str | None = None
    archive_path: Path | None = None
    # rows loaded earlier, per source, set aside because their foreign key went with this load
    # (for an unchanged file: its own rows whose key has gone since)
    rows_set_aside_later: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The name the file is known by everywhere (``ingest.archive.file_label``)."""
        return file_label(self.source, self.file_sha256, self.path)

    def summary(self) -> str:
        if self.status == "unchanged":
            return f"{self.source}: {self.label} already loaded (same sha256), nothing to do"
        text = (
            f"{self.source}: {self.label}: {self.rows_read:,} rows read, "
            f"{self.rows_loaded:,} loaded, {self.rows_quarantined:,} quarantined"
        )
        if self.rows_replaced:
            scope = get_contract(self.source).replace_scope
            what = "of the same " + ", ".join(scope) if scope else "for the same period"
            text += f" ({self.rows_replaced:,} earlier rows {what} replaced)"
        elif self.rows_read and not self.rows_loaded:
            text += " (no row passed, so the rows loaded before stay)"
        return text

    def downstream_lines(self) -> list[str]:
        """One line per source whose rows loaded earlier were set aside by this load."""
        return [
            f"set aside {count:,} {'row' if count == 1 else 'rows'} of {source} loaded earlier: "
            "foreign_key, the row they refer to is no longer in the warehouse"
            for source, count in self.rows_set_aside_later.items()
        ]

    def quarantine_lines(self) -> list[str]:
        """One line per (rule, column) that set rows aside: how many, which rows, and the first
        row's reason (which names columns and rules, never a value)."""
        lines = []
        for key, count in self.quarantine_reasons.items():
            rows = self.quarantine_rows.get(key, [])
            shown = ", ".join(str(row) for row in rows)
            more = ", ..." if count > len(rows) else ""
            noun = "row" if count == 1 else "rows"
            where = f" ({noun} {shown}{more})" if rows else ""
            example = self.quarantine_examples.get(key)
            lines.append(
                f"quarantined {count:,} {noun}: {key}{where}"
                + (f"; first: {example}" if example else "")
            )
        return lines


def connect(db_path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, creating it (and its folder) in the v1.4-readable format."""
    db_path = Path(db_path)
    if read_only:
        return duckdb.connect(str(db_path), read_only=True)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(
        str(db_path), config={"storage_compatibility_version": STORAGE_COMPATIBILITY}
    )


def raw_table_ddl(contract: Contract) -> str:
    columns = [f"{column.name} {column.duckdb_type}" for column in contract.columns]
    columns += [f"{name} {dtype}" for name, dtype in METADATA_COLUMNS.items()]
    body = ",\n    ".join(columns)
    return f"create table if not exists raw.{contract.name} (\n    {body}\n)"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw and audit schemas and every raw table the contracts define; a column a
    contract gained since the table was made is added (null in earlier rows)."""
    con.execute(AUDIT_DDL)
    existing: dict[str, set[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'raw' and table_catalog = current_database()"
    ).fetchall():
        existing.setdefault(table, set()).add(column)
    for contract in CONTRACTS.values():
        if contract.name not in existing:
            con.execute(raw_table_ddl(contract))
            continue
        for column in contract.columns:
            if column.name not in existing[contract.name]:
                con.execute(
                    f"alter table raw.{contract.name} add column {column.name} {column.duckdb_type}"
                )
    _label_earlier_loads(con)


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction around the block: committed if it ends, rolled back if it raises."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def _label_earlier_loads(con: duckdb.DuckDBPyConnection) -> None:
    """Loads recorded before files were known by their labels: the name each file was sent
    under is replaced by its label in ``audit.loads`` (and the messages that name it),
    ``audit.quarantine``, ``raw.<source>._source_file`` and the archive (the file renamed)."""
    label = file_label_sql("source", "file_sha256", "file_name")
    earlier = con.execute(
        f"select load_id, source, file_name, {label}, archive_path from audit.loads "
        f"where file_name <> {label}"
    ).fetchall()
    if not earlier:
        return
    renamed: dict[Path, Path] = {}
    with _transaction(con):
        for source in {source for _, source, *_ in earlier if source in CONTRACTS}:
            loads = [row for row in earlier if row[1] == source]
            con.execute(
                f"update raw.{source} set _source_file = labels.label from (select "
                "unnest(?) as load_id, unnest(?) as label) as labels "
                f"where raw.{source}._load_id = labels.load_id",
                [[row[0] for row in loads], [row[3] for row in loads]],
            )
        for load_id, _, name, new, archived in earlier:
            moved = str(Path(archived).with_name(new)) if archived else None
            if archived:
                renamed[Path(archived)] = Path(moved)
            con.execute(
                "update audit.quarantine set file_name = ? where load_id = ?", [new, load_id]
            )
            con.execute(
                "update audit.loads set message = replace(message, ?, ?) "
                "where contains(message, ?)",
                [name, new, name],
            )
            con.execute(
                "update audit.loads set file_name = ?, archive_path = ? where load_id = ?",
                [new, moved, load_id],
            )
    for old, new in renamed.items():  # (a copy under the label holds the same bytes)
        if old.is_file() and old != new:
            os.replace(old, new)


def evolve_schema(db_path: Path) -> None:
    """Bring an existing warehouse's raw tables up to the contracts (``ensure_schema``)
    without loading anything: a column a contract gained since the warehouse was loaded is
    added, so that dbt's source tests on it find it (null) rather than failing to bind."""
    if not Path(db_path).exists():
        return
    con = connect(db_path)
    try:
        ensure_schema(con)
    finally:
        con.close()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _known_keys(con: duckdb.DuckDBPyConnection, contract: Contract) -> dict[str, set[str]]:
    """Values of every referenced key already in the warehouse (a source not loaded yet is
    not checked: its rows cannot be judged against an empty table)."""
    known: dict[str, set[str]] = {}
    for foreign_key in contract.foreign_keys:
        target = foreign_key.contract
        column = foreign_key.target_column
        if foreign_key.references in known:
            continue
        # fetchall: a result left unfinished (fetchone) blocks the next relation (DuckDB 2)
        [(count,)] = con.execute(f"select count(*) from raw.{target}").fetchall()
        if count == 0:
            continue
        rows = con.execute(f"select distinct {column} from raw.{target}").fetchall()
        known[foreign_key.references] = {row[0] for row in rows if row[0] is not None}
    return known


def referring_contracts(contract: Contract) -> list[Contract]:
    """The contracts with a foreign key to ``contract`` (itself aside)."""
    return [
        other
        for other in CONTRACTS.values()
        if other.name != contract.name
        and any(foreign_key.contract == contract.name for foreign_key in other.foreign_keys)
    ]


def recheck_foreign_keys(
    con: duckdb.DuckDBPyConnection,
    contracts: Iterable[Contract],
    cause: str,
    *,
    today: date | None = None,
) -> dict[str, int]:
    """Set aside the loaded rows of ``contracts`` whose foreign key is no longer in the
    warehouse, then of the contracts referring to those (a referral gone takes its onward
    referrals with it); how many rows per source. Inside the caller's transaction."""
    set_aside: dict[str, int] = {}
    pending = list(contracts)
    while pending:
        contract = pending.pop(0)
        count = _set_aside_orphans(con, contract, cause, today=today)
        if count:
            set_aside[contract.name] = set_aside.get(contract.name, 0) + count
            pending += [other for other in referring_contracts(contract) if other not in pending]
    return set_aside


def _set_aside_orphans(
    con: duckdb.DuckDBPyConnection, contract: Contract, cause: str, *, today: date | None
) -> int:
    """Move the rows of raw.<contract> whose foreign key is not in its target to
    audit.quarantine (rule ``foreign_key``, as ``split_rows`` words it, load id and row number
    kept) and update their loads' counts. A target not loaded yet is not checked, as in
    ``_known_keys``."""
    known = _known_keys(con, contract)
    orphan = [
        f"({fk.column} is not null and cast({fk.column} as varchar) not in "
        f"(select cast({fk.target_column} as varchar) from raw.{fk.contract} "
        f"where {fk.target_column} is not null))"
        for fk in contract.foreign_keys
        if fk.references in known
    ]
    if not orphan:
        return 0
    columns = ", ".join(["_load_id", "_source_file", "_row_number", *contract.column_names])
    rows = con.sql(
        f"select {columns} from raw.{contract.name} where {' or '.join(orphan)} "
        "order by _load_id, _row_number"
    ).pl()
    moved = 0
    for (load_id, file_name), of_load in rows.group_by(
        ["_load_id", "_source_file"], maintain_order=True
    ):
        typed = of_load.select(["_row_number", *contract.column_names])
        split = split_rows(contract, typed, today=today, known_keys=known)
        quarantined = split.quarantined
        if quarantined.is_empty():
            continue
        _insert_quarantine(con, contract, quarantined, str(load_id), str(file_name))
        numbers = quarantined.get_column("_row_number").to_list()
        con.execute(
            f"delete from raw.{contract.name} where _load_id = ? "
            "and _row_number in (select unnest(?))",
            [load_id, numbers],
        )
        count = len(numbers)
        note = (
            f"{count} {'row' if count == 1 else 'rows'} set aside {cause} (foreign_key: the "
            "rows they refer to are no longer in the warehouse)"
        )
        con.execute(
            "update audit.loads set rows_loaded = rows_loaded - ?, "
            "rows_quarantined = rows_quarantined + ?, "
            "message = coalesce(message || '; ', '') || ? where load_id = ?",
            [count, count, note, load_id],
        )
        moved += count
    return moved


def _periods(contract: Contract, frame: pl.DataFrame) -> list[date]:
    if contract.period_column is None or frame.is_empty():
        return []
    months = frame.select(pl.col(contract.period_column).dt.truncate("1mo").unique().sort())
    return [value for value in months.to_series().to_list() if value is not None]


def load_file(
    contract: Contract | str,
    path: Path,
    db_path: Path,
    *,
    today: date | None = None,
    strict: bool = False,
    sheet: str | None = None,
    batch_bytes: int | None = None,
) -> LoadResult:
    """Load one file of ``contract`` into ``raw.<contract>``; raise InputError to refuse it.

    A delimited file larger than ``batch_bytes`` (default ``DEFAULT_BATCH_BYTES``, or the
    ``ICB_INSIGHT_INGEST_BATCH_BYTES`` environment variable) is read in batches, twice, so
    that memory is bounded by the batch: a first pass screens every batch for identifiable
    data (nothing is written before the whole file has passed) and collects its keys (a key
    repeated anywhere in the file is a duplicate); the second types, validates and inserts
    batch by batch in the load's one transaction. The result is the same, row for row, as
    reading the file whole. XLSX, JSON and Parquet sources are small and always read whole,
    as is any CSV that is not plain UTF-8 (the whole-file reader handles or names the fault).
    """
    contract = get_contract(contract) if isinstance(contract, str) else contract
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    sha = file_sha256(path)
    label = file_label(contract.name, sha, path)
    name_error = None if is_own_label(contract.name, sha, path) else _name_refusal(path)
    if name_error is not None:  # refused before anything is read or written, name included
        raise name_error
    if batch_bytes is None:
        batch_bytes = int(os.environ.get(BATCH_BYTES_ENV) or DEFAULT_BATCH_BYTES)

    con = connect(db_path)
    try:
        ensure_schema(con)
        already = con.execute(
            "select load_id, archive_path from audit.loads where source = ? "
            "and file_sha256 = ? and status = 'loaded' limit 1",
            [contract.name, sha],
        ).fetchone()
        if already:
            kept = archive_file(path, contract.name, sha, db_path)
            # its rows were checked when loaded; the keys they refer to may have gone since
            with _transaction(con):
                set_aside = recheck_foreign_keys(
                    con, [contract], "when its file came again", today=today
                )
            return LoadResult(
                contract.name,
                path,
                "unchanged",
                sha,
                load_id=already[0],
                archive_path=kept,
                rows_set_aside_later=set_aside,
            )

        try:
            source = _Batched.screen(contract, path, batch_bytes, strict=strict)
            if source is None:
                source = _Whole.read(contract, path, strict=strict, sheet=sheet)
        except InputError as error:
            _record_refusal(con, contract, path, sha, error)
            raise
        known = _known_keys(con, contract)

        load_id = uuid.uuid4().hex
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        archived = archive_file(
            path, contract.name, sha, db_path, screened=getattr(source, "screened", None)
        )

        # A file read in batches is staged batch by batch (committed, so that DuckDB can write
        # it out rather than hold a transaction's worth of rows in memory), then moved into raw
        # in the load's one transaction; the staging tables go whatever happens.
        staged = isinstance(source, _Batched)
        raw_table, quarantine_table = f"raw.{contract.name}", "audit.quarantine"
        if staged:
            raw_table, quarantine_table = _create_staging(con, contract, load_id)
        else:
            con.execute("begin transaction")
        in_transaction = not staged
        try:
            rows_read = rows_loaded = rows_quarantined = 0
            months: set[date] = set()
            for typed, key_counts in source.batches():
                split = split_rows(
                    contract, typed, today=today, known_keys=known, key_counts=key_counts
                )
                rows_read += typed.height
                del typed
                valid = split.valid.select(["_row_number", *contract.column_names])
                months.update(_periods(contract, valid))
                _insert_valid(con, contract, valid, load_id, label, sha, loaded_at, raw_table)
                _insert_quarantine(
                    con, contract, split.quarantined, load_id, label, quarantine_table
                )
                rows_loaded += valid.height
                rows_quarantined += split.quarantined.height
                del split, valid
            if staged:
                con.execute("begin transaction")
                in_transaction = True
                names = ", ".join([*contract.column_names, *METADATA_COLUMNS])
                con.execute(
                    f"insert into raw.{contract.name} ({names}) select {names} from {raw_table}"
                )
                con.execute(f"insert into audit.quarantine select * from {quarantine_table}")
            periods = sorted(months)
            rows_replaced, scope = (
                _replace_scope(con, contract, periods, load_id, label)
                if rows_loaded
                else (0, None)  # a file with no row that passed replaces nothing
            )
            _insert_audit(
                con,
                load_id=load_id,
                source=contract.name,
                file_name=label,
                file_sha256=sha,
                status="loaded",
                rows_read=rows_read,
                rows_loaded=rows_loaded,
                rows_quarantined=rows_quarantined,
                rows_replaced=rows_replaced,
                periods=",".join(month.strftime("%Y-%m") for month in periods) or None,
                replace_scope=scope,
                loaded_at=loaded_at,
                archive_path=str(archived),
            )
            # rows replaced: keys other sources refer to may have gone with them
            set_aside = (
                recheck_foreign_keys(
                    con, referring_contracts(contract), f"after load {load_id}", today=today
                )
                if rows_replaced
                else {}
            )
            groups = _quarantine_groups(con, load_id)
            con.execute("commit")
        except BaseException:
            if in_transaction:
                con.execute("rollback")
            raise
        finally:
            if staged:
                _drop_staging(con, contract)
    finally:
        con.close()

    result = LoadResult(
        source=contract.name,
        path=path,
        status="loaded",
        file_sha256=sha,
        rows_read=rows_read,
        rows_loaded=rows_loaded,
        rows_quarantined=rows_quarantined,
        rows_replaced=rows_replaced,
        load_id=load_id,
        archive_path=archived,
        rows_set_aside_later=set_aside,
        **groups,
    )
    log.debug(result.summary())  # callers report it (the CLI on stdout, assets in Dagster)
    return result


@dataclass
class _Whole:
    """A file read whole (every XLSX, JSON and Parquet file; a CSV of at most one batch)."""

    typed: pl.DataFrame | None
    screened: bytes | None = None  # what the archive keeps of a file it cannot keep whole

    @classmethod
    def read(cls, contract: Contract, path: Path, *, strict: bool, sheet: str | None) -> "_Whole":
        raw = read_raw(contract, path, sheet=sheet)
        check_identifiable(contract, raw, path)
        check_outside(contract, raw, path)
        typed = to_typed(contract, raw, path=path, strict=strict)
        screened = screened_table(path, raw, contract.name)
        del raw  # the text copy of the file: peak memory is what is alive at once
        return cls(typed, screened)

    def batches(self) -> Iterator[tuple[pl.DataFrame, pl.DataFrame | None]]:
        typed, self.typed = self.typed, None  # let it go once validated
        assert typed is not None
        yield typed, None  # duplicate keys are counted within the frame


@dataclass
class _Batched:
    """A large CSV file that passed the screen; ``batches`` reads it again, typed."""

    contract: Contract
    path: Path
    batch_bytes: int
    strict: bool
    empty_unnamed: list[str]  # columns without a header, empty in the whole file
    key_counts: pl.DataFrame | None

    @classmethod
    def screen(
        cls, contract: Contract, path: Path, batch_bytes: int, *, strict: bool
    ) -> "_Batched | None":
        """The first pass: refuse the file (``InputError``) as reading it whole would, or
        return it ready for the second pass; None if it must be read whole after all."""
        if not is_batchable(path, batch_bytes) or contract.file_format == "json":
            return None  # (a nested source's CSV is unflattened to its JSON first, whole)
        screen, outside = IdentifiableScreen(contract), OutsideScreen(contract)
        filled: dict[str, bool] = {}
        key = list(contract.primary_key)
        hashes: list[pl.Series] = []
        key_schema: pl.Schema | None = None
        header_error = False
        columns: list[str] = []
        rows = 0
        try:
            for raw in read_csv_batches(path, batch_bytes):
                for name, any_filled in unnamed_columns(raw).items():
                    filled[name] = filled.get(name, False) or any_filled
                raw = drop_empty_rows(raw)
                columns = [name for name in raw.columns if name not in HELPER_COLUMNS]
                screen.add(raw)
                outside.add(raw)
                rows += raw.height
                if key and not header_error:
                    named = raw.drop(name for name in filled)  # unnamed: never a contract column
                    try:
                        keys = to_typed(contract, named, path=path, only=key).select(key)
                    except InputError:  # the headers: said after the screen, as whole
                        header_error, hashes = True, []
                        continue
                    key_schema = keys.schema
                    hashes.append(key_hashes(contract, keys))
                del raw
        except NotStreamable:
            return None  # the whole-file reader says what is wrong, or copes
        if rows == 0:
            return None  # no data rows: refused by the whole-file reader, with its message
        empty = [name for name, any_filled in filled.items() if not any_filled]
        columns = [name for name in columns if name not in empty]
        findings = screen.findings(columns)
        if findings:
            raise IdentifiableDataError(findings, path=path)
        outside.refuse_if_found(path)
        # the header checks, with the file's columns as read whole (raises as reading whole)
        header = pl.DataFrame(schema=dict.fromkeys(columns, pl.String()))
        to_typed(contract, header, path=path, strict=strict)
        if header_error:  # pragma: no cover - the check above raised
            raise AssertionError("to_typed refused a batch but not the file's headers")
        batched = cls(contract, path, batch_bytes, strict, empty, None)
        if key_schema is not None:
            batched.key_counts = batched._count_keys(repeated_hashes(hashes), key_schema)
        return batched

    def _count_keys(self, repeated: pl.Series, key_schema: pl.Schema) -> pl.DataFrame:
        """The file's duplicate keys with their counts, from the hashes seen more than once:
        when there are any, read the file once more to count those keys exactly."""
        key = list(self.contract.primary_key)
        found: list[pl.DataFrame] = []
        if repeated.len():
            for raw in self._raw_batches():
                keys = to_typed(self.contract, raw, path=self.path, only=key).select(key)
                hashed = key_hashes(self.contract, keys)  # the complete keys only, in order
                complete = pl.all_horizontal(pl.col(name).is_not_null() for name in key)
                keys = keys.filter(complete).filter(hashed.is_in(repeated.implode()))
                found.append(keys)
        candidates = pl.concat(found) if found else pl.DataFrame(schema=key_schema)
        counts = file_key_counts(self.contract, candidates)
        assert counts is not None
        return counts

    def _raw_batches(self) -> Iterator[pl.DataFrame]:
        """The file's text batches as ``read_raw`` would give them (with a second pass)."""
        try:
            for raw in read_csv_batches(self.path, self.batch_bytes):
                raw = drop_empty_rows(raw.drop(self.empty_unnamed))
                if raw.height:
                    yield raw
        except NotStreamable:  # it passed the first pass: the file changed under us
            raise InputError("the file changed while it was being loaded", path=self.path) from None

    def batches(self) -> Iterator[tuple[pl.DataFrame, pl.DataFrame | None]]:
        for raw in self._raw_batches():
            typed = to_typed(self.contract, raw, path=self.path, strict=self.strict)
            del raw
            yield typed, self.key_counts


STAGING_SCHEMA = "loading"


def _create_staging(
    con: duckdb.DuckDBPyConnection, contract: Contract, load_id: str
) -> tuple[str, str]:
    """Empty staging tables shaped like raw.<contract> and audit.quarantine (a load that
    died before dropping its own leaves them; they go with the next load of the source)."""
    _drop_staging(con, contract)
    con.execute(f"create schema if not exists {STAGING_SCHEMA}")
    rows = f"{STAGING_SCHEMA}.{contract.name}__{load_id}"
    quarantine = f"{STAGING_SCHEMA}.{contract.name}__quarantine__{load_id}"
    con.execute(f"create table {rows} as select * from raw.{contract.name} limit 0")
    con.execute(f"create table {quarantine} as select * from audit.quarantine limit 0")
    return rows, quarantine


def _drop_staging(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    for (name,) in con.execute(
        "select table_name from information_schema.tables where table_schema = ? "
        "and table_catalog = current_database() and starts_with(table_name, ?)",
        [STAGING_SCHEMA, f"{contract.name}__"],
    ).fetchall():
        con.execute(f'drop table if exists {STAGING_SCHEMA}."{name}"')


def _quarantine_groups(con: duckdb.DuckDBPyConnection, load_id: str) -> dict[str, dict]:
    """Quarantined rows of the load grouped by first failing rule and columns, largest group
    first (then the group met first in the file)."""
    reasons: dict[str, int] = {}
    rows: dict[str, list[int]] = {}
    examples: dict[str, str] = {}
    grouped = con.execute(
        "select rule, column_name, count(*) as n, "
        "list(row_number order by row_number)[1:5], arg_min(reason, row_number) "
        "from audit.quarantine where load_id = ? group by rule, column_name "
        "order by n desc, min(row_number)",
        [load_id],
    ).fetchall()
    for rule, column, count, first_rows, example in grouped:
        key = f"{rule} ({column})"
        reasons[key] = int(count)
        rows[key] = list(first_rows)
        examples[key] = example
    return {
        "quarantine_reasons": reasons,
        "quarantine_rows": rows,
        "quarantine_examples": examples,
    }


def _insert_audit(con: duckdb.DuckDBPyConnection, **values: object) -> None:
    values.setdefault("message", None)
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    con.execute(f"insert into audit.loads ({names}) values ({marks})", list(values.values()))


def _name_refusal(path: Path) -> InputError | None:
    """The refusal of a file whose name holds an NHS number or a postcode (without the path,
    which would repeat the name), or None."""
    kind = identifiable_file_name(path.name)
    if kind is None:
        return None
    return InputError(
        f"refused: the file's name looks like it holds {kind}; nothing was loaded or kept. "
        "Rename the file and send it again."
    )


def reject_identifiable_name(contract: Contract | str, path: Path, db_path: Path) -> bool:
    """For a landed file whose name is identifiable: delete it, leaving its note in rejected/
    under its label, and return True; else False. Lets the landing sensor keep such a name
    out of everything Dagster stores."""
    contract = get_contract(contract) if isinstance(contract, str) else contract
    if _name_refusal(Path(path)) is None:
        return False
    if is_own_label(contract.name, file_sha256(path), path):  # a label is ours, not screened
        return False
    try:
        load_landed_file(contract, path, db_path)  # refuses on the name before reading
    except InputError:
        return True
    raise AssertionError("a file with an identifiable name was loaded")  # pragma: no cover


# A quoted text in a message (as ``repr`` quotes it): a header or a value from the file.
_QUOTED = re.compile(r"""(?<!\w)(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")(?!\w)""")
WITHHELD = "'…'"


def refusal_reason(error: InputError, contract: Contract) -> str:
    """The refusal as it is kept (``audit.loads.message``, the refusal note, the run's log):
    its rule, row and column, without the path (which holds the file's name) and without any
    quoted text but the contract's own column names (a quoted header or value came from the
    file: it is withheld, ``'…'``)."""
    text = InputError(error.reason, row=error.row, column=error.column).message
    known = {repr(name) for name in contract.column_names} | {"''"}
    return _QUOTED.sub(lambda quoted: quoted[0] if quoted[0] in known else WITHHELD, text)


def _record_refusal(
    con: duckdb.DuckDBPyConnection, contract: Contract, path: Path, sha: str, error: InputError
) -> None:
    """An audit row for a refused file: its label, sha256 and the reason; never a value."""
    _insert_audit(
        con,
        load_id=uuid.uuid4().hex,
        source=contract.name,
        file_name=file_label(contract.name, sha, path),
        file_sha256=sha,
        status="refused",
        rows_read=0,
        rows_loaded=0,
        rows_quarantined=0,
        rows_replaced=0,
        message=refusal_reason(error, contract),
        loaded_at=datetime.now(UTC).replace(tzinfo=None),
    )


def _replace_scope(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    periods: list[date],
    load_id: str,
    file_name: str,
) -> tuple[int, str | None]:
    """Delete what the incoming file supersedes, mark the loads that lost rows ``superseded``,
    and return how many rows went, with the scope values the file replaced (for a contract
    with a ``replace_scope``, as ``column: value;value``; else None)."""
    table = f"raw.{contract.name}"
    scope_note = None
    if contract.replace_scope:
        # the load's own rows are in already: their scope values (a funder, a directory) say
        # what it replaces; compared null-safe, so a file without the scope column replaces
        # the earlier rows that had none
        same = " and ".join(
            f"incoming.{column} is not distinct from {table}.{column}"
            for column in contract.replace_scope
        )
        condition = (
            f"exists (select 1 from {table} incoming where incoming._load_id = ? and {same})"
        )
        params: list = [load_id]
        scope_note = "; ".join(
            f"{column}: "
            + ";".join(
                str(value)
                for (value,) in con.execute(
                    f"select distinct {column} from {table} where _load_id = ? order by 1",
                    [load_id],
                ).fetchall()
            )
            for column in contract.replace_scope
        )
    elif contract.period_column is None:
        condition, params = "true", []
    elif periods:
        condition = f"date_trunc('month', {contract.period_column}) in (select unnest(?))"
        params = [periods]
    else:
        return 0, None
    # the load's own rows are in already (inserted batch by batch): they stay
    condition = f"({condition}) and _load_id is distinct from ?"
    params = [*params, load_id]
    replaced = con.execute(
        f"select _load_id, count(*) from {table} where {condition} group by _load_id", params
    ).fetchall()
    if contract.period_column is None and not contract.replace_scope:
        # a snapshot replaces every earlier load, including ones whose rows were all set aside
        con.execute(
            "update audit.loads set status = 'superseded', message = ? "
            "where source = ? and status = 'loaded'",
            [f"replaced by {file_name} (load {load_id})", contract.name],
        )
    elif replaced:
        con.execute(
            "update audit.loads set status = 'superseded', message = ? "
            "where status = 'loaded' and load_id in (select unnest(?))",
            [f"rows replaced by {file_name} (load {load_id})", [row[0] for row in replaced]],
        )
    con.execute(f"delete from {table} where {condition}", params)
    return sum(int(count) for _, count in replaced), scope_note


def _insert_valid(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    valid: pl.DataFrame,
    load_id: str,
    file_name: str,
    sha: str,
    loaded_at: datetime,
    table: str | None = None,
) -> None:
    if valid.is_empty():
        return
    frame = valid.with_columns(
        pl.lit(load_id).alias("_load_id"),
        pl.lit(file_name).alias("_source_file"),
        pl.lit(sha).alias("_file_sha256"),
        pl.lit(loaded_at).alias("_loaded_at"),
    )
    columns = [*contract.column_names, *METADATA_COLUMNS]
    con.register("incoming_rows", frame.select(columns).to_arrow())
    try:
        names = ", ".join(columns)
        table = table or f"raw.{contract.name}"
        con.execute(f"insert into {table} ({names}) select {names} from incoming_rows")
    finally:
        con.unregister("incoming_rows")


def _insert_quarantine(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    quarantined: pl.DataFrame,
    load_id: str,
    file_name: str,
    table: str = "audit.quarantine",
) -> None:
    if quarantined.is_empty():
        return
    frame = quarantined.select(
        pl.lit(load_id).alias("load_id"),
        pl.lit(contract.name).alias("source"),
        pl.lit(file_name).alias("file_name"),
        pl.col("_row_number").alias("row_number"),
        pl.col("column").alias("column_name"),
        pl.col("rule"),
        pl.col("reason"),
        pl.col("record"),
    )
    con.register("incoming_quarantine", frame.to_arrow())
    try:
        con.execute(f"insert into {table} select * from incoming_quarantine")
    finally:
        con.unregister("incoming_quarantine")


SOURCE_EXTENSIONS = tuple(suffix.removeprefix(".") for suffix in FORMATS_BY_SUFFIX)


def find_source_file(directory: Path, contract: Contract) -> Path | None:
    """The file for ``contract`` in a folder: its contract file name, or any accepted
    extension with the contract's name as stem (the first of ``find_source_files``)."""
    found = find_source_files(directory, contract)
    return found[0] if found else None


def find_source_files(directory: Path, contract: Contract) -> list[Path]:
    """The files for ``contract`` in a folder: its contract file name, or any accepted
    extension with the contract's name as stem; and for a source whose files replace only
    their own part (``replace_scope``: each funder publishes its own grants), every accepted
    file in a subfolder named after the source, in name order."""
    found: list[Path] = []
    preferred = directory / contract.file_name
    if preferred.is_file():
        found.append(preferred)
    else:
        for extension in SOURCE_EXTENSIONS:
            candidate = directory / f"{contract.name}.{extension}"
            if candidate.is_file():
                found.append(candidate)
                break
    folder = directory / contract.name
    if contract.replace_scope and folder.is_dir():
        found += sorted(
            path
            for path in folder.iterdir()
            if path.is_file() and path.suffix.lower().removeprefix(".") in SOURCE_EXTENSIONS
        )
    return found


def load_directory(
    directory: Path,
    db_path: Path,
    *,
    sources: Iterable[str] | None = None,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
    fallback: Callable[[Contract], list[LoadResult]] | None = None,
) -> list[LoadResult]:
    """Load every contract's files found in ``directory`` (``find_source_files``), in
    foreign-key order; for a contract without any, what ``fallback`` loads (the directory
    feeds of ``ingest.openreferral.load.load_sources``)."""
    wanted = set(sources) if sources is not None else set(CONTRACTS)
    results = []
    for contract in CONTRACTS.values():
        if contract.name not in wanted:
            continue
        paths = find_source_files(Path(directory), contract)
        if not paths:
            if fallback is not None:
                results += fallback(contract)
            continue
        for path in paths:
            if progress:
                progress(f"loading {contract.name} from {path.name}")
            results.append(load_file(contract, path, db_path, today=today))
    return results


# --- reading loads back (asset checks, audits) -----------------------------------------------


@dataclass(frozen=True)
class LoadRecord:
    """One ``audit.loads`` row, with what the warehouse holds for it now."""

    load_id: str
    source: str
    file_name: str
    status: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_in_raw: int  # rows of raw.<source> with this _load_id now (fewer once superseded)
    rows_in_quarantine: int  # rows of audit.quarantine with this load_id


def latest_load(db_path: Path, source: str) -> LoadRecord | None:
    """The newest load of ``source`` that was accepted (loaded or since superseded)."""
    if not Path(db_path).is_file():
        return None
    con = connect(db_path, read_only=True)
    try:
        found = con.execute(
            "select load_id, source, file_name, status, rows_read, rows_loaded, "
            "rows_quarantined from audit.loads where source = ? "
            "and status in ('loaded', 'superseded') order by loaded_at desc limit 1",
            [source],
        ).fetchone()
        if found is None:
            return None
        (in_raw,) = con.execute(  # type: ignore[misc]
            f"select count(*) from raw.{source} where _load_id = ?", [found[0]]
        ).fetchone()
        (in_quarantine,) = con.execute(  # type: ignore[misc]
            "select count(*) from audit.quarantine where load_id = ?", [found[0]]
        ).fetchone()
    except duckdb.CatalogException:  # a warehouse no file was ever loaded into
        return None
    finally:
        con.close()
    return LoadRecord(*found, rows_in_raw=int(in_raw), rows_in_quarantine=int(in_quarantine))


def rows_of_load(
    db_path: Path, contract: Contract, load_id: str, *, loaded_limit: int | None = None
) -> tuple[pl.DataFrame, dict[str, set[str]]]:
    """The typed rows of one load as ``to_typed`` made them: the rows in ``raw`` (at most
    ``loaded_limit`` of them) and every quarantined row, read again from its ``record`` (so a
    value that failed to cast is back in its ``_raw__`` column); plus the keys its foreign keys
    are checked against now."""
    con = connect(db_path, read_only=True)
    try:
        present = {
            name
            for (name,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'raw' "
                "and table_name = ? and table_catalog = current_database()",
                [contract.name],
            ).fetchall()
        }
        # a column the contract gained after this warehouse's last load is not there yet
        columns = ", ".join(
            ["_row_number", *(name for name in contract.column_names if name in present)]
        )
        limit = f" limit {int(loaded_limit)}" if loaded_limit is not None else ""
        loaded = con.sql(
            f"select {columns} from raw.{contract.name} where _load_id = ? "
            f"order by _row_number{limit}",
            params=[load_id],
        ).pl()
        records = con.execute(
            "select row_number, record from audit.quarantine where load_id = ? order by 1",
            [load_id],
        ).fetchall()
        known = _known_keys(con, contract)
    finally:
        con.close()
    loaded = loaded.with_columns(
        pl.lit(None, POLARS_TYPES[column.dtype]).alias(column.name)
        for column in contract.columns
        if column.name not in present
    )
    if not records:
        return loaded, known
    text = pl.DataFrame(
        [{"_row_number": row, **json.loads(record)} for row, record in records],
        schema={"_row_number": pl.Int64, **dict.fromkeys(contract.column_names, pl.String)},
    )
    quarantined = to_typed(contract, text)
    return pl.concat([loaded, quarantined], how="diagonal_relaxed"), known


def load_landed_file(
    contract: Contract | str, path: Path, db_path: Path, *, today: date | None = None
) -> LoadResult:
    """Load a file dropped into a landing folder, then clear it from there.

    Accepted (loaded or unchanged): the archive holds the file (``result.archive_path``), so
    it is removed from the landing folder. Refused: it is deleted, leaving a note in
    ``rejected/<source>/<label>.refused.txt`` (the reason, the time, the sha256; never a
    value or the file's name), and an ``InputError`` naming the file by its label is raised
    for the caller to report.
    """
    contract = get_contract(contract) if isinstance(contract, str) else contract
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found (already taken from the landing folder?)", path=path)
    try:
        result = load_file(contract, path, db_path, today=today)
    except InputError as error:
        sha = file_sha256(path)
        reason = refusal_reason(error, contract)
        reject_file(path, contract.name, reason, sha, db_path)
        label = path.with_name(file_label(contract.name, sha, path))
        raise InputError(reason, path=label) from None
    path.unlink()
    return result
