"""An employer parcel: print order, page ranges, what the window shows, My Number rules."""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import replace

import pytest
from pypdf import PdfReader

from shikaku.domain.identifiers import partition_code
from shikaku.domain.window import Rect
from shikaku.render import Renderer, RenderError
from shikaku.render.model import PageRange
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

# label 1, cover 2, list 3, 花子 4, 正子 5 + 申出書 6, 一郎 7 | label 8, 太郎 9, 髙子 10 + 申出書 11
NOTICE_PAGES = {4: 0, 5: 1, 7: 2, 9: 3, 10: 4}
FORM_PAGES = {6: 1, 11: 4}


def notices() -> list:
    return [n for h in samples.households() for n in h.notices]


def test_page_ranges(parcel_pdf: Rendered) -> None:
    r = parcel_pdf.result
    assert r.pages == 11 == len(PdfReader(io.BytesIO(parcel_pdf.pdf)).pages)
    assert r.container_pages == (PageRange(1, 7), PageRange(8, 11))
    assert r.piece_pages == (
        PageRange(4, 4),
        PageRange(5, 6),
        PageRange(7, 7),
        PageRange(9, 9),
        PageRange(10, 11),
    )


def test_result_describes_the_bytes(parcel_pdf: Rendered) -> None:
    import hashlib

    assert parcel_pdf.result.size == len(parcel_pdf.pdf)
    assert parcel_pdf.result.sha256 == hashlib.sha256(parcel_pdf.pdf).hexdigest()


def test_print_order(parcel_pdf: Rendered) -> None:
    pages = [squash(t) for t in all_text(parcel_pdf.path)]
    assert "特定記録" in pages[0] and "1/2" in nospace(pages[0]) and "No.1〜3" in nospace(pages[0])
    assert "箱" in pages[0]
    assert "送付について（ご案内）" in pages[1]
    assert "配付一覧" in pages[2]
    assert "特定記録" in pages[7] and "2/2" in nospace(pages[7]) and "封筒" in pages[7]
    assert "No.4〜5" in nospace(pages[7])
    for page in NOTICE_PAGES:
        assert "資格情報のお知らせ" in pages[page - 1]
    for page in FORM_PAGES:
        assert "マイナンバー登録申出書" in pages[page - 1]
        assert "（健康保険 加入者用）" in pages[page - 1]


def test_label_shows_the_employer_address(parcel_pdf: Rendered) -> None:
    text = squash(page_text(parcel_pdf.path, 1))
    e = samples.EMPLOYER
    assert "〒100-0013" in text
    assert "株式会社 霞が関商事" in text
    assert "事業主様・ご担当者様" in text
    assert "R000001-P0000012" in text
    assert e.address.split(" ")[0] in text


def test_label_cover_and_list_show_the_parcels_management_number(parcel_pdf: Rendered) -> None:
    """The 管理番号 the employer quotes is the one the portal shows and the control codes
    begin with (domain.identifiers.partition_code): 7 digits of partition, on every page."""
    code = partition_code(samples.RUN, 12)
    assert code == "R000001-P0000012"
    for page in (1, 2, 3):  # the first container's label, the cover letter, the list
        assert code in squash(page_text(parcel_pdf.path, page)), page


def test_cover_letter_counts(parcel_pdf: Rendered) -> None:
    text = squash(page_text(parcel_pdf.path, 2))
    assert "被保険者 2 名、被扶養者 3 名、計 5 通" in text
    assert "箱 1 個、封筒 1 通（全 2 個口" in text
    assert "抽出日（令和6年6月7日）" in text
    assert "令和6年9月9日" in text
    assert "開封せずに" in text and "返戻" in text
    assert "協会けんぽマイナンバー専用ダイヤル（0570-015-369）" in text
    assert "マイナンバー登録申出書 2 通" in text


def test_distribution_list(parcel_pdf: Rendered) -> None:
    lines = [squash(x) for x in page_text(parcel_pdf.path, 3).splitlines() if x.strip()]
    rows = [x for x in lines if re.match(r"^\d+ 12345678 ", x)]
    assert [nospace(x) for x in rows] == [
        nospace("1 12345678 1234567 00 協会 花子 協会 花子 本人 箱 1"),
        nospace("2 12345678 1234567 01 協会 花子 協会 正子 家族 箱 1"),
        nospace("3 12345678 1234567 02 協会 花子 協会 一郎 家族 箱 1"),
        nospace("4 12345678 1234568 00 𠮷田 太郎 𠮷田 太郎 本人 封筒 2"),
        nospace("5 12345678 1234568 01 𠮷田 太郎 𠮷田 髙子 家族 封筒 2"),
    ]
    assert rows[0].split(" ")[:3] == ["1", "12345678", "1234567"]
    assert nospace(lines[0]).endswith("1/1")


@pytest.mark.parametrize(("page", "index"), NOTICE_PAGES.items())
def test_window_block_reads_back(parcel_pdf: Rendered, page: int, index: int) -> None:
    n = notices()[index]
    lines = [squash(x) for x in page_text(parcel_pdf.path, page).splitlines()]
    assert f"(記号){n.symbol} (番号){n.number}" in lines
    assert any(x.startswith(f"(被保険者氏名){n.insured_name} 様") for x in lines)
    assert any(x.startswith(f"(対象者氏名){n.name} 様") for x in lines)


def window_words(words: list[Word], window: Rect) -> list[Word]:
    """Words in the window's neighbourhood (the top panel's left part)."""
    return [w for w in words if w.top < window.bottom + 5 and w.left < window.right + 5]


@pytest.mark.parametrize("page", NOTICE_PAGES)
def test_window_block_lies_inside_the_window(parcel_pdf: Rendered, page: int) -> None:
    w = samples.WINDOW
    words = window_words(page_words(parcel_pdf.path, page), w)
    assert len(words) >= 7
    for word in words:
        box = Rect(word.left, word.top, word.right - word.left, word.bottom - word.top)
        assert w.contains(box), (word, w)
    texts = " ".join(x.text for x in words)
    assert texts.startswith("(記号)")
    # nothing else of the page shows through the window
    others = [x for x in page_words(parcel_pdf.path, page) if x not in words]
    for x in others:
        assert x.left >= w.right or x.top >= w.bottom or x.bottom <= w.top, x


def my_number_words(path: object, page: int) -> list[str]:
    return [x.text for x in page_words(path, page) if 160 < x.top < 196]  # type: ignore[arg-type]


def test_registered_my_number_shows_last_four_only(parcel_pdf: Rendered) -> None:
    text = squash(page_text(parcel_pdf.path, 4))
    assert "マイナンバー（下4桁）: ＊＊＊＊ ＊＊＊＊ 1234" in text
    assert "誤りがないか、ご確認をお願いします" in text
    assert "マイナンバー登録申出書を同封" not in text


@pytest.mark.parametrize(("page", "why"), [(5, "登録されていない"), (10, "確認が必要")])
def test_no_my_number_no_digits(parcel_pdf: Rendered, page: int, why: str) -> None:
    text = squash(page_text(parcel_pdf.path, page))
    assert why in text
    assert "＊＊＊＊" not in text
    assert "マイナンバー登録申出書を同封しています" in text
    assert "協会けんぽマイナンバー専用ダイヤル（0570-015-369）" in nospace(text)
    words = [x.text for x in page_words(parcel_pdf.path, page)]
    assert not [x for x in words if re.fullmatch(r"\d{4}", x)]


def test_no_four_digit_group_even_if_last4_is_given(renderer: Renderer, tmp_path: object) -> None:
    n = replace(notices()[1], my_number_last4="4321")  # state "none": must not print
    p = samples.parcel((samples.Household((n,)),))
    out = io.BytesIO()
    renderer.render_parcel(p, out)
    reader = PdfReader(io.BytesIO(out.getvalue()))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "4321" not in text


def test_registration_form(parcel_pdf: Rendered) -> None:
    masako = notices()[1]
    text = squash(page_text(parcel_pdf.path, 6))
    for expected in (masako.name, masako.name_kana, masako.insured_name, "令和元年6月2日",
                     "12345678", "1234567", "01130012", "個人番号（マイナンバー）"):  # fmt: skip
        assert expected in text
    assert masako.control in text
    words = [x.text for x in page_words(parcel_pdf.path, 6)]
    assert not [x for x in words if re.fullmatch(r"\d{4}", x)]  # boxes are empty


def test_notice_fields(parcel_pdf: Rendered) -> None:
    text = squash(page_text(parcel_pdf.path, 5))
    for expected in ("健康保険", "資格情報のお知らせ", "協会 正子", "キョウカイ マサコ", "令和元年6月2日",
                     "2割", "令和2年4月1日", "01130012", "全国健康保険協会 東京支部", "家族",
                     "性別 女", "R000001-P000012-0002", "マイナ保険証", "切り取り線"):  # fmt: skip
        assert expected in text, expected


def test_card_part_has_no_copay_and_no_my_number(parcel_pdf: Rendered) -> None:
    words = [x for x in page_words(parcel_pdf.path, 4) if x.top > 225 and x.right < 105]
    texts = " ".join(x.text for x in words)
    assert "健康保険 資格情報のお知らせ" in texts
    assert "協会 花子" in texts and "昭和60年4月1日" in texts and "01130012" in texts
    assert "割" not in texts and "＊" not in texts and "1234 " not in texts + " "


def test_card_lower_right(fonts: object, tmp_path: object) -> None:
    r = Renderer(fonts, samples.ISSUER, samples.WINDOW, "lower_right")  # type: ignore[arg-type]
    out = io.BytesIO()
    r.render_batch(samples.home_batch(), out)
    path = tmp_path / "right.pdf"  # type: ignore[operator]
    path.write_bytes(out.getvalue())
    card = [x for x in page_words(path, 1) if x.text == "資格取得年月日" and x.top > 225]
    assert card and card[0].left > 105


def test_yoshi_is_printed_with_ipamj(parcel_pdf: Rendered) -> None:
    fonts = subprocess.run(["pdffonts", str(parcel_pdf.path)], capture_output=True,
                           check=True).stdout.decode()  # fmt: skip
    assert "IPAmjMincho" in fonts
    reader = PdfReader(io.BytesIO(parcel_pdf.pdf))
    assert "𠮷田 髙子" in reader.pages[9].extract_text()


def test_fonts_embedded_and_subset(parcel_pdf: Rendered) -> None:
    out = subprocess.run(["pdffonts", str(parcel_pdf.path)], capture_output=True, check=True)
    rows = out.stdout.decode().splitlines()[2:]
    assert rows
    for row in rows:
        assert re.match(r"[A-Z]{6}\+IPA", row), row
        assert re.search(r"CID TrueType\s+Identity-H\s+yes yes yes", row), row
    assert b"Helvetica" not in parcel_pdf.pdf


def test_no_twelve_digit_run_anywhere(parcel_pdf: Rendered) -> None:
    for text in all_text(parcel_pdf.path):
        assert not re.search(r"\d{12}", text)


def test_fallback_font_only_when_needed(renderer: Renderer) -> None:
    hs = samples.households()[:1]  # the 協会 household: no 𠮷
    out = io.BytesIO()
    renderer.render_parcel(samples.parcel(hs), out)
    assert b"IPAmjMincho" not in out.getvalue()


def test_sex_is_omitted_when_none(renderer: Renderer, tmp_path: object) -> None:
    n = replace(notices()[0], sex=None)
    out = io.BytesIO()
    renderer.render_parcel(samples.parcel((samples.Household((n,)),)), out)
    path = tmp_path / "nosex.pdf"  # type: ignore[operator]
    path.write_bytes(out.getvalue())
    assert "性別" not in page_text(path, 4)


def test_unprintable_name_names_the_piece(renderer: Renderer) -> None:
    n = replace(notices()[0], name="花\ue000子")
    with pytest.raises(RenderError, match=r"R000001-P000012-0001.*U\+E000"):
        renderer.render_parcel(samples.parcel((samples.Household((n,)),)), io.BytesIO())


def test_bad_last4_is_refused(renderer: Renderer) -> None:
    n = replace(notices()[0], my_number_last4="12a4")
    with pytest.raises(RenderError, match="下4桁"):
        renderer.render_parcel(samples.parcel((samples.Household((n,)),)), io.BytesIO())


def test_containers_must_cover_the_pieces(renderer: Renderer) -> None:
    p = samples.parcel()
    bad = replace(p, containers=(replace(p.containers[0], last_piece=2), p.containers[1]))
    with pytest.raises(RenderError, match="連続"):
        renderer.render_parcel(bad, io.BytesIO())


def test_many_households_make_several_list_pages(renderer: Renderer, tmp_path: object) -> None:
    p = samples.big_parcel(insured=30, per_household=2)  # 60 rows: 2 list pages
    out = io.BytesIO()
    r = renderer.render_parcel(p, out)
    path = tmp_path / "big.pdf"  # type: ignore[operator]
    path.write_bytes(out.getvalue())
    assert nospace(page_text(path, 3)).startswith("配付一覧（資格情報のお知らせ）1/2")
    assert nospace(page_text(path, 4)).startswith("配付一覧（資格情報のお知らせ）2/2")
    assert r.piece_pages[0] == PageRange(5, 5)  # label, cover, 2 list pages, then notices
    forms = sum(1 for h in p.households for n in h.notices if n.needs_registration_form)
    assert r.pages == len(p.containers) + 1 + 2 + 60 + forms
    assert r.container_pages[-1].last == r.pages


def test_households_are_not_split_across_list_pages() -> None:
    from shikaku.render.documents import _list_rows
    from shikaku.render.layouts.distribution import paginate

    p = samples.big_parcel(insured=20, per_household=3)  # 60 rows, households of 3
    pages = paginate(_list_rows(p), per_page=8)
    assert [len(x) for x in pages] == [6] * 10
    assert all(page[0].first_of_household for page in pages)
    one_big = paginate(_list_rows(samples.big_parcel(insured=1, per_household=10)), per_page=8)
    assert [len(x) for x in one_big] == [8, 2]
