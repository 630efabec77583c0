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
from shikaku.registry.db import allocate_ids, is_sqlite, placeholder
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
    """Look a batch's keys up in one statement, the way each database does it best.

    SQLite: `IN (?, ?, …)` and a `VALUES` list (chunked under its 32,766 parameters).
    PostgreSQL: arrays (`= ANY(%s)`, `unnest`), so a batch is a few parameters, not thousands,
    and the plan does not depend on the batch size.
    """

    CHUNK = 30_000

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = is_sqlite(conn)
        self.mark = placeholder(conn)

    def rows(self, sql: str, column: str, keys: Iterable[Any], *params: Any) -> Sequence[Any]:
        """`sql` has `{mark}` for each of `params` and `{where}` for `column IN keys`."""
        keys = list(keys)
        if not self.sqlite:
            query = sql.format(mark=self.mark, where=f"{column} = ANY(%s)")
            return self.conn.exec_driver_sql(query, (*params, keys)).all()
        out: list[Any] = []
        for start in range(0, len(keys), self.CHUNK):
            chunk = keys[start : start + self.CHUNK]
            where = f"{column} IN ({', '.join([self.mark] * len(chunk))})"
            query = sql.format(mark=self.mark, where=where)
            out.extend(self.conn.exec_driver_sql(query, (*params, *chunk)).all())
        return out

    def joined(
        self, sql: str, names: tuple[str, ...], keys: Iterable[tuple[str, ...]], *params: Any
    ) -> Sequence[Any]:
        """`WITH k(names) AS (…keys…) SELECT … FROM k JOIN …` for text keys of several
        columns; both databases resolve it through the unique index, one lookup per key."""
        keys = list(keys)
        head = f"WITH k({', '.join(names)}) AS "
        if not self.sqlite:
            arrays = ", ".join(["%s::text[]"] * len(names))
            query = head + f"(SELECT * FROM unnest({arrays})) " + sql.format(mark=self.mark)
            columns = [list(col) for col in zip(*keys, strict=True)] if keys else [[]] * len(names)
            return self.conn.exec_driver_sql(query, (*columns, *params)).all()
        row = "(" + ", ".join([self.mark] * len(names)) + ")"
        out: list[Any] = []
        step = self.CHUNK // len(names)
        for start in range(0, len(keys), step):
            chunk = keys[start : start + step]
            query = head + f"(VALUES {', '.join([row] * len(chunk))}) " + sql.format(mark=self.mark)
            flat = [v for key in chunk for v in key]
            out.extend(self.conn.exec_driver_sql(query, (*flat, *params)).all())
        return out


# ---------------------------------------------------------------- employers

_EMPLOYER_FIELDS = (
    "name", "name_kana", "postal_code", "address", "phone", "delivery", "category",
    "electronic_delivery", "row_hash",
)  # fmt: skip


def _stored_employers(
    reader: _Reader, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, bytes]]:
    """(保険者番号, 記号) → (id, row hash) of the employers that exist; a statement per 保険者番号."""
    found: dict[tuple[str, str], tuple[int, bytes]] = {}
    by_insurer: dict[str, set[str]] = {}
    for insurer, symbol in keys:
        by_insurer.setdefault(insurer, set()).add(symbol)
    for insurer, symbols in sorted(by_insurer.items()):
        for emp_id, symbol, digest in reader.rows(
            "SELECT id, symbol, row_hash FROM employers WHERE insurer_number = {mark} AND {where}",
            "symbol",
            symbols,
            insurer,
        ):
            found[(insurer, symbol)] = (emp_id, bytes(digest))
    return found


def apply_employers(conn: Connection, batch: Sequence[EmployerRecord], import_id: int) -> Outcome:
    out = Outcome()
    existing = _stored_employers(_Reader(conn), {(r.insurer_number, r.symbol) for r in batch})
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


class _Person:
    """What the batch knows of one person: stored state, then this batch's decisions.

    `id` is 0 for a person this batch inserts until write() allocates ids; pending rows
    refer to the object, not the id, so they resolve at write time.
    """

    __slots__ = ("birth_date", "id", "myna", "pay", "periods", "person_hash", "relationship")

    def __init__(self, pid: int, relationship: int, birth_date: str, person_hash: bytes) -> None:
        self.id = pid
        self.relationship = relationship
        self.birth_date = birth_date
        self.person_hash = person_hash
        # eligible_from → (lost_on, row hash, the import that last wrote it)
        self.periods: dict[str, tuple[str | None, bytes, int | None]] = {}
        self.pay: dict[str, tuple[int | None, bool]] = {}
        self.myna: dict[str, tuple[str | None, str | None]] = {}


class _Rejected(Exception):
    def __init__(self, column: str, error: DomainError) -> None:
        self.column = column
        self.error = error


# Slices of a MemberRecord (see records.MemberRecord for the field order) that are stored
# as they are: the persons row and the period row are built by concatenating them.
# A MemberRecord's runs of columns, written as literal slices (r[1:10]) below so that the
# type checker knows each element: 1:10 insurer_number … sex; 10:13 eligible_from, lost_on,
# loss_reason; 13:18 my_number_ct … address.
_PERSON_COLUMNS = (
    "id", "employer_id", "insurer_number", "symbol", "number", "branch", "relationship", "name",
    "name_kana", "birth_date", "sex", "my_number_ct", "my_number_bidx", "my_number_status",
    "postal_code", "address", "old_card_expires_on", "row_hash", "import_id", "insured_id",
)  # fmt: skip
_PERSON_UPDATE = _PERSON_COLUMNS[7:19]  # name … import_id
_PERIOD_COLUMNS = ("person_id", "eligible_from", "lost_on", "loss_reason", "row_hash", "import_id")
_PAY_COLUMNS = ("person_id", "effective_from", "standard_monthly_pay", "tax_exempt")
_MYNA_COLUMNS = ("person_id", "registered_on", "cancelled_on", "ecert_expires_on")


class _MemberBatch:
    """One batch: what the registry holds for its keys, and what the batch will write.

    Writes are inserts first, then updates by natural key, so a row may update what an
    earlier row of the same batch inserted: the later row always wins, as in file order.
    """

    def __init__(self, conn: Connection, batch: Sequence[MemberRecord], insured_branch: str):
        self.conn = conn
        self.reader = _Reader(conn)
        self.batch = batch
        self.insured_branch = insured_branch
        self.out = Outcome()
        self.employer_ids: dict[tuple[str, str], int] = {}
        self.people: dict[Key, _Person] = {}
        self.owners: dict[bytes, list[tuple[Key, str, str | None]]] = {}
        self.new_people: list[tuple[_Person, MemberRecord, int, _Person | None]] = []
        self.person_updates: dict[int, tuple[_Person, MemberRecord]] = {}
        self.period_inserts: list[tuple[_Person, MemberRecord]] = []
        self.period_updates: dict[tuple[int, str], tuple[_Person, MemberRecord]] = {}
        self.pay_inserts: list[tuple[_Person, tuple[Any, ...]]] = []
        self.pay_updates: list[tuple[_Person, tuple[Any, ...]]] = []
        self.myna_inserts: list[tuple[_Person, tuple[Any, ...]]] = []
        self.myna_updates: list[tuple[_Person, tuple[Any, ...]]] = []

    # -- reading what exists: at most six statements per batch (per insurer number)

    def load(self) -> None:
        stored = _stored_employers(self.reader, {r[1:3] for r in self.batch})
        self.employer_ids = {key: emp_id for key, (emp_id, _digest) in stored.items()}
        for insurer in sorted({r.insurer_number for r in self.batch}):
            self._load_people(insurer)
        if self.people:
            keys = {r[1:5] for r in self.batch}
            touched = {p.id: p for k, p in self.people.items() if k in keys}
            if touched:
                self._load_history(touched)
        self._load_my_number_owners()

    def _load_people(self, insurer: str) -> None:
        """Every stored person of the batch's households (記号・番号) under one 保険者番号."""
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
            self.people[key] = _Person(row[0], row[4], _iso(row[5]), bytes(row[6]))

    def _load_history(self, by_id: dict[int, _Person]) -> None:
        """Each touched person's dated rows, keyed by start date (ISO), one statement each."""

        def rows(table: str, columns: str) -> Sequence[Any]:
            sql = f"SELECT person_id, {columns} FROM {table} WHERE {{where}}"
            return self.reader.rows(sql, "person_id", by_id)

        periods = rows("eligibility_periods", "eligible_from, lost_on, row_hash, import_id")
        for pid, start, lost_on, digest, written_by in periods:
            by_id[pid].periods[_iso(start)] = (_iso(lost_on), bytes(digest), written_by)
        if any(r.has_pay for r in self.batch):
            for pid, start, pay, exempt in rows(
                "pay_periods", "effective_from, standard_monthly_pay, tax_exempt"
            ):
                by_id[pid].pay[_iso(start)] = (pay, bool(exempt))
        if any(r.mynacard_registered_on for r in self.batch):
            myna = rows("mynacard_registrations", "registered_on, cancelled_on, ecert_expires_on")
            for pid, start, cancelled, ecert in myna:
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
        """Decide each row in file order. A second row for the same person and period in one
        import is rejected: a file states each period once, so a re-import is unchanged."""
        self.import_id = import_id
        people, owners, out = self.people, self.owners, self.out
        for rec in self.batch:
            key = rec[1:5]
            person = people.get(key)
            try:
                insured = self._check(rec, key, person)
            except _Rejected as rej:
                out.errors.append(RowError(rec.line, rej.column, "", rej.error.ja, rej.error.en))
                continue
            bidx = rec.my_number_bidx
            if bidx is not None:
                # This row restates its own period (a leave, say): it replaces the stored one,
                # so a transfer (old record ends, new record starts) fits in one file.
                held = owners.setdefault(bidx, [])
                held[:] = [o for o in held if o[0] != key or o[1] != rec.eligible_from]
                held.append((key, rec.eligible_from, rec.lost_on))
            if person is None:  # the common case of a first import: one new person, one period
                employer_id = self.employer_ids[rec[1:3]]
                person = people[key] = _Person(0, rec.relationship, rec.birth_date, rec.person_hash)
                person.periods[rec.eligible_from] = (rec.lost_on, rec.row_hash, self.import_id)
                self.new_people.append((person, rec, employer_id, insured))
                self.period_inserts.append((person, rec))
                self._history(person, rec)
                out.inserted += 1
            else:
                self._existing(person, rec)

    def _check(self, rec: MemberRecord, key: Key, person: _Person | None) -> _Person | None:
        """Reject what cannot be stored; return the insured person of a dependent."""
        if rec[1:3] not in self.employer_ids:
            raise _Rejected("記号", _no_employer(rec.symbol))
        if person is not None and person.birth_date != rec.birth_date:
            raise _Rejected("枝番", _collision(rec.branch))
        insured = None
        if rec.relationship == _DEPENDENT:
            insured = self.people.get((*rec[1:4], self.insured_branch))
            if insured is None or insured.relationship != _INSURED:
                raise _Rejected("番号", _no_insured(rec.symbol, rec.number))
        bidx = rec.my_number_bidx
        if bidx is not None and bidx in self.owners:
            mine = _period(rec.eligible_from, rec.lost_on)
            for other, start, lost_on in self.owners[bidx]:
                if other != key and _period(start, lost_on).overlaps(mine):
                    raise _Rejected("個人番号", _my_number_taken(other))
        if person is not None:
            held = person.periods.get(rec.eligible_from)
            if held is not None and held[2] == self.import_id:
                raise _Rejected("資格取得年月日", _DUPLICATE_ROW)
            if held is None or held[1] != rec.row_hash:
                others = (_period(start, lost) for start, (lost, *_held) in person.periods.items())
                clash = first_overlap(_period(rec.eligible_from, rec.lost_on), others)
                if clash is not None:
                    raise _Rejected("資格取得年月日", _overlap(clash))
        return insured

    def _existing(self, person: _Person, rec: MemberRecord) -> None:
        held = person.periods.get(rec.eligible_from)
        if held is not None and held[1] == rec.row_hash:
            person.periods[rec.eligible_from] = (*held[:2], self.import_id)  # seen: no twin
            self.out.unchanged += 1
            return
        if person.person_hash != rec.person_hash:
            person.person_hash = rec.person_hash
            self.person_updates[id(person)] = (person, rec)
        if held is None:
            self.period_inserts.append((person, rec))
            self.out.inserted += 1
        else:
            self.period_updates[(id(person), rec.eligible_from)] = (person, rec)
            self.out.updated += 1
        person.periods[rec.eligible_from] = (rec.lost_on, rec.row_hash, self.import_id)
        self._history(person, rec)

    def _history(self, person: _Person, rec: MemberRecord) -> None:
        """Upsert the dated rows (pay, マイナ保険証) a member row carries, keyed by start date.

        A date the person does not hold yet is inserted; one it holds (stored, or inserted
        earlier in this batch) is updated after the inserts.
        """
        when = rec.pay_effective_from
        if when is not None:
            pay = (rec.standard_monthly_pay, bool(rec.tax_exempt))
            if person.pay.get(when) != pay:
                target = self.pay_updates if when in person.pay else self.pay_inserts
                target.append((person, (when, *pay)))
                person.pay[when] = pay
        when = rec.mynacard_registered_on
        if when is not None:
            myna = (rec.mynacard_cancelled_on, rec.ecert_expires_on)
            if person.myna.get(when) != myna:
                target = self.myna_updates if when in person.myna else self.myna_inserts
                target.append((person, (when, *myna)))
                person.myna[when] = myna

    # -- writing: one statement per table and kind, inserts before updates

    def write(self, import_id: int) -> None:
        bulk = Bulk(self.conn)
        ids = iter(allocate_ids(self.conn, persons, len(self.new_people)))
        for person, _rec, _emp, _ins in self.new_people:
            person.id = next(ids)
        bulk.insert(
            persons,
            _PERSON_COLUMNS,
            [
                (
                    p.id,
                    emp,
                    *r[1:10],
                    *r[13:18],
                    r.old_card_expires_on,
                    r.person_hash,
                    import_id,
                    ins.id if ins is not None else None,
                )
                for p, r, emp, ins in self.new_people
            ],
        )
        bulk.insert(
            eligibility_periods,
            _PERIOD_COLUMNS,
            [(p.id, *r[10:13], r.row_hash, import_id) for p, r in self.period_inserts],
        )
        bulk.insert(pay_periods, _PAY_COLUMNS, [(p.id, *row) for p, row in self.pay_inserts])
        bulk.insert(
            mynacard_registrations,
            _MYNA_COLUMNS,
            [(p.id, *row) for p, row in self.myna_inserts],
        )
        bulk.update(
            persons,
            _PERSON_UPDATE,
            [
                (
                    r.name,
                    r.name_kana,
                    r.birth_date,
                    r.sex,
                    *r[13:18],
                    r.old_card_expires_on,
                    r.person_hash,
                    import_id,
                    p.id,
                )
                for p, r in self.person_updates.values()
            ],
        )
        bulk.update(
            eligibility_periods,
            _PERIOD_COLUMNS[2:],
            [
                (*r[11:13], r.row_hash, import_id, p.id, r.eligible_from)
                for p, r in self.period_updates.values()
            ],
            ("person_id", "eligible_from"),
        )
        bulk.update(
            pay_periods,
            _PAY_COLUMNS[2:],
            [(*row[1:], p.id, row[0]) for p, row in self.pay_updates],
            _PAY_COLUMNS[:2],
        )
        bulk.update(
            mynacard_registrations,
            _MYNA_COLUMNS[2:],
            [(*row[1:], p.id, row[0]) for p, row in self.myna_updates],
            _MYNA_COLUMNS[:2],
        )


_DUPLICATE_ROW = DomainError(
    "同じ加入者・同じ資格取得年月日の行がこのファイルに既にあります（重複行）",
    "another row of this file already gave this person and eligible_from",
)


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
    state.write(import_id)
    return state.out
