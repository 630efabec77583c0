"""資格確認書: 有効期限 and 職権交付 (DOMAIN.md §1, §3, §6)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shikaku.domain.ages import late_elderly_on
from shikaku.domain.certificate import (
    CertificateReason,
    CertificateRule,
    certificate_needed,
    certificate_valid_until,
    ecert_usable_until,
    mynacard_usable_on,
)
from shikaku.domain.errors import DomainError
from shikaku.settings import CertificateValidityRule

D = timedelta(days=1)
YOUNG = date(1985, 7, 20)  # far from 75 for every issue date below
DEC = CertificateRule.DECEMBER_31
R = CertificateReason


def until(
    issued: date, birth: date = YOUNG, *, rule: str = "years_capped_at_75", years: int = 5
) -> date:
    return certificate_valid_until(issued, birth, rule=rule, years=years)


# --------------------------------------------------------------------------- years_capped_at_75


@pytest.mark.parametrize(
    ("issued", "years", "expected"),
    [
        (date(2024, 12, 2), 5, date(2029, 12, 1)),
        (date(2025, 1, 1), 5, date(2029, 12, 31)),  # issued on the 1st
        (date(2025, 12, 31), 5, date(2030, 12, 30)),  # issued on the 31st
        (date(2025, 3, 1), 5, date(2030, 2, 28)),
        (date(2027, 3, 1), 1, date(2028, 2, 29)),  # ends on a leap day
        (date(2028, 2, 29), 5, date(2033, 2, 28)),  # no 29 Feb 2033: the 28th
        (date(2028, 2, 29), 4, date(2032, 2, 28)),  # 29 Feb 2032 exists: the day before
        (date(2028, 2, 29), 1, date(2029, 2, 28)),
        (date(2028, 3, 1), 1, date(2029, 2, 28)),
        (date(2025, 6, 15), 1, date(2026, 6, 14)),
        (date(2025, 6, 15), 3, date(2028, 6, 14)),
    ],
)
def test_years(issued: date, years: int, expected: date) -> None:
    assert until(issued, years=years) == expected


@pytest.mark.parametrize(
    ("birth", "issued", "expected"),
    [
        # capped at the day before the 75th birthday: the member leaves on the birthday
        (date(1955, 6, 15), date(2025, 8, 1), date(2030, 6, 14)),
        (date(1955, 6, 1), date(2025, 8, 1), date(2030, 5, 31)),  # born on the 1st
        (date(1955, 6, 2), date(2025, 8, 1), date(2030, 6, 1)),  # born on the 2nd
        (date(1955, 12, 31), date(2025, 4, 1), date(2030, 3, 31)),  # 5 years end first
        (date(1956, 2, 29), date(2028, 2, 29), date(2031, 2, 28)),  # 75th birthday is 3/1
        (date(1955, 6, 15), date(2030, 6, 14), date(2030, 6, 14)),  # the last possible day
        (date(1955, 4, 2), date(2025, 4, 1), date(2030, 3, 31)),  # 5 years and 75 coincide
    ],
)
def test_cap_at_75(birth: date, issued: date, expected: date) -> None:
    assert until(issued, birth) == expected
    assert until(issued, birth, rule=DEC) <= expected


@pytest.mark.parametrize(
    ("birth", "issued"),
    [
        (date(1955, 6, 15), date(2030, 6, 15)),  # on the 75th birthday
        (date(1955, 6, 15), date(2031, 1, 1)),
        (date(1956, 2, 29), date(2031, 3, 1)),
        (date(2025, 6, 15), date(2025, 6, 14)),  # before birth
    ],
)
def test_no_certificate_from_75_or_before_birth(birth: date, issued: date) -> None:
    with pytest.raises(DomainError):
        until(issued, birth)


def test_issued_on_the_birth_day_of_a_newborn() -> None:
    assert until(date(2025, 6, 15), date(2025, 6, 15)) == date(2030, 6, 14)


@pytest.mark.parametrize("years", [0, -1, 6, 10])
def test_years_outside_1_to_5_are_refused(years: int) -> None:
    with pytest.raises(DomainError, match="1年以上5年以下"):
        until(date(2025, 1, 1), years=years)


def test_unknown_rule_is_refused() -> None:
    with pytest.raises(DomainError):
        until(date(2025, 1, 1), rule="march_31")


def test_settings_enum_is_accepted() -> None:
    assert until(date(2025, 1, 2), rule=CertificateValidityRule.DECEMBER_31) == date(2029, 12, 31)
    assert [r.value for r in CertificateRule] == [r.value for r in CertificateValidityRule]


# --------------------------------------------------------------------------- december_31


@pytest.mark.parametrize(
    ("issued", "years", "expected"),
    [
        (date(2025, 1, 1), 5, date(2029, 12, 31)),  # 5 years end on 12/31 exactly
        (date(2025, 1, 2), 5, date(2029, 12, 31)),  # 12/31/2030 would pass 5 years
        (date(2025, 12, 31), 5, date(2029, 12, 31)),
        (date(2028, 2, 29), 5, date(2032, 12, 31)),
        (date(2025, 1, 1), 4, date(2028, 12, 31)),
        (date(2025, 1, 2), 4, date(2029, 12, 31)),  # 4 years end 1/1/2029
        (date(2025, 12, 31), 1, date(2026, 12, 31)),
        (date(2025, 1, 1), 1, date(2025, 12, 31)),
        (date(2025, 6, 1), 1, date(2026, 12, 31)),
    ],
)
def test_december_31(issued: date, years: int, expected: date) -> None:
    assert until(issued, rule=DEC, years=years) == expected


def test_december_31_capped_at_75() -> None:
    birth = date(1955, 6, 1)
    assert until(date(2025, 4, 1), birth, rule=DEC) == date(2029, 12, 31)
    assert until(date(2026, 4, 1), birth, rule=DEC) == date(2030, 5, 31)


# --------------------------------------------------------------------------- properties

births = st.dates(min_value=date(1940, 1, 1), max_value=date(2030, 12, 31))
offsets = st.integers(0, 75 * 366)
rules = st.sampled_from(list(CertificateRule))
years_ = st.integers(1, 5)


def issue_for(birth: date, offset: int) -> date:
    issued = birth + offset * D
    assume(issued < late_elderly_on(birth))
    return issued


def five_years_later(issued: date) -> date:
    """The same date 5 years on (1 March for 29 February): the first day a 5-year period
    does NOT cover."""
    try:
        return issued.replace(year=issued.year + 5)
    except ValueError:
        return date(issued.year + 5, 3, 1)


@given(births, offsets, rules, years_)
def test_never_5_years_never_75(birth: date, offset: int, rule: str, years: int) -> None:
    issued = issue_for(birth, offset)
    last = until(issued, birth, rule=rule, years=years)
    assert issued <= last < five_years_later(issued)
    assert last < late_elderly_on(birth)


@given(births, offsets, years_)
def test_years_rule_is_capped_or_exact(birth: date, offset: int, years: int) -> None:
    issued = issue_for(birth, offset)
    last = until(issued, birth, years=years)
    capped = late_elderly_on(birth) - D
    if last != capped:
        nxt = last + D
        assert (nxt.month, nxt.day) == (issued.month, issued.day) or (
            (issued.month, issued.day) == (2, 29) and (nxt.month, nxt.day) == (3, 1)
        )
        assert nxt.year == issued.year + years


@given(births, offsets, years_)
def test_december_rule_ends_on_december_31_unless_capped(
    birth: date, offset: int, years: int
) -> None:
    issued = issue_for(birth, offset)
    last = until(issued, birth, rule=DEC, years=years)
    assert (last.month, last.day) == (12, 31) or last == late_elderly_on(birth) - D


@given(births, offsets, st.integers(1, 3000), rules, years_)
def test_later_issue_never_ends_earlier(
    birth: date, offset: int, later: int, rule: str, years: int
) -> None:
    issued = issue_for(birth, offset)
    reissued = issued + later * D
    assume(reissued < late_elderly_on(birth))
    assert until(issued, birth, rule=rule, years=years) <= until(
        reissued, birth, rule=rule, years=years
    )


@given(births, offsets, rules, st.integers(1, 4))
def test_more_years_never_end_earlier(birth: date, offset: int, rule: str, years: int) -> None:
    issued = issue_for(birth, offset)
    assert until(issued, birth, rule=rule, years=years) <= until(
        issued, birth, rule=rule, years=years + 1
    )


# --------------------------------------------------------------------------- e-certificate grace


@pytest.mark.parametrize(
    ("expires", "grace", "usable_until"),
    [
        (date(2025, 1, 15), 3, date(2025, 4, 30)),  # from the end of the month of expiry
        (date(2025, 1, 31), 3, date(2025, 4, 30)),
        (date(2025, 1, 1), 3, date(2025, 4, 30)),
        (date(2025, 10, 31), 3, date(2026, 1, 31)),  # across the year
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),  # leap year
        (date(2025, 12, 31), 3, date(2026, 3, 31)),
        (date(2025, 1, 15), 0, date(2025, 1, 31)),
        (date(2025, 1, 15), 12, date(2026, 1, 31)),
    ],
)
def test_ecert_usable_until(expires: date, grace: int, usable_until: date) -> None:
    assert ecert_usable_until(expires, grace) == usable_until


def test_negative_grace_is_refused() -> None:
    with pytest.raises(DomainError):
        ecert_usable_until(date(2025, 1, 15), -1)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 12))
def test_grace_ends_on_a_month_end_after_expiry(expires: date, grace: int) -> None:
    last = ecert_usable_until(expires, grace)
    assert (last + D).day == 1
    assert last >= expires
    months = (last.year - expires.year) * 12 + last.month - expires.month
    assert months == grace


# --------------------------------------------------------------------------- 職権交付


REG = date(2024, 3, 10)
DAY = date(2025, 6, 1)


@pytest.mark.parametrize(
    ("registered", "cancelled", "ecert", "day", "reason"),
    [
        (None, None, None, DAY, R.NOT_REGISTERED),
        (REG, None, None, REG - D, R.NOT_REGISTERED),  # registered later
        (REG, None, None, REG, None),  # registered that day
        (REG, DAY, None, DAY - D, None),
        (REG, DAY, None, DAY, R.REGISTRATION_CANCELLED),  # cancelled that day
        (REG, REG, None, REG, R.REGISTRATION_CANCELLED),  # cancelled the day it was made
        (REG, None, date(2025, 1, 15), date(2025, 4, 30), None),  # last day of the grace
        (REG, None, date(2025, 1, 15), date(2025, 5, 1), R.ECERT_EXPIRED),
        (REG, None, date(2025, 1, 15), date(2025, 1, 15), None),
        (REG, DAY, date(2025, 1, 15), DAY, R.REGISTRATION_CANCELLED),  # the first reason wins
        (REG, DAY, date(2025, 1, 15), date(2025, 5, 1), R.ECERT_EXPIRED),
    ],
)
def test_certificate_needed(
    registered: date | None,
    cancelled: date | None,
    ecert: date | None,
    day: date,
    reason: CertificateReason | None,
) -> None:
    kwargs = {"registered_on": registered, "cancelled_on": cancelled, "ecert_expires_on": ecert}
    assert certificate_needed(day, **kwargs) is reason
    assert mynacard_usable_on(day, **kwargs) is (reason is None)


def test_grace_months_is_a_setting() -> None:
    kwargs = {"registered_on": REG, "cancelled_on": None, "ecert_expires_on": date(2025, 1, 15)}
    assert certificate_needed(date(2025, 2, 1), grace_months=0, **kwargs) is R.ECERT_EXPIRED
    assert certificate_needed(date(2025, 1, 31), grace_months=0, **kwargs) is None


@pytest.mark.parametrize(
    ("registered", "cancelled", "ecert"),
    [
        (None, DAY, None),
        (None, None, DAY),
        (REG, REG - D, None),
    ],
)
def test_inconsistent_registration_is_refused(
    registered: date | None, cancelled: date | None, ecert: date | None
) -> None:
    with pytest.raises(DomainError):
        certificate_needed(
            DAY, registered_on=registered, cancelled_on=cancelled, ecert_expires_on=ecert
        )


def test_reason_labels() -> None:
    assert [(r.value, r.label) for r in CertificateReason][:5] == [
        ("no_mynacard", "マイナンバーカードなし"),
        ("not_registered", "マイナ保険証の利用登録なし"),
        ("ecert_expired", "電子証明書の有効期限切れ（猶予期間経過）"),
        ("card_returned", "マイナンバーカード返納"),
        ("registration_cancelled", "マイナ保険証の利用登録解除"),
    ]
    assert all(r.label for r in CertificateReason)


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2032, 12, 31))


@given(days, days, st.none() | st.integers(0, 3000), st.none() | days, st.integers(0, 12))
def test_needed_once_never_unneeded_later_without_a_new_registration(
    day: date, registered: date, cancel_after: int | None, ecert: date | None, grace: int
) -> None:
    """With one registration, the need for a certificate only starts or stops at its dates:
    once cancelled or past the grace it stays so; before registration it is needed."""
    cancelled = None if cancel_after is None else registered + cancel_after * D
    kwargs = {"registered_on": registered, "cancelled_on": cancelled, "ecert_expires_on": ecert}
    reason = certificate_needed(day, grace_months=grace, **kwargs)
    if day < registered:
        assert reason is R.NOT_REGISTERED
    elif reason is not None:
        assert certificate_needed(day + 400 * D, grace_months=grace, **kwargs) is not None
    assert mynacard_usable_on(day, grace_months=grace, **kwargs) is (reason is None)
