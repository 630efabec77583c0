"""What a Renderer shares between files (file starts, encoded strings, laid-out lines) never
changes a file: its bytes do not depend on what was rendered before, and each file embeds
the glyphs it shows."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from pypdf import PdfReader

from shikaku.render import FontSet, Renderer, documents
from shikaku.render.model import Employer, Household, MailingBatch
from shikaku.render.pdf import PdfWriter
from tests.render import samples


def render(r: Renderer, obj: object) -> bytes:
    out = io.BytesIO()
    if isinstance(obj, MailingBatch):
        r.render_batch(obj, out)
    else:
        r.render_parcel(obj, out)  # type: ignore[arg-type]
    return out.getvalue()


def test_a_file_does_not_depend_on_earlier_files(fonts: FontSet) -> None:
    one = samples.parcel(samples.households()[1:])  # 𠮷田 only: IPAmj
    yoshida = replace(
        samples.EMPLOYER, name="株式会社 𠮷田商店", address="東京都千代田区𠮷田町1-2 𠮷田ビル3階"
    )  # IPAmj in the cover letter's, list's and label's lines and wrapped paragraphs
    everything = (
        replace(samples.parcel(), employer=yoshida),
        samples.parcel(),
        samples.home_batch(),
        samples.big_parcel(insured=20, per_household=3),
        one,
        samples.parcel(samples.households()[:1]),
    )
    alone = [render(Renderer(fonts, samples.ISSUER, samples.WINDOW), x) for x in everything]
    shared = Renderer(fonts, samples.ISSUER, samples.WINDOW)
    assert [render(shared, x) for x in everything] == alone
    assert [render(shared, x) for x in reversed(everything)] == alone[::-1]


def test_each_file_embeds_the_glyphs_it_shows(renderer: Renderer) -> None:
    """A name seen in an earlier file is still put into this file's own subset."""
    render(renderer, samples.parcel())
    pdf = render(renderer, samples.parcel(samples.households()[1:]))
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "𠮷田 髙子" in text and "𠮷田 太郎" in text
    # 𠮷 (IPAmj) and 髙 (the file's gothic subset) are embedded
    assert b"IPAmjMincho" in pdf
    assert len(set(re.findall(rb"/BaseFont/[A-Z]{6}\+IPAexGothic/", pdf))) == 2


KANA_ONLY = Employer(
    symbol="12345678",
    name="カブシキガイシャ サンプル",
    postal_code="1000013",
    address="トウキョウト 1-3-2",
    phone=None,
)


@pytest.mark.parametrize("sex", [1, None])
def test_fixed_words_are_in_the_template_subset(renderer: Renderer, sex: int | None) -> None:
    """Names aside, every string of a parcel is shown with the template subsets, so a
    parcel whose names and address are katakana has no subset of its own."""
    hs = tuple(
        Household(
            tuple(
                replace(n, name="サトウ ハナコ", insured_name="サトウ ハナコ", sex=sex)
                for n in h.notices
            )
        )
        for h in samples.households()
    )
    parcel = replace(samples.parcel(hs), employer=KANA_ONLY)
    pdf = render(renderer, parcel)
    assert re.search(rb"/Font<</TG \d+ 0 R>>/XObject", pdf)  # pages: the template font only
    assert len(set(re.findall(rb"/BaseFont/[A-Z]{6}\+IPAexGothic/", pdf))) == 1
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("この箱の内容", "配付一覧は 1 / 2 の箱に入っています", "（2 通）",
                     "マイナンバー（下4桁）: ＊＊＊＊ ＊＊＊＊ 1234", "申出書"):  # fmt: skip
        assert expected in text


def test_templates_not_foreseen_are_written_at_the_end(
    renderer: Renderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file start holds the templates the file is expected to use; any other one is
    still written (at the end), so the file is complete either way."""
    expected = render(renderer, samples.parcel())
    monkeypatch.setattr(documents, "_notice_templates", lambda notices: frozenset())
    pdf = render(renderer, samples.parcel())
    assert pdf != expected

    def texts(data: bytes) -> list[str]:
        return [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]

    assert texts(pdf) == texts(expected)


def test_a_writer_started_from_a_prefix_writes_the_same_bytes() -> None:
    def objects(w: PdfWriter, nums: range) -> None:
        for i in nums:
            w.obj(i, b"<</N %d>>" % i)

    a = io.BytesIO()
    w = PdfWriter(a)
    assert [w.alloc() for _ in range(6)] == [1, 2, 3, 4, 5, 6]
    objects(w, range(1, 7))
    w.close(1, 2)

    start = PdfWriter(io.BytesIO())
    for _ in range(6):
        start.alloc()
    objects(start, range(1, 3))
    prefix = start.prefix()
    b = io.BytesIO()
    w2 = PdfWriter(b, prefix)
    objects(w2, range(3, 7))
    w2.close(1, 2)
    assert b.getvalue() == a.getvalue()
    assert (w2.sha256, w2.size) == (w.sha256, w.size)
    # the prefix is reusable
    c = io.BytesIO()
    w3 = PdfWriter(c, prefix)
    objects(w3, range(3, 7))
    w3.close(1, 2)
    assert c.getvalue() == a.getvalue()
