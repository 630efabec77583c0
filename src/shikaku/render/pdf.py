"""A small deterministic PDF writer: objects go out in order, then the xref and trailer.

No timestamps, /Producer "shikaku", and a file /ID taken from the SHA-256 of everything
written before the trailer, so the same input gives byte-identical files. Bytes are
buffered in ~1 MiB chunks and hashed as they are handed to `out`, which may be any
writable binary file object (a local file, an fsspec file, a BytesIO).

A file may start from a `Prefix`: bytes that many files begin with (the header and the
shared objects), with their offsets and the SHA-256 state after them, prepared once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Final

if TYPE_CHECKING:
    from hashlib import _Hash

PDF_HEADER: Final = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
_FLUSH_AT: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class Prefix:
    """The start of a file, ready to reuse: its bytes (header included), the offsets of
    the objects it holds (index = object number) and the SHA-256 state after it."""

    data: bytes
    offsets: tuple[int, ...]
    hash: _Hash


class PdfWriter:
    """Writes numbered objects sequentially and remembers their offsets for the xref."""

    def __init__(self, out: BinaryIO, prefix: Prefix | None = None) -> None:
        self._out = out
        if prefix is None:
            self._hash = hashlib.sha256()
            self._buffer: list[bytes] = [PDF_HEADER]
            self._offsets: list[int] = [0]  # index = object number; 0 is the free-list head
            self._hashed = 0  # leading bytes of the buffer already in the hash
        else:
            self._hash = prefix.hash.copy()
            self._buffer = [prefix.data]
            self._offsets = list(prefix.offsets)
            self._hashed = len(prefix.data)
        self._buffered = self._pos = len(self._buffer[0])  # bytes written, flushed or not
        self.size = 0
        self.sha256 = ""

    def prefix(self) -> Prefix:
        """Everything written so far as a reusable `Prefix` (before any flush). Objects
        reserved but not yet written stay reserved in every file that starts with it."""
        if self._pos != self._buffered:
            raise RuntimeError("a prefix must still be buffered")
        data = b"".join(self._buffer)
        h = self._hash.copy()
        h.update(memoryview(data)[self._hashed :])
        return Prefix(data, tuple(self._offsets), h)

    def alloc(self) -> int:
        """Reserve the next object number (written later with `obj` or `stream`)."""
        self._offsets.append(-1)
        return len(self._offsets) - 1

    def _emit(self, data: bytes) -> None:
        self._buffer.append(data)
        self._buffered += len(data)
        self._pos += len(data)
        if self._buffered >= _FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            chunk = b"".join(self._buffer)
            if self._hashed:
                self._hash.update(memoryview(chunk)[self._hashed :])
                self._hashed = 0
            else:
                self._hash.update(chunk)
            self._out.write(chunk)
            self._buffer = []
            self._buffered = 0

    def obj(self, num: int, body: bytes) -> None:
        """Object `num` with a dictionary, array or other direct body."""
        self._offsets[num] = self._pos
        self._emit(b"%d 0 obj\n%s\nendobj\n" % (num, body))

    def stream(self, num: int, data: bytes, entries: bytes = b"", *, flate: bool = False) -> None:
        """Stream object `num`; `entries` are extra dictionary entries (no /Length)."""
        self._offsets[num] = self._pos
        flt = b"/Filter/FlateDecode" if flate else b""
        self._emit(
            b"%d 0 obj\n<<%s%s/Length %d>>\nstream\n%s\nendstream\nendobj\n"
            % (num, entries, flt, len(data), data)
        )

    def page(self, content: bytes, page_dict: bytes, *, flate: bool = False) -> int:
        """A page's content stream and its page dictionary in one go; returns the page's
        object number. `page_dict` holds the entries other than /Contents."""
        offsets = self._offsets
        c = len(offsets)
        head = b"%d 0 obj\n<<%s/Length %d>>\nstream\n" % (
            c,
            b"/Filter/FlateDecode" if flate else b"",
            len(content),
        )
        tail = b"\nendstream\nendobj\n%d 0 obj\n<<%s/Contents %d 0 R>>\nendobj\n" % (
            c + 1,
            page_dict,
            c,
        )
        pos = self._pos
        offsets.append(pos)
        offsets.append(pos + len(head) + len(content) + 18)  # after "\nendstream\nendobj\n"
        size = len(head) + len(content) + len(tail)
        self._buffer += (head, content, tail)
        self._buffered += size
        self._pos = pos + size
        if self._buffered >= _FLUSH_AT:
            self._flush()
        return c + 1

    def close(self, root: int, info: int) -> None:
        """Write the xref and trailer and flush; sets `size` and `sha256`."""
        missing = [n for n, off in enumerate(self._offsets) if off < 0]
        if missing:
            raise RuntimeError(f"PDF objects reserved but never written: {missing[:5]}")
        self._flush()
        file_id = self._hash.copy().hexdigest()[:32].encode()
        xref_at = self._pos
        count = len(self._offsets)
        xref = [b"xref\n0 %d\n0000000000 65535 f \n" % count]
        xref += [b"%010d 00000 n \n" % off for off in self._offsets[1:]]
        xref.append(
            b"trailer\n<</Size %d/Root %d 0 R/Info %d 0 R/ID [<%s><%s>]>>\nstartxref\n%d\n%%%%EOF\n"
            % (count, root, info, file_id, file_id, xref_at)
        )
        self._emit(b"".join(xref))
        self._flush()
        self.size = self._pos
        self.sha256 = self._hash.hexdigest()


def pdf_name(text: str) -> bytes:
    """A PDF name from ASCII letters, digits, '-', '+' and '_' (font names and the like)."""
    return b"/" + "".join(c for c in text if c.isascii() and (c.isalnum() or c in "-+_")).encode()
