"""Japan Post カスタマバーコード: the bars that earn the bulk-mail discount (DOMAIN.md §7).

A letter qualifies only if the barcode is exactly what the post office derives from the same
address, and one wrong barcode costs the discount of the whole mailing, while a missing one
costs only that letter's. So the rules below follow Japan Post's manual literally
(郵便番号・バーコードマニュアル, post.japanpost.jp/zipcode/zipmanual/ p12, p17-p25), and
`derive_barcode` answers None wherever the manual's recipe cannot be applied with confidence.

郵便番号 7 + 住所表示番号 13 + check digit, 21 symbols of 3 bars, framed by start/stop: 67 bars.
Where the 町域 (town) ends comes from the postal dataset (KEN_ALL), which the caller looks up
(`registry.postal`) and passes in as `Place`s: pure functions, stdlib only; drawing is the
renderer's business (see `BarGeometry`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
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
    "Place",
    "address_data",
    "address_number",
    "check_digit",
    "derive_barcode",
    "encode",
    "encode_data",
    "split_after_town",
]

# A symbol is "0".."9", "-" or "CC1".."CC8"; the value is what the check digit sums (p21).
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


@dataclass(frozen=True, slots=True)
class Place:
    """One entry of the postal dataset for a postal code: where 住所A (up to the town) ends.

    `office`: a 大口事業所 or 私書箱 with its own code; its barcode is the code alone (p22).
    """

    prefecture: str
    city: str
    town: str
    office: bool = False


# ------------------------------------------------------------------ 住所表示番号 (p19)

_KANJI_DIGITS: Final = dict(zip("〇一二三四五六七八九", range(10), strict=True)) | {"零": 0}
_KANJI_UNITS: Final = {"十": 10, "百": 100, "千": 1000}
# 補足ルール 1: a kanji numeral is read as a number only right before one of these nine
# words; elsewhere (第二ビル, 三和荘) it is a kanji like any other. ﾉ: the half-width ノ.
_UNIT_WORDS: Final = "丁目|丁|番地|番|号|地割|線|の|ノ|ﾉ"
# Numeral kanji we do not convert (大字 forms, 万): before a unit word the number would be
# lost, so such an address is not encoded at all.
_UNSURE_NUMERALS: Final = "壱弐参拾廿卅萬万"
_NUMERAL_BEFORE_UNIT: Final = re.compile(
    f"[〇零一二三四五六七八九十百千{_UNSURE_NUMERALS}]+(?={_UNIT_WORDS})"
)
_ANY_KANJI_NUMBER: Final = re.compile("[〇零一二三四五六七八九十百千]+")
# 基本ルール 2: removed before anything else, so "A&b" becomes the letter run "AB".
_REMOVED: Final = str.maketrans("", "", "&/・.\uff65")
# Dashes people type for "-"; not the 長音 ー, which belongs to the katakana word around it.
_DASHES: Final = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))
_TOKEN: Final = re.compile(r"[0-9]+|-+|[A-Z]+|[^0-9A-Z-]+")
_HYPHEN_RUN: Final = re.compile("-{2,}")
_HYPHEN_BY_LETTER: Final = re.compile("-+(?=[A-Z])|(?<=[A-Z])-+")


def _kanji_value(s: str) -> str:
    """三 → 3, 十一 → 11, 二十三 → 23, 百五 → 105; positional 一〇三 → 103."""
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


def _numeral_before_unit(m: re.Match[str]) -> str:
    run = m.group()
    if any(c in _UNSURE_NUMERALS for c in run):
        raise DomainError(
            "住所の数字を読み取れません", f"numeral {run!r} the barcode rules do not read"
        )
    return _kanji_value(run)


def _unsure_character(s: str) -> str | None:
    """A character that stands for a digit or letter we would otherwise drop (①, Ⅱ, Ⓐ)."""
    for c in s:
        if not c.isascii() and any(
            x.isascii() and x.isalnum() for x in unicodedata.normalize("NFKC", c)
        ):
            return c
    return None


def address_data(after_town: str) -> str:
    """The バーコード・データ of 住所B (the address after the town), as in p19 and p20.

    基本ルール: upper case; & / ・ . removed; digits, hyphens and single letters are kept;
    whatever stands before a kept character (kanji, kana, spaces, a run of two or more
    letters) becomes one hyphen; hyphen runs become one; a leading hyphen goes. 補足ルール:
    kanji numerals before 丁目 丁 番地 番 号 地割 線 の ノ become digits; an F right after
    digits (a floor, 2F) is not kept; hyphens next to a letter go. Raises `DomainError` for
    text the rules cannot read with confidence (see `_unsure_character`, `_UNSURE_NUMERALS`).
    """
    s = to_halfwidth_ascii(after_town).upper().translate(_REMOVED).translate(_DASHES)
    unsure = _unsure_character(s)
    if unsure is not None:
        raise DomainError("住所の文字を読み取れません", f"character {unsure!r} in the address")
    s = _NUMERAL_BEFORE_UNIT.sub(_numeral_before_unit, s)
    out: list[str] = []
    pending = False  # characters not kept since the last kept one
    previous = ""
    for token in _TOKEN.findall(s):
        kept = token[0] in "0123456789-" or (
            len(token) == 1 and "A" <= token <= "Z" and not (token == "F" and previous.isdigit())
        )
        if kept:
            if pending:
                out.append("-")
            out.append(token)
        pending = not kept
        previous = token
    data = _HYPHEN_RUN.sub("-", "".join(out)).lstrip("-")
    return _HYPHEN_BY_LETTER.sub("", data)


def _symbols(data: str) -> tuple[str, ...]:
    """13 symbols: a letter takes two (group code + digit), cut at 13 even inside a letter
    (its control code stays, p12/p20), padded with CC4."""
    symbols: list[str] = []
    for c in data:
        if "A" <= c <= "Z":
            group, index = divmod(ord(c) - ord("A"), 10)
            symbols += (_LETTER_GROUPS[group], str(index))
        else:
            symbols.append(c)
    del symbols[ADDRESS_LENGTH:]
    symbols += [_PAD] * (ADDRESS_LENGTH - len(symbols))
    return tuple(symbols)


def address_number(after_town: str) -> tuple[str, ...]:
    """The 13 住所表示番号 symbols for the address part after the town name (町域)."""
    return _symbols(address_data(after_town))


def check_digit(symbols: Iterable[str]) -> str:
    """The symbol that makes the sum of all values a multiple of 19 (p21)."""
    try:
        total = sum(SYMBOL_VALUES[s] for s in symbols)
    except KeyError as e:
        raise DomainError(
            "バーコードに使えない記号があります", f"not a customer-barcode symbol: {e.args[0]!r}"
        ) from None
    return _SYMBOL_OF_VALUE[(19 - total % 19) % 19]


def encode_data(postal_code: str, data: str) -> Barcode:
    """Postal code + バーコード・データ (digits, '-', A-Z) → barcode."""
    postal = normalize_postal_code(postal_code)
    payload = (*postal, *_symbols(data))
    symbols = (*payload, check_digit(payload))
    bars = START + "".join(BARS[s] for s in symbols) + STOP
    return Barcode(symbols=symbols, bars=bars)


def encode(postal_code: str, after_town: str) -> Barcode:
    """Postal code (7 digits, hyphen allowed) + address after the town name → barcode."""
    return encode_data(postal_code, address_data(after_town))


# ------------------------------------------------------------------ 住所A / 住所B (p17, p18)

# Spellings that differ between an address and KEN_ALL without naming another place.
_FOLD: Final = str.maketrans({"ヶ": "ケ", "が": "ケ", "ガ": "ケ", "ヵ": "カ", "ノ": "の"})
_DIGIT_RUN: Final = re.compile("[0-9]+")
_KANJI_OF_DIGIT: Final = "〇一二三四五六七八九"


def _fold(s: str) -> str:
    return "".join(to_halfwidth_ascii(s).translate(_FOLD).split())


def _folded_with_origin(address: str) -> tuple[str, list[int]]:
    """The address folded as `_fold` does, with each folded character's index in `address`."""
    key: list[str] = []
    origin: list[int] = []
    for i, c in enumerate(address):
        f = _fold(c)
        key.append(f)
        origin += [i] * len(f)
    return "".join(key), origin


def _kanji_of(m: re.Match[str]) -> str:
    """12 → 十二, 20 → 二十, 3 → 三 (the way town names write numbers)."""
    n = int(m.group())
    if n == 0 or n >= 10000:
        return m.group()
    out = ""
    for value, unit in ((1000, "千"), (100, "百"), (10, "十")):
        q, n = divmod(n, value)
        if q:
            out += ("" if q == 1 else _KANJI_OF_DIGIT[q]) + unit
    return out + (_KANJI_OF_DIGIT[n] if n else "")


def _town_forms(town: str) -> set[str]:
    """A town as KEN_ALL spells it and with its numbers the other way (北六条東 / 北6条東)."""
    folded = _fold(town)
    return {
        folded,
        _ANY_KANJI_NUMBER.sub(lambda m: _kanji_value(m.group()), folded),
        _DIGIT_RUN.sub(_kanji_of, folded),
    }


def _city_forms(city: str) -> set[str]:
    """A city, and without its 郡 (比企郡鳩山町 / 鳩山町)."""
    folded = _fold(city)
    return {folded, folded.split("郡", 1)[1]} if "郡" in folded[:-1] else {folded}


def _town_ends(key: str, place: Place) -> Iterator[int]:
    """Where the town ends in the folded address, for each way the address may spell 住所A:
    prefecture optional (the manual's own examples omit it), 大字 or 字 before the town."""
    for prefecture in {_fold(place.prefecture), ""}:
        if not key.startswith(prefecture):
            continue
        for city in _city_forms(place.city):
            i = len(prefecture)
            if not key.startswith(city, i):
                continue
            for aza in ("", "大字", "字"):
                j = i + len(city)
                if not key.startswith(aza, j):
                    continue
                for town in _town_forms(place.town):
                    if key.startswith(town, j + len(aza)):
                        yield j + len(aza) + len(town)


def split_after_town(address: str, place: Place) -> set[str]:
    """The 住所B texts of `address` if it starts with `place`'s 住所A (empty set if not)."""
    if not place.town:  # a code's 代表 entry (以下に掲載がない場合): no barcode (p18)
        return set()
    key, origin = _folded_with_origin(address)
    return {address[origin[end] :] if end < len(key) else "" for end in _town_ends(key, place)}


def derive_barcode(postal_code: str, address: str, places: Iterable[Place]) -> Barcode | None:
    """The barcode of a full address whose postal code has these dataset entries, or None.

    None when it cannot be derived with confidence: no entry (an unknown code, or only its
    代表 entry), the address does not start with an entry's prefecture/city/town, the entries
    that match give different 住所表示番号 (an ambiguous town), nothing numeric follows the
    town, or 住所B holds characters the rules cannot read. A 大口事業所 or 私書箱 code is
    encoded alone, its 13 positions all CC4 (p22).
    """
    found: set[str | None] = set()  # each match's バーコード・データ, None: nothing numeric
    try:
        for place in places:
            for rest in split_after_town(address, place):
                if place.office:
                    found.add("")
                else:
                    rest_data = address_data(rest)
                    found.add(rest_data if any(c.isdigit() for c in rest_data) else None)
    except DomainError:
        return None
    if len(found) != 1:
        return None
    data = found.pop()
    if data is None:
        return None
    try:
        return encode_data(postal_code, data)
    except DomainError:
        return None
