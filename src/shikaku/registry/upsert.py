"""Apply one parsed batch to the registry: a fixed number of statements, whatever its size.

Rows are upserted on their natural key: employers on (保険者番号, 記号); members on
(保険者番号, 記号, 番号, 枝番) for the person and eligible_from for the period. A row whose
content hash matches what is stored is unchanged and costs nothing to write. Reads use plain
SQL with one placeholder list per batch: compiling SQLAlchemy's expanding IN for thousands of
keys would cost more than the query itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from shikaku.domain.errors import DomainError
from shikaku.domain.members import Period, Relationship, first_overlap
from shikaku.registry.bulk import Bulk
from shikaku.registry.db import allocate_ids
from shikaku.registry.records import EmployerRecord, MemberRecord
from shikaku.registry.rows import RowError
from shikaku.registry.tables import (
    eligibility_periods,
    employers,
    mynacard_registrations,
    pay_periods,
    persons,
)

Key = tuple[str, str, str, str]  # 保険者番号, 記号, 番号, 枝番
_INSURED = int(Relationship.INSURED)
_DEPENDENT = int(Relationship.DEPENDENT)


@dataclass
class Outcome:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def _iso(value: Any) -> Any:
    """Dates read back as ISO strings, whichever driver returned them."""
    return value.isoformat() if isinstance(value, date) else value


def _period(eligible_from: str, lost_on: str | None) -> Period:
    return Period(
        date.fromisoformat(eligible_from), date.fromisoformat(lost_on) if lost_on else None
    )


class _Reader:
    """`WHERE column IN (…)` for a batch's keys, on either database, a statement per chunk."""

    CHUNK = 30_000  # under SQLite's 32,766 host parameters

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.mark = "?" if conn.dialect.name == "sqlite" else "%s"

    def rows(self, sql: str, column: str, keys: Iterable[Any], *params: Any) -> list[Any]:
        keys = list(keys)
        out: list[Any] = []
        for start in range(0, len(keys), self.CHUNK):
            chunk = keys[start : start + self.CHUNK]
            where = f"{column} IN ({', '.join([self.mark] * len(chunk))})"
            query = sql.format(mark=self.mark, where=where)
            out.extend(self.conn.exec_driver_sql(query, (*params, *chunk)).all())
        return out

    def joined(
        self, sql: str, names: tuple[str, ...], keys: Iterable[tuple[Any, ...]], *params: Any
    ) -> list[Any]:
        """`WITH k(names) AS (VALUES …) SELECT … FROM k JOIN …`: a multi-column key list that
        both databases resolve through the unique index, one lookup per key."""
        keys = list(keys)
        width = len(names)
        row = "(" + ", ".join([self.mark] * width) + ")"
        out: list[Any] = []
        step = self.CHUNK // width
        for start in range(0, len(keys), step):
            chunk = keys[start : start + step]
            values = ", ".join([row] * len(chunk))
            query = f"WITH k({', '.join(names)}) AS (VALUES {values}) " + sql.format(mark=self.mark)
            flat = [v for key in chunk for v in key]
            out.extend(self.conn.exec_driver_sql(query, (*flat, *params)).all())
        return out


# ---------------------------------------------------------------- employers

_EMPLOYER_FIELDS = ("name", "name_kana", "postal_code", "address", "phone", "delivery", "row_hash")


def apply_employers(conn: Connection, batch: Sequence[EmployerRecord], import_id: int) -> Outcome:
    out = Outcome()
    reader = _Reader(conn)
    existing: dict[tuple[str, str], tuple[int, bytes]] = {}
    for insurer in sorted({r.insurer_number for r in batch}):
        symbols = {r.symbol for r in batch if r.insurer_number == insurer}
        for row in reader.rows(
            "SELECT id, symbol, row_hash FROM employers WHERE insurer_number = {mark} AND {where}",
            "symbol",
            symbols,
            insurer,
        ):
            existing[(insurer, row[1])] = (row[0], bytes(row[2]))
    inserts: dict[tuple[str, str], EmployerRecord] = {}
    updates: dict[int, EmployerRecord] = {}
    for rec in batch:
        key = (rec.insurer_number, rec.symbol)
        if key in existing:
            emp_id, digest = existing[key]
            if digest == rec.row_hash:
                out.unchanged += 1
                continue
            updates[emp_id] = rec
            existing[key] = (emp_id, rec.row_hash)
            out.updated += 1
        elif key in inserts:  # the same employer twice in one batch: the later row wins
            inserts[key] = rec
            out.updated += 1
        else:
            inserts[key] = rec
            out.inserted += 1
    bulk = Bulk(conn)
    bulk.insert(
        employers,
        ("insurer_number", "symbol", *_EMPLOYER_FIELDS, "import_id"),
        [(r.insurer_number, r.symbol, *r[3:], import_id) for r in inserts.values()],
    )
    bulk.update(
        employers,
        (*_EMPLOYER_FIELDS, "import_id"),
        [(*r[3:], import_id, emp_id) for emp_id, r in updates.items()],
    )
    return out


# ---------------------------------------------------------------- members


@dataclass(slots=True)
class _PeriodState:
    id: int | None
    lost_on: str | None
    row_hash: bytes


@dataclass(slots=True)
class _Person:
    id: int
    relationship: int
    birth_date: str
    person_hash: bytes
    new: bool
    periods: dict[str, _PeriodState] = field(default_factory=dict)
    pay: dict[str, tuple[int | None, bool]] = field(default_factory=dict)
    myna: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


_PERSON_FIELDS = (
    "name", "name_kana", "sex", "postal_code", "address", "my_number_ct", "my_number_bidx",
    "my_number_status", "old_card_expires_on", "row_hash", "import_id",
)  # fmt: skip
_PERIOD_FIELDS = ("eligible_from", "lost_on", "loss_reason", "row_hash", "import_id")
_PAY_FIELDS = ("effective_from", "standard_monthly_pay", "tax_exempt")
_MYNA_FIELDS = ("registered_on", "cancelled_on", "ecert_expires_on")

Pending = dict[tuple[int, str], tuple[_Person, tuple[Any, ...]]]


class _Rejected(Exception):
    def __init__(self, column: str, error: DomainError) -> None:
        self.column = column
        self.error = error


class _MemberBatch:
    """One batch: what the registry holds for its keys, and what the batch will write."""

    def __init__(self, conn: Connection, batch: Sequence[MemberRecord], insured_branch: str):
        self.conn = conn
        self.reader = _Reader(conn)
        self.batch = batch
        self.insured_branch = insured_branch
        self.out = Outcome()
        self.employer_ids: dict[tuple[str, str], int] = {}
        self.people: dict[Key, _Person] = {}
        self.owners: dict[bytes, list[tuple[Key, str, str | None]]] = {}
        # Pending writes. Inserts are keyed so that a later row of the batch replaces an
        # earlier one instead of inserting twice; new persons get their ids just before writing.
        self.person_inserts: dict[int, tuple[_Person, tuple[Any, ...], _Person | None]] = {}
        self.person_updates: dict[int, tuple[Any, ...]] = {}
        self.period_inserts: Pending = {}
        self.period_updates: dict[int, tuple[Any, ...]] = {}
        self.pay_inserts: Pending = {}
        self.pay_updates: dict[tuple[int, str], tuple[Any, ...]] = {}
        self.myna_inserts: Pending = {}
        self.myna_updates: dict[tuple[int, str], tuple[Any, ...]] = {}

    # -- reading what exists: at most six statements per batch (per insurer number)

    def load(self) -> None:
        for insurer in sorted({r.insurer_number for r in self.batch}):
            self._load_insurer(insurer)
        touched = {
            self.people[r.key].id: self.people[r.key] for r in self.batch if r.key in self.people
        }
        if touched:
            self._load_history(touched)
        self._load_my_number_owners()

    def _load_insurer(self, insurer: str) -> None:
        symbols = {r.symbol for r in self.batch if r.insurer_number == insurer}
        for emp_id, symbol in self.reader.rows(
            "SELECT id, symbol FROM employers WHERE insurer_number = {mark} AND {where}",
            "symbol",
            symbols,
            insurer,
        ):
            self.employer_ids[(insurer, symbol)] = emp_id
        numbers = {(r.symbol, r.number) for r in self.batch if r.insurer_number == insurer}
        for row in self.reader.joined(
            "SELECT p.id, p.symbol, p.number, p.branch, p.relationship, p.birth_date, p.row_hash"
            " FROM k JOIN persons p ON p.insurer_number = {mark} AND p.symbol = k.symbol"
            " AND p.number = k.number",
            ("symbol", "number"),
            sorted(numbers),
            insurer,
        ):
            key = (insurer, row[1], row[2], row[3])
            self.people[key] = _Person(row[0], row[4], _iso(row[5]), bytes(row[6]), False)

    def _load_history(self, by_id: dict[int, _Person]) -> None:
        for pid, start, lost_on, digest, period_id in self.reader.rows(
            "SELECT person_id, eligible_from, lost_on, row_hash, id FROM eligibility_periods"
            " WHERE {where}",
            "person_id",
            by_id,
        ):
            by_id[pid].periods[_iso(start)] = _PeriodState(period_id, _iso(lost_on), bytes(digest))
        if any(r.has_pay for r in self.batch):
            for pid, start, pay, exempt in self.reader.rows(
                "SELECT person_id, effective_from, standard_monthly_pay, tax_exempt"
                " FROM pay_periods WHERE {where}",
                "person_id",
                by_id,
            ):
                by_id[pid].pay[_iso(start)] = (pay, bool(exempt))
        if any(r.mynacard_registered_on for r in self.batch):
            for pid, start, cancelled, ecert in self.reader.rows(
                "SELECT person_id, registered_on, cancelled_on, ecert_expires_on"
                " FROM mynacard_registrations WHERE {where}",
                "person_id",
                by_id,
            ):
                by_id[pid].myna[_iso(start)] = (_iso(cancelled), _iso(ecert))

    def _load_my_number_owners(self) -> None:
        """Who else holds each My Number of the batch, and when they are (or were) covered."""
        wanted = {r.my_number_bidx for r in self.batch if r.my_number_bidx is not None}
        if not wanted:
            return
        for row in self.reader.rows(
            "SELECT p.insurer_number, p.symbol, p.number, p.branch, p.my_number_bidx,"
            " e.eligible_from, e.lost_on FROM persons p"
            " JOIN eligibility_periods e ON e.person_id = p.id WHERE {where}",
            "p.my_number_bidx",
            wanted,
        ):
            key = (row[0], row[1], row[2], row[3])
            self.owners.setdefault(bytes(row[4]), []).append((key, _iso(row[5]), _iso(row[6])))

    # -- deciding, row by row, in file order

    def decide(self, import_id: int) -> None:
        for rec in self.batch:
            try:
                self._decide(rec, import_id)
            except _Rejected as rej:
                self.out.errors.append(
                    RowError(rec.line, rej.column, "", rej.error.ja, rej.error.en)
                )

    def _decide(self, rec: MemberRecord, import_id: int) -> None:
        key = rec.key
        employer_id = self.employer_ids.get((rec.insurer_number, rec.symbol))
        if employer_id is None:
            raise _Rejected("記号", _no_employer(rec.symbol))
        person = self.people.get(key)
        if person is not None and person.birth_date != rec.birth_date:
            raise _Rejected("枝番", _collision(rec.branch))
        insured = None
        if rec.relationship == _DEPENDENT:
            insured = self.people.get(
                (rec.insurer_number, rec.symbol, rec.number, self.insured_branch)
            )
            if insured is None or insured.relationship != _INSURED:
                raise _Rejected("番号", _no_insured(rec.symbol, rec.number))
        if rec.my_number_bidx is not None:
            self._check_my_number(rec)

        state = person.periods.get(rec.eligible_from) if person is not None else None
        if state is not None and state.row_hash == rec.row_hash:
            self.out.unchanged += 1
            return
        if person is not None and person.periods:
            others = (_period(start, s.lost_on) for start, s in person.periods.items())
            clash = first_overlap(_period(rec.eligible_from, rec.lost_on), others)
            if clash is not None:
                raise _Rejected("資格取得年月日", _overlap(clash))

        if person is None:
            person = self._insert_person(rec, employer_id, insured, import_id)
        elif person.person_hash != rec.person_hash:
            self._update_person(person, rec, import_id)
        values = (rec.lost_on, rec.loss_reason, rec.row_hash, import_id)
        if state is None:
            person.periods[rec.eligible_from] = _PeriodState(None, rec.lost_on, rec.row_hash)
            self.out.inserted += 1
        else:
            state.lost_on, state.row_hash = rec.lost_on, rec.row_hash
            self.out.updated += 1
        if state is None or state.id is None:
            self.period_inserts[(id(person), rec.eligible_from)] = (
                person,
                (rec.eligible_from, *values),
            )
        else:
            self.period_updates[state.id] = values
        if rec.has_pay and rec.pay_effective_from:
            pay = (rec.standard_monthly_pay, bool(rec.tax_exempt))
            self._dated(
                person, person.pay, rec.pay_effective_from, pay, self.pay_inserts, self.pay_updates
            )
        if rec.mynacard_registered_on:
            myna = (rec.mynacard_cancelled_on, rec.ecert_expires_on)
            self._dated(
                person,
                person.myna,
                rec.mynacard_registered_on,
                myna,
                self.myna_inserts,
                self.myna_updates,
            )

    def _check_my_number(self, rec: MemberRecord) -> None:
        assert rec.my_number_bidx is not None
        owners = self.owners.setdefault(rec.my_number_bidx, [])
        for key, start, lost_on in owners:
            if key != rec.key and _period(start, lost_on).overlaps(
                _period(rec.eligible_from, rec.lost_on)
            ):
                raise _Rejected("個人番号", _my_number_taken(key))
        owners.append((rec.key, rec.eligible_from, rec.lost_on))

    def _person_values(self, rec: MemberRecord, import_id: int) -> tuple[Any, ...]:
        return (
            rec.name, rec.name_kana, rec.sex, rec.postal_code, rec.address, rec.my_number_ct,
            rec.my_number_bidx, rec.my_number_status, rec.old_card_expires_on, rec.person_hash,
            import_id,
        )  # fmt: skip

    def _insert_person(
        self, rec: MemberRecord, employer_id: int, insured: _Person | None, import_id: int
    ) -> _Person:
        person = _Person(0, rec.relationship, rec.birth_date, rec.person_hash, True)
        self.people[rec.key] = person
        fixed = (
            employer_id,
            rec.insurer_number,
            rec.symbol,
            rec.number,
            rec.branch,
            rec.relationship,
            rec.birth_date,
        )
        self.person_inserts[id(person)] = (
            person,
            (*fixed, *self._person_values(rec, import_id)),
            insured,
        )
        return person

    def _update_person(self, person: _Person, rec: MemberRecord, import_id: int) -> None:
        person.person_hash = rec.person_hash
        values = self._person_values(rec, import_id)
        if person.new:
            me, row, insured = self.person_inserts[id(person)]
            self.person_inserts[id(person)] = (me, (*row[:7], *values), insured)
        else:
            self.person_updates[person.id] = values

    def _dated(
        self, person: _Person, held: dict[str, Any], when: str, value: tuple[Any, Any],
        inserts: Pending, updates: dict[tuple[int, str], tuple[Any, ...]],
    ) -> None:  # fmt: skip
        """Upsert a row of a person's dated history (pay, マイナ保険証) keyed by its start date."""
        if held.get(when) == value:
            return
        key = (id(person), when)
        if when not in held or key in inserts:
            inserts[key] = (person, (when, *value))
        else:
            updates[key] = (*value, person.id, when)
        held[when] = value

    # -- writing: one statement per table and kind

    def write(self) -> None:
        bulk = Bulk(self.conn)
        ids = iter(allocate_ids(self.conn, persons, len(self.person_inserts)))
        for person, _row, _insured in self.person_inserts.values():
            person.id = next(ids)
        bulk.insert(
            persons,
            (
                "id",
                "employer_id",
                "insurer_number",
                "symbol",
                "number",
                "branch",
                "relationship",
                "birth_date",
                *_PERSON_FIELDS,
                "insured_id",
            ),
            [(p.id, *row, i.id if i else None) for p, row, i in self.person_inserts.values()],
        )
        bulk.update(persons, _PERSON_FIELDS, [(*v, pid) for pid, v in self.person_updates.items()])
        bulk.insert(
            eligibility_periods, ("person_id", *_PERIOD_FIELDS), _owned(self.period_inserts)
        )
        bulk.update(
            eligibility_periods,
            _PERIOD_FIELDS[1:],
            [(*v, period_id) for period_id, v in self.period_updates.items()],
        )
        bulk.insert(pay_periods, ("person_id", *_PAY_FIELDS), _owned(self.pay_inserts))
        bulk.update(
            pay_periods,
            _PAY_FIELDS[1:],
            list(self.pay_updates.values()),
            ("person_id", _PAY_FIELDS[0]),
        )
        bulk.insert(mynacard_registrations, ("person_id", *_MYNA_FIELDS), _owned(self.myna_inserts))
        bulk.update(
            mynacard_registrations,
            _MYNA_FIELDS[1:],
            list(self.myna_updates.values()),
            ("person_id", _MYNA_FIELDS[0]),
        )


def _owned(pending: Pending) -> list[tuple[Any, ...]]:
    """Rows queued before ids were allocated: prefix each with its person's id."""
    return [(person.id, *row) for person, row in pending.values()]


def _no_employer(symbol: str) -> DomainError:
    return DomainError(
        f"記号 {symbol} の事業所が登録されていません（先に事業所ファイルを取り込んでください）",
        f"no employer with symbol {symbol}: import the employers file first",
    )


def _collision(branch: str) -> DomainError:
    return DomainError(
        f"枝番 {branch} は生年月日の異なる別の加入者が使用しています",
        f"branch {branch} already belongs to a person with another birth date",
    )


def _no_insured(symbol: str, number: str) -> DomainError:
    return DomainError(
        f"被扶養者の被保険者（記号 {symbol} 番号 {number}）が登録されていません",
        f"the insured person {symbol}-{number} of this dependent is unknown",
    )


def _overlap(clash: Period) -> DomainError:
    until = clash.lost_on.isoformat() if clash.lost_on else ""
    return DomainError(
        f"資格期間が既存の期間（{clash.eligible_from.isoformat()}〜{until}）と重なります",
        "eligibility period overlaps an existing one",
    )


def _my_number_taken(key: Key) -> DomainError:
    return DomainError(
        f"この個人番号は資格期間の重なる別の加入者（記号 {key[1]} 番号 {key[2]} 枝番 {key[3]}）に登録されています",
        "this My Number belongs to another member with an overlapping period",
    )


def apply_members(
    conn: Connection, batch: Sequence[MemberRecord], import_id: int, insured_branch: str
) -> Outcome:
    state = _MemberBatch(conn, batch, insured_branch)
    state.load()
    state.decide(import_id)
    state.write()
    return state.out
