"""Fixtures: the fonts, a renderer for the sample insurer, and rendered sample files."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from shikaku.render import FontSet, Renderer
from shikaku.render.model import RenderResult
from tests.render import samples

MM = 72 / 25.4

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"
)


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    result: RenderResult
    path: Path


@dataclass(frozen=True)
class Word:
    """A word from pdftotext -bbox, in mm from the page's top-left corner."""

    text: str
    left: float
    top: float
    right: float
    bottom: float


@pytest.fixture(scope="session")
def fonts() -> FontSet:
    return FontSet.load()


@pytest.fixture(scope="session")
def renderer(fonts: FontSet) -> Renderer:
    return Renderer(fonts, samples.ISSUER, samples.WINDOW)


def _render(tmp: Path, name: str, fn: Callable[..., RenderResult], obj: object) -> Rendered:
    buf = io.BytesIO()
    result = fn(obj, buf)
    path = tmp / f"{name}.pdf"
    path.write_bytes(buf.getvalue())
    return Rendered(buf.getvalue(), result, path)


@pytest.fixture(scope="session")
def parcel_pdf(renderer: Renderer, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return _render(tmp_path_factory.mktemp("pdf"), "parcel", renderer.render_parcel,
                   samples.parcel())  # fmt: skip


@pytest.fixture(scope="session")
def home_pdf(renderer: Renderer, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return _render(tmp_path_factory.mktemp("pdf"), "home", renderer.render_batch,
                   samples.home_batch())  # fmt: skip


def page_text(path: Path, page: int) -> str:
    """`pdftotext -layout` of one page (1-based)."""
    out = subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(path), "-"],
        check=True,
        capture_output=True,
    )
    return out.stdout.decode("utf-8")


def all_text(path: Path) -> list[str]:
    """Every page's text (pdftotext -layout splits pages with form feeds)."""
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                         capture_output=True)  # fmt: skip
    return out.stdout.decode("utf-8").split("\f")[:-1]


_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def page_words(path: Path, page: int) -> list[Word]:
    """`pdftotext -bbox` words of one page, in mm."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-"],
        check=True,
        capture_output=True,
    )
    words = []
    for m in _WORD.finditer(out.stdout.decode("utf-8")):
        x0, y0, x1, y1 = (float(v) / MM for v in m.groups()[:4])
        text = m.group(5).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
        words.append(Word(text, x0, y0, x1, y1))
    return words


def squash(s: str) -> str:
    """Whitespace runs → one space (layout mode widens gaps)."""
    return re.sub(r"\s+", " ", s).strip()


def nospace(s: str) -> str:
    """Without any whitespace: pdftotext drops or widens narrow spaces as it likes."""
    return re.sub(r"\s+", "", s)
