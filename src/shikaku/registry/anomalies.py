"""The registry read for domain.anomalies: households streamed in key order, and pairs of
records under one My Number whose coverage overlaps. Two statements, whatever the size."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import groupby

from sqlalchemy import Connection, and_, or_, select

from shikaku.domain.anomalies import MemberFacts
from shikaku.domain.members import Period, Relationship
from shikaku.registry.tables import eligibility_periods, persons

_STREAM_ROWS = 5000


@dataclass(frozen=True, slots=True)
class Household:
    insured: MemberFacts | None  # None: dependents whose insured person is not on file
    dependents: tuple[MemberFacts, ...]


def iter_households(conn: Connection) -> Iterator[Household]:
    """Every household (same 保険者番号・記号・番号) with its members' periods, in key order:
    one streamed statement along the persons' unique index."""
    p, e = persons.c, eligibility_periods.c
    rows = conn.execution_options(yield_per=_STREAM_ROWS).execute(
        select(
            p.insurer_number,
            p.symbol,
            p.number,
            p.id,
            p.relationship,
            p.birth_date,
            e.eligible_from,
            e.lost_on,
        )
        .join_from(persons, eligibility_periods, e.person_id == p.id, isouter=True)
        .order_by(p.insurer_number, p.symbol, p.number, p.branch, e.eligible_from)
    )
    for _key, household in groupby(rows, key=lambda r: (r[0], r[1], r[2])):
        insured: MemberFacts | None = None
        dependents: list[MemberFacts] = []
        for _pid, person_rows in groupby(household, key=lambda r: r[3]):
            first, *rest = list(person_rows)
            periods = tuple(
                Period(r.eligible_from, r.lost_on)
                for r in (first, *rest)
                if r.eligible_from is not None
            )
            facts = MemberFacts(first.id, first.relationship, first.birth_date, periods)
            if first.relationship == Relationship.INSURED:
                insured = facts
            else:
                dependents.append(facts)
        yield Household(insured, tuple(dependents))


def overlapping_my_numbers(conn: Connection) -> dict[tuple[int, int], date]:
    """For each pair of records under one My Number (blind index) whose periods overlap, the
    lower person id first: the first day both cover."""
    a, b = persons.alias("a"), persons.alias("b")
    ea, eb = eligibility_periods.alias("ea"), eligibility_periods.alias("eb")
    rows = conn.execute(
        select(a.c.id, b.c.id, ea.c.eligible_from, eb.c.eligible_from)
        .join_from(a, b, and_(b.c.my_number_bidx == a.c.my_number_bidx, b.c.id > a.c.id))
        .join(ea, ea.c.person_id == a.c.id)
        .join(eb, eb.c.person_id == b.c.id)
        .where(
            a.c.my_number_bidx.is_not(None),
            or_(eb.c.lost_on.is_(None), ea.c.eligible_from < eb.c.lost_on),
            or_(ea.c.lost_on.is_(None), eb.c.eligible_from < ea.c.lost_on),
        )
    )
    first: dict[tuple[int, int], date] = {}
    for person, other, start, other_start in rows:
        since = max(start, other_start)
        first[person, other] = min(since, first.get((person, other), since))
    return first
