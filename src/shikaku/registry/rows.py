"""From raw cells to typed records: header mapping, per-field parsing, error collection.

A row is either a record or a list of RowErrors naming line, column and reason; never both,
never silently dropped. Values in errors are masked so no My Number reaches a report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from shikaku.domain.errors import DomainError
from shikaku.domain.normalize import to_halfwidth_ascii
from shikaku.registry.columns import COLUMNS, Column, FileKind
from shikaku.registry.readers import (
    UNDECODABLE,
    FileRefused,
    MalformedRow,
    NumericCell,
    as_utf8,
    wrong_encoding,
)

_LONG_DIGITS = re.compile(r"\d{12,}")


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str  # the header as written in the file; "" for the row as a whole
    value: str  # masked
    ja: str
    en: str


MASK_LIMIT: Final = 200  # characters of a value copied into the error report


def mask_value(value: str) -> str:
    """Hide anything that could be a My Number, whichever column it was typed into."""
    half = to_halfwidth_ascii(value)
    if _LONG_DIGITS.search(half.replace("-", "").replace(" ", "")):
        digits = "".join(ch for ch in half if ch.isdigit())
        stars = min(len(digits) - 4, MASK_LIMIT - 4)  # 5,000 digits are not copied whole
        return "*" * stars + digits[-4:] if len(digits) >= 4 else "****"
    return value if len(value) <= MASK_LIMIT else value[:MASK_LIMIT] + "…"


@dataclass(frozen=True)
class HeaderMap:
    """Where each known column sits in the file, and what the file calls it."""

    kind: FileKind
    index: dict[str, int]
    names: dict[str, str]
    ignored: tuple[str, ...]


def _canonical(cell: str) -> str:
    return to_halfwidth_ascii(cell.strip().lstrip("\ufeff")).strip().lower()


def _lookup_table(columns: Sequence[Column]) -> dict[str, Column]:
    table: dict[str, Column] = {}
    for col in columns:
        for name in (col.header, *col.aliases):
            table[_canonical(name)] = col
    return table


_TABLES = {kind: _lookup_table(cols) for kind, cols in COLUMNS.items()}


def detect_kind(header: Sequence[str]) -> FileKind:
    cells = {_canonical(c) for c in header}
    if cells & {"生年月日", "birth_date", "氏名", "name_kana", "氏名カナ"}:
        return FileKind.MEMBERS
    if cells & {"事業所名", "employer_name", "事業所名称"}:
        return FileKind.EMPLOYERS
    raise FileRefused(
        "ファイルの種類（事業所／加入者）を見出し行から判別できません。--kind で指定してください",
        "cannot tell employers from members by the header row; use --kind",
    )


def map_header(header: Sequence[str], kind: FileKind) -> HeaderMap:
    """Refuse the whole file when a required column is missing or a column appears twice."""
    table = _TABLES[kind]
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    ignored: list[str] = []
    for i, cell in enumerate(header):
        col = table.get(_canonical(cell))
        if col is None:
            if cell.strip():
                ignored.append(cell.strip())
            continue
        if col.key in index:
            raise FileRefused(
                f"列「{col.header}」が2回あります（{names[col.key]} と {cell.strip()}）",
                f"column {col.key} appears twice",
            )
        index[col.key] = i
        names[col.key] = cell.strip()
    missing = [c for c in COLUMNS[kind] if c.required and c.key not in index]
    if missing:
        ja = "・".join(c.header for c in missing)
        en = ", ".join(c.key for c in missing)
        raise FileRefused(f"必須の列がありません: {ja}", f"missing required columns: {en}")
    return HeaderMap(kind, index, names, tuple(ignored))


Parser = Callable[[str], Any]
REQUIRED = DomainError("必須項目が空です", "required value is empty")


Rows = Sequence[tuple[int, list[str]]]


def _column_names(header: HeaderMap) -> dict[int, str]:
    """The file's header of each known column, by position."""
    return {i: header.names[key] for key, i in header.index.items()}


def _column_name(names: dict[int, str], index: int | None) -> str:
    if index is None:
        return ""
    return names.get(index, f"{index + 1}列目")


def _as_cp932(cell: str, encoding: str) -> str | None:
    """The cell's text if its bytes are Shift_JIS (CP932) although the file is UTF-8."""
    try:  # (encoding as utf-8-sig would put a BOM in front of the cell's bytes)
        return cell.encode("utf-8", "surrogateescape").decode("cp932")
    except UnicodeError:
        return None


def _wrong_encoding(line: int, column: str, text: str, row_in: str, encoding: str) -> RowError:
    return RowError(line, column, mask_value(text), *wrong_encoding(row_in, encoding))


def undecodable_cell(
    header: HeaderMap, line: int, cells: list[str], encoding: str = ""
) -> RowError | None:
    """A cell with bytes the file's encoding cannot decode rejects the row, naming the column
    (and the encoding the row is in, when it is the other one of UTF-8 and Shift_JIS)."""
    if not UNDECODABLE.search("".join(cells)):
        return None
    names = _column_names(header)
    for i, cell in enumerate(cells):
        if UNDECODABLE.search(cell):
            column = _column_name(names, i)
            if encoding == "cp932" and (text := as_utf8(cell, encoding)) is not None:
                return _wrong_encoding(line, column, text, "UTF-8", encoding)
            if encoding.startswith("utf-8") and (text := _as_cp932(cell, encoding)) is not None:
                return _wrong_encoding(line, column, text, "Shift_JIS", encoding)
            return RowError(
                line,
                column,
                UNDECODABLE.sub("?", mask_value(cell)),
                "文字コードとして読めないバイトがあります（ファイルの文字コードを確認してください）",
                "bytes that are not valid in the file's encoding",
            )
    return None


COLUMN_HEADERS: Final = {c.key: c.header for cols in COLUMNS.values() for c in cols}

# XLSX cells stored as numbers, in the columns where that loses something. Fixed-width codes
# get their leading zeros back. 保険者番号: 7 digits were 8 (法別 01-09), 5 digits were a
# 6-digit 国保 number (prefecture 01-09); the check digit cannot tell, since zeros in front
# leave its weighted sum unchanged, but no 法別 or prefecture code is 00. 電話番号: a
# domestic number starts with one 0.
_RESTORE: Final[dict[str, Callable[[str], str]]] = {
    "insurer_number": lambda d: "0" + d if len(d) in (5, 7) else d,
    "postal_code": lambda d: d.zfill(7),
    "my_number": lambda d: d.zfill(12),
    "phone": lambda d: "0" + d,
}
# 記号 is free text per insurer (digits or kana, 1-10 characters): a number cell cannot say
# how many zeros it lost (1234567 may be 1234567, 01234567 or 001234567), and a wrong 記号
# names another employer, so such a cell is refused, as is a date cell.
_TEXT_ONLY: Final = frozenset({"symbol"})


def _typed_cells(header: HeaderMap, line: int, cells: list[str]) -> RowError | None:
    """Restores the leading zeros of number cells in code columns (in place), or refuses a
    number or date cell where only text can be trusted."""
    for key, i in header.index.items():
        if i >= len(cells):
            continue
        cell = cells[i]
        if cell.__class__ is str:
            continue
        if key in _TEXT_ONLY:
            what = "数値" if isinstance(cell, NumericCell) else "日付"
            return RowError(
                line,
                header.names[key],
                mask_value(cell),
                f"{COLUMN_HEADERS[key]}が{what}のセルです。先頭の0などが失われているおそれが"
                "あるため、列の書式を「文字列」にして入力してください",
                f"{key} is a {'number' if what == '数値' else 'date'} cell; leading zeros may "
                "be lost: format the column as text",
            )
        restore = _RESTORE.get(key)
        if restore is not None and isinstance(cell, NumericCell) and cell.isdigit():
            cells[i] = restore(str(cell))
    return None


def screen(
    header: HeaderMap, encoding: str, rows: Rows
) -> tuple[list[tuple[int, list[str]]], list[RowError]]:
    """The rows the parser can read, and an error for each of the others: a row the reader
    could not split or that is in the other of UTF-8 and Shift_JIS (MalformedRow), bytes
    not in the file's encoding, and XLSX number and date cells in code columns."""
    xlsx = encoding == "xlsx"
    undecodable = UNDECODABLE.search("".join(["".join(cells) for _line, cells in rows]))
    if not (xlsx or undecodable) and all(c.__class__ is list for _l, c in rows):
        return list(rows), []
    good: list[tuple[int, list[str]]] = []
    errors: list[RowError] = []
    names = _column_names(header)
    for line, cells in rows:
        if isinstance(cells, MalformedRow):
            name = _column_name(names, cells.column)
            errors.append(RowError(line, name, mask_value(cells.value), cells.ja, cells.en))
            continue
        bad = undecodable_cell(header, line, cells, encoding) if undecodable else None
        if bad is None and xlsx:
            bad = _typed_cells(header, line, cells)
        if bad is None:
            good.append((line, cells))
        else:
            errors.append(bad)
    return good, errors
