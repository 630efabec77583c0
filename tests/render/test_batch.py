"""Home delivery: one letter per notice, the address in the window, byte-identical output."""

from __future__ import annotations

import io

from shikaku.domain.window import Rect
from shikaku.render import Renderer
from shikaku.render.model import PageRange
from tests.render import samples
from tests.render.conftest import Rendered, needs_poppler, page_text, page_words, squash

pytestmark = needs_poppler


def test_one_letter_per_notice(home_pdf: Rendered) -> None:
    r = home_pdf.result
    assert r.pages == 4  # the second person has no My Number: notice + 申出書
    assert r.piece_pages == (PageRange(1, 1), PageRange(2, 3), PageRange(4, 4))
    assert r.container_pages == r.piece_pages


def test_window_shows_the_address(home_pdf: Rendered) -> None:
    w = samples.WINDOW
    batch = samples.home_batch()
    for page, n in ((1, batch.notices[0]), (2, batch.notices[1]), (4, batch.notices[2])):
        words = [
            x for x in page_words(home_pdf.path, page) if x.top < w.bottom + 5 and x.left < w.right
        ]
        for x in words:
            assert w.contains(Rect(x.left, x.top, x.right - x.left, x.bottom - x.top)), x
        text = " ".join(x.text for x in words)
        assert text.startswith(f"〒{n.postal_code[:3]}-{n.postal_code[3:]}")
        assert text.endswith(f"{n.addressee} 様")
        assert squash(text).replace(" ", "").find(n.address.replace(" ", "")) > 0


def test_names_block_is_outside_the_window(home_pdf: Rendered) -> None:
    n = samples.home_batch().notices[0]
    text = [squash(x) for x in page_text(home_pdf.path, 1).splitlines()]
    assert any(x.endswith(f"(記号){n.symbol} (番号){n.number}") for x in text)
    words = page_words(home_pdf.path, 1)
    names = [x for x in words if x.text.startswith("(対象者氏名)")]
    assert names and names[0].left > samples.WINDOW.right


def test_barcode_fits_in_the_window(renderer: Renderer) -> None:
    w = samples.WINDOW
    layout = renderer.notice.block
    for stamp, slot in zip(layout.home_barcode, layout.home_addressee, strict=True):
        ops = stamp.ops("L" * 67)
        assert ops.count(b" re\n") == 67
        assert stamp.width <= w.width
        # bars: 3.6 mm tall, starting 2.6 mm under the addressee's baseline
        assert slot.y + 2.6 + 3.6 <= w.bottom


def test_same_input_same_bytes(renderer: Renderer, fonts: object) -> None:
    a, b = io.BytesIO(), io.BytesIO()
    ra = renderer.render_batch(samples.home_batch(), a)
    fresh = Renderer(fonts, samples.ISSUER, samples.WINDOW)  # type: ignore[arg-type]
    rb = fresh.render_batch(samples.home_batch(), b)
    assert a.getvalue() == b.getvalue()
    assert ra == rb


def test_parcel_same_bytes_twice(renderer: Renderer, parcel_pdf: Rendered) -> None:
    out = io.BytesIO()
    renderer.render_parcel(samples.parcel(), out)
    assert out.getvalue() == parcel_pdf.pdf


def test_no_timestamps_fixed_producer(home_pdf: Rendered) -> None:
    assert b"/CreationDate" not in home_pdf.pdf and b"/ModDate" not in home_pdf.pdf
    assert b"/Producer(shikaku)" in home_pdf.pdf


class WriteOnly:
    """A file object that can only write (like a streamed fsspec upload)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)


def test_writes_to_any_binary_file_object(renderer: Renderer, home_pdf: Rendered) -> None:
    out = WriteOnly()
    r = renderer.render_batch(samples.home_batch(), out)  # type: ignore[arg-type]
    assert b"".join(out.chunks) == home_pdf.pdf
    assert r.size == len(home_pdf.pdf)
