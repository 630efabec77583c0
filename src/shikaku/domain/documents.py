"""Which documents a clinic may accept from a member on a date (受診方法, DOMAIN.md §5).

The dates of the transition are policy, passed in as a `DocumentPolicy`, so that a changed
deadline (an extended interim relief, say) is a settings change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from shikaku.domain.errors import DomainError


class Document(StrEnum):
    """What a patient presents; declaration order is the order of every answer."""

    MYNA_CARD = "myna_card"
    MYNA_CARD_WITH_NOTICE = "myna_card_with_notice"
    CERTIFICATE = "certificate"
    OLD_CARD = "old_card"
    NOTICE_ALONE = "notice_alone"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Document.MYNA_CARD: "マイナ保険証",
    Document.MYNA_CARD_WITH_NOTICE: "マイナ保険証＋資格情報のお知らせ",
    Document.CERTIFICATE: "資格確認書",
    Document.OLD_CARD: "健康保険証",
    Document.NOTICE_ALONE: "資格情報のお知らせのみ",
}


class _PolicyDates(Protocol):
    """Anything carrying the three dates, e.g. settings.Policy (domain never imports it)."""

    @property
    def card_abolished_on(self) -> date: ...
    @property
    def old_card_valid_until(self) -> date: ...
    @property
    def interim_relief_until(self) -> date: ...
    @property
    def interim_relief(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class DocumentPolicy:
    """The transition dates, defaults from DOMAIN.md §1.

    card_abolished_on: first day without new 健康保険証 (nobody holds a card for a
    qualification that began on or after it), and the first day the notice serves with a
    マイナ保険証. old_card_valid_until: last day any old card is valid. Interim relief
    (暫定的な取扱い, policy): a card is accepted again, online only, from the day after its
    own validity ended through interim_relief_until, and so is the notice alone; `interim_relief`
    False turns it off.
    """

    card_abolished_on: date = date(2024, 12, 2)
    old_card_valid_until: date = date(2025, 12, 1)
    interim_relief_until: date = date(2026, 7, 31)
    interim_relief: bool = True

    def __post_init__(self) -> None:
        if not self.card_abolished_on <= self.old_card_valid_until <= self.interim_relief_until:
            raise DomainError(
                "日付の順序が不正です（保険証廃止日 ≦ 保険証の有効期限 ≦ 暫定措置の終了日）",
                "need card_abolished_on <= old_card_valid_until <= interim_relief_until",
            )

    @classmethod
    def from_policy(cls, policy: _PolicyDates) -> DocumentPolicy:
        return cls(
            policy.card_abolished_on,
            policy.old_card_valid_until,
            policy.interim_relief_until,
            policy.interim_relief,
        )

    def old_card_until(self, printed_expiry: date | None) -> date:
        """Last day an old card is valid: the earlier of its printed expiry and the legal end.

        None means no printed expiry (協会けんぽ cards carry none), so the legal end alone.
        """
        if printed_expiry is None:
            return self.old_card_valid_until
        return min(printed_expiry, self.old_card_valid_until)

    def holds_old_card(self, qualified_from: date) -> bool:
        """A card was ever issued for a qualification that began on `qualified_from`: only
        before card_abolished_on (DOMAIN.md §5: nobody received one on or after it)."""
        return qualified_from < self.card_abolished_on

    def relief_on(self, day: date, card_until: date) -> bool:
        """Interim relief covers `day` for a member whose old card (or, for one who never had
        a card, every old card) was valid through `card_until`: from the day after it through
        interim_relief_until (DOMAIN.md §1: "from the day after that card's own validity
        ended"). A 70-74 card printed to expire on 7/31 is in relief from 8/1, a card without
        a printed expiry from the day after old_card_valid_until."""
        return self.interim_relief and card_until < day <= self.interim_relief_until


DEFAULT_DOCUMENT_POLICY = DocumentPolicy()


def accepted_documents(
    day: date,
    *,
    eligible: bool,
    facility_has_online_check: bool,
    old_card_expires_on: date | None,
    certificate_valid_until: date | None,
    has_mynacard: bool,
    policy: DocumentPolicy = DEFAULT_DOCUMENT_POLICY,
    has_old_card: bool = True,
) -> tuple[Document, ...]:
    """The documents that prove this member's coverage on `day`, in `Document` order.

    - nothing unless `eligible` on the day (every document dies with the 資格);
    - マイナ保険証 (`has_mynacard`: registered and usable on the day) alone where the facility
      checks online; with the notice where it does not, from card_abolished_on on;
    - 資格確認書 through `certificate_valid_until` inclusive (None: none was issued);
    - 健康保険証 through min(printed expiry, old_card_valid_until) inclusive
      (`old_card_expires_on` None: no printed expiry; `has_old_card` False: the member never
      got one, i.e. the qualification began on or after card_abolished_on, see
      `DocumentPolicy.holds_old_card`); then, during the interim relief from the day after
      that card's own validity ended, the expired card, only where the facility checks online;
    - 資格情報のお知らせ alone only during the interim relief (for a member without a card,
      from the day after old_card_valid_until), and only with an online check.

    An eligible member can have nothing acceptable (no マイナ保険証, no 資格確認書, the old
    card gone): that is exactly the member who must be sent a 資格確認書.
    """
    if not eligible:
        return ()
    card_until = (
        policy.old_card_until(old_card_expires_on) if has_old_card else policy.old_card_valid_until
    )
    relief_online = facility_has_online_check and policy.relief_on(day, card_until)
    accepted: list[Document] = []
    if has_mynacard:
        if facility_has_online_check:
            accepted.append(Document.MYNA_CARD)
        elif day >= policy.card_abolished_on:
            accepted.append(Document.MYNA_CARD_WITH_NOTICE)
    if certificate_valid_until is not None and day <= certificate_valid_until:
        accepted.append(Document.CERTIFICATE)
    if has_old_card and (day <= card_until or relief_online):
        accepted.append(Document.OLD_CARD)
    if relief_online:
        accepted.append(Document.NOTICE_ALONE)
    return tuple(accepted)
