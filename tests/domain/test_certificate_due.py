"""資格確認書: who needs one on a day, all cases together; validity, supersession, return."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shikaku.domain.certificate import (
    APPLICATION_REASONS,
    CertificateReason,
    application_reason,
    certificate_due,
    certificate_effective_from,
    certificate_needed,
    certificate_valid_until,
    holds_valid_certificate,
    return_due,
)
from shikaku.domain.errors import DomainError
from shikaku.render.model import CERTIFICATE_REASONS

D = timedelta(days=1)
R = CertificateReason
REG = date(2024, 3, 10)
ACTIVE = {"registered_on": REG, "cancelled_on": None, "ecert_expires_on": None}


def due(day: date, *, grace: int = 3, apps: tuple[R, ...] = (), assist: bool = False,
        **reg: date | None) -> R | None:  # fmt: skip
    kwargs = {**ACTIVE, **reg}
    return certificate_due(
        day, grace_months=grace, applications=apps, needs_assistance=assist, **kwargs
    )


def test_render_uses_the_domain_reasons() -> None:
    assert tuple(CertificateReason) == CERTIFICATE_REASONS
    assert {r.value for r in APPLICATION_REASONS} == {"lost", "renewal", "needs_assistance"}


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("lost", R.LOST), (" renewal ", R.RENEWAL), ("needs-assistance", R.NEEDS_ASSISTANCE),
     ("needs_assistance", R.NEEDS_ASSISTANCE)],
)  # fmt: skip
def test_an_application_reason_as_typed(typed: str, reason: R) -> None:
    assert application_reason(typed) is reason


@pytest.mark.parametrize("typed", ["", "renewal_expiry", "not_registered", "LOST", "紛失"])
def test_what_no_one_applies_for_is_refused(typed: str) -> None:
    with pytest.raises(DomainError) as refused:
        application_reason(typed)
    assert all(r.label in refused.value.ja for r in APPLICATION_REASONS)


def test_no_registration_needs_one() -> None:
    assert due(date(2025, 6, 1), registered_on=None) is R.NOT_REGISTERED


def test_registration_cancelled_needs_one_from_that_day() -> None:
    day = date(2025, 6, 1)
    assert due(day - D, cancelled_on=day) is None
    assert due(day, cancelled_on=day) is R.REGISTRATION_CANCELLED


@pytest.mark.parametrize(
    ("grace", "last_usable"),
    [(3, date(2025, 4, 30)), (0, date(2025, 1, 31)), (1, date(2025, 2, 28))],
)
def test_grace_period_end_day(grace: int, last_usable: date) -> None:
    expires = date(2025, 1, 15)
    assert due(last_usable, grace=grace, ecert_expires_on=expires) is None
    assert due(last_usable + D, grace=grace, ecert_expires_on=expires) is R.ECERT_EXPIRED


def test_grace_period_ends_on_a_leap_day() -> None:
    expires = date(2023, 11, 30)
    reg = date(2023, 1, 5)
    assert due(date(2024, 2, 29), registered_on=reg, ecert_expires_on=expires) is None
    assert due(date(2024, 3, 1), registered_on=reg, ecert_expires_on=expires) is R.ECERT_EXPIRED


def test_active_mynacard_gets_none() -> None:
    assert due(date(2025, 6, 1)) is None


@pytest.mark.parametrize("reason", [R.LOST, R.RENEWAL])
def test_lost_or_renewal_application_needs_one_despite_registration(reason: R) -> None:
    assert due(date(2025, 6, 1), apps=(reason,)) is reason


def test_needs_assistance_wins_and_lasts_without_a_new_application() -> None:
    day = date(2025, 6, 1)
    assert due(day, apps=(R.NEEDS_ASSISTANCE, R.LOST)) is R.NEEDS_ASSISTANCE
    # the application was answered long ago: still renewed, active マイナ保険証 or not
    assert due(day + 2000 * D, assist=True) is R.NEEDS_ASSISTANCE
    assert due(day, assist=True, registered_on=None) is R.NEEDS_ASSISTANCE


def test_application_reasons_beat_automatic_ones() -> None:
    assert due(date(2025, 6, 1), apps=(R.LOST,), registered_on=None) is R.LOST


def test_an_automatic_reason_is_not_an_application() -> None:
    with pytest.raises(DomainError):
        due(date(2025, 6, 1), apps=(R.NOT_REGISTERED,))


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2032, 12, 31))


@given(days, st.none() | days, st.integers(0, 12))
def test_without_applications_due_is_needed(day: date, ecert: date | None, grace: int) -> None:
    found = certificate_due(
        day, registered_on=REG, cancelled_on=None, ecert_expires_on=ecert, grace_months=grace
    )
    assert found is certificate_needed(
        day, registered_on=REG, cancelled_on=None, ecert_expires_on=ecert, grace_months=grace
    )


# --------------------------------------------------------------------------- validity


def test_75th_birthday_boundary() -> None:
    birth = date(1951, 9, 10)  # 75 on 2026-09-10: leaves that day
    assert certificate_valid_until(date(2025, 10, 1), birth) == date(2026, 9, 9)
    assert certificate_valid_until(date(2026, 9, 9), birth) == date(2026, 9, 9)
    with pytest.raises(DomainError):
        certificate_valid_until(date(2026, 9, 10), birth)


def test_december_31_rule_boundary() -> None:
    rule = "december_31"
    assert certificate_valid_until(date(2025, 1, 1), date(1990, 1, 1), rule=rule) == date(
        2029, 12, 31
    )
    assert certificate_valid_until(date(2025, 12, 31), date(1990, 1, 1), rule=rule) == date(
        2029, 12, 31
    )
    assert certificate_valid_until(
        date(2025, 12, 31), date(1990, 1, 1), rule=rule, years=4
    ) == date(2029, 12, 31)


def test_leap_day_issue() -> None:
    assert certificate_valid_until(date(2028, 2, 29), date(1990, 5, 5)) == date(2033, 2, 28)


def test_valid_and_superseded_and_returned() -> None:
    until = date(2030, 3, 31)
    assert holds_valid_certificate(until, valid_until=until, superseded_on=None, returned_on=None)
    assert not holds_valid_certificate(
        until + D, valid_until=until, superseded_on=None, returned_on=None
    )
    new = date(2027, 4, 1)
    assert holds_valid_certificate(new - D, valid_until=until, superseded_on=new, returned_on=None)
    assert not holds_valid_certificate(new, valid_until=until, superseded_on=new, returned_on=None)
    assert not holds_valid_certificate(new, valid_until=until, superseded_on=None, returned_on=new)


def test_return_due_when_eligibility_ends_on_or_before_expiry() -> None:
    until = date(2030, 3, 31)
    assert return_due(until, until)  # lost_on is the first day not covered
    assert not return_due(until, until + D)


def test_effective_from_only_for_70_to_74() -> None:
    birth = date(1955, 6, 15)  # 70 on 2025-06-14: 高齢受給者 from 2025-07-01
    assert certificate_effective_from(birth, date(2000, 4, 1), date(2025, 6, 30)) is None
    assert certificate_effective_from(birth, date(2000, 4, 1), date(2025, 7, 1)) == date(2025, 7, 1)
    assert certificate_effective_from(birth, date(2026, 2, 1), date(2026, 3, 1)) == date(2026, 2, 1)
    born_first = date(1955, 6, 1)  # reaches 70 on 5/31: from 6/1
    assert certificate_effective_from(born_first, date(2000, 1, 1), date(2025, 6, 1)) == date(
        2025, 6, 1
    )
