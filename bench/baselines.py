"""The two ways one would print a notice without shikaku's renderer, for bench/issue_bench.py.

(a) reportlab: a canvas drawing the whole page every time, one PDF per person (the obvious
    script); (b) WeasyPrint: the same notice as an HTML template, one document.
Both draw the same fields and explanatory text as shikaku's notice, with the same IPAex font.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from shikaku.domain.normalize import format_wareki
from shikaku.render.model import Notice

GOTHIC = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
MM = 72 / 25.4

EXPLANATION = (
    "この「資格情報のお知らせ」は、加入している健康保険の資格情報をお知らせするものです。",
    "マイナ保険証と併せて提示することで、オンライン資格確認を導入していない医療機関でも受診できます。",
    "健康保険の各種給付金等の申請に必要な記号・番号を知ることができます。大切に保管してください。",
    "データベースに登録されているマイナンバーの下4桁を表示しています。誤りがないかご確認ください。",
)


def _lines(n: Notice) -> list[tuple[str, str]]:
    mn = (
        f"＊＊＊＊ ＊＊＊＊ {n.my_number_last4}"
        if n.my_number_state == "registered"
        else "登録されていません（マイナンバー登録申出書を同封しています）"
    )
    return [
        ("記号・番号・枝番", f"{n.symbol}・{n.number}・{n.branch}"),
        ("氏名", n.name),
        ("フリガナ", n.name_kana),
        ("生年月日", format_wareki(n.birth_date)),
        ("性別", {1: "男", 2: "女"}.get(n.sex or 0, "")),
        ("負担割合", f"{n.copay_rate // 10}割"),
        ("資格取得年月日", format_wareki(n.eligible_from)),
        ("本人・家族", "本人" if n.relationship == 1 else "家族"),
        ("マイナンバー（下4桁）", mn),
    ]


def reportlab_files(notices: Sequence[Notice], out_dir: Path, insurer: str) -> int:
    """One PDF per person, the whole page drawn each time. Returns bytes written."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "IPAexGothic" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("IPAexGothic", GOTHIC))
    out_dir.mkdir(parents=True, exist_ok=True)
    total = 0
    for i, n in enumerate(notices):
        path = out_dir / f"notice-{i:05d}.pdf"
        c = canvas.Canvas(str(path), pagesize=(210 * MM, 297 * MM), invariant=1)
        c.setFont("IPAexGothic", 10)
        c.drawString(20 * MM, 280 * MM, f"(記号){n.symbol} (番号){n.number}")
        c.drawString(20 * MM, 274 * MM, f"(被保険者氏名){n.insured_name} 様")
        c.drawString(20 * MM, 268 * MM, f"(対象者氏名){n.name} 様")
        c.setFont("IPAexGothic", 16)
        c.drawString(20 * MM, 240 * MM, "健康保険 資格情報のお知らせ")
        c.setFont("IPAexGothic", 10)
        y = 228
        for label, value in _lines(n):
            c.rect(20 * MM, (y - 2) * MM, 170 * MM, 7 * MM)
            c.drawString(22 * MM, y * MM, label)
            c.drawString(70 * MM, y * MM, value)
            y -= 7
        c.setFont("IPAexGothic", 8)
        y -= 4
        for line in EXPLANATION:
            c.drawString(20 * MM, y * MM, line)
            y -= 5
        c.setDash(3, 3)
        c.rect(10 * MM, 10 * MM, 91 * MM, 55 * MM)
        c.setDash()
        c.setFont("IPAexGothic", 9)
        card = [
            "健康保険 資格情報",
            f"記号 {n.symbol} 番号 {n.number} 枝番 {n.branch}",
            f"氏名 {n.name}（{n.name_kana}）",
            f"生年月日 {format_wareki(n.birth_date)}",
            f"資格取得年月日 {format_wareki(n.eligible_from)}",
            f"保険者 {insurer}",
        ]
        y = 58
        for line in card:
            c.drawString(14 * MM, y * MM, line)
            y -= 7
        c.setFont("IPAexGothic", 6)
        c.drawString(150 * MM, 5 * MM, n.control)
        c.showPage()
        c.save()
        total += path.stat().st_size
    return total


_CSS = f"""
@font-face {{ font-family: G; src: url(file://{GOTHIC}); }}
@page {{ size: A4; margin: 0; }}
body {{ font-family: G; margin: 0; }}
.page {{ width: 210mm; height: 297mm; position: relative; page-break-after: always; }}
.window {{ position: absolute; left: 20mm; top: 12mm; font-size: 10pt; }}
h1 {{ position: absolute; left: 20mm; top: 50mm; font-size: 16pt; margin: 0; }}
table {{ position: absolute; left: 20mm; top: 64mm; width: 170mm; border-collapse: collapse;
        font-size: 10pt; }}
td {{ border: 0.5pt solid black; padding: 1mm 2mm; }}
.note {{ position: absolute; left: 20mm; top: 135mm; font-size: 8pt; width: 170mm; }}
.card {{ position: absolute; left: 10mm; bottom: 10mm; width: 91mm; height: 55mm;
        border: 0.5pt dashed black; font-size: 9pt; padding: 3mm; box-sizing: border-box; }}
.control {{ position: absolute; right: 10mm; bottom: 4mm; font-size: 6pt; }}
"""


def _page(n: Notice, insurer: str) -> str:
    e = html.escape
    rows = "".join(f"<tr><td>{e(a)}</td><td>{e(b)}</td></tr>" for a, b in _lines(n))
    notes = "".join(f"<p>{e(line)}</p>" for line in EXPLANATION)
    return (
        f'<div class="page"><div class="window">(記号){e(n.symbol)} (番号){e(n.number)}<br>'
        f"(被保険者氏名){e(n.insured_name)} 様<br>(対象者氏名){e(n.name)} 様</div>"
        f"<h1>健康保険 資格情報のお知らせ</h1><table>{rows}</table>"
        f'<div class="note">{notes}</div>'
        f'<div class="card">健康保険 資格情報<br>記号 {e(n.symbol)} 番号 {e(n.number)} '
        f"枝番 {e(n.branch)}<br>氏名 {e(n.name)}（{e(n.name_kana)}）<br>生年月日 "
        f"{format_wareki(n.birth_date)}<br>資格取得年月日 {format_wareki(n.eligible_from)}"
        f"<br>保険者 {e(insurer)}</div>"
        f'<div class="control">{e(n.control)}</div></div>'
    )


def weasyprint_file(notices: Sequence[Notice], out_path: Path, insurer: str) -> int:
    """All notices as one HTML document through WeasyPrint. Returns bytes written."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    body = "".join(_page(n, insurer) for n in notices)
    doc = f"<html><head><style>{_CSS}</style></head><body>{body}</body></html>"
    HTML(string=doc).write_pdf(str(out_path))
    return out_path.stat().st_size
