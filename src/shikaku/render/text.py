"""Strings → PDF show operators, with the IPAmj fallback and a check for blank boxes.

One `TextEncoder` per font per file: each distinct string is encoded once (names, dates and
labels repeat within a parcel) by a single `str.translate` into glyph-id hex, which also
tells whether the primary font has every character. Only strings that need the fallback
take the slow path that splits them into runs. The characters seen are recorded in a
`GlyphUse`, from which the file's font subset is built at the end.

The encoding of a string depends only on the fonts (codes are glyph ids, resource names are
fixed), so the encoders of one Renderer share an `EncodeCache` across files: a string met
in an earlier file (dates, fixed words, common names) costs a dict lookup and the record
of its glyphs in this file.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Mapping
from itertools import accumulate, groupby
from typing import Final

from shikaku.render.fonts import TrueTypeFont

# Encoded text: the operators for one primary-font run, or runs of (fallback?, operators).
Shown = bytes | tuple[tuple[bool, bytes], ...]
# string → (show operators, width in 1/1000 em, shown with the template subset?)
EncodeCache = dict[str, tuple[Shown, int, bool]]
SHARED_LIMIT: Final = 50_000  # strings kept in a shared EncodeCache (then it starts over)

# Japanese line breaking (禁則): never start a line with these, never end one with those.
NO_LINE_START: Final = frozenset(
    "、。，．,.・：；:;？！?!)）」』】〕〉》”’ー―〜～…‥々ゝゞぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
)
NO_LINE_END: Final = frozenset("(（「『【〔〈《“‘")


class UnprintableError(ValueError):
    """Text holds characters no font can draw; printing it would leave blank boxes."""

    def __init__(self, chars: str) -> None:
        self.chars = chars
        codes = " ".join(f"U+{ord(c):04X}" for c in chars)
        super().__init__(f"印刷できない文字があります: {codes} (unprintable characters)")


class GlyphUse:
    """The characters shown in one font within one scope (one file, or the templates)."""

    __slots__ = ("chars", "font", "resource")

    def __init__(self, font: TrueTypeFont, resource: bytes) -> None:
        self.font = font
        self.resource = resource  # the font's name in the resource dictionary, e.g. b"/G"
        self.chars: set[str] = set()


class TextEncoder:
    """Encodes strings for one primary font, falling back to IPAmj per character.

    `cache` maps each string seen in this file to (show operators, width in 1/1000 em,
    whether it uses the template font); hot-path callers read it directly and call
    `entry` on a miss. A string whose characters are all in `template_chars` (digits,
    kana, dates, fixed words: the per-process template subset holds them) is shown with
    the template font `template`, so the file's own subset only needs the rest (names).
    """

    __slots__ = (
        "_hex", "_widths", "cache", "fallback", "primary", "shared", "template",
        "template_chars", "template_used",
    )  # fmt: skip

    def __init__(
        self,
        primary: GlyphUse,
        fallback: GlyphUse,
        template: bytes | None = None,
        template_chars: frozenset[str] = frozenset(),
        shared: EncodeCache | None = None,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.template = template  # resource name of the template subset of this face
        self.template_chars = template_chars if template is not None else frozenset()
        self.template_used = False
        self._hex = primary.font.hex_table
        self._widths = primary.font.widths
        self.cache: EncodeCache = {}  # the strings of this file (their glyphs are recorded)
        # Encodings shared by the encoders of one Renderer (same fonts, same template
        # characters): a string seen in an earlier file is not encoded again.
        self.shared = shared

    def entry(self, text: str) -> tuple[Shown, int, bool]:
        """(show operators, width, template font?) of `text`, encoded on first use."""
        r = self.cache.get(text)
        if r is None:
            r = self.cache[text] = self._lookup(text)
        return r

    def _lookup(self, text: str) -> tuple[Shown, int, bool]:
        """A string new to this file: from the shared cache (recording its glyphs here),
        or encoded."""
        shared = self.shared
        if shared is None:
            return self._encode(text)
        r = shared.get(text)
        if r is None:
            r = self._encode(text)
            if len(shared) >= SHARED_LIMIT:
                shared.clear()
            shared[text] = r
        elif r[2]:
            self.template_used = True
        elif r[0].__class__ is bytes:
            self.primary.chars.update(text)
        else:  # fallback runs: encoded again, which records both fonts' characters
            r = self._encode(text)
        return r

    def show(self, text: str) -> Shown:
        return self.entry(text)[0]

    def width(self, text: str) -> int:
        """Advance of `text` in 1/1000 em (multiply by the size in pt, divide by 1000)."""
        return self.entry(text)[1]

    def resource(self, text: str) -> bytes:
        """The font resource `text` is shown with (the template or the file subset)."""
        return self.template if self.entry(text)[2] else self.primary.resource  # type: ignore[return-value]

    @property
    def char_widths(self) -> Mapping[str, int]:
        """Advance of each character the primary font has, in 1/1000 em."""
        return self._widths

    def measure(self, text: str) -> int:
        """Like `width`, without caching or recording the text (line breaking measures
        far more candidate pieces than it draws)."""
        w = self._widths.get(text)  # one character: what line breaking mostly measures
        if w is not None:
            return w
        try:
            return sum(map(self._widths.__getitem__, text))
        except KeyError:
            return self.entry(text)[1]

    def ops(self, text: str, size: bytes) -> bytes:
        """Show operators for `text`, the primary font being selected at `size` (bytes)."""
        r = self.entry(text)[0]
        if isinstance(r, bytes):
            return r
        return self.runs(r, size)

    def runs(self, runs: tuple[tuple[bool, bytes], ...], size: bytes) -> bytes:
        """Mixed runs: switch to the fallback font and back around its characters."""
        out = []
        for is_fallback, ops in runs:
            if is_fallback:
                fb, pr = self.fallback.resource, self.primary.resource
                out.append(b"%s %s Tf %s %s %s Tf" % (fb, size, ops, pr, size))
            else:
                out.append(ops)
        return b" ".join(out)

    def _encode(self, text: str) -> tuple[Shown, int, bool]:
        h = text.translate(self._hex)
        if len(h) == 4 * len(text):  # every character was mapped to 4 hex digits
            shown = b"<" + h.encode("ascii") + b">Tj"
            width = sum(map(self._widths.__getitem__, text))
            if self.template_chars.issuperset(text):
                self.template_used = True
                return shown, width, True
            self.primary.chars.update(text)
            return shown, width, False
        primary_ok = self.primary.font.printable
        fallback = self.fallback.font
        bad = [c for c in text if c not in primary_ok and c not in fallback.printable]
        if bad:
            raise UnprintableError("".join(dict.fromkeys(bad)))
        runs = []
        width = 0
        for is_fallback, group in groupby(text, key=lambda c: c not in primary_ok):
            chunk = "".join(group)
            if is_fallback:
                self.fallback.chars.update(chunk)
                cmap = fallback.cmap
                hexed = "".join(f"{cmap[ord(c)]:04X}" for c in chunk)
                width += sum(fallback.width(cmap[ord(c)]) for c in chunk)
            else:
                self.primary.chars.update(chunk)
                hexed = chunk.translate(self._hex)
                width += sum(map(self._widths.__getitem__, chunk))
            runs.append((is_fallback, b"<" + hexed.encode("ascii") + b">Tj"))
        return tuple(runs), width, False


def wrap(
    text: str,
    max_width: float,
    text_width: Callable[[str], float],
    char_widths: Mapping[str, float] | None = None,
) -> list[str]:
    """Greedy line breaking for Japanese text.

    Any character boundary may break, except inside a run of ASCII (a phone number, a
    house number, a word) and against 禁則; when a line holds a space past half its
    width, it breaks there instead (addresses split between town and building). Explicit
    newlines are kept; spaces at the start of a wrapped line are dropped.
    Each line is found by one bisection over the running widths, so a one-line address
    (the usual case in a window) costs a handful of C-level calls. `char_widths`, if
    given, are looked up first for one-character tokens (the usual token).
    """
    lines: list[str] = []
    get = (char_widths or {}).get
    for para in text.split("\n"):
        tokens: list[str] = _TOKEN.findall(para)
        widths = [get(tok) or text_width(tok) for tok in tokens]
        if max(widths, default=0) > max_width:  # a word longer than a line: split anywhere
            split: list[str] = []
            for tok, w in zip(tokens, widths, strict=True):
                split += list(tok) if len(tok) > 1 and w > max_width else [tok]
            tokens = split
            widths = [get(tok) or text_width(tok) for tok in tokens]
        n = len(tokens)
        start = 0
        while True:
            fits = list(accumulate(widths[start:]))
            count = bisect_right(fits, max_width)
            if start + count >= n:
                lines.append("".join(tokens[start:]).rstrip())
                break
            end = _break_at(tokens, fits, start, start + max(count, 1), max_width)
            lines.append("".join(tokens[start:end]).rstrip())
            start = end
            while start < n and tokens[start].isspace():
                start += 1
            if start >= n:
                break
    return lines


_TOKEN: Final = re.compile(r"[!-~]+|.", re.DOTALL)


def _break_at(tokens: list[str], fits: list[float], start: int, end: int, max_width: float) -> int:
    """Where the line starting at `start` ends, given that tokens[start:end] fit.

    `fits[i]` is the width of tokens[start : start + i + 1].
    """
    for i in range(end - 1, start, -1):  # the last space, if the line is half full there
        if tokens[i].isspace():
            if fits[i - 1 - start] >= 0.5 * max_width:
                return i + 1
            break
    if tokens[end] in NO_LINE_START and end - start > 1:
        end -= 1  # carry the last character down with the forbidden line start
    while end - start > 1 and tokens[end - 1] in NO_LINE_END:
        end -= 1
    return end
