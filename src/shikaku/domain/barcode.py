"""Japan Post カスタマバーコード: the bars that earn the bulk-mail discount (DOMAIN.md §7).

A letter qualifies only if the barcode is exactly what the post office would derive from
the same address, so the rules below follow the Japan Post recipe literally: 郵便番号 7 +
住所表示番号 13 + check digit, 21 symbols of 3 bars, framed by start/stop: 67 bars.
Pure functions, stdlib only; drawing is the renderer's business (see `BarGeometry`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from shikaku.domain.errors import DomainError
from shikaku.domain.normalize import normalize_postal_code, to_halfwidth_ascii

__all__ = [
    "ADDRESS_LENGTH",
    "BARS",
    "BAR_COUNT",
    "GEOMETRY_10PT",
    "START",
    "STOP",
    "SYMBOL_VALUES",
    "BarGeometry",
    "Barcode",
    "address_number",
    "check_digit",
    "encode",
]

# A symbol is "0".."9", "-" or "CC1".."CC8"; the value is what the check digit sums.
SYMBOL_VALUES: Final[dict[str, int]] = (
    {str(d): d for d in range(10)} | {"-": 10} | {f"CC{i}": 10 + i for i in range(1, 9)}
)
_SYMBOL_OF_VALUE: Final = {v: s for s, v in SYMBOL_VALUES.items()}

# L long, A ascender (upper half), D descender (lower half), T timing (short).
BARS: Final[dict[str, str]] = {
    "1": "LLT",
    "2": "LDA",
    "3": "DLA",
    "4": "LAD",
    "5": "LTL",
    "6": "DAL",
    "7": "ALD",
    "8": "ADL",
    "9": "TLL",
    "0": "LTT",
    "-": "TLT",
    "CC1": "DAT",
    "CC2": "DTA",
    "CC3": "ADT",
    "CC4": "TDA",
    "CC5": "ATD",
    "CC6": "TAD",
    "CC7": "TTL",
    "CC8": "LLL",
}
START: Final = "LD"
STOP: Final = "DL"

POSTAL_LENGTH: Final = 7
ADDRESS_LENGTH: Final = 13
BAR_COUNT: Final = len(START) + (POSTAL_LENGTH + ADDRESS_LENGTH + 1) * 3 + len(STOP)  # 67

_PAD: Final = "CC4"
# A-J, K-T, U-Z: a control code picks the group, a digit the letter within it.
_LETTER_GROUPS: Final = ("CC1", "CC2", "CC3")


@dataclass(frozen=True, slots=True)
class BarGeometry:
    """Bar sizes in millimetres for one type size; the renderer scales nothing itself."""

    long_mm: float  # L: full height
    half_mm: float  # A / D: ascender or descender, timing bar plus one extension
    timing_mm: float  # T: the short middle bar every bar shares
    pitch_mm: float  # distance from one bar's left edge to the next
    width_mm: float


GEOMETRY_10PT: Final = BarGeometry(
    long_mm=3.6, half_mm=2.4, timing_mm=1.2, pitch_mm=1.2, width_mm=0.6
)


@dataclass(frozen=True, slots=True)
class Barcode:
    """One encoded address: what to draw (`bars`) and what to list for the vendor (`data`)."""

    symbols: tuple[str, ...]  # 7 postal + 13 address + check digit
    bars: str  # 67 characters of L/A/D/T, start and stop included

    @property
    def data(self) -> str:
        """Readable form for the print vendor's manifest: control codes in brackets."""
        return "".join(s if len(s) == 1 else f"[{s}]" for s in self.symbols)


# ------------------------------------------------------------------ 住所表示番号

_KANJI_DIGITS: Final = dict(zip("〇一二三四五六七八九", range(10), strict=True)) | {"零": 0}
_KANJI_UNITS: Final = {"十": 10, "百": 100, "千": 1000}
_KANJI_NUMBER: Final = re.compile("[〇零一二三四五六七八九十百千]+")
# Address words that separate numbers; longest first so 番地 is not read as 番 + 地.
_SEPARATOR_WORDS: Final = re.compile("丁目|番地|番|号|の")
_HYPHENS: Final = re.compile("[-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70]")
_NOT_KEPT: Final = re.compile("[^0-9A-Z-]+")
_HYPHEN_RUN: Final = re.compile("-{2,}")


def _kanji_number(m: re.Match[str]) -> str:
    """三 → 3, 十一 → 11, 二十三 → 23, 百五 → 105; positional 一〇三 → 103."""
    s = m.group()
    if not any(c in _KANJI_UNITS for c in s):
        return "".join(str(_KANJI_DIGITS[c]) for c in s)
    total = digit = 0
    for c in s:
        if c in _KANJI_UNITS:
            total += (digit or 1) * _KANJI_UNITS[c]
            digit = 0
        else:
            digit = _KANJI_DIGITS[c]
    return str(total + digit)


def _normalise_address(address_after_town: str) -> str:
    """The Japan Post text steps: widths, kanji numerals, words → '-', the rest → '-'.

    Anything else (building names, spaces, 室) becomes a separator rather than vanishing,
    so "3-2 郵便プラザ503室" keeps 2 and 503 apart.
    """
    s = to_halfwidth_ascii(address_after_town).upper()
    s = _KANJI_NUMBER.sub(_kanji_number, s)
    s = _SEPARATOR_WORDS.sub("-", s)
    s = _HYPHENS.sub("-", s)
    s = _NOT_KEPT.sub("-", s)
    s = _HYPHEN_RUN.sub("-", s)
    s = re.sub("-(?=[A-Z])", "", s)  # 3-A is written 3A
    return s.strip("-")


def address_number(address_after_town: str) -> tuple[str, ...]:
    """The 13 住所表示番号 symbols for the address part after the town name (町域).

    A letter takes two positions (group code + digit); the result is cut at 13 even
    inside a letter, and padded with CC4.
    """
    symbols: list[str] = []
    for c in _normalise_address(address_after_town):
        if "A" <= c <= "Z":
            group, index = divmod(ord(c) - ord("A"), 10)
            symbols += (_LETTER_GROUPS[group], str(index))
        else:
            symbols.append(c)
    del symbols[ADDRESS_LENGTH:]
    symbols += [_PAD] * (ADDRESS_LENGTH - len(symbols))
    return tuple(symbols)


def check_digit(symbols: Iterable[str]) -> str:
    """The symbol that makes the sum of all values a multiple of 19."""
    try:
        total = sum(SYMBOL_VALUES[s] for s in symbols)
    except KeyError as e:
        raise DomainError(
            "バーコードに使えない記号があります", f"not a customer-barcode symbol: {e.args[0]!r}"
        ) from None
    return _SYMBOL_OF_VALUE[(19 - total % 19) % 19]


def encode(postal_code: str, address_after_town: str) -> Barcode:
    """Postal code (7 digits, hyphen allowed) + address after the town name → barcode."""
    postal = normalize_postal_code(postal_code)
    data = (*postal, *address_number(address_after_town))
    symbols = (*data, check_digit(data))
    bars = START + "".join(BARS[s] for s in symbols) + STOP
    return Barcode(symbols=symbols, bars=bars)


# The first house number of an address: digits or kanji numerals followed by a unit word,
# a dash or the end. A town name with a numeral in it (三軒茶屋, 十日町) is passed over
# because a unit must follow; a town like 一番町 is a known miss (its barcode loses the
# discount, the letter still goes out).
_FIRST_NUMBER = re.compile(r"[0-9０-９〇一二三四五六七八九十]+(?:丁目|番地|番|号|[-－‐−ーの]|$)")


def address_after_town(address: str) -> str:
    """The part of a full address from its first house number on ('' if it has none)."""
    m = _FIRST_NUMBER.search(address)
    return address[m.start() :] if m else ""


def barcode_for(postal_code: str | None, address: str | None) -> Barcode | None:
    """The customer barcode of a full address, or None when it cannot be derived."""
    if not postal_code or not address:
        return None
    try:
        return encode(postal_code, address_after_town(address))
    except DomainError:
        return None
