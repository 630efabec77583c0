"""配付一覧: one line per individual envelope, grouped by insured person, with a check box.

The employer ticks 配付済 as they hand envelopes out; a household's lines stay together and
a thicker rule separates households. As many pages as needed, each numbered x / y.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from shikaku.render.canvas import MM, Canvas, Slot, at, emit_all, num
from shikaku.render.layouts.common import (
    CONTAINER_KIND,
    LEFT,
    RELATIONSHIP,
    RIGHT,
    Column,
    LayoutContext,
    baseline,
    column_edges,
    column_slots,
    draw_column_heads,
    wareki,
)
from shikaku.render.model import Container, DocumentKind, Parcel, Piece

TEMPLATES: Final[dict[DocumentKind, bytes]] = {"notice": b"/TL", "certificate": b"/CL"}
TITLES: Final[dict[DocumentKind, str]] = {
    "notice": "配付一覧（資格情報のお知らせ）",
    "certificate": "配付一覧（資格確認書）",
}
WORDS: Final = (" / ", "　記号 ", "作成日 ")
HEAD_TOP: Final = 39.0
HEAD_HEIGHT: Final = 7.0
ROW: Final = 6.4
ROWS_PER_PAGE: Final = 36
TEXT: Final = 8.8
CHECK: Final = 3.6

# (heading, width in mm, alignment of the values)
COLUMNS: Final[tuple[Column, ...]] = (
    ("No.", 12.0, "right"),
    ("記号", 22.0, "left"),
    ("番号", 18.0, "left"),
    ("枝番", 11.0, "center"),
    ("被保険者氏名", 40.0, "left"),
    ("対象者氏名", 40.0, "left"),
    ("本人/家族", 15.0, "center"),
    ("箱/封筒", 16.0, "center"),
    ("配付済", 12.0, "center"),
)


@dataclass(frozen=True, slots=True)
class ListRow:
    """One individual envelope: its piece number, the notice or certificate, its container."""

    piece: int
    notice: Piece
    container: Container
    first_of_household: bool


def paginate(rows: Sequence[ListRow], per_page: int = ROWS_PER_PAGE) -> list[list[ListRow]]:
    """Pages of rows; a household that would straddle a page break starts a new page
    (unless it is longer than a page by itself)."""
    households: list[list[ListRow]] = []
    for row in rows:
        if row.first_of_household or not households:
            households.append([])
        households[-1].append(row)
    pages: list[list[ListRow]] = [[]]
    for members in households:
        if pages[-1] and len(pages[-1]) + len(members) > per_page:
            pages.append([])
        for row in members:
            if len(pages[-1]) == per_page:
                pages.append([])
            pages[-1].append(row)
    return pages


class DistributionLayout:
    """Draws the list's template once and each page's header and lines."""

    def __init__(self, ctx: LayoutContext) -> None:
        self.ctx = ctx
        self.edges = column_edges(COLUMNS)
        top = HEAD_TOP + HEAD_HEIGHT
        self._rows: list[tuple[Slot, ...]] = []
        self._graphics: list[tuple[bytes, bytes]] = []  # per row: (normal, household start)
        box_x = (self.edges[-2] + self.edges[-1] - CHECK) / 2
        for i in range(ROWS_PER_PAGE):
            y = top + i * ROW
            self._rows.append(column_slots(COLUMNS, self.edges, baseline(y, ROW, TEXT), TEXT))
            g = Canvas({})
            g.rect(box_x, y + (ROW - CHECK) / 2, CHECK, CHECK, width=0.3)
            box = g.content()
            rule = [b"q %s w %s m %s l S Q\n" % (num(w * MM), at(LEFT, y), at(RIGHT, y))
                    for w in (0.15, 0.5)]  # fmt: skip
            self._graphics.append((box + rule[0], box + rule[1]))
        # per number of rows: the frame's bottom rule and the column lines
        self._grid: list[bytes] = []
        for n in range(ROWS_PER_PAGE + 1):
            g = Canvas({})
            bottom = top + n * ROW
            g.line(LEFT, bottom, RIGHT, bottom, width=0.3)
            for x in self.edges:
                g.line(x, top, x, bottom, width=0.2 if LEFT < x < RIGHT else 0.3)
            self._grid.append(g.content())

    def draw_template(self, c: Canvas, kind: DocumentKind = "notice") -> None:
        c.text(LEFT, 17.0, TITLES[kind], 14.0)
        c.paragraph(
            LEFT,
            31.0,
            RIGHT - LEFT,
            "被保険者様ごとに、ご本人と被扶養者様の封筒をまとめて記載しています。"
            "配付したら「配付済」欄にチェック（✓）を付けてください。",
            8.3,
            leading=4.0,
        )
        draw_column_heads(c, COLUMNS, self.edges, HEAD_TOP, HEAD_HEIGHT)
        c.paragraph(
            LEFT,
            287.0,
            RIGHT - LEFT,
            "退職等で配付できない方の封筒は、開封せずにご返送（返戻）ください。",
            7.5,
        )

    def draw_page(
        self,
        c: Canvas,
        parcel: Parcel,
        rows: Sequence[ListRow],
        page: int,
        pages: int,
    ) -> None:
        e = parcel.employer
        c.xobject(TEMPLATES[parcel.kind])
        c.text(RIGHT, 17.0, f"{page} / {pages}", 10.0, align="right")
        c.text(LEFT, 24.5, f"{e.name}　記号 {e.symbol}", 9.5, max_width=140.0)
        c.text(RIGHT, 24.5, f"作成日 {wareki(parcel.issued_on)}", 8.5, align="right")
        c.text(RIGHT, 291.0, parcel.code, 6.5, align="right")

        enc = c.encoders["gothic"]
        text = [b"BT\n"]
        graphics = []
        for i, row in enumerate(rows):
            n = row.notice
            values = (
                str(row.piece),
                n.symbol,
                n.number,
                n.branch,
                n.insured_name,
                n.name,
                RELATIONSHIP[n.relationship],
                f"{CONTAINER_KIND[row.container.kind]} {row.container.index}",
            )
            text += emit_all(enc, self._rows[i], values)
            graphics.append(self._graphics[i][row.first_of_household and i > 0])
        text.append(b"ET\n")
        c.raw(b"".join(text))
        c.raw(b"".join(graphics))
        c.raw(self._grid[len(rows)])
