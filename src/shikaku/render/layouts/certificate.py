"""資格確認書: the card (ID-1, 85.6 × 54 mm) on its A4 carrier letter (送付について).

The letter is folded in three into the same 長3 window envelope as the notice. *Top panel*:
the window block (`envelope.WindowBlock`, as on the notice) and the title beside it; below
the window, what a 資格確認書 is, why this person receives one (one small template per
reason) and, when it replaces an earlier one, that the old one is no longer valid.
*Middle panel*: the person's name and 有効期限, how to use the certificate at a clinic,
and the cautions (return it when eligibility ends, not both マイナ保険証 and 資格確認書).
*Bottom panel*: the card itself inside a perforation outline with cut marks, in the corner
the insurer chose (`card_corner`), and the contacts beside it. With `card_layout="sheet"`
the cards are printed n-up on card stock (`layouts/cardsheet.py`) and the letter shows a
frame 「カード貼付位置」 where the card is affixed instead.

The card is drawn with its top-left corner at the origin: its fixed part is a template
(`/CK`), its text slots are relative to it, and a page places both with one `cm`, on the
letter and on the card sheet alike.
"""

from __future__ import annotations

from typing import Final

from shikaku.domain.window import Rect
from shikaku.render.canvas import MM, Canvas, Slot, do, emit_all, num
from shikaku.render.layouts import envelope
from shikaku.render.layouts.common import (
    LEFT,
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
    table_cells,
    value_slot,
    wareki,
)
from shikaku.render.layouts.envelope import WindowBlock
from shikaku.render.model import (
    CERTIFICATE_REASONS,
    CardLayoutMode,
    Certificate,
    CertificateReason,
)
from shikaku.render.text import TextEncoder

TITLE: Final = "資格確認書の送付について"
CARD_TITLE: Final = "健康保険 資格確認書"

# ID-1 (ISO/IEC 7810), the size of a bank card and of the old plastic 保険証.
CARD_WIDTH: Final = 85.6
CARD_HEIGHT: Final = 54.0
CARD_RADIUS: Final = 3.18
CUT_MARK: Final = 3.0  # length of a cut mark
CUT_GAP: Final = 1.5  # between the card's edge and its cut marks

# Template (Form XObject) resource names.
EMPLOYER: Final = b"/CE"  # the letter, employer delivery
HOME: Final = b"/CH"  # the letter, home delivery
CARD: Final = b"/CK"  # the card's fixed part, drawn at the origin
SUPERSEDES: Final = b"/CX"  # "your previous certificate is no longer valid"
REASON: Final[dict[CertificateReason, bytes]] = {
    r: b"/CR%d" % i for i, r in enumerate(CERTIFICATE_REASONS)
}
_CARD_DO: Final = do(CARD) + b"BT\n"
_DO_EMPLOYER, _DO_HOME, _DO_SUPERSEDES = do(EMPLOYER), do(HOME), do(SUPERSEDES)

# Labels of the card's optional rows (printed only with their value), and what the
# per-page text of the letter and card needs besides digits, kana and dates.
EFFECTIVE: Final = "発効期日"
COPAY: Final = "一部負担金の割合"
CAP: Final = "限度額適用区分"
INSURED: Final = "被保険者氏名"
SEX_LABEL: Final = "性別"
CAP_WORDS: Final = "区分アイウエオ現役並みⅠⅡⅢ一般低所得"
WORDS: Final = (*envelope.WORDS, EFFECTIVE, COPAY, CAP, INSURED, SEX_LABEL, "割",
                CAP_WORDS)  # fmt: skip

INTRO: Final = (
    "健康保険の「資格確認書」をお送りします。\n"
    "資格確認書は、マイナ保険証をお持ちでない方などが、医療機関や薬局で受診するときに"
    "提示するものです。"
)
# One or two lines each (the second sentence starts a line of its own).
REASONS: Final[dict[str, str]] = {  # keyed by CertificateReason values
    "no_mynacard": "マイナンバーカードをお持ちでない方には、受診にお使いいただけるよう、"
    "資格確認書をお送りしています。",
    "not_registered": "マイナンバーカードの健康保険証としての利用登録（マイナ保険証の登録）が"
    "確認できないため、お送りしています。",
    "ecert_expired": "マイナンバーカードの電子証明書の有効期限が切れ、猶予期間も過ぎたため、"
    "マイナ保険証として利用できなくなっています。\n"
    "電子証明書を更新すると、再びマイナ保険証として利用できます。それまでは資格確認書で"
    "受診してください。",
    "card_returned": "マイナンバーカードを返納されたことを確認したため、資格確認書をお送り"
    "しています。",
    "registration_cancelled": "マイナ保険証の利用登録の解除をお申し出いただいたため、"
    "資格確認書をお送りしています。",
    "lost": "マイナンバーカードを紛失されたとのお申し出をいただいたため、お送りしています。\n"
    "カードの再交付を受けるまでの間、資格確認書で受診してください。",
    "renewal": "マイナンバーカードの更新手続き中であるとのお申し出をいただいたため、"
    "お送りしています。\n"
    "新しいカードを受け取るまでの間、資格確認書で受診してください。",
    "needs_assistance": "マイナ保険証での受診が難しい方として、資格確認書の交付をお申し出"
    "いただいたため、お送りしています。\n"
    "有効期限が近づきましたら、新しい資格確認書を改めてお送りします（お申し出は不要です）。",
    "renewal_expiry": "お手元の資格確認書の有効期限が近づいているため、新しい資格確認書を"
    "お送りしています。\n"
    "新しい資格確認書は、記載の交付年月日から使用できます。",
}
SUPERSEDES_TEXT: Final = (
    "この資格確認書の交付により、これまでお持ちの資格確認書は使用できなくなりました。\n"
    "お手元の古い資格確認書は、はさみで細かく切るなどして破棄するか、下記のお問い合わせ先へ"
    "ご返却ください。"
)
USAGE: Final = (
    "医療機関や薬局の受付で、資格確認書を提示してください。これまでの健康保険証と同じように"
    "受診できます。",
    "資格確認書は、有効期限まで使用できます。有効期限を過ぎた資格確認書は使用できません。",
    "70歳から74歳の方の資格確認書には、発効期日と一部負担金の割合を記載しています。",
    "限度額適用区分は、記載をお申し出いただいた方の資格確認書にのみ記載しています。",
)
RETURN_EMPLOYER: Final = (
    "退職などで資格がなくなったとき（被扶養者でなくなったときを含みます）は、有効期限の前でも"
    "使用できません。\n勤務先（事業主）を通じて、すみやかにご返却ください。"
)
RETURN_HOME: Final = (
    "健康保険の資格がなくなったとき（被扶養者でなくなったときを含みます）は、有効期限の前でも"
    "使用できません。\n下記のお問い合わせ先へ、すみやかにご返却ください。"
)
CAUTIONS: Final = (
    "マイナ保険証と資格確認書の両方をお持ちいただくことは、原則としてできません。",
    "資格確認書を他人に貸したり、譲ったりすることはできません。",
    "氏名などの記載内容が変わったときや、紛失したときは、お問い合わせ先までご連絡ください。",
)
CARD_NOTE: Final[dict[CardLayoutMode, str]] = {
    "carrier": "資格確認書を切り取り線に沿って切り取り、受診の際にお持ちください。",
    "sheet": "資格確認書（カード）を下の枠内に貼り付けています。台紙からはがして、受診の際に"
    "お持ちください。",
}
FRAME_TEXT: Final = "カード貼付位置"

# The letter: the summary table of the middle panel.
TABLE_TOP: Final = 110.0
TABLE_ROW: Final = 9.0
TABLE_ROWS: Final = ((Cell("氏名", 22, 84, "name"), Cell("有効期限", 22, 58, "valid")),)
CARD_TOP: Final = 222.0
CARD_INSET: Final = 5.0  # the card's distance from the page margin (room for cut marks)

# The card, in mm from its own top-left corner.
BAND: Final = 8.0  # title band
LABEL: Final = 5.8  # label size (pt)
VALUE: Final = 8.0  # value size (pt)
LABEL_X: Final = 2.5
VALUE_X: Final = 17.5
RIGHT_LABEL_X: Final = 46.0
INNER_RIGHT: Final = CARD_WIDTH - 2.5
SYMBOL_TOP: Final = 8.6
SYMBOL_ROW: Final = 5.0
KANA_TOP: Final = 13.6
KANA_ROW: Final = 3.4
NAME_TOP: Final = 17.0
NAME_ROW: Final = 5.8
ROW: Final = 4.8
BIRTH_TOP: Final = 22.8
ISSUED_TOP: Final = BIRTH_TOP + ROW
FLOW_TOP: Final = ISSUED_TOP + ROW  # three rows for the optional fields, in this order
FLOW_ROWS: Final = 3
INSURER_TOP: Final = FLOW_TOP + FLOW_ROWS * ROW + 0.4
INSURER_ROW: Final = 5.2


def card_box(corner: str) -> Rect:
    """Where the card (or its frame) lies on the letter."""
    left = LEFT + CARD_INSET if corner == "lower_left" else RIGHT - CARD_INSET - CARD_WIDTH
    return Rect(left, CARD_TOP, CARD_WIDTH, CARD_HEIGHT)


def place(x: float, y: float) -> bytes:
    """`q … cm`: draw what follows (card coordinates) with the card's corner at (x, y) mm."""
    return b"q 1 0 0 1 %s %s cm\n" % (num(x * MM), num(-y * MM))


def cut_marks(c: Canvas, box: Rect) -> None:
    """Short marks outside each corner, on the card's edge lines."""
    g, m = CUT_GAP, CUT_MARK
    for x, sx in ((box.left, -1), (box.right, 1)):
        for y, sy in ((box.top, -1), (box.bottom, 1)):
            c.line(x + sx * g, y, x + sx * (g + m), y, width=0.2)
            c.line(x, y + sy * g, x, y + sy * (g + m), width=0.2)


class CardLayout:
    """The card: its template at the origin and its text slots (shared by letter and sheet)."""

    def __init__(self, ctx: LayoutContext) -> None:
        self.ctx = ctx

        def base(top: float, height: float, size: float = VALUE) -> float:
            return baseline(top, height, size)

        y0 = base(SYMBOL_TOP, SYMBOL_ROW)
        self.symbol = Slot(8.0, y0, VALUE, max_width=23.0)
        self.number = Slot(39.0, y0, VALUE, max_width=24.0)
        self.branch = Slot(72.0, y0, VALUE, max_width=INNER_RIGHT - 72.0)
        self.relationship = Slot(77.0, base(2.5, 4.5), VALUE, align="center")
        self.kana = Slot(VALUE_X, base(KANA_TOP, KANA_ROW, 5.5), 5.5,
                         max_width=INNER_RIGHT - VALUE_X)  # fmt: skip
        self.name = Slot(VALUE_X, base(NAME_TOP, NAME_ROW, 10.0), 10.0,
                         max_width=INNER_RIGHT - VALUE_X)  # fmt: skip
        self.birth = Slot(VALUE_X, base(BIRTH_TOP, ROW), VALUE, max_width=27.0)
        self.sex_label = Slot(RIGHT_LABEL_X, base(BIRTH_TOP, ROW, LABEL), LABEL)
        self.sex = Slot(RIGHT_LABEL_X + 7.0, base(BIRTH_TOP, ROW), VALUE)
        self.issued = Slot(VALUE_X, base(ISSUED_TOP, ROW), VALUE, max_width=27.0)
        self.valid = Slot(RIGHT_LABEL_X + 9.5, base(ISSUED_TOP, ROW, 9.0), 9.0,
                          max_width=INNER_RIGHT - RIGHT_LABEL_X - 9.5)  # fmt: skip
        # the optional rows flow into FLOW_ROWS places: label, value (narrow / wide),
        # right label and right value
        self.flow: list[tuple[Slot, Slot, Slot, Slot, Slot]] = []
        for i in range(FLOW_ROWS):
            top = FLOW_TOP + i * ROW
            self.flow.append(
                (
                    Slot(LABEL_X, base(top, ROW, LABEL), LABEL, max_width=VALUE_X - LABEL_X - 0.5),
                    Slot(VALUE_X, base(top, ROW), VALUE, max_width=RIGHT_LABEL_X - VALUE_X - 1),
                    Slot(VALUE_X, base(top, ROW), VALUE, max_width=INNER_RIGHT - VALUE_X),
                    Slot(RIGHT_LABEL_X, base(top, ROW, LABEL), LABEL),
                    Slot(RIGHT_LABEL_X + 17.0, base(top, ROW), VALUE),
                )
            )
        last = FLOW_TOP + (FLOW_ROWS - 1) * ROW
        self.control = Slot(INNER_RIGHT, base(last, ROW, 4.5), 4.5, align="right")
        self.fields = (self.symbol, self.number, self.branch, self.relationship, self.kana,
                       self.name, self.birth, self.issued, self.valid, self.control)  # fmt: skip

    def draw_template(self, c: Canvas) -> None:
        """The card's fixed part, its top-left corner at the origin (no outline: the
        letter draws the perforation, the sheet its crop marks)."""
        issuer = self.ctx.issuer
        c.rect(1.5, 1.5, CARD_WIDTH - 3.0, BAND - 1.5, fill=0.86, stroke=False)
        c.text(3.5, baseline(1.5, BAND - 1.5, 10.5), CARD_TITLE, 10.5)
        c.rect(71.0, 2.6, 12.0, 4.3, fill=1.0, width=0.2)
        lab = LABEL

        def label(x: float, top: float, height: float, text: str, size: float = lab) -> None:
            c.text(x, baseline(top, height, size), text, size)

        label(LABEL_X, SYMBOL_TOP, SYMBOL_ROW, "記号")
        label(33.0, SYMBOL_TOP, SYMBOL_ROW, "番号")
        label(66.0, SYMBOL_TOP, SYMBOL_ROW, "枝番")
        label(LABEL_X, KANA_TOP, KANA_ROW, "フリガナ", 4.8)
        label(LABEL_X, NAME_TOP, NAME_ROW, "氏名")
        label(LABEL_X, BIRTH_TOP, ROW, "生年月日")
        label(LABEL_X, ISSUED_TOP, ROW, "交付年月日")
        label(RIGHT_LABEL_X, ISSUED_TOP, ROW, "有効期限")
        rules = [SYMBOL_TOP + SYMBOL_ROW, NAME_TOP + NAME_ROW, BIRTH_TOP + ROW, ISSUED_TOP + ROW]
        rules += [FLOW_TOP + (i + 1) * ROW for i in range(FLOW_ROWS - 1)]
        for y in rules:
            c.line(2.0, y, CARD_WIDTH - 2.0, y, width=0.12, gray=0.6)
        c.line(2.0, INSURER_TOP, CARD_WIDTH - 2.0, INSURER_TOP, width=0.25, gray=0.3)
        top = INSURER_TOP
        label(LABEL_X, top, INSURER_ROW, "保険者番号")
        c.text(13.8, baseline(top, INSURER_ROW, 7.5), issuer.insurer_number, 7.5, max_width=13.0)
        label(28.5, top, INSURER_ROW, "保険者名")
        c.text(37.5, baseline(top, INSURER_ROW, 7.5), issuer.name, 7.5,
               max_width=INNER_RIGHT - 37.5)  # fmt: skip

    def text(self, enc: TextEncoder, p: Certificate) -> list[bytes]:
        """The card's variable text (inside BT … ET), in card coordinates."""
        parts = emit_all(
            enc,
            self.fields,
            (
                p.symbol, p.number, p.branch, RELATIONSHIP[p.relationship], p.name_kana,
                p.name, wareki(p.birth_date), wareki(p.issued_on), wareki(p.valid_until),
                p.control,
            ),
        )  # fmt: skip
        if p.sex is not None:
            parts.append(self.sex_label.emit(enc, SEX_LABEL))
            parts.append(self.sex.emit(enc, SEX[p.sex]))
        row = 0
        if p.relationship != 1:
            label, _narrow, wide, _rl, _rv = self.flow[row]
            parts += [label.emit(enc, INSURED), wide.emit(enc, p.insured_name)]
            row += 1
        if p.effective_from is not None or p.copay_rate is not None:
            label, narrow, _wide, right_label, right_value = self.flow[row]
            if p.effective_from is not None:
                parts += [label.emit(enc, EFFECTIVE), narrow.emit(enc, wareki(p.effective_from))]
            if p.copay_rate is not None:
                parts += [right_label.emit(enc, COPAY), right_value.emit(enc, copay(p.copay_rate))]
            row += 1
        if p.cap_category is not None:
            label, narrow, _wide, _rl, _rv = self.flow[row]
            parts += [label.emit(enc, CAP), narrow.emit(enc, p.cap_category)]
        return parts

    def placed(self, enc: TextEncoder, p: Certificate, x: float, y: float) -> bytes:
        """The whole card (template and text) with its corner at (x, y) on the page."""
        return b"".join([place(x, y), _CARD_DO, *self.text(enc, p), b"ET\nQ\n"])


class CertificateLayout:
    """The carrier letter for one insurer, window, card corner and card layout."""

    def __init__(self, ctx: LayoutContext, card: CardLayout, mode: CardLayoutMode) -> None:
        if mode not in CARD_NOTE:
            raise ValueError(f"card_layout must be carrier or sheet: {mode!r}")
        self.ctx = ctx
        self.card = card
        self.mode = mode
        self.block = WindowBlock(ctx.window)
        self.side = self.block.side
        w = ctx.window
        self.about_top = max(w.bottom + 8, 55.0)
        self.reason_top = self.about_top + 11.5
        self.supersedes_top = self.reason_top + 16.5
        self.card_box = card_box(ctx.card_corner)
        left_card = ctx.card_corner == "lower_left"
        k = self.card_box
        self.beside_card = (
            Rect(k.right + 9, k.top, RIGHT - k.right - 9, CARD_HEIGHT)
            if left_card
            else Rect(LEFT, k.top, k.left - 9 - LEFT, CARD_HEIGHT)
        )
        cells = table_cells(LEFT, TABLE_TOP, TABLE_ROW, TABLE_ROWS)
        self.name = value_slot(cells["name"], 12.5)
        self.valid = value_slot(cells["valid"], 12.5)
        self.control = Slot(LEFT, 292.5, 6.0)
        self.fields = (self.name, self.valid, self.control)
        # sheet mode: the control under the frame, to match the affixed card (it shows it too)
        k = self.card_box
        self.frame_control = Slot(k.right, k.bottom + 4.0, 6.0, align="right")

    # ------------------------------------------------------------------ templates

    def draw_template(self, c: Canvas, home: bool) -> None:
        """Everything on the letter that is the same for every person (not the card)."""
        heading(c, self.side, TITLE, 17.0, self.ctx.issuer, rule=home)
        width = RIGHT - LEFT
        c.paragraph(LEFT, self.about_top, width, INTRO, 9.0, leading=4.4)
        c.text(LEFT, self.reason_top, "■ お送りする理由", 10.0)

        y = 104.5
        c.text(LEFT, y, "■ あなたの資格確認書", 10.0)
        draw_table(c, LEFT, TABLE_TOP, TABLE_ROW, TABLE_ROWS)
        y = TABLE_TOP + TABLE_ROW + 9.0
        c.text(LEFT, y, "■ 医療機関等での使い方", 10.0)
        y += 5.6
        for item in USAGE:
            y = c.bullet(LEFT + 1, y, width - 1, item, 9.2, leading=4.6) + 0.6
        y += 4.0
        c.text(LEFT, y, "■ ご注意", 10.0)
        y += 5.6
        for item in (RETURN_HOME if home else RETURN_EMPLOYER, *CAUTIONS):
            y = c.bullet(LEFT + 1, y, width - 1, item, 9.2, leading=4.6) + 0.6
        if y > 196.0:
            raise ValueError("資格確認書の送付状の本文が長すぎます (letter body overflows)")
        fold_marks(c)
        self._draw_bottom(c)

    def _draw_bottom(self, c: Canvas) -> None:
        k = self.card_box
        c.text(LEFT, 206.0, "■ 資格確認書", 10.0)
        c.paragraph(LEFT + 1, 211.5, RIGHT - LEFT - 1, CARD_NOTE[self.mode], 8.8, leading=4.2)
        if self.mode == "carrier":
            c.round_rect(k.left, k.top, k.width, k.height, CARD_RADIUS, width=0.3,
                         dash=(1.6, 1.0))  # fmt: skip
            cut_marks(c, k)
            c.text(k.left + CUT_GAP + 1.0, k.bottom + 4.2, "切り取り線", 6.5)
        else:
            c.round_rect(k.left, k.top, k.width, k.height, CARD_RADIUS, width=0.4,
                         dash=(2.5, 1.5), gray=0.45)  # fmt: skip
            c.text(k.left + k.width / 2, k.top + k.height / 2 + 1.5, FRAME_TEXT, 11.0,
                   align="center")  # fmt: skip
            c.text(k.left + k.width / 2, k.top + k.height / 2 + 6.5, "85.6 mm × 54 mm", 7.0,
                   align="center")  # fmt: skip

        contacts_beside_card(c, self.beside_card, self.ctx.issuer)

    def draw_reason(self, c: Canvas, reason: CertificateReason) -> None:
        """Why this person receives a certificate: one small template per reason."""
        end = c.paragraph(LEFT + 1, self.reason_top + 5.0, RIGHT - LEFT - 1, REASONS[reason],
                          9.0, leading=4.4)  # fmt: skip
        if end > self.reason_top + 5.0 + 2 * 4.4 + 0.1:  # two lines at most
            raise ValueError(f"理由の説明が長すぎます (reason text overflows): {reason}")

    def draw_supersedes(self, c: Canvas) -> None:
        c.text(LEFT, self.supersedes_top, "■ これまでの資格確認書について", 10.0)
        end = c.paragraph(LEFT + 1, self.supersedes_top + 5.0, RIGHT - LEFT - 1,
                          SUPERSEDES_TEXT, 9.0, leading=4.4)  # fmt: skip
        if end > 98.0 + 4.4:
            raise ValueError("古い資格確認書の説明が長すぎます (supersedes text overflows)")

    # ------------------------------------------------------------------ pages

    def templates(self, p: Certificate) -> tuple[bytes, ...]:
        """The templates this certificate's letter page uses."""
        names = [HOME if p.delivery == "home" else EMPLOYER, REASON[p.reason]]
        if p.supersedes:
            names.append(SUPERSEDES)
        if self.mode == "carrier":
            names.append(CARD)
        return tuple(names)

    def page(self, enc: TextEncoder, p: Certificate) -> bytes:
        """The content stream of one person's carrier letter (with the card, or not)."""
        home = p.delivery == "home"
        reason = REASON.get(p.reason)
        if reason is None:
            raise ValueError(f"資格確認書の送付理由が不明です: {p.reason!r}")
        parts = [_DO_HOME if home else _DO_EMPLOYER, do(reason)]
        if p.supersedes:
            parts.append(_DO_SUPERSEDES)
        parts.append(b"BT\n")
        block = self.block
        lines: list[str] = []
        if home:
            lines = block.address_lines(enc, p)
            parts += block.home_window(enc, p, lines)
        parts += block.names_block(enc, p, home)
        parts += emit_all(enc, self.fields, (p.name, wareki(p.valid_until), p.control))
        if self.mode == "sheet":
            parts.append(self.frame_control.emit(enc, p.control))
        parts.append(b"ET\n")
        if home:
            parts.append(block.barcode(p, lines))
        if self.mode == "carrier":
            k = self.card_box
            parts.append(self.card.placed(enc, p, k.left, k.top))
        return b"".join(parts)
