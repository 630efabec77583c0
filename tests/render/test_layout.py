"""Layout rules that must hold for any window position and any name length."""

from __future__ import annotations

import io
import pickle
from dataclasses import replace
from pathlib import Path

import pytest

from shikaku.domain.window import Rect, window_on_sheet
from shikaku.render import FontSet, Renderer, renderer_for
from tests.render import samples
from tests.render.conftest import needs_poppler, page_words

pytestmark = needs_poppler

RIGHT_WINDOW = window_on_sheet(235, 120, Rect(120, 13, 90, 45), 3)  # a window on the right


def render_one(renderer: Renderer, notice: samples.Notice, tmp_path: Path) -> Path:
    out = io.BytesIO()
    renderer.render_parcel(samples.parcel((samples.Household((notice,)),)), out)
    path = tmp_path / "one.pdf"
    path.write_bytes(out.getvalue())
    return path


def inside(w: Rect, word: object) -> bool:
    x = word  # a conftest.Word
    return w.contains(Rect(x.left, x.top, x.right - x.left, x.bottom - x.top))  # type: ignore[attr-defined]


@pytest.mark.parametrize("window", [samples.WINDOW, RIGHT_WINDOW], ids=["left", "right"])
def test_window_text_inside_and_nothing_else_in_the_window(
    fonts: FontSet, window: Rect, tmp_path: Path
) -> None:
    r = Renderer(fonts, samples.ISSUER, window)
    n = samples.households()[0].notices[1]
    words = page_words(render_one(r, n, tmp_path), 4)  # label, cover, list, then the notice
    in_window = [x for x in words if x.text.startswith(("(記号)", "(番号)", "(被保険者氏名)",
                                                        "(対象者氏名)"))]  # fmt: skip
    assert len(in_window) == 4
    for x in words:
        overlaps = not (x.right <= window.left or x.left >= window.right
                        or x.bottom <= window.top or x.top >= window.bottom)  # fmt: skip
        if overlaps:
            assert inside(window, x), x
    title = next(x for x in words if x.text == "資格情報のお知らせ")
    assert title.right <= window.left or title.left >= window.right


def test_long_names_shrink_to_stay_in_the_window(renderer: Renderer, tmp_path: Path) -> None:
    long_name = "長谷川ヶ谷木之本 左衛門三郎兵衛之助太郎"
    n = replace(samples.households()[0].notices[0], name=long_name, insured_name=long_name)
    words = page_words(render_one(renderer, n, tmp_path), 4)
    window = [x for x in words if x.top < samples.WINDOW.bottom and x.left < samples.WINDOW.right]
    assert any(long_name.split(" ")[1] in x.text for x in window)
    for x in window:
        assert inside(samples.WINDOW, x), x


def test_renderer_for_is_built_once_per_process() -> None:
    a = renderer_for(samples.ISSUER, samples.WINDOW)
    assert renderer_for(samples.ISSUER, samples.WINDOW) is a
    assert renderer_for(samples.ISSUER, samples.WINDOW, "lower_right") is not a
    # what a Dask task carries instead of the Renderer: small and picklable
    pickle.dumps((samples.ISSUER, samples.WINDOW, samples.parcel()))
