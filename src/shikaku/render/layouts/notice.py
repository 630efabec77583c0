"""資格情報のお知らせ: one A4 sheet, folded in three into a 長3 window envelope.

Top panel (0-99 mm): what shows through the window (the 記号・番号 and names for an employer
parcel, or the address for home delivery) and the title. Middle panel: the person's data
and the My Number box. Bottom panel: notes, contacts and the cut-out card part in the
corner the insurer chose. Everything that is the same for every person is the template
(one Form XObject per file); a page adds ~25 strings through pre-formatted slots.
"""

from __future__ import annotations

from typing import Final

from shikaku.domain.window import Rect
from shikaku.render.canvas import Canvas, Slot, do, emit_all
from shikaku.render.layouts import envelope
from shikaku.render.layouts.common import (
    LEFT,
    MY_NUMBER_MASK,
    RELATIONSHIP,
    RIGHT,
    SEX,
    Cell,
    LayoutContext,
    baseline,
    contacts_beside_card,
    copay,
    draw_table,
    fold_marks,
    heading,
    my_number_last4,
    table_cells,
    value_slot,
    wareki,
)
from shikaku.render.layouts.envelope import WindowBlock
from shikaku.render.model import Notice
from shikaku.render.text import TextEncoder

TITLE: Final = "資格情報のお知らせ"
CARD_TITLE: Final = "健康保険 資格情報のお知らせ"
WORDS: Final = (*envelope.WORDS, "性別", "割", MY_NUMBER_MASK)

# Template (Form XObject) resource names used by notice pages.
EMPLOYER: Final = b"/TN"
HOME: Final = b"/TH"
MY_NUMBER_BOX: Final = {"registered": b"/MR", "none": b"/MN", "needs_check": b"/MC"}
_DO_EMPLOYER, _DO_HOME = do(EMPLOYER), do(HOME)
_DO_BOX: Final = {state: do(name) for state, name in MY_NUMBER_BOX.items()}

ABOUT: Final = (
    "このお知らせは、あなたの健康保険の資格情報（記号・番号・枝番など）をお知らせするもの"
    "です。大切に保管してください。",
    "医療機関等では、マイナ保険証（健康保険証として利用登録したマイナンバーカード）で"
    "受診してください。",
    "オンライン資格確認システム（健康保険の資格情報等が確認できるシステム）を導入していない"
    "医療機関や健診機関などでは、マイナ保険証とこのお知らせを併せて提示することで受診できます。",
    "このお知らせだけでは、健康保険の資格を証明するものにはなりません。",
    "健康保険の各種給付金等の申請に必要な記号・番号を確認できます。"
    "記号・番号はマイナポータルでも確認できます。",
)
CAUTIONS: Final = (
    "資格を喪失したとき（退職・就職などで加入する健康保険が変わったとき）は、"
    "このお知らせは使用できません。",
    "下の携帯用部分は切り取って、マイナ保険証と一緒にお持ちいただけます。",
)

# The data table of the middle panel: (label, label width, value width, field).
TABLE_TOP: Final = 111.0
TABLE_ROW: Final = 8.6
TABLE_ROWS: Final = (
    (
        Cell("記号", 24, 38, "symbol"),
        Cell("番号", 22, 40, "number"),
        Cell("枝番", 22, 40, "branch"),
    ),
    (Cell("氏名", 24, 100, "name"), Cell("本人・家族", 22, 40, "relationship")),
    (Cell("フリガナ", 24, 100, "kana"), Cell("", 22, 40, "sex")),
    (
        Cell("生年月日", 24, 38, "birth"),
        Cell("資格取得年月日", 22, 40, "eligible"),
        Cell("負担割合", 22, 40, "copay"),
    ),
)
MY_NUMBER_TOP: Final = 163.0
MY_NUMBER_HEIGHT: Final = 31.0

CARD_WIDTH: Final = 91.0
CARD_HEIGHT: Final = 57.0
CARD_BOTTOM: Final = 285.0
CARD_ROW: Final = 6.6
CARD_BAND: Final = 7.0


class NoticeLayout:
    """Geometry of the notice for one insurer and window; draws templates, builds pages."""

    def __init__(self, ctx: LayoutContext) -> None:
        self.ctx = ctx
        self.block = WindowBlock(ctx.window)
        w = ctx.window
        self.side = self.block.side
        self.about_top = max(w.bottom + 8, 55.0)
        left_card = ctx.card_corner == "lower_left"
        self.card = Rect(
            LEFT if left_card else RIGHT - CARD_WIDTH,
            CARD_BOTTOM - CARD_HEIGHT,
            CARD_WIDTH,
            CARD_HEIGHT,
        )
        self.beside_card = Rect(
            self.card.right + 6 if left_card else LEFT,
            self.card.top,
            RIGHT - self.card.right - 6 if left_card else self.card.left - 6 - LEFT,
            CARD_HEIGHT,
        )
        self._build_slots()

    # ------------------------------------------------------------------ slots

    def _build_slots(self) -> None:
        # the data table (cells come from the same data the template draws)
        cells = table_cells(LEFT, TABLE_TOP, TABLE_ROW, TABLE_ROWS)
        self.symbol = value_slot(cells["symbol"], 11)
        self.number = value_slot(cells["number"], 11)
        self.branch = value_slot(cells["branch"], 11)
        self.name = value_slot(cells["name"], 12.5)
        self.relationship = value_slot(cells["relationship"], 10.5)
        self.kana = value_slot(cells["kana"], 9.5)
        sex = cells["sex"]
        self.sex_label = Slot(sex.left - 20.5, baseline(sex.top, sex.height, 8.0), 8.0)
        self.sex = value_slot(sex, 10.5)
        self.birth = value_slot(cells["birth"], 10.5)
        self.eligible = value_slot(cells["eligible"], 10.5)
        self.copay = value_slot(cells["copay"], 10.5)
        self.my_number = Slot(LEFT + 4, MY_NUMBER_TOP + 9.5, 12.5)

        # the card part
        k = self.card
        row = k.top + CARD_BAND
        lab = 7.0
        val = 9.0

        def card_row(i: int) -> float:
            return baseline(row + i * CARD_ROW, CARD_ROW, val)

        self.card_symbol = Slot(k.left + 11, card_row(0), val)
        self.card_number = Slot(k.left + 42, card_row(0), val)
        self.card_branch = Slot(k.left + 78, card_row(0), val)
        self.card_name = Slot(k.left + 24, card_row(1), 10.0, max_width=k.width - 27)
        self.card_kana = Slot(k.left + 24, card_row(2), 7.5, max_width=k.width - 27)
        self.card_birth = Slot(k.left + 24, card_row(3), val)
        self.card_eligible = Slot(k.left + 24, card_row(4), val)
        self.card_label_size = lab
        self.control = Slot(LEFT, 292.5, 6.0)
        # the slots `page` fills in one go, in its order
        self.fields = (
            self.symbol, self.number, self.branch, self.name, self.kana, self.relationship,
            self.birth, self.eligible, self.copay,
            self.card_symbol, self.card_number, self.card_branch, self.card_name,
            self.card_kana, self.card_birth, self.card_eligible,
            self.control,
        )  # fmt: skip

    # ------------------------------------------------------------------ templates

    def draw_template(self, c: Canvas, home: bool) -> None:
        """Everything on the sheet that is the same for every person."""
        issuer = self.ctx.issuer
        heading(c, self.side, TITLE, 19.0, issuer, rule=home)

        y = self.about_top
        c.text(LEFT, y, "■ このお知らせについて", 10.0)
        y += 5.2
        for item in ABOUT:
            y = c.bullet(LEFT + 1, y, RIGHT - LEFT - 1, item, 8.8, leading=4.2) + 0.4

        c.text(LEFT, TABLE_TOP - 3.2, "■ あなたの資格情報", 10.0)
        draw_table(c, LEFT, TABLE_TOP, TABLE_ROW, TABLE_ROWS)
        # the insurer row is fixed: drawn with the template
        insurer_row = (
            (Cell("保険者番号", 24, 38, value=issuer.insurer_number),
             Cell("保険者名", 22, 102, value=issuer.name)),
        )  # fmt: skip
        draw_table(
            c, LEFT, TABLE_TOP + TABLE_ROW * len(TABLE_ROWS), TABLE_ROW, insurer_row,
            value_size=10.5,
        )  # fmt: skip
        c.rect(LEFT, TABLE_TOP, RIGHT - LEFT, TABLE_ROW * (len(TABLE_ROWS) + 1), width=0.5)

        c.rect(LEFT, MY_NUMBER_TOP, RIGHT - LEFT, MY_NUMBER_HEIGHT, width=0.5)
        fold_marks(c)
        self._draw_bottom(c)

    def _draw_bottom(self, c: Canvas) -> None:
        issuer = self.ctx.issuer
        y = 205.0
        c.text(LEFT, y, "■ ご注意", 9.5)
        y += 4.8
        for item in CAUTIONS:
            y = c.bullet(LEFT + 1, y, RIGHT - LEFT - 1, item, 8.3, leading=4.0) + 0.3

        b = self.beside_card
        y = contacts_beside_card(c, b, issuer) + 2.0
        c.text(b.left, y, "■ マイナンバーに関するお問い合わせ", 9.5)
        y += 5.0
        y = c.paragraph(b.left + 1, y, b.width - 1, issuer.my_number_dial_label, 8.3, leading=4.0)
        c.text(b.left + 1, y, f"電話 {issuer.my_number_dial}", 8.3)

        # the cut-out card part
        k = self.card
        c.text(k.left, k.top - 1.5, "切り取り線（携帯用）", 6.5)
        c.rect(k.left, k.top, k.width, k.height, width=0.35, dash=(2.0, 1.4))
        c.rect(k.left + 0.8, k.top + 0.8, k.width - 1.6, CARD_BAND - 1.0, fill=0.85, stroke=False)
        c.text(k.left + 3, baseline(k.top + 0.8, CARD_BAND - 1.0, 9.0), CARD_TITLE, 9.0)
        c.text(
            k.right - 3,
            baseline(k.top + 0.8, CARD_BAND - 1.0, 7.0),
            issuer.short_name,
            7.0,
            align="right",
        )
        lab = self.card_label_size
        row = k.top + CARD_BAND
        labels = ("氏名", "フリガナ", "生年月日", "資格取得年月日", "保険者番号", "保険者名")
        y0 = baseline(row, CARD_ROW, lab)
        c.text(k.left + 3, y0, "記号", lab)
        c.text(k.left + 33, y0, "番号", lab)
        c.text(k.left + 70, y0, "枝番", lab)
        for i, label in enumerate(labels, 1):
            c.text(k.left + 3, baseline(row + i * CARD_ROW, CARD_ROW, lab), label, lab)
            c.line(k.left + 2, row + i * CARD_ROW, k.right - 2, row + i * CARD_ROW,
                   width=0.15, gray=0.6)  # fmt: skip
        val = 9.0
        c.text(k.left + 24, baseline(row + 5 * CARD_ROW, CARD_ROW, val), issuer.insurer_number, val)
        c.text(
            k.left + 24,
            baseline(row + 6 * CARD_ROW, CARD_ROW, val),
            issuer.name,
            val,
            max_width=k.width - 27,
        )

    def draw_my_number_box(self, c: Canvas, state: str) -> None:
        """The fixed text of the My Number box, one small template per state."""
        issuer = self.ctx.issuer
        x = LEFT + 4
        width = RIGHT - LEFT - 8
        y = MY_NUMBER_TOP + 16.5
        dial = f"{issuer.my_number_dial_label}（{issuer.my_number_dial}）"
        if state == "registered":
            c.paragraph(x, y, width,
                        "▶ データベースに登録されているマイナンバーの下4桁を表示しています。"
                        "誤りがないか、ご確認をお願いします。", 8.8, leading=4.3)  # fmt: skip
            c.paragraph(x, y + 4.6, width,
                        f"誤りがある場合は、{dial}までお問い合わせください。", 8.8, leading=4.3)  # fmt: skip
            return
        c.text(x, MY_NUMBER_TOP + 9.5, "マイナンバー（下4桁）: 記載していません", 12.5)
        why = (
            f"{issuer.short_name}にマイナンバーが登録されていないため、記載していません。"
            if state == "none"
            else f"{issuer.short_name}に登録されているマイナンバーの確認が必要なため、"
            "記載していません。"
        )
        y = c.paragraph(x, y - 1.8, width, f"▶ {why}{dial}までお問い合わせください。", 8.8,
                        leading=4.3)  # fmt: skip
        c.paragraph(x, y, width,
                    "マイナンバー登録申出書を同封しています。ご記入のうえ、ご提出をお願いします。",
                    8.8, leading=4.3)  # fmt: skip

    # ------------------------------------------------------------------ pages

    def page(self, enc: TextEncoder, n: Notice) -> bytes:
        """The content stream of one person's notice (template + variable text)."""
        home = n.delivery == "home"
        birth = wareki(n.birth_date)
        eligible = wareki(n.eligible_from)
        parts = [
            _DO_HOME if home else _DO_EMPLOYER,
            _DO_BOX[n.my_number_state],
            b"BT\n",
        ]
        lines: list[str] = []
        if home:
            lines = self.block.address_lines(enc, n)
            parts += self.block.home_window(enc, n, lines)
        parts += self.block.names_block(enc, n, home)
        parts += emit_all(
            enc,
            self.fields,
            (
                n.symbol, n.number, n.branch, n.name, n.name_kana,
                RELATIONSHIP[n.relationship], birth, eligible, copay(n.copay_rate),
                n.symbol, n.number, n.branch, n.name, n.name_kana, birth, eligible,
                n.control,
            ),
        )  # fmt: skip
        if n.sex is not None:
            parts.append(self.sex_label.emit(enc, "性別"))
            parts.append(self.sex.emit(enc, SEX[n.sex]))
        last4 = my_number_last4(n)
        if last4 is not None:
            parts.append(self.my_number.emit_parts(enc, MY_NUMBER_MASK, last4))
        parts.append(b"ET\n")
        if home:
            parts.append(self.block.barcode(n, lines))
        return b"".join(parts)
