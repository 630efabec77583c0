"""The clinic's question: is this person covered on this day, at what copay, with which
document? Registry reads (registry.checks) plus pure rules (domain); nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from shikaku.domain.ages import late_elderly_on
from shikaku.domain.certificate import (
    ECERT_GRACE_MONTHS,
    holds_valid_certificate,
    mynacard_usable_on,
)
from shikaku.domain.copay import (
    DEFAULT_BURDEN_TABLES,
    BurdenTables,
    CapCategory,
    cap_category,
    copay_rate,
)
from shikaku.domain.documents import (
    DEFAULT_DOCUMENT_POLICY,
    Document,
    DocumentPolicy,
    accepted_documents,
)
from shikaku.domain.eligibility import (
    EligibilityAnswer,
    Validity,
    eligibility_on,
    statutory_window,
    within_window,
)
from shikaku.domain.members import Relationship
from shikaku.registry import checks
from shikaku.security.audit import AuditEntry
from shikaku.settings import Settings, load_burden_tables


@dataclass(frozen=True)
class CheckQuery:
    insurer_number: str
    symbol: str
    number: str
    branch: str
    birth_date: date
    service_date: date
    consent_cap_info: bool = False
    facility_has_online_check: bool = True

    @property
    def lookup_keys(self) -> tuple[str, str, str, str, date, date]:
        """What the registry is searched by (registry.checks): the four keys, the birth
        date and the day."""
        return (self.insurer_number, self.symbol, self.number, self.branch, self.birth_date,
                self.service_date)  # fmt: skip


@dataclass(frozen=True)
class CheckResult:
    validity: Validity
    person_id: int | None = None  # for the audit log only, never shown
    relationship: int | None = None
    name: str | None = None
    name_kana: str | None = None
    eligible_from: date | None = None
    lost_on: date | None = None
    loss_reason: str | None = None
    copay_rate: int | None = None
    cap_category: CapCategory | None = None
    accepted_documents: tuple[Document, ...] = ()


@dataclass(frozen=True)
class CheckRules:
    """The dated policy data a check applies (settings: policy.*): the transition dates,
    the e-certificate grace and the burden tables, built once per process."""

    documents: DocumentPolicy = DEFAULT_DOCUMENT_POLICY
    ecert_grace_months: int = ECERT_GRACE_MONTHS
    tables: BurdenTables = DEFAULT_BURDEN_TABLES

    @classmethod
    def from_settings(cls, settings: Settings) -> CheckRules:
        return cls(
            DocumentPolicy.from_policy(settings.policy),
            settings.policy.ecert_grace_months,
            load_burden_tables(settings.policy),
        )

    @property
    def first_day(self) -> date:
        """The first service day every dated table covers: an earlier day has no 負担割合 or
        区分 to answer with (the built-in tables start on 2018-08-01)."""
        return max(self.tables.copay[0].effective_from, self.tables.caps[0].effective_from)

    def refusal(self, q: CheckQuery) -> str | None:
        """Why the rules cannot answer this query at all (a message naming the field), or
        None. Checked before the lookup, so a refused query reads nothing."""
        if q.service_date < self.first_day:
            return (
                f"service_date: {self.first_day.isoformat()} より前の受診日には負担割合の表がありません "
                f"(no burden table before {self.first_day.isoformat()})"
            )
        return None


DEFAULT_CHECK_RULES = CheckRules()


def check_eligibility(conn: Connection, q: CheckQuery, rules: CheckRules) -> CheckResult:
    records = checks.find_records(conn, *q.lookup_keys)
    return answer(records, q, rules)


def audit_entry(clinic_id: int | None, kind: str, result: CheckResult) -> AuditEntry:
    """A check's audit row: who asked, whom it found, the validity code (all it needs)."""
    return AuditEntry(
        clinic_id=clinic_id,
        kind=kind,
        person_id=result.person_id,
        result=str(int(result.validity)),
    )


def answer(
    records: Sequence[checks.PersonRecord], q: CheckQuery, rules: CheckRules = DEFAULT_CHECK_RULES
) -> CheckResult:
    """The rules applied to what the registry holds for the query's keys."""
    if not records:
        return CheckResult(Validity.NOT_FOUND)
    day = q.service_date
    histories = [
        within_window(r.periods, statutory_window(r.birth_date, r.household.insured_birth))
        for r in records
    ]
    person = records[0]
    # The other record is the same person (one My Number): from their 75th birthday it covers
    # nothing here either, whatever the registry holds.
    newer_from = (
        person.elsewhere_from
        if len(records) == 1 and day < late_elderly_on(person.birth_date)
        else None
    )
    answer = eligibility_on(histories, day, newer_from=newer_from)
    if answer.validity is Validity.MULTIPLE:
        return CheckResult(Validity.MULTIPLE)
    if answer.validity is not Validity.VALID:
        return _result(answer, person)
    assert answer.period is not None  # VALID always names its period
    is_insured = person.relationship == Relationship.INSURED
    household = person.household
    insured_birth = household.insured_birth
    pay = household.standard_monthly_pay or 0
    # Within the statutory window every rule has an answer: a VALID answer always has a rate.
    rate = copay_rate(
        person.birth_date,
        day,
        insured_birth=insured_birth,
        insured_standard_monthly_pay=pay,
        is_insured=is_insured,
        tables=rules.tables,
    )
    category = (
        cap_category(
            person.birth_date,
            day,
            insured_birth=insured_birth,
            insured_standard_monthly_pay=pay,
            is_insured=is_insured,
            tax_exempt=household.tax_exempt,
            tables=rules.tables,
        )
        if q.consent_cap_info
        else None
    )
    registration = person.registration
    has_card = registration is not None and mynacard_usable_on(
        day,
        registered_on=registration.registered_on,
        cancelled_on=registration.cancelled_on,
        ecert_expires_on=registration.ecert_expires_on,
        grace_months=rules.ecert_grace_months,
    )
    documents = accepted_documents(
        day,
        eligible=True,
        facility_has_online_check=q.facility_has_online_check,
        old_card_expires_on=person.old_card_expires_on,
        has_old_card=rules.documents.holds_old_card(answer.period.eligible_from),
        certificate_valid_until=_certificate_until(person.certificate, day),
        has_mynacard=has_card,
        policy=rules.documents,
    )
    return _result(answer, person, rate, category, documents)


def _result(
    answer: EligibilityAnswer,
    person: checks.PersonRecord,
    rate: int | None = None,
    category: CapCategory | None = None,
    documents: tuple[Document, ...] = (),
) -> CheckResult:
    period = answer.period
    return CheckResult(
        validity=answer.validity,
        person_id=person.person_id,
        relationship=person.relationship,
        name=person.name,
        name_kana=person.name_kana,
        eligible_from=period.eligible_from if period else None,
        lost_on=period.lost_on if period else None,
        loss_reason=answer.loss_reason,
        copay_rate=rate,
        cap_category=category,
        accepted_documents=documents,
    )


def _certificate_until(certificate: checks.Certificate | None, day: date) -> date | None:
    """The 有効期限 of the person's 資格確認書 if it is valid on the day (issued, not
    superseded, not returned), else None: only then is it an accepted document."""
    if certificate is None or not holds_valid_certificate(
        day,
        valid_until=certificate.valid_until,
        superseded_on=certificate.superseded_on,
        returned_on=certificate.returned_on,
    ):
        return None
    return certificate.valid_until
