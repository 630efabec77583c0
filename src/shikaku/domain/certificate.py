"""資格確認書: its 有効期限, and who gets one without applying (DOMAIN.md §1, §3, §6).

The validity is set by the insurer within the legal maximum of 5 years (policy: the rule and
the number of years come from settings). A member leaves on the 75th birthday for
後期高齢者医療, so no certificate may be valid on that day.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta
from enum import StrEnum

from shikaku.domain.ages import late_elderly_on, reaches_age_on
from shikaku.domain.errors import DomainError
from shikaku.domain.members import (
    MYNACARD_CANCELLED_BEFORE_REGISTERED,
    MYNACARD_DATES_WITHOUT_REGISTRATION,
)

MAX_CERTIFICATE_YEARS = 5  # 健保法施行規則: 有効期限は最長5年
_ONE_DAY = timedelta(days=1)


class CertificateRule(StrEnum):
    """How the insurer sets the 有効期限 (same values as settings.CertificateValidityRule)."""

    YEARS_CAPPED_AT_75 = "years_capped_at_75"
    DECEMBER_31 = "december_31"


def _last_day_of_years(start: date, years: int) -> date:
    """Last day of a period of `years` years from `start` (start counted): the day before the
    same date `years` later; from 29 February into a common year, 28 February (民法143条).

    That is the computation of reaching an age, so ages.reaches_age_on does it.
    """
    return reaches_age_on(start, years)


def certificate_valid_until(
    issued_on: date,
    birth_date: date,
    *,
    rule: str = CertificateRule.YEARS_CAPPED_AT_75,
    years: int = MAX_CERTIFICATE_YEARS,
) -> date:
    """The 有効期限 (last valid day, inclusive) of a certificate issued on `issued_on`.

    years_capped_at_75: the last day of `years` years from issue. december_31: 31 December of
    the year in which those `years` end, or of the year before when that would pass the legal
    5 years (only possible with years = 5), so the date is always a 31 December. Both are cut
    to the day before the 75th birthday. Refuses years outside 1..5 and an issue on or after
    the 75th birthday (the member has left) or before birth.
    """
    try:
        how = CertificateRule(rule)
    except ValueError:
        raise DomainError(
            f"資格確認書の有効期限の決め方 {rule} は years_capped_at_75・december_31 のいずれかです",
            f"unknown certificate validity rule {rule}",
        ) from None
    if not 1 <= years <= MAX_CERTIFICATE_YEARS:
        raise DomainError(
            "資格確認書の有効期間は1年以上5年以下です", "certificate years must be 1..5"
        )
    if issued_on < birth_date:
        raise DomainError("交付年月日が生年月日より前です", "issued_on before birth_date")
    leaves_on = late_elderly_on(birth_date)
    if issued_on >= leaves_on:
        raise DomainError(
            "75歳の誕生日以後は後期高齢者医療の対象のため資格確認書を交付できません",
            "no certificate on or after the 75th birthday",
        )
    until = _last_day_of_years(issued_on, years)
    if how is CertificateRule.DECEMBER_31:
        until = date(until.year, 12, 31)
        if until > _last_day_of_years(issued_on, MAX_CERTIFICATE_YEARS):
            until = date(until.year - 1, 12, 31)
    return min(until, leaves_on - _ONE_DAY)


# --------------------------------------------------------------------------- 職権交付


class CertificateReason(StrEnum):
    """Why a 資格確認書 goes out without application; `label` is what staff read."""

    NOT_REGISTERED = "not_registered"
    REGISTRATION_CANCELLED = "registration_cancelled"
    ECERT_EXPIRED = "ecert_expired"

    @property
    def label(self) -> str:
        return _REASON_LABELS[self]


_REASON_LABELS = {
    CertificateReason.NOT_REGISTERED: "マイナ保険証の利用登録なし",
    CertificateReason.REGISTRATION_CANCELLED: "マイナ保険証の利用登録解除",
    CertificateReason.ECERT_EXPIRED: "電子証明書の有効期限切れ（猶予期間経過）",
}


def ecert_usable_until(ecert_expires_on: date, grace_months: int) -> date:
    """Last day a マイナ保険証 with an expired 電子証明書 still works.

    The official grace counts from the END of the month of expiry: 3 months after it, so an
    e-certificate expiring on 15 January works through 30 April (grace 0: through 31 January).
    """
    if grace_months < 0:
        raise DomainError("猶予月数は0以上です", "grace months must not be negative")
    months = ecert_expires_on.year * 12 + ecert_expires_on.month - 1 + grace_months
    year, month = divmod(months, 12)
    return date(year, month + 1, monthrange(year, month + 1)[1])


def certificate_needed(
    day: date,
    *,
    registered_on: date | None,
    cancelled_on: date | None,
    ecert_expires_on: date | None,
    grace_months: int = 3,
) -> CertificateReason | None:
    """Why this member must be sent a 資格確認書 on `day` (職権交付), or None: they hold a usable
    マイナ保険証 and, in principle, may not hold both.

    The inputs are the member's latest マイナ保険証 registration started on or before the day
    (none: `registered_on` None). The first reason that applies wins: no registration on the
    day, then a cancellation on or before the day, then an e-certificate past its grace
    (`ecert_usable_until`; None: no expiry known, so usable). Cases the registry does not record
    (no card at all, card returned, 要配慮者 or lost card on application) are the caller's.
    """
    if registered_on is None:
        if cancelled_on is not None or ecert_expires_on is not None:
            raise DomainError(
                MYNACARD_DATES_WITHOUT_REGISTRATION.ja, MYNACARD_DATES_WITHOUT_REGISTRATION.en
            )
        return CertificateReason.NOT_REGISTERED
    if cancelled_on is not None and cancelled_on < registered_on:
        raise DomainError(
            MYNACARD_CANCELLED_BEFORE_REGISTERED.ja, MYNACARD_CANCELLED_BEFORE_REGISTERED.en
        )
    if day < registered_on:
        return CertificateReason.NOT_REGISTERED
    if cancelled_on is not None and cancelled_on <= day:
        return CertificateReason.REGISTRATION_CANCELLED
    if ecert_expires_on is not None and day > ecert_usable_until(ecert_expires_on, grace_months):
        return CertificateReason.ECERT_EXPIRED
    return None


def mynacard_usable_on(
    day: date,
    *,
    registered_on: date | None,
    cancelled_on: date | None,
    ecert_expires_on: date | None,
    grace_months: int = 3,
) -> bool:
    """The マイナ保険証 works on `day`: the complement of `certificate_needed`, so the two
    never disagree (accepted_documents' has_mynacard should come from here)."""
    return (
        certificate_needed(
            day,
            registered_on=registered_on,
            cancelled_on=cancelled_on,
            ecert_expires_on=ecert_expires_on,
            grace_months=grace_months,
        )
        is None
    )
