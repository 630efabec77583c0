"""PDF output: notices, 申出書, certificates (card, carrier letter, card sheets), cover
letters, distribution lists and labels (docs/render.md)."""

from shikaku.render.documents import Renderer, RenderError, renderer_for
from shikaku.render.fonts import FontPaths, FontSet
from shikaku.render.text import UnprintableError

__all__ = [
    "FontPaths",
    "FontSet",
    "RenderError",
    "Renderer",
    "UnprintableError",
    "renderer_for",
]
