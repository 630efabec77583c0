"""Normalisation of employer input: widths, names, kana, codes, dates, sex and flags."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shikaku.domain.errors import DomainError
from shikaku.domain.normalize import (
    EARLIEST_DATE,
    LATEST_DATE,
    format_wareki,
    normalize_code,
    normalize_kana,
    normalize_name,
    normalize_postal_code,
    normalize_symbol,
    normalize_text,
    parse_date,
    parse_flag,
    parse_iso_date,
    parse_iso_date_between,
    parse_sex,
    redact_for_message,
    to_halfwidth_ascii,
    validate_length,
    validate_text,
)

HALFWIDTH_KANA = [chr(c) for c in range(0xFF61, 0xFFA0)]


# --------------------------------------------------------------------------- widths


def test_to_halfwidth_ascii_maps_the_whole_fullwidth_block() -> None:
    full = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
    assert to_halfwidth_ascii(full) == "".join(chr(c) for c in range(0x21, 0x7F))
    assert to_halfwidth_ascii("\u3000") == " "


def test_to_halfwidth_ascii_leaves_kanji_and_kana_alone() -> None:
    s = "\ufa19\ufa11髙𠮷ｶﾞカ"
    assert to_halfwidth_ascii(s) == s
    assert to_halfwidth_ascii("ＡＢＣ１２３　髙") == "ABC123 髙"


@given(st.text())
def test_to_halfwidth_ascii_is_idempotent(s: str) -> None:
    once = to_halfwidth_ascii(s)
    assert to_halfwidth_ascii(once) == once
    assert len(once) == len(s)


# --------------------------------------------------------------------------- codes


@pytest.mark.parametrize(
    ("raw", "kw", "expected"),
    [
        ("1234567", {"digits": 7}, "1234567"),
        ("０１２３４５６７", {"digits": (7, 8)}, "01234567"),
        (" 00 ", {"digits": 2}, "00"),
        ("\u3000０１\u3000", {"digits": 2}, "01"),
        ("0012345", {}, "0012345"),
        ("100-0013", {"digits": 7, "drop_separators": True}, "1000013"),
        ("１００－００１３", {"digits": 7, "drop_separators": True}, "1000013"),
        ("100 0013", {"digits": 7, "drop_separators": True}, "1000013"),
    ],
)
def test_normalize_code_accepts(raw: str, kw: dict[str, object], expected: str) -> None:
    assert normalize_code(raw, "番号", "number", **kw) == expected  # type: ignore[arg-type]


def test_normalize_code_keeps_leading_zeros() -> None:
    assert normalize_code("00", "枝番", "branch number", digits=2) == "00"
    assert normalize_code("0000001", "記号", "symbol", digits=(7, 8)) == "0000001"


def test_normalize_code_keeps_hyphen_unless_documented() -> None:
    with pytest.raises(DomainError) as e:
        normalize_code("100-0013", "番号", "number")
    assert e.value.ja == "番号の4文字目「-」は数字ではありません"


@pytest.mark.parametrize(
    ("raw", "kw", "ja"),
    [
        ("", {}, "枝番が空です"),
        ("  ", {"digits": 2}, "枝番が空です"),
        ("1", {"digits": 2}, "枝番は2桁です（入力は1桁）"),
        ("001", {"digits": 2}, "枝番は2桁です（入力は3桁）"),
        ("123456", {"digits": (7, 8)}, "枝番は7桁または8桁です（入力は6桁）"),
        ("0a", {"digits": 2}, "枝番の2文字目「a」は数字ではありません"),
        ("０Ａ", {"digits": 2}, "枝番の2文字目「A」は数字ではありません"),
        ("1 2", {}, "枝番の2文字目「 」は数字ではありません"),
        ("1²", {}, "枝番の2文字目「²」は数字ではありません"),
    ],
)
def test_normalize_code_rejects(raw: str, kw: dict[str, object], ja: str) -> None:
    with pytest.raises(DomainError) as e:
        normalize_code(raw, "枝番", "branch number", **kw)  # type: ignore[arg-type]
    assert e.value.ja == ja
    assert "branch number" in e.value.en


@pytest.mark.parametrize(
    "raw", ["100-0013", "〒100-0013", "１００ー００１３", " 1000013 ", "100‐0013"]
)
def test_postal_code(raw: str) -> None:
    assert normalize_postal_code(raw) == "1000013"


@pytest.mark.parametrize(
    ("raw", "ja"),
    [("100-001", "郵便番号は7桁です（入力は6桁）"), ("1OO-0013", "郵便番号の2文字目「O」")],
)
def test_postal_code_rejects(raw: str, ja: str) -> None:
    with pytest.raises(DomainError) as e:
        normalize_postal_code(raw)
    assert ja in e.value.ja


@given(st.text(alphabet="0123456789", min_size=1, max_size=12))
def test_normalize_code_keeps_digit_strings(s: str) -> None:
    assert normalize_code(s, "番号", "number") == s
    full = "".join(chr(ord(c) + 0xFEE0) for c in s)
    assert normalize_code(full, "番号", "number") == s


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12345678", "12345678"),
        ("０１２３４５６７", "01234567"),
        (" ｱｲｳ ", "アイウ"),
        ("ｶﾞ123", "ガ123"),
        ("東ｶﾞ", "東ガ"),
        ("ＡＢ１", "AB1"),
        ("あいう", "あいう"),
    ],
)
def test_normalize_symbol(raw: str, expected: str) -> None:
    assert normalize_symbol(raw) == expected


@pytest.mark.parametrize(("raw", "ja"), [("", "記号が空です"), ("　", "記号が空です")])
def test_normalize_symbol_rejects_empty(raw: str, ja: str) -> None:
    with pytest.raises(DomainError) as e:
        normalize_symbol(raw)
    assert e.value.ja == ja


@pytest.mark.parametrize("raw", ["12 34", "12\u300034", "12\t34", "12\x0034"])
def test_normalize_symbol_rejects_inner_space_or_control(raw: str) -> None:
    with pytest.raises(DomainError) as e:
        normalize_symbol(raw)
    assert "3文字目" in e.value.ja


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("協会　花子", "協会　花子"),
        ("協会 花子", "協会　花子"),
        ("  協会 \u3000 \t花子\u3000", "協会　花子"),
        ("協会花子", "協会花子"),
        ("ｷｮｳｶｲ ﾊﾅｺ", "キョウカイ　ハナコ"),
        ("ｶﾞｯｺｳ", "ガッコウ"),
        ("ﾊﾟｳﾛ", "パウロ"),
        ("ｳﾞｨｸﾀｰ", "ヴィクター"),
        ("カﾞ", "ガ"),
        ("ＪＯＨＮ　ＳＭＩＴＨ", "ＪＯＨＮ　ＳＭＩＴＨ"),
        ("John Smith", "John　Smith"),
        ("髙橋 﨑子", "髙橋　﨑子"),
        ("𠮷田 邉", "𠮷田　邉"),
        ("齋藤", "齋藤"),
        ("\ufa19田", "\ufa19田"),
        ("山田ﾞ", "山田゛"),
    ],
)
def test_normalize_name(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_normalize_name_keeps_compatibility_kanji_code_points() -> None:
    out = normalize_name("\ufa11 \ufa19")
    assert [ord(c) for c in out] == [0xFA11, 0x3000, 0xFA19]
    # What we must not do: NFKC would turn U+FA19 into U+795E.
    assert unicodedata.normalize("NFKC", "\ufa19") == "\u795e"


@pytest.mark.parametrize("raw", ["", " ", "\u3000\u3000", "\t\n"])
def test_normalize_name_rejects_empty(raw: str) -> None:
    with pytest.raises(DomainError) as e:
        normalize_name(raw)
    assert e.value.ja == "氏名が空です"


def _is_kana_or_space(c: str) -> bool:
    return c.isspace() or 0xFF61 <= ord(c) <= 0xFF9F


# What a name may hold: no control, format, separator, surrogate, private-use or
# unassigned code points (validate_text), and no formula at its start.
REFUSED_CATEGORIES = ["Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"]
name_chars = st.characters(codec="utf-8", exclude_categories=REFUSED_CATEGORIES).filter(
    lambda c: not _is_kana_or_space(c)
)


@given(st.lists(st.text(name_chars, min_size=1, max_size=6), min_size=1, max_size=4))
def test_normalize_name_never_changes_other_characters(parts: list[str]) -> None:
    if parts[0][0] in "=+-@":
        return
    raw = "  " + " \u3000".join(parts) + "\t"
    assert normalize_name(raw) == "\u3000".join(parts)


@given(st.text(st.sampled_from([*HALFWIDTH_KANA, "山", " ", "\u3000", "A"]), min_size=1))
def test_normalize_name_is_idempotent(raw: str) -> None:
    if not raw.split():
        return
    once = normalize_name(raw)
    assert normalize_name(once) == once
    assert not any(0xFF61 <= ord(c) <= 0xFF9F for c in once)
    assert "  " not in once and "\u3000\u3000" not in once


# --------------------------------------------------------------------------- kana


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("キョウカイ　ハナコ", "キョウカイ　ハナコ"),
        ("ｷｮｳｶｲ ﾊﾅｺ", "キョウカイ　ハナコ"),
        ("きょうかい　はなこ", "キョウカイ　ハナコ"),
        ("  きょうかい   ﾊﾅｺ ", "キョウカイ　ハナコ"),
        ("ヴァイオリン", "ヴァイオリン"),
        ("ゔぁ", "ヴァ"),
        ("ｳﾞｧ", "ヴァ"),
        ("ｶﾞｷﾞｸﾞｹﾞｺﾞ", "ガギグゲゴ"),
        ("ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", "パピプペポ"),
        ("ｺｰﾋｰ", "コーヒー"),
        ("ジョン・スミス", "ジョン・スミス"),
        ("ｼﾞｮﾝ･ｽﾐｽ", "ジョン・スミス"),
        ("ァィゥェォッャュョヮヵヶ", "ァィゥェォッャュョヮヵヶ"),
        ("ゕゖ", "ヵヶ"),
        ("ヷヸヹヺ", "ヷヸヹヺ"),
    ],
)
def test_normalize_kana(raw: str, expected: str) -> None:
    assert normalize_kana(raw) == expected


@pytest.mark.parametrize(
    ("raw", "pos", "char"),
    [
        ("ヤマダA", 4, "A"),
        ("山田", 1, "山"),
        ("ヤマダ-ハナコ", 4, "-"),
        ("  ﾔﾏﾀﾞ ﾊﾅｺ1", 9, "1"),
        ("ﾔﾏﾀﾞ｡", 5, "｡"),
        ("ゝ", 1, "ゝ"),
        ("ｱﾞ", 2, "゛"),
        ("ヤマダ　ハナコＡ", 8, "Ａ"),
    ],
)
def test_normalize_kana_names_first_bad_character(raw: str, pos: int, char: str) -> None:
    with pytest.raises(DomainError) as e:
        normalize_kana(raw)
    assert e.value.ja == f"フリガナの{pos}文字目「{char}」はカタカナではありません"
    assert f"U+{ord(char):04X}" in e.value.en


@pytest.mark.parametrize("raw", ["", " ", "\u3000"])
def test_normalize_kana_rejects_empty(raw: str) -> None:
    with pytest.raises(DomainError) as e:
        normalize_kana(raw)
    assert e.value.ja == "フリガナが空です"


def test_halfwidth_kana_block_widens_to_katakana() -> None:
    for c in HALFWIDTH_KANA[9:0x3D]:  # ｦ..ﾝ: letters, without punctuation and sound marks
        out = normalize_kana(c)
        assert len(out) == 1 and 0x30A1 <= ord(out) <= 0x30FC, c


kana_input = st.text(
    st.sampled_from(
        [chr(c) for c in range(0xFF66, 0xFFA0)]
        + [chr(c) for c in range(0x3041, 0x3097)]
        + [chr(c) for c in range(0x30A1, 0x30FB)]
        + [" ", "\u3000"]
    ),
    min_size=1,
    max_size=20,
)


@given(kana_input)
def test_normalize_kana_output_is_canonical(raw: str) -> None:
    try:
        once = normalize_kana(raw)
    except DomainError:
        return  # only a sound mark with nothing to attach to, or blank input
    assert normalize_kana(once) == once
    assert re.fullmatch(r"[\u30a1-\u30fa\u30fb\u30fc]+(\u3000[\u30a1-\u30fa\u30fb\u30fc]+)*", once)


@given(st.text(st.sampled_from([chr(c) for c in range(0xFF61, 0xFFA0)] + ["ア", "ｶ"])))
def test_halfwidth_to_fullwidth_is_idempotent_in_names(raw: str) -> None:
    if not raw.strip():
        return
    once = normalize_name(raw)
    assert normalize_name(once) == once


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-06-07", date(2024, 6, 7)),
        ("2024/6/7", date(2024, 6, 7)),
        ("2024/06/07", date(2024, 6, 7)),
        ("2024.6.7", date(2024, 6, 7)),
        ("2024-6-7", date(2024, 6, 7)),
        ("20240607", date(2024, 6, 7)),
        ("2024年6月7日", date(2024, 6, 7)),
        ("2024年06月07日", date(2024, 6, 7)),
        ("令和6年6月7日", date(2024, 6, 7)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和1年5月1日", date(2019, 5, 1)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("昭和元年12月25日", date(1926, 12, 25)),
        ("大正15年12月24日", date(1926, 12, 24)),
        ("大正元年7月30日", date(1912, 7, 30)),
        ("明治45年7月29日", date(1912, 7, 29)),
        ("明治元年1月1日", date(1868, 1, 1)),
        ("R6.6.7", date(2024, 6, 7)),
        ("R6/6/7", date(2024, 6, 7)),
        ("R6-6-7", date(2024, 6, 7)),
        ("r6.6.7", date(2024, 6, 7)),
        ("R06.06.07", date(2024, 6, 7)),
        ("H31.4.30", date(2019, 4, 30)),
        ("h31.4.30", date(2019, 4, 30)),
        ("S64.1.7", date(1989, 1, 7)),
        ("s40.1.1", date(1965, 1, 1)),
        ("T1.7.30", date(1912, 7, 30)),
        ("t15.12.24", date(1926, 12, 24)),
        ("M45.7.29", date(1912, 7, 29)),
        ("m1.1.1", date(1868, 1, 1)),
        ("R元.5.1", date(2019, 5, 1)),
        # an era that ended with an emperor's death shares its last day with the next one
        ("明治45年7月30日", date(1912, 7, 30)),
        ("M45.7.30", date(1912, 7, 30)),
        ("大正15年12月25日", date(1926, 12, 25)),
        ("T15.12.25", date(1926, 12, 25)),
        # abbreviations people type: the era's first kanji, a dot after the initial
        ("昭57.7.3", date(1982, 7, 3)),
        ("S57.7.3", date(1982, 7, 3)),
        ("昭和57年7月3日", date(1982, 7, 3)),
        ("平31.4.30", date(2019, 4, 30)),
        ("令元.5.1", date(2019, 5, 1)),
        ("令6.6.7", date(2024, 6, 7)),
        ("明45.7.30", date(1912, 7, 30)),
        ("大15.12.25", date(1926, 12, 25)),
        ("H.31.4.30", date(2019, 4, 30)),
        ("Ｓ５７．７．３", date(1982, 7, 3)),
        ("昭５７．７．３", date(1982, 7, 3)),
        ("令和元年５月１日", date(2019, 5, 1)),
        ("Ｒ元／５／１", date(2019, 5, 1)),
        ("２０２４－０６－０７", date(2024, 6, 7)),
        ("２０２４／６／７", date(2024, 6, 7)),
        ("２０２４０６０７", date(2024, 6, 7)),
        ("令和６年６月７日", date(2024, 6, 7)),
        ("Ｒ６．６．７", date(2024, 6, 7)),
        ("ｒ０６．０６．０７", date(2024, 6, 7)),
        ("  2024-06-07\t", date(2024, 6, 7)),
        ("\u3000令和 6 年 6 月 7 日\u3000", date(2024, 6, 7)),
        ("2024-02-29", date(2024, 2, 29)),
        ("2000-02-29", date(2000, 2, 29)),
    ],
)
def test_parse_date_accepts(raw: str, expected: date) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "ja"),
    [
        ("2024-02-30", "2024年2月に30日はありません"),
        ("2023-02-29", "2023年2月に29日はありません"),
        ("1900-02-29", "1900年2月に29日はありません"),
        ("2024-04-31", "2024年4月に31日はありません"),
        ("2024-06-00", "2024年6月に0日はありません"),
        ("20240230", "2024年2月に30日はありません"),
        ("2024/13/1", "2024年の月「13」は1〜12ではありません"),
        ("2024-00-10", "2024年の月「0」は1〜12ではありません"),
        ("0000-01-01", "西暦0年は存在しません"),
        ("平成31年5月1日", "平成31年5月1日は存在しません（平成は2019年4月30日まで）"),
        ("H31.5.1", "平成31年5月1日は存在しません（平成は2019年4月30日まで）"),
        ("昭和64年1月8日", "昭和64年1月8日は存在しません（昭和は1989年1月7日まで）"),
        ("令和1年4月30日", "令和元年4月30日は存在しません（令和は2019年5月1日から）"),
        ("平成元年1月7日", "平成元年1月7日は存在しません（平成は1989年1月8日から）"),
        ("大正元年7月29日", "大正元年7月29日は存在しません（大正は1912年7月30日から）"),
        ("明治45年7月31日", "明治45年7月31日は存在しません（明治は1912年7月30日まで）"),
        ("M45.7.31", "明治45年7月31日は存在しません（明治は1912年7月30日まで）"),
        ("大正15年12月26日", "大正15年12月26日は存在しません（大正は1926年12月25日まで）"),
        ("昭和元年12月24日", "昭和元年12月24日は存在しません（昭和は1926年12月25日から）"),
        ("昭元.12.24", "昭和元年12月24日は存在しません（昭和は1926年12月25日から）"),
        ("令和元年4月30日", "令和元年4月30日は存在しません（令和は2019年5月1日から）"),
        ("令1.4.30", "令和元年4月30日は存在しません（令和は2019年5月1日から）"),
        ("慶3.1.1", "元号「慶」は使えません"),
        ("平成32年1月1日", "平成32年は存在しません（平成は31年まで）"),
        ("昭和65年1月1日", "昭和65年は存在しません（昭和は64年まで）"),
        ("大正16年1月1日", "大正16年は存在しません（大正は15年まで）"),
        ("明治46年1月1日", "明治46年は存在しません（明治は45年まで）"),
        ("令和0年5月1日", "令和0年は存在しません"),
        ("R0.5.1", "令和0年は存在しません"),
        ("令和6年2月30日", "令和6年2月に30日はありません"),
        ("令和6年13月1日", "令和6年の月「13」は1〜12ではありません"),
        ("令和5年2月29日", "令和5年2月に29日はありません"),
        ("慶応3年1月1日", "元号「慶応」は使えません"),
        ("X6.6.7", "元号「X」は使えません"),
        ("Q6/6/7", "元号「Q」は使えません"),
        ("ｈ３１．４．３１", "平成31年4月に31日はありません"),
        ("2024-06", "日付「2024-06」を読み取れません"),
        ("June 7, 2024", "日付「June 7, 2024」を読み取れません"),
        ("2024-06/07", "日付「2024-06/07」を読み取れません"),
        ("令和6年6月", "日付「令和6年6月」を読み取れません"),
        ("R6.6", "日付「R6.6」を読み取れません"),
        ("", "日付が空です"),
        ("   ", "日付が空です"),
    ],
)
def test_parse_date_rejects_naming_the_bad_part(raw: str, ja: str) -> None:
    with pytest.raises(DomainError) as e:
        parse_date(raw)
    assert ja in e.value.ja


def test_parse_date_never_echoes_a_possible_my_number() -> None:
    with pytest.raises(DomainError) as e:
        parse_date("123456789018")
    assert "123456789018" not in str(e.value)
    assert "読み取れません" in e.value.ja


ERA_STARTS = [
    ("明治", date(1868, 1, 1)),
    ("大正", date(1912, 7, 30)),
    ("昭和", date(1926, 12, 25)),
    ("平成", date(1989, 1, 8)),
    ("令和", date(2019, 5, 1)),
]


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (date(2024, 6, 7), "令和6年6月7日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(1868, 1, 1), "明治元年1月1日"),
        (date(2100, 12, 31), "令和82年12月31日"),
    ],
)
def test_format_wareki(d: date, text: str) -> None:
    assert format_wareki(d) == text


def test_format_wareki_rejects_before_meiji() -> None:
    with pytest.raises(DomainError) as e:
        format_wareki(date(1867, 12, 31))
    assert "1867年12月31日" in e.value.ja


@pytest.mark.parametrize(("era", "start"), ERA_STARTS)
def test_era_boundaries_round_trip(era: str, start: date) -> None:
    assert format_wareki(start).startswith(era + "元年")
    for d in (start - timedelta(days=1), start, start + timedelta(days=1)):
        if d.year >= 1868:
            assert parse_date(format_wareki(d)) == d


@given(st.dates(min_value=date(1868, 1, 1), max_value=date(2100, 12, 31)))
def test_format_wareki_parse_date_round_trip(d: date) -> None:
    text = format_wareki(d)
    assert parse_date(text) == d
    full = text.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    assert parse_date(full) == d


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_iso_and_compact_round_trip(d: date) -> None:
    assert parse_date(d.isoformat()) == d
    if d.year >= 1000:
        assert parse_date(d.strftime("%Y%m%d")) == d
        assert parse_date(f"{d.year}/{d.month}/{d.day}") == d
        assert parse_date(f"{d.year}年{d.month}月{d.day}日") == d


@given(st.dates(min_value=date(1868, 1, 1), max_value=date(2100, 12, 31)))
def test_romaji_initials_round_trip(d: date) -> None:
    text = format_wareki(d)
    m = re.fullmatch(r"(..)(\d+|元)年(\d+)月(\d+)日", text)
    assert m is not None
    initial = {"明治": "M", "大正": "T", "昭和": "S", "平成": "H", "令和": "R"}[m.group(1)]
    year = "1" if m.group(2) == "元" else m.group(2)
    assert parse_date(f"{initial}{year}.{m.group(3)}.{m.group(4)}") == d
    assert parse_date(f"{initial.lower()}{int(year):02d}/{int(m.group(3)):02d}/{m.group(4)}") == d


# --------------------------------------------------------------------------- sex, flags


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("2", 2),
        ("男", 1),
        ("女", 2),
        ("男性", 1),
        ("女性", 2),
        ("M", 1),
        ("F", 2),
        ("m", 1),
        ("f", 2),
        ("１", 1),
        ("２", 2),
        ("Ｍ", 1),
        ("ｆ", 2),
        (" 女 ", 2),
        ("\u3000男性\u3000", 1),
    ],
)
def test_parse_sex(raw: str, expected: int) -> None:
    assert parse_sex(raw) == expected


@pytest.mark.parametrize("raw", ["", "0", "3", "X", "男女", "male"])
def test_parse_sex_rejects(raw: str) -> None:
    with pytest.raises(DomainError) as e:
        parse_sex(raw)
    assert f"性別「{raw}」を読み取れません" in e.value.ja


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("0", False),
        ("１", True),
        ("０", False),
        ("はい", True),
        ("いいえ", False),
        ("該当", True),
        ("非該当", False),
        ("true", True),
        ("TRUE", True),
        ("False", False),
        ("yes", True),
        ("No", False),
        ("ＹＥＳ", True),
        ("有", True),
        ("無", False),
        ("", False),
        ("  ", False),
        ("\u3000", False),
        (" 1 ", True),
    ],
)
def test_parse_flag(raw: str, expected: bool) -> None:
    assert parse_flag(raw) is expected


@pytest.mark.parametrize("raw", ["2", "maybe", "○", "-1"])
def test_parse_flag_rejects(raw: str) -> None:
    with pytest.raises(DomainError) as e:
        parse_flag(raw)
    assert f"「{raw}」" in e.value.ja


# --------------------------------------------------------------------------- redaction


def test_redact_for_message() -> None:
    assert redact_for_message("abc") == "「abc」"
    assert redact_for_message("0110113719") == "「0110113719」"
    assert "1234" not in redact_for_message("1234 5678 9018")
    assert "１２３４" not in redact_for_message("１２３４５６７８９０１８")


@given(
    st.text(alphabet="0123456789０１２３４５６７８９ -/", min_size=11).filter(
        lambda s: sum(c.isdigit() for c in s) >= 11
    )
)
def test_parsers_never_echo_eleven_or_more_digits(raw: str) -> None:
    for parser in (parse_date, parse_sex, parse_flag):
        try:
            parser(raw)
        except DomainError as e:
            assert raw not in str(e)
            assert re.search(r"[0-9０-９]{5}", str(e)) is None


def _outcome(parse: Callable[[str], object], raw: str) -> object:
    try:
        return parse(raw)
    except DomainError as e:
        return (e.ja, e.en)


@given(
    st.one_of(
        st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
        st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
        st.text(alphabet="0123456789-/.年月日令和R ", max_size=12),
    )
)
def test_parse_iso_date_is_parse_date_in_iso_form(raw: str) -> None:
    """The fast path for YYYY-MM-DD agrees with parse_date, in answers and in errors."""
    assert _outcome(parse_iso_date, raw) == _outcome(lambda s: parse_date(s).isoformat(), raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-06-07", "2024-06-07"),
        ("R6.6.7", "2024-06-07"),
        ("２０２４－０６－０７", "2024-06-07"),
    ],
)
def test_parse_iso_date(raw: str, expected: str) -> None:
    assert parse_iso_date(raw) == expected


# --------------------------------------------------------------------------- era boundaries


@pytest.mark.parametrize(
    ("old", "new", "day"),
    [
        ("明治45年7月30日", "大正元年7月30日", date(1912, 7, 30)),
        ("大正15年12月25日", "昭和元年12月25日", date(1926, 12, 25)),
    ],
)
def test_the_day_an_emperor_died_has_two_spellings(old: str, new: str, day: date) -> None:
    """The new era began on the day the old one ended: both name that day; the day after
    is the new era's only, the day before the old one's only."""
    assert parse_date(old) == parse_date(new) == day
    assert format_wareki(day) == new
    after, before = day + timedelta(days=1), day - timedelta(days=1)
    with pytest.raises(DomainError):
        parse_date(old.replace(f"{day.day}日", f"{after.day}日"))
    with pytest.raises(DomainError):
        parse_date(new.replace(f"{day.day}日", f"{before.day}日"))


@pytest.mark.parametrize(
    ("last", "first"),
    [("昭和64年1月7日", "平成元年1月8日"), ("平成31年4月30日", "令和元年5月1日")],
)
def test_eras_set_by_law_share_no_day(last: str, first: str) -> None:
    assert parse_date(first) - parse_date(last) == timedelta(days=1)


# --------------------------------------------------------------------------- date ranges


def test_parse_iso_date_between_includes_both_ends() -> None:
    today = date(2026, 12, 6)
    assert parse_iso_date_between("明治元年1月1日", EARLIEST_DATE, today) == "1868-01-01"
    assert parse_iso_date_between("R8.12.6", EARLIEST_DATE, today) == "2026-12-06"
    with pytest.raises(DomainError) as e:
        parse_iso_date_between("0001-01-01", EARLIEST_DATE, today)
    assert e.value.ja == "明治元年1月1日（1868年1月1日）より前の日付は使えません（1年1月1日）"
    with pytest.raises(DomainError) as e:
        parse_iso_date_between("2026-12-07", EARLIEST_DATE, today, ("取込日", "the import day"))
    assert e.value.ja == "取込日より後の日付は使えません（2026年12月7日）"
    assert "the import day" in e.value.en
    with pytest.raises(DomainError) as e:
        parse_iso_date_between("9999-12-31", EARLIEST_DATE, LATEST_DATE)
    assert e.value.ja.startswith("2099年12月31日より後")


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_parse_iso_date_between_agrees_with_comparing_dates(d: date) -> None:
    try:
        out = parse_iso_date_between(d.isoformat(), EARLIEST_DATE, LATEST_DATE)
    except DomainError:
        assert not EARLIEST_DATE <= d <= LATEST_DATE
    else:
        assert EARLIEST_DATE <= d <= LATEST_DATE and out == d.isoformat()


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("raw", "position", "code", "kind"),
    [
        ("協会\x00花子", 3, "U+0000", "制御文字"),
        ("協会\x1b[31m", 3, "U+001B", "制御文字"),
        ("協会\x85花子", 3, "U+0085", "制御文字"),
        ("協会\x7f", 3, "U+007F", "制御文字"),
        ("協会\x0b花子", 3, "U+000B", "制御文字"),
        ("協会\x1c花子", 3, "U+001C", "制御文字"),
        ("\u202e子花", 1, "U+202E", "書式制御文字"),
        ("協会\u200b花子", 3, "U+200B", "書式制御文字"),
        ("協会\ufeff", 3, "U+FEFF", "書式制御文字"),
        ("協会\u2066花子", 3, "U+2066", "書式制御文字"),
        ("協会\u2028花子", 3, "U+2028", "行区切り文字"),
        ("協会\u2029花子", 3, "U+2029", "段落区切り文字"),
        ("協会\ue000", 3, "U+E000", "私用領域の文字"),
        ("協会\U000f0000", 3, "U+F0000", "私用領域の文字"),
        ("協会\u0378", 3, "U+0378", "未定義の文字"),
        ("協会\udc81", 3, "U+DC81", "文字コードとして読めない文字"),
    ],
)
def test_check_text_names_the_refused_character(
    raw: str, position: int, code: str, kind: str
) -> None:
    with pytest.raises(DomainError) as e:
        validate_text(raw, "氏名", "name")
    assert f"氏名の{position}文字目に使えない文字（{code}、{kind}" in e.value.ja
    assert code in e.value.en


@pytest.mark.parametrize(
    "raw",
    [
        "協会　花子",
        "協会\t花子",
        "東京都\r\n千代田区",
        "髙﨑\U00020bb7",
        "葛\U000e0100城",
        "a\u00a0b",
    ],
)
def test_check_text_keeps_spaces_line_breaks_and_variation_selectors(raw: str) -> None:
    assert validate_text(raw, "住所", "address") == raw


@given(st.text(st.characters(exclude_categories=REFUSED_CATEGORIES)))
def test_check_text_accepts_every_other_character(raw: str) -> None:
    assert validate_text(raw, "住所", "address") == raw


@pytest.mark.parametrize(
    "raw", ["協会\x00花子", "協会\u202e花子", "協会\u2028花子", "\x1c協会　花子"]
)
def test_names_and_kana_refuse_control_characters(raw: str) -> None:
    """str.split() reads U+2028 and U+001C as spaces: they must be refused before it."""
    with pytest.raises(DomainError) as e:
        normalize_name(raw)
    assert "使えない文字" in e.value.ja
    kana = raw.replace("協会", "キョウカイ").replace("花子", "ハナコ")
    with pytest.raises(DomainError) as e:
        normalize_kana(kana)
    assert "使えない文字" in e.value.ja


@pytest.mark.parametrize("raw", ['=HYPERLINK("http://x","a")', "+81", "-1", "@SUM(1)", " =1"])
def test_a_name_never_starts_a_formula(raw: str) -> None:
    with pytest.raises(DomainError) as e:
        normalize_name(raw)
    assert "数式" in e.value.ja


def test_normalize_text_collapses_whitespace() -> None:
    assert normalize_text(" 東京都\t千代田区\r\n霞が関　1-3-2 ", "住所", "address") == (
        "東京都 千代田区 霞が関 1-3-2"
    )
    with pytest.raises(DomainError):
        normalize_text("東京都\u202e", "住所", "address")


def test_check_length_counts_characters() -> None:
    assert validate_length("𠮷" * 3, 3, "氏名", "name") == "𠮷" * 3
    with pytest.raises(DomainError) as e:
        validate_length("髙" * 25, 24, "氏名", "name")
    assert e.value.ja == "氏名が長すぎます（25文字。24文字までです）"


def test_messages_quote_no_more_than_a_little_of_the_input() -> None:
    with pytest.raises(DomainError) as e:
        parse_sex("男" * 100_000)
    assert len(e.value.ja) < 100
    with pytest.raises(DomainError) as e:
        parse_sex("\x1b[2J\u202e男")
    assert "\x1b" not in e.value.ja and "\u202e" not in e.value.ja
    assert "\\u001b" in e.value.ja and "\\u202e" in e.value.ja
