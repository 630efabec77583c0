"""What shikaku writes for people: private files, spreadsheet-safe CSV, no My Number.

Three rules, each in one place (docs/security.md, "Files and reports"):

- **Private files.** Every file holding members' data is created 0600 and every folder
  0700, whatever umask the caller had: `private_umask()` sets the process umask to 077 once,
  at the start of the `shikaku` command (and of an issuance worker's task, which may run on
  a cluster no `shikaku` command started); children inherit it. The SQLite registry is also
  created 0600 explicitly (`create_private_file`), because other processes with other umasks
  open it and SQLite gives its -wal, -shm and -journal files the database file's mode.
- **No formulas in CSV.** A CSV made for Excel is written through `csv_writer`: a text cell
  that starts with = + - @, a tab or a carriage return gets a leading single quote (OWASP,
  "CSV Injection"), so `=HYPERLINK(...)` from an employer's file is shown, never run.
- **No My Number in anything echoed.** `mask_digit_runs` hides every run of 12 or more
  digits (spaces and hyphens between them allowed, full-width digits included) behind its
  last 4 digits; `my_number_tail` shows a My Number cell as its last 4 digits only;
  `for_terminal` also shows control and format characters as \\uXXXX.
"""

from __future__ import annotations

import csv
import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, Protocol

PRIVATE_UMASK: Final = 0o077
PRIVATE_FILE_MODE: Final = 0o600
PRIVATE_DIR_MODE: Final = 0o700


def private_umask() -> None:
    """Files this process (and every child it starts) creates are 0600, folders 0700."""
    os.umask(PRIVATE_UMASK)


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 (its missing folders 0700) unless it exists.

    For files that other tools open and extend (the SQLite registry), so their mode does not
    depend on the umask of whichever process happened to create them. An existing file keeps
    its mode."""
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return
    os.fchmod(fd, PRIVATE_FILE_MODE)  # the umask may have taken bits off the mode above
    os.close(fd)


# ------------------------------------------------------------------ spreadsheet-safe CSV

# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP).
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, quoted so it is shown as text.

    Only text is touched: numbers shikaku computes (counts, ids) are written as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Writer(Protocol):
    def writerow(self, row: Iterable[Any], /) -> Any: ...


class SpreadsheetCsvWriter:
    """`csv.writer` whose every text cell goes through `spreadsheet_cell`."""

    def __init__(self, f: Any, **kwargs: Any) -> None:
        self._writer: _Writer = csv.writer(f, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([spreadsheet_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        writerow = self.writerow
        for row in rows:
            writerow(row)


def csv_writer(f: Any, **kwargs: Any) -> SpreadsheetCsvWriter:
    """The CSV writer for every file (or stream) shikaku writes for people to open."""
    return SpreadsheetCsvWriter(f, **kwargs)


# ------------------------------------------------------------------ My Numbers in echoes

# 12 or more digits (any script's digits, so full-width too), spaces or hyphens between.
_DIGIT_RUN: Final = re.compile(r"\d(?:[\s\-\u2010-\u2015\u2212\u30fc\uff0d\uff70]*\d){11,}")


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.digit(c)) for c in text if c.isdigit())


def _masked(digits: str) -> str:
    return "********" + digits[-4:] if len(digits) >= 4 else "****"


def mask_digit_runs(text: str) -> str:
    """`text` with every run of 12+ digits (a My Number, wherever it was typed) shown as
    ********1234; other text unchanged."""
    if len(text) < 12:
        return text
    return _DIGIT_RUN.sub(lambda m: _masked(_ascii_digits(m.group())), text)


_HARMLESS: Final = frozenset("\u3000\n\t")  # not isprintable(), yet only spacing


def for_terminal(text: str) -> str:
    """File content as a command may echo it: My Numbers masked (`mask_digit_runs`), and
    control and format characters (an ESC sequence, a bidi override) shown as \\uXXXX, so
    they neither act on the terminal nor reorder what is around them."""
    text = mask_digit_runs(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in _HARMLESS else f"\\u{ord(c):04x}" for c in text)


def my_number_tail(value: str) -> str:
    """A My Number cell as it may be shown: its last 4 digits only (valid or not, whatever
    its length); a cell without digits cannot hold a number and is shown as it is."""
    digits = _ascii_digits(value)
    return _masked(digits) if digits else value
