"""Drawing in millimetres from the sheet's top-left corner, as content-stream bytes.

Layouts think in the coordinates of `domain.window.Rect` (mm, y downwards); PDF wants points
with y upwards. `Canvas` is the general tool (templates once per process, the few per-file
pages); `Slot` and `BarcodeStamp` are the hot-path forms for the per-notice pages: their
operator prefixes are formatted once, so a page costs one dict lookup per string.

A per-file page's line depends only on its text and place, never on the file (codes are
glyph ids, font resource names are fixed), so the canvases of one Renderer share an
`OpsCache`: the cover letter's, list's and label's lines and wrapped paragraphs are laid
out once per process and reused (each file still records the glyphs it shows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, Literal

from shikaku.domain.barcode import BarGeometry
from shikaku.render.fonts import Face
from shikaku.render.text import TextEncoder, wrap

MM: Final = 72 / 25.4  # points per millimetre
PAGE_WIDTH: Final = 210.0
PAGE_HEIGHT: Final = 297.0
MEDIA_BOX: Final = b"[0 0 595.28 841.89]"

# Resource names: templates use the process-wide subsets, pages the per-file ones.
TEMPLATE_FONTS: Final[dict[Face, bytes]] = {"gothic": b"/TG", "mincho": b"/TM"}
TEMPLATE_FALLBACK: Final = b"/TJ"
PAGE_FONTS: Final[dict[Face, bytes]] = {"gothic": b"/G", "mincho": b"/M"}
PAGE_FALLBACK: Final = b"/J"

Align = Literal["left", "right", "center"]
_OPS_LIMIT: Final = 20_000  # entries kept per OpsCache dictionary (then it starts over)


class OpsCache:
    """Laid-out text shared by the per-file canvases of one Renderer."""

    __slots__ = ("lines", "wrapped")

    def __init__(self) -> None:
        # (text, x, y, size, face, align, max_width) → (operators, width in mm)
        self.lines: dict[tuple[str, float, float, float, Face, Align, float | None],
                         tuple[bytes, float]] = {}  # fmt: skip
        # (text, width, size, face, indent) → the paragraph's lines
        self.wrapped: dict[tuple[str, float, float, Face, float], tuple[str, ...]] = {}


def num(v: float) -> bytes:
    """A coordinate for the content stream: two decimals, no '-0.00'."""
    s = b"%.2f" % v
    return b"0.00" if s == b"-0.00" else s


def do(name: bytes) -> bytes:
    """Draw the template (Form XObject) `name` with the current state kept."""
    return b"q %s Do Q\n" % name


def at(x: float, y: float) -> bytes:
    """`x y` in points for a point given in mm from the top-left corner."""
    return num(x * MM) + b" " + num((PAGE_HEIGHT - y) * MM)


class Canvas:
    """Collects drawing operators for one content stream."""

    def __init__(
        self, encoders: Mapping[Face, TextEncoder], shared: OpsCache | None = None
    ) -> None:
        self.encoders = encoders
        self.parts: list[bytes] = []
        self.shared = shared

    def content(self) -> bytes:
        return b"".join(self.parts)

    # ------------------------------------------------------------------ text

    def width(self, text: str, size: float, face: Face = "gothic") -> float:
        """Width of `text` in mm at `size` pt."""
        return self.encoders[face].width(text) * size / 1000 / MM

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        *,
        face: Face = "gothic",
        align: Align = "left",
        max_width: float | None = None,
    ) -> float:
        """One line with its baseline at y; shrunk to `max_width` if given. Returns width."""
        if not text:
            return 0.0
        enc = self.encoders[face]
        shared = self.shared
        if shared is not None:
            key = (text, x, y, size, face, align, max_width)
            hit = shared.lines.get(key)
            if hit is not None:
                if text not in enc.cache:
                    enc.entry(text)  # records the glyphs in this file
                self.parts.append(hit[0])
                return hit[1]
        w = enc.width(text) * size / 1000 / MM
        if max_width is not None and w > max_width:
            size = int(size * max_width / w * 10) / 10
            w = enc.width(text) * size / 1000 / MM
        if align == "right":
            x -= w
        elif align == "center":
            x -= w / 2
        size_b = num(size)
        ops = b"BT %s %s Tf 1 0 0 1 %s Tm %s ET\n" % (
            enc.resource(text),
            size_b,
            at(x, y),
            enc.ops(text, size_b),
        )
        self.parts.append(ops)
        if shared is not None:
            if len(shared.lines) >= _OPS_LIMIT:
                shared.lines.clear()
            shared.lines[key] = (ops, w)
        return w

    def paragraph(
        self,
        x: float,
        y: float,
        width: float,
        text: str,
        size: float,
        *,
        face: Face = "gothic",
        leading: float | None = None,
        indent: float = 0.0,
    ) -> float:
        """Wrapped text from baseline y; `indent` shifts the lines after the first.

        Returns the baseline of the line after the last one.
        """
        step = leading if leading is not None else size * 1.55 / MM
        for i, line in enumerate(self._wrapped(text, width, size, face, indent)):
            self.text(x + (indent if i else 0.0), y, line, size, face=face)
            y += step
        return y

    def _wrapped(
        self, text: str, width: float, size: float, face: Face, indent: float
    ) -> Sequence[str]:
        shared = self.shared
        key = (text, width, size, face, indent)
        if shared is not None:
            hit = shared.wrapped.get(key)
            if hit is not None:
                return hit
        enc = self.encoders[face]
        lines = wrap(text, width * MM * 1000 / size, enc.measure, enc.char_widths)
        if indent and len(lines) > 1:  # rewrap the rest to the narrower width
            first, rest = lines[0], "".join(lines[1:])
            narrow = (width - indent) * MM * 1000 / size
            lines = [first, *wrap(rest, narrow, enc.measure, enc.char_widths)]
        if shared is not None:
            if len(shared.wrapped) >= _OPS_LIMIT:
                shared.wrapped.clear()
            shared.wrapped[key] = tuple(lines)
        return lines

    def bullet(
        self,
        x: float,
        y: float,
        width: float,
        text: str,
        size: float,
        *,
        mark: str = "・",
        face: Face = "gothic",
        leading: float | None = None,
    ) -> float:
        """A list item: the mark, then the text wrapped beside it (hanging indent)."""
        self.text(x, y, mark, size, face=face)
        offset = self.width(mark, size, face)
        return self.paragraph(x + offset, y, width - offset, text, size, face=face, leading=leading)

    # ------------------------------------------------------------------ graphics

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        width: float = 0.25,
        dash: tuple[float, float] | None = None,
        gray: float = 0.0,
    ) -> None:
        style = _style(width, dash, gray)
        self.parts.append(b"q %s %s m %s l S Q\n" % (style, at(x1, y1), at(x2, y2)))

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        width: float = 0.25,
        fill: float | None = None,
        stroke: bool = True,
        dash: tuple[float, float] | None = None,
    ) -> None:
        """Rectangle with top-left (x, y); `fill` is a gray level (0 black … 1 white)."""
        box = b"%s %s %s re" % (at(x, y + h), num(w * MM), num(h * MM))
        op = b"B" if fill is not None and stroke else (b"f" if fill is not None else b"S")
        fill_op = b"%s g " % num(fill) if fill is not None else b""
        self.parts.append(b"q %s%s %s %s Q\n" % (fill_op, _style(width, dash, 0.0), box, op))

    def round_rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        r: float,
        *,
        width: float = 0.25,
        dash: tuple[float, float] | None = None,
        gray: float = 0.0,
    ) -> None:
        """Outline of a rectangle with rounded corners of radius `r` (a card's outline)."""
        k = r * 0.5523  # control-point distance of a quarter circle drawn as one Bézier curve
        right, bottom = x + w, y + h

        def curve(*pts: tuple[float, float]) -> bytes:
            return b"%s %s %s c" % tuple(at(px, py) for px, py in pts)

        path = b" ".join(
            [
                at(x + r, y) + b" m",
                at(right - r, y) + b" l",
                curve((right - r + k, y), (right, y + r - k), (right, y + r)),
                at(right, bottom - r) + b" l",
                curve((right, bottom - r + k), (right - r + k, bottom), (right - r, bottom)),
                at(x + r, bottom) + b" l",
                curve((x + r - k, bottom), (x, bottom - r + k), (x, bottom - r)),
                at(x, y + r) + b" l",
                curve((x, y + r - k), (x + r - k, y), (x + r, y)),
            ]
        )
        self.parts.append(b"q %s %s h S Q\n" % (_style(width, dash, gray), path))

    def xobject(self, name: bytes) -> None:
        self.parts.append(do(name))

    def raw(self, ops: bytes) -> None:
        self.parts.append(ops)


def _style(width: float, dash: tuple[float, float] | None, gray: float) -> bytes:
    dash_op = b"[%s %s] 0 d " % (num(dash[0] * MM), num(dash[1] * MM)) if dash else b""
    gray_op = b" %s G" % num(gray) if gray else b""
    return b"%s w %s%s" % (num(width * MM), dash_op, gray_op)


class Slot:
    """A fixed text position of a hot-path layout (baseline at x, y in mm).

    With `max_width`, a string too wide is set smaller so it never leaves its box (names
    in the envelope window must stay inside it). A right or centred slot measures its text
    and keeps the few prefixes it needs (short codes repeat) in a small cache. `prefixes`
    select the file's subset ([0]) or the template subset ([1]) of the slot's face.
    """

    __slots__ = (
        "_aligned", "align", "face", "limit", "max_width", "prefixes", "size", "size_b",
        "switches", "x", "y",
    )  # fmt: skip

    _CACHE_LIMIT: Final = 512

    def __init__(
        self,
        x: float,
        y: float,
        size: float,
        face: Face = "gothic",
        max_width: float | None = None,
        align: Align = "left",
    ) -> None:
        self.x, self.y, self.size, self.face = x, y, size, face
        self.max_width = max_width
        # the widest text that fits, in the encoder's units (1/1000 em)
        self.limit = max_width * MM * 1000 / size if max_width is not None else float("inf")
        self.align = align
        self.size_b = num(size)
        self.prefixes = (self._prefix(False, x), self._prefix(True, x))
        # within a line: switch to the file's ([0]) or the template subset ([1])
        self.switches = tuple(
            b"%s %s Tf " % (font, self.size_b) for font in (PAGE_FONTS[face], TEMPLATE_FONTS[face])
        )
        self._aligned: dict[str, bytes] = {}

    def _prefix(self, template: bool, x: float, size_b: bytes | None = None) -> bytes:
        font = TEMPLATE_FONTS[self.face] if template else PAGE_FONTS[self.face]
        return b"%s %s Tf 1 0 0 1 %s Tm " % (font, size_b or self.size_b, at(x, self.y))

    def emit(self, enc: TextEncoder, text: str) -> bytes:
        """Operators (inside BT … ET) that show `text` here."""
        shown, width, template = enc.cache.get(text) or enc.entry(text)
        if width > self.limit:
            return self._shrunk(enc, text)
        if self.align == "left":
            prefix = self.prefixes[template]
        else:
            prefix = self._aligned_prefix(enc, text)
        if isinstance(shown, bytes):
            return prefix + shown + b"\n"
        return prefix + enc.runs(shown, self.size_b) + b"\n"

    def emit_parts(self, enc: TextEncoder, *parts: str) -> bytes:
        """Like `emit` for the concatenation of `parts`, each encoded (and cached) on its
        own: a name shared by several lines of a page is encoded once per file."""
        get = enc.cache.get
        out: list[bytes] = []
        append = out.append
        width = 0
        current = None
        for p in parts:
            shown, w, template = get(p) or enc.entry(p)
            width += w
            if template is not current:  # switch between the file's and the template subset
                append(self.switches[template] if out else self.prefixes[template])
                current = template
            append(shown if isinstance(shown, bytes) else enc.runs(shown, self.size_b))
            append(b" ")
        if width > self.limit:
            return self._shrunk(enc, "".join(parts))
        out[-1] = b"\n"
        return b"".join(out)

    def _aligned_prefix(self, enc: TextEncoder, text: str) -> bytes:
        p = self._aligned.get(text)
        if p is None:
            _shown, width, template = enc.entry(text)
            w = width * self.size / 1000 / MM
            p = self._prefix(template, self.x - (w if self.align == "right" else w / 2))
            if len(self._aligned) >= self._CACHE_LIMIT:
                self._aligned.clear()
            self._aligned[text] = p
        return p

    def _shrunk(self, enc: TextEncoder, text: str) -> bytes:
        assert self.max_width is not None
        _shown, width, template = enc.entry(text)
        size = int(self.max_width * MM * 1000 / width * 10) / 10
        w = width * size / 1000 / MM
        x = self.x
        if self.align != "left":
            x -= w if self.align == "right" else w / 2
        size_b = num(size)
        return self._prefix(template, x, size_b) + enc.ops(text, size_b) + b"\n"


def emit_all(enc: TextEncoder, slots: Sequence[Slot], texts: Sequence[str]) -> list[bytes]:
    """`slot.emit(enc, text)` for each pair, with the common case inlined: a cached string
    without fallback glyphs that fits its slot, left-aligned or placed before (most of a
    page's strings)."""
    get = enc.cache.get
    entry = enc.entry
    out = []
    for slot, text in zip(slots, texts, strict=True):
        shown, width, template = get(text) or entry(text)
        if width > slot.limit or shown.__class__ is not bytes:
            out.append(slot.emit(enc, text))
        elif slot.align == "left":
            out.append(slot.prefixes[template] + shown + b"\n")
        else:
            prefix = slot._aligned.get(text) or slot._aligned_prefix(enc, text)
            out.append(prefix + shown + b"\n")
    return out


class BarcodeStamp:
    """カスタマバーコード bars at a fixed place: each (position, bar kind) pre-formatted.

    `x`, `bottom`: the left edge of the first bar and the bottom of the long bars, in mm.
    """

    def __init__(self, x: float, bottom: float, geometry: BarGeometry, count: int = 67) -> None:
        g = geometry
        mid = (g.long_mm - g.timing_mm) / 2  # bottom of the timing bar above the baseline
        spans = {
            "L": (0.0, g.long_mm),
            "A": (mid, g.long_mm),
            "D": (0.0, mid + g.timing_mm),
            "T": (mid, mid + g.timing_mm),
        }
        self._table: list[dict[str, bytes]] = []  # per position: bar kind → operators
        for i in range(count):
            left = x + i * g.pitch_mm
            self._table.append(
                {
                    kind: b"%s %s %s re\n"
                    % (at(left, bottom - lo), num(g.width_mm * MM), num((hi - lo) * MM))
                    for kind, (lo, hi) in spans.items()
                }
            )
        self.width = (count - 1) * g.pitch_mm + g.width_mm

    def ops(self, bars: str) -> bytes:
        if len(bars) > len(self._table):
            raise ValueError(f"too many bars for this stamp: {len(bars)}")
        return b"".join([b"q 0 g\n", *map(dict.__getitem__, self._table, bars), b"f Q\n"])
