"""The one error type for bad input: the CLI turns it into a plain message and exit code 2."""

from pathlib import Path


class InputError(Exception):
    """A file (or a row of it) that cannot be accepted, said in words a sender understands."""

    def __init__(
        self,
        reason: str,
        *,
        path: Path | str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.reason = reason
        self.path = Path(path) if path is not None else None
        self.row = row
        self.column = column
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason
