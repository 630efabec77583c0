"""The registry's read paths that later layers lean on, each a fixed number of statements.

find_member answers a clinic's lookup (記号, 番号, 枝番 and birth date must all match) in one
statement; iter_eligible streams everyone eligible on a date, employer by employer, in one
statement, for the issuance extraction. Tests pin both counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, and_, func, or_, select

from shikaku.domain.members import Period
from shikaku.registry.tables import eligibility_periods, employers, mynacard_registrations, persons


@dataclass(frozen=True)
class MemberView:
    person_id: int
    insurer_number: str
    symbol: str
    number: str
    branch: str
    relationship: int
    name: str
    name_kana: str
    birth_date: date
    sex: int
    periods: tuple[tuple[Period, str | None], ...]  # (period, loss reason), oldest first


def find_member(
    conn: Connection, insurer_number: str, symbol: str, number: str, branch: str, birth_date: date
) -> MemberView | None:
    """All keys must match, birth date included; otherwise nothing is revealed."""
    p, e = persons.c, eligibility_periods.c
    rows = conn.execute(
        select(
            p.id,
            p.insurer_number,
            p.symbol,
            p.number,
            p.branch,
            p.relationship,
            p.name,
            p.name_kana,
            p.birth_date,
            p.sex,
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
            p.birth_date == birth_date,
        )
        .order_by(e.eligible_from)
    ).all()
    if not rows:
        return None
    first = rows[0]
    periods = tuple(
        (Period(r.eligible_from, r.lost_on), r.loss_reason) for r in rows if r.eligible_from
    )
    return MemberView(
        first.id,
        first.insurer_number,
        first.symbol,
        first.number,
        first.branch,
        first.relationship,
        first.name,
        first.name_kana,
        first.birth_date,
        first.sex,
        periods,
    )


@dataclass(frozen=True)
class EligibleRow:
    employer_id: int
    person_id: int
    symbol: str
    number: str
    branch: str
    relationship: int
    insured_id: int | None
    name: str
    name_kana: str
    birth_date: date
    eligible_from: date
    delivery: str


def iter_eligible(conn: Connection, on: date, batch: int = 10_000) -> Iterator[EligibleRow]:
    """Everyone covered on `on`, in (保険者番号, 記号, 番号, 枝番) order, streamed.

    The order is the persons table's unique index, so no sort is needed at any size.
    """
    p, e, m = persons.c, eligibility_periods.c, employers.c
    query = (
        select(
            p.employer_id,
            p.id,
            p.symbol,
            p.number,
            p.branch,
            p.relationship,
            p.insured_id,
            p.name,
            p.name_kana,
            p.birth_date,
            e.eligible_from,
            m.delivery,
        )
        .join_from(persons, eligibility_periods, e.person_id == p.id)
        .join(employers, m.id == p.employer_id)
        .where(and_(e.eligible_from <= on, or_(e.lost_on.is_(None), e.lost_on > on)))
        .order_by(p.insurer_number, p.symbol, p.number, p.branch)
        .execution_options(yield_per=batch)
    )
    for row in conn.execute(query):
        yield EligibleRow(*row)


@dataclass(frozen=True)
class RegistryCounts:
    employers: int
    home_delivery_employers: int
    insured: int
    dependents: int
    my_number: dict[str, int]  # status → persons
    mynacard_registered: int


def registry_counts(conn: Connection) -> RegistryCounts:
    """A few totals staff check after an import; four aggregate statements."""
    m, p = employers.c, persons.c
    emp_rows = conn.execute(select(m.delivery, func.count()).group_by(m.delivery)).all()
    by_delivery = {delivery: int(n) for delivery, n in emp_rows}
    rel_rows = conn.execute(select(p.relationship, func.count()).group_by(p.relationship)).all()
    by_relationship = {int(rel): int(n) for rel, n in rel_rows}
    status_rows = conn.execute(
        select(p.my_number_status, func.count()).group_by(p.my_number_status)
    )
    statuses = {status: int(n) for status, n in status_rows}
    r = mynacard_registrations.c
    registered = conn.execute(
        select(func.count(func.distinct(r.person_id))).where(r.cancelled_on.is_(None))
    ).scalar_one()
    return RegistryCounts(
        employers=sum(by_delivery.values()),
        home_delivery_employers=by_delivery.get("home", 0),
        insured=by_relationship.get(1, 0),
        dependents=by_relationship.get(2, 0),
        my_number=statuses,
        mynacard_registered=int(registered),
    )
