"""The building blocks of a contract: columns, foreign keys and the contract itself."""

from dataclasses import dataclass, field
from typing import Literal

DataType = Literal["string", "integer", "float", "date", "boolean"]
FileFormat = Literal["csv", "xlsx", "json", "parquet"]

# Type names as DuckDB spells them, used for raw tables and dbt source docs.
DUCKDB_TYPES: dict[str, str] = {
    "string": "varchar",
    "integer": "bigint",
    "float": "double",
    "date": "date",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class Column:
    """One column of a source file.

    ``name`` is the canonical snake_case name used in the warehouse. ``aliases`` are other
    headers accepted for it (the published name in a national file, a 360Giving spreadsheet
    title); header matching ignores case, spaces and punctuation.
    """

    name: str
    dtype: DataType
    description: str
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    aliases: tuple[str, ...] = ()
    standard: str | None = None
    # A date column that must be on or after another date column of the same row.
    not_before: str | None = None
    not_future: bool = False
    # The header may be missing from a file (the values are then empty); published files
    # such as the Indices of Deprivation come in fuller and thinner layouts.
    optional: bool = False
    # The pattern in words, for documentation, where the pattern itself is too long to read
    # (a list of hundreds of registered codes).
    pattern_words: str | None = None

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.dtype]

    def rules(self) -> list[str]:
        """The checks this column carries, in words, for documentation."""
        words: list[str] = []
        words.append("may be empty" if self.nullable else "required")
        if self.optional:
            words.append("column may be absent")
        if self.allowed:
            words.append("one of " + ", ".join(f"`{value}`" for value in self.allowed))
        if self.pattern_words:
            words.append(self.pattern_words)
        elif self.pattern:
            words.append(f"matches `{self.pattern}`")
        if self.minimum is not None and self.maximum is not None:
            words.append(f"between {self.minimum:g} and {self.maximum:g}")
        elif self.minimum is not None:
            words.append(f"at least {self.minimum:g}")
        elif self.maximum is not None:
            words.append(f"at most {self.maximum:g}")
        if self.not_before:
            words.append(f"not before `{self.not_before}`")
        if self.not_future:
            words.append("not in the future")
        return words


@dataclass(frozen=True)
class ForeignKey:
    """``column`` of this contract must be present in ``references`` (``contract.column``)."""

    column: str
    references: str

    @property
    def contract(self) -> str:
        return self.references.split(".")[0]

    @property
    def target_column(self) -> str:
        return self.references.split(".")[1]


@dataclass(frozen=True)
class Contract:
    """A source file an ICB receives: what it holds, its grain, and the rules for every row."""

    name: str
    title: str
    description: str
    sender: str
    file_format: FileFormat
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    standards: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = field(default_factory=tuple)
    # The column whose month identifies the period a file covers, so that a corrected file
    # for the same period replaces the rows loaded before rather than adding to them.
    period_column: str | None = None
    # Columns that hold free text and must be screened for names and addresses.
    free_text_columns: tuple[str, ...] = ()
    # Columns whose values say which rows a file replaces: a file replaces the rows loaded
    # before that hold any of its values there (a funder's file, its funder's grants), rather
    # than the whole table (rows with no value there match each other). Empty: a snapshot
    # (or, with ``period_column``, the months).
    replace_scope: tuple[str, ...] = ()
    # The source is an open publication about organisations (360Giving grants): its texts are
    # screened for NHS numbers and dates of birth, not for names and addresses, which in it
    # are of organisations, their staff and places; a header naming personal data, or a grant
    # to an individual, still refuses a file.
    published_openly: bool = False
    # Freshness for dbt sources: warn and error after this many days without a load.
    freshness_warn_days: int = 14
    freshness_error_days: int = 45

    @property
    def file_name(self) -> str:
        return f"{self.name}.{self.file_format}"

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def required_columns(self) -> list[str]:
        """Columns whose header must be present in every file."""
        return [column.name for column in self.columns if not column.optional]
