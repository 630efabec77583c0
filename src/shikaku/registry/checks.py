"""What an eligibility check reads: one statement per lookup.

The person must match on every key, birth date included (DOMAIN.md §5); nothing is read for
a lookup that matches nobody. The statement returns the person with their periods, joined
to the household's pay on the day, the マイナ保険証 registration and the newest 資格確認書 (each
the newest row on or before the day), and when another record under the same My Number that
covers the day began (a newer qualification if it began later).

It runs as the driver's own SQL text, compiled once per dialect, on the driver's cursor:
SQLAlchemy's per-statement and result work cost as much as the query. `find_records` is the
form for one lookup (SQLite's checker, scripts); `find_many` runs many lookups in one
statement, the API's on PostgreSQL (psycopg's own connection, checkers.postgres).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Date,
    Dialect,
    String,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import replacement_traverse

if TYPE_CHECKING:
    from psycopg import Connection as PsycopgConnection

from shikaku.domain.members import Period
from shikaku.registry.db import in_force_on, pg_array
from shikaku.registry.household import household_insured, pay_in_force
from shikaku.registry.tables import (
    certificates,
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
class Certificate:
    valid_until: date
    superseded_on: date | None
    returned_on: date | None


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
    elsewhere_from: date | None  # start of another record's (same My Number) covering period
    certificate: Certificate | None  # the newest 資格確認書 issued on or before the day


_p, _e = persons.c, eligibility_periods.c
_other = persons.alias("other")

_insured = household_insured(persons)


# The newest row on or before the day of each dated table, joined once (its columns come with
# the one probe; a scalar subquery per column would search the same row again each time).
_pay, _reg, _cert = (
    pay_periods.alias("pay"),
    mynacard_registrations.alias("reg"),
    certificates.alias("cert"),
)


def _newest(table: Any, dated: str, owner: Any) -> Any:
    """The newest date of `table`'s rows of `owner` on or before the lookup's day."""
    return in_force_on(table, dated, owner, bindparam("day"))


def _newest_certificate() -> Any:
    """The certificate issued last on or before the day (of one day's, the latest id)."""
    c = certificates.alias()
    return (
        select(func.max(c.c.id))
        .where(c.c.person_id == _p.id, c.c.issued_on == _newest(certificates, "issued_on", _p.id))
        .correlate_except(c)
        .scalar_subquery()
    )


_elsewhere = eligibility_periods.alias("elsewhere")
# The day the period of another record of the same My Number covering the day began (the
# rules call it newer only when it began after the answer's own period: domain.eligibility).
_ELSEWHERE_FROM = (
    select(func.max(_elsewhere.c.eligible_from))
    .select_from(_other)
    .join(_elsewhere, _elsewhere.c.person_id == _other.c.id)
    .where(
        _other.c.my_number_bidx == _p.my_number_bidx,
        _other.c.id != _p.id,
        _elsewhere.c.eligible_from <= bindparam("day"),
        or_(_elsewhere.c.lost_on.is_(None), _elsewhere.c.lost_on > bindparam("day")),
    )
    .correlate_except(_other, _elsewhere)  # the lookup's person and day, however nested
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
        _pay.c.standard_monthly_pay.label("pay"),
        _pay.c.tax_exempt,
        _reg.c.registered_on,
        _reg.c.cancelled_on,
        _reg.c.ecert_expires_on,
        _ELSEWHERE_FROM.label("elsewhere_from"),
        _cert.c.valid_until.label("certificate_valid_until"),
        _cert.c.superseded_on.label("certificate_superseded_on"),
        _cert.c.returned_on.label("certificate_returned_on"),
    )
    .join_from(persons, eligibility_periods, _e.person_id == _p.id, isouter=True)
    .join(
        _pay,
        and_(
            _pay.c.person_id == _insured,
            _pay.c.effective_from == pay_in_force(_insured, bindparam("day")),
        ),
        isouter=True,
    )
    .join(
        _reg,
        and_(
            _reg.c.person_id == _p.id,
            _reg.c.registered_on == _newest(mynacard_registrations, "registered_on", _p.id),
        ),
        isouter=True,
    )
    .join(_cert, _cert.c.id == _newest_certificate(), isouter=True)
    .where(
        _p.insurer_number == bindparam("insurer"),
        _p.symbol == bindparam("symbol"),
        _p.number == bindparam("number"),
        _p.branch == bindparam("branch"),
        _p.birth_date == bindparam("birth"),
    )
    .order_by(_p.id, _e.eligible_from)
)


# Many lookups in one statement (the API on PostgreSQL: checkers.postgres): the keys arrive as
# arrays, one row of `q` per lookup, and _FIND runs once per row with q's columns in place of
# its parameters. One round trip and one execution for a batch instead of one per lookup.
_KEYS = {
    "insurer": String,
    "symbol": String,
    "number": String,
    "branch": String,
    "birth": Date,
    "day": Date,
}
_q = (
    func.unnest(*[bindparam(name, type_=ARRAY(kind)) for name, kind in _KEYS.items()])
    .table_valued(*[column(name, kind) for name, kind in _KEYS.items()], with_ordinality="n")
    .render_derived(name="q", with_types=False)
)


def _from_q(element: Any, **_kw: Any) -> Any:
    if isinstance(element, BindParameter) and element.key in _KEYS:
        return _q.c[element.key]
    return None


# OFFSET 0 keeps the subquery from being merged into the outer join: it is planned on its own
# as the one-lookup statement, index probes by the keys, whatever the planner believes of the
# arrays' length or of tables not analysed yet (merged, a fresh 1M-member import was read
# with sequential scans: 315 lookups/s).
_per_lookup: Any = replacement_traverse(_FIND.order_by(None), {}, _from_q)  # still a Select
_one = _per_lookup.offset(literal_column("0")).lateral("r")
_FIND_MANY = (
    select(_q.c.n, _one)
    .select_from(_q)
    .join(_one, true())
    .order_by(_q.c.n, _one.c.id, _one.c.eligible_from)
)


@lru_cache(maxsize=8)
def _driver_sql(dialect: Dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
    """_FIND as the driver's own SQL text: a lookup skips SQLAlchemy's per-statement work
    (measured: most of a lookup's time on the API's hot path)."""
    compiled = _FIND.compile(dialect=dialect)
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    fixed = {k: v for k, v in compiled.params.items() if v is not None}  # LIMIT 1 and the like
    return compiled.string, order, fixed


def _day(value: Any) -> Any:
    """SQLite hands dates back as ISO text when read below SQLAlchemy's types."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _params(
    dialect: Dialect,
    insurer_number: str,
    symbol: str,
    number: str,
    branch: str,
    birth: date,
    day: date,
) -> tuple[str, Any]:
    iso = dialect.name == "sqlite"  # sqlite3 takes dates as ISO text; the others as dates
    values: dict[str, Any] = {
        "insurer": insurer_number, "symbol": symbol, "number": number, "branch": branch,
        "birth": birth.isoformat() if iso else birth, "day": day.isoformat() if iso else day,
    }  # fmt: skip
    sql, order, fixed = _driver_sql(dialect)
    values.update(fixed)
    return sql, tuple(values[name] for name in order) if order is not None else values


def find_records(
    conn: Connection,
    insurer_number: str,
    symbol: str,
    number: str,
    branch: str,
    birth: date,
    day: date,
) -> list[PersonRecord]:
    """Every person record matching all keys (at most one: the keys are unique).
    Errors are the driver's own, not SQLAlchemy's."""
    sql, params = _params(conn.dialect, insurer_number, symbol, number, branch, birth, day)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return _records(cursor.fetchall())
    finally:
        cursor.close()


def find_many(
    conn: PsycopgConnection[Any], lookups: Sequence[tuple[str, str, str, str, date, date]]
) -> list[list[PersonRecord]]:
    """`find_records` for each of `lookups` (insurer_number, symbol, number, branch, birth,
    day), in one statement on a psycopg connection, prepared on it once; the records of
    each, in order."""
    if not lookups:
        return []
    params = dict(zip(_KEYS, map(pg_array, zip(*lookups, strict=True)), strict=True))
    cursor = conn.cursor(binary=True)
    cursor.execute(_many_sql(), params, prepare=True)
    found: list[list[tuple[Any, ...]]] = [[] for _ in lookups]
    for row in cursor.fetchall():
        found[row[0] - 1].append(row[1:])
    return [_records(group) if group else [] for group in found]


@lru_cache(maxsize=1)
def _many_sql() -> str:
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    return str(_FIND_MANY.compile(dialect=PGDialect_psycopg()))


def _records(rows: Sequence[Any]) -> list[PersonRecord]:
    records: list[PersonRecord] = []
    periods: list[tuple[Period, str | None]] = []
    for i, row in enumerate(rows):
        (pid, relationship, insured_id, name, kana, birth_date, sex, old_card, has_mn,
         eligible_from, lost_on, reason, insured_birth, pay, exempt, registered, cancelled,
         ecert, elsewhere, cert_until, cert_superseded, cert_returned) = row  # fmt: skip
        if eligible_from is not None:
            periods.append((Period(_day(eligible_from), _day(lost_on)), reason))
        if i + 1 == len(rows) or rows[i + 1][0] != pid:
            registration = (
                Registration(_day(registered), _day(cancelled), _day(ecert))
                if registered is not None
                else None
            )
            certificate = (
                Certificate(_day(cert_until), _day(cert_superseded), _day(cert_returned))
                if cert_until is not None
                else None
            )
            born = _day(birth_date)
            household = Household(_day(insured_birth) or born, pay, bool(exempt))
            records.append(
                PersonRecord(
                    pid, relationship, insured_id, name, kana, born, sex, _day(old_card),
                    bool(has_mn), tuple(periods), household, registration, _day(elsewhere),
                    certificate,
                )
            )  # fmt: skip
            periods = []
    return records
