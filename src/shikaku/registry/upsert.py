"""Apply one parsed batch to the registry: a fixed number of statements, whatever its size.

Rows are upserted on their natural key: employers on (保険者番号, 記号); members on
(保険者番号, 記号, 番号, 枝番) for the person and eligible_from for the period. A row whose
content hash matches what is stored is unchanged and costs nothing to write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, select, tuple_

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
from shikaku.security.mynumber import MyNumberVault


@dataclass
class Outcome:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({e.line for e in self.errors})


def _reject(out: Outcome, line: int, column: str, exc: DomainError) -> None:
    out.errors.append(RowError(line, column, "", exc.ja, exc.en))


# ---------------------------------------------------------------- employers

_EMPLOYER_FIELDS = ("name", "name_kana", "postal_code", "address", "phone", "delivery", "row_hash")


def apply_employers(conn: Connection, batch: Sequence[EmployerRecord], import_id: int) -> Outcome:
    out = Outcome()
    bulk = Bulk(conn)
    keys = {(r.insurer_number, r.symbol) for r in batch}
    existing = {
        (row.insurer_number, row.symbol): (row.id, row.row_hash)
        for row in conn.execute(
            select(
                employers.c.id, employers.c.insurer_number, employers.c.symbol, employers.c.row_hash
            ).where(tuple_(employers.c.insurer_number, employers.c.symbol).in_(keys))
        )
    }
    inserts: dict[tuple[str, str], EmployerRecord] = {}
    updates: dict[int, EmployerRecord] = {}
    for rec in batch:
        key = (rec.insurer_number, rec.symbol)
        if key in existing:
            emp_id, digest = existing[key]
            if digest == rec.row_hash:
                out.unchanged += 1
            else:
                updates[emp_id] = rec
                existing[key] = (emp_id, rec.row_hash)
                out.updated += 1
        elif key in inserts:  # the same employer twice in one batch: the later row wins
            inserts[key] = rec
            out.updated += 1
        else:
            inserts[key] = rec
            out.inserted += 1
    bulk.insert(
        employers,
        ("insurer_number", "symbol", *_EMPLOYER_FIELDS, "import_id"),
        [(r.insurer_number, r.symbol, *(_employer_values(r)), import_id) for r in inserts.values()],
    )
    bulk.update(
        employers,
        (*_EMPLOYER_FIELDS, "import_id"),
        [(*_employer_values(r), import_id, emp_id) for emp_id, r in updates.items()],
    )
    return out


def _employer_values(r: EmployerRecord) -> tuple[Any, ...]:
    return (r.name, r.name_kana, r.postal_code, r.address, r.phone, str(r.delivery), r.row_hash)


# ---------------------------------------------------------------- members


@dataclass(slots=True)
class _PeriodState:
    id: int | None
    period: Period
    loss_reason: str | None
    row_hash: bytes


@dataclass(slots=True)
class _Person:
    id: int
    relationship: int
    birth_date: date
    person_hash: bytes
    bidx: bytes | None
    new: bool
    periods: dict[date, _PeriodState] = field(default_factory=dict)
    pay: dict[date, tuple[int | None, bool]] = field(default_factory=dict)
    myna: dict[date, tuple[date | None, date | None]] = field(default_factory=dict)


_PERSON_FIELDS = (
    "name",
    "name_kana",
    "sex",
    "postal_code",
    "address",
    "my_number_ct",
    "my_number_bidx",
    "my_number_status",
    "old_card_expires_on",
    "row_hash",
    "import_id",
)


class _MemberBatch:
    """State of one batch: what the registry holds for its keys, and what the batch will write."""

    def __init__(self, conn: Connection, batch: Sequence[MemberRecord], insured_branch: str):
        self.conn = conn
        self.bulk = Bulk(conn)
        self.batch = batch
        self.insured_branch = insured_branch
        self.out = Outcome()
        self.employer_ids: dict[tuple[str, str], int] = {}
        self.people: dict[tuple[str, str, str, str], _Person] = {}
        self.by_bidx: dict[bytes, list[tuple[tuple[str, str, str, str], Period]]] = {}
        # Pending writes. Inserts are keyed so that a later row of the same batch replaces an
        # earlier one instead of inserting twice; ids of new persons are set just before writing.
        self.person_inserts: dict[int, tuple[_Person, tuple[Any, ...], _Person | None]] = {}
        self.person_updates: dict[int, tuple[Any, ...]] = {}
        self.period_inserts: dict[tuple[int, date], tuple[_Person, tuple[Any, ...]]] = {}
        self.period_updates: dict[int, tuple[Any, ...]] = {}
        self.pay_inserts: dict[tuple[int, date], tuple[_Person, tuple[Any, ...]]] = {}
        self.pay_updates: dict[tuple[int, date], tuple[Any, ...]] = {}
        self.myna_inserts: dict[tuple[int, date], tuple[_Person, tuple[Any, ...]]] = {}
        self.myna_updates: dict[tuple[int, date], tuple[Any, ...]] = {}

    # -- reading what exists: at most six queries per batch

    def load(self) -> None:
        conn = self.conn
        emp_keys = {(r.insurer_number, r.symbol) for r in self.batch}
        for row in conn.execute(
            select(employers.c.id, employers.c.insurer_number, employers.c.symbol).where(
                tuple_(employers.c.insurer_number, employers.c.symbol).in_(emp_keys)
            )
        ):
            self.employer_ids[(row.insurer_number, row.symbol)] = row.id
        numbers = {(r.insurer_number, r.symbol, r.number) for r in self.batch}
        p = persons.c
        for row in conn.execute(
            select(
                p.id,
                p.insurer_number,
                p.symbol,
                p.number,
                p.branch,
                p.relationship,
                p.birth_date,
                p.row_hash,
                p.my_number_bidx,
            ).where(tuple_(p.insurer_number, p.symbol, p.number).in_(numbers))
        ):
            key = (row.insurer_number, row.symbol, row.number, row.branch)
            self.people[key] = _Person(
                row.id, row.relationship, row.birth_date, row.row_hash, row.my_number_bidx, False
            )
        by_id = {person.id: person for person in self.people.values()}
        if by_id:
            self._load_periods(by_id)
            self._load_pay_and_myna(by_id)
        self._load_my_number_owners()

    def _load_periods(self, by_id: dict[int, _Person]) -> None:
        e = eligibility_periods.c
        for row in self.conn.execute(
            select(e.id, e.person_id, e.eligible_from, e.lost_on, e.loss_reason, e.row_hash).where(
                e.person_id.in_(by_id)
            )
        ):
            by_id[row.person_id].periods[row.eligible_from] = _PeriodState(
                row.id, Period(row.eligible_from, row.lost_on), row.loss_reason, row.row_hash
            )

    def _load_pay_and_myna(self, by_id: dict[int, _Person]) -> None:
        existing = {self.people[r.key].id for r in self.batch if r.key in self.people}
        pay_ids = [i for i in existing if i in by_id] if any(r.has_pay for r in self.batch) else []
        if pay_ids:
            c = pay_periods.c
            for row in self.conn.execute(
                select(c.person_id, c.effective_from, c.standard_monthly_pay, c.tax_exempt).where(
                    c.person_id.in_(pay_ids)
                )
            ):
                by_id[row.person_id].pay[row.effective_from] = (
                    row.standard_monthly_pay,
                    row.tax_exempt,
                )
        if any(r.mynacard_registered_on for r in self.batch) and existing:
            m = mynacard_registrations.c
            for row in self.conn.execute(
                select(m.person_id, m.registered_on, m.cancelled_on, m.ecert_expires_on).where(
                    m.person_id.in_(existing)
                )
            ):
                by_id[row.person_id].myna[row.registered_on] = (
                    row.cancelled_on,
                    row.ecert_expires_on,
                )

    def _load_my_number_owners(self) -> None:
        """Who else holds each My Number of the batch, and when they are (or were) covered."""
        wanted = {r.my_number_bidx for r in self.batch if r.my_number_bidx is not None}
        if not wanted:
            return
        p, e = persons.c, eligibility_periods.c
        query = (
            select(
                p.insurer_number,
                p.symbol,
                p.number,
                p.branch,
                p.my_number_bidx,
                e.eligible_from,
                e.lost_on,
            )
            .join_from(persons, eligibility_periods, e.person_id == p.id)
            .where(p.my_number_bidx.in_(wanted))
        )
        for row in self.conn.execute(query):
            key = (row.insurer_number, row.symbol, row.number, row.branch)
            period = Period(row.eligible_from, row.lost_on)
            self.by_bidx.setdefault(row.my_number_bidx, []).append((key, period))

    # -- deciding, row by row, in file order

    def decide(self, vault: MyNumberVault, import_id: int) -> None:
        for rec in self.batch:
            try:
                self._decide(rec, vault, import_id)
            except _Rejected as rej:
                _reject(self.out, rec.line, rej.column, rej.error)

    def _decide(self, rec: MemberRecord, vault: MyNumberVault, import_id: int) -> None:
        employer_id = self.employer_ids.get((rec.insurer_number, rec.symbol))
        if employer_id is None:
            raise _Rejected(
                "記号",
                DomainError(
                    f"記号 {rec.symbol} の事業所が登録されていません（先に事業所ファイルを取り込んでください）",
                    f"no employer with symbol {rec.symbol}: import the employers file first",
                ),
            )
        person = self.people.get(rec.key)
        if person is not None and person.birth_date != rec.birth_date:
            raise _Rejected(
                "枝番",
                DomainError(
                    f"枝番 {rec.branch} は生年月日の異なる別の加入者が使用しています",
                    f"branch {rec.branch} already belongs to a person with another birth date",
                ),
            )
        insured = None
        if rec.relationship is Relationship.DEPENDENT:
            insured = self.people.get(
                (rec.insurer_number, rec.symbol, rec.number, self.insured_branch)
            )
            if insured is None or insured.relationship != Relationship.INSURED:
                raise _Rejected(
                    "番号",
                    DomainError(
                        f"被扶養者の被保険者（記号 {rec.symbol} 番号 {rec.number}）が登録されていません",
                        f"the insured person {rec.symbol}-{rec.number} of this dependent is unknown",
                    ),
                )
        period = Period(rec.eligible_from, rec.lost_on)
        self._check_my_number(rec, period)

        state = person.periods.get(rec.eligible_from) if person is not None else None
        if state is not None and state.row_hash == rec.row_hash:
            self.out.unchanged += 1
            return
        if person is not None:
            clash = first_overlap(period, (s.period for s in person.periods.values()))
            if clash is not None:
                raise _Rejected(
                    "資格取得年月日",
                    DomainError(
                        f"資格期間が既存の期間（{clash.eligible_from.isoformat()}〜"
                        f"{clash.lost_on.isoformat() if clash.lost_on else ''}）と重なります",
                        "eligibility period overlaps an existing one",
                    ),
                )
        if person is None:
            person = self._insert_person(rec, employer_id, insured, vault, import_id)
        elif person.person_hash != rec.person_hash:
            self._update_person(person, rec, vault, import_id)
        d = self.bulk.date
        values = (d(rec.lost_on), rec.loss_reason, rec.row_hash, import_id)
        if state is None:
            person.periods[rec.eligible_from] = _PeriodState(
                None, period, rec.loss_reason, rec.row_hash
            )
            self.out.inserted += 1
        else:
            state.period, state.loss_reason, state.row_hash = period, rec.loss_reason, rec.row_hash
            self.out.updated += 1
        if state is None or state.id is None:
            self.period_inserts[(id(person), rec.eligible_from)] = (
                person,
                (d(rec.eligible_from), *values),
            )
        else:
            self.period_updates[state.id] = values
        self._dated(
            person,
            person.pay,
            rec.pay_effective_from if rec.has_pay else None,
            (rec.standard_monthly_pay, bool(rec.tax_exempt)),
            self.pay_inserts,
            self.pay_updates,
        )
        self._dated(
            person,
            person.myna,
            rec.mynacard_registered_on,
            (rec.mynacard_cancelled_on, rec.ecert_expires_on),
            self.myna_inserts,
            self.myna_updates,
        )

    def _check_my_number(self, rec: MemberRecord, period: Period) -> None:
        if rec.my_number_bidx is None:
            return
        owners = self.by_bidx.setdefault(rec.my_number_bidx, [])
        for key, other in owners:
            if key != rec.key and other.overlaps(period):
                raise _Rejected(
                    "個人番号",
                    DomainError(
                        f"この個人番号は資格期間の重なる別の加入者（記号 {key[1]} 番号 {key[2]} "
                        f"枝番 {key[3]}）に登録されています",
                        "this My Number belongs to another member with an overlapping period",
                    ),
                )
        owners.append((rec.key, period))

    def _person_values(
        self, rec: MemberRecord, vault: MyNumberVault, import_id: int
    ) -> tuple[Any, ...]:
        ct = vault.encrypt(rec.my_number) if rec.my_number is not None else None
        return (
            rec.name,
            rec.name_kana,
            rec.sex,
            rec.postal_code,
            rec.address,
            ct,
            rec.my_number_bidx,
            rec.my_number_status,
            self.bulk.date(rec.old_card_expires_on),
            rec.person_hash,
            import_id,
        )

    def _insert_person(
        self,
        rec: MemberRecord,
        employer_id: int,
        insured: _Person | None,
        vault: MyNumberVault,
        import_id: int,
    ) -> _Person:
        person = _Person(
            0, int(rec.relationship), rec.birth_date, rec.person_hash, rec.my_number_bidx, True
        )
        self.people[rec.key] = person
        fixed = (
            employer_id,
            rec.insurer_number,
            rec.symbol,
            rec.number,
            rec.branch,
            int(rec.relationship),
        )
        self.person_inserts[id(person)] = (
            person,
            (*fixed, self.bulk.date(rec.birth_date), *self._person_values(rec, vault, import_id)),
            insured,
        )
        return person

    def _update_person(
        self, person: _Person, rec: MemberRecord, vault: MyNumberVault, import_id: int
    ) -> None:
        person.person_hash = rec.person_hash
        values = self._person_values(rec, vault, import_id)
        if person.new:
            me, row, insured = self.person_inserts[id(person)]
            self.person_inserts[id(person)] = (me, (*row[:7], *values), insured)
        else:
            self.person_updates[person.id] = values

    def _dated(
        self,
        person: _Person,
        held: dict[date, Any],
        when: date | None,
        value: tuple[Any, Any],
        inserts: dict[tuple[int, date], tuple[_Person, tuple[Any, ...]]],
        updates: dict[tuple[int, date], tuple[Any, ...]],
    ) -> None:
        """Upsert a row of a person's dated history (pay, マイナ保険証) keyed by its start date."""
        if when is None or held.get(when) == value:
            return
        d = self.bulk.date
        stored = tuple(d(v) if isinstance(v, date) else v for v in value)
        key = (id(person), when)
        if when not in held or key in inserts:
            inserts[key] = (person, (d(when), *stored))
        else:
            updates[key] = (*stored, person.id, d(when))
        held[when] = value

    # -- writing: one statement per table and kind

    def write(self) -> None:
        bulk = self.bulk
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
        period_columns = ("eligible_from", "lost_on", "loss_reason", "row_hash", "import_id")
        bulk.insert(
            eligibility_periods, ("person_id", *period_columns), _owned(self.period_inserts)
        )
        bulk.update(
            eligibility_periods,
            period_columns[1:],
            [(*v, period_id) for period_id, v in self.period_updates.items()],
        )
        pay_columns = ("effective_from", "standard_monthly_pay", "tax_exempt")
        bulk.insert(pay_periods, ("person_id", *pay_columns), _owned(self.pay_inserts))
        bulk.update(pay_periods, pay_columns[1:], list(self.pay_updates.values()), _DATED_KEY)
        myna_columns = ("registered_on", "cancelled_on", "ecert_expires_on")
        bulk.insert(mynacard_registrations, ("person_id", *myna_columns), _owned(self.myna_inserts))
        bulk.update(
            mynacard_registrations,
            myna_columns[1:],
            list(self.myna_updates.values()),
            ("person_id", "registered_on"),
        )


_DATED_KEY = ("person_id", "effective_from")


def _owned(pending: dict[Any, tuple[_Person, tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    """Rows queued before ids were allocated: prefix each with its person's id."""
    return [(person.id, *row) for person, row in pending.values()]


class _Rejected(Exception):
    def __init__(self, column: str, error: DomainError) -> None:
        self.column = column
        self.error = error


def apply_members(
    conn: Connection,
    batch: Sequence[MemberRecord],
    import_id: int,
    vault: MyNumberVault,
    insured_branch: str,
) -> Outcome:
    state = _MemberBatch(conn, batch, insured_branch)
    state.load()
    state.decide(vault, import_id)
    state.write()
    return state.out
