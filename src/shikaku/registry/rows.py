"""From raw cells to typed records: header mapping, per-field parsing, error collection.

A row is either a record or a list of RowErrors naming line, column and reason; never both,
never silently dropped. Values in errors are masked so no My Number reaches a report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shikaku.domain.errors import DomainError
from shikaku.domain.normalize import to_halfwidth_ascii
from shikaku.registry.columns import COLUMNS, Column, FileKind
from shikaku.registry.readers import UNDECODABLE, FileRefused

_LONG_DIGITS = re.compile(r"\d{12,}")


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str  # the header as written in the file; "" for the row as a whole
    value: str  # masked
    ja: str
    en: str


def mask_value(value: str) -> str:
    """Hide anything that could be a My Number, whichever column it was typed into."""
    half = to_halfwidth_ascii(value)
    if _LONG_DIGITS.search(half.replace("-", "").replace(" ", "")):
        digits = "".join(ch for ch in half if ch.isdigit())
        return "*" * (len(digits) - 4) + digits[-4:] if len(digits) >= 4 else "****"
    return value if len(value) <= 200 else value[:200] + "…"


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


def undecodable_cell(header: HeaderMap, line: int, cells: list[str]) -> RowError | None:
    """A cell with bytes the file's encoding cannot decode rejects the row, naming the column."""
    if not UNDECODABLE.search("".join(cells)):
        return None
    for i, cell in enumerate(cells):
        if UNDECODABLE.search(cell):
            names = {v: header.names[k] for k, v in header.index.items()}
            return RowError(
                line,
                names.get(i, f"{i + 1}列目"),
                UNDECODABLE.sub("?", mask_value(cell)),
                "文字コードとして読めないバイトがあります（ファイルの文字コードを確認してください）",
                "bytes that are not valid in the file's encoding",
            )
    return None
