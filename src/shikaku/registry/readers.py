"""Streaming readers for employer files: CSV (UTF-8, UTF-8 with BOM, CP932) and XLSX.

Each yields (line number, cells) so every error can name the line the clerk sees in their
editor or spreadsheet; nothing is read into memory whole.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from shikaku.domain.errors import DomainError

SNIFF_BYTES = 1 << 20


class FileRefused(DomainError):
    """The whole file is refused before any row is written; the message says why."""


@dataclass
class Table:
    encoding: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    size: int = 0  # bytes, for progress
    position: Callable[[], int] = lambda: 0  # bytes read so far


# Undecodable bytes survive as lone surrogates, so the row can be rejected and named
# instead of the whole file failing halfway.
UNDECODABLE = re.compile("[\udc80-\udcff]")


def detect_encoding(path: Path) -> str:
    """BOM first; then strict UTF-8 on the first megabyte; otherwise CP932 (Shift_JIS)."""
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # a character cut at the sniff boundary is fine
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("cp932")().decode(head, final=False)
        return "cp932"
    except UnicodeDecodeError:
        raise FileRefused(
            "文字コードを判別できません（UTF-8 / Shift_JIS のどちらでもありません）。--encoding で指定してください",
            "cannot detect the encoding (neither UTF-8 nor CP932); use --encoding",
        ) from None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@contextmanager
def open_table(path: Path, encoding: str | None = None) -> Iterator[Table]:
    if not path.is_file():
        raise FileRefused(f"ファイルがありません: {path.name}", f"no such file: {path.name}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        with _open_xlsx(path) as table:
            yield table
        return
    enc = encoding or detect_encoding(path)
    if enc.lower().replace("_", "-") in ("shift-jis", "sjis", "shift_jis"):
        enc = "cp932"  # CP932 is the superset that Windows actually writes
    try:
        codecs.lookup(enc)
    except LookupError:
        raise FileRefused(f"未知の文字コードです: {enc}", f"unknown encoding: {enc}") from None
    with path.open("r", encoding=enc, newline="", errors="surrogateescape") as f:
        table = _csv_table(f, enc)
        table.size = path.stat().st_size
        table.position = f.buffer.tell
        yield table


def _csv_table(f: IO[str], encoding: str) -> Table:
    reader = csv.reader(f)
    try:
        header = next(reader)
    except StopIteration:
        raise FileRefused("ファイルが空です", "the file is empty") from None
    if any(UNDECODABLE.search(cell) for cell in header):
        raise FileRefused(
            f"見出し行に {encoding} として読めない文字があります（--encoding を確認してください）",
            f"the header row has bytes that are not valid {encoding} (check --encoding)",
        )

    def rows() -> Iterator[tuple[int, list[str]]]:
        line = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileRefused(
                    f"{reader.line_num} 行目: CSV として読めません ({exc})",
                    f"line {reader.line_num}: malformed CSV ({exc})",
                ) from None
            if cells:
                yield line, cells
            line = reader.line_num + 1

    return Table(encoding, header, rows())


@contextmanager
def _open_xlsx(path: Path) -> Iterator[Table]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise FileRefused(
            f"Excel ファイルとして読めません ({type(exc).__name__})",
            f"not a readable XLSX file ({type(exc).__name__})",
        ) from None
    try:
        sheet = book.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        try:
            header = [_cell(v) for v in next(values)]
        except StopIteration:
            raise FileRefused("シートが空です", "the first sheet is empty") from None
        while header and header[-1] == "":
            header.pop()

        def rows() -> Iterator[tuple[int, list[str]]]:
            for line, row in enumerate(values, start=2):
                cells = [_cell(v) for v in row]
                if any(cells):
                    yield line, cells

        yield Table("xlsx", header, rows())
    finally:
        book.close()
