"""The public renderer: a Parcel or a MailingBatch in, one PDF file out; or certificates
in, a sheet of cards out.

Print order of a parcel, per container k: its label page; in container 1 only, the cover
letter (送付のご案内) and the distribution list (配付一覧); then the pieces of container k in
piece order: each notice followed by its マイナンバー登録申出書 page when it has one, or each
certificate's carrier letter (with the card on it, or a 「カード貼付位置」 frame when the
cards are printed on sheets: `card_layout="sheet"`, `render_card_sheet`). A mailing batch
is one letter per piece. A file holds one kind of piece.

Per process, a Renderer draws every document's fixed part once (Form XObjects) and subsets
the template fonts once; for each set of templates a file can use, the start of the file
(header, catalog, template fonts and templates, numbered and hashed) is prepared once too.
Per file it copies that start, writes one small content stream per page, and one font
subset per face for the variable text. Encoded strings and laid-out lines are shared by
the files of a process (only the glyphs a file uses are recorded per file).

Notices, certificates and return letters are three *families*: each has its own templates,
template subsets and shared caches, so a notice file carries none of the certificate's
glyphs (and the other way round). The other families than notices are built on first use.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from math import ceil
from threading import Lock
from typing import BinaryIO, Final, Literal

from shikaku.domain.window import Rect
from shikaku.render.canvas import (
    MEDIA_BOX,
    PAGE_FALLBACK,
    PAGE_FONTS,
    TEMPLATE_FALLBACK,
    TEMPLATE_FONTS,
    Canvas,
    OpsCache,
)
from shikaku.render.fonts import Face, FontPaths, FontSet
from shikaku.render.layouts import (
    cardsheet,
    certificate,
    common,
    cover,
    distribution,
    envelope,
    form,
    label,
    notice,
    returns,
)
from shikaku.render.layouts.cardsheet import CardSheetLayout
from shikaku.render.layouts.certificate import CardLayout, CertificateLayout
from shikaku.render.layouts.common import LayoutContext
from shikaku.render.layouts.cover import CoverLayout, ParcelCounts
from shikaku.render.layouts.distribution import DistributionLayout, ListRow
from shikaku.render.layouts.form import FormLayout
from shikaku.render.layouts.label import LabelLayout
from shikaku.render.layouts.notice import NoticeLayout
from shikaku.render.layouts.returns import ReturnLetterLayout
from shikaku.render.model import (
    CardLayoutMode,
    Certificate,
    DocumentKind,
    Issuer,
    MailingBatch,
    Notice,
    PageRange,
    Parcel,
    Piece,
    RenderResult,
    ReturnLetter,
    piece_kind,
    return_letter_text,
    variable_text,
)
from shikaku.render.pdf import PdfWriter, Prefix
from shikaku.render.pdffont import FontObjects, build_font
from shikaku.render.text import EncodeCache, GlyphUse, TextEncoder, UnprintableError

CardCorner = Literal["lower_left", "lower_right"]
# A family of documents with its own templates and template subsets (see _Family).
FamilyKind = Literal["notice", "certificate", "returns"]
_FACES: Final[tuple[Face, ...]] = ("gothic", "mincho")
_PRODUCER: Final = b"<</Producer(shikaku)>>"
# Object numbers every file starts with; the shared objects follow (see `_Start`).
_CATALOG, _PAGES, _RESOURCES = 1, 2, 3
_PARCEL_TEMPLATES: Final[dict[DocumentKind, frozenset[bytes]]] = {
    kind: frozenset({label.TEMPLATES[kind], cover.TEMPLATES[kind], distribution.TEMPLATES[kind]})
    for kind in ("notice", "certificate")
}
_BASE_TEXT: Final = (
    "0123456789 R" + "".join(chr(c) for c in range(0x30A1, 0x30F7)) + "ー〒〜（）、。「」・々　"
)
_PARCEL_WORDS: Final = (
    common.WORDS + envelope.WORDS + cover.WORDS + distribution.WORDS + label.WORDS
)
# Characters of the variable text kept in the template subset: what a string needs to be
# shown without the file's own subset. Digits and the letters of control codes
# (R000001-P0000012-0001), katakana (フリガナ; not the obsolete ヷヸヹヺ) and the fixed words
# of the window block, tables, cover letter, list and labels. Names bring kanji, so they go
# into the file's subset whole, with whatever kana or Latin letters they hold: carrying
# every ASCII letter and hiragana in every file would cost ~10 KB a file for nothing.
# One per family: a notice file does not carry the certificate's words, nor the reverse.
COMMON_TEXT: Final = _BASE_TEXT + "".join(_PARCEL_WORDS + notice.WORDS + form.WORDS)
CERTIFICATE_TEXT: Final = _BASE_TEXT + "".join(_PARCEL_WORDS + certificate.WORDS + cardsheet.WORDS)
# 資格確認書の返却のお願い: a family of its own (a few letters per run, no parcel).
RETURNS_TEXT: Final = _BASE_TEXT + "".join(common.WORDS + returns.WORDS)
FAMILY_TEXT: Final[dict[FamilyKind, str]] = {
    "notice": COMMON_TEXT,
    "certificate": CERTIFICATE_TEXT,
    "returns": RETURNS_TEXT,
}


class RenderError(ValueError):
    """A document cannot be printed as it is; the message names the piece (control)."""


@dataclass(frozen=True, slots=True)
class _Template:
    name: bytes  # resource name, e.g. b"/TN"
    content: bytes  # Flate-encoded content stream
    fonts: tuple[bytes, ...]  # template font resources it uses


@dataclass(frozen=True, slots=True)
class _Start:
    """How every file using one set of templates begins: header, catalog (object 1; 2 and
    3 are the page tree and the page resources, written at the end), then the template
    fonts and the templates themselves. Built, numbered and hashed once per process."""

    templates: frozenset[bytes]
    prefix: Prefix
    font_refs: dict[bytes, int]  # template font resource → Type0 font object number
    xobjects: bytes  # b"/TB 12 0 R/TC 13 0 R…" for the page resources


class _Family:
    """One kind of document (notices, certificates or return letters): its templates, the template font
    subsets they and the family's common text need, and what its files share (file starts,
    encoded strings, laid-out lines). Encodings and laid-out lines depend on the template
    subset, so each family has its own."""

    def __init__(
        self, kind: FamilyKind, fonts: FontSet, drawers: dict[bytes, Callable[[Canvas], None]]
    ) -> None:
        self.kind = kind
        self.templates: dict[bytes, _Template] = {}
        self.template_fonts: dict[bytes, FontObjects] = {}
        self._build(fonts, drawers, FAMILY_TEXT[kind])
        self.starts: dict[frozenset[bytes], _Start] = {}
        self.starts_lock = Lock()
        self.encoded: dict[Face, EncodeCache] = {face: {} for face in _FACES}
        self.ops = OpsCache()

    def _build(
        self, fonts: FontSet, drawers: dict[bytes, Callable[[Canvas], None]], text: str
    ) -> None:
        """Draw each fixed part once and subset the fonts they use (once per process)."""
        chars: dict[bytes, set[str]] = {res: set() for res in (*TEMPLATE_FONTS.values(),
                                                                TEMPLATE_FALLBACK)}  # fmt: skip
        for name, draw in drawers.items():
            fallback = GlyphUse(fonts.fallback, TEMPLATE_FALLBACK)
            uses = {face: GlyphUse(fonts.face(face), TEMPLATE_FONTS[face]) for face in _FACES}
            canvas = Canvas({face: TextEncoder(uses[face], fallback) for face in _FACES})
            draw(canvas)
            used = [u for u in (*uses.values(), fallback) if u.chars]
            for u in used:
                chars[u.resource].update(u.chars)
            self.templates[name] = _Template(
                name, zlib.compress(canvas.content(), 9), tuple(u.resource for u in used)
            )
        # The gothic template subset also carries what most variable strings need, so
        # those strings use it and each file's own subset holds little more than names.
        gothic = fonts.gothic.printable
        chars[TEMPLATE_FONTS["gothic"]].update(c for c in text if c in gothic)
        faces = {**{TEMPLATE_FONTS[f]: fonts.face(f) for f in _FACES},
                 TEMPLATE_FALLBACK: fonts.fallback}  # fmt: skip
        for res, cs in chars.items():
            if cs:
                self.template_fonts[res] = build_font(faces[res], cs, compress_outlines=True)
        self.template_chars = {face: frozenset(chars[TEMPLATE_FONTS[face]]) for face in _FACES}

    def start(self, templates: frozenset[bytes]) -> _Start:
        """The file start for this set of templates (built on first use)."""
        start = self.starts.get(templates)
        if start is None:
            w = PdfWriter(io.BytesIO())
            reserved = (w.alloc(), w.alloc(), w.alloc())
            if reserved != (_CATALOG, _PAGES, _RESOURCES):
                raise RuntimeError(f"unexpected object numbers {reserved}")
            w.obj(_CATALOG, b"<</Type/Catalog/Pages %d 0 R/Lang(ja-JP)>>" % _PAGES)
            font_refs: dict[bytes, int] = {}
            xobjects = self.write_templates(w, sorted(templates), font_refs)
            start = _Start(templates, w.prefix(), font_refs, xobjects)
            with self.starts_lock:
                start = self.starts.setdefault(templates, start)
        return start

    def write_templates(
        self, w: PdfWriter, names: Sequence[bytes], font_refs: dict[bytes, int]
    ) -> bytes:
        """Write the fonts `names` need that are not in `font_refs` yet, then the templates
        (Form XObjects); returns their entries for the page resources."""
        templates = [self.templates[name] for name in names]
        for res in sorted({res for t in templates for res in t.fonts} - font_refs.keys()):
            font_refs[res] = self.template_fonts[res].write(w)
        xobjects: list[bytes] = []
        for t in templates:
            num = w.alloc()
            fonts = b"".join(b"%s %d 0 R" % (res, font_refs[res]) for res in t.fonts)
            w.stream(
                num,
                t.content,
                b"/Type/XObject/Subtype/Form/BBox%s/Resources<</Font<<%s>>>>" % (MEDIA_BOX, fonts),
                flate=True,
            )
            xobjects.append(b"%s %d 0 R" % (t.name, num))
        return b"".join(xobjects)


class Renderer:
    """Renders parcels, mailing batches and card sheets for one insurer, window, card corner
    and card layout."""

    def __init__(
        self,
        fonts: FontSet,
        issuer: Issuer,
        window: Rect,
        card_corner: CardCorner = "lower_left",
        *,
        compress_pages: bool = False,
        card_layout: CardLayoutMode = "carrier",
        cards_per_sheet: int = cardsheet.MAX_PER_SHEET,
    ) -> None:
        if card_corner not in ("lower_left", "lower_right"):
            raise ValueError(f"card_corner must be lower_left or lower_right: {card_corner!r}")
        if card_layout not in ("carrier", "sheet"):
            raise ValueError(f"card_layout must be carrier or sheet: {card_layout!r}")
        self.fonts = fonts
        self.compress_pages = compress_pages
        self.card_layout = card_layout
        self.ctx = ctx = LayoutContext(issuer, window, card_corner)
        self.notice = NoticeLayout(ctx)
        self.form = FormLayout(ctx)
        self.cover = CoverLayout(ctx)
        self.label = LabelLayout(ctx)
        # one list per kind: its slots cache prefixes made for the family's template subset
        self.lists = {kind: DistributionLayout(ctx) for kind in _PARCEL_TEMPLATES}
        self.card = CardLayout(ctx)
        self.certificate = CertificateLayout(ctx, self.card, card_layout)
        self.card_sheet = CardSheetLayout(self.card, cards_per_sheet)
        self.returns = ReturnLetterLayout(ctx)
        self._families: dict[FamilyKind, _Family] = {}
        self._family_lock = Lock()
        self._family("notice")

    # ------------------------------------------------------------------ templates

    def _family(self, kind: FamilyKind) -> _Family:
        """The family's templates and caches, built on first use: a process that renders
        only notices never pays for the certificates' or the return letters'."""
        family = self._families.get(kind)
        if family is None:
            with self._family_lock:
                family = self._families.get(kind)
                if family is None:
                    family = self._families[kind] = _Family(kind, self.fonts, self._drawers(kind))
        return family

    def _drawers(self, kind: FamilyKind) -> dict[bytes, Callable[[Canvas], None]]:
        """What draws each template of the family, by resource name."""
        if kind == "returns":
            r = self.returns
            return {
                returns.HOME: r.draw_home_template,
                returns.EMPLOYER: r.draw_employer_template,
                returns.CONTINUED: r.draw_continued_template,
            }
        drawers: dict[bytes, Callable[[Canvas], None]] = {
            cover.TEMPLATES[kind]: partial(self.cover.draw_template, kind=kind),
            distribution.TEMPLATES[kind]: partial(self.lists[kind].draw_template, kind=kind),
            label.TEMPLATES[kind]: partial(self.label.draw_template, kind=kind),
        }
        if kind == "notice":
            drawers[notice.EMPLOYER] = partial(self.notice.draw_template, home=False)
            drawers[notice.HOME] = partial(self.notice.draw_template, home=True)
            drawers[form.TEMPLATE] = self.form.draw_template
            for state, name in notice.MY_NUMBER_BOX.items():
                drawers[name] = partial(self.notice.draw_my_number_box, state=state)
        else:
            letter = self.certificate
            drawers[certificate.EMPLOYER] = partial(letter.draw_template, home=False)
            drawers[certificate.HOME] = partial(letter.draw_template, home=True)
            drawers[certificate.SUPERSEDES] = letter.draw_supersedes
            drawers[certificate.CARD] = self.card.draw_template
            drawers[cardsheet.TEMPLATE] = self.card_sheet.draw_template
            for reason, name in certificate.REASON.items():
                drawers[name] = partial(letter.draw_reason, reason=reason)
        return drawers

    # ------------------------------------------------------------------ files

    def render_parcel(self, parcel: Parcel, out: BinaryIO) -> RenderResult:
        """One employer parcel as one PDF in print order (see the module docstring)."""
        pieces = [n for h in parcel.households for n in h.notices]
        kind = _kind(pieces, parcel.code)
        try:
            return self._parcel(parcel, pieces, kind, out)
        except RenderError:
            raise
        except (UnprintableError, ValueError, KeyError) as e:
            raise RenderError(f"{self._culprit(parcel, pieces)}: {e}") from e

    def _culprit(self, parcel: Parcel, pieces: Sequence[Piece]) -> str:
        """The control of the first piece with unprintable text, else the parcel's id.

        Only on the error path: the cover, list and label show names too.
        """
        for n in pieces:
            if self.fonts.unprintable("".join(variable_text(n))):
                return n.control
        e = parcel.employer
        if self.fonts.unprintable(e.name + e.address):
            return f"{parcel.code} 事業所 {e.symbol}"
        return parcel.code

    def _parcel(
        self, parcel: Parcel, pieces: list[Piece], kind: DocumentKind, out: BinaryIO
    ) -> RenderResult:
        _check_containers(parcel, len(pieces))
        family = self._family(kind)
        f = _PdfFile(self, family, out, _PARCEL_TEMPLATES[kind] | self._templates(pieces))
        list_pages = distribution.paginate(_list_rows(parcel))
        counts = ParcelCounts(
            insured=sum(1 for n in pieces if n.relationship == 1),
            dependents=sum(1 for n in pieces if n.relationship != 1),
            forms=sum(1 for n in pieces if n.needs_registration_form),
            boxes=sum(1 for c in parcel.containers if c.kind == "box"),
            envelopes=sum(1 for c in parcel.containers if c.kind != "box"),
            list_pages=len(list_pages),
        )
        container_pages: list[PageRange] = []
        piece_pages: list[PageRange] = []
        label_, list_ = self.label, self.lists[kind]
        label_template = label.TEMPLATES[kind]
        address = label_.address_block(f.canvas(), parcel)
        for k, container in enumerate(parcel.containers):
            first = f.page_count + 1
            c = f.canvas()
            label_.draw_page(c, parcel, container, address)
            f.add_page(c.content(), label_template)
            if k == 0:
                c = f.canvas()
                self.cover.draw_page(c, parcel, counts)
                f.add_page(c.content(), cover.TEMPLATES[kind])
                for p, chunk in enumerate(list_pages, 1):
                    c = f.canvas()
                    list_.draw_page(c, parcel, chunk, p, len(list_pages))
                    f.add_page(c.content(), distribution.TEMPLATES[kind])
            piece_pages += self._pieces(f, pieces[container.first_piece - 1 : container.last_piece])
            container_pages.append(PageRange(first, f.page_count))
        return f.finish(tuple(container_pages), tuple(piece_pages))

    def render_batch(self, batch: MailingBatch, out: BinaryIO) -> RenderResult:
        """Home-delivered letters: one notice (and 申出書) or one certificate letter per
        letter, in the given order."""
        kind = _kind(batch.notices, batch.code)
        f = _PdfFile(self, self._family(kind), out, self._templates(batch.notices))
        pieces = tuple(self._pieces(f, batch.notices))
        return f.finish(pieces, pieces)

    def render_card_sheet(self, certificates: Sequence[Certificate], out: BinaryIO) -> RenderResult:
        """資格確認書 cards n-up on A4 sheets (`cards_per_sheet` a sheet), in the given order.

        `container_pages` has one range per sheet; `piece_pages[i]` is the sheet of the
        i-th card. Errors name the certificate's control, as for letters.
        """
        if not certificates:
            raise RenderError("資格確認書がありません (no certificates to print)")
        for p in certificates:
            if not isinstance(p, Certificate):
                raise RenderError(f"{p.control}: 資格確認書ではありません (not a Certificate)")
        sheet = self.card_sheet
        per = sheet.per_sheet
        f = _PdfFile(self, self._family("certificate"), out,
                     frozenset({cardsheet.TEMPLATE, certificate.CARD}))  # fmt: skip
        enc = f.encoders["gothic"]
        placed = self.card.placed
        pages = ceil(len(certificates) / per)
        piece_pages: list[PageRange] = []
        for i in range(pages):
            chunk = certificates[i * per : (i + 1) * per]
            cards = []
            for p, (x, y) in zip(chunk, sheet.positions, strict=False):
                try:
                    cards.append(placed(enc, p, x, y))
                except (UnprintableError, ValueError, KeyError) as e:
                    raise RenderError(f"{p.control}: {e}") from e
            try:
                page = f.add_page(
                    sheet.page(enc, cards, chunk[0].control, chunk[-1].control, i + 1, pages),
                    cardsheet.TEMPLATE,
                )
            except (UnprintableError, ValueError, KeyError) as e:
                raise RenderError(f"{chunk[0].control}〜{chunk[-1].control}: {e}") from e
            f.templates.add(certificate.CARD)
            piece_pages += [PageRange(page, page)] * len(chunk)
        sheets = tuple(PageRange(n, n) for n in range(1, pages + 1))
        return f.finish(sheets, tuple(piece_pages))

    def render_return_letters(self, letters: Sequence[ReturnLetter], out: BinaryIO) -> RenderResult:
        """資格確認書の返却のお願い, one letter after another, in the given order.

        `piece_pages` and `container_pages` have one range per letter (a home letter is one
        page; an employer letter as many as its table needs). Errors name the letter's
        control and, when a name cannot be printed, the certificate's 記号-番号-枝番.
        """
        if not letters:
            raise RenderError("返却のお願いがありません (no return letters to print)")
        layout = self.returns
        templates: set[bytes] = set()
        for letter in letters:
            templates |= layout.templates(letter)
        f = _PdfFile(self, self._family("returns"), out, frozenset(templates))
        ranges: list[PageRange] = []
        for letter in letters:
            first = f.page_count + 1
            try:
                if letter.delivery == "home":
                    c = f.canvas()
                    layout.home_page(c, letter)
                    f.add_page(c.content(), returns.HOME)
                else:
                    pages = returns.paginate(letter.items)
                    no = 1
                    for k, rows in enumerate(pages, 1):
                        c = f.canvas()
                        layout.employer_page(c, letter, rows, no, k, len(pages))
                        f.add_page(c.content(), returns.EMPLOYER if k == 1 else returns.CONTINUED)
                        no += len(rows)
            except (UnprintableError, ValueError, KeyError) as e:
                raise RenderError(f"{self._return_culprit(letter)}: {e}") from e
            ranges.append(PageRange(first, f.page_count))
        return f.finish(tuple(ranges), tuple(ranges))

    def _return_culprit(self, letter: ReturnLetter) -> str:
        """The letter's control, with the item or employer whose text cannot be printed."""
        unprintable = self.fonts.unprintable
        for item in letter.items:
            if unprintable(item.name + item.symbol + item.number + item.branch):
                return f"{letter.control} {item.symbol}-{item.number}-{item.branch}"
        e = letter.employer
        if e is not None and unprintable(e.name + e.address + e.postal_code):
            return f"{letter.control} 事業所 {e.symbol}"
        if unprintable("".join(return_letter_text(letter))):
            return f"{letter.control} 宛先"
        return letter.control

    def _templates(self, pieces: Sequence[Piece]) -> frozenset[bytes]:
        """The templates the pages of these pieces use."""
        if pieces and isinstance(pieces[0], Certificate):
            return _certificate_templates(self.certificate, pieces)
        return _notice_templates(pieces)

    def _pieces(self, f: _PdfFile, pieces: Sequence[Piece]) -> list[PageRange]:
        if f.family.kind == "certificate":
            return self._certificates(f, pieces)
        return self._notices(f, pieces)

    def _notices(self, f: _PdfFile, notices: Iterable[Piece]) -> list[PageRange]:
        """Each notice page, then its 申出書 page if it has one; the page range of each."""
        ranges = []
        enc = f.encoders["gothic"]
        layout = self.notice
        form_page = self.form.page
        add = f.add_page
        used = f.templates
        for n in notices:
            try:
                if not isinstance(n, Notice):
                    raise ValueError("1つのファイルに異なる種類の書類があります (mixed kinds)")
                first = add(layout.page(enc, n))
                used.add(notice.HOME if n.delivery == "home" else notice.EMPLOYER)
                used.add(notice.MY_NUMBER_BOX[n.my_number_state])
                last = first
                if n.needs_registration_form:
                    last = add(form_page(enc, n))
                    used.add(form.TEMPLATE)
            except (UnprintableError, ValueError, KeyError) as e:
                raise RenderError(f"{n.control}: {e}") from e
            ranges.append(PageRange(first, last))
        return ranges

    def _certificates(self, f: _PdfFile, pieces: Iterable[Piece]) -> list[PageRange]:
        """Each certificate's carrier letter (one page); the page of each."""
        ranges = []
        enc = f.encoders["gothic"]
        layout = self.certificate
        add = f.add_page
        used = f.templates
        for p in pieces:
            try:
                if not isinstance(p, Certificate):
                    raise ValueError("1つのファイルに異なる種類の書類があります (mixed kinds)")
                page = add(layout.page(enc, p))
                used.update(layout.templates(p))
            except (UnprintableError, ValueError, KeyError) as e:
                raise RenderError(f"{p.control}: {e}") from e
            ranges.append(PageRange(page, page))
        return ranges


_RENDERERS: dict[tuple[FontPaths, Issuer, Rect, str, bool, str, int], Renderer] = {}
_RENDERERS_LOCK: Final = Lock()


def renderer_for(
    issuer: Issuer,
    window: Rect,
    card_corner: CardCorner = "lower_left",
    *,
    font_paths: FontPaths = FontPaths(),
    compress_pages: bool = False,
    card_layout: CardLayoutMode = "carrier",
    cards_per_sheet: int = cardsheet.MAX_PER_SHEET,
) -> Renderer:
    """The process's Renderer for these settings, built on first use.

    A Renderer holds memory-mapped fonts and is not picklable: a Dask task carries the
    (small, frozen) settings and calls this in the worker, which then reuses its fonts,
    templates and glyph caches for every file it renders.
    """
    key = (font_paths, issuer, window, card_corner, compress_pages, card_layout, cards_per_sheet)
    with _RENDERERS_LOCK:
        r = _RENDERERS.get(key)
        if r is None:
            r = Renderer(FontSet.load(font_paths), issuer, window, card_corner,
                         compress_pages=compress_pages, card_layout=card_layout,
                         cards_per_sheet=cards_per_sheet)  # fmt: skip
            _RENDERERS[key] = r
        return r


class _PdfFile:
    """One output file being written: the shared start, pages as they come, then the
    file's own font subsets, the resources and the page tree."""

    def __init__(
        self, renderer: Renderer, family: _Family, out: BinaryIO, templates: frozenset[bytes]
    ) -> None:
        self.r = renderer
        self.family = family
        self.start = start = family.start(templates)
        self.w = PdfWriter(out, start.prefix)
        fonts = renderer.fonts
        self.fallback = GlyphUse(fonts.fallback, PAGE_FALLBACK)
        self.uses = {face: GlyphUse(fonts.face(face), PAGE_FONTS[face]) for face in _FACES}
        self.encoders = {
            face: TextEncoder(
                self.uses[face],
                self.fallback,
                TEMPLATE_FONTS[face],
                family.template_chars[face],
                family.encoded[face],
            )
            for face in _FACES
        }
        self.kids: list[int] = []
        self.templates: set[bytes] = set()
        self._page_dict = b"/Type/Page/Parent %d 0 R/Resources %d 0 R" % (_PAGES, _RESOURCES)

    @property
    def page_count(self) -> int:
        return len(self.kids)

    def canvas(self) -> Canvas:
        return Canvas(self.encoders, self.family.ops)

    def add_page(self, content: bytes, template: bytes | None = None) -> int:
        """Write one page (its content stream and dictionary); returns its number."""
        if template is not None:
            self.templates.add(template)
        flate = self.r.compress_pages
        if flate:
            content = zlib.compress(content, 6)
        self.kids.append(self.w.page(content, self._page_dict, flate=flate))
        return len(self.kids)

    def finish(
        self, container_pages: tuple[PageRange, ...], piece_pages: tuple[PageRange, ...]
    ) -> RenderResult:
        w = self.w
        family = self.family
        start = self.start
        font_refs = start.font_refs
        xobjects = start.xobjects
        late = sorted(self.templates - start.templates)
        page_template_fonts = [
            TEMPLATE_FONTS[f] for f, e in self.encoders.items() if e.template_used
        ]
        if late or not font_refs.keys() >= set(page_template_fonts):
            # not foreseen by the file's start (never in practice): written here
            font_refs = dict(font_refs)
            xobjects += family.write_templates(w, late, font_refs)
            for res in page_template_fonts:
                if res not in font_refs:
                    font_refs[res] = family.template_fonts[res].write(w)
        page_fonts = [b"%s %d 0 R" % (res, font_refs[res]) for res in page_template_fonts]
        for use in (*self.uses.values(), self.fallback):
            if use.chars:
                num = build_font(use.font, use.chars).write(w)
                page_fonts.append(b"%s %d 0 R" % (use.resource, num))
        w.obj(
            _RESOURCES,
            b"<</Font<<%s>>/XObject<<%s>>>>" % (b"".join(page_fonts), xobjects),
        )
        kids = b" ".join(b"%d 0 R" % k for k in self.kids)
        w.obj(
            _PAGES,
            b"<</Type/Pages/Kids[%s]/Count %d/MediaBox%s>>" % (kids, len(self.kids), MEDIA_BOX),
        )
        info = w.alloc()
        w.obj(info, _PRODUCER)
        w.close(_CATALOG, info)
        return RenderResult(
            pages=len(self.kids),
            container_pages=container_pages,
            piece_pages=piece_pages,
            sha256=w.sha256,
            size=w.size,
        )


def _kind(pieces: Sequence[Piece], file: str) -> DocumentKind:
    """The one kind of piece a file holds."""
    kinds = {piece_kind(p) for p in pieces}
    if len(kinds) > 1:
        raise RenderError(
            f"{file}: 1つのファイルにお知らせと資格確認書が混在しています "
            "(a file holds notices or certificates, not both)"
        )
    return kinds.pop() if kinds else "notice"


def _notice_templates(notices: Iterable[Piece]) -> frozenset[bytes]:
    """The templates the pages of these notices use (as `Renderer._notices` draws them)."""
    names = set()
    for n in notices:
        if not isinstance(n, Notice):
            continue  # refused when its page is drawn
        names.add(notice.HOME if n.delivery == "home" else notice.EMPLOYER)
        box = notice.MY_NUMBER_BOX.get(n.my_number_state)
        if box is not None:  # an unknown state fails when its page is drawn
            names.add(box)
        if n.needs_registration_form:
            names.add(form.TEMPLATE)
    return frozenset(names)


def _certificate_templates(layout: CertificateLayout, pieces: Iterable[Piece]) -> frozenset[bytes]:
    """The templates the letters of these certificates use."""
    names: set[bytes] = set()
    for p in pieces:
        if isinstance(p, Certificate) and p.reason in certificate.REASON:
            names.update(layout.templates(p))  # an unknown reason fails when drawn
    return frozenset(names)


def _check_containers(parcel: Parcel, pieces: int) -> None:
    """Containers must hold pieces 1..n once each, in order."""
    expected = 1
    for c in parcel.containers:
        if c.first_piece != expected or c.last_piece < c.first_piece:
            raise RenderError(
                f"箱・封筒の通番が連続していません: {c.index} / {c.count} "
                f"(No. {c.first_piece}〜{c.last_piece}, expected from {expected})"
            )
        expected = c.last_piece + 1
    if expected - 1 != pieces or not parcel.containers:
        raise RenderError(
            f"箱・封筒の通数 {expected - 1} が封筒の数 {pieces} と一致しません "
            "(containers do not cover every piece)"
        )


def _list_rows(parcel: Parcel) -> Sequence[ListRow]:
    """Distribution-list rows in piece order, with each piece's container."""
    containers = parcel.containers
    rows: list[ListRow] = []
    piece = 0
    k = 0
    for household in parcel.households:
        for i, n in enumerate(household.notices):
            piece += 1
            while containers[k].last_piece < piece:
                k += 1
            rows.append(ListRow(piece, n, containers[k], i == 0))
    return rows
