"""What the renderer is given: the frozen, printable data of one file (a parcel or a mailing
batch), already checked against the fonts. Plain values only, so a Dask task can carry them.

A file holds one kind of piece: 資格情報のお知らせ (`Notice`) or 資格確認書 (`Certificate`).
The issuance layer builds these from the ledger; the renderer never reads the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from shikaku.domain.barcode import Barcode
from shikaku.domain.certificate import CertificateReason as CertificateReason
from shikaku.domain.identifiers import partition_code

MyNumberState = Literal["registered", "none", "needs_check"]
Delivery = Literal["employer", "home"]
ContainerKind = Literal["envelope", "box", "letter"]
DocumentKind = Literal["notice", "certificate"]
# Setting certificates.card_layout: the card printed on its carrier letter, or n-up on
# card stock (render_card_sheet) with a 「カード貼付位置」 frame on the letter.
CardLayoutMode = Literal["carrier", "sheet"]
# Why a person receives a 資格確認書 (the carrier letter explains it): the domain's list,
# the single source of the values (domain.certificate.CertificateReason).
CERTIFICATE_REASONS: Final[tuple[CertificateReason, ...]] = tuple(CertificateReason)


@dataclass(frozen=True, slots=True)
class Issuer:
    """The insurer as printed on every document (settings [insurer])."""

    insurer_number: str
    name: str
    short_name: str
    contact_lines: tuple[str, ...]
    my_number_dial: str
    my_number_dial_label: str


@dataclass(frozen=True, slots=True)
class Notice:
    """One person's 資格情報のお知らせ, exactly as printed (the ledger's frozen target)."""

    control: str  # printed small in the margin: run, partition, piece ("R000001-P0000012-0003")
    symbol: str
    number: str
    branch: str
    relationship: int  # 1 被保険者 (本人), 2 被扶養者 (家族)
    name: str
    name_kana: str
    birth_date: date
    sex: int | None  # 1 男, 2 女; None when the insurer omits 性別 (policy notice_shows_sex)
    eligible_from: date
    copay_rate: int  # percent: 20 or 30
    my_number_state: MyNumberState
    my_number_last4: str | None  # only when my_number_state == "registered"
    insured_name: str  # the 被保険者 of this person's household (the person themself if insured)
    delivery: Delivery
    postal_code: str | None = None  # home delivery only: the window shows the address
    address: str | None = None
    addressee: str | None = None  # home delivery: whom the letter is addressed to
    barcode: Barcode | None = None  # home delivery, when the address encodes

    @property
    def needs_registration_form(self) -> bool:
        """No verified My Number on file: a マイナンバー登録申出書 page follows the notice."""
        return self.my_number_state != "registered"


@dataclass(frozen=True, slots=True)
class Certificate:
    """One person's 資格確認書 (card, ID-1) and its carrier letter, exactly as printed.

    Dates are printed in 和暦 like the notice's. The 70-74 fields (`effective_from`,
    `copay_rate`) and `cap_category` are printed only when given: the caller passes the
    限度額適用区分 only when the person asked for it.
    """

    control: str  # same format as Notice.control ("R000001-P0000012-0003")
    symbol: str
    number: str
    branch: str
    relationship: int  # 1 被保険者 (本人), 2 被扶養者 (家族)
    name: str
    name_kana: str
    birth_date: date
    sex: int | None  # 1 男, 2 女; None: 性別 not printed (label neither)
    insured_name: str  # the 被保険者 of this person's household (printed for 家族)
    issued_on: date  # 交付年月日
    valid_until: date  # 有効期限 (last valid day)
    reason: CertificateReason  # why it is sent: the carrier letter explains it
    delivery: Delivery
    effective_from: date | None = None  # 発効期日: 70-74 only
    copay_rate: int | None = None  # percent (20, 30): 70-74 only
    cap_category: str | None = None  # 限度額適用区分 label ("区分ウ"); only when asked for
    supersedes: bool = False  # a previous certificate is now invalid (destroy / return it)
    postal_code: str | None = None  # home delivery only: the window shows the address
    address: str | None = None
    addressee: str | None = None
    barcode: Barcode | None = None

    @property
    def needs_registration_form(self) -> bool:
        """Never: a certificate goes without マイナンバー登録申出書."""
        return False


# A piece of a file: one individual envelope (employer) or one letter (home).
Piece = Notice | Certificate


def piece_kind(piece: Piece) -> DocumentKind:
    return "certificate" if isinstance(piece, Certificate) else "notice"


def variable_text(piece: Piece) -> tuple[str, ...]:
    """Every string of a piece that is printed as given (names, address, labels): what
    the glyph check must pass before a run (`FontSet.unprintable`)."""
    texts = [piece.name, piece.name_kana, piece.insured_name, piece.symbol, piece.number,
             piece.branch, piece.control]  # fmt: skip
    if isinstance(piece, Certificate) and piece.cap_category is not None:
        texts.append(piece.cap_category)
    for extra in (piece.postal_code, piece.address, piece.addressee):
        if extra is not None:
            texts.append(extra)
    return tuple(texts)


@dataclass(frozen=True, slots=True)
class Employer:
    symbol: str
    name: str
    postal_code: str
    address: str
    phone: str | None


@dataclass(frozen=True, slots=True)
class Container:
    """An outer envelope or box of an employer parcel (or, for home delivery, one letter)."""

    kind: ContainerKind
    index: int  # 1-based: "container k of n"
    count: int  # n
    first_piece: int  # 1-based piece numbers within the file, inclusive
    last_piece: int
    barcode: Barcode | None


@dataclass(frozen=True, slots=True)
class Household:
    """An insured person's own piece first, then their dependents' by 枝番.

    `notices` holds the pieces (historical name): all `Notice` or all `Certificate`.
    """

    notices: tuple[Piece, ...]


@dataclass(frozen=True, slots=True)
class Parcel:
    """One employer's parcel: one PDF file, in print order (see render.documents)."""

    run_label: str  # e.g. "R000001" (shown on the cover letter and labels)
    partition: int
    issued_on: date  # 作成日 printed on the cover letter
    extraction_date: date
    employer: Employer
    households: tuple[Household, ...]
    containers: tuple[Container, ...]  # pieces = notices, numbered in household order

    @property
    def code(self) -> str:
        """The parcel's 管理番号, R000001-P0000001."""
        return partition_code(self.run_label, self.partition)

    @property
    def kind(self) -> DocumentKind:
        """What the parcel carries (its first piece's kind; a file holds one kind)."""
        for h in self.households:
            for p in h.notices:
                return piece_kind(p)
        return "notice"


@dataclass(frozen=True, slots=True)
class MailingBatch:
    """Home-delivered letters of one postal area (任意継続): one PDF, one letter per notice."""

    run_label: str
    partition: int
    issued_on: date
    extraction_date: date
    area: str  # leading digits of the postal code shared by the batch
    notices: tuple[Piece, ...]  # in postal-code order: all Notice or all Certificate

    @property
    def code(self) -> str:
        """The batch's 管理番号, R000001-P0000001."""
        return partition_code(self.run_label, self.partition)

    @property
    def kind(self) -> DocumentKind:
        return piece_kind(self.notices[0]) if self.notices else "notice"


@dataclass(frozen=True, slots=True)
class PageRange:
    first: int  # 1-based, inclusive
    last: int


@dataclass(frozen=True, slots=True)
class RenderResult:
    """Small, picklable: what a task returns instead of PDF bytes."""

    pages: int
    # For a Parcel: one per container (label + its pieces, plus cover letter and list in the
    # first). For a MailingBatch: one per letter. For a card sheet: one per sheet.
    container_pages: tuple[PageRange, ...]
    # One per piece: a notice (with its 申出書 page when it has one) or a certificate's
    # carrier letter; for a card sheet, the sheet page its card is on.
    piece_pages: tuple[PageRange, ...]
    sha256: str
    size: int


# --------------------------------------------------------------------------- 返却のお願い


@dataclass(frozen=True, slots=True)
class ReturnItem:
    """One 資格確認書 to come back: the holder lost eligibility before its 有効期限."""

    symbol: str
    number: str
    branch: str
    name: str
    issued_on: date  # 交付年月日
    valid_until: date  # 有効期限
    lost_on: date  # 資格喪失日


@dataclass(frozen=True, slots=True)
class ReturnLetter:
    """資格確認書の返却のお願い: one letter, A4, folded into the 長3 window envelope.

    Home delivery (`delivery="home"`): one item, addressed to the holder (`postal_code`,
    `address`, `addressee`, `barcode` in the window). Employer delivery: every item of one
    employer (`employer` in the window), as a table over as many pages as it needs.
    """

    control: str  # printed small in the margin ("R000003-返却-000042")
    delivery: Delivery
    issued_on: date  # 作成日
    items: tuple[ReturnItem, ...]
    employer: Employer | None = None  # employer delivery
    postal_code: str | None = None  # home delivery: the window shows the address
    address: str | None = None
    addressee: str | None = None
    barcode: Barcode | None = None  # the window's customer barcode, when the address encodes


def return_letter_text(letter: ReturnLetter) -> tuple[str, ...]:
    """Every string of a return letter printed as given: what `FontSet.unprintable` must
    pass (the issuance layer leaves out what it cannot print)."""
    texts = [letter.control]
    for item in letter.items:
        texts += [item.symbol, item.number, item.branch, item.name]
    if letter.employer is not None:
        texts += [letter.employer.symbol, letter.employer.name, letter.employer.postal_code,
                  letter.employer.address]  # fmt: skip
    for extra in (letter.postal_code, letter.address, letter.addressee):
        if extra is not None:
            texts.append(extra)
    return tuple(texts)
