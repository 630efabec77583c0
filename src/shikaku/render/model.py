"""What the renderer is given: the frozen, printable data of one file (a parcel or a mailing
batch), already checked against the fonts. Plain values only, so a Dask task can carry them.

The issuance layer builds these from the ledger; the renderer never reads the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from shikaku.domain.barcode import Barcode

MyNumberState = Literal["registered", "none", "needs_check"]
Delivery = Literal["employer", "home"]
ContainerKind = Literal["envelope", "box", "letter"]


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

    control: str  # printed small in the margin: run, partition, piece ("R000001-P000012-0003")
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
    """An insured person's own notice first, then their dependents' by 枝番."""

    notices: tuple[Notice, ...]


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


@dataclass(frozen=True, slots=True)
class MailingBatch:
    """Home-delivered letters of one postal area (任意継続): one PDF, one letter per notice."""

    run_label: str
    partition: int
    issued_on: date
    extraction_date: date
    area: str  # leading digits of the postal code shared by the batch
    notices: tuple[Notice, ...]  # in postal-code order


@dataclass(frozen=True, slots=True)
class PageRange:
    first: int  # 1-based, inclusive
    last: int


@dataclass(frozen=True, slots=True)
class RenderResult:
    """Small, picklable: what a task returns instead of PDF bytes."""

    pages: int
    # For a Parcel: one per container (label + its pieces, plus cover letter and list in the
    # first). For a MailingBatch: one per letter.
    container_pages: tuple[PageRange, ...]
    piece_pages: tuple[PageRange, ...]  # one per notice (with its 申出書 page when it has one)
    sha256: str
    size: int
