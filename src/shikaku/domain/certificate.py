"""資格確認書: its 有効期限, and who gets one without applying (DOMAIN.md §1, §3, §6).

The validity is set by the insurer within the legal maximum of 5 years (policy: the rule and
the number of years come from settings). A member leaves on the 75th birthday for
後期高齢者医療, so no certificate may be valid on that day.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum

from shikaku.domain.ages import elderly_from, is_elderly_on, late_elderly_on, reaches_age_on
from shikaku.domain.errors import DomainError
from shikaku.domain.members import (
    MYNACARD_CANCELLED_BEFORE_REGISTERED,
    MYNACARD_DATES_WITHOUT_REGISTRATION,
)

MAX_CERTIFICATE_YEARS = 5  # 健保法施行規則: 有効期限は最長5年
ECERT_GRACE_MONTHS = 3  # (policy) default of settings policy.ecert_grace_months
_ONE_DAY = timedelta(days=1)


class CertificateRule(StrEnum):
    """How the insurer sets the 有効期限 (setting policy.certificate_validity_rule)."""

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
    """Why a person is sent a 資格確認書: the single list of reasons (the ledger, the registry
    and the carrier letter use these values); `label` is what staff read.

    Automatic (職権交付): NO_MYNACARD … REGISTRATION_CANCELLED. On application: LOST, RENEWAL,
    NEEDS_ASSISTANCE (要配慮者, then renewed without a new application). RENEWAL_EXPIRY: a new
    certificate before the current one expires (a renewal run). The order is the order of the
    carrier letter's reason templates: append, never reorder.
    """

    NO_MYNACARD = "no_mynacard"
    NOT_REGISTERED = "not_registered"
    ECERT_EXPIRED = "ecert_expired"
    CARD_RETURNED = "card_returned"
    REGISTRATION_CANCELLED = "registration_cancelled"
    LOST = "lost"
    RENEWAL = "renewal"
    NEEDS_ASSISTANCE = "needs_assistance"
    RENEWAL_EXPIRY = "renewal_expiry"

    @property
    def label(self) -> str:
        return _REASON_LABELS[self]

    @property
    def on_application(self) -> bool:
        return self in APPLICATION_REASONS


_REASON_LABELS = {
    CertificateReason.NO_MYNACARD: "マイナンバーカードなし",
    CertificateReason.NOT_REGISTERED: "マイナ保険証の利用登録なし",
    CertificateReason.ECERT_EXPIRED: "電子証明書の有効期限切れ（猶予期間経過）",
    CertificateReason.CARD_RETURNED: "マイナンバーカード返納",
    CertificateReason.REGISTRATION_CANCELLED: "マイナ保険証の利用登録解除",
    CertificateReason.LOST: "マイナンバーカードの紛失",
    CertificateReason.RENEWAL: "マイナンバーカードの更新・再交付中",
    CertificateReason.NEEDS_ASSISTANCE: "要配慮者",
    CertificateReason.RENEWAL_EXPIRY: "有効期限到来による更新",
}

# What a member may apply for (the CLI's `--reason` and the console's form, in this order).
APPLICATION_REASONS = (
    CertificateReason.LOST,
    CertificateReason.RENEWAL,
    CertificateReason.NEEDS_ASSISTANCE,
)


def application_reason(text: str) -> CertificateReason:
    """The reason of an application as typed (`needs-assistance` on a command line is
    `needs_assistance`); refused unless a member may apply for it."""
    value = text.strip().replace("-", "_")
    reason = next((r for r in APPLICATION_REASONS if r.value == value), None)
    if reason is None:
        names = "・".join(f"{r.value}（{r.label}）" for r in APPLICATION_REASONS)
        raise DomainError(
            f"申請の理由は {names} のいずれかです: {text}", f"bad application reason {text!r}"
        )
    return reason


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
    grace_months: int = ECERT_GRACE_MONTHS,
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
    grace_months: int = ECERT_GRACE_MONTHS,
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


def certificate_due(
    day: date,
    *,
    registered_on: date | None,
    cancelled_on: date | None,
    ecert_expires_on: date | None,
    grace_months: int = ECERT_GRACE_MONTHS,
    applications: Iterable[CertificateReason] = (),
    needs_assistance: bool = False,
) -> CertificateReason | None:
    """Why this member needs a 資格確認書 on `day`, all cases together, or None.

    `applications`: the member's open applications (not yet answered by a certificate);
    `needs_assistance`: the member applied as 要配慮者 at some time (open or answered), which
    lasts: they get one, and its renewals, whatever their マイナ保険証 (DOMAIN.md §3).
    Precedence: 要配慮者, then an open lost / renewal application (the card is not in the
    member's hands, so the マイナ保険証 cannot be shown), then the automatic reasons of
    `certificate_needed`. Without any of these, a member with a usable マイナ保険証 gets
    none: holding both is not allowed in principle.
    """
    wanted = set(applications)
    for reason in wanted:
        if reason not in APPLICATION_REASONS:
            raise DomainError(
                f"{reason} は申請の理由ではありません（紛失・更新中・要配慮者）",
                f"{reason} is not an application reason",
            )
    if needs_assistance or CertificateReason.NEEDS_ASSISTANCE in wanted:
        return CertificateReason.NEEDS_ASSISTANCE
    for reason in (CertificateReason.LOST, CertificateReason.RENEWAL):
        if reason in wanted:
            return reason
    return certificate_needed(
        day,
        registered_on=registered_on,
        cancelled_on=cancelled_on,
        ecert_expires_on=ecert_expires_on,
        grace_months=grace_months,
    )


def holds_valid_certificate(
    day: date, *, valid_until: date, superseded_on: date | None, returned_on: date | None
) -> bool:
    """A certificate issued on or before `day` is still valid on `day`: not past its
    有効期限, not superseded by a newer one on or before the day, not returned (a returned
    certificate is void from the day it came back)."""
    if day > valid_until:
        return False
    if superseded_on is not None and superseded_on <= day:
        return False
    return returned_on is None or returned_on > day


def return_due(valid_until: date, lost_on: date) -> bool:
    """A certificate must come back when eligibility ends (資格喪失日 `lost_on`, the first day
    not covered) on or before its 有効期限."""
    return lost_on <= valid_until


def certificate_effective_from(
    birth_date: date, eligible_from: date, issued_on: date
) -> date | None:
    """発効期日 printed for a 高齢受給者 (70-74 on the issue day): the first day the 70-74
    負担割合 applies to this member, i.e. the later of `elderly_from` and 資格取得日; None for
    anyone else (the field is not printed)."""
    if not is_elderly_on(birth_date, issued_on):
        return None
    return max(elderly_from(birth_date), eligible_from)
