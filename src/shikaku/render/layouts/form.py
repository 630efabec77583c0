"""マイナンバー登録申出書: the form enclosed when no verified My Number is on file.

The person's identifiers are pre-printed so the insurer can match the returned form; the
12 boxes for the 個人番号 are left empty. Nothing on this page ever shows a digit of a
My Number.
"""

from __future__ import annotations

from typing import Final

from shikaku.render.canvas import Canvas, Slot, do, emit_all
from shikaku.render.layouts.common import (
    LEFT,
    RELATIONSHIP,
    RIGHT,
    Cell,
    LayoutContext,
    baseline,
    draw_table,
    table_cells,
    value_slot,
    wareki,
)
from shikaku.render.model import Notice
from shikaku.render.text import TextEncoder

TEMPLATE: Final = b"/TF"
_DO: Final = do(TEMPLATE)
TITLE: Final = "マイナンバー登録申出書"
WORDS: Final = (" 申出書",)

TABLE_TOP: Final = 58.0
TABLE_ROW: Final = 8.6
ENTRY_TOP: Final = 108.0
DIGIT_BOX: Final = 10.5
DIGIT_GAP: Final = 2.0  # between the groups of four
ENTRY_ROW: Final = 11.0
ATTACHMENTS: Final = (
    "個人番号を確認できる書類の写し（マイナンバーカードの表面と裏面、"
    "または個人番号が記載された住民票の写しなど）",
    "本人確認書類の写し（運転免許証、パスポートなど）。"
    "マイナンバーカードの写しを添付する場合は不要です。",
)


def _rows(issuer_number: str) -> tuple[tuple[Cell, ...], ...]:
    return (
        (
            Cell("保険者番号", 24, 30, value=issuer_number),
            Cell("記号", 16, 34, "symbol"),
            Cell("番号", 16, 30, "number"),
            Cell("枝番", 16, 20, "branch"),
        ),
        (Cell("対象者氏名", 24, 90, "name"), Cell("生年月日", 22, 50, "birth")),
        (Cell("フリガナ", 24, 90, "kana"), Cell("本人・家族", 22, 50, "relationship")),
        (Cell("被保険者氏名", 24, 162, "insured"),),
    )


class FormLayout:
    """Geometry of the 申出書 page; draws the template, builds pages."""

    def __init__(self, ctx: LayoutContext) -> None:
        self.ctx = ctx
        cells = table_cells(LEFT, TABLE_TOP, TABLE_ROW, _rows(ctx.issuer.insurer_number))
        self.symbol = value_slot(cells["symbol"], 11)
        self.number = value_slot(cells["number"], 11)
        self.branch = value_slot(cells["branch"], 11)
        self.name = value_slot(cells["name"], 12.5)
        self.birth = value_slot(cells["birth"], 10.5)
        self.kana = value_slot(cells["kana"], 9.5)
        self.relationship = value_slot(cells["relationship"], 10.5)
        self.insured = value_slot(cells["insured"], 11)
        self.control = Slot(LEFT, 292.5, 6.0)
        self.fields = (
            self.symbol, self.number, self.branch, self.name, self.birth, self.kana,
            self.relationship, self.insured,
        )  # fmt: skip

    def draw_template(self, c: Canvas) -> None:
        issuer = self.ctx.issuer
        c.text(RIGHT, 14.0, f"提出先: {issuer.name}", 8.5, align="right")
        c.text(105.0, 26.0, TITLE, 18.0, align="center")
        c.text(105.0, 32.5, "（健康保険 加入者用）", 9.5, align="center")
        y = c.paragraph(
            LEFT,
            41.0,
            RIGHT - LEFT,
            f"{issuer.short_name}では、下記の方のマイナンバー（個人番号）を確認できていません。"
            "お手数ですが、太枠内にご記入のうえ、必要な書類の写しを添えて、下記の提出先まで"
            "ご提出ください。",
            9.0,
            leading=4.5,
        )
        c.text(LEFT, TABLE_TOP - 3.0, "■ 対象者（印字済み）", 10.0)
        draw_table(c, LEFT, TABLE_TOP, TABLE_ROW, _rows(issuer.insurer_number), value_size=11)

        c.text(LEFT, ENTRY_TOP - 3.0, "■ ご記入欄（太枠内をご記入ください）", 10.0)
        self._draw_entry(c)

        y = ENTRY_TOP + 5 * ENTRY_ROW + 7.0
        y = c.paragraph(
            LEFT,
            y,
            RIGHT - LEFT,
            "※ 個人番号欄には、上記の対象者ご本人のマイナンバー（12桁）を、"
            "1マスに1文字ずつご記入ください。",
            8.5,
            leading=4.2,
        )
        y += 4.0
        c.text(LEFT, y, "■ 添付していただく書類", 10.0)
        y += 5.2
        for item in ATTACHMENTS:
            y = c.bullet(LEFT + 1, y, RIGHT - LEFT - 1, item, 8.8, leading=4.3) + 0.5
        y += 4.0
        c.text(LEFT, y, "■ 提出先・お問い合わせ先", 10.0)
        y += 5.2
        for line in issuer.contact_lines:
            y = c.paragraph(LEFT + 3, y, RIGHT - LEFT - 3, line, 9.0, leading=4.5)
        y = c.paragraph(
            LEFT + 3,
            y + 1.0,
            RIGHT - LEFT - 3,
            f"{issuer.my_number_dial_label}（{issuer.my_number_dial}）",
            9.0,
            leading=4.5,
        )
        y += 4.0
        c.text(LEFT, y, "■ 個人番号の利用目的", 10.0)
        y += 5.2
        c.paragraph(
            LEFT + 1,
            y,
            RIGHT - LEFT - 1,
            "ご記入いただいた個人番号は、健康保険の資格の確認など、法令で定められた事務にのみ"
            "利用します。",
            8.8,
            leading=4.3,
        )

    def _draw_entry(self, c: Canvas) -> None:
        """個人番号 boxes, 申出日, 氏名（自署）, 住所, 電話番号: all empty."""
        top = ENTRY_TOP
        label_w = 34.0
        width = RIGHT - LEFT
        rows = (
            "個人番号（マイナンバー）",
            "申出日",
            "申出者氏名（自署）",
            "申出者住所",
            "電話番号",
        )
        for i, label in enumerate(rows):
            y = top + i * ENTRY_ROW
            c.rect(LEFT, y, label_w, ENTRY_ROW, fill=0.9, width=0.2)
            c.text(LEFT + 1.5, baseline(y, ENTRY_ROW, 8.5), label, 8.5, max_width=label_w - 3)
            c.rect(LEFT + label_w, y, width - label_w, ENTRY_ROW, width=0.2)
        # twelve digit boxes in groups of four
        x = LEFT + label_w + 4
        box_top = top + (ENTRY_ROW - DIGIT_BOX * 0.9) / 2
        for i in range(12):
            bx = x + i * DIGIT_BOX + (i // 4) * DIGIT_GAP
            c.rect(bx, box_top, DIGIT_BOX, DIGIT_BOX * 0.9, width=0.5)
        c.text(x + 12 * DIGIT_BOX + 2 * DIGIT_GAP + 3, baseline(top, ENTRY_ROW, 8), "（12桁）", 8)
        date_y = baseline(top + ENTRY_ROW, ENTRY_ROW, 10)
        c.text(LEFT + label_w + 6, date_y, "令和　　　年　　　月　　　日", 10)
        addr_y = top + 3 * ENTRY_ROW + 3.8
        c.text(LEFT + label_w + 2, addr_y, "〒　　　－", 8.5)
        c.text(
            LEFT + label_w + 40, baseline(top + 4 * ENTRY_ROW, ENTRY_ROW, 10), "（　　　　）", 10
        )
        c.rect(LEFT, top, width, 5 * ENTRY_ROW, width=1.0)

    def page(self, enc: TextEncoder, n: Notice) -> bytes:
        texts = (
            n.symbol, n.number, n.branch, n.name, wareki(n.birth_date), n.name_kana,
            RELATIONSHIP[n.relationship], n.insured_name,
        )  # fmt: skip
        return b"".join(
            [
                _DO,
                b"BT\n",
                *emit_all(enc, self.fields, texts),
                self.control.emit_parts(enc, n.control, " 申出書"),
                b"ET\n",
            ]
        )
