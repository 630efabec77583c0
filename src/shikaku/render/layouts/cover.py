"""送付のご案内: the cover letter to the employer, first in container 1.

What is inside and why, the counts, and how to hand the envelopes out (in the spirit of the
leaflet's 配付のお願い). The letter's text is the template (one per document kind: 資格情報の
お知らせ or 資格確認書); the addressee, date and counts are the page's own text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from shikaku.render.canvas import Canvas
from shikaku.render.layouts.common import (
    LEFT,
    RIGHT,
    LayoutContext,
    baseline,
    postal,
    wareki,
)
from shikaku.render.model import DocumentKind, Parcel

TEMPLATES: Final[dict[DocumentKind, bytes]] = {"notice": b"/TC", "certificate": b"/CC"}
TITLE: Final = "「資格情報のお知らせ」の送付について（ご案内）"
WORDS: Final = (
    "事業主様・ご担当者様",
    "抽出日（）時点の被保険者様および被扶養者様",
    "時点の交付対象者（被保険者様・被扶養者様）",
    "被保険者 名、被扶養者 名、計 通（個人ごとの封筒）",
    "箱 個、封筒 通（全 個口、特定記録郵便）",
    "配付一覧 枚、マイナンバー登録申出書 通（封筒内）",
    "　記号 -P",
)

BODY_TOP: Final = 74.0
BODY_SIZE: Final = 10.0
BODY_LEADING: Final = 5.4
SUMMARY_TOP: Final = 129.0
SUMMARY_ROW: Final = 7.2
SUMMARY_LABEL: Final = 30.0
SUMMARY_LABELS: Final = ("対象者", "通数", "梱包", "同封書類")
MARGIN: Final = 15.0  # a letter gets wider margins than the forms

BODY: Final = (
    "拝啓　時下ますますご清祥のこととお慶び申し上げます。平素より健康保険事業の運営に"
    "格別のご理解とご協力を賜り、厚く御礼申し上げます。",
    "　さて、健康保険証の新規発行の終了に伴い、加入者の皆さまお一人おひとりに、"
    "健康保険の記号・番号等を記載した「資格情報のお知らせ」をお送りしています。"
    "本便では、貴事業所にお勤めの被保険者様とその被扶養者様の分を、"
    "個人ごとの封筒に封入してお届けします。",
    "　大変お手数をおかけしますが、下記のとおり被保険者様への配付にご協力をお願いいたします。",
)
HAND_OUT: Final = (
    "個人ごとの封筒は、封筒の窓に表示されている「被保険者氏名」の方に配付してください。",
    "被扶養者様の分も、開封せずに、被保険者様に併せてお渡しください。",
    "封筒の窓から、記号・番号と、被保険者氏名、封入されている方の氏名（対象者氏名）を"
    "確認できます（下の表示例）。",
    "同封の「配付一覧」の「配付済」欄にチェックを付けながら配付すると、配付漏れを防げます。",
    "抽出日以降に退職等で資格を喪失された方の封筒は、開封せずに、下記のお問い合わせ先まで"
    "ご返送（返戻）ください。",
    "マイナンバーが確認できていない方には「マイナンバー登録申出書」を同封しています。"
    "ご本人からのご提出にご協力をお願いします。",
)
CERTIFICATE_TITLE: Final = "「資格確認書」の送付について（ご案内）"
CERTIFICATE_BODY: Final = (
    BODY[0],
    "　さて、健康保険証の新規発行の終了に伴い、マイナ保険証をお持ちでない方などには、"
    "医療機関等での受診にお使いいただく「資格確認書」をお送りしています。"
    "本便では、貴事業所にお勤めの被保険者様とその被扶養者様のうち、資格確認書の交付対象と"
    "なる方の分を、個人ごとの封筒に封入してお届けします。",
    BODY[2],
)
CERTIFICATE_HAND_OUT: Final = (
    "個人ごとの封筒は、窓に表示されている「被保険者氏名」の方に、お早めに配付してください"
    "（受診に必要です）。",
    HAND_OUT[1],
    HAND_OUT[2],
    HAND_OUT[3],
    HAND_OUT[4],
    "配付した後に退職等で資格を喪失された方（被扶養者でなくなった方を含みます）の資格確認書は、"
    "回収のうえ、下記のお問い合わせ先までご返却ください。",
)
WINDOW_EXAMPLE: Final = (
    "(記号)12345678 (番号)1234567",
    "(被保険者氏名)協会 花子 様",
    "(対象者氏名)協会 正子 様",
)


@dataclass(frozen=True, slots=True)
class ParcelCounts:
    """The numbers the cover letter and labels state."""

    insured: int
    dependents: int
    forms: int  # notices with a 申出書
    boxes: int
    envelopes: int
    list_pages: int

    @property
    def total(self) -> int:
        return self.insured + self.dependents


class CoverLayout:
    """Draws the letter's template once and each parcel's addressee, date and counts."""

    def __init__(self, ctx: LayoutContext) -> None:
        self.ctx = ctx

    def draw_template(self, c: Canvas, kind: DocumentKind = "notice") -> None:
        issuer = self.ctx.issuer
        width = RIGHT - MARGIN - (MARGIN - LEFT)
        right = RIGHT - (MARGIN - LEFT)
        certificate = kind == "certificate"
        c.text(right, 24.0, issuer.name, 10.5, align="right")
        c.text(105.0, 64.0, CERTIFICATE_TITLE if certificate else TITLE, 14.0, align="center")
        y = BODY_TOP
        for para in CERTIFICATE_BODY if certificate else BODY:
            y = c.paragraph(MARGIN, y, width, para, BODY_SIZE, face="mincho", leading=BODY_LEADING)
        c.text(right, y, "敬具", BODY_SIZE, face="mincho", align="right")
        c.text(105.0, y + 6.5, "記", BODY_SIZE + 0.5, face="mincho", align="center")
        if y + 6.5 > SUMMARY_TOP - 6.0:
            raise ValueError("送付のご案内の本文が長すぎます (cover letter body overflows)")

        c.text(MARGIN, SUMMARY_TOP - 2.5, "1. 送付内容", 10.5)
        for i, label in enumerate(SUMMARY_LABELS):
            top = SUMMARY_TOP + i * SUMMARY_ROW
            c.rect(MARGIN, top, SUMMARY_LABEL, SUMMARY_ROW, fill=0.9, width=0.2)
            c.text(MARGIN + 2, baseline(top, SUMMARY_ROW, 9.0), label, 9.0)
            c.rect(MARGIN + SUMMARY_LABEL, top, width - SUMMARY_LABEL, SUMMARY_ROW, width=0.2)
        c.rect(MARGIN, SUMMARY_TOP, width, SUMMARY_ROW * len(SUMMARY_LABELS), width=0.5)

        y = SUMMARY_TOP + SUMMARY_ROW * len(SUMMARY_LABELS) + 9.0
        c.text(MARGIN, y, "2. 配付のお願い", 10.5)
        y += 5.5
        for i, item in enumerate(CERTIFICATE_HAND_OUT if certificate else HAND_OUT):
            y = c.bullet(MARGIN + 1, y, width - 1, item, 9.2, leading=4.5) + 0.6
            if i == 2:
                y = self._window_example(c, y + 0.5)

        y += 4.0
        c.text(MARGIN, y, "3. お問い合わせ先", 10.5)
        y += 5.5
        for line in issuer.contact_lines:
            y = c.paragraph(MARGIN + 3, y, width - 3, line, 9.2, leading=4.5)
        if not certificate:
            c.paragraph(
                MARGIN + 3,
                y,
                width - 3,
                f"マイナンバーに関するお問い合わせ: {issuer.my_number_dial_label}"
                f"（{issuer.my_number_dial}）",
                9.2,
                leading=4.5,
            )
        c.text(right, 282.0, "以上", BODY_SIZE, face="mincho", align="right")

    def _window_example(self, c: Canvas, y: float) -> float:
        """The leaflet's example of what the window shows."""
        x = MARGIN + 8
        c.rect(x, y, 78, 17.5, width=0.3)
        c.text(x + 80, y + 4.0, "← 封筒の窓の表示例", 8.0)
        for i, line in enumerate(WINDOW_EXAMPLE):
            c.text(x + 3, y + 5.0 + i * 5.0, line, 9.5)
        return y + 17.5 + 5.0

    def draw_page(self, c: Canvas, parcel: Parcel, counts: ParcelCounts) -> None:
        """The parcel's own text on the letter: addressee, date, counts, references."""
        e = parcel.employer
        right = RIGHT - (MARGIN - LEFT)
        kind = parcel.kind
        c.xobject(TEMPLATES[kind])
        c.text(right, 17.0, wareki(parcel.issued_on), 10.5, align="right")
        y = 18.0
        c.text(MARGIN, y, postal(e.postal_code), 10.5)
        y = c.paragraph(MARGIN, y + 5.2, 100.0, e.address, 10.5, leading=5.2)
        c.text(MARGIN, y + 1.8, e.name, 12.5, max_width=110.0)
        c.text(MARGIN, y + 8.3, "事業主様・ご担当者様", 10.5)

        x = MARGIN + SUMMARY_LABEL + 3
        extraction = wareki(parcel.extraction_date)
        values = (
            f"抽出日（{extraction}）時点の交付対象者（被保険者様・被扶養者様）"
            if kind == "certificate"
            else f"抽出日（{extraction}）時点の被保険者様および被扶養者様",
            f"被保険者 {counts.insured} 名、被扶養者 {counts.dependents} 名、"
            f"計 {counts.total} 通（個人ごとの封筒）",
            _packing(counts),
            f"配付一覧 {counts.list_pages} 枚"
            + (f"、マイナンバー登録申出書 {counts.forms} 通（封筒内）" if counts.forms else ""),
        )
        for i, value in enumerate(values):
            top = SUMMARY_TOP + i * SUMMARY_ROW
            c.text(x, baseline(top, SUMMARY_ROW, 9.5), value, 9.5, max_width=RIGHT - x - 5)
        c.text(
            MARGIN,
            291.0,
            f"{parcel.code}　記号 {e.symbol}",
            6.5,
        )


def _packing(counts: ParcelCounts) -> str:
    parts = []
    if counts.boxes:
        parts.append(f"箱 {counts.boxes} 個")
    if counts.envelopes:
        parts.append(f"封筒 {counts.envelopes} 通")
    n = counts.boxes + counts.envelopes
    return "、".join(parts) + f"（全 {n} 個口、特定記録郵便）"
