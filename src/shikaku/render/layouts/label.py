"""The label page printed first for each box or outer envelope of an employer parcel.

The framed upper part is the address label (送付先, 特定記録, the container's number and
piece range, the customer barcode); below it, a note of what this container holds.
"""

from __future__ import annotations

from typing import Final

from shikaku.domain.barcode import GEOMETRY_10PT
from shikaku.render.canvas import BarcodeStamp, Canvas
from shikaku.render.layouts.common import (
    CONTAINER_KIND,
    LEFT,
    RIGHT,
    LayoutContext,
    postal,
)
from shikaku.render.model import Container, DocumentKind, Parcel

TEMPLATES: Final[dict[DocumentKind, bytes]] = {"notice": b"/TB", "certificate": b"/CB"}
CONTENTS: Final[dict[DocumentKind, str]] = {
    "notice": "資格情報のお知らせ在中",
    "certificate": "資格確認書在中",
}
WORDS: Final = (
    "事業主様・ご担当者様",
    " / ",
    "No. 〜（ 通）",
    "記号 ",
    "この の内容（ / ）",
    "・個人ごとの封筒 No. 〜（ 通）",
    "・送付のご案内、配付一覧（この の先頭に入っています）",
    "・送付のご案内と配付一覧は 1 / の に入っています",
)
FRAME_TOP: Final = 12.0
FRAME_HEIGHT: Final = 132.0
ADDRESS_X: Final = 22.0
ADDRESS_WIDTH: Final = 112.0
INFO_X: Final = 145.0  # left edge of the container box on the right


class LabelLayout:
    """Draws the label's template once and each container's label text."""

    def __init__(self, ctx: LayoutContext) -> None:
        self.ctx = ctx
        self._stamps: dict[float, BarcodeStamp] = {}  # by baseline: one per address height

    def draw_template(self, c: Canvas, kind: DocumentKind = "notice") -> None:
        issuer = self.ctx.issuer
        c.rect(LEFT, FRAME_TOP, RIGHT - LEFT, FRAME_HEIGHT, width=0.8)
        # 特定記録 mark, top right
        c.rect(INFO_X, FRAME_TOP + 6, RIGHT - 6 - INFO_X, 11.0, width=0.8)
        c.text((INFO_X + RIGHT - 6) / 2, FRAME_TOP + 14.2, "特定記録", 15.0, align="center")
        # the container box
        c.rect(INFO_X, FRAME_TOP + 24, RIGHT - 6 - INFO_X, 44.0, width=0.4)
        # sender and contents, along the bottom of the frame
        bottom = FRAME_TOP + FRAME_HEIGHT
        c.line(LEFT + 4, bottom - 32, RIGHT - 4, bottom - 32, width=0.2, gray=0.5)
        c.text(ADDRESS_X, bottom - 24, CONTENTS[kind], 13.0)
        c.text(ADDRESS_X, bottom - 17.5, "（個人ごとの封筒を封入しています）", 8.5)
        c.text(ADDRESS_X, bottom - 9.5, "差出人", 7.5)
        y = bottom - 9.5
        for line in issuer.contact_lines[:2]:
            c.text(ADDRESS_X + 12, y, line, 8.0, max_width=INFO_X - ADDRESS_X - 14)
            y += 4.0

    def address_block(self, c: Canvas, parcel: Parcel) -> tuple[bytes, float]:
        """The addressee's lines (the same on every label of a parcel: drawn once per
        file) and the baseline of the last one."""
        e = parcel.employer
        y = FRAME_TOP + 16.0
        c.text(ADDRESS_X, y, postal(e.postal_code), 14.0)
        y = c.paragraph(ADDRESS_X, y + 8.0, ADDRESS_WIDTH, e.address, 13.0, leading=6.4)
        y += 3.0
        y = c.paragraph(ADDRESS_X, y, ADDRESS_WIDTH, e.name, 16.0, leading=7.6)
        c.text(ADDRESS_X, y, "事業主様・ご担当者様", 12.0)
        return c.content(), y

    def draw_page(
        self, c: Canvas, parcel: Parcel, container: Container, address: tuple[bytes, float]
    ) -> None:
        e = parcel.employer
        c.xobject(TEMPLATES[parcel.kind])
        c.raw(address[0])
        y = address[1]
        if container.barcode is not None:
            stamp = self._stamps.get(y)
            if stamp is None:
                stamp = self._stamps[y] = BarcodeStamp(ADDRESS_X, y + 10.0, GEOMETRY_10PT)
            c.raw(stamp.ops(container.barcode.bars))

        cx = (INFO_X + RIGHT - 6) / 2
        top = FRAME_TOP + 24
        kind = CONTAINER_KIND[container.kind]
        c.text(cx, top + 15.0, f"{container.index} / {container.count}", 24.0, align="center")
        c.text(cx, top + 25.0, kind, 14.0, align="center")
        pieces = container.last_piece - container.first_piece + 1
        c.text(cx, top + 33.5, f"No. {container.first_piece}〜{container.last_piece}", 11.0,
               align="center")  # fmt: skip
        c.text(cx, top + 39.5, f"（{pieces} 通）", 9.0, align="center")
        c.text(RIGHT - 6, FRAME_TOP + FRAME_HEIGHT - 9.5,
               parcel.code, 8.0, align="right")  # fmt: skip
        c.text(RIGHT - 6, FRAME_TOP + FRAME_HEIGHT - 5.0, f"記号 {e.symbol}", 8.0,
               align="right")  # fmt: skip

        # below the label: what this container holds
        y = FRAME_TOP + FRAME_HEIGHT + 14.0
        c.text(LEFT, y, f"この{kind}の内容（{container.index} / {container.count}）", 11.0)
        y += 7.0
        c.text(LEFT + 3, y, f"・個人ごとの封筒 No. {container.first_piece}〜"
               f"{container.last_piece}（{pieces} 通）", 10.0)  # fmt: skip
        y += 6.0
        if container.index == 1:
            c.text(LEFT + 3, y, f"・送付のご案内、配付一覧（この{kind}の先頭に入っています）", 10.0)
        else:
            first = CONTAINER_KIND[parcel.containers[0].kind]
            c.text(LEFT + 3, y, f"・送付のご案内と配付一覧は 1 / {container.count} の{first}に"
                   "入っています", 10.0)  # fmt: skip
