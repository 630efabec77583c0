"""The fonts every document is printed with, parsed once per process.

Only what embedding and measuring need is read from each TrueType file: the Unicode cmap,
advance widths, the glyph outlines (`loca` + `glyf`) and a few header fields. Files are
memory-mapped, so several worker processes share one copy of the 60 MB in the page cache.

A name must never print as a blank box (DOMAIN.md §8): `FontSet.unprintable` says which
characters neither the primary fonts nor the IPAmj明朝 fallback can draw, and the text
encoder refuses them.
"""

from __future__ import annotations

import mmap
import struct
import unicodedata
from array import array
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from threading import Lock
from typing import Final, Literal

Face = Literal["gothic", "mincho"]

# Debian packages fonts-ipaexfont-gothic, fonts-ipaexfont-mincho, fonts-ipamj-mincho.
DEFAULT_GOTHIC: Final = Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")
DEFAULT_MINCHO: Final = Path("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf")
DEFAULT_FALLBACK: Final = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")

# Categories that never print as a visible glyph of their own: controls, format characters,
# surrogates, private use, unassigned, line/paragraph separators, combining marks (we do no
# glyph positioning, so a combining mark would print beside its base, not on it).
_UNPRINTABLE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Mn", "Me"})
_VARIATION_SELECTORS: Final = (
    range(0x180B, 0x1810),  # Mongolian free variation selectors (and U+180E, a Cf anyway)
    range(0xFE00, 0xFE10),  # VS1-VS16
    range(0xE0100, 0xE01F0),  # VS17-VS256 (IVS)
)

# Composite glyph flags (OpenType glyf table).
_ARG_1_AND_2_ARE_WORDS: Final = 0x0001
_WE_HAVE_A_SCALE: Final = 0x0008
_MORE_COMPONENTS: Final = 0x0020
_WE_HAVE_AN_X_AND_Y_SCALE: Final = 0x0040
_WE_HAVE_A_TWO_BY_TWO: Final = 0x0080
_WE_HAVE_INSTRUCTIONS: Final = 0x0100


class FontError(Exception):
    """A font file is missing or not a TrueType font we can embed."""


def _is_variation_selector(cp: int) -> bool:
    return any(cp in r for r in _VARIATION_SELECTORS)


def _drawable_category(cp: int) -> bool:
    """True unless the character is a control, format, private-use … character."""
    return unicodedata.category(
        chr(cp)
    ) not in _UNPRINTABLE_CATEGORIES and not _is_variation_selector(cp)


@dataclass(frozen=True, slots=True)
class FontPaths:
    """Where the three fonts live; the defaults are the Debian packages' paths."""

    gothic: Path = DEFAULT_GOTHIC
    mincho: Path = DEFAULT_MINCHO
    fallback: Path = DEFAULT_FALLBACK


class TrueTypeFont:
    """One TrueType file: cmap, metrics and glyph data, read lazily from a memory map."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            with self.path.open("rb") as f:
                self._data: mmap.mmap | bytes = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as e:
            raise FontError(f"フォントファイルを開けません: {path} ({e})") from None
        data = self._data
        version, num_tables = struct.unpack_from(">IH", data, 0)
        if version not in (0x00010000, 0x74727565):  # 'true'
            raise FontError(f"TrueType アウトラインのフォントではありません: {path}")
        self.tables: dict[str, tuple[int, int]] = {}
        for i in range(num_tables):
            tag, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
            self.tables[tag.decode("latin-1")] = (offset, length)
        for needed in ("head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap"):
            if needed not in self.tables:
                raise FontError(f"{path}: '{needed}' テーブルがありません")

        head = self.table("head")
        self.units_per_em: int = struct.unpack_from(">H", head, 18)[0]
        self.bbox: tuple[int, int, int, int] = struct.unpack_from(">hhhh", head, 36)
        long_loca = struct.unpack_from(">h", head, 50)[0] == 1
        hhea = self.table("hhea")
        self.ascender, self.descender = struct.unpack_from(">hh", hhea, 4)
        self.number_of_hmetrics: int = struct.unpack_from(">H", hhea, 34)[0]
        self.num_glyphs: int = struct.unpack_from(">H", self.table("maxp"), 4)[0]
        self.cap_height = self.ascender * 0.8
        if "OS/2" in self.tables:
            os2 = self.table("OS/2")
            if struct.unpack_from(">H", os2, 0)[0] >= 2 and len(os2) >= 90:
                self.cap_height = struct.unpack_from(">h", os2, 88)[0]

        loca = array("I" if long_loca else "H", self.table("loca"))
        if array("H", b"\x00\x01")[0] != 1:  # little-endian host: TrueType is big-endian
            loca.byteswap()
        self.loca: list[int] = [v * 2 for v in loca] if not long_loca else list(loca)
        self._glyf_offset = self.tables["glyf"][0]
        self.postscript_name = self._read_postscript_name()
        self.cmap: dict[int, int] = self._read_cmap()

    # ------------------------------------------------------------------ raw tables

    def table(self, tag: str) -> bytes:
        offset, length = self.tables[tag]
        return bytes(self._data[offset : offset + length])

    def _read_postscript_name(self) -> str:
        if "name" not in self.tables:
            return self.path.stem
        name = self.table("name")
        count, string_offset = struct.unpack_from(">HH", name, 2)
        for i in range(count):
            platform, _encoding, _lang, name_id, length, offset = struct.unpack_from(
                ">HHHHHH", name, 6 + 12 * i
            )
            if name_id != 6:
                continue
            raw = name[string_offset + offset : string_offset + offset + length]
            text = raw.decode("utf-16-be" if platform in (0, 3) else "latin-1", "replace")
            cleaned = "".join(c for c in text if (c.isascii() and c.isalnum()) or c in "-_")
            if cleaned:
                return cleaned
        return self.path.stem

    def _read_cmap(self) -> dict[int, int]:
        """codepoint → glyph id, from the best Unicode subtable (format 12, else 4)."""
        cmap = self.table("cmap")
        count = struct.unpack_from(">H", cmap, 2)[0]
        subtables: dict[tuple[int, int], int] = {}
        for i in range(count):
            platform, encoding, offset = struct.unpack_from(">HHI", cmap, 4 + 8 * i)
            subtables[(platform, encoding)] = offset
        for key in ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3)):
            if key not in subtables:
                continue
            offset = subtables[key]
            fmt = struct.unpack_from(">H", cmap, offset)[0]
            if fmt == 12:
                return _cmap_format12(cmap, offset)
            if fmt == 4:
                return _cmap_format4(cmap, offset)
        raise FontError(f"{self.path}: Unicode の cmap (format 4/12) がありません")

    # ------------------------------------------------------------------ metrics

    @cached_property
    def advances(self) -> array[int]:
        """Advance width of every glyph in font units (hmtx, last width repeated)."""
        base = self.tables["hmtx"][0]
        n = self.number_of_hmetrics
        metrics = array("H", bytes(self._data[base : base + 4 * n]))
        if array("H", b"\x00\x01")[0] != 1:
            metrics.byteswap()
        out = metrics[0::2]
        out.extend([out[-1]] * (self.num_glyphs - n))
        return out

    def advance(self, gid: int) -> int:
        """Advance width in font units."""
        return self.advances[gid]

    def hmtx_entry(self, gid: int) -> bytes:
        """The glyph's (advance, left side bearing) as a 4-byte longHorMetric record."""
        base = self.tables["hmtx"][0]
        n = self.number_of_hmetrics
        if gid < n:
            return bytes(self._data[base + 4 * gid : base + 4 * gid + 4])
        lsb = self._data[base + 4 * n + 2 * (gid - n) : base + 4 * n + 2 * (gid - n) + 2]
        return struct.pack(">H", self.advance(gid)) + bytes(lsb)

    @cached_property
    def pdf_widths(self) -> list[int]:
        """Every glyph's advance in PDF text space units (1/1000 em), as /W states it."""
        scale = 1000 / self.units_per_em
        return [round(a * scale) for a in self.advances]

    def width(self, gid: int) -> int:
        """Advance in PDF text space units (1/1000 em), rounded as /W states it."""
        return self.pdf_widths[gid]

    # ------------------------------------------------------------------ glyphs

    def raw_glyph(self, gid: int) -> bytes:
        start, end = self.loca[gid], self.loca[gid + 1]
        base = self._glyf_offset
        return bytes(self._data[base + start : base + end])

    def glyph(self, gid: int) -> tuple[bytes, tuple[int, ...]]:
        """Outline without hinting instructions, padded to 4 bytes, and its components.

        Print resolution makes TrueType hinting pointless, and dropping it shrinks the
        embedded subset by about 40 %.
        """
        data = self.raw_glyph(gid)
        if len(data) < 10:
            return b"", ()
        contours = struct.unpack_from(">h", data, 0)[0]
        components: tuple[int, ...] = ()
        if contours >= 0:
            pos = 10 + 2 * contours
            n_instr = struct.unpack_from(">H", data, pos)[0]
            points = struct.unpack_from(">H", data, pos - 2)[0] + 1 if contours else 0
            body = pos + 2 + n_instr
            end = _simple_glyph_end(data, body, points)
            data = data[:pos] + b"\x00\x00" + data[body:end]
        else:
            data, components = _strip_composite(data)
        return data + b"\x00" * (-len(data) % 4), components

    def has_outline(self, gid: int) -> bool:
        return self.loca[gid + 1] > self.loca[gid]

    # ------------------------------------------------------------------ encoding tables

    @cached_property
    def printable(self) -> frozenset[str]:
        """Characters this font draws visibly: mapped, drawable category, with an outline
        (spaces excepted, which are meant to be empty)."""
        out = []
        for cp, gid in self.cmap.items():
            if gid == 0 or not _drawable_category(cp):
                continue
            c = chr(cp)
            if self.has_outline(gid) or unicodedata.category(c) == "Zs":
                out.append(c)
        return frozenset(out)

    @cached_property
    def hex_table(self) -> dict[int, str]:
        """str.translate table: printable character → its glyph id as 4 hex digits.

        With Identity-H and CIDToGIDMap /Identity the glyph id is the character code, so a
        whole string is encoded by one C-level translate call.
        """
        cmap = self.cmap
        return {ord(c): f"{cmap[ord(c)]:04X}" for c in self.printable}

    @cached_property
    def widths(self) -> dict[str, int]:
        """printable character → advance in 1/1000 em."""
        cmap = self.cmap
        return {c: self.width(cmap[ord(c)]) for c in self.printable}


def _cmap_format12(cmap: bytes, offset: int) -> dict[int, int]:
    n_groups = struct.unpack_from(">I", cmap, offset + 12)[0]
    groups = array("I", cmap[offset + 16 : offset + 16 + 12 * n_groups])
    if array("H", b"\x00\x01")[0] != 1:
        groups.byteswap()
    out: dict[int, int] = {}
    for i in range(0, len(groups), 3):
        start, end, gid = groups[i], groups[i + 1], groups[i + 2]
        out.update(zip(range(start, end + 1), range(gid, gid + end - start + 1), strict=True))
    return out


def _cmap_format4(cmap: bytes, offset: int) -> dict[int, int]:
    seg_x2 = struct.unpack_from(">H", cmap, offset + 6)[0]
    n = seg_x2 // 2
    ends = struct.unpack_from(f">{n}H", cmap, offset + 14)
    starts = struct.unpack_from(f">{n}H", cmap, offset + 16 + seg_x2)
    deltas = struct.unpack_from(f">{n}h", cmap, offset + 16 + 2 * seg_x2)
    range_pos = offset + 16 + 3 * seg_x2
    range_offsets = struct.unpack_from(f">{n}H", cmap, range_pos)
    out: dict[int, int] = {}
    for i in range(n):
        for cp in range(starts[i], ends[i] + 1):
            if cp == 0xFFFF:
                continue
            if range_offsets[i] == 0:
                gid = (cp + deltas[i]) & 0xFFFF
            else:
                pos = range_pos + 2 * i + range_offsets[i] + 2 * (cp - starts[i])
                gid = struct.unpack_from(">H", cmap, pos)[0]
                if gid:
                    gid = (gid + deltas[i]) & 0xFFFF
            if gid:
                out[cp] = gid
    return out


def _simple_glyph_end(data: bytes, pos: int, points: int) -> int:
    """Where a simple glyph's coordinates end (the font's own padding is dropped)."""
    x_bytes = y_bytes = 0
    seen = 0
    while seen < points:
        flag = data[pos]
        pos += 1
        repeat = 1
        if flag & 0x08:
            repeat += data[pos]
            pos += 1
        x_size = 1 if flag & 0x02 else (0 if flag & 0x10 else 2)
        y_size = 1 if flag & 0x04 else (0 if flag & 0x20 else 2)
        x_bytes += x_size * repeat
        y_bytes += y_size * repeat
        seen += repeat
    return pos + x_bytes + y_bytes


def _strip_composite(data: bytes) -> tuple[bytes, tuple[int, ...]]:
    """A composite glyph without its trailing instructions, and its component glyph ids."""
    buf = bytearray(data)
    pos = 10
    components = []
    while True:
        flags, gid = struct.unpack_from(">HH", buf, pos)
        components.append(gid)
        if flags & _WE_HAVE_INSTRUCTIONS:
            struct.pack_into(">H", buf, pos, flags & ~_WE_HAVE_INSTRUCTIONS)
        pos += 4 + (4 if flags & _ARG_1_AND_2_ARE_WORDS else 2)
        if flags & _WE_HAVE_A_SCALE:
            pos += 2
        elif flags & _WE_HAVE_AN_X_AND_Y_SCALE:
            pos += 4
        elif flags & _WE_HAVE_A_TWO_BY_TWO:
            pos += 8
        if not flags & _MORE_COMPONENTS:
            break
    return bytes(buf[:pos]), tuple(components)


class FontSet:
    """The gothic and mincho faces plus the IPAmj fallback; one per process and paths."""

    def __init__(self, paths: FontPaths = FontPaths()) -> None:
        self.paths = paths
        self.gothic = TrueTypeFont(paths.gothic)
        self.mincho = TrueTypeFont(paths.mincho)
        self.fallback = TrueTypeFont(paths.fallback)

    def face(self, name: Face) -> TrueTypeFont:
        return self.gothic if name == "gothic" else self.mincho

    @cached_property
    def _drawable(self) -> frozenset[str]:
        """What some font of a layout can draw: both primaries, or else the fallback."""
        return (self.gothic.printable & self.mincho.printable) | self.fallback.printable

    def unprintable(self, text: str) -> str:
        """The characters of `text` (each once, in order) that no font here can draw.

        Controls, variation selectors (alone or in an IVS: we print no IVS glyphs),
        private-use and unassigned code points, combining marks and anything missing from
        both the primary fonts and IPAmj明朝 are reported.
        """
        ok = self._drawable
        return "".join(c for c in dict.fromkeys(text) if c not in ok)

    @classmethod
    def load(cls, paths: FontPaths = FontPaths()) -> FontSet:
        """The process's FontSet for these paths, parsed on first use."""
        with _LOADED_LOCK:
            fs = _LOADED.get(paths)
            if fs is None:
                fs = _LOADED[paths] = cls(paths)
            return fs


_LOADED: dict[FontPaths, FontSet] = {}
_LOADED_LOCK: Final = Lock()
