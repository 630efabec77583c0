"""Where the envelope window falls on the A4 sheet after a tri-fold (DOMAIN.md §7).

The window is given on the envelope's face held so that the folded sheet's text reads
upright (a 長3 with a horizontal window: 235 × 120 mm). The folded sheet (210 × 99 mm, the
top third of the A4 facing the window) sits centred in the envelope and may slide by the
shift tolerance in any direction, so what must stay visible is the window shrunk by that
tolerance on every side, translated into sheet coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from shikaku.domain.errors import DomainError

A4_WIDTH_MM: Final = 210.0
A4_HEIGHT_MM: Final = 297.0
TRI_FOLD_PANEL_MM: Final = A4_HEIGHT_MM / 3


@dataclass(frozen=True, slots=True)
class Rect:
    """Millimetres from the top-left corner of the sheet."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def contains(self, other: Rect) -> bool:
        return (
            other.left >= self.left
            and other.top >= self.top
            and other.right <= self.right
            and other.bottom <= self.bottom
        )


def window_on_sheet(
    envelope_width_mm: float,
    envelope_height_mm: float,
    window: Rect,
    shift_tolerance_mm: float,
    sheet_width_mm: float = A4_WIDTH_MM,
    panel_height_mm: float = TRI_FOLD_PANEL_MM,
) -> Rect:
    """The part of the sheet's top panel that shows through the window however it slides."""
    if sheet_width_mm > envelope_width_mm or panel_height_mm > envelope_height_mm:
        raise DomainError(
            "折った用紙が封筒に入りません", "the folded sheet does not fit the envelope"
        )
    offset_x = (envelope_width_mm - sheet_width_mm) / 2
    offset_y = (envelope_height_mm - panel_height_mm) / 2
    safe = Rect(
        window.left - offset_x + shift_tolerance_mm,
        window.top - offset_y + shift_tolerance_mm,
        window.width - 2 * shift_tolerance_mm,
        window.height - 2 * shift_tolerance_mm,
    )
    panel = Rect(0.0, 0.0, sheet_width_mm, panel_height_mm)
    if safe.width <= 0 or safe.height <= 0 or not panel.contains(safe):
        raise DomainError(
            "封筒の窓が折った用紙の上段に収まりません (窓の位置・大きさの設定を確認してください)",
            "the envelope window does not fall on the folded sheet's top panel",
        )
    return safe
