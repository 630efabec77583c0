"""Input normalisation for employer CSVs: widths, kana, names, codes, dates, sex and flags.

Employer files mix 半角カナ, full-width digits and Japanese-era dates. Every parser here
either returns one canonical value or raises `DomainError` naming the bad part. They run
once per field per row (millions per import), so each has an allocation-free fast path
for the common clean input before any regular expression.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Final

from shikaku.domain.errors import DomainError

__all__ = [
    "EARLIEST_DATE",
    "LATEST_DATE",
    "DateRange",
    "format_wareki",
    "normalize_code",
    "normalize_kana",
    "normalize_name",
    "normalize_postal_code",
    "normalize_symbol",
    "normalize_text",
    "parse_date",
    "parse_flag",
    "parse_iso_date",
    "parse_iso_date_between",
    "parse_sex",
    "redact_for_message",
    "to_halfwidth_ascii",
    "validate_length",
    "validate_text",
]

# --------------------------------------------------------------------------- widths

_HALFWIDTH_ASCII: Final = {0xFF01 + i: 0x21 + i for i in range(94)} | {0x3000: 0x20}

# Characters people type for "-" in codes; dropped only where a format documents them.
_HYPHENS: Final = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70"
_DROP_SEPARATORS: Final = str.maketrans("", "", _HYPHENS + " \t")

_HALFWIDTH_KANA_RUN: Final = re.compile(r"[\u3041-\u3096\u30a1-\u30fa]?[\uff61-\uff9f]+")
# NFKC leaves a dakuten that had nothing to combine with as a combining mark; show it
# as the spacing mark JIS users expect instead of an invisible modifier.
_LONE_SOUND_MARKS: Final = str.maketrans({"\u3099": "\u309b", "\u309a": "\u309c"})

_DIGIT_RUN_LIMIT: Final = 11


def to_halfwidth_ascii(s: str) -> str:
    """Map full-width ASCII and the ideographic space to ASCII.

    Not NFKC: that would also rewrite compatibility kanji in official names (U+FA19 → 神).
    """
    return s if s.isascii() else s.translate(_HALFWIDTH_ASCII)


def _kana_run_to_fullwidth(m: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", m.group()).translate(_LONE_SOUND_MARKS)


def _halfwidth_kana_to_fullwidth(s: str) -> str:
    """NFKC only on 半角カナ runs (plus one preceding full-width kana, so カﾞ → ガ)."""
    return _HALFWIDTH_KANA_RUN.sub(_kana_run_to_fullwidth, s)


_ECHO_LIMIT: Final = 30
"""Characters of an input quoted in a message; a 100,000-character cell is not repeated."""


def _echo(s: str) -> str:
    """The input as a message may quote it: control and format characters shown as \\uXXXX
    (an ESC or a bidi override must not act on a terminal or a spreadsheet), cut at
    `_ECHO_LIMIT` characters."""
    cut = s[:_ECHO_LIMIT]
    if not (cut.isprintable() or cut.replace("\u3000", " ").isprintable()):
        cut = "".join(c if c == "\u3000" or c.isprintable() else f"\\u{ord(c):04x}" for c in cut)
    return cut + "…" if len(s) > _ECHO_LIMIT else cut


def redact_for_message(s: str) -> str:
    """Quote user input for an error message, unless it could be a My Number.

    A shifted CSV column can put a 個人番号 into any field; an input with 11 or more
    digits is therefore never echoed (特定個人情報 must not reach logs).
    """
    digits = sum(1 for c in to_halfwidth_ascii(s) if "0" <= c <= "9")
    if digits >= _DIGIT_RUN_LIMIT:
        return "（数字が多いため表示しません）"
    return f"「{_echo(s)}」"


def _redact_en(s: str) -> str:
    digits = sum(1 for c in to_halfwidth_ascii(s) if "0" <= c <= "9")
    if digits >= _DIGIT_RUN_LIMIT:
        return "(not shown: too many digits)"
    return repr(_echo(s))


# --------------------------------------------------------------------------- text

# Tabs and line breaks inside a cell (Alt+Enter in Excel) separate words like spaces. Every
# other control or format character (NUL, ESC, C1, bidi overrides such as U+202E, zero-width
# characters), a line or paragraph separator (U+2028, U+2029), a surrogate, a private-use
# (外字 of a vendor's code page) or an unassigned code point is refused: none can be printed,
# and some reorder or hide the text around them on screens and in spreadsheets.
_CELL_BREAKS: Final = frozenset("\t\n\r")
_FORBIDDEN: Final = {
    "Cc": ("制御文字", "a control character"),
    "Cf": ("書式制御文字（双方向制御・ゼロ幅文字など）", "a format character: bidi, zero-width"),
    "Zl": ("行区切り文字", "a line separator"),
    "Zp": ("段落区切り文字", "a paragraph separator"),
    "Cs": ("文字コードとして読めない文字", "a surrogate"),
    "Co": ("私用領域の文字（外字）", "a private-use character"),
    "Cn": ("未定義の文字", "an unassigned code point"),
}


def validate_text(s: str, field_ja: str, field_en: str) -> str:
    """`s` itself, or DomainError naming the first character no text field may hold.

    str.isprintable() is False exactly for the categories above and for spaces other than
    U+0020, so text of printable characters and ideographic spaces passes in C.
    """
    if s.isprintable() or s.replace("\u3000", " ").isprintable():
        return s
    for i, c in enumerate(s, 1):
        if c in _CELL_BREAKS:
            continue
        kind = _FORBIDDEN.get(unicodedata.category(c))
        if kind is not None:
            raise DomainError(
                f"{field_ja}の{i}文字目に使えない文字（U+{ord(c):04X}、{kind[0]}）があります",
                f"{field_en}: character {i} is U+{ord(c):04X} ({kind[1]})",
            )
    return s


# A My Number is 12 digits: text holding a run of 12 or more (half- or full-width) is refused,
# so one typed into a name or address column is never stored in clear, printed or exported.
_LONG_DIGIT_RUN: Final = re.compile("[0-9０-９]{12,}")


def validate_no_long_digit_run(s: str, field_ja: str, field_en: str) -> str:
    """`s` itself, or DomainError when it holds 12 or more digits in a row (a My Number
    belongs in the 個人番号 column, where it is encrypted)."""
    if _LONG_DIGIT_RUN.search(s):
        raise DomainError(
            f"{field_ja}に12桁以上の数字の並びがあります（個人番号は個人番号の列に入力してください）",
            f"{field_en} holds a run of 12 or more digits (a My Number belongs in its own column)",
        )
    return s


def validate_length(s: str, limit: int, field_ja: str, field_en: str) -> str:
    """`s` itself, or DomainError when it has more than `limit` characters (code points)."""
    if len(s) > limit:
        raise DomainError(
            f"{field_ja}が長すぎます（{len(s)}文字。{limit}文字までです）",
            f"{field_en} has {len(s)} characters, more than {limit}",
        )
    return s


def normalize_text(s: str, field_ja: str, field_en: str) -> str:
    """Free text (addresses, employer names, phone): runs of whitespace, tabs and line
    breaks become one space; characters `validate_text` refuses are refused."""
    if not (s.isprintable() or s.replace("\u3000", " ").isprintable()):  # validate_text's test
        validate_text(s, field_ja, field_en)
    return " ".join(s.split())


# --------------------------------------------------------------------------- codes


def _length_text(digits: int | tuple[int, ...]) -> tuple[str, str]:
    if isinstance(digits, int):
        return f"{digits}桁", f"{digits} digits"
    ja = "または".join(f"{n}桁" for n in digits)
    en = " or ".join(str(n) for n in digits) + " digits"
    return ja, en


def normalize_code(
    s: str,
    field_ja: str,
    field_en: str,
    *,
    digits: int | tuple[int, ...] | None = None,
    drop_separators: bool = False,
) -> str:
    """Canonical digit string for 記号・番号・枝番, postal codes and the like.

    Kept as a string because leading zeros are significant (枝番 "00"). Hyphens and
    spaces inside are an error unless the caller's format documents them as decoration
    (`drop_separators`, e.g. 〒100-0013).
    """
    if s.isascii() and s.isdigit():
        t = s
    else:
        t = to_halfwidth_ascii(s).strip()
        if drop_separators:
            t = t.translate(_DROP_SEPARATORS)
        if not t:
            raise DomainError(f"{field_ja}が空です", f"{field_en} is empty")
        for i, c in enumerate(t, 1):
            if not ("0" <= c <= "9"):
                raise DomainError(
                    f"{field_ja}の{i}文字目「{c}」は数字ではありません",
                    f"{field_en}: character {i} {c!r} is not a digit",
                )
    if digits is not None:
        ok = len(t) == digits if isinstance(digits, int) else len(t) in digits
        if not ok:
            want_ja, want_en = _length_text(digits)
            raise DomainError(
                f"{field_ja}は{want_ja}です（入力は{len(t)}桁）",
                f"{field_en} must have {want_en}, got {len(t)}",
            )
    return t


def normalize_postal_code(s: str) -> str:
    """〒 code as 7 digits; the hyphen (and a leading 〒) is decoration."""
    if len(s) == 8 and s[3] == "-" and s.isascii():  # the usual 123-4567: nothing to widen
        t = s[:3] + s[4:]
        if t.isdigit():
            return t
    t = s.strip().removeprefix("〒")
    return normalize_code(t, "郵便番号", "postal code", digits=7, drop_separators=True)


def normalize_symbol(s: str) -> str:
    """記号: digits for 協会けんぽ, free digits/kana for 健保組合 — always a string.

    Only widths are unified; the content is the insurer's business, so any printable
    character is kept. Whitespace or control characters inside are rejected, since a
    symbol is matched exactly against the online eligibility system.
    """
    if s.isascii() and s.isalnum():
        return s
    t = _halfwidth_kana_to_fullwidth(to_halfwidth_ascii(s).strip())
    if not t:
        raise DomainError("記号が空です", "insured-person symbol is empty")
    for i, c in enumerate(t, 1):
        if c.isspace() or not c.isprintable():
            raise DomainError(
                f"記号の{i}文字目に空白または制御文字があります",
                f"insured-person symbol: character {i} is whitespace or a control character",
            )
    return t


# --------------------------------------------------------------------------- names


_CANONICAL_NAME: Final = re.compile(r"[^\s\uff61-\uff9f]+(?:\u3000[^\s\uff61-\uff9f]+)*")
"""Names normalize_name keeps as they are (its fast path): no 半角カナ, one U+3000 between parts."""


_FORMULA_START: Final = frozenset("=+-@")
"""What makes a spreadsheet read a cell as a formula (=HYPERLINK(…)); no name starts so."""


def normalize_name(s: str) -> str:
    """Official name: 半角カナ widened, parts joined by one U+3000, nothing else touched.

    Rare kanji (髙, 﨑, 𠮷, U+FA19) must print exactly as registered, so no NFKC/NFC on the
    whole string. Control and format characters are refused (`validate_text`), and so is a
    name that a spreadsheet would run as a formula.
    """
    if not (s.isprintable() or s.replace("\u3000", " ").isprintable()):  # validate_text's test
        validate_text(s, "氏名", "name")
    if _CANONICAL_NAME.fullmatch(s) is not None:
        t = s
    else:
        parts = s.split()
        if not parts:
            raise DomainError("氏名が空です", "name is empty")
        t = parts[0] if len(parts) == 1 else "\u3000".join(parts)
        if _HALFWIDTH_KANA_RUN.search(t) is not None:
            t = _halfwidth_kana_to_fullwidth(t)
    if t[0] in _FORMULA_START:
        raise DomainError(
            f"氏名が「{t[0]}」で始まっています（表計算ソフトが数式として扱う値は氏名にできません）",
            f"name starts with {t[0]!r}, which spreadsheets run as a formula",
        )
    return t


_TO_KATAKANA: Final = {c: c + 0x60 for c in range(0x3041, 0x3097)}
_KANA_OK: Final = re.compile(r"[\u30a1-\u30fa\u30fb\u30fc\u3000]+")
_CANONICAL_KANA: Final = re.compile(r"[\u30a1-\u30fc]+(?:\u3000[\u30a1-\u30fc]+)*")
"""フリガナ normalize_kana keeps as it is (its fast path): katakana, one U+3000 between parts."""


def _kana_source_ok(c: str) -> bool:
    """Whether `c` in raw input can become valid フリガナ (for locating the bad character)."""
    o = ord(c)
    return (
        c.isspace()
        or 0x3041 <= o <= 0x3096
        or 0x30A1 <= o <= 0x30FC
        or 0xFF65 <= o <= 0xFF9F
        or o == 0x3099
        or o == 0x309A
    )


def _first_non_kana(raw: str, normalized: str) -> tuple[int, str]:
    """Locate the fault in the input as typed; if every typed character was kana-like, the
    fault only appeared after combining (a lone ﾞ), so point into the normalised text."""
    for i, c in enumerate(raw, 1):
        if not _kana_source_ok(c):
            return i, c
    return next((i, c) for i, c in enumerate(normalized, 1) if _KANA_OK.fullmatch(c) is None)


def normalize_kana(s: str) -> str:
    """フリガナ as full-width katakana, parts joined by one U+3000.

    Hiragana and 半角カナ are accepted because that is how employers type it; anything
    that is not kana is rejected rather than guessed at.
    """
    if _CANONICAL_KANA.fullmatch(s) is not None:
        return s
    validate_text(s, "フリガナ", "furigana")
    parts = s.split()
    if not parts:
        raise DomainError("フリガナが空です", "furigana is empty")
    t = parts[0] if len(parts) == 1 else "\u3000".join(parts)
    t = _halfwidth_kana_to_fullwidth(t).translate(_TO_KATAKANA)
    if _KANA_OK.fullmatch(t) is not None:
        return t
    i, c = _first_non_kana(s.strip(), t)
    raise DomainError(
        f"フリガナの{i}文字目「{c}」はカタカナではありません",
        f"furigana: character {i} {c!r} (U+{ord(c):04X}) is not katakana",
    )


# --------------------------------------------------------------------------- dates

# (name, initial, romaji, first day, last day or None). 明治 really began on 1868-01-25
# (慶応4年1月1日, to which the 1868 proclamation was backdated) and Japan used the
# lunisolar calendar until 明治5年; we simply map 明治N年 to 1867+N in the Gregorian
# calendar and accept it from 1868-01-01. No living member is affected.
# An era that ended with an emperor's death shares its last day with the next era's first:
# 1912-07-30 is both 明治45年7月30日 and 大正元年7月30日, 1926-12-25 both 大正15年12月25日
# and 昭和元年12月25日 (the new era began the same day). 平成 began the day after 昭和64年1月7日
# and 令和 the day after 平成31年4月30日 (both set by a law in advance): no shared day there.
_ERAS: Final = (
    ("明治", "M", "Meiji", date(1868, 1, 1), date(1912, 7, 30)),
    ("大正", "T", "Taisho", date(1912, 7, 30), date(1926, 12, 25)),
    ("昭和", "S", "Showa", date(1926, 12, 25), date(1989, 1, 7)),
    ("平成", "H", "Heisei", date(1989, 1, 8), date(2019, 4, 30)),
    ("令和", "R", "Reiwa", date(2019, 5, 1), None),
)
# Each era by its name, its first kanji (昭57.7.3, as forms abbreviate it), its initial and
# its romaji name (both in upper case: tokens are looked up upper-cased).
_ERA_BY_TOKEN: Final = {
    token: era for era in _ERAS for token in (era[0], era[0][0], era[1], era[2].upper())
}

EARLIEST_DATE: Final = _ERAS[0][3]
"""1868-01-01, 明治元年1月1日: the first day a date can be printed in 和暦."""
LATEST_DATE: Final = date(2099, 12, 31)
"""The last day a registry date may be: far enough for any validity or expiry, and far
from date.max (9999-12-31), where adding a year or a day to a date would overflow."""

_DAYS_IN_MONTH: Final = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_WESTERN_SEP: Final = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_WESTERN_KANJI: Final = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ERA_KANJI: Final = re.compile(
    r"([^\d\s./\-年月日]+?)\s*(\d{1,3}|元)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
)
# R6.6.7, H31/4/30, 昭57.7.3, and with a dot after the initial as some type it (H.31.4.30)
_ERA_SEP: Final = re.compile(r"([^\d\s./\-年月日]+?)\.?\s*(\d{1,3}|元)([-/.])(\d{1,2})\3(\d{1,2})")


def _checked_date(year: int, month: int, day: int, year_label: str) -> date:
    """Build a date, explaining which of month or day is impossible."""
    if not 1 <= month <= 12:
        raise DomainError(
            f"{year_label}の月「{month}」は1〜12ではありません",
            f"month {month} is not 1-12",
        )
    last = _DAYS_IN_MONTH[month]
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        last = 29
    if not 1 <= day <= last:
        raise DomainError(
            f"{year_label}{month}月に{day}日はありません",
            f"{year}-{month:02d} has no day {day}",
        )
    return date(year, month, day)


def _western(year: int, month: int, day: int) -> date:
    if year == 0:
        raise DomainError("西暦0年は存在しません", "year 0 does not exist")
    return _checked_date(year, month, day, f"{year}年")


def _wareki(token: str, era_year_text: str, month: int, day: int) -> date:
    era = _ERA_BY_TOKEN.get(token.upper())
    if era is None:
        raise DomainError(
            f"元号「{token}」は使えません（明治・大正・昭和・平成・令和、M・T・S・H・R）",
            f"unknown era {token!r} (expected Meiji..Reiwa or M/T/S/H/R)",
        )
    name, _, en, first, last = era
    era_year = 1 if era_year_text == "元" else int(era_year_text)
    if era_year == 0:
        raise DomainError(f"{name}0年は存在しません", f"{en} 0 does not exist")
    year = first.year + era_year - 1
    if last is not None and year > last.year:
        raise DomainError(
            f"{name}{era_year}年は存在しません（{name}は{last.year - first.year + 1}年まで）",
            f"{en} {era_year} does not exist ({en} ended in its year "
            f"{last.year - first.year + 1}, on {last.isoformat()})",
        )
    label = f"{name}{'元' if era_year == 1 else era_year}年"
    d = _checked_date(year, month, day, label)
    if d < first:
        raise DomainError(
            f"{label}{month}月{day}日は存在しません（{name}は{_kanji_date(first)}から）",
            f"{en} began on {first.isoformat()}, {d.isoformat()} is before it",
        )
    if last is not None and d > last:
        raise DomainError(
            f"{label}{month}月{day}日は存在しません（{name}は{_kanji_date(last)}まで）",
            f"{en} ended on {last.isoformat()}, {d.isoformat()} is after it",
        )
    return d


def _kanji_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _valid_iso(s: str) -> date | None:
    """The date of a valid YYYY-MM-DD, checked in C (the common case); None otherwise."""
    if len(s) == 10 and s[4] == "-" and s[7] == "-" and s.isascii():
        try:  # given that shape, it accepts exactly the valid YYYY-MM-DD dates
            return date.fromisoformat(s)
        except ValueError:
            return None  # parse_date's general path explains what is wrong
    return None


def parse_date(s: str) -> date:
    """Read the date spellings employers use: ISO, slashes, 8 digits, 年月日, 和暦, R6.6.7.

    Impossible dates are rejected with the reason (平成31年5月1日, 2023-02-29), never
    rolled over, because a wrong 生年月日 silently changes burden ratio and eligibility.
    """
    d = _valid_iso(s)
    if d is not None:
        return d
    t = to_halfwidth_ascii(s).strip()
    if len(t) == 8 and t.isascii() and t.isdigit():
        return _western(int(t[:4]), int(t[4:6]), int(t[6:]))
    if not t:
        raise DomainError("日付が空です", "date is empty")
    if (mt := _WESTERN_SEP.fullmatch(t)) or (mt := _WESTERN_KANJI.fullmatch(t)):
        g = mt.groups()
        return _western(int(g[0]), int(g[-2]), int(g[-1]))
    if (mt := _ERA_KANJI.fullmatch(t)) or (mt := _ERA_SEP.fullmatch(t)):
        g = mt.groups()
        return _wareki(g[0], g[1], int(g[-2]), int(g[-1]))
    raise DomainError(
        f"日付{redact_for_message(s)}を読み取れません（例: 2024-06-07, 令和6年6月7日, R6.6.7）",
        f"cannot read date {_redact_en(s)} (e.g. 2024-06-07, 令和6年6月7日, R6.6.7)",
    )


def parse_iso_date(s: str) -> str:
    """parse_date(s).isoformat(); input already in that form is returned as it is."""
    if _valid_iso(s) is not None:
        return s
    return parse_date(s).isoformat()


class DateRange:
    """parse_iso_date, refusing a date before `earliest` or after `latest` (both accepted).

    `latest_name` says what the last day is, in Japanese and English (e.g. the import day);
    by default the day itself is named. A column parses each distinct value once with its
    range, so the bounds are kept as ISO strings: with four-digit years they compare as the
    dates do.
    """

    __slots__ = ("earliest", "high", "latest", "latest_name", "low")

    def __init__(
        self, earliest: date, latest: date, latest_name: tuple[str, str] | None = None
    ) -> None:
        self.earliest, self.latest = earliest, latest
        self.low, self.high = earliest.isoformat(), latest.isoformat()
        self.latest_name = latest_name or (_kanji_date(latest), self.high)

    def __call__(self, s: str) -> str:
        iso = parse_iso_date(s)
        if self.low <= iso <= self.high:
            return iso
        given = _kanji_date(_iso_date(iso))
        if iso < self.low:
            raise DomainError(
                f"{format_wareki(self.earliest)}（{_kanji_date(self.earliest)}）より前の日付は"
                f"使えません（{given}）",
                f"{iso} is before {self.low}",
            )
        ja, en = self.latest_name
        raise DomainError(f"{ja}より後の日付は使えません（{given}）", f"{iso} is after {en}")


def parse_iso_date_between(
    s: str, earliest: date, latest: date, latest_name: tuple[str, str] | None = None
) -> str:
    """DateRange(earliest, latest, latest_name)(s), for a single value."""
    return DateRange(earliest, latest, latest_name)(s)


def _iso_date(iso: str) -> date:
    return date.fromisoformat(iso)


def format_wareki(d: date) -> str:
    """Japanese-era date as printed on notices ("令和6年6月7日", 元年 for year 1)."""
    for name, _, _en, first, _last in reversed(_ERAS):
        if d >= first:
            era_year = d.year - first.year + 1
            y = "元" if era_year == 1 else str(era_year)
            return f"{name}{y}年{d.month}月{d.day}日"
    raise DomainError(
        f"{_kanji_date(d)}は明治より前のため和暦で表せません",
        f"{d.isoformat()} is before Meiji and has no supported era",
    )


# --------------------------------------------------------------------------- sex, flags

_SEX: Final = {
    "1": 1,
    "2": 2,
    "男": 1,
    "女": 2,
    "男性": 1,
    "女性": 2,
    "M": 1,
    "F": 2,
    "m": 1,
    "f": 2,
}


def parse_sex(s: str) -> int:
    """性別 code as on the certificate: 1 男, 2 女."""
    v = _SEX.get(s)
    if v is None:
        v = _SEX.get(to_halfwidth_ascii(s).strip())
        if v is None:
            raise DomainError(
                f"性別{redact_for_message(s)}を読み取れません（1/2、男/女、M/F）",
                f"cannot read sex {_redact_en(s)} (1/2, 男/女, M/F)",
            )
    return v


_FLAG: Final = {
    "": False,
    "0": False,
    "1": True,
    "はい": True,
    "いいえ": False,
    "該当": True,
    "非該当": False,
    "true": True,
    "false": False,
    "yes": True,
    "no": False,
    "y": True,
    "n": False,
    "有": True,
    "無": False,
    "有り": True,
    "無し": False,
    "あり": True,
    "なし": False,
}


def parse_flag(s: str) -> bool:
    """Yes/no column; blank means no, since employers leave unused flags empty."""
    v = _FLAG.get(s)
    if v is None:
        v = _FLAG.get(to_halfwidth_ascii(s).strip().lower())
        if v is None:
            raise DomainError(
                f"はい/いいえの値{redact_for_message(s)}を読み取れません"
                "（1/0、はい/いいえ、該当/非該当、有/無、空欄）",
                f"cannot read flag {_redact_en(s)} (1/0, yes/no, true/false, 該当/非該当, blank)",
            )
    return v
