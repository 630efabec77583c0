"""A second, independent reading of the clinic eligibility rules (DOMAIN.md §1, §4, §5, §6).

Written from DOMAIN.md alone, without reading src/shikaku/domain, src/shikaku/service,
src/shikaku/registry/checks.py or tests/domain: it exists to disagree with the production
code wherever the two readings differ. Pure Python, standard library only, no I/O.

Input: what the registry holds (`Record`s, one per 記号・番号・枝番, with their periods, pay,
マイナ保険証 registrations, old card and 資格確認書) and a `Query`. Output: the `Answer` that
`POST /v1/eligibility` must give. Records of the same person (same My Number) share an
`identity` token; the oracle never sees a My Number.

Choices where DOMAIN.md leaves room (each is marked CHOICE at the place it is made):
 1. The answer's 資格喪失日 is the qualification's own: the earlier of the registry's 資格喪失日
    and the 75th birthday, whatever the validity. When the 75th birthday is the earlier,
    喪失事由 is 03 他の医療保険取得 (後期高齢者医療 is another medical insurance).
 2. A record with no period covering the day answers (validity 2) with its latest
    qualification that began on or before the day; when none has begun yet, with no
    qualification at all (no 資格取得日, 喪失日 or 喪失事由: nothing was lost).
 3. Validity 3 needs another record of the same person whose (75-capped) period covers the
    day and began after the reported qualification's 資格取得日; otherwise 2.
 4. "The insured person is also 70-74" means the insured person is a 高齢受給者 on the day
    (from the 1st of the month after reaching 70, until the 75th birthday), as in 健保法.
 5. 標準報酬月額 and 住民税非課税 are the insured person's pay record in effect on the day (the
    latest effective on or before it), for the insured and their dependents alike.
 6. 限度額適用区分: under 70, 住民税非課税 gives オ whatever the pay (§6 defines オ by tax status
    alone); at 70-74, 現役並み (by pay) comes first, then 住民税非課税 gives 低所得Ⅱ (B05: the
    registry cannot tell 低所得Ⅰ), else 一般 (B04). Pay between two brackets of §6 (e.g.
    270,000) falls into the lower one. No pay record in effect: no 区分.
 7. A null printed expiry on the old card means a card without one (協会けんぽ prints none):
    everyone whose covering qualification began before 2024-12-02 holds a card, valid until
    2025-12-01.
 8. The interim relief, for the old card and for the notice alone, runs for a person from the
    day after their card's own validity ended (2025-12-02 for someone who never got a card)
    through `interim_relief_until`, and only at facilities with online checking.
 9. A マイナ保険証 is usable from its registration day until the day before its cancellation,
    and after its e-certificate expires through the end of the `ecert_grace_months`-th month
    after the month of expiry (docs/certificates.md's grace, DOMAIN.md §3's "3-month grace").
    マイナ保険証 + notice is accepted only at facilities without online checking, from
    2024-12-02; the マイナ保険証 alone only at facilities with it.
10. Documents are listed only with validity 1 (DOMAIN.md: "while eligible").
11. A 被扶養者 is a dependent OF an insured person: covered only while that insured person is
    covered. A dependent's period ends when the insured person's qualification (75-capped)
    ends, with 喪失事由 99 その他 (the dependent acquired nothing; their status lapsed); a
    period that begins while the insured person is not covered is no qualification.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)

INSURED = 1
DEPENDENT = 2

VALID = 1
INVALID = 2
INVALID_NEWER = 3
NOT_FOUND = 4
SEVERAL = 5

LOSS_TO_OTHER_INSURANCE = "03"  # 他の医療保険取得: CHOICE 1, the reason for leaving at 75
LOSS_OTHER = "99"  # その他: CHOICE 11, a dependent whose insured person's coverage ended

MYNA_CARD = "myna_card"
MYNA_CARD_WITH_NOTICE = "myna_card_with_notice"
CERTIFICATE = "certificate"
OLD_CARD = "old_card"
NOTICE_ALONE = "notice_alone"

# 限度額適用区分 codes, DOMAIN.md §5.
UNDER_70_CODES = ("A01", "A02", "A03", "A04")  # ア イ ウ エ by pay
UNDER_70_TAX_EXEMPT = "A05"  # オ
ACTIVE_LEVEL_CODES = ("B01", "B02", "B03")  # 現役並みⅢ Ⅱ Ⅰ by pay (Ⅰ: 280,000-)
ELDERLY_GENERAL = "B04"  # 一般
ELDERLY_LOW_INCOME_2 = "B05"  # 低所得Ⅱ

# §6's brackets by 標準報酬月額, lower bounds: ア ≥ 830,000, イ 530,000-, ウ 280,000-, else エ.
PAY_BRACKETS = (830_000, 530_000, 280_000)
ACTIVE_LEVEL_PAY = 280_000  # 現役並み: 標準報酬月額 ≥ 280,000


@dataclass(frozen=True)
class Policy:
    """DOMAIN.md's dated policy values, with DOMAIN.md's defaults."""

    card_abolished_on: date = date(2024, 12, 2)
    old_card_valid_until: date = date(2025, 12, 1)
    interim_relief_until: date = date(2026, 7, 31)
    ecert_grace_months: int = 3


@dataclass(frozen=True)
class Period:
    """[eligible_from, lost_on): lost_on is the first day NOT covered."""

    eligible_from: date
    lost_on: date | None = None
    loss_reason: str | None = None


@dataclass(frozen=True)
class Pay:
    effective_from: date
    standard_monthly_pay: int | None
    tax_exempt: bool = False


@dataclass(frozen=True)
class Registration:
    """A マイナ保険証 registration (the My Number card registered for insurance use)."""

    registered_on: date
    cancelled_on: date | None = None
    ecert_expires_on: date | None = None


@dataclass(frozen=True)
class Certificate:
    """A 資格確認書: void from superseded_on and from returned_on."""

    issued_on: date
    valid_until: date
    superseded_on: date | None = None
    returned_on: date | None = None


@dataclass(frozen=True)
class Key:
    insurer_number: str
    symbol: str
    number: str
    branch: str


@dataclass(frozen=True)
class Record:
    """One member row of the registry (one 記号・番号・枝番) and what hangs off it."""

    key: Key
    relationship: int
    name: str
    name_kana: str
    birth_date: date
    periods: tuple[Period, ...]
    insured: Key  # the household's insured person (itself for an insured person)
    identity: int | None = None  # same value = same My Number on file; None = none on file
    pay: tuple[Pay, ...] = ()  # held on the insured person's record
    registrations: tuple[Registration, ...] = ()
    old_card_expires_on: date | None = None
    certificates: tuple[Certificate, ...] = ()


@dataclass(frozen=True)
class Query:
    key: Key
    birth_date: date
    service_date: date
    consent_cap_info: bool = False
    facility_has_online_check: bool = True


@dataclass(frozen=True)
class Answer:
    validity: int
    relationship: int | None = None
    name: str | None = None
    name_kana: str | None = None
    eligible_from: date | None = None
    lost_on: date | None = None
    loss_reason: str | None = None
    copay_rate: int | None = None
    cap_category: str | None = None
    accepted_documents: frozenset[str] = field(default_factory=frozenset)


# ---------------------------------------------------------------- ages (§6)


def anniversary(birth: date, years: int) -> date:
    """The n-th birthday; for a 29 February birth in a common year, 1 March (the person
    reaches the age at the end of 28 February, so the new age starts on 1 March)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return date(birth.year + years, 3, 1)


def reaches_age_on(birth: date, years: int) -> date:
    """年齢計算ニ関スル法律: an age is reached on the day before the birthday."""
    return anniversary(birth, years) - ONE_DAY


def preschool_until(birth: date) -> date:
    """Last day of 未就学: the first 31 March on or after the day the child reaches 6."""
    reached = reaches_age_on(birth, 6)
    march_31 = date(reached.year, 3, 31)
    return march_31 if reached <= march_31 else date(reached.year + 1, 3, 31)


def elderly_from(birth: date) -> date:
    """高齢受給者 from the 1st of the month after the month in which the person reaches 70."""
    reached = reaches_age_on(birth, 70)
    if reached.month == 12:
        return date(reached.year + 1, 1, 1)
    return date(reached.year, reached.month + 1, 1)


def leaves_at_75(birth: date) -> date:
    """The 75th birthday: the first day in 後期高齢者医療, the 資格喪失日 here."""
    return reaches_age_on(birth, 75) + ONE_DAY


def is_elderly(birth: date, day: date) -> bool:
    """70-74 as 高齢受給者 on the day."""
    return elderly_from(birth) <= day < leaves_at_75(birth)


# ---------------------------------------------------------------- qualifications


@dataclass(frozen=True)
class _Qualification:
    """A period as it really is: ended at the 75th birthday whatever the registry holds."""

    eligible_from: date
    lost_on: date | None
    loss_reason: str | None

    def covers(self, day: date) -> bool:
        return self.eligible_from <= day and (self.lost_on is None or day < self.lost_on)


def own_qualifications(record: Record) -> list[_Qualification]:
    """The record's periods, each ended at the 75th birthday (CHOICE 1); a period that would
    begin on or after it is outside the rules (no insurer can enrol someone in 後期)."""
    at_75 = leaves_at_75(record.birth_date)
    out: list[_Qualification] = []
    for p in sorted(record.periods, key=lambda p: p.eligible_from):
        if p.eligible_from >= at_75:
            raise ValueError("a period that begins on or after the 75th birthday")
        if p.lost_on is not None and p.lost_on <= at_75:
            out.append(_Qualification(p.eligible_from, p.lost_on, p.loss_reason))
        else:
            out.append(_Qualification(p.eligible_from, at_75, LOSS_TO_OTHER_INSURANCE))
    return out


def insured_of(record: Record, records: Iterable[Record]) -> Record:
    """The household's insured person (the record itself for an insured person)."""
    return next((r for r in records if r.key == record.insured), record)


def qualifications(record: Record, records: Iterable[Record]) -> list[_Qualification]:
    """The record's qualifications as they really are: 75-capped, and for a dependent within
    the insured person's coverage (CHOICE 11)."""
    own = own_qualifications(record)
    insured = insured_of(record, records)
    if insured is record:
        return own
    cover = own_qualifications(insured)
    out: list[_Qualification] = []
    for q in own:
        host = next((c for c in cover if c.covers(q.eligible_from)), None)
        if host is None:
            continue
        if host.lost_on is not None and (q.lost_on is None or host.lost_on < q.lost_on):
            q = _Qualification(q.eligible_from, host.lost_on, LOSS_OTHER)
        out.append(q)
    return out


def _reported(quals: Sequence[_Qualification], day: date) -> _Qualification | None:
    """The qualification an answer reports (CHOICE 2): the one covering the day, else the
    latest begun by then, else none."""
    started = [q for q in quals if q.eligible_from <= day]
    return started[-1] if started else None


# ---------------------------------------------------------------- pay, copay, cap (§6)


def pay_on(pays: Iterable[Pay], day: date) -> Pay | None:
    """The pay record in effect on the day (CHOICE 5)."""
    current = [p for p in pays if p.effective_from <= day]
    return max(current, key=lambda p: p.effective_from) if current else None


def _active_level(insured: Record, day: date) -> bool:
    """現役並み: the insured person is a 高齢受給者 and earns 標準報酬月額 ≥ 280,000 (CHOICE 4)."""
    if not is_elderly(insured.birth_date, day):
        return False
    pay = pay_on(insured.pay, day)
    return pay is not None and (pay.standard_monthly_pay or 0) >= ACTIVE_LEVEL_PAY


def copay_rate(person: Record, insured: Record, day: date) -> int:
    """負担割合 in percent for a person covered on the day."""
    if is_elderly(person.birth_date, day):
        return 30 if _active_level(insured, day) else 20
    return 20 if day <= preschool_until(person.birth_date) else 30


def _bracket(monthly_pay: int, codes: tuple[str, ...]) -> str:
    """The code of the first of §6's lower bounds the pay reaches; the last code below all."""
    for bound, code in zip(PAY_BRACKETS, codes, strict=False):
        if monthly_pay >= bound:
            return code
    return codes[-1]


def cap_category(person: Record, insured: Record, day: date) -> str | None:
    """限度額適用区分 code (CHOICE 6)."""
    pay = pay_on(insured.pay, day)
    if pay is None:
        return None
    if is_elderly(person.birth_date, day):
        if _active_level(insured, day):
            return _bracket(pay.standard_monthly_pay or 0, ACTIVE_LEVEL_CODES)
        return ELDERLY_LOW_INCOME_2 if pay.tax_exempt else ELDERLY_GENERAL
    if pay.tax_exempt:
        return UNDER_70_TAX_EXEMPT
    if pay.standard_monthly_pay is None:
        return None
    return _bracket(pay.standard_monthly_pay, UNDER_70_CODES)


# ---------------------------------------------------------------- documents (§1, §5)


def ecert_usable_until(expires_on: date, grace_months: int) -> date:
    """Last day a マイナ保険証 works after its e-certificate expired (CHOICE 9)."""
    month0 = expires_on.month - 1 + grace_months
    year, month = expires_on.year + month0 // 12, month0 % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def mynacard_usable(registrations: Iterable[Registration], day: date, policy: Policy) -> bool:
    """CHOICE 9: registered, not cancelled, e-certificate not past its grace."""
    for r in registrations:
        if r.registered_on > day or (r.cancelled_on is not None and day >= r.cancelled_on):
            continue
        if r.ecert_expires_on is not None and day > ecert_usable_until(
            r.ecert_expires_on, policy.ecert_grace_months
        ):
            continue
        return True
    return False


def holds_certificate(certificates: Iterable[Certificate], day: date) -> bool:
    """A 資格確認書 valid on the day: issued, not past 有効期限, not superseded, not returned."""
    return any(
        c.issued_on <= day <= c.valid_until
        and (c.superseded_on is None or day < c.superseded_on)
        and (c.returned_on is None or day < c.returned_on)
        for c in certificates
    )


def accepted_documents(
    person: Record, qual: _Qualification, day: date, online: bool, policy: Policy
) -> frozenset[str]:
    """Documents a clinic may accept on the day from a person covered by `qual`."""
    docs: set[str] = set()
    if mynacard_usable(person.registrations, day, policy):
        if online:
            docs.add(MYNA_CARD)
        elif day >= policy.card_abolished_on:
            docs.add(MYNA_CARD_WITH_NOTICE)
    if holds_certificate(person.certificates, day):
        docs.add(CERTIFICATE)
    relief_from = policy.old_card_valid_until + ONE_DAY  # CHOICE 8, without a card
    if qual.eligible_from < policy.card_abolished_on:  # a card was issued (CHOICE 7)
        printed = person.old_card_expires_on or policy.old_card_valid_until
        card_until = min(printed, policy.old_card_valid_until)
        if day <= card_until:
            docs.add(OLD_CARD)
        relief_from = card_until + ONE_DAY
        if online and relief_from <= day <= policy.interim_relief_until:
            docs.add(OLD_CARD)
    if online and relief_from <= day <= policy.interim_relief_until:
        docs.add(NOTICE_ALONE)
    return frozenset(docs)


# ---------------------------------------------------------------- the answer


def _find(records: Iterable[Record], query: Query) -> list[Record]:
    return [r for r in records if r.key == query.key and r.birth_date == query.birth_date]


def _newer_elsewhere(
    records: Sequence[Record], record: Record, since: date | None, day: date
) -> bool:
    """CHOICE 3: another record of the same person covers the day with a qualification that
    began after `since` (the reported qualification's 資格取得日; none begun: never)."""
    if record.identity is None or since is None:
        return False
    return any(
        q.covers(day) and q.eligible_from > since
        for other in records
        if other.identity == record.identity and other.key != record.key
        for q in qualifications(other, records)
    )


def answer(records: Sequence[Record], query: Query, policy: Policy | None = None) -> Answer:
    """What `POST /v1/eligibility` must answer for this query against this registry."""
    policy = policy or Policy()
    found = _find(records, query)
    if not found:
        return Answer(NOT_FOUND)
    if len(found) > 1:
        return Answer(SEVERAL)
    person = found[0]
    day = query.service_date
    qual = _reported(qualifications(person, records), day)
    found_answer = Answer(
        INVALID,
        relationship=person.relationship,
        name=person.name,
        name_kana=person.name_kana,
        eligible_from=qual.eligible_from if qual else None,
        lost_on=qual.lost_on if qual else None,
        loss_reason=qual.loss_reason if qual else None,
    )
    if qual is None or not qual.covers(day):
        since = qual.eligible_from if qual else None
        if _newer_elsewhere(records, person, since, day):
            return replace(found_answer, validity=INVALID_NEWER)
        return found_answer
    insured = insured_of(person, records)
    return replace(
        found_answer,
        validity=VALID,
        copay_rate=copay_rate(person, insured, day),
        cap_category=cap_category(person, insured, day) if query.consent_cap_info else None,
        accepted_documents=accepted_documents(
            person, qual, day, query.facility_has_online_check, policy
        ),
    )
