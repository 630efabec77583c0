"""A fast TrueType subsetter for PDF embedding (FontFile2), built for one job.

Glyph ids are kept (the PDF uses CIDToGIDMap /Identity, so a character's code *is* its glyph
id and encodings never depend on the subset): unused glyphs become empty entries in `loca`,
only the used outlines (plus composite components) are copied, hinting is dropped. The font
program is returned already Flate-encoded.

Speed is the point (fontTools.subset takes ~100 ms per call; a parcel file has a budget of a
few ms in all). Each glyph is prepared once per process (instructions removed, padded,
checksummed). Per file, only the short `loca` and the sparse `hmtx` are compressed; the
outlines go into stored (uncompressed) deflate blocks, because outlines compress by only
~25 % as a whole and ~2 % glyph by glyph, while compressing them per file costs ~1 ms.
Subsets built once per process (the template fonts) use `compress_outlines=True`.
"""

from __future__ import annotations

import struct
import zlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from threading import Lock
from typing import Final

from shikaku.render.fonts import TrueTypeFont

_BIG_ENDIAN_HOST: Final = array("H", b"\x00\x01")[0] == 1
_STORED_MAX: Final = 0xFFFF
# A minimal format-4 cmap (only the mandatory 0xFFFF end segment): the PDF maps codes to
# glyphs itself (CIDToGIDMap), but some preflight tools want a cmap table to exist.
_CMAP: Final = struct.pack(
    ">HHHHIHHHHHHHHHHHH", 0, 1, 3, 1, 12, 4, 24, 0, 2, 2, 0, 0, 0xFFFF, 0, 0xFFFF, 1, 0
)
_POST: Final = struct.pack(">IIhhIIIII", 0x00030000, 0, 0, 0, 0, 0, 0, 0, 0)  # no names


_U16: Final = struct.Struct(">H")
_U32: Final = struct.Struct(">I")


def _checksum(data: bytes | bytearray) -> int:
    padded = data + b"\x00" * (-len(data) % 4)
    words = array("I", padded)
    if not _BIG_ENDIAN_HOST:
        words.byteswap()
    return sum(words) & 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class _Glyph:
    data: bytes  # outline without instructions, padded to 4 bytes
    size: int  # len(data)
    checksum: int  # of data, as a part of the glyf table's checksum
    components: tuple[int, ...]
    hmtx: bytes  # (advance, lsb) record
    hmtx_word: int  # the same as one big-endian uint32, for the hmtx checksum


class GlyphSource:
    """Per font: prepared glyphs and the fixed tables, computed once per process."""

    def __init__(self, font: TrueTypeFont) -> None:
        self.font = font
        self._glyphs: dict[int, _Glyph] = {}
        self._lock = Lock()
        self._head = font.table("head")
        self._hhea = font.table("hhea")
        self._maxp = font.table("maxp")
        self._os2 = font.table("OS/2") if "OS/2" in font.tables else None

    def glyph(self, gid: int) -> _Glyph:
        g = self._glyphs.get(gid)
        if g is None:
            data, components = self.font.glyph(gid)
            hmtx = self.font.hmtx_entry(gid)
            g = _Glyph(
                data, len(data), _checksum(data), components, hmtx, int.from_bytes(hmtx, "big")
            )
            with self._lock:
                self._glyphs[gid] = g
        return g

    def closure(self, gids: Iterable[int]) -> list[tuple[int, _Glyph]]:
        """The glyphs `gids` with every composite's components (and .notdef), by id."""
        cached = self._glyphs
        limit = self.font.num_glyphs
        wanted = {0, *gids}
        seen: dict[int, _Glyph] = {}
        while wanted:
            for gid in wanted:
                if gid < limit:
                    seen[gid] = cached.get(gid) or self.glyph(gid)
            parts = {c for g in seen.values() if g.components for c in g.components}
            wanted = parts - seen.keys()
        return sorted(seen.items())

    def subset(self, gids: Iterable[int], *, compress_outlines: bool = False) -> tuple[bytes, int]:
        """The Flate-encoded TrueType program holding (at least) the glyphs `gids`, and its
        decoded length (the FontFile2 stream's /Length1)."""
        used = self.closure(gids)
        n = used[-1][0] + 1  # glyphs after the last used one are simply not there
        total = sum(g.size for _gid, g in used)
        short = total < 0x20000
        shift = 1 if short else 0  # short loca stores offset / 2
        pack = _U16.pack if short else _U32.pack

        # loca: one run of equal offsets per used glyph (the unused glyphs before it are
        # empty); hmtx: zeros except the used glyphs' records. The loca checksum follows
        # from the runs: entry i is the high half of word i // 2 if i is even (short
        # format), so summing thousands of words is not needed.
        loca_parts: list[bytes] = []
        append = loca_parts.append
        hmtx = bytearray(4 * n)
        hmtx_sum = glyf_sum = loca_sum = 0
        prev = -1
        pos = 0
        for gid, g in used:
            value = pos >> shift
            append(pack(value) * (gid - prev))
            if short:  # entries prev+1 .. gid; (gid >> 1) - (prev >> 1) of them are odd
                odd = (gid + 1 >> 1) - (prev + 1 >> 1)
                loca_sum += value * (((gid - prev - odd) << 16) + odd)
            else:
                loca_sum += value * (gid - prev)
            hmtx[4 * gid : 4 * gid + 4] = g.hmtx
            hmtx_sum += g.hmtx_word
            glyf_sum += g.checksum
            pos += g.size
            prev = gid
        value = pos >> shift
        append(pack(value))
        loca_sum += value << 16 if short and n % 2 == 0 else value
        loca = b"".join(loca_parts)
        loca_sum &= 0xFFFFFFFF
        hmtx_sum &= 0xFFFFFFFF
        glyf_sum &= 0xFFFFFFFF

        head = bytearray(self._head)
        struct.pack_into(">I", head, 8, 0)  # checkSumAdjustment, set below
        struct.pack_into(">h", head, 50, 0 if short else 1)
        hhea = bytearray(self._hhea)
        struct.pack_into(">H", hhea, 34, n)
        maxp = bytearray(self._maxp)
        struct.pack_into(">H", maxp, 4, n)

        # (tag, bytes or None for glyf, length, checksum), in file order; glyf goes last
        # because its bytes are streamed after the compressed part.
        tables: list[tuple[bytes, bytes | None, int, int]] = [
            (b"head", bytes(head), len(head), _checksum(head)),
            (b"hhea", bytes(hhea), len(hhea), _checksum(hhea)),
            (b"maxp", bytes(maxp), len(maxp), _checksum(maxp)),
        ]
        if self._os2 is not None:
            tables.append((b"OS/2", self._os2, len(self._os2), _checksum(self._os2)))
        tables += [
            (b"cmap", _CMAP, len(_CMAP), _checksum(_CMAP)),
            (b"post", _POST, len(_POST), _checksum(_POST)),
            (b"hmtx", bytes(hmtx), len(hmtx), hmtx_sum),
            (b"loca", loca, len(loca), loca_sum),
            (b"glyf", None, total, glyf_sum),
        ]

        num = len(tables)
        entry_selector = num.bit_length() - 1
        search_range = 16 << entry_selector
        directory = bytearray(
            struct.pack(">IHHHH", 0x00010000, num, search_range, entry_selector,
                        16 * num - search_range)
        )  # fmt: skip
        offset = 12 + 16 * num
        offsets: dict[bytes, int] = {}
        for tag, _data, length, _sum in tables:
            offsets[tag] = offset
            offset += length + (-length % 4)
        for tag, _data, length, csum in sorted(tables, key=lambda t: t[0]):
            directory += struct.pack(">4sIII", tag, csum, offsets[tag], length)
        font_sum = _checksum(directory) + sum(t[3] for t in tables)
        struct.pack_into(">I", head, 8, (0xB1B0AFBA - font_sum) & 0xFFFFFFFF)
        tables[0] = (b"head", bytes(head), len(head), tables[0][3])

        prefix = bytes(directory) + b"".join(
            d + b"\x00" * (-len(d) % 4) for _t, d, _l, _s in tables if d is not None
        )
        outlines = b"".join(g.data for _gid, g in used)
        length = len(prefix) + len(outlines)
        if compress_outlines:
            return zlib.compress(prefix + outlines, 9), length
        return _flate_with_stored_tail(prefix, outlines), length


def _flate_with_stored_tail(prefix: bytes, tail: bytes) -> bytes:
    """A zlib stream: `prefix` deflated fast, then `tail` in stored blocks."""
    c = zlib.compressobj(1, zlib.DEFLATED, -15, 9)
    parts = [b"\x78\x01", c.compress(prefix), c.flush(zlib.Z_SYNC_FLUSH)]
    view = memoryview(tail)
    for start in range(0, len(tail), _STORED_MAX):
        chunk = view[start : start + _STORED_MAX]
        last = start + _STORED_MAX >= len(tail)
        size = len(chunk)
        parts.append(struct.pack("<BHH", 1 if last else 0, size, size ^ 0xFFFF))
        parts.append(bytes(chunk))
    if not tail:
        parts.append(b"\x03\x00")  # an empty final block
    parts.append(struct.pack(">I", zlib.adler32(tail, zlib.adler32(prefix))))
    return b"".join(parts)


_SOURCES: dict[int, GlyphSource] = {}
_SOURCES_LOCK: Final = Lock()


def glyph_source(font: TrueTypeFont) -> GlyphSource:
    """The process-wide GlyphSource of a loaded font."""
    with _SOURCES_LOCK:
        src = _SOURCES.get(id(font))
        if src is None or src.font is not font:
            src = _SOURCES[id(font)] = GlyphSource(font)
        return src
