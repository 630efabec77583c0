"""Embedding one font subset as a PDF Type0 / CIDFontType2 font (Identity-H).

Character codes are glyph ids (CIDToGIDMap /Identity), widths go into /W, and a ToUnicode
CMap maps every used glyph back to its character, so pdftotext and pypdf extract the
Japanese text exactly. The objects are prepared as bytes first (`FontObjects`) and numbered
only when written: the template fonts are prepared once per process and written into every
file unchanged.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from shikaku.render.fonts import TrueTypeFont
from shikaku.render.pdf import PdfWriter, pdf_name
from shikaku.render.subset import glyph_source

DEFAULT_WIDTH: Final = 1000  # full-width: most Japanese glyphs, so /W lists only the rest
_BFCHAR_BLOCK: Final = 100  # the CMap language's limit per beginbfchar section
_FLAG_SERIF: Final = 2
_FLAG_SYMBOLIC: Final = 4

_CMAP_HEAD: Final = (
    b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
    b"/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n"
    b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
    b"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
)
_CMAP_TAIL: Final = b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"


@dataclass(frozen=True, slots=True)
class FontObjects:
    """One embedded subset, ready to write: everything but the object numbers."""

    base_font: bytes  # /ABCDEF+IPAexGothic
    widths: bytes  # the /W array
    descriptor: bytes  # FontDescriptor entries other than /FontName and /FontFile2
    to_unicode: bytes  # Flate-encoded ToUnicode CMap
    program: bytes  # Flate-encoded TrueType subset
    program_length: int  # its decoded length (/Length1)

    def write(self, w: PdfWriter) -> int:
        """Write the five objects; returns the Type0 font's object number."""
        type0, cid, desc, prog, tounicode = (w.alloc() for _ in range(5))
        w.obj(
            type0,
            b"<</Type/Font/Subtype/Type0/BaseFont%s/Encoding/Identity-H"
            b"/DescendantFonts[%d 0 R]/ToUnicode %d 0 R>>" % (self.base_font, cid, tounicode),
        )
        w.obj(
            cid,
            b"<</Type/Font/Subtype/CIDFontType2/BaseFont%s"
            b"/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>"
            b"/FontDescriptor %d 0 R/DW %d/W%s/CIDToGIDMap/Identity>>"
            % (self.base_font, desc, DEFAULT_WIDTH, self.widths),
        )
        w.obj(
            desc,
            b"<</Type/FontDescriptor/FontName%s%s/FontFile2 %d 0 R>>"
            % (self.base_font, self.descriptor, prog),
        )
        w.stream(prog, self.program, b"/Length1 %d" % self.program_length, flate=True)
        w.stream(tounicode, self.to_unicode, flate=True)
        return type0


def build_font(
    font: TrueTypeFont, chars: Iterable[str], *, compress_outlines: bool = False
) -> FontObjects:
    """The subset of `font` that draws `chars` (all must be in its cmap)."""
    cmap = font.cmap
    by_gid: dict[int, str] = {}
    for c in sorted(chars, reverse=True):  # two characters on one glyph: the lower one
        by_gid[cmap[ord(c)]] = c  # is extracted (it is assigned last)
    gids = sorted(by_gid)
    program, length = glyph_source(font).subset(gids, compress_outlines=compress_outlines)
    name = pdf_name(font.postscript_name)
    digest = hashlib.sha256(name[1:] + repr(gids).encode()).digest()
    tag = bytes(65 + b % 26 for b in digest[:6])
    return FontObjects(
        base_font=b"/%s+%s" % (tag, name[1:]),
        widths=_widths(font, gids),
        descriptor=_descriptor(font),
        to_unicode=zlib.compress(_to_unicode(by_gid), 1 if not compress_outlines else 9),
        program=program,
        program_length=length,
    )


def _widths(font: TrueTypeFont, gids: list[int]) -> bytes:
    """/W array: runs of consecutive glyph ids whose width is not the default."""
    parts: list[bytes] = []
    run: list[int] = []
    start = prev = -2
    widths = font.pdf_widths
    for gid in gids:
        w = widths[gid]
        if w == DEFAULT_WIDTH:
            continue
        if gid != prev + 1 and run:
            parts.append(b"%d[%s]" % (start, b" ".join(b"%d" % x for x in run)))
            run = []
        if not run:
            start = gid
        run.append(w)
        prev = gid
    if run:
        parts.append(b"%d[%s]" % (start, b" ".join(b"%d" % x for x in run)))
    return b"[" + b" ".join(parts) + b"]"


@lru_cache(maxsize=16)
def _descriptor(font: TrueTypeFont) -> bytes:
    scale = 1000 / font.units_per_em
    x0, y0, x1, y1 = (round(v * scale) for v in font.bbox)
    serif = "mincho" in font.postscript_name.lower()
    flags = _FLAG_SYMBOLIC | (_FLAG_SERIF if serif else 0)
    return (
        b"/Flags %d/FontBBox[%d %d %d %d]/ItalicAngle 0/Ascent %d/Descent %d/CapHeight %d/StemV 80"
        % (
            flags,
            x0,
            y0,
            x1,
            y1,
            round(font.ascender * scale),
            round(font.descender * scale),
            round(font.cap_height * scale),
        )
    )


@lru_cache(maxsize=65536)
def _bfchar(gid: int, c: str) -> bytes:
    return b"<%04X> <%s>" % (gid, c.encode("utf-16-be").hex().upper().encode())


def _to_unicode(by_gid: dict[int, str]) -> bytes:
    entries = [_bfchar(gid, c) for gid, c in sorted(by_gid.items())]
    parts = [_CMAP_HEAD]
    for i in range(0, len(entries), _BFCHAR_BLOCK):
        block = entries[i : i + _BFCHAR_BLOCK]
        parts.append(b"%d beginbfchar\n%s\nendbfchar\n" % (len(block), b"\n".join(block)))
    parts.append(_CMAP_TAIL)
    return b"".join(parts)
