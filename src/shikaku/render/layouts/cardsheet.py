"""資格確認書 n-up on A4 card stock, for printers that print plastic (or paper) cards.

`per_sheet` cards (default 10: 2 columns × 5 rows of ID-1, 10 mm between the columns,
2.5 mm between the rows), the grid centred on the sheet, filled left to right and top to
bottom in the given order. Crop marks sit in the margins and the gutter on every card
edge line, never on a card. Each card carries its control code (small, on the card) so it
can be matched with its carrier letter, whose frame 「カード貼付位置」 shows where it goes;
the footer names the sheet and the first and last control code on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import ceil
from typing import Final

from shikaku.render.canvas import PAGE_HEIGHT, PAGE_WIDTH, Canvas, Slot, do
from shikaku.render.layouts.certificate import CARD_HEIGHT, CARD_WIDTH, CardLayout
from shikaku.render.text import TextEncoder

TEMPLATE: Final = b"/CS"
_DO: Final = do(TEMPLATE)
TITLE: Final = "資格確認書（カード印刷用）"
WORDS: Final = (TITLE, " / ", " 〜 ")
MAX_PER_SHEET: Final = 10
COLUMN_GAP: Final = 10.0
ROW_GAP: Final = 2.5
MARK: Final = 5.0  # crop mark length (at most)
MARK_GAP: Final = 1.5  # between the card's edge line and the mark


class CardSheetLayout:
    """Card positions and crop marks for `per_sheet` cards on an A4 sheet."""

    def __init__(self, card: CardLayout, per_sheet: int = MAX_PER_SHEET) -> None:
        if not 1 <= per_sheet <= MAX_PER_SHEET:
            raise ValueError(f"cards per sheet must be 1..{MAX_PER_SHEET}: {per_sheet}")
        self.card = card
        self.per_sheet = per_sheet
        self.columns = 1 if per_sheet == 1 else 2
        self.rows = ceil(per_sheet / self.columns)
        grid_width = self.columns * CARD_WIDTH + (self.columns - 1) * COLUMN_GAP
        grid_height = self.rows * CARD_HEIGHT + (self.rows - 1) * ROW_GAP
        self.left = (PAGE_WIDTH - grid_width) / 2
        self.top = (PAGE_HEIGHT - grid_height) / 2
        self.right = self.left + grid_width
        self.bottom = self.top + grid_height
        self.positions: list[tuple[float, float]] = []
        for i in range(per_sheet):
            row, col = divmod(i, self.columns)
            self.positions.append(
                (
                    self.left + col * (CARD_WIDTH + COLUMN_GAP),
                    self.top + row * (CARD_HEIGHT + ROW_GAP),
                )
            )
        self.xs = sorted(
            {x for x, _ in self.positions} | {x + CARD_WIDTH for x, _ in self.positions}
        )
        self.ys = sorted(
            {y for _, y in self.positions} | {y + CARD_HEIGHT for _, y in self.positions}
        )
        footer = min(self.bottom + 5.0, PAGE_HEIGHT - 2.5)
        self.footer_left = Slot(self.left + 4.0, footer, 6.0, max_width=CARD_WIDTH - 8.0)
        self.footer_right = Slot(self.right - 4.0, footer, 6.0, align="right")

    def draw_template(self, c: Canvas) -> None:
        """Crop marks on every card edge line, in the margins and the column gutter."""
        top_len = min(MARK, self.top - MARK_GAP - 1.0)
        side_len = min(MARK, self.left - MARK_GAP - 1.0)
        for x in self.xs:
            if top_len > 0:
                c.line(x, self.top - MARK_GAP - top_len, x, self.top - MARK_GAP, width=0.2)
                c.line(x, self.bottom + MARK_GAP, x, self.bottom + MARK_GAP + top_len, width=0.2)
        gutter = [
            (a + MARK_GAP, b - MARK_GAP)
            for a, b in zip(self.xs[1::2], self.xs[2::2], strict=False)
            if b - a > 2 * MARK_GAP
        ]
        for y in self.ys:
            if side_len > 0:
                c.line(self.left - MARK_GAP - side_len, y, self.left - MARK_GAP, y, width=0.2)
                c.line(self.right + MARK_GAP, y, self.right + MARK_GAP + side_len, y, width=0.2)
            for a, b in gutter:
                c.line(a, y, b, y, width=0.2)

    def page(
        self,
        enc: TextEncoder,
        cards: Sequence[bytes],
        first: str,
        last: str,
        page: int,
        pages: int,
    ) -> bytes:
        """One sheet: its cards (each from `CardLayout.placed` at `positions[i]`), in order,
        and the footer naming the sheet and its first and last control code."""
        return b"".join(
            [
                _DO,
                *cards,
                b"BT\n",
                self.footer_left.emit_parts(enc, TITLE, f" {page} / {pages}"),
                self.footer_right.emit(enc, f"{first} 〜 {last}"),
                b"ET\n",
            ]
        )
