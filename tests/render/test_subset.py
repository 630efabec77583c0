"""The TrueType subsetter: the subset is a valid font with the same outlines and metrics."""

from __future__ import annotations

import io
import zlib

import pytest
from fontTools.ttLib import TTFont
from fontTools.ttLib.sfnt import calcChecksum

from shikaku.render import FontSet
from shikaku.render.subset import glyph_source

TEXT = "協会花子様（記号）0123abc𠮷髙"


@pytest.mark.parametrize("which", ["gothic", "fallback"])
@pytest.mark.parametrize("compress_outlines", [False, True])
def test_subset_is_a_valid_font_with_the_same_glyphs(
    fonts: FontSet, which: str, compress_outlines: bool
) -> None:
    font = getattr(fonts, which)
    gids = sorted({font.cmap[ord(c)] for c in TEXT if ord(c) in font.cmap})
    program, length = glyph_source(font).subset(gids, compress_outlines=compress_outlines)
    raw = zlib.decompress(program)
    assert len(raw) == length
    assert calcChecksum(raw) == 0xB1B0AFBA  # head.checkSumAdjustment is right
    sub = TTFont(io.BytesIO(raw), checkChecksums=2)  # every table checksum is right
    orig = TTFont(str(font.path), lazy=True)
    names, sub_names = orig.getGlyphOrder(), sub.getGlyphOrder()
    assert sub["maxp"].numGlyphs == gids[-1] + 1  # glyph ids kept
    for gid in gids:
        a, b = orig["glyf"][names[gid]], sub["glyf"][sub_names[gid]]
        assert a.getCoordinates(orig["glyf"])[0] == b.getCoordinates(sub["glyf"])[0]
        assert a.getCoordinates(orig["glyf"])[2] == b.getCoordinates(sub["glyf"])[2]
        assert sub["hmtx"][sub_names[gid]] == orig["hmtx"][names[gid]]
    unused = next(g for g in range(1, gids[-1]) if g not in gids and font.has_outline(g))
    assert sub["glyf"][sub_names[unused]].numberOfContours == 0  # left out


def test_hinting_is_dropped(fonts: FontSet) -> None:
    font = fonts.gothic
    gid = font.cmap[ord("協")]
    program, _ = glyph_source(font).subset([gid])
    sub = TTFont(io.BytesIO(zlib.decompress(program)))
    assert "fpgm" not in sub and "prep" not in sub
    glyph = sub["glyf"][sub.getGlyphOrder()[gid]]
    assert not glyph.program.getBytecode()


def test_long_loca_for_big_subsets(fonts: FontSet) -> None:
    font = fonts.gothic
    gids = range(1, 1500)
    program, _ = glyph_source(font).subset(gids)
    sub = TTFont(io.BytesIO(zlib.decompress(program)), checkChecksums=2)
    assert sub["head"].indexToLocFormat == 1
    sub["glyf"]  # parses


@pytest.mark.parametrize(
    "text",
    [
        "協会花子",  # full width only: one long hmtx record (.notdef)
        "A協会",  # a narrow glyph, then full width: a filler record after it
        "AB",  # narrow glyphs up to the end: every record long
        "12345 協会花子様",  # narrow glyphs far below the kanji
    ],
)
@pytest.mark.parametrize("which", ["gothic", "mincho", "fallback"])
def test_short_hmtx_keeps_every_used_advance(fonts: FontSet, which: str, text: str) -> None:
    font = getattr(fonts, which)
    gids = sorted({font.cmap[ord(c)] for c in text if ord(c) in font.cmap})
    program, _ = glyph_source(font).subset(gids)
    raw = zlib.decompress(program)
    assert calcChecksum(raw) == 0xB1B0AFBA
    sub = TTFont(io.BytesIO(raw), checkChecksums=2)
    orig = TTFont(str(font.path), lazy=True)
    names, sub_names = orig.getGlyphOrder(), sub.getGlyphOrder()
    assert sub["hhea"].numberOfHMetrics <= sub["maxp"].numGlyphs
    for gid in [0, *gids]:
        assert sub["hmtx"][sub_names[gid]] == orig["hmtx"][names[gid]]
