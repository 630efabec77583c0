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
from collections import Counter
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
    words = array("I", _padded(bytes(data)))
    if not _BIG_ENDIAN_HOST:
        words.byteswap()
    return sum(words) & 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class _Glyph:
    data: bytes  # outline without instructions, padded to 4 bytes
    size: int  # len(data)
    checksum: int  # of data, as a part of the glyf table's checksum
    components: tuple[int, ...]  # of a composite, recursively (nested composites too)
    hmtx: bytes  # (advance, lsb) record
    hmtx_word: int  # the same as one big-endian uint32, for the hmtx checksum


# The tables of a subset, in file order; glyf goes last because its bytes are streamed
# after the compressed part. The directory lists them sorted by tag.
_ORDER: Final = (b"head", b"hhea", b"maxp", b"OS/2", b"cmap", b"post", b"hmtx", b"loca", b"glyf")
_HEAD_ADJUST: Final = 8  # head.checkSumAdjustment
_HEAD_LOCA_FORMAT: Final = 50  # head.indexToLocFormat
_HHEA_METRICS: Final = 34  # hhea.numberOfHMetrics
_MAXP_GLYPHS: Final = 4  # maxp.numGlyphs


def _padded(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


class GlyphSource:
    """Per font: prepared glyphs and the fixed tables, computed once per process.

    The tables that vary with the subset vary in a few fields only, so their checksums
    are the fixed tables' checksums plus those fields (each field is the high or the low
    half of one 32-bit word); the directory's checksum is the sum of its words.
    """

    def __init__(self, font: TrueTypeFont) -> None:
        self.font = font
        self._glyphs: dict[int, _Glyph] = {}
        self._usual_advance = Counter(font.advances).most_common(1)[0][0]  # full width
        self._lock = Lock()
        head = bytearray(font.table("head"))
        struct.pack_into(">I", head, _HEAD_ADJUST, 0)
        struct.pack_into(">h", head, _HEAD_LOCA_FORMAT, 0)
        hhea = bytearray(font.table("hhea"))
        struct.pack_into(">H", hhea, _HHEA_METRICS, 0)
        maxp = bytearray(font.table("maxp"))
        struct.pack_into(">H", maxp, _MAXP_GLYPHS, 0)
        # each varying table as (bytes before the field, bytes after it, padded)
        self._head = (bytes(head[:_HEAD_ADJUST]), bytes(head[_HEAD_ADJUST + 4 : _HEAD_LOCA_FORMAT]),
                      _padded(bytes(head))[_HEAD_LOCA_FORMAT + 2 :])  # fmt: skip
        self._hhea = (bytes(hhea[:_HHEA_METRICS]), _padded(bytes(hhea))[_HHEA_METRICS + 2 :])
        self._maxp = (bytes(maxp[:_MAXP_GLYPHS]), _padded(bytes(maxp))[_MAXP_GLYPHS + 2 :])
        fixed = {b"cmap": _CMAP, b"post": _POST}
        if "OS/2" in font.tables:
            fixed[b"OS/2"] = font.table("OS/2")
        self._tags = tuple(t for t in _ORDER if t != b"OS/2" or t in fixed)
        # checksums of the tables as they are when the varying fields are 0
        self._sums = {
            b"head": _checksum(head),
            b"hhea": _checksum(hhea),
            b"maxp": _checksum(maxp),
            **{tag: _checksum(data) for tag, data in fixed.items()},
        }
        self._fixed = b"".join(_padded(fixed[t]) for t in self._tags if t in fixed)
        self._lengths = {
            b"head": len(head),
            b"hhea": len(hhea),
            b"maxp": len(maxp),
            **{tag: len(data) for tag, data in fixed.items()},
        }
        num = len(self._tags)
        entry_selector = num.bit_length() - 1
        search_range = 16 << entry_selector
        self._dir_head = (0x00010000, num, search_range, entry_selector, 16 * num - search_range)
        self._dir_struct = struct.Struct(">IHHHH" + "4sIII" * num)
        self._dir_order = sorted(range(num), key=lambda i: self._tags[i])
        self._dir_fixed_sum = (
            0x00010000
            + (num << 16)
            + search_range
            + (entry_selector << 16)
            + 16 * num
            - search_range
            + sum(_U32.unpack(t)[0] for t in self._tags)
        )

    def glyph(self, gid: int) -> _Glyph:
        g = self._glyphs.get(gid)
        if g is None:
            data, components = self.font.glyph(gid)
            limit = self.font.num_glyphs
            parts: dict[int, None] = {}
            todo = [c for c in components if c < limit]
            while todo:  # nested composites; a cycle in a broken font ends here too
                c = todo.pop()
                if c not in parts and c != gid:
                    parts[c] = None
                    todo += [x for x in self.font.glyph(c)[1] if x < limit]
            hmtx = self.font.hmtx_entry(gid)
            g = _Glyph(
                data, len(data), _checksum(data), tuple(parts), hmtx, int.from_bytes(hmtx, "big")
            )
            with self._lock:
                self._glyphs[gid] = g
        return g

    def closure(self, gids: Iterable[int]) -> list[tuple[int, _Glyph]]:
        """The glyphs `gids` with every composite's components (and .notdef), by id."""
        cached = self._glyphs.get
        glyph = self.glyph
        limit = self.font.num_glyphs
        seen = {0: cached(0) or glyph(0)}
        parts: list[int] = []
        for gid in gids:
            if gid < limit:
                g = seen[gid] = cached(gid) or glyph(gid)
                if g.components:
                    parts += g.components
        for gid in parts:
            if gid not in seen:
                seen[gid] = cached(gid) or glyph(gid)
        return sorted(seen.items())

    def subset(self, gids: Iterable[int], *, compress_outlines: bool = False) -> tuple[bytes, int]:
        """The Flate-encoded TrueType program holding (at least) the glyphs `gids`, and its
        decoded length (the FontFile2 stream's /Length1)."""
        used = self.closure(gids)
        n = used[-1][0] + 1  # glyphs after the last used one are simply not there
        total = 0
        for _gid, g in used:
            total += g.size
        short = total < 0x20000
        shift = 1 if short else 0  # short loca stores offset / 2
        pack = _U16.pack if short else _U32.pack

        # hmtx: full (advance, lsb) records for the glyphs before `k`, then left side bearings
        # only; the glyphs from `k` on take the advance of glyph k - 1 (numberOfHMetrics = k,
        # as IPAmj明朝 itself does). `k` follows the last used glyph whose advance is not the
        # usual full width, so every used glyph keeps its advance, and the table (zeros but
        # for the used glyphs) is about half as long: less to deflate in every file.
        usual = self._usual_advance
        last_other = -1
        for gid, g in reversed(used):
            if g.hmtx_word >> 16 != usual:
                last_other = gid
                break
        k = min(last_other + 2, n)
        hmtx = bytearray(2 * (n + k))  # 4 k + 2 (n - k)
        hmtx_sum = 0
        filler = k - 1  # a long record with the usual advance, unless glyph k - 1 is used
        for gid, g in used:
            if gid < k:
                hmtx[4 * gid : 4 * gid + 4] = g.hmtx
                hmtx_sum += g.hmtx_word
                if gid == filler:
                    filler = -1
            else:  # at 2 (gid + k): the high half of a word when gid + k is even
                at = 2 * (gid + k)
                hmtx[at : at + 2] = g.hmtx[2:]
                hmtx_sum += (g.hmtx_word & 0xFFFF) << (16 if (gid + k) % 2 == 0 else 0)
        if filler >= 0:
            _U16.pack_into(hmtx, 4 * filler, usual)
            hmtx_sum += usual << 16
        hmtx_pad = b"\x00" * (-len(hmtx) % 4)

        # loca: one run of equal offsets per used glyph (the unused glyphs before it are
        # empty). Its checksum follows from the runs: entry i is the high half of word
        # i // 2 if i is even (short format), so summing thousands of words is not needed.
        loca_parts: list[bytes] = []
        append = loca_parts.append
        outlines: list[bytes] = []
        add_outline = outlines.append
        glyf_sum = loca_sum = 0
        prev = -1
        pos = 0
        for gid, g in used:
            value = pos >> shift
            count = gid - prev
            append(pack(value) * count)
            if short:  # entries prev+1 .. gid; (gid >> 1) - (prev >> 1) of them are odd
                odd = (gid + 1 >> 1) - (prev + 1 >> 1)
                loca_sum += value * (((count - odd) << 16) + odd)
            else:
                loca_sum += value * count
            glyf_sum += g.checksum
            add_outline(g.data)
            pos += g.size
            prev = gid
        value = pos >> shift
        append(pack(value))
        loca_sum += value << 16 if short and n % 2 == 0 else value
        loca = b"".join(loca_parts)
        loca_pad = b"\x00" * (-len(loca) % 4)

        sums = self._sums
        lengths = self._lengths
        varying = {
            b"head": (sums[b"head"] + (0 if short else 1), lengths[b"head"]),
            b"hhea": (sums[b"hhea"] + k, lengths[b"hhea"]),
            b"maxp": (sums[b"maxp"] + (n << 16), lengths[b"maxp"]),
            b"hmtx": (hmtx_sum, len(hmtx)),
            b"loca": (loca_sum, len(loca)),
            b"glyf": (glyf_sum, total),
        }
        entries = []
        offset = 12 + 16 * len(self._tags)
        font_sum = self._dir_fixed_sum
        for tag in self._tags:
            csum, length = varying.get(tag) or (sums[tag], lengths[tag])
            csum &= 0xFFFFFFFF
            entries.append((tag, csum, offset, length))
            font_sum += 2 * csum + offset + length  # in the directory and as a table
            offset += length + (-length % 4)
        fields: list[object] = list(self._dir_head)
        for i in self._dir_order:
            fields += entries[i]
        directory = self._dir_struct.pack(*fields)
        adjust = (0xB1B0AFBA - font_sum) & 0xFFFFFFFF
        head = self._head
        hhea = self._hhea
        maxp = self._maxp
        n_bytes = _U16.pack(n)
        prefix = b"".join(
            (
                directory,
                head[0],
                _U32.pack(adjust),
                head[1],
                _U16.pack(0 if short else 1),
                head[2],
                hhea[0],
                _U16.pack(k),
                hhea[1],
                maxp[0],
                n_bytes,
                maxp[1],
                self._fixed,
                hmtx,
                hmtx_pad,
                loca,
                loca_pad,
            )
        )
        glyf = b"".join(outlines)
        length = len(prefix) + len(glyf)
        if compress_outlines:
            return zlib.compress(prefix + glyf, 9), length
        return _flate_with_stored_tail(prefix, glyf), length


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
