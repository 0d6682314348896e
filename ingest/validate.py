"""Row-level rules from the contracts: split a typed frame into valid and quarantined rows.

``split_rows`` is plain, vectorised polars: every rule is a boolean expression over the whole
frame, and messages are built (still as expressions) only for the rows that fail. Great
Expectations runs the same rules, built from the same contracts, for reporting as Dagster asset
checks (``expectation_suite`` / ``run_expectations``); it is never on the loading path.

Rules, in the order they are reported:

======================  ==========================================================================
``type``                the value could not be read as the column's type (``_raw__<column>`` set)
``required``            empty in a column that is not nullable
``allowed_values``      not one of the column's ``allowed`` values
``pattern``             does not match the column's ``pattern``
``minimum`` ``maximum`` outside the column's bounds
``not_before``          a date before the date in column ``not_before`` of the same row
``not_future``          a date after ``today``
``duplicate_key``       the primary key occurs more than once in the file (every such row)
``foreign_key``         not among ``known_keys["<contract>.<column>"]`` (checked only when given)
``cross_column``        a rule over several columns of a row, from ``CROSS_COLUMN_RULES``
======================  ==========================================================================

The quarantine has one row per failing data row: ``_row_number``, ``column`` (the failing
columns, comma-separated, in rule order), ``rule`` (the first rule that failed), ``reason`` (all
failures in plain English, joined with "; ": each names its column and rule, and the bound,
list or format the value missed, never the value itself) and ``record`` (the row as a JSON
object of text values, with the original text where a value failed to cast, so it can be read
again by ``ingest.read.to_typed``; it stays in the working warehouse, never published).
"""

import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl

from ingest.contracts import sources
from ingest.contracts.model import Column, Contract
from ingest.read import LINE_NUMBER, RAW_PREFIX, ROW_NUMBER, raw_column

RULES = (
    "type",
    "required",
    "allowed_values",
    "pattern",
    "minimum",
    "maximum",
    "not_before",
    "not_future",
    "duplicate_key",
    "foreign_key",
    "cross_column",
)

QUARANTINE_SCHEMA = {
    ROW_NUMBER: pl.Int64,
    "column": pl.String,
    "rule": pl.String,
    "reason": pl.String,
    "record": pl.String,
}

# Plain-English names for the code formats in the contracts.
PATTERN_WORDS: dict[str, str] = {
    sources.LSOA_CODE: "an LSOA code (E01 and 6 digits)",
    sources.MSOA_CODE: "an MSOA code (E02 and 6 digits)",
    sources.WARD_CODE: "a ward code (E05 and 6 digits)",
    sources.LAD_CODE: "a local authority district code (E06 to E09 and 6 digits)",
    sources.SUB_ICB_CODE: "a sub-ICB location code (E38 and 6 digits)",
    sources.ICB_CODE: "an ICB code (E54 and 6 digits)",
    sources.PRACTICE_CODE: "a GP practice ODS code (a capital letter and 5 digits)",
    sources.PCN_CODE: "a PCN code (U and 5 digits)",
    sources.ORG_ID: "an org-id (GB-CHC-, GB-COH-, GB-SC-, GB-NIC-, GB-LAE-, GB-LAS- or 360G-)",
    sources.GSS_CODE: "an ONS GSS code (E, W, S or N and 8 digits)",
    sources.GRANT_ID: "a 360Giving grant id (360G-, then no spaces)",
    sources.GIVING_ORG_ID: sources.ORG_ID_WORDS,
    sources.GSS_CODE_LIST: "GSS codes (a letter and 8 digits) joined by ';'",
    sources.TOKEN: "a pseudonymised token (6-64 letters, digits, _ or -, with at least one letter)",
}

TYPE_WORDS = {
    "integer": "is not a whole number",
    "float": "is not a number",
    "date": "is not a date (use yyyy-mm-dd or dd/mm/yyyy)",
    "boolean": "is not true or false (use true/false, yes/no, y/n or 1/0)",
}


@dataclass(frozen=True)
class CrossColumnRule:
    """A rule over several columns of one row: ``failed`` is True where the row breaks it."""

    contract: str
    columns: tuple[str, ...]
    description: str
    failed: Callable[[], pl.Expr]
    message: Callable[[], pl.Expr]
    # The same rule as a Great Expectations expectation: (class name, keyword arguments).
    expectation: tuple[str, dict[str, Any]] | None = None


CROSS_COLUMN_RULES: tuple[CrossColumnRule, ...] = (
    CrossColumnRule(
        contract="activity_sessions",
        columns=("referred_attendees", "attendees"),
        description="referred_attendees is at most attendees",
        failed=lambda: pl.col("referred_attendees") > pl.col("attendees"),
        message=lambda: pl.lit("referred_attendees is more than attendees"),
        expectation=(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {
                "column_A": "attendees",
                "column_B": "referred_attendees",
                "or_equal": True,
                "ignore_row_if": "either_value_is_missing",
            },
        ),
    ),
)


@dataclass(frozen=True)
class RowSplit:
    valid: pl.DataFrame
    quarantined: pl.DataFrame


@dataclass(frozen=True)
class _Check:
    column: str
    rule: str
    failed: pl.Expr
    message: pl.Expr
    helpers: tuple[pl.Expr, ...] = field(default_factory=tuple)


# --- messages --------------------------------------------------------------------------------


def _message(*parts: pl.Expr | str | list[pl.Expr | str]) -> pl.Expr:
    flat: list[pl.Expr] = []
    for part in parts:
        items = part if isinstance(part, list) else [part]
        for item in items:
            flat.append(pl.lit(item) if isinstance(item, str) else item)
    return pl.concat_str(flat, ignore_nulls=True)


def _number(value: float) -> str:
    return f"{value:g}" if float(value) != int(value) else f"{int(value):,}".replace(",", "")


# --- checks ----------------------------------------------------------------------------------


def _column_checks(
    contract: Contract, column: Column, frame: pl.DataFrame, today: date
) -> list[_Check]:
    name = column.name
    value = pl.col(name)
    present = value.is_not_null()
    checks: list[_Check] = []
    raw = raw_column(name)
    has_raw = raw in frame.columns
    if has_raw:
        checks.append(
            _Check(
                name,
                "type",
                pl.col(raw).is_not_null(),
                _message(name, " ", TYPE_WORDS[column.dtype]),
            )
        )
    if not column.nullable:
        empty = value.is_null() & (pl.col(raw).is_null() if has_raw else pl.lit(True))
        checks.append(_Check(name, "required", empty, _message(name, " is empty but required")))
    if column.allowed:
        text = value.cast(pl.String)
        checks.append(
            _Check(
                name,
                "allowed_values",
                present & ~text.is_in(list(column.allowed)),
                _message(name, " is not one of ", ", ".join(column.allowed)),
            )
        )
    if column.pattern:
        words = PATTERN_WORDS.get(column.pattern, f"the format {column.pattern}")
        checks.append(
            _Check(
                name,
                "pattern",
                present & ~value.cast(pl.String).str.contains(column.pattern),
                _message(name, " is not ", words),
            )
        )
    if column.minimum is not None:
        checks.append(
            _Check(
                name,
                "minimum",
                present & (value < column.minimum),
                _message(name, " is below the minimum ", _number(column.minimum)),
            )
        )
    if column.maximum is not None:
        checks.append(
            _Check(
                name,
                "maximum",
                present & (value > column.maximum),
                _message(name, " is above the maximum ", _number(column.maximum)),
            )
        )
    if column.not_before:
        other = column.not_before
        checks.append(
            _Check(
                name,
                "not_before",
                present & pl.col(other).is_not_null() & (value < pl.col(other)),
                _message(name, " is before ", other),
            )
        )
    if column.not_future:
        checks.append(
            _Check(
                name,
                "not_future",
                present & (value > pl.lit(today)),
                _message(name, f" is in the future (after {today.isoformat()})"),
            )
        )
    return checks


# In a batch of a file: how often the row's key occurs in the whole file (null: once).
FILE_KEY_COUNT = "__file_key_count"


def _key_checks(
    contract: Contract, frame: pl.DataFrame, known_keys: Mapping[str, set[str]] | None
) -> list[_Check]:
    checks: list[_Check] = []
    key = list(contract.primary_key)
    if key:
        complete = pl.all_horizontal(pl.col(name).is_not_null() for name in key)
        count = (
            pl.col(FILE_KEY_COUNT).fill_null(1)
            if FILE_KEY_COUNT in frame.columns
            else pl.len().over(key)
        )
        checks.append(
            _Check(
                ", ".join(key),
                "duplicate_key",
                complete & (pl.col("__key_count") > 1),
                _message(
                    "duplicate key (",
                    ", ".join(key),
                    "): occurs ",
                    pl.col("__key_count").cast(pl.String),
                    " times in the file",
                ),
                helpers=(count.alias("__key_count"),),
            )
        )
    for foreign_key in contract.foreign_keys:
        keys = (known_keys or {}).get(foreign_key.references)
        if keys is None:
            continue
        name = foreign_key.column
        known = pl.Series(sorted(keys), dtype=pl.String)
        checks.append(
            _Check(
                name,
                "foreign_key",
                pl.col(name).is_not_null() & ~pl.col(name).cast(pl.String).is_in(known.implode()),
                _message(
                    name, f" is not a known {foreign_key.target_column} in {foreign_key.contract}"
                ),
            )
        )
    return checks


def _cross_checks(contract: Contract, frame: pl.DataFrame) -> list[_Check]:
    return [
        _Check(", ".join(rule.columns), "cross_column", rule.failed(), rule.message())
        for rule in CROSS_COLUMN_RULES
        if rule.contract == contract.name and all(c in frame.columns for c in rule.columns)
    ]


def checks_for(
    contract: Contract,
    frame: pl.DataFrame,
    *,
    today: date | None = None,
    known_keys: Mapping[str, set[str]] | None = None,
) -> list[_Check]:
    """Every check for ``contract`` over ``frame``, in reporting order."""
    today = today or date.today()
    checks: list[_Check] = []
    for column in contract.columns:
        checks += _column_checks(contract, column, frame, today)
    checks += _key_checks(contract, frame, known_keys)
    checks += _cross_checks(contract, frame)
    return checks


def file_key_counts(contract: Contract, keys: pl.DataFrame) -> pl.DataFrame | None:
    """The keys (typed, as ``ingest.read.to_typed`` gives them) that occur more than once in
    a file, with how often: what ``split_rows`` needs to judge one batch of the file."""
    key = list(contract.primary_key)
    if not key:
        return None
    complete = pl.all_horizontal(pl.col(name).is_not_null() for name in key)
    return (
        keys.lazy()
        .filter(complete)
        .group_by(key)
        .agg(pl.len().alias(FILE_KEY_COUNT))
        .filter(pl.col(FILE_KEY_COUNT) > 1)
        .collect()
    )


def key_hashes(contract: Contract, keys: pl.DataFrame) -> pl.Series:
    """A 64-bit hash of every complete primary key in ``keys`` (typed key columns): eight
    bytes a row, where the keys themselves would take tens."""
    key = list(contract.primary_key)
    complete = pl.all_horizontal(pl.col(name).is_not_null() for name in key)
    return keys.lazy().filter(complete).select(pl.struct(key).hash()).collect().to_series()


def repeated_hashes(hashes: list[pl.Series]) -> pl.Series:
    """The hashes that occur more than once among ``hashes`` (which it empties, to free them)
    : the keys that may be duplicates (equal hashes of unequal keys are told apart later)."""
    every = pl.concat(hashes) if hashes else pl.Series([], dtype=pl.UInt64)
    hashes.clear()
    every = every.sort()
    if every.len() < 2:
        return every.clear()
    later = every.slice(1)
    return later.filter(later == every.slice(0, every.len() - 1)).unique()


def split_rows(
    contract: Contract,
    frame: pl.DataFrame,
    *,
    today: date | None = None,
    known_keys: Mapping[str, set[str]] | None = None,
    key_counts: pl.DataFrame | None = None,
) -> RowSplit:
    """Split a typed frame from ``ingest.read`` into the rows that pass every rule and the rest.

    ``frame`` is a whole file, or one batch of it with ``key_counts`` from ``file_key_counts``
    over the whole file's keys (so that a key repeated in another batch is a duplicate too).
    """
    output = [name for name in frame.columns if not name.startswith(RAW_PREFIX)]
    if key_counts is not None and contract.primary_key:
        frame = frame.join(
            key_counts, on=list(contract.primary_key), how="left", maintain_order="left"
        )
    checks = checks_for(contract, frame, today=today, known_keys=known_keys)
    helpers = [helper for check in checks for helper in check.helpers]
    flags = [f"__failed_{index}" for index in range(len(checks))]
    lazy = frame.lazy().with_columns(helpers) if helpers else frame.lazy()
    failed_any = pl.any_horizontal(flags) if flags else pl.lit(False)
    work = (
        lazy.with_columns(
            check.failed.fill_null(False).alias(flag)
            for check, flag in zip(checks, flags, strict=True)
        )
        .with_columns(failed_any.alias("__failed_any"))
        .collect()
    )
    valid = work.filter(~pl.col("__failed_any")).select(output)
    bad = work.filter(pl.col("__failed_any"))

    reason = pl.concat_str(
        [
            pl.when(pl.col(flag)).then(check.message)
            for check, flag in zip(checks, flags, strict=True)
        ],
        separator="; ",
        ignore_nulls=True,
    )
    if LINE_NUMBER in bad.columns:
        reason = pl.concat_str(
            reason,
            pl.when(pl.col(LINE_NUMBER) != pl.col(ROW_NUMBER)).then(
                pl.format(" (the record starts on line {} of the file)", pl.col(LINE_NUMBER))
            ),
            ignore_nulls=True,
        )
    quarantined = (
        bad.select(
            pl.col(ROW_NUMBER).cast(pl.Int64),
            pl.concat_list(
                pl.when(pl.col(flag)).then(pl.lit(check.column))
                for check, flag in zip(checks, flags, strict=True)
            )
            .list.drop_nulls()
            .list.unique(maintain_order=True)
            .list.join(", ")
            .alias("column"),
            pl.coalesce(
                pl.when(pl.col(flag)).then(pl.lit(check.rule))
                for check, flag in zip(checks, flags, strict=True)
            ).alias("rule"),
            reason.alias("reason"),
            _record(contract, frame).alias("record"),
        )
        if checks
        else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    )
    return RowSplit(valid=valid, quarantined=quarantined.cast(QUARANTINE_SCHEMA))


def _record(contract: Contract, frame: pl.DataFrame) -> pl.Expr:
    """The row as JSON text values: contract columns, original text where a cast failed."""
    fields = []
    for column in contract.columns:
        if column.name not in frame.columns:
            continue
        text = pl.col(column.name).cast(pl.String)
        raw = raw_column(column.name)
        if raw in frame.columns:
            text = pl.coalesce(text, pl.col(raw))
        fields.append(text.alias(column.name))
    return pl.struct(fields).struct.json_encode()


# --- Great Expectations (reporting, not loading) ---------------------------------------------


def _gx() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    return gx


def expectation_suite(
    contract: Contract,
    *,
    today: date | None = None,
    known_keys: Mapping[str, set[str]] | None = None,
) -> Any:
    """A Great Expectations 1.x ``ExpectationSuite`` holding the contract's rules.

    Each expectation's ``meta`` names the contract column and the ``split_rows`` rule it
    mirrors. Type failures are not in the suite (they need the frame's ``_raw__`` columns);
    ``run_expectations`` adds them.
    """
    gx = _gx()
    return gx.ExpectationSuite(
        name=f"{contract.name}_contract",
        expectations=_expectations(contract, today=today, known_keys=known_keys),
    )


def _expectations(
    contract: Contract,
    *,
    today: date | None = None,
    known_keys: Mapping[str, set[str]] | None = None,
    raw_columns: tuple[str, ...] = (),
) -> list[Any]:
    expectations = _gx().expectations
    today = today or date.today()
    found: list[Any] = []

    def add(cls: str, reported: str, rule: str, **kwargs: Any) -> None:
        found.append(getattr(expectations, cls)(**kwargs, meta={"column": reported, "rule": rule}))

    for column in contract.columns:
        name = column.name
        if not column.nullable:
            add("ExpectColumnValuesToNotBeNull", name, "required", column=name)
        if column.allowed:
            add(
                "ExpectColumnValuesToBeInSet",
                name,
                "allowed_values",
                column=name,
                value_set=list(column.allowed),
            )
        if column.pattern:
            add(
                "ExpectColumnValuesToMatchRegex", name, "pattern", column=name, regex=column.pattern
            )
        if column.minimum is not None or column.maximum is not None:
            add(
                "ExpectColumnValuesToBeBetween",
                name,
                ", ".join(
                    rule
                    for rule, bound in (("minimum", column.minimum), ("maximum", column.maximum))
                    if bound is not None
                ),
                column=name,
                min_value=column.minimum,
                max_value=column.maximum,
            )
        if column.not_before:
            add(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                name,
                "not_before",
                column_A=name,
                column_B=column.not_before,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        if column.not_future:
            add(
                "ExpectColumnValuesToBeBetween",
                name,
                "not_future",
                column=name,
                max_value=datetime.combine(today, datetime.min.time()),
            )
    key = list(contract.primary_key)
    if len(key) == 1:
        add("ExpectColumnValuesToBeUnique", key[0], "duplicate_key", column=key[0])
    elif key:
        add(
            "ExpectCompoundColumnsToBeUnique",
            ", ".join(key),
            "duplicate_key",
            column_list=key,
            ignore_row_if="any_value_is_missing",
        )
    for foreign_key in contract.foreign_keys:
        keys = (known_keys or {}).get(foreign_key.references)
        if keys is not None:
            add(
                "ExpectColumnValuesToBeInSet",
                foreign_key.column,
                "foreign_key",
                column=foreign_key.column,
                value_set=sorted(keys),
            )
    for rule in CROSS_COLUMN_RULES:
        if rule.contract == contract.name and rule.expectation is not None:
            cls, kwargs = rule.expectation
            add(cls, ", ".join(rule.columns), "cross_column", **kwargs)
    for column in contract.columns:
        if raw_column(column.name) in raw_columns:
            add("ExpectColumnValuesToBeNull", column.name, "type", column=raw_column(column.name))
    return found


def run_expectations(
    contract: Contract,
    frame: pl.DataFrame,
    *,
    today: date | None = None,
    known_keys: Mapping[str, set[str]] | None = None,
) -> list[dict[str, Any]]:
    """Validate a pandas copy of ``frame`` against the contract's suite, in an ephemeral context.

    Returns one dict per expectation: ``expectation`` (its type), ``column`` (the contract
    column, or comma-joined columns), ``rule`` (the matching ``split_rows`` rule), ``success``
    and ``unexpected_count``. Columns that failed to cast (``_raw__<column>``) are reported as
    ``expect_column_values_to_be_null`` on that helper column, under rule ``type``.
    """
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    raw_columns = tuple(name for name in frame.columns if name.startswith(RAW_PREFIX))
    suite = gx.ExpectationSuite(
        name=f"{contract.name}_contract",
        expectations=_expectations(
            contract, today=today, known_keys=known_keys, raw_columns=raw_columns
        ),
    )
    data_source = context.data_sources.add_pandas(name=f"{contract.name}_frame")
    asset = data_source.add_dataframe_asset(name=contract.name)
    batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame.to_pandas()})
    with warnings.catch_warnings():
        # pandas warns about the groups in the contracts' alternations (ORG_ID); harmless
        warnings.filterwarnings("ignore", "This pattern is interpreted", UserWarning)
        result = batch.validate(suite)

    results = []
    for item in result.results:
        config = item.expectation_config
        meta = config.meta or {}
        raised = bool(item.exception_info and item.exception_info.get("raised_exception"))
        results.append(
            {
                "expectation": config.type,
                "column": meta.get("column"),
                "rule": meta.get("rule"),
                "success": bool(item.success) and not raised,
                "unexpected_count": int(item.result.get("unexpected_count") or 0),
            }
        )
    return results
