"""Registry totals staff check after an import, a fixed number of statements.

(The clinic lookup is `registry.checks`; the issuance extraction reads in `issuance.extract`.)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from shikaku.registry.tables import employers, mynacard_registrations, persons


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
