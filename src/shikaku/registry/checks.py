"""What an eligibility check reads: a fixed, small number of statements per lookup.

The person must match on every key, birth date included (DOMAIN.md §5); nothing is read for
a lookup that matches nobody. One statement for the person and their periods, one for the
household's pay on the day, one for the マイナ保険証 registration, and only when no period
covers the day one more for a newer qualification under the same My Number elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select

from shikaku.domain.members import Period
from shikaku.registry.tables import (
    eligibility_periods,
    mynacard_registrations,
    pay_periods,
    persons,
)


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
    household: Household  # the insured person's (the person's own when insured)
    registration: Registration | None  # the latest マイナ保険証 registration on the day


_p, _e = persons.c, eligibility_periods.c
_other = persons.alias("other")

_insured = func.coalesce(_p.insured_id, _p.id)


def _latest_pay(column: Any) -> Any:
    pay = pay_periods.alias()
    return (
        select(pay.c[column])
        .where(pay.c.person_id == _insured, pay.c.effective_from <= bindparam("day"))
        .order_by(pay.c.effective_from.desc())
        .limit(1)
        .scalar_subquery()
    )


def _latest_registration(column: str) -> Any:
    reg = mynacard_registrations.alias()
    return (
        select(reg.c[column])
        .where(reg.c.person_id == _p.id, reg.c.registered_on <= bindparam("day"))
        .order_by(reg.c.registered_on.desc())
        .limit(1)
        .scalar_subquery()
    )


_insured_person = persons.alias("insured")
_FIND = (
    select(
        _p.id,
        _p.relationship,
        _p.insured_id,
        _p.name,
        _p.name_kana,
        _p.birth_date,
        _p.sex,
        _p.old_card_expires_on,
        _p.my_number_bidx.is_not(None).label("has_my_number"),
        _e.eligible_from,
        _e.lost_on,
        _e.loss_reason,
        select(_insured_person.c.birth_date)
        .where(_insured_person.c.id == _insured)
        .scalar_subquery()
        .label("insured_birth"),
        _latest_pay("standard_monthly_pay").label("pay"),
        _latest_pay("tax_exempt").label("tax_exempt"),
        _latest_registration("registered_on").label("registered_on"),
        _latest_registration("cancelled_on").label("cancelled_on"),
        _latest_registration("ecert_expires_on").label("ecert_expires_on"),
    )
    .join_from(persons, eligibility_periods, _e.person_id == _p.id, isouter=True)
    .where(
        _p.insurer_number == bindparam("insurer"),
        _p.symbol == bindparam("symbol"),
        _p.number == bindparam("number"),
        _p.branch == bindparam("branch"),
        _p.birth_date == bindparam("birth"),
    )
    .order_by(_p.id, _e.eligible_from)
)

_ELSEWHERE = (
    select(_other.c.id)
    .join_from(persons, _other, _p.my_number_bidx == _other.c.my_number_bidx)
    .join(eligibility_periods, _e.person_id == _other.c.id)
    .where(
        _p.id == bindparam("person"),
        _other.c.id != bindparam("person"),
        _e.eligible_from <= bindparam("day"),
        or_(_e.lost_on.is_(None), _e.lost_on > bindparam("day")),
    )
    .limit(1)
)


def find_records(
    conn: Connection,
    insurer_number: str,
    symbol: str,
    number: str,
    branch: str,
    birth: date,
    day: date,
) -> list[PersonRecord]:
    """Every person record matching all keys (at most one: the keys are unique)."""
    keys = {"insurer": insurer_number, "symbol": symbol, "number": number, "branch": branch}
    rows = conn.execute(_FIND, {**keys, "birth": birth, "day": day}).all()
    records: list[PersonRecord] = []
    periods: list[tuple[Period, str | None]] = []
    for i, row in enumerate(rows):
        if row.eligible_from is not None:
            periods.append((Period(row.eligible_from, row.lost_on), row.loss_reason))
        if i + 1 == len(rows) or rows[i + 1].id != row.id:
            registration = (
                Registration(row.registered_on, row.cancelled_on, row.ecert_expires_on)
                if row.registered_on is not None
                else None
            )
            household = Household(
                row.insured_birth or row.birth_date, row.pay, bool(row.tax_exempt)
            )
            records.append(
                PersonRecord(
                    row.id, row.relationship, row.insured_id, row.name, row.name_kana,
                    row.birth_date, row.sex, row.old_card_expires_on, bool(row.has_my_number),
                    tuple(periods), household, registration,
                )
            )  # fmt: skip
            periods = []
    return records


def covered_elsewhere(conn: Connection, person_id: int, day: date) -> bool:
    """Another record with this person's My Number covers the day (a newer qualification)."""
    return conn.execute(_ELSEWHERE, {"person": person_id, "day": day}).first() is not None
