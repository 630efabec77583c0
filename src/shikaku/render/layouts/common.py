"""What several documents share: labelled tables as data, value formats, page furniture."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Final

from shikaku.domain.members import Relationship
from shikaku.domain.normalize import format_wareki
from shikaku.domain.window import Rect
from shikaku.render.canvas import Align, Canvas, Slot
from shikaku.render.fonts import Face
from shikaku.render.model import Issuer, Notice

LEFT: Final = 12.0  # page margins in mm
RIGHT: Final = 198.0
LABEL_FILL: Final = 0.9  # gray of label cells
ASCENT: Final = 0.88  # IPAex ascender, in em
PT_MM: Final = 25.4 / 72  # mm per point

RELATIONSHIP: Final = {int(r): r.label for r in Relationship}  # a dict: the hot path
SEX: Final = {1: "男", 2: "女"}
MY_NUMBER_MASK: Final = "マイナンバー（下4桁）: ＊＊＊＊ ＊＊＊＊ "
CONTAINER_KIND: Final = {"box": "箱", "envelope": "封筒", "letter": "封書"}
ERAS: Final = "明治大正昭和平成令和元年月日"  # what format_wareki prints besides digits
# Each layout lists the fixed words of its per-file and per-page text as WORDS: their
# glyphs go into the template subset, so that such a string (a count, a date, a label
# line) never needs the file's own subset, which then holds little more than names.
WORDS: Final = (ERAS, "〒-", *RELATIONSHIP.values(), *SEX.values(), *CONTAINER_KIND.values())


@dataclass(frozen=True, slots=True)
class LayoutContext:
    """What is fixed for a Renderer: who prints, and where the envelope window is."""

    issuer: Issuer
    window: Rect
    card_corner: str  # "lower_left" | "lower_right"


@lru_cache(maxsize=4096)
def wareki(d: date) -> str:
    """和暦 as printed (令和6年6月7日); cached, dates repeat across a run."""
    return format_wareki(d)


def postal(code: str) -> str:
    """〒123-4567 from 7 digits (anything else is printed as given)."""
    return f"〒{code[:3]}-{code[3:]}" if len(code) == 7 and code.isdigit() else f"〒{code}"


def copay(rate: int) -> str:
    """負担割合 as printed: 30 → 3割."""
    if rate % 10:
        raise ValueError(f"負担割合が10%単位ではありません: {rate}")
    return f"{rate // 10}割"


def my_number_last4(notice: Notice) -> str | None:
    """The 4 digits to print after MY_NUMBER_MASK; None when nothing may be printed."""
    if notice.my_number_state != "registered":
        return None
    last4 = notice.my_number_last4 or ""
    if len(last4) != 4 or not last4.isascii() or not last4.isdigit():
        raise ValueError("マイナンバー下4桁が4桁の数字ではありません (my_number_last4)")
    return last4


def baseline(top: float, height: float, size: float) -> float:
    """Baseline that centres one line of `size` pt vertically in a box (mm)."""
    em = size * PT_MM
    return top + (height - em) / 2 + ASCENT * em


@dataclass(frozen=True, slots=True)
class Cell:
    """A label cell and the value cell to its right, in a form-like table."""

    label: str
    label_width: float
    value_width: float
    key: str | None = None  # the variable field printed in the value cell
    value: str | None = None  # or a fixed value printed with the template


def draw_table(
    c: Canvas,
    x: float,
    y: float,
    row_height: float,
    rows: Sequence[Sequence[Cell]],
    *,
    label_size: float = 8.0,
    value_size: float = 10.0,
    frame: float = 0.5,
) -> dict[str, Rect]:
    """Draw the grid, labels and fixed values; return each variable value cell by key."""
    cells: dict[str, Rect] = {}
    for r, row in enumerate(rows):
        top = y + r * row_height
        cx = x
        for cell in row:
            if cell.label_width:
                c.rect(cx, top, cell.label_width, row_height, fill=LABEL_FILL, width=0.2)
                c.text(
                    cx + 1.5,
                    baseline(top, row_height, label_size),
                    cell.label,
                    label_size,
                    max_width=cell.label_width - 2.5,
                )
            vx = cx + cell.label_width
            c.rect(vx, top, cell.value_width, row_height, width=0.2)
            if cell.key:
                cells[cell.key] = Rect(vx, top, cell.value_width, row_height)
            if cell.value:
                c.text(
                    vx + 2,
                    baseline(top, row_height, value_size),
                    cell.value,
                    value_size,
                    max_width=cell.value_width - 3,
                )
            cx = vx + cell.value_width
    width = sum(cell.label_width + cell.value_width for cell in rows[0])
    c.rect(x, y, width, row_height * len(rows), width=frame)
    return cells


def table_cells(
    x: float, y: float, row_height: float, rows: Sequence[Sequence[Cell]]
) -> dict[str, Rect]:
    """The variable value cells `draw_table` would draw, by key, without drawing."""
    cells: dict[str, Rect] = {}
    for r, row in enumerate(rows):
        top = y + r * row_height
        cx = x
        for cell in row:
            cx += cell.label_width
            if cell.key:
                cells[cell.key] = Rect(cx, top, cell.value_width, row_height)
            cx += cell.value_width
    return cells


def value_slot(cell: Rect, size: float, face: Face = "gothic", *, pad: float = 2.0) -> Slot:
    """A slot for a variable value, left-aligned and vertically centred in its cell."""
    return Slot(cell.left + pad, baseline(cell.top, cell.height, size), size, face,
                max_width=cell.width - pad - 1)  # fmt: skip


def heading(c: Canvas, side: Rect, title: str, size: float, issuer: Issuer, *, rule: bool) -> None:
    """A letter's heading beside the envelope window: 健康保険, the title, the insurer."""
    c.text(side.left, 15.0, "健康保険", 11.0)
    c.text(side.left, 25.0, title, size, max_width=side.width)
    c.text(side.left, 32.0, issuer.name, 9.5, max_width=side.width)
    if rule:
        c.line(side.left, 34.5, side.right, 34.5, width=0.2, gray=0.5)


def contacts_beside_card(c: Canvas, box: Rect, issuer: Issuer) -> float:
    """■ お問い合わせ先 and the insurer's contact lines, beside a card; returns the next baseline."""
    y = box.top + 3.5
    c.text(box.left, y, "■ お問い合わせ先", 9.5)
    y += 5.0
    for line in issuer.contact_lines:
        y = c.paragraph(box.left + 1, y, box.width - 1, line, 8.3, leading=4.0)
    return y


# A list table's column: (heading, width in mm, alignment of the values). The last column
# is a check box (配付済, 回収済): it has no text.
Column = tuple[str, float, Align]


def column_edges(columns: Sequence[Column]) -> list[float]:
    """The columns' x from the left margin, both edges of each."""
    edges = [LEFT]
    for _h, width, _a in columns:
        edges.append(edges[-1] + width)
    return edges


def column_slots(
    columns: Sequence[Column], edges: Sequence[float], base: float, size: float
) -> tuple[Slot, ...]:
    """The text slots of one row with its baseline at `base` (none for the check box)."""
    slots = []
    for (_h, _w, align), x0, x1 in zip(columns[:-1], edges, edges[1:], strict=False):
        if align == "right":
            slots.append(Slot(x1 - 1.5, base, size, max_width=x1 - x0 - 2, align="right"))
        elif align == "center":
            slots.append(Slot((x0 + x1) / 2, base, size, max_width=x1 - x0 - 2, align="center"))
        else:
            slots.append(Slot(x0 + 1.5, base, size, max_width=x1 - x0 - 2.5))
    return tuple(slots)


def draw_column_heads(
    c: Canvas, columns: Sequence[Column], edges: Sequence[float], top: float, height: float
) -> None:
    """The gray head row of a list table, its headings centred."""
    c.rect(LEFT, top, RIGHT - LEFT, height, fill=0.88, width=0.3)
    for (heading_, _w, _a), x0, x1 in zip(columns, edges, edges[1:], strict=False):
        c.text((x0 + x1) / 2, baseline(top, height, 8.0), heading_, 8.0,
               align="center", max_width=x1 - x0 - 1)  # fmt: skip
        c.line(x1, top, x1, top + height, width=0.2)


def fold_marks(c: Canvas) -> None:
    """Short marks at the tri-fold lines (99 mm and 198 mm) on both edges."""
    for y in (99.0, 198.0):
        c.line(3.0, y, 8.0, y, width=0.3)
        c.line(202.0, y, 207.0, y, width=0.3)
