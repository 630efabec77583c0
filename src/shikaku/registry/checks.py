"""What an eligibility check reads: a fixed, small number of statements per lookup.

The person must match on every key, birth date included (DOMAIN.md §5); nothing is read for
a lookup that matches nobody. One statement for the person and their periods, one for the
household's pay on the day, one for the マイナ保険証 registration, and only when no period
covers the day one more for a newer qualification under the same My Number elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, and_, or_, select

from shikaku.domain.members import Period
from shikaku.registry.tables import (
    eligibility_periods,
    mynacard_registrations,
    pay_periods,
    persons,
)


@dataclass(frozen=True)
class PersonRecord:
    person_id: int
    relationship: int
    insured_id: int | None
    name: str
    name_kana: str
    birth_date: date
    sex: int
    old_card_expires_on: date | None
    has_my_number: bool
    periods: tuple[tuple[Period, str | None], ...]  # oldest first


@dataclass(frozen=True)
class Household:
    insured_birth: date
    standard_monthly_pay: int | None
    tax_exempt: bool


@dataclass(frozen=True)
class Registration:
    registered_on: date
    cancelled_on: date | None
    ecert_expires_on: date | None


def find_records(
    conn: Connection, insurer_number: str, symbol: str, number: str, branch: str, birth: date
) -> list[PersonRecord]:
    """Every person record matching all keys (at most one: the keys are unique)."""
    p, e = persons.c, eligibility_periods.c
    rows = conn.execute(
        select(
            p.id,
            p.relationship,
            p.insured_id,
            p.name,
            p.name_kana,
            p.birth_date,
            p.sex,
            p.old_card_expires_on,
            p.my_number_bidx.is_not(None).label("has_my_number"),
            e.eligible_from,
            e.lost_on,
            e.loss_reason,
        )
        .join_from(persons, eligibility_periods, e.person_id == p.id, isouter=True)
        .where(
            p.insurer_number == insurer_number,
            p.symbol == symbol,
            p.number == number,
            p.branch == branch,
            p.birth_date == birth,
        )
        .order_by(p.id, e.eligible_from)
    ).all()
    records: list[PersonRecord] = []
    for row in rows:
        if not records or records[-1].person_id != row.id:
            records.append(
                PersonRecord(
                    row.id,
                    row.relationship,
                    row.insured_id,
                    row.name,
                    row.name_kana,
                    row.birth_date,
                    row.sex,
                    row.old_card_expires_on,
                    bool(row.has_my_number),
                    (),
                )
            )
        if row.eligible_from is not None:
            last = records[-1]
            period = (Period(row.eligible_from, row.lost_on), row.loss_reason)
            records[-1] = PersonRecord(**{**last.__dict__, "periods": (*last.periods, period)})
    return records


def household_on(conn: Connection, insured_id: int, day: date) -> Household | None:
    """The insured person's birth date and latest pay period on the day."""
    p, pay = persons.c, pay_periods.c
    row = conn.execute(
        select(p.birth_date, pay.standard_monthly_pay, pay.tax_exempt)
        .join_from(
            persons,
            pay_periods,
            and_(pay.person_id == p.id, pay.effective_from <= day),
            isouter=True,
        )
        .where(p.id == insured_id)
        .order_by(pay.effective_from.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return Household(row.birth_date, row.standard_monthly_pay, bool(row.tax_exempt))


def registration_on(conn: Connection, person_id: int, day: date) -> Registration | None:
    r = mynacard_registrations.c
    row = conn.execute(
        select(r.registered_on, r.cancelled_on, r.ecert_expires_on)
        .where(r.person_id == person_id, r.registered_on <= day)
        .order_by(r.registered_on.desc())
        .limit(1)
    ).first()
    return None if row is None else Registration(*row)


def covered_elsewhere(conn: Connection, person_id: int, day: date) -> bool:
    """Another record with this person's My Number covers the day (a newer qualification)."""
    p, e = persons.c, eligibility_periods.c
    other = persons.alias("other")
    query = (
        select(other.c.id)
        .join_from(persons, other, and_(p.my_number_bidx == other.c.my_number_bidx))
        .join(eligibility_periods, e.person_id == other.c.id)
        .where(
            p.id == person_id,
            other.c.id != person_id,
            e.eligible_from <= day,
            or_(e.lost_on.is_(None), e.lost_on > day),
        )
        .limit(1)
    )
    return conn.execute(query).first() is not None
