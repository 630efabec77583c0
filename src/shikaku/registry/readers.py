"""Streaming readers for employer files: CSV (UTF-8, UTF-8 with BOM, CP932) and XLSX.

Each yields (line number, cells) so every error can name the line the clerk sees in their
editor or spreadsheet; nothing is read into memory whole: a line or a record longer than
any real row is skipped in pieces. A row the reader cannot split into cells is yielded as a
`MalformedRow` (rejected with its line, column and reason), never as a failure of the file:
rows before it may already be committed.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import math
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, Final, cast

from shikaku.domain.errors import DomainError

SNIFF_BYTES = 1 << 20
OLE2_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls) and other OLE files
# A physical line, and a record (a row, with quoted line breaks), longer than any real row:
# the reader skips the rest in pieces of this size and rejects the row.
MAX_LINE_CHARS: Final = 1 << 20
MAX_RECORD_CHARS: Final = 1 << 22


class FileRefused(DomainError):
    """The whole file is refused before any row is written; the message says why."""


@dataclass
class Table:
    encoding: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    size: int = 0  # bytes, for progress
    position: Callable[[], int] = lambda: 0  # bytes read so far


class MalformedRow(list[str]):
    """A row that could not be read into cells (or whose cell Excel could not compute).

    Empty as a list of cells, so batching treats it as a row of its own; `column` is the
    position (0-based) of the cell where the fault was found, None for the row as a whole.
    """

    __slots__ = ("column", "en", "ja", "value")

    def __init__(self, column: int | None, ja: str, en: str, value: str = "") -> None:
        super().__init__()
        self.column, self.ja, self.en, self.value = column, ja, en, value


class NumericCell(str):
    """An XLSX cell stored as a number, as text: leading zeros it was meant to have are
    gone (01130012 typed into a General cell is 1130012), so code columns restore or refuse
    it (rows.screen)."""

    __slots__ = ()


class DateCell(str):
    """An XLSX cell stored as a date, as YYYY-MM-DD (or the ISO date and time)."""

    __slots__ = ()


# Undecodable bytes survive as lone surrogates, so the row can be rejected and named
# instead of the whole file failing halfway.
UNDECODABLE = re.compile("[\udc80-\udcff]")


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """BOM first; then strict UTF-8 on the first megabyte; otherwise the encoding more of its
    lines are in and not in the other (a file with a few rows pasted from a file in the other
    encoding: those rows are rejected one by one, not the file), or CP932 if all of it is."""
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused(
            "UTF-16 のテキスト（Excel の「Unicode テキスト」）は読めません。"
            "CSV UTF-8 か Excel ブック (.xlsx) で保存してください",
            "UTF-16 text (Excel's Unicode Text) is not read: save as CSV UTF-8 or .xlsx",
        )
    if head.startswith(OLE2_MAGIC):
        raise FileRefused(
            "Excel 97-2003 ブック (.xls) は読めません。Excel ブック (.xlsx) か CSV で保存してください",
            "an Excel 97-2003 workbook (.xls) is not read: save as .xlsx or CSV",
        )
    if _decodes_head(head, "utf-8"):
        return "utf-8"
    lines = head.splitlines()
    if len(head) == SNIFF_BYTES:
        lines = lines[:-1]  # possibly cut
    votes = {"utf-8": 0, "cp932": 0}
    for line in lines:
        if line.isascii():
            continue
        utf8, cp932 = _decodes(line, "utf-8"), _decodes(line, "cp932")
        if utf8 != cp932:
            votes["utf-8" if utf8 else "cp932"] += 1
    if votes["utf-8"] != votes["cp932"]:
        return max(votes, key=votes.__getitem__)
    if _decodes_head(head, "cp932"):
        return "cp932"
    raise FileRefused(
        "文字コードを判別できません（UTF-8 / Shift_JIS のどちらでもありません）。--encoding で指定してください",
        "cannot detect the encoding (neither UTF-8 nor CP932); use --encoding",
    )


def _decodes_head(head: bytes, encoding: str) -> bool:
    """Whether the file's first bytes decode (a character cut at their end is fine)."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


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
        codec = codecs.lookup(enc).name
    except LookupError:
        raise FileRefused(f"未知の文字コードです: {enc}", f"unknown encoding: {enc}") from None
    with path.open("r", encoding=enc, newline="", errors="surrogateescape") as f:
        table = _csv_table(f, enc, codec == "cp932")
        table.size = path.stat().st_size
        table.position = cast(BinaryIO, f.buffer).tell  # a file's buffer: a BufferedReader
        yield table


# ------------------------------------------------------------------ CSV


class _TooLong(Exception):
    """A physical line or a record longer than any real row (raised through csv.reader)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"longer than {limit:,} characters")
        self.limit = limit


# What UTF-8 Japanese looks like read as CP932: the first two bytes of a UTF-8 kana, kanji or
# full-width character (E3-E9 or EF, then 80-BF) are one CP932 character, from this set of
# 481 (mostly JIS level 2 kanji). A Japanese cell of a row pasted from a UTF-8 file begins with
# one, since a cell starts after a comma; a genuine Shift_JIS row holds one rarely (one row
# in a hundred of the demo data), and only those rows have their cells' bytes examined.
_UTF8_LEADS: Final = "".join(
    dict.fromkeys(
        bytes((lead, trail)).decode("cp932", "ignore")
        for lead in (*range(0xE3, 0xEA), 0xEF)
        for trail in range(0x80, 0xC0)
    )
)
_UTF8_READ_AS_CP932: Final = re.compile(f"[{re.escape(_UTF8_LEADS)}]")
_JAPANESE: Final = re.compile("[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def as_utf8(cell: str, encoding: str) -> str | None:
    """The cell's text if its bytes are UTF-8 Japanese although the file is `encoding`."""
    text = cell.encode(encoding, "surrogateescape").decode("utf-8", "surrogateescape")
    if UNDECODABLE.search(text) is None and _JAPANESE.search(text) is not None:
        return text
    return None


def wrong_encoding(row_in: str, encoding: str) -> tuple[str, str]:
    """The reason (ja, en) of a row written in another encoding than its file's."""
    file_in = {"cp932": "Shift_JIS", "utf-8": "UTF-8", "utf-8-sig": "UTF-8"}.get(encoding, encoding)
    return (
        f"この行はファイルの文字コード（{file_in}）ではなく {row_in} で書かれています"
        "（文字化けを防ぐため取り込みません。ファイルを一つの文字コードで保存し直してください）",
        f"this row is {row_in}, not in the file's encoding ({encoding})",
    )


def _utf8_cells(cells: list[str]) -> MalformedRow | None:
    """In a Shift_JIS file, the first cell whose bytes are UTF-8 Japanese. It may decode
    without an error, as mojibake (UTF-8 花子 reads as 闃ｱ蟄・), so only its bytes tell. A
    cell of Japanese text in CP932 is practically never valid UTF-8 as a whole (its lead
    bytes 0x81-0x9F cannot start a UTF-8 character), so genuine rows are not taken for it."""
    for i, cell in enumerate(cells):
        if not cell.isascii() and (text := as_utf8(cell, "cp932")) is not None:
            return MalformedRow(i, *wrong_encoding("UTF-8", "cp932"), text)
    return None


class _Lines:
    """The file's physical lines for csv.reader, each at most MAX_LINE_CHARS long.

    Counts them (line numbers the clerk sees) and keeps the text of the record being
    read, so that a record csv cannot read can be skipped to its real end.
    """

    __slots__ = ("count", "ended", "readline", "record", "size")

    def __init__(self, f: IO[str]) -> None:
        self.readline = f.readline
        self.count = 0  # physical lines begun
        self.record: list[str] = []  # the current record's lines
        self.size = 0  # their characters
        self.ended = True  # whether the last piece read ended its line

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.readline(MAX_LINE_CHARS)
        if not line:
            raise StopIteration
        self.count += 1
        self.record.append(line)
        self.size += len(line)
        if len(line) == MAX_LINE_CHARS and line[-1] not in "\r\n":
            self.ended = False
            raise _TooLong(MAX_LINE_CHARS)
        if self.size > MAX_RECORD_CHARS:
            raise _TooLong(MAX_RECORD_CHARS)
        return line

    def next_record(self) -> int:
        """Start a record: its first line's number."""
        self.record.clear()
        self.size = 0
        return self.count + 1

    def piece(self) -> str:
        """The next piece of the file while skipping a record, counting the lines it begins."""
        piece = self.readline(MAX_LINE_CHARS)
        if piece:
            if self.ended:
                self.count += 1
            self.ended = piece[-1] in "\r\n"
        return piece


# The states of an excel-dialect record, as csv.reader moves through them.
_START, _FIELD, _QUOTED, _QUOTE_IN_QUOTED = range(4)
_SPECIAL: Final = re.compile(r'[",\r\n]')


class _Scan:
    """Follows a record's text as csv.reader would, to find where a row that csv refused
    really ends (a quoted field may go on for lines) and which of its fields was too long."""

    __slots__ = ("ended", "field", "length", "limit", "over", "state")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.state = _START
        self.field = 0  # index of the field being read
        self.length = 0  # its characters so far
        self.over: int | None = None  # the first field longer than `limit`
        self.ended = False  # a line break outside quotes ended the record

    def feed(self, text: str) -> None:
        pos = 0
        for m in _SPECIAL.finditer(text):
            self._plain(m.start() - pos)
            pos = m.end()
            c, state = m.group(), self.state
            if c == '"':
                if state == _START:
                    self.state = _QUOTED
                elif state == _QUOTED:
                    self.state = _QUOTE_IN_QUOTED
                elif state == _QUOTE_IN_QUOTED:  # "" inside quotes: one quote
                    self.state = _QUOTED
                    self._plain(1)
                else:
                    self._plain(1)
            elif state == _QUOTED:  # a separator or a line break inside quotes
                self._plain(1)
            elif c == ",":
                self.state, self.field, self.length = _START, self.field + 1, 0
            else:
                self.ended = True
                return
        self._plain(len(text) - pos)

    def _plain(self, n: int) -> None:
        if n:
            if self.state in (_START, _QUOTE_IN_QUOTED):
                self.state = _FIELD
            self.length += n
            if self.over is None and self.length > self.limit:
                self.over = self.field


def _skip_record(lines: _Lines, exc: Exception) -> MalformedRow:
    """After csv refused a record: skip to its real end, and say which field and why."""
    limit = csv.field_size_limit()
    scan = _Scan(limit)
    for text in lines.record:
        scan.feed(text)
    while not scan.ended and (piece := lines.piece()):
        scan.feed(piece)
    if isinstance(exc, _TooLong):  # the column, when one value alone is too long
        return MalformedRow(
            scan.over,
            f"行が長すぎます（{exc.limit:,}文字を超えています）",
            f"row longer than {exc.limit:,} characters",
        )
    if scan.over is not None:
        return MalformedRow(
            scan.over,
            f"値が長すぎます（{limit:,}文字を超えています）",
            f"value longer than {limit:,} characters",
        )
    return MalformedRow(None, f"CSV として読めません ({exc})", f"malformed CSV ({exc})")


def _csv_table(f: IO[str], encoding: str, cp932: bool) -> Table:
    lines = _Lines(f)
    suspect = _UTF8_READ_AS_CP932.search if cp932 else None
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise FileRefused("ファイルが空です", "the file is empty") from None
    except (csv.Error, _TooLong) as exc:
        raise FileRefused(
            f"見出し行を読めません ({exc})", f"cannot read the header row ({exc})"
        ) from None
    if any(UNDECODABLE.search(cell) for cell in header):
        raise FileRefused(
            f"見出し行に {encoding} として読めない文字があります（--encoding を確認してください）",
            f"the header row has bytes that are not valid {encoding} (check --encoding)",
        )

    def rows() -> Iterator[tuple[int, list[str]]]:
        while True:
            line = lines.next_record()
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, _TooLong) as exc:
                yield line, _skip_record(lines, exc)
                continue
            if not cells:
                continue
            if (
                suspect is not None
                and any(map(suspect, lines.record))
                and (bad := _utf8_cells(cells)) is not None
            ):
                yield line, bad
                continue
            yield line, cells

    return Table(encoding, header, rows())


# ------------------------------------------------------------------ XLSX

# What Excel shows in a cell whose formula failed.
EXCEL_ERRORS: Final = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return DateCell(
            value.date().isoformat() if value.time() == dt.time() else value.isoformat()
        )
    if isinstance(value, dt.date):
        return DateCell(value.isoformat())
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return NumericCell(int(value))
        return NumericCell(value)
    if isinstance(value, int):
        return NumericCell(value)
    return str(value)


def _uncomputed(values: tuple[object, ...], formulas: tuple[object, ...]) -> MalformedRow | None:
    """A cell whose formula has no saved result, or whose result is an Excel error."""
    for i, (value, formula) in enumerate(zip(values, formulas, strict=False)):
        if value is None and isinstance(formula, str) and formula.startswith("="):
            return MalformedRow(
                i,
                "数式の計算結果がファイルに保存されていません"
                "（Excel で開いて保存し直すか、値として貼り付けてください）",
                "a formula without a saved result (open and save the file in Excel)",
                formula,
            )
        if isinstance(value, str) and value in EXCEL_ERRORS:
            return MalformedRow(
                i, f"Excel のエラー値「{value}」です", f"an Excel error value {value}", value
            )
    return None


def _check_archive(path: Path) -> None:
    """Refuse a damaged XLSX before any row is written: its sheet is read as a stream, and
    a damaged part found halfway (a bad checksum, XML cut short) would stop the import after
    committed batches. Checking every part's CRC costs one decompression of the file."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRefused(
            f"Excel ファイルとして読めません ({type(exc).__name__})",
            f"not a readable XLSX file ({type(exc).__name__})",
        ) from None
    with archive:
        try:
            damaged = archive.testzip()  # the first part whose checksum is wrong, or None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            damaged = type(exc).__name__  # data that does not even decompress
    if damaged is not None:
        raise FileRefused(
            f"Excel ファイルが壊れています（{damaged}）", f"the XLSX file is damaged ({damaged})"
        )


@contextmanager
def _open_xlsx(path: Path) -> Iterator[Table]:
    """The first sheet. Cells are read as Excel shows them (a formula as its saved result);
    the file is read a second time for the formulas themselves, so that a formula whose
    result was never saved (a file written by a program) rejects its row instead of
    reading as a blank cell."""
    from openpyxl import load_workbook

    _check_archive(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
        formula_book = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise FileRefused(
            f"Excel ファイルとして読めません ({type(exc).__name__})",
            f"not a readable XLSX file ({type(exc).__name__})",
        ) from None
    try:
        sheet = book.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        formulas = formula_book.worksheets[0].iter_rows(values_only=True)
        try:
            header = [str(_cell(v)) for v in next(values)]
            next(formulas)
        except StopIteration:
            raise FileRefused("シートが空です", "the first sheet is empty") from None
        while header and header[-1] == "":
            header.pop()

        def rows() -> Iterator[tuple[int, list[str]]]:
            for line, (row, formula_row) in enumerate(zip(values, formulas, strict=False), start=2):
                bad = _uncomputed(row, formula_row)
                if bad is not None:
                    yield line, bad
                    continue
                cells = [_cell(v) for v in row]
                if any(cells):
                    yield line, cells

        yield Table("xlsx", header, rows())
    finally:
        book.close()
        formula_book.close()
