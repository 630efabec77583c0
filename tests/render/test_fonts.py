"""Fonts: loading once per process, and which characters can never be printed."""

from __future__ import annotations

import pytest

from shikaku.render import FontPaths, FontSet
from shikaku.render.fonts import FontError, TrueTypeFont

YOSHI = "\U00020bb7"  # 𠮷 (つちよし): not in IPAex, in IPAmj明朝
EXT_G = "\U00030000"  # CJK Extension G: newer than IPAmj明朝


def test_loaded_once_per_paths(fonts: FontSet) -> None:
    assert FontSet.load() is fonts
    assert FontSet.load(FontPaths()) is fonts


def test_the_debian_fonts(fonts: FontSet) -> None:
    assert fonts.gothic.postscript_name == "IPAexGothic"
    assert fonts.mincho.postscript_name == "IPAexMincho"
    assert fonts.fallback.postscript_name == "IPAmjMincho"


def test_yoshi_needs_the_fallback(fonts: FontSet) -> None:
    assert ord(YOSHI) not in fonts.gothic.cmap
    assert ord(YOSHI) in fonts.fallback.cmap
    assert fonts.unprintable(f"{YOSHI}田 髙子") == ""


@pytest.mark.parametrize(
    "name", ["協会 花子", "髙橋 﨑子", "渡邉 齋", "ＡＢＣ abc　１２３", "ヨシダ タロウ"]
)
def test_ordinary_names_print(fonts: FontSet, name: str) -> None:
    assert fonts.unprintable(name) == ""


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("花\ue000子", "\ue000"),  # private use
        ("花子😀", "😀"),  # emoji: in no font here
        ("\ufe00", "\ufe00"),  # a variation selector alone
        ("葛\U000e0100飾", "\U000e0100"),  # an IVS: we print no variation sequences
        (f"{EXT_G}山", EXT_G),  # CJK Ext-G: IPAmj明朝 predates it
        ("花\t子\n", "\t\n"),  # controls
        ("花\u200b子", "\u200b"),  # zero width space (format character)
        ("か\u3099", "\u3099"),  # a combining mark would print beside its base
    ],
)
def test_unprintable(fonts: FontSet, text: str, bad: str) -> None:
    assert fonts.unprintable(text) == bad


def test_ext_g_really_missing_from_ipamj(fonts: FontSet) -> None:
    assert ord(EXT_G) not in fonts.fallback.cmap


def test_unprintable_reports_each_character_once_in_order(fonts: FontSet) -> None:
    assert fonts.unprintable("\ue001a\ue000\ue001") == "\ue001\ue000"


def test_missing_font_file(tmp_path: object) -> None:
    with pytest.raises(FontError):
        TrueTypeFont(FontPaths().gothic.with_name("no-such-font.ttf"))


def test_widths_in_thousandths_of_an_em(fonts: FontSet) -> None:
    g = fonts.gothic
    assert g.widths["協"] == 1000
    assert 0 < g.widths["1"] < 1000
