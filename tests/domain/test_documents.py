"""Which documents a clinic may accept on a date (受診方法, DOMAIN.md §5)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TypedDict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shikaku.domain.documents import (
    DEFAULT_DOCUMENT_POLICY,
    Document,
    DocumentPolicy,
    accepted_documents,
)
from shikaku.domain.errors import DomainError
from shikaku.settings import Policy

D = timedelta(days=1)
POLICY = DocumentPolicy()
ABOLISHED = date(2024, 12, 2)
OLD_CARD_LAST = date(2025, 12, 1)
RELIEF_LAST = date(2026, 7, 31)  # DOMAIN.md §1, extended from 2026-03-31

M, MN, C, OLD, N = (
    Document.MYNA_CARD,
    Document.MYNA_CARD_WITH_NOTICE,
    Document.CERTIFICATE,
    Document.OLD_CARD,
    Document.NOTICE_ALONE,
)


def docs(
    day: date,
    *,
    online: bool = True,
    eligible: bool = True,
    card: date | None = None,
    certificate: date | None = None,
    myna: bool = False,
    has_old_card: bool = True,
    policy: DocumentPolicy = POLICY,
) -> tuple[Document, ...]:
    return accepted_documents(
        day,
        eligible=eligible,
        facility_has_online_check=online,
        old_card_expires_on=card,
        certificate_valid_until=certificate,
        has_mynacard=myna,
        policy=policy,
        has_old_card=has_old_card,
    )


# --------------------------------------------------------------------------- labels and policy


def test_values_and_labels() -> None:
    assert [(d.value, d.label) for d in Document] == [
        ("myna_card", "マイナ保険証"),
        ("myna_card_with_notice", "マイナ保険証＋資格情報のお知らせ"),
        ("certificate", "資格確認書"),
        ("old_card", "健康保険証"),
        ("notice_alone", "資格情報のお知らせのみ"),
    ]


def test_defaults_match_settings() -> None:
    assert DocumentPolicy.from_policy(Policy()) == POLICY == DEFAULT_DOCUMENT_POLICY
    assert (POLICY.card_abolished_on, POLICY.old_card_valid_until, POLICY.interim_relief_until) == (
        ABOLISHED,
        OLD_CARD_LAST,
        RELIEF_LAST,
    )


@pytest.mark.parametrize(
    ("abolished", "old_last", "relief_last"),
    [
        (date(2024, 12, 2), date(2024, 12, 1), date(2026, 3, 31)),
        (date(2024, 12, 2), date(2025, 12, 1), date(2025, 11, 30)),
    ],
)
def test_policy_dates_out_of_order_are_refused(
    abolished: date, old_last: date, relief_last: date
) -> None:
    with pytest.raises(DomainError):
        DocumentPolicy(abolished, old_last, relief_last)


@pytest.mark.parametrize(
    ("day", "relief"),
    [
        (OLD_CARD_LAST, False),
        (OLD_CARD_LAST + D, True),
        (RELIEF_LAST, True),
        (RELIEF_LAST + D, False),
        (ABOLISHED, False),
    ],
)
def test_relief_window(day: date, relief: bool) -> None:
    assert POLICY.relief_on(day, OLD_CARD_LAST) is relief


def test_relief_starts_the_day_after_each_cards_own_validity() -> None:
    """DOMAIN.md §1: "It covers a card from the day after that card's own validity ended"."""
    july = date(2025, 7, 31)  # a 70-74 card printed to expire on 7/31
    assert not POLICY.relief_on(july, july)
    assert POLICY.relief_on(july + D, july)
    assert POLICY.relief_on(RELIEF_LAST, july)
    assert not POLICY.relief_on(RELIEF_LAST + D, july)


def test_relief_can_be_turned_off() -> None:
    off = DocumentPolicy(ABOLISHED, OLD_CARD_LAST, RELIEF_LAST, interim_relief=False)
    assert not off.relief_on(OLD_CARD_LAST + D, OLD_CARD_LAST)
    assert docs(OLD_CARD_LAST + D, policy=off) == ()


def test_a_card_only_for_a_qualification_that_began_before_the_abolition() -> None:
    assert POLICY.holds_old_card(ABOLISHED - D)
    assert not POLICY.holds_old_card(ABOLISHED)


def test_old_card_until() -> None:
    assert POLICY.old_card_until(None) == OLD_CARD_LAST
    assert POLICY.old_card_until(date(2025, 7, 31)) == date(2025, 7, 31)
    assert POLICY.old_card_until(date(2027, 3, 31)) == OLD_CARD_LAST


# --------------------------------------------------------------------------- eligibility


@pytest.mark.parametrize("day", [date(2024, 6, 1), ABOLISHED, OLD_CARD_LAST + D, RELIEF_LAST])
@pytest.mark.parametrize("online", [True, False])
def test_nothing_when_not_eligible(day: date, online: bool) -> None:
    assert docs(day, online=online, eligible=False, certificate=date(2030, 1, 1), myna=True) == ()


# --------------------------------------------------------------------------- マイナ保険証


@pytest.mark.parametrize(
    ("day", "online", "expected"),
    [
        (ABOLISHED - D, True, (M,)),
        (ABOLISHED - D, False, ()),  # the notice serves only from the abolition
        (ABOLISHED, True, (M,)),
        (ABOLISHED, False, (MN,)),
        (date(2030, 1, 1), True, (M,)),
        (date(2030, 1, 1), False, (MN,)),
    ],
)
def test_mynacard_depends_on_the_facility(
    day: date, online: bool, expected: tuple[Document, ...]
) -> None:
    assert docs(day, online=online, myna=True, has_old_card=False) == expected


def test_no_mynacard_no_mynacard_documents() -> None:
    assert docs(date(2030, 1, 1), online=True, has_old_card=False) == ()
    assert docs(date(2030, 1, 1), online=False, has_old_card=False) == ()


# --------------------------------------------------------------------------- 資格確認書


@pytest.mark.parametrize("online", [True, False])
def test_certificate_until_its_expiry_inclusive(online: bool) -> None:
    until = date(2029, 12, 1)
    assert docs(until, online=online, certificate=until, has_old_card=False) == (C,)
    assert docs(until + D, online=online, certificate=until, has_old_card=False) == ()


def test_certificate_during_relief_and_with_mynacard() -> None:
    day = OLD_CARD_LAST + D
    assert docs(day, certificate=date(2030, 1, 1), myna=True) == (M, C, OLD, N)
    assert docs(day, online=False, certificate=date(2030, 1, 1), myna=True) == (MN, C)


# --------------------------------------------------------------------------- 健康保険証


@pytest.mark.parametrize(
    ("day", "online", "accepted"),
    [
        (date(2024, 6, 1), False, True),  # before the abolition: the card as always
        (ABOLISHED, False, True),
        (OLD_CARD_LAST, True, True),
        (OLD_CARD_LAST, False, True),
        (OLD_CARD_LAST + D, True, True),  # relief: an expired card, checked online
        (OLD_CARD_LAST + D, False, False),  # without an online check: refused
        (RELIEF_LAST, True, True),
        (RELIEF_LAST + D, True, False),
        (RELIEF_LAST + D, False, False),
    ],
)
def test_old_card_without_printed_expiry(day: date, online: bool, accepted: bool) -> None:
    assert (OLD in docs(day, online=online)) is accepted


@pytest.mark.parametrize(
    ("day", "online", "accepted"),
    [
        (date(2025, 7, 31), True, True),  # printed expiry, inclusive
        (date(2025, 8, 1), True, True),  # relief from the day after its own expiry
        (date(2025, 8, 1), False, False),  # relief only with an online check
        (OLD_CARD_LAST, True, True),
        (OLD_CARD_LAST + D, True, True),
        (OLD_CARD_LAST + D, False, False),
        (RELIEF_LAST, True, True),
        (RELIEF_LAST + D, True, False),
    ],
)
def test_old_card_with_an_early_printed_expiry(day: date, online: bool, accepted: bool) -> None:
    assert (OLD in docs(day, online=online, card=date(2025, 7, 31))) is accepted


def test_printed_expiry_after_the_legal_end_does_not_extend_it() -> None:
    late = date(2027, 3, 31)
    assert OLD in docs(OLD_CARD_LAST, online=False, card=late)
    assert OLD not in docs(OLD_CARD_LAST + D, online=False, card=late)


def test_member_without_an_old_card() -> None:
    assert docs(ABOLISHED, has_old_card=False) == ()
    assert docs(OLD_CARD_LAST + D, has_old_card=False) == (N,)


# --------------------------------------------------------------------------- お知らせのみ


@pytest.mark.parametrize(
    ("day", "online", "accepted"),
    [
        (ABOLISHED, True, False),
        (OLD_CARD_LAST, True, False),
        (OLD_CARD_LAST + D, True, True),
        (OLD_CARD_LAST + D, False, False),
        (RELIEF_LAST, True, True),
        (RELIEF_LAST, False, False),
        (RELIEF_LAST + D, True, False),
    ],
)
def test_notice_alone_only_in_relief_and_online(day: date, online: bool, accepted: bool) -> None:
    assert (N in docs(day, online=online, has_old_card=False)) is accepted


def test_policy_dates_are_data() -> None:
    extended = DocumentPolicy(ABOLISHED, OLD_CARD_LAST, date(2026, 9, 30))
    assert docs(date(2026, 9, 30), policy=extended) == (OLD, N)
    assert docs(date(2026, 10, 1), policy=extended) == ()
    no_relief = DocumentPolicy(ABOLISHED, OLD_CARD_LAST, RELIEF_LAST, interim_relief=False)
    assert docs(OLD_CARD_LAST, policy=no_relief) == (OLD,)
    assert docs(OLD_CARD_LAST + D, policy=no_relief) == ()


def test_full_answer_is_in_document_order() -> None:
    assert docs(OLD_CARD_LAST + D, certificate=date(2030, 1, 1), myna=True) == (M, C, OLD, N)
    assert docs(OLD_CARD_LAST, online=False, certificate=date(2030, 1, 1), myna=True) == (
        MN,
        C,
        OLD,
    )


# --------------------------------------------------------------------------- properties

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2031, 12, 31))
optional_dates = st.none() | days
ORDER = list(Document)


class Situation(TypedDict):
    eligible: bool
    online: bool
    card: date | None
    certificate: date | None
    myna: bool
    has_old_card: bool


situations = st.fixed_dictionaries(
    {
        "eligible": st.booleans(),
        "online": st.booleans(),
        "card": optional_dates,
        "certificate": optional_dates,
        "myna": st.booleans(),
        "has_old_card": st.booleans(),
    }
).map(lambda d: Situation(**d))  # type: ignore[typeddict-item]


@given(days, situations)
def test_answer_is_ordered_unique_and_empty_when_not_eligible(day: date, s: Situation) -> None:
    answer = docs(day, **s)
    assert list(answer) == sorted(set(answer), key=ORDER.index)
    if not s["eligible"]:
        assert answer == ()


@given(days, situations)
def test_eligible_with_a_usable_mynacard_at_an_online_facility_is_never_empty(
    day: date, s: Situation
) -> None:
    answer = docs(day, **(s | {"eligible": True, "online": True, "myna": True}))
    assert M in answer


@given(days, situations)
def test_certificate_accepted_iff_issued_and_not_expired(day: date, s: Situation) -> None:
    answer = docs(day, **(s | {"eligible": True}))
    until = s["certificate"]
    assert (C in answer) == (isinstance(until, date) and day <= until)


@given(days, situations)
def test_an_online_facility_accepts_everything_an_offline_one_does(day: date, s: Situation) -> None:
    online = set(docs(day, **(s | {"online": True})))
    offline = set(docs(day, **(s | {"online": False})))
    if MN in offline:
        offline = (offline - {MN}) | {M}
    assert offline <= online


@given(days, days, situations)
def test_documents_only_disappear_over_time_except_at_the_relief(
    a: date, b: date, s: Situation
) -> None:
    """From the abolition on, a later day never accepts more, save for what the relief adds."""
    early, late = sorted((max(a, ABOLISHED), max(b, ABOLISHED)))
    before = set(docs(early, **s))
    after = set(docs(late, **s))
    card_until = POLICY.old_card_until(s["card"]) if s["has_old_card"] else OLD_CARD_LAST
    if POLICY.relief_on(late, card_until):
        after -= {OLD, N}
    assert after <= before
