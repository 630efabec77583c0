"""Which members a 資格確認書 run prints a certificate for, and with what.

A certificate run (`certificates`: everyone eligible on the day who needs one and holds no
valid one; `renewals`: holders of a certificate expiring before a day who still need one)
is a run like the notices': the same extraction stream (issuance/extract.py), partitions,
engine, resume and verify. `CertificatePlanner` is what differs in the stream: it turns each
eligible person's target into a certificate target (reason, 有効期限, 発効期日, 限度額適用区分
when asked for, whether it supersedes one) or drops it. It is built per range task from the
people of that 記号 range only, so no process holds the registry in memory.

Issued certificates are written when their partition is recorded (certificate_record), the
return requests and their letters are certificate_returns and return_letters.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, select

from shikaku.domain.certificate import (
    CertificateReason,
    certificate_due,
    certificate_effective_from,
    certificate_valid_until,
)
from shikaku.domain.copay import cap_category
from shikaku.domain.errors import DomainError
from shikaku.domain.members import Relationship
from shikaku.issuance.extract import symbol_range
from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.targets import Target
from shikaku.registry.bulk import in_lists
from shikaku.registry.household import household_insured, pay_in_force
from shikaku.registry.tables import (
    certificate_applications,
    certificates,
    mynacard_registrations,
    pay_periods,
    persons,
)
from shikaku.settings import load_burden_table_files


@dataclass(frozen=True, slots=True)
class _Current:
    """A person's latest certificate (not superseded, not returned)."""

    id: int
    valid_until: date
    cap_requested: bool


def _in_range(low: str | None, high: str | None) -> Any:
    """The people of a 記号 range (a join with persons)."""
    return symbol_range(persons.c.symbol, low, high)


def current_certificates(
    conn: Connection, insurer_number: str, low: str | None, high: str | None
) -> dict[int, _Current]:
    """The latest certificate of each person of the 記号 range who holds one."""
    c, p = certificates.c, persons.c
    rows = conn.execute(
        select(c.person_id, c.id, c.valid_until, c.cap_requested)
        .join(persons, p.id == c.person_id)
        .where(
            p.insurer_number == insurer_number,
            _in_range(low, high),
            c.superseded_by.is_(None),
            c.returned_on.is_(None),
        )
        .order_by(c.person_id, c.id)
    )
    return {pid: _Current(cid, until, bool(cap)) for pid, cid, until, cap in rows}


class CertificatePlanner:
    """Decides, person by person, whether a certificate run prints one and with what.

    Built per extraction task from the people of its 記号 range only (their registrations,
    applications and current certificates, three statements joined to persons by the range),
    so no process holds the whole registry's."""

    def __init__(
        self, conn: Connection, run: Any, config: RunConfig, low: str | None, high: str | None
    ) -> None:
        self.kind: str = run.kind
        self.day: date = run.extraction_date
        self.issued_on: date = run.issued_on
        self.expiring_before: date | None = run.expiring_before
        self.config = config
        self.tables = load_burden_table_files(Path(p) for p in config.burden_tables)
        p = persons.c
        mine = and_(p.insurer_number == config.insurer_number, _in_range(low, high))
        m = mynacard_registrations.c
        self.registration: dict[int, tuple[date, date | None, date | None]] = {}
        for pid, reg, cancelled, ecert in conn.execute(
            select(m.person_id, m.registered_on, m.cancelled_on, m.ecert_expires_on)
            .join(persons, p.id == m.person_id)
            .where(mine, m.registered_on <= self.day)
            .order_by(m.person_id, m.registered_on)
        ):
            self.registration[pid] = (reg, cancelled, ecert)  # the latest wins
        a = certificate_applications.c
        self.open_apps: dict[int, set[CertificateReason]] = {}
        self.assist: set[int] = set()
        self.cap_asked: set[int] = set()
        for pid, reason, closed, cap in conn.execute(
            select(a.person_id, a.reason, a.closed_by, a.cap_requested)
            .join(persons, p.id == a.person_id)
            .where(mine, a.applied_on <= self.day)
            .order_by(a.person_id, a.id)
        ):
            if reason == CertificateReason.NEEDS_ASSISTANCE:
                self.assist.add(pid)
            if closed is None:
                self.open_apps.setdefault(pid, set()).add(CertificateReason(reason))
                if cap:
                    self.cap_asked.add(pid)
        self.current = current_certificates(conn, config.insurer_number, low, high)
        asked = self.cap_asked | {pid for pid, cur in self.current.items() if cur.cap_requested}
        self.household_pay = household_pay(conn, asked, self.issued_on)

    def prepare(self, rows: list[Any]) -> list[Any]:
        """Certificates never print a My Number digit: nothing is decrypted. Delivered home
        unless the setting says via employer (任意継続 always home); a member with no home
        address on file (nor their insured person) goes through the employer instead."""
        addressed = {r.person_id for r in rows if r.postal_code and r.address}
        for r in rows:
            r.my_number_ct = None
            r.my_number_status = "none"
            home = r.person_id in addressed or r.insured_id in addressed
            if self.config.certificate_delivery == "home" and home:
                r.delivery = "home"
        return rows

    def reason_for(self, person_id: int) -> CertificateReason | None:
        reg, cancelled, ecert = self.registration.get(person_id, (None, None, None))
        return certificate_due(
            self.day,
            registered_on=reg,
            cancelled_on=cancelled,
            ecert_expires_on=ecert,
            grace_months=self.config.ecert_grace_months,
            applications=self.open_apps.get(person_id, ()),
            needs_assistance=person_id in self.assist,
        )

    def decide(
        self, target: Target, held: str | None, summary: Any
    ) -> tuple[Target, str | None] | None:
        pid = target.person_id
        try:
            reason = self.reason_for(pid)
        except DomainError as exc:
            return target, held or f"規則: {exc.ja}"
        current = self.current.get(pid)
        if reason is None:
            summary.not_needed += 1
            return None
        if self.kind == "renewals":
            assert self.expiring_before is not None
            if current is None or current.valid_until >= self.expiring_before:
                summary.not_needed += 1
                return None
            reason = CertificateReason.RENEWAL_EXPIRY
        elif (
            current is not None
            and current.valid_until >= self.day
            and not self.open_apps.get(pid)  # holds one; only an application replaces it
        ):
            summary.holding += 1
            return None
        try:
            until = certificate_valid_until(
                self.issued_on,
                target.birth_date,
                rule=self.config.validity_rule,
                years=self.config.validity_years,
            )
        except DomainError as exc:
            return target, held or f"規則: {exc.ja}"
        effective = certificate_effective_from(
            target.birth_date, target.eligible_from, self.issued_on
        )
        cap = None
        if pid in self.cap_asked or (current is not None and current.cap_requested):
            cap = self._cap_label(target)
        return (
            dataclasses.replace(
                target,
                my_number_state="none",
                my_number_last4=None,
                cert_reason=str(reason),
                valid_until=until,
                effective_from=effective,
                cap_category=cap,
                supersedes=current is not None and current.valid_until >= self.issued_on,
            ),
            held,
        )

    def _cap_label(self, target: Target) -> str | None:
        """限度額適用区分 on the issue day: the household's 標準報酬月額 and 住民税非課税 (the
        insured person's pay record in force that day), as the clinic API answers it; None
        when no pay record is in force."""
        record = self.household_pay.get(target.person_id)
        if record is None:
            return None
        birth, pay, tax_exempt = record
        try:
            category = cap_category(
                target.birth_date,
                self.issued_on,
                insured_birth=birth,
                insured_standard_monthly_pay=int(pay or 0),
                is_insured=target.relationship == Relationship.INSURED,
                tax_exempt=bool(tax_exempt),
                tables=self.tables,
            )
        except DomainError:
            return None
        label = category.label
        return label if label.startswith(("現役", "一般", "低所得")) else f"区分{label}"


def household_pay(
    conn: Connection, person_ids: set[int], day: date
) -> dict[int, tuple[date, Any, Any]]:
    """For the people who asked for their 限度額適用区分: their household's (insured person's
    birth date, 標準報酬月額, 住民税非課税) from the pay record in force on the day
    (registry.household, as the clinic lookup reads it). Read once per range task."""
    p, pp = persons.c, pay_periods.c
    insured = persons.alias("insured")
    records: dict[int, tuple[date, Any, Any]] = {}
    for chunk in in_lists(sorted(person_ids)):
        for pid, birth, pay, tax_exempt in conn.execute(
            select(p.id, insured.c.birth_date, pp.standard_monthly_pay, pp.tax_exempt)
            .join_from(persons, insured, insured.c.id == household_insured(persons))
            .join(
                pay_periods,
                and_(
                    pp.person_id == insured.c.id,
                    pp.effective_from == pay_in_force(insured.c.id, day),
                ),
            )
            .where(p.id.in_(chunk))
        ):
            records[pid] = (birth, pay, tax_exempt)
    return records
