"""Errors a user can cause: the CLI prints them as one red line and exits 1."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """A problem with the user's input or options, explained so they can fix it.

    The message should name the file, row or option and say what to do.
    """


class InputError(UserError):
    """A file that cannot be read as the format it was given as."""

    def __init__(self, path: str | Path, reason: str, row: int | None = None) -> None:
        self.path = str(path)
        self.row = row
        self.reason = reason
        where = f"{self.path}" + (f", row {row}" if row is not None else "")
        super().__init__(f"{where}: {reason}")
