"""Text encoding with the IPAmj fallback, and Japanese line breaking."""

from __future__ import annotations

import pytest

from shikaku.render import FontSet, UnprintableError
from shikaku.render.text import GlyphUse, TextEncoder, wrap


def encoder(fonts: FontSet) -> TextEncoder:
    return TextEncoder(GlyphUse(fonts.gothic, b"/G"), GlyphUse(fonts.fallback, b"/J"))


def test_primary_only_is_one_run(fonts: FontSet) -> None:
    enc = encoder(fonts)
    shown = enc.show("協会 花子")
    assert isinstance(shown, bytes)
    gid = fonts.gothic.cmap[ord("協")]
    assert shown.startswith(b"<%04X" % gid)
    assert enc.primary.chars == set("協会 花子")
    assert not enc.fallback.chars


def test_fallback_runs_switch_fonts_and_back(fonts: FontSet) -> None:
    enc = encoder(fonts)
    ops = enc.ops("𠮷田 太郎", b"10.00")
    assert ops.startswith(b"/J 10.00 Tf <")
    assert b"/G 10.00 Tf" in ops
    assert enc.fallback.chars == {"𠮷"}
    assert enc.width("𠮷田") == 2000


def test_unprintable_text_is_refused(fonts: FontSet) -> None:
    with pytest.raises(UnprintableError, match=r"U\+E000"):
        encoder(fonts).show("花\ue000子")


def test_strings_are_encoded_once_per_file(fonts: FontSet) -> None:
    enc = encoder(fonts)
    assert enc.show("花子") is enc.show("花子")


def width(s: str) -> float:
    return sum(1000 if ord(c) > 255 else 500 for c in s)


def test_wrap_prefers_the_space_between_town_and_building() -> None:
    assert wrap("東京都中野区中野四丁目10番2号 中野セントラルパークサウス7階", 20000, width) == [
        "東京都中野区中野四丁目10番2号",
        "中野セントラルパークサウス7階",
    ]


def test_wrap_keeps_phone_numbers_whole() -> None:
    lines = wrap("専用ダイヤル（0570-015-369）までお問い合わせください。", 14000, width)
    assert any("0570-015-369" in line for line in lines)


def test_wrap_kinsoku() -> None:
    assert wrap("あいうえおかきくけこ。さしす", 10000, width) == [
        "あいうえおかきくけ",
        "こ。さしす",
    ]
    assert wrap("あいうえおかきくけ「こさしす", 10000, width)[1].startswith("「")


def test_wrap_keeps_newlines() -> None:
    assert wrap("あ\nい", 10000, width) == ["あ", "い"]


def test_wrap_keeps_a_paragraph_indent() -> None:
    assert wrap("　さて、", 10000, width) == ["　さて、"]


def test_common_strings_use_the_template_subset(fonts: FontSet) -> None:
    enc = TextEncoder(
        GlyphUse(fonts.gothic, b"/G"),
        GlyphUse(fonts.fallback, b"/J"),
        b"/TG",
        frozenset("0123456789年月日令和"),
    )
    assert enc.entry("令和6年6月7日")[2] is True
    assert enc.resource("令和6年6月7日") == b"/TG"
    assert enc.entry("協会 花子")[2] is False
    assert enc.resource("協会 花子") == b"/G"
    assert enc.primary.chars == set("協会 花子")  # the file's subset: names only
    assert enc.template_used
