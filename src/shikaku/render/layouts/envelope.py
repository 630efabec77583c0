"""What shows through the 長3 envelope's window, shared by every letter folded into one.

For an employer parcel, three lines centred in the window: `(記号)… (番号)…`,
`(被保険者氏名)… 様`, `(対象者氏名)… 様`. For home delivery, 〒, the address (up to three
lines), the addressee and the customer barcode; the three name lines then go beside the
window, under the title (`side`). Lines too wide are set smaller, never clipped.
"""

from __future__ import annotations

from typing import Final, Protocol

from shikaku.domain.barcode import GEOMETRY_10PT, Barcode
from shikaku.domain.window import Rect
from shikaku.render.canvas import BarcodeStamp, Slot
from shikaku.render.layouts.common import LEFT, PT_MM, RIGHT, postal
from shikaku.render.model import Piece
from shikaku.render.text import TextEncoder, wrap

WORDS: Final = ("(記号) (番号)", "(被保険者氏名)", "(対象者氏名) 様")
ADDRESS_SIZE: Final = 10.5


class Addressed(Protocol):
    """What a home letter's window shows: a notice, a certificate or a return letter."""

    @property
    def postal_code(self) -> str | None: ...
    @property
    def address(self) -> str | None: ...
    @property
    def addressee(self) -> str | None: ...
    @property
    def barcode(self) -> Barcode | None: ...


class WindowBlock:
    """Slots of the window block for one window position (built once per Renderer)."""

    def __init__(self, window: Rect) -> None:
        w = self.window = window
        # The title goes beside the window, on whichever side has more room.
        if w.left + w.width / 2 <= 105:
            self.side = Rect(max(w.right + 6, 100.0), 8.0, RIGHT - max(w.right + 6, 100.0), 40.0)
        else:
            self.side = Rect(LEFT, 8.0, min(w.left - 6, 110.0) - LEFT, 40.0)
        inner = w.width - 3
        x = w.left + 1.5
        # employer parcel: three lines centred vertically in the window
        size = 11.0
        em = size * PT_MM
        leading = min(8.5, (w.height - em - 2) / 2)
        top = w.top + (w.height - (2 * leading + em)) / 2
        first = top + 0.88 * em
        self.win = tuple(Slot(x, first + i * leading, size, max_width=inner) for i in range(3))

        # home delivery: 〒, up to three address lines, addressee, barcode
        self.home_postal = Slot(x, w.top + 4.3, 10.0, max_width=inner)
        self.home_address = tuple(
            Slot(x, w.top + 9.4 + i * 4.8, ADDRESS_SIZE, max_width=inner) for i in range(3)
        )
        self.home_addressee: list[Slot] = []
        self.home_barcode: list[BarcodeStamp] = []
        for lines in (1, 2, 3):
            y = w.top + 9.4 + (lines - 1) * 4.8 + 6.6
            self.home_addressee.append(Slot(x, y, 12.0, max_width=inner))
            stamp = BarcodeStamp(0, 0, GEOMETRY_10PT)
            left = w.left + (w.width - stamp.width) / 2
            self.home_barcode.append(BarcodeStamp(left, y + 2.6 + 3.6, GEOMETRY_10PT))
        self.address_width = inner

        # home delivery: the names block beside the window, under the title
        s = self.side
        self.names = tuple(Slot(s.left, 39.0 + i * 4.6, 8.5, max_width=s.width) for i in range(3))

    def address_lines(self, enc: TextEncoder, p: Addressed) -> list[str]:
        """The address wrapped to the window (at most three lines)."""
        if not (p.postal_code and p.address and p.addressee):
            raise ValueError("自宅送付には郵便番号・住所・宛名が必要です (home delivery address)")
        width = self.address_width / PT_MM * 1000 / ADDRESS_SIZE
        lines = wrap(p.address, width, enc.measure, enc.char_widths)
        if len(lines) > len(self.home_address):
            raise ValueError("住所が長く、封筒の窓に収まりません (address does not fit the window)")
        return lines

    def home_window(self, enc: TextEncoder, p: Addressed, lines: list[str]) -> list[bytes]:
        """〒, address lines and addressee (inside BT … ET)."""
        out = [self.home_postal.emit(enc, postal(p.postal_code or ""))]
        out += [slot.emit(enc, line) for slot, line in zip(self.home_address, lines, strict=False)]
        out.append(self.home_addressee[len(lines) - 1].emit_parts(enc, p.addressee or "", " 様"))
        return out

    def names_block(self, enc: TextEncoder, p: Piece, home: bool) -> list[bytes]:
        """The 記号・番号 and names: in the window, or beside it for home delivery."""
        slots = self.names if home else self.win
        return [
            slots[0].emit_parts(enc, "(記号)", p.symbol, " (番号)", p.number),
            slots[1].emit_parts(enc, "(被保険者氏名)", p.insured_name, " 様"),
            slots[2].emit_parts(enc, "(対象者氏名)", p.name, " 様"),
        ]

    def barcode(self, p: Addressed, lines: list[str]) -> bytes:
        """The customer barcode under the addressee (home delivery), or nothing."""
        if p.barcode is None:
            return b""
        return self.home_barcode[len(lines) - 1].ops(p.barcode.bars)
