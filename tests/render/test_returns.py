"""資格確認書の返却のお願い: home and employer letters, paging, glyph check, determinism."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from shikaku.render import Renderer, RenderError
from shikaku.render.layouts import returns
from shikaku.render.model import PageRange, ReturnLetter
from tests.render import samples
from tests.render.conftest import Rendered, all_text, needs_poppler, nospace, page_words

pytestmark = needs_poppler


def render(renderer: Renderer, letters: list[ReturnLetter], path: Path) -> Rendered:
    buf = io.BytesIO()
    result = renderer.render_return_letters(letters, buf)
    path.write_bytes(buf.getvalue())
    return Rendered(buf.getvalue(), result, path)


@pytest.fixture(scope="module")
def letters_pdf(renderer: Renderer, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    letters = [
        samples.return_employer_letter(3),
        samples.return_employer_letter(returns.FIRST_ROWS + returns.NEXT_ROWS + 5),
        samples.return_home_letter(),
    ]
    return render(renderer, letters, tmp_path_factory.mktemp("returns") / "returns.pdf")


def test_one_range_per_letter(letters_pdf: Rendered) -> None:
    r = letters_pdf.result
    assert r.pages == 5 == len(PdfReader(letters_pdf.path).pages)
    assert r.piece_pages == (PageRange(1, 1), PageRange(2, 4), PageRange(5, 5))
    assert r.container_pages == r.piece_pages


def test_employer_letter_lists_everyone(letters_pdf: Rendered) -> None:
    first = nospace(all_text(letters_pdf.path)[0])
    e = samples.EMPLOYER
    for text in ("資格確認書の返却のお願い", "〒100-0013", nospace(e.name), "事業主様・ご担当者様",
                 "協会花子", "𠮷田太郎", "髙橋一郎", "令和8年2月1日", "令和12年12月1日",
                 "計3名", "1/1", "R000001-返却-事業所12345678", "回収", "お問い合わせ先"):  # fmt: skip
        assert text in first, text


def test_long_list_runs_over_pages(letters_pdf: Rendered) -> None:
    pages = [nospace(t) for t in all_text(letters_pdf.path)[1:4]]
    n = returns.FIRST_ROWS + returns.NEXT_ROWS + 5
    assert [f"{k}/3" in p for k, p in enumerate(pages, 1)] == [True] * 3
    assert f"計{n}名" in pages[0] and "（続き）" in pages[1] and "（続き）" in pages[2]
    # every row once, in order, numbered on
    names = [f"退職{i:03d}" for i in range(4, n + 1)]
    joined = "".join(pages)
    assert all(joined.count(name) == 1 for name in names)
    assert joined.index(names[0]) < joined.index(names[-1])
    assert "退職021" in pages[1] and "退職058" in pages[2]  # rows 21… on p2, 58… on p3


def test_home_letter_fields_and_window(renderer: Renderer, letters_pdf: Rendered) -> None:
    text = nospace(all_text(letters_pdf.path)[4])
    letter = samples.return_home_letter()
    for t in ("〒164-0001", "東京都中野区中野四丁目10番2号", "髙橋𠮷子様", "資格喪失日",
              "令和8年3月1日", "令和7年12月2日", "令和12年12月1日", "返却",
              f"12345678-{letter.items[0].number}-00", "R000001-返却-000042"):  # fmt: skip
        assert t in text, t
    # what is near the window lies inside it
    w = renderer.ctx.window
    for word in page_words(letters_pdf.path, 5):
        if word.top < w.bottom and word.left < w.right:
            assert w.left - 0.5 <= word.left and word.right <= w.right + 0.5, word
            assert w.top - 0.5 <= word.top and word.bottom <= w.bottom + 0.5, word


def test_unprintable_name_names_the_item(renderer: Renderer) -> None:
    letter = samples.return_employer_letter(3)
    bad = replace(letter.items[1], name="山田 \U0001f600")
    letter = replace(letter, items=(letter.items[0], bad, letter.items[2]))
    with pytest.raises(RenderError, match=r"R000001-返却-事業所12345678 12345678-0003002-00"):
        renderer.render_return_letters([letter], io.BytesIO())
    home = samples.return_home_letter()
    home = replace(home, addressee="山田 \U0001f600")
    with pytest.raises(RenderError, match="R000001-返却-000042"):
        renderer.render_return_letters([home], io.BytesIO())


def test_refusals(renderer: Renderer) -> None:
    with pytest.raises(RenderError, match="no return letters"):
        renderer.render_return_letters([], io.BytesIO())
    home = samples.return_home_letter()
    two = replace(home, items=home.items * 2)
    with pytest.raises(RenderError, match="one certificate"):
        renderer.render_return_letters([two], io.BytesIO())


def test_same_letters_same_bytes(renderer: Renderer, letters_pdf: Rendered) -> None:
    letters = [
        samples.return_employer_letter(3),
        samples.return_employer_letter(returns.FIRST_ROWS + returns.NEXT_ROWS + 5),
        samples.return_home_letter(),
    ]
    buf = io.BytesIO()
    result = renderer.render_return_letters(letters, buf)
    assert buf.getvalue() == letters_pdf.pdf and result == letters_pdf.result
