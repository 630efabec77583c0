"""資格確認書: the card on its carrier letter, parcels and home letters of certificates, the
n-up card sheet, the glyph check and determinism."""

from __future__ import annotations

import io
import itertools
import pickle
import re
from dataclasses import replace
from math import ceil
from pathlib import Path

import pytest
from pypdf import PdfReader

from shikaku.domain.certificate import CertificateReason
from shikaku.domain.window import Rect, window_on_sheet
from shikaku.render import FontSet, Renderer, RenderError
from shikaku.render.canvas import MM, PAGE_HEIGHT, Canvas
from shikaku.render.layouts import certificate as layout
from shikaku.render.layouts.cardsheet import CardSheetLayout
from shikaku.render.model import (
    CERTIFICATE_REASONS,
    Certificate,
    Household,
    PageRange,
    variable_text,
)
from tests.render import samples
from tests.render.conftest import (
    Rendered,
    Word,
    all_text,
    needs_poppler,
    nospace,
    page_text,
    page_words,
    squash,
)

pytestmark = needs_poppler

# label 1, cover 2, list 3, 花子 4, 正子 5, 太郎 6 | label 7, 髙子 8
LETTER_PAGES = {4: 0, 5: 1, 6: 2, 8: 3}


def certificates() -> list[Certificate]:
    return [p for h in samples.certificate_households() for p in h.notices]  # type: ignore[misc]


def render(fn: object, obj: object, path: Path) -> Rendered:
    buf = io.BytesIO()
    result = fn(obj, buf)  # type: ignore[operator]
    path.write_bytes(buf.getvalue())
    return Rendered(buf.getvalue(), result, path)


@pytest.fixture(scope="module")
def sheet_renderer(fonts: FontSet) -> Renderer:
    return Renderer(fonts, samples.ISSUER, samples.WINDOW, card_layout="sheet")


@pytest.fixture(scope="module")
def cert_pdf(renderer: Renderer, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    path = tmp_path_factory.mktemp("cert") / "parcel.pdf"
    return render(renderer.render_parcel, samples.certificate_parcel(), path)


@pytest.fixture(scope="module")
def cert_home_pdf(renderer: Renderer, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    path = tmp_path_factory.mktemp("cert") / "home.pdf"
    return render(renderer.render_batch, samples.certificate_batch(), path)


def card_words(renderer: Renderer, path: Path, page: int) -> list[Word]:
    """The words printed on the card (inside its box on the letter)."""
    k = renderer.certificate.card_box
    return [
        w
        for w in page_words(path, page)
        if k.left <= w.left and w.right <= k.right and k.top <= w.top and w.bottom <= k.bottom
    ]


def card_text(renderer: Renderer, path: Path, page: int) -> str:
    """The card's words, row by row (words whose middles are level), left to right."""
    words = sorted(card_words(renderer, path, page), key=lambda w: (w.top + w.bottom) / 2)
    rows: list[list[Word]] = []
    for w in words:
        middle = (w.top + w.bottom) / 2
        if rows and abs(middle - (rows[-1][0].top + rows[-1][0].bottom) / 2) < 1.2:
            rows[-1].append(w)
        else:
            rows.append([w])
    return " | ".join(" ".join(w.text for w in sorted(row, key=lambda w: w.left)) for row in rows)


# ---------------------------------------------------------------- model


def test_reasons_include_the_domain_ones() -> None:
    assert {r.value for r in CertificateReason} <= set(CERTIFICATE_REASONS)
    assert set(layout.REASONS) == set(CERTIFICATE_REASONS) == set(layout.REASON)


def test_certificate_is_plain_and_picklable() -> None:
    p = samples.certificate_parcel()
    assert pickle.loads(pickle.dumps(p)) == p
    assert p.kind == "certificate" and samples.parcel().kind == "notice"
    assert samples.certificate_batch().kind == "certificate"


def test_variable_text_covers_every_printed_string() -> None:
    c = certificates()[3]
    texts = variable_text(c)
    for expected in (c.name, c.name_kana, c.insured_name, c.cap_category, c.control):
        assert expected in texts


# ---------------------------------------------------------------- parcel


def test_parcel_page_ranges(cert_pdf: Rendered) -> None:
    r = cert_pdf.result
    assert r.pages == 8 == len(PdfReader(io.BytesIO(cert_pdf.pdf)).pages)
    assert r.container_pages == (PageRange(1, 6), PageRange(7, 8))
    assert r.piece_pages == tuple(PageRange(p, p) for p in LETTER_PAGES)


def test_parcel_names_the_certificate_everywhere(cert_pdf: Rendered) -> None:
    pages = [squash(t) for t in all_text(cert_pdf.path)]
    assert all("資格情報のお知らせ" not in t for t in pages)
    assert "資格確認書在中" in pages[0] and "資格確認書在中" in pages[6]
    assert "「資格確認書」の送付について（ご案内）" in pages[1]
    assert nospace(pages[2]).startswith("配付一覧（資格確認書）1/1")
    for page in LETTER_PAGES:
        assert "資格確認書の送付について" in pages[page - 1]


def test_cover_letter_counts(cert_pdf: Rendered) -> None:
    text = squash(page_text(cert_pdf.path, 2))
    assert "被保険者 2 名、被扶養者 2 名、計 4 通" in text
    assert "箱 1 個、封筒 1 通（全 2 個口" in text
    assert "抽出日（令和6年6月7日）時点の交付対象者" in text
    assert "配付一覧 1 枚" in text
    assert "申出書" not in text and "マイナンバー" not in text
    assert "ご返却ください" in text


def test_distribution_list_rows(cert_pdf: Rendered) -> None:
    lines = [squash(x) for x in page_text(cert_pdf.path, 3).splitlines() if x.strip()]
    rows = [nospace(x) for x in lines if re.match(r"^\d+ 12345678 ", x)]
    assert rows == [
        nospace("1 12345678 1234567 00 協会 花子 協会 花子 本人 箱 1"),
        nospace("2 12345678 1234567 01 協会 花子 協会 正子 家族 箱 1"),
        nospace("3 12345678 1234568 00 𠮷田 太郎 𠮷田 太郎 本人 箱 1"),
        nospace("4 12345678 1234568 01 𠮷田 太郎 𠮷田 髙子 家族 封筒 2"),
    ]


@pytest.mark.parametrize(("page", "index"), LETTER_PAGES.items())
def test_window_block_inside_the_window(cert_pdf: Rendered, page: int, index: int) -> None:
    c = certificates()[index]
    w = samples.WINDOW
    words = [
        x for x in page_words(cert_pdf.path, page) if x.top < w.bottom + 5 and x.left < w.right
    ]
    assert len(words) >= 7
    for x in words:
        assert w.contains(Rect(x.left, x.top, x.right - x.left, x.bottom - x.top)), x
    lines = [squash(x) for x in page_text(cert_pdf.path, page).splitlines()]
    assert f"(記号){c.symbol} (番号){c.number}" in lines
    assert any(x.startswith(f"(被保険者氏名){c.insured_name} 様") for x in lines)
    assert any(x.startswith(f"(対象者氏名){c.name} 様") for x in lines)


def test_letter_explains(cert_pdf: Rendered) -> None:
    text = nospace(page_text(cert_pdf.path, 4))
    for expected in (
        "受付で、資格確認書を提示してください",
        "有効期限まで使用できます",
        "有効期限の前でも使用できません",
        "勤務先（事業主）を通じて、すみやかにご返却ください",
        "マイナ保険証と資格確認書の両方をお持ちいただくことは、原則としてできません",
        "全国健康保険協会東京支部",
        "電話03-6853-6111",
        "令和11年12月1日",
        "R000001-P000012-0001",
    ):
        assert nospace(expected) in text, expected


@pytest.mark.parametrize(("page", "index"), LETTER_PAGES.items())
def test_letter_gives_the_reason(cert_pdf: Rendered, page: int, index: int) -> None:
    c = certificates()[index]
    text = nospace(page_text(cert_pdf.path, page))
    assert nospace(layout.REASONS[c.reason]) in text
    others = [r for r in CERTIFICATE_REASONS if r != c.reason]
    assert not [r for r in others if nospace(layout.REASONS[r]) in text]
    superseded = "これまでお持ちの資格確認書は使用できなくなりました" in text
    assert superseded == c.supersedes
    if superseded:
        assert "破棄するか、下記のお問い合わせ先へご返却ください" in text


def test_card_fields(renderer: Renderer, cert_pdf: Rendered) -> None:
    text = card_text(renderer, cert_pdf.path, 4)
    for expected in ("健康保険 資格確認書", "本人", "記号 12345678", "番号", "1234567", "枝番",
                     "00", "フリガナ キョウカイ ハナコ", "氏名 協会 花子", "生年月日 昭和60年4月1日",
                     "性別 女", "交付年月日 令和6年12月2日", "有効期限 令和11年12月1日",
                     "限度額適用区分 区分ウ", "保険者番号 01130012",
                     "保険者名 全国健康保険協会 東京支部", "R000001-P000012-0001"):  # fmt: skip
        assert expected in text, expected
    for absent in ("発効期日", "一部負担金の割合", "割", "被保険者氏名"):
        assert absent not in text, absent


def test_dependent_card_names_the_insured_person(renderer: Renderer, cert_pdf: Rendered) -> None:
    text = card_text(renderer, cert_pdf.path, 5)
    assert "家族" in text and "被保険者氏名 協会 花子" in text and "氏名 協会 正子" in text
    assert "限度額適用区分" not in text  # only when asked for
    assert "発効期日" not in text and "割合" not in text


def test_70_to_74_fields(renderer: Renderer, cert_pdf: Rendered) -> None:
    text = card_text(renderer, cert_pdf.path, 6)
    assert "発効期日 令和4年6月1日" in text
    assert "一部負担金の割合 3割" in text
    assert "性別 男" in text and "限度額適用区分" not in text
    full = card_text(renderer, cert_pdf.path, 8)
    for expected in ("被保険者氏名 𠮷田 太郎", "発効期日 令和5年4月1日", "一部負担金の割合 3割",
                     "限度額適用区分 現役並みⅠ", "氏名 𠮷田 髙子"):  # fmt: skip
        assert expected in full, expected


def test_no_sex_when_none(renderer: Renderer, cert_pdf: Rendered) -> None:
    assert certificates()[3].sex is None
    assert "性別" not in card_text(renderer, cert_pdf.path, 8)
    assert "性別" not in page_text(cert_pdf.path, 8)


def test_optional_rows_follow_each_other(renderer: Renderer, cert_pdf: Rendered) -> None:
    """The optional rows fill the card's rows in order, without gaps."""
    words = card_words(renderer, cert_pdf.path, 8)
    k = renderer.certificate.card_box
    tops = {w.text: w.top - k.top for w in words}
    rows = [tops["被保険者氏名"], tops["発効期日"], tops["限度額適用区分"]]
    assert rows == sorted(rows)
    for a, b in itertools.pairwise(rows):
        assert b - a == pytest.approx(layout.ROW, abs=0.3)


def test_card_is_id1_on_the_letter(renderer: Renderer, cert_pdf: Rendered) -> None:
    """The perforation outline drawn in the letter's template is 85.6 × 54 mm at the card's
    place, and the card's own text is placed there."""
    assert (layout.CARD_WIDTH, layout.CARD_HEIGHT) == (85.6, 54.0)
    k = renderer.certificate.card_box
    assert (k.width, k.height) == (85.6, 54.0)
    page = PdfReader(io.BytesIO(cert_pdf.pdf)).pages[3]
    template = page["/Resources"]["/XObject"]["/CE"].get_data()  # type: ignore[index]
    outline = Canvas({})
    outline.round_rect(k.left, k.top, k.width, k.height, layout.CARD_RADIUS, width=0.3,
                       dash=(1.6, 1.0))  # fmt: skip
    assert outline.content() in template
    xs, ys = path_extent(outline.content())
    assert (max(xs) - min(xs)) / MM == pytest.approx(85.6, abs=0.01)
    assert (max(ys) - min(ys)) / MM == pytest.approx(54.0, abs=0.01)
    assert min(xs) / MM == pytest.approx(k.left, abs=0.01)
    assert PAGE_HEIGHT - max(ys) / MM == pytest.approx(k.top, abs=0.01)
    content = page.get_contents().get_data()  # type: ignore[union-attr]
    assert layout.place(k.left, k.top) + b"q /CK Do Q" in content
    for w in card_words(renderer, cert_pdf.path, 4):
        assert k.left + 1 < w.left and w.right < k.right - 1, w


def path_extent(ops: bytes) -> tuple[list[float], list[float]]:
    """x and y (points) of every point of a path drawn by `Canvas.round_rect`."""
    path = ops[ops.index(b" 0 d ") + 5 : ops.index(b" h S")]
    nums = [float(x) for x in re.findall(rb"-?\d+\.\d+", path)]
    assert len(nums) == 2 * (1 + 4 + 4 * 3)  # m, 4 l, 4 c (3 points each)
    return nums[0::2], nums[1::2]


def test_fixed_words_are_in_the_template_subset(renderer: Renderer) -> None:
    """Names aside, every string of a certificate parcel is shown with the template subset:
    with katakana names and address the file has no subset of its own."""
    kana = replace(samples.EMPLOYER, name="カブシキガイシャ サンプル", address="トウキョウト 1-3-2")
    hs = tuple(
        Household(
            tuple(replace(c, name="サトウ ハナコ", insured_name="サトウ ハナコ") for c in h.notices)
        )
        for h in samples.certificate_households()
    )
    out = io.BytesIO()
    renderer.render_parcel(replace(samples.certificate_parcel(hs), employer=kana), out)
    pdf = out.getvalue()
    assert re.search(rb"/Font<</TG \d+ 0 R>>/XObject", pdf)
    assert len(set(re.findall(rb"/BaseFont/[A-Z]{6}\+IPAexGothic/", pdf))) == 1
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("限度額適用区分", "現役並みⅠ", "一部負担金の割合", "3割", "被保険者氏名",
                     "性別", "令和11年12月1日"):  # fmt: skip
        assert expected in text


def test_notice_files_carry_no_certificate_glyphs(fonts: FontSet) -> None:
    """Two families: rendering certificates first changes nothing in a notice file, and
    the notice's template subset is the same size as without certificates."""
    alone = io.BytesIO()
    Renderer(fonts, samples.ISSUER, samples.WINDOW).render_parcel(samples.parcel(), alone)
    r = Renderer(fonts, samples.ISSUER, samples.WINDOW)
    r.render_parcel(samples.certificate_parcel(), io.BytesIO())
    after = io.BytesIO()
    r.render_parcel(samples.parcel(), after)
    assert after.getvalue() == alone.getvalue()
    assert b"/CE" not in alone.getvalue() and b"/CK" not in alone.getvalue()


# ---------------------------------------------------------------- home


def test_home_letters(cert_home_pdf: Rendered) -> None:
    r = cert_home_pdf.result
    assert r.pages == 3
    assert r.piece_pages == r.container_pages == tuple(PageRange(p, p) for p in (1, 2, 3))
    w = samples.WINDOW
    for page, c in enumerate(samples.certificate_batch().notices, 1):
        words = [x for x in page_words(cert_home_pdf.path, page)
                 if x.top < w.bottom + 5 and x.left < w.right]  # fmt: skip
        for x in words:
            assert w.contains(Rect(x.left, x.top, x.right - x.left, x.bottom - x.top)), x
        text = " ".join(x.text for x in words)
        assert text.startswith(f"〒{c.postal_code[:3]}-{c.postal_code[3:]}")  # type: ignore[index]
        assert text.endswith(f"{c.addressee} 様")
        assert nospace(c.address or "") in nospace(text)
        names = [x for x in page_words(cert_home_pdf.path, page)
                 if x.text.startswith("(対象者氏名)")]  # fmt: skip
        assert names and names[0].left > w.right
        full = nospace(page_text(cert_home_pdf.path, page))
        assert "下記のお問い合わせ先へ、すみやかにご返却ください" in full
        assert "勤務先" not in full
    content = PdfReader(io.BytesIO(cert_home_pdf.pdf)).pages[0].get_contents().get_data()  # type: ignore[union-attr]
    assert content.count(b" re\n") >= 67  # the customer barcode's bars


def test_home_needs_an_address(renderer: Renderer) -> None:
    batch = samples.certificate_batch()
    bad = replace(batch, notices=(replace(batch.notices[0], address=None),))
    with pytest.raises(RenderError, match=r"R000001-P000012-0001.*住所"):
        renderer.render_batch(bad, io.BytesIO())


# ---------------------------------------------------------------- determinism


def test_same_input_same_bytes(renderer: Renderer, fonts: FontSet, cert_pdf: Rendered) -> None:
    again = io.BytesIO()
    renderer.render_parcel(samples.certificate_parcel(), again)
    assert again.getvalue() == cert_pdf.pdf
    fresh = Renderer(fonts, samples.ISSUER, samples.WINDOW)
    a, b = io.BytesIO(), io.BytesIO()
    ra = renderer.render_batch(samples.certificate_batch(), a)
    rb = fresh.render_batch(samples.certificate_batch(), b)
    assert a.getvalue() == b.getvalue() and ra == rb
    sheets = [io.BytesIO(), io.BytesIO()]
    for r, out in zip((renderer, fresh), sheets, strict=True):
        r.render_card_sheet(certificates(), out)
    assert sheets[0].getvalue() == sheets[1].getvalue()
    assert b"/CreationDate" not in a.getvalue() and b"/Producer(shikaku)" in a.getvalue()


# ---------------------------------------------------------------- sheet mode


def many(n: int) -> list[Certificate]:
    base = certificates()
    return [
        replace(base[i % len(base)], control=f"{samples.RUN}-P000012-{i + 1:04d}") for i in range(n)
    ]


@pytest.mark.parametrize(("count", "per_sheet"), [(23, 10), (10, 10), (7, 4), (3, 1), (5, 5)])
def test_card_sheet_pages(fonts: FontSet, tmp_path: Path, count: int, per_sheet: int) -> None:
    r = Renderer(fonts, samples.ISSUER, samples.WINDOW, cards_per_sheet=per_sheet)
    cards = many(count)
    res = render(r.render_card_sheet, cards, tmp_path / "sheet.pdf")
    pages = ceil(count / per_sheet)
    assert res.result.pages == pages
    assert res.result.container_pages == tuple(PageRange(p, p) for p in range(1, pages + 1))
    assert res.result.piece_pages == tuple(
        PageRange(i // per_sheet + 1, i // per_sheet + 1) for i in range(count)
    )
    texts = [p.extract_text() for p in PdfReader(io.BytesIO(res.pdf)).pages]
    for p, text in enumerate(texts):
        chunk = cards[p * per_sheet : (p + 1) * per_sheet]
        assert text.count("健康保険 資格確認書") == len(chunk)
        controls = re.findall(r"R000001-P000012-\d{4}", text)
        # each card's control in order, then the footer's first 〜 last
        assert controls == [c.control for c in chunk] + [chunk[0].control, chunk[-1].control]
        assert f"{chunk[0].control} 〜 {chunk[-1].control}" in text
        assert f"資格確認書（カード印刷用） {p + 1} / {pages}" in text


def test_card_sheet_geometry(renderer: Renderer) -> None:
    """2 × 5 ID-1 cards, inside the sheet, not overlapping, crop marks off the cards."""
    sheet = renderer.card_sheet
    assert (sheet.columns, sheet.rows, sheet.per_sheet) == (2, 5, 10)
    boxes = [Rect(x, y, layout.CARD_WIDTH, layout.CARD_HEIGHT) for x, y in sheet.positions]
    page = Rect(0, 0, 210, 297)
    for i, a in enumerate(boxes):
        assert page.contains(a)
        for b in boxes[i + 1 :]:
            assert a.right <= b.left or b.right <= a.left or a.bottom <= b.top or b.bottom <= a.top
    assert [round(y, 2) for _, y in sheet.positions[::2]] == sorted(
        round(y, 2) for _, y in sheet.positions[::2]
    )
    marks = Canvas({})
    sheet.draw_template(marks)
    for x1, y1, x2, y2 in re.findall(
        rb"(-?[\d.]+) (-?[\d.]+) m (-?[\d.]+) (-?[\d.]+) l S", marks.content()
    ):
        left, right = sorted((float(x1) / MM, float(x2) / MM))
        top, bottom = sorted((PAGE_HEIGHT - float(y1) / MM, PAGE_HEIGHT - float(y2) / MM))
        mark = Rect(left, top, max(right - left, 0.001), max(bottom - top, 0.001))
        for b in boxes:  # a mark never enters a card
            inside = not (mark.right <= b.left + 0.01 or mark.left >= b.right - 0.01
                          or mark.bottom <= b.top + 0.01 or mark.top >= b.bottom - 0.01)  # fmt: skip
            assert not inside, (mark, b)
    with pytest.raises(ValueError, match=r"1\.\.10"):
        CardSheetLayout(renderer.card, 11)


def test_sheet_mode_letters_show_the_frame(sheet_renderer: Renderer, tmp_path: Path) -> None:
    res = render(sheet_renderer.render_parcel, samples.certificate_parcel(), tmp_path / "s.pdf")
    assert res.result.pages == 8
    for page in LETTER_PAGES:
        text = squash(page_text(res.path, page))
        assert "カード貼付位置" in text
        assert "健康保険 資格確認書" not in text  # the card is not printed on the letter
        assert "台紙からはがして" in text
    c = certificates()[0]
    words = card_words(sheet_renderer, res.path, 4)
    assert [w.text for w in words if w.text.startswith("R0")] == []  # control is under it
    assert c.control in page_text(res.path, 4)
    assert b"/CK" not in res.pdf


def test_sheet_renders_the_same_card_as_the_letter(
    renderer: Renderer, sheet_renderer: Renderer, tmp_path: Path
) -> None:
    """The card's words, relative to its corner, are the same on the sheet and the letter."""
    c = certificates()[3]
    sheet = render(sheet_renderer.render_card_sheet, [c], tmp_path / "one.pdf")
    letter = render(renderer.render_batch, replace(samples.certificate_batch(), notices=(
        replace(c, delivery="home", postal_code="1000013", address="東京都千代田区霞が関1-3-2",
                addressee=c.insured_name),)), tmp_path / "l.pdf")  # fmt: skip
    x, y = sheet_renderer.card_sheet.positions[0]
    k = renderer.certificate.card_box
    on_sheet = [(w.text, round(w.left - x, 1), round(w.top - y, 1)) for w in page_words(sheet.path, 1)
                if x <= w.left <= x + layout.CARD_WIDTH and y <= w.top <= y + layout.CARD_HEIGHT]  # fmt: skip
    on_letter = [(w.text, round(w.left - k.left, 1), round(w.top - k.top, 1))
                 for w in card_words(renderer, letter.path, 1)]  # fmt: skip
    assert sorted(on_sheet) == sorted(on_letter) and len(on_sheet) > 20


# ---------------------------------------------------------------- errors


def test_unprintable_name_names_the_certificate(renderer: Renderer) -> None:
    c = replace(certificates()[1], name="協会\ue000正子")
    hs = (Household((certificates()[0], c)),)
    with pytest.raises(RenderError, match=r"R000001-P000012-0002.*U\+E000"):
        renderer.render_parcel(samples.certificate_parcel(hs), io.BytesIO())
    batch = samples.certificate_batch()
    home = replace(batch, notices=(replace(batch.notices[0], name="任継\ue000一郎"),))
    with pytest.raises(RenderError, match=r"R000001-P000012-0001.*U\+E000"):
        renderer.render_batch(home, io.BytesIO())
    with pytest.raises(RenderError, match=r"R000001-P000012-0002.*U\+E000"):
        renderer.render_card_sheet([certificates()[0], c], io.BytesIO())


def test_unprintable_cap_category_is_refused(renderer: Renderer, fonts: FontSet) -> None:
    c = replace(certificates()[0], cap_category="区分\ue000")
    assert fonts.unprintable("".join(variable_text(c))) == "\ue000"
    with pytest.raises(RenderError, match=r"R000001-P000012-0001.*U\+E000"):
        renderer.render_parcel(samples.certificate_parcel((Household((c,)),)), io.BytesIO())


def test_one_kind_per_file(renderer: Renderer) -> None:
    mixed = (Household((samples.households()[0].notices[0], certificates()[1])),)
    with pytest.raises(RenderError, match="混在"):
        renderer.render_parcel(samples.parcel(mixed), io.BytesIO())
    with pytest.raises(RenderError, match="no certificates"):
        renderer.render_card_sheet([], io.BytesIO())


def test_bad_values_are_refused(renderer: Renderer, fonts: FontSet) -> None:
    bad_rate = replace(certificates()[2], copay_rate=25)
    with pytest.raises(RenderError, match=r"R000001-P000012-0003.*負担割合"):
        renderer.render_card_sheet([bad_rate], io.BytesIO())
    bad_reason = replace(certificates()[0], reason="unknown")  # type: ignore[arg-type]
    with pytest.raises(RenderError, match=r"R000001-P000012-0001.*送付理由"):
        renderer.render_parcel(
            samples.certificate_parcel((Household((bad_reason,)),)), io.BytesIO()
        )
    with pytest.raises(ValueError, match="card_layout"):
        Renderer(fonts, samples.ISSUER, samples.WINDOW, card_layout="plastic")  # type: ignore[arg-type]


def test_every_template_stream_decodes(cert_pdf: Rendered) -> None:
    reader = PdfReader(io.BytesIO(cert_pdf.pdf))
    for page in reader.pages:
        for name, xobj in page["/Resources"]["/XObject"].items():  # type: ignore[index]
            assert xobj.get_data(), name


def test_right_window_and_right_card(fonts: FontSet, tmp_path: Path) -> None:
    """Another window and card corner: what overlaps the window lies inside it, the title
    beside it, the card in the lower right, with the contacts to its left."""
    window = window_on_sheet(235, 120, Rect(120, 13, 90, 45), 3)
    r = Renderer(fonts, samples.ISSUER, window, "lower_right")
    hs = (Household((certificates()[1],)),)
    res = render(r.render_parcel, samples.certificate_parcel(hs), tmp_path / "right.pdf")
    words = page_words(res.path, 4)
    for x in words:
        overlaps = not (x.right <= window.left or x.left >= window.right
                        or x.bottom <= window.top or x.top >= window.bottom)  # fmt: skip
        if overlaps:
            assert window.contains(Rect(x.left, x.top, x.right - x.left, x.bottom - x.top)), x
    title = next(x for x in words if x.text == "資格確認書の送付について")
    assert title.right <= window.left
    k = r.certificate.card_box
    assert k.right == pytest.approx(198.0 - layout.CARD_INSET) and k.left > 105
    assert "協会 正子" in card_text(r, res.path, 4)
    contact = next(x for x in words if x.text == "お問い合わせ先" and x.top > 200)
    assert contact.right < k.left
