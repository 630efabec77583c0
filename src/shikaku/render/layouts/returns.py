"""資格確認書の返却のお願い: the letter asking for a certificate back after eligibility ended.

A4, folded in three into the same 長3 window envelope as the notice and the carrier letter.

- *Home* (`/RH`, one page): the holder's 〒, address, name and customer barcode in the
  window (`envelope.WindowBlock`, as on a home notice), the title beside it; that
  eligibility ended on the 資格喪失日 and the certificate can no longer be used; a table
  with 記号・番号・枝番, 氏名, 交付年月日, 有効期限 and 資格喪失日; how to send it back (by
  mail to the insurer, or destroyed when told so); cautions; the contacts.
- *Employer* (`/RE` first page, `/RC` the next ones): the employer's 〒, address, name and
  事業主様・ご担当者様 in the window; the request to collect the certificates of the former
  employees listed and send them back; the contacts; then a table, one row per certificate
  (No., 記号, 番号, 枝番, 氏名, 資格喪失日, 有効期限, a 回収済 box), over as many pages as
  it needs, each numbered k / n.

The fixed parts are templates; a page's own text is the window, the values, 作成日, the
count, k / n and the control (6 pt, bottom margin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from shikaku.domain.barcode import GEOMETRY_10PT, Barcode
from shikaku.render.canvas import BarcodeStamp, Canvas, Slot
from shikaku.render.layouts import envelope
from shikaku.render.layouts.common import (
    LEFT,
    RIGHT,
    Cell,
    Column,
    LayoutContext,
    baseline,
    column_edges,
    column_slots,
    draw_column_heads,
    draw_table,
    fold_marks,
    heading,
    postal,
    table_cells,
    value_slot,
    wareki,
)
from shikaku.render.layouts.envelope import WindowBlock
from shikaku.render.model import ReturnItem, ReturnLetter

HOME: Final = b"/RH"
EMPLOYER: Final = b"/RE"
CONTINUED: Final = b"/RC"
TITLE: Final = "資格確認書の返却のお願い"
TO_EMPLOYER: Final = "事業主様・ご担当者様"
WORDS: Final = (
    "作成日 ", " / ", "計  名", "　記号 ", "返却-事業所", TO_EMPLOYER, "No.",
    *envelope.WORDS,
)  # fmt: skip

WIDTH: Final = RIGHT - LEFT
BODY: Final = 9.5  # pt
BODY_LEADING: Final = 4.8
ITEM: Final = 9.2
ITEM_LEADING: Final = 4.6

# ------------------------------------------------------------------ home letter
HOME_INTRO: Final = (
    "健康保険の資格がなくなりました（被扶養者でなくなった場合を含みます）。お送りしている"
    "資格確認書は、有効期限の前であっても、下の表の資格喪失日から使用できません。\n"
    "お手数をおかけしますが、お手元の資格確認書を、下記の方法でご返却くださいますよう"
    "お願いいたします。"
)
HOME_TABLE_TOP: Final = 76.0
HOME_ROW: Final = 7.5
HOME_ROWS: Final = (
    (Cell("記号・番号・枝番", 30, 63, "key"), Cell("氏名", 22, 71, "name")),
    (Cell("交付年月日", 30, 63, "issued"), Cell("有効期限", 22, 71, "valid")),
    (
        Cell("資格喪失日", 30, 63, "lost"),
        Cell("備考", 22, 71, None, "資格喪失日から使用できません"),
    ),
)
HOME_HOW: Final = (
    "お手元の資格確認書を封筒に入れ、下記のお問い合わせ先の住所あてに郵送してください。",
    "この「返却のお願い」を同封していただくと、手続きがスムーズです。",
    "郵送が難しい場合は、お問い合わせ先にご相談ください。破棄するようご案内した場合は、"
    "はさみで細かく切るなどして破棄してください。",
)
HOME_CAUTIONS: Final = (
    "資格喪失日以降に資格確認書を使って受診された場合、健康保険で負担した医療費を、"
    "後日ご返還いただくことになります。",
    "新しく加入する健康保険（お勤め先の健康保険や国民健康保険など）の手続きをお済ませの"
    "うえ、受診の際は新しい健康保険の資格確認書やマイナ保険証をお使いください。",
    "この「返却のお願い」と行き違いにご返却いただいている場合は、ご容赦ください。",
)

# ------------------------------------------------------------------ employer letter
EMPLOYER_INTRO: Final = (
    "平素より健康保険事業の運営にご理解とご協力を賜り、厚く御礼申し上げます。\n"
    "下記の方は、退職等により健康保険の資格を喪失されました（被扶養者でなくなった方を"
    "含みます）。お手元の資格確認書は、有効期限の前であっても、資格喪失日から使用できません。\n"
    "つきましては、お手数をおかけしますが、可能な範囲で元従業員の方から資格確認書を回収し、"
    "下記のお問い合わせ先までご返送くださいますようお願いいたします。"
)
EMPLOYER_ASK: Final = (
    "回収した資格確認書は、この「返却のお願い」を添えて、まとめてご返送ください。"
    "「回収済」欄にチェックを付けておくと、確認が容易になります。",
    "回収できない方には、ご本人から下記のお問い合わせ先へ直接ご返却いただくよう、お伝えください。",
    "この「返却のお願い」と行き違いに返却済みの場合は、ご容赦ください。",
)
# (heading, width in mm, alignment of the values)
COLUMNS: Final[tuple[Column, ...]] = (
    ("No.", 10.0, "right"),
    ("記号", 22.0, "left"),
    ("番号", 20.0, "left"),
    ("枝番", 11.0, "center"),
    ("氏名", 45.0, "left"),
    ("資格喪失日", 32.0, "left"),
    ("有効期限", 32.0, "left"),
    ("回収済", 14.0, "center"),
)
HEAD_HEIGHT: Final = 7.0
ROW: Final = 6.4
TEXT: Final = 8.8
CHECK: Final = 3.6
TABLE_BOTTOM: Final = 284.0  # the last row ends above the control line
FIRST_HEAD: Final = 147.0  # the table's head on the first page
NEXT_HEAD: Final = 36.0  # and on the next ones
FIRST_ROWS: Final = int((TABLE_BOTTOM - FIRST_HEAD - HEAD_HEIGHT) // ROW)
NEXT_ROWS: Final = int((TABLE_BOTTOM - NEXT_HEAD - HEAD_HEIGHT) // ROW)
CONTROL_Y: Final = 292.5


def paginate(items: Sequence[ReturnItem]) -> list[tuple[ReturnItem, ...]]:
    """The employer letter's rows page by page: FIRST_ROWS, then NEXT_ROWS a page."""
    pages = [tuple(items[:FIRST_ROWS])]
    rest = items[FIRST_ROWS:]
    while rest:
        pages.append(tuple(rest[:NEXT_ROWS]))
        rest = rest[NEXT_ROWS:]
    return pages


@dataclass(frozen=True, slots=True)
class _Window:
    """An employer's address as `WindowBlock.address_lines` reads it."""

    postal_code: str | None
    address: str | None
    addressee: str | None
    barcode: Barcode | None = None


class ReturnLetterLayout:
    """The return letters for one insurer and window (built once per Renderer)."""

    def __init__(self, ctx: LayoutContext) -> None:
        self.ctx = ctx
        self.block = WindowBlock(ctx.window)
        self.side = self.block.side
        w = ctx.window
        self.intro_top = max(w.bottom + 9.0, 55.0)
        cells = table_cells(LEFT, HOME_TABLE_TOP, HOME_ROW, HOME_ROWS)
        self.home_slots = {key: value_slot(cell, 10.5) for key, cell in cells.items()}
        self.control = Slot(LEFT, CONTROL_Y, 6.0)
        # the employer's window: 〒 and address as for a home letter, then the name and
        # 事業主様・ご担当者様, then the barcode (one set of places per address height)
        inner = w.width - 3
        x = w.left + 1.5
        self.employer_name: list[Slot] = []
        self.employer_to: list[Slot] = []
        self.employer_barcode: list[BarcodeStamp] = []
        for lines in (1, 2, 3):
            y = w.top + 9.4 + (lines - 1) * 4.8 + 6.0
            self.employer_name.append(Slot(x, y, 11.5, max_width=inner))
            self.employer_to.append(Slot(x, y + 4.6, 9.5, max_width=inner))
            stamp = BarcodeStamp(0, 0, GEOMETRY_10PT)
            left = w.left + (w.width - stamp.width) / 2
            self.employer_barcode.append(BarcodeStamp(left, y + 4.6 + 2.4 + 3.6, GEOMETRY_10PT))
        # the table's rows: text slots and graphics, for the first and the next pages
        self.edges = column_edges(COLUMNS)
        self.rows = {FIRST_HEAD: self._row_slots(FIRST_HEAD, FIRST_ROWS),
                     NEXT_HEAD: self._row_slots(NEXT_HEAD, NEXT_ROWS)}  # fmt: skip

    def _row_slots(self, head: float, count: int) -> list[tuple[Slot, ...]]:
        top = head + HEAD_HEIGHT
        return [column_slots(COLUMNS, self.edges, baseline(top + i * ROW, ROW, TEXT), TEXT)
                for i in range(count)]  # fmt: skip

    # ------------------------------------------------------------------ templates

    def _heading(self, c: Canvas) -> None:
        heading(c, self.side, TITLE, 17.0, self.ctx.issuer, rule=True)

    def _contacts(self, c: Canvas, y: float) -> float:
        c.text(LEFT, y, "■ お問い合わせ先（返却先）", 10.0)
        y += 5.6
        for line in self.ctx.issuer.contact_lines:
            y = c.paragraph(LEFT + 3, y, WIDTH - 3, line, ITEM, leading=ITEM_LEADING)
        return y

    def draw_home_template(self, c: Canvas) -> None:
        """The home letter's fixed part."""
        self._heading(c)
        y = c.paragraph(LEFT, self.intro_top, WIDTH, HOME_INTRO, BODY, leading=BODY_LEADING)
        if y > HOME_TABLE_TOP - 5.0:
            raise ValueError("返却のお願いの本文が長すぎます (return letter intro overflows)")
        c.text(LEFT, HOME_TABLE_TOP - 2.5, "■ 返却をお願いする資格確認書", 10.0)
        draw_table(c, LEFT, HOME_TABLE_TOP, HOME_ROW, HOME_ROWS, value_size=9.5)
        y = 108.0
        c.text(LEFT, y, "■ ご返却の方法", 10.0)
        y += 5.6
        for item in HOME_HOW:
            y = c.bullet(LEFT + 1, y, WIDTH - 1, item, ITEM, leading=ITEM_LEADING) + 0.6
        y += 4.0
        c.text(LEFT, y, "■ ご注意", 10.0)
        y += 5.6
        for item in HOME_CAUTIONS:
            y = c.bullet(LEFT + 1, y, WIDTH - 1, item, ITEM, leading=ITEM_LEADING) + 0.6
        if y > 196.0:
            raise ValueError("返却のお願いの本文が長すぎます (return letter body overflows)")
        self._contacts(c, 207.0)
        fold_marks(c)

    def draw_employer_template(self, c: Canvas) -> None:
        """The employer letter's first page: everything but the window, values and rows."""
        self._heading(c)
        y = c.paragraph(LEFT, self.intro_top, WIDTH, EMPLOYER_INTRO, BODY, leading=BODY_LEADING)
        y += 4.0
        c.text(LEFT, y, "■ お願い", 10.0)
        y += 5.6
        for item in EMPLOYER_ASK:
            y = c.bullet(LEFT + 1, y, WIDTH - 1, item, ITEM, leading=ITEM_LEADING) + 0.6
        y = self._contacts(c, y + 4.0)
        if y > FIRST_HEAD - 6.0:
            raise ValueError("返却のお願いの本文が長すぎます (return letter body overflows)")
        c.text(LEFT, FIRST_HEAD - 2.5, "■ 返却をお願いする資格確認書", 10.0)
        draw_column_heads(c, COLUMNS, self.edges, FIRST_HEAD, HEAD_HEIGHT)
        fold_marks(c)

    def draw_continued_template(self, c: Canvas) -> None:
        """The employer letter's next pages: the title and the table's head."""
        c.text(LEFT, 17.0, f"{TITLE}（続き）", 14.0)
        draw_column_heads(c, COLUMNS, self.edges, NEXT_HEAD, HEAD_HEIGHT)
        fold_marks(c)

    # ------------------------------------------------------------------ pages

    def templates(self, letter: ReturnLetter) -> frozenset[bytes]:
        if letter.delivery == "home":
            return frozenset({HOME})
        if len(letter.items) > FIRST_ROWS:
            return frozenset({EMPLOYER, CONTINUED})
        return frozenset({EMPLOYER})

    def home_page(self, c: Canvas, letter: ReturnLetter) -> None:
        """One home letter (one page)."""
        if len(letter.items) != 1:
            raise ValueError(
                f"自宅あての返却のお願いは1通に1件です: {len(letter.items)} 件 "
                "(a home letter asks for one certificate)"
            )
        (item,) = letter.items
        enc = c.encoders["gothic"]
        block = self.block
        c.xobject(HOME)
        lines = block.address_lines(enc, letter)
        slots = self.home_slots
        values = {
            "key": f"{item.symbol}-{item.number}-{item.branch}",
            "name": item.name,
            "issued": wareki(item.issued_on),
            "valid": wareki(item.valid_until),
            "lost": wareki(item.lost_on),
        }
        c.raw(
            b"".join(
                [
                    b"BT\n",
                    *block.home_window(enc, letter, lines),
                    *(slots[key].emit(enc, value) for key, value in values.items()),
                    self.control.emit(enc, letter.control),
                    b"ET\n",
                ]
            )
        )
        c.raw(block.barcode(letter, lines))
        self._dated(c, letter)

    def _dated(self, c: Canvas, letter: ReturnLetter) -> None:
        s = self.side
        c.text(s.right, 40.0, f"作成日 {wareki(letter.issued_on)}", 8.5, align="right")

    def employer_page(
        self,
        c: Canvas,
        letter: ReturnLetter,
        rows: Sequence[ReturnItem],
        first_no: int,
        page: int,
        pages: int,
    ) -> None:
        """Page `page` of an employer letter: its rows numbered from `first_no`."""
        e = letter.employer
        if e is None:
            raise ValueError("事業所あての返却のお願いに事業所がありません (no employer)")
        enc = c.encoders["gothic"]
        first = page == 1
        c.xobject(EMPLOYER if first else CONTINUED)
        text = [b"BT\n"]
        n = 0
        if first:
            block = self.block
            lines = block.address_lines(enc, _Window(e.postal_code, e.address, e.name))
            n = len(lines) - 1
            text.append(block.home_postal.emit(enc, postal(e.postal_code)))
            text += [slot.emit(enc, line) for slot, line in zip(block.home_address, lines,
                                                                strict=False)]  # fmt: skip
            text.append(self.employer_name[n].emit(enc, e.name))
            text.append(self.employer_to[n].emit(enc, TO_EMPLOYER))
        head = FIRST_HEAD if first else NEXT_HEAD
        slots = self.rows[head]
        for i, item in enumerate(rows):
            values = (
                str(first_no + i), item.symbol, item.number, item.branch, item.name,
                wareki(item.lost_on), wareki(item.valid_until),
            )  # fmt: skip
            text += [slot.emit(enc, v) for slot, v in zip(slots[i], values, strict=True)]
        text.append(self.control.emit(enc, letter.control))
        text.append(b"ET\n")
        c.raw(b"".join(text))
        if first and letter.barcode is not None:
            c.raw(self.employer_barcode[n].ops(letter.barcode.bars))
        c.text(RIGHT, 15.0 if first else 17.0, f"{page} / {pages}", 10.0, align="right")
        if first:
            self._dated(c, letter)
            c.text(RIGHT, FIRST_HEAD - 2.5, f"計 {len(letter.items)} 名", 10.0, align="right")
        else:
            c.text(LEFT, 27.0, f"{e.name}　記号 {e.symbol}", 9.5, max_width=140.0)
            c.text(RIGHT, 27.0, f"作成日 {wareki(letter.issued_on)}", 8.5, align="right")
        self._grid(c, head, len(rows))

    def _grid(self, c: Canvas, head: float, rows: int) -> None:
        top = head + HEAD_HEIGHT
        bottom = top + rows * ROW
        box_x = (self.edges[-2] + self.edges[-1] - CHECK) / 2
        for i in range(rows):
            y = top + i * ROW
            if i:
                c.line(LEFT, y, RIGHT, y, width=0.15)
            c.rect(box_x, y + (ROW - CHECK) / 2, CHECK, CHECK, width=0.3)
        c.line(LEFT, bottom, RIGHT, bottom, width=0.3)
        for x in self.edges:
            c.line(x, top, x, bottom, width=0.2 if LEFT < x < RIGHT else 0.3)
