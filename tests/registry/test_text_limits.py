"""The import's text limits (registry.columns) against the boxes that print the text, measured
with the real fonts and the default envelope window: the longest accepted name prints at a
legible size, one character more would not, and the longest address fits the window."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shikaku.registry.columns import ADDRESS_MAX, EMPLOYER_NAME_MAX, KANA_MAX, NAME_MAX
from shikaku.render import FontSet, Renderer
from shikaku.render.canvas import MM, Slot
from shikaku.render.fonts import TrueTypeFont
from shikaku.render.layouts.envelope import WindowBlock
from shikaku.render.text import GlyphUse, TextEncoder
from shikaku.settings import Settings
from tests.render import samples

LEGIBLE_PT = 7.0
WIDEST = "髙"  # an ideograph: one em, as wide as any character a name holds
WIDEST_KANA = "ヴ"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    settings = Settings()
    return Renderer(FontSet.load(), samples.ISSUER, settings.mail.window.on_sheet())


def printed_size(font: TrueTypeFont, slot: Slot, text: str) -> float:
    """The size the slot sets `text` at: its own, or smaller so that it fits (Slot._shrunk)."""
    width = sum(font.widths[c] for c in text)
    if slot.max_width is None:
        return slot.size
    return min(slot.size, slot.max_width * MM * 1000 / width)


Boxes = list[tuple[str, Slot, Callable[[str], str]]]


def name_boxes(r: Renderer) -> Boxes:
    """Every box a member's name is printed in on what the member receives, with the words
    printed on the same line."""
    window = r.notice.block
    return [
        ("notice table", r.notice.name, str),
        ("notice card part", r.notice.card_name, str),
        ("certificate card", r.card.name, str),
        ("certificate card, insured person", r.card.flow[0][2], str),
        ("window (被保険者氏名)", window.win[1], lambda n: f"(被保険者氏名){n} 様"),
        ("window (対象者氏名)", window.win[2], lambda n: f"(対象者氏名){n} 様"),
        ("beside the window", window.names[1], lambda n: f"(被保険者氏名){n} 様"),
        ("home addressee", window.home_addressee[2], lambda n: f"{n} 様"),
        ("registration form", r.form.name, str),
        ("return letter", r.returns.home_slots["name"], str),
    ]


def kana_boxes(r: Renderer) -> Boxes:
    return [
        ("notice table", r.notice.kana, str),
        ("notice card part", r.notice.card_kana, str),
        ("registration form", r.form.kana, str),
    ]


def smallest(r: Renderer, boxes: Boxes, text: str) -> tuple[float, str]:
    font = r.fonts.gothic
    return min((printed_size(font, slot, line(text)), name) for name, slot, line in boxes)


def test_the_longest_name_prints_legibly_and_one_more_would_not(renderer: Renderer) -> None:
    size, box = smallest(renderer, name_boxes(renderer), WIDEST * NAME_MAX)
    assert size >= LEGIBLE_PT, (size, box)
    size, box = smallest(renderer, name_boxes(renderer), WIDEST * (NAME_MAX + 1))
    assert size < LEGIBLE_PT, (size, box)


def test_the_longest_kana_prints_legibly(renderer: Renderer) -> None:
    """The certificate's card sets フリガナ at 5.5 pt by design, wide enough for it at that
    size; the other boxes keep 7 pt."""
    size, box = smallest(renderer, kana_boxes(renderer), WIDEST_KANA * KANA_MAX)
    assert size >= LEGIBLE_PT, (size, box)
    size, _box = smallest(renderer, kana_boxes(renderer), WIDEST_KANA * (KANA_MAX + 1))
    assert size < LEGIBLE_PT
    card = renderer.card.kana
    assert printed_size(renderer.fonts.gothic, card, WIDEST_KANA * KANA_MAX) == card.size


def test_the_longest_employer_name_prints_legibly(renderer: Renderer) -> None:
    font = renderer.fonts.gothic
    slots = [*renderer.returns.employer_name]
    sizes = [printed_size(font, s, WIDEST * EMPLOYER_NAME_MAX) for s in slots]
    assert min(sizes) >= LEGIBLE_PT
    assert min(printed_size(font, s, WIDEST * (EMPLOYER_NAME_MAX + 1)) for s in slots) < 7.0


def _encoder(fonts: FontSet) -> TextEncoder:
    return TextEncoder(GlyphUse(fonts.gothic, b"/G"), GlyphUse(fonts.fallback, b"/F"))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["東", "京", "都", "１", "丁目", "-", "1", "2", "A", "W", "ー", "、"]),
        min_size=1,
        max_size=ADDRESS_MAX,
    ),
    st.lists(st.integers(1, ADDRESS_MAX - 1), max_size=2),
)
@example(["東"] * ADDRESS_MAX, [11, 23])  # each space just past half a line: breaks there
@example(["東", *["W"] * 23, "東", *["W"] * 15], [])  # a Latin word moved to the next line
def test_an_address_of_the_longest_length_fits_the_window(
    pieces: list[str], spaces: list[int]
) -> None:
    """Three lines of the window at 10.5 pt hold any address of ADDRESS_MAX characters with
    up to two spaces (the importer keeps single spaces), wherever lines break."""
    fonts = FontSet.load()
    text = "".join(pieces)[:ADDRESS_MAX]
    for at in sorted(spaces, reverse=True):
        if 0 < at < len(text) - 1:
            text = text[:at] + " " + text[at + 1 :]
    text = " ".join(text.split())
    block = WindowBlock(Settings().mail.window.on_sheet())

    class Letter:
        postal_code = "1000013"
        address = text
        addressee = "協会　花子"
        barcode = None

    assert len(block.address_lines(_encoder(fonts), Letter())) <= 3  # raises if more


def test_every_limit_is_documented() -> None:
    """docs/import.md states each column's limit in its table row."""
    from pathlib import Path

    from shikaku.registry.columns import COLUMNS

    doc = (Path(__file__).parents[2] / "docs" / "import.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| ")]
    for columns in COLUMNS.values():
        for col in columns:
            if col.max_length is not None:
                row = next(r for r in rows if r.startswith(f"| {col.header} | {col.aliases[0]}"))
                assert f"at most {col.max_length} characters" in row, col.header
