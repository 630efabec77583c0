"""Extraction: who gets a notice (or a certificate) in a run, frozen in the ledger by tasks.

Everyone eligible on the date (a full run), or, for a follow-up, everyone eligible on the
cut-off who got no notice in the earlier runs of its chain or whose printed data changed
since. Excluded categories (日雇特例 …) are left out; a target whose strings the fonts cannot
draw, or whom a rule refuses, is held and listed in the held report, never printed.

The work is cut into range tasks over 記号 (`extract_range`, run on the engine), each reading
the same frozen registry (registry.snapshot) and writing its own ledger rows and summary in
one transaction. Numbers never depend on how the work was cut: an employer's parcel is
partition number = the employer's rank among the insurer's employers in 記号 order (the
driver passes each range its first rank), and its held targets sit in partition −rank, in
the order met. Home letters are staged (run_letters) and batched by postal area afterwards
(issuance/letters.py). So the same registry and settings give the same ledger and the same
bytes whatever the number of tasks or workers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import date
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, or_, select
from sqlalchemy.exc import IntegrityError

from shikaku.domain.errors import DomainError
from shikaku.domain.members import Relationship
from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.targets import Target, change_hash, number_order, printed_copay_rate
from shikaku.registry.bulk import Bulk
from shikaku.registry.db import is_sqlite, write_transaction
from shikaku.registry.household import pay_in_force
from shikaku.registry.snapshot import Snapshot, snapshot_reader
from shikaku.registry.tables import (
    eligibility_periods,
    employers,
    envelope_returns,
    pay_periods,
    persons,
    run_extract_tasks,
    run_letters,
    run_partitions,
    run_targets,
    runs,
)
from shikaku.security.mynumber import MyNumberVault, load_vault
from shikaku.security.outputs import csv_writer

Unprintable = Callable[[str], str]  # the characters of a string no embedded font can draw
Progress = Callable[[int], None]

TARGET_COLUMNS = (
    "run_id", "partition_no", "piece_no", "person_id", "status", "held_reason", "employer_id",
    "symbol", "number", "branch", "relationship", "name", "name_kana", "birth_date", "sex",
    "eligible_from", "copay_rate", "my_number_state", "my_number_last4", "insured_name",
    "delivery", "postal_code", "address", "content_hash", "change_hash", "cert_reason",
    "valid_until", "effective_from", "cap_category", "supersedes",
)  # fmt: skip
UNPRINTABLE = "印字できない文字"  # how a target held for glyphs begins its held_reason
CERTIFICATE_KINDS = ("certificates", "renewals")  # run kinds that issue 資格確認書
ATTEMPT = "attempt"  # run_extract_tasks row naming the extraction attempt tasks belong to


@dataclass
class Held:
    symbol: str
    number: str
    branch: str
    reason: str


@dataclass
class TaskCounts:
    """What one extraction task found (stored with its rows as JSON; the run sums them)."""

    members: int = 0  # rows read: everyone eligible in the range
    eligible: int = 0
    excluded: int = 0  # by category (日雇特例 …)
    unchanged: int = 0  # follow-up: already served, nothing printed changed
    not_needed: int = 0  # certificate runs: a usable マイナ保険証, or no renewal due
    holding: int = 0  # certificate runs: holds a valid certificate already
    reported_left: int = 0  # follow-up: the employer reported them gone (envelope returned)
    targets: int = 0  # ready to print (parcel pieces and home letters)
    held: int = 0
    parcels: int = 0
    batches: int = 0
    letters: dict[str, int] = field(default_factory=dict)  # home letters by postal area

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TaskCounts:
        return cls(**json.loads(text))


@dataclass
class ExtractionSummary(TaskCounts):
    run_id: int = 0
    returns: int = 0  # certificate runs: return requests recorded at this extraction
    held_sample: list[Held] = field(default_factory=list)  # the held report's first lines
    held_report: Path | None = None
    parallel_seconds: float = 0.0  # while range and letter tasks ran
    driver_seconds: float = 0.0  # the driver alone: starting over, returns, held report

    def add(self, counts: TaskCounts) -> None:
        for name in ("members", "eligible", "excluded", "unchanged", "not_needed", "holding",
                     "reported_left", "targets", "held", "parcels", "batches"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(counts, name))
        for area, n in counts.letters.items():
            self.letters[area] = self.letters.get(area, 0) + n


@dataclass
class _Row:
    person_id: int
    employer_id: int
    symbol: str
    number: str
    branch: str
    relationship: int
    insured_id: int | None
    name: str
    name_kana: str
    birth_date: date
    sex: int
    postal_code: str | None
    address: str | None
    my_number_ct: bytes | None
    my_number_status: str
    eligible_from: date
    delivery: str
    category: str | None
    employer_name: str
    employer_postal: str
    employer_address: str
    employer_phone: str | None
    pay: int | None  # 標準報酬月額 on the day: insured persons who may be 70-74 only
    previous_change: bytes | None  # latest change hash of this person in the run's chain


def run_chain(conn: Connection, run_id: int | None) -> list[int]:
    """The run and its predecessors (follow-ups point at the run they follow), newest first."""
    chain: list[int] = []
    while run_id is not None:
        if run_id in chain:
            break
        chain.append(run_id)
        run_id = conn.execute(select(runs.c.after_run_id).where(runs.c.id == run_id)).scalar()
    return chain


def source_columns(day: date) -> tuple[Any, ...]:
    """What a target is built from: the person, the eligibility period, the employer and the
    insured person's 標準報酬月額 on the day (the order `_Row` reads them in; a reissue
    selects the same for one person)."""
    p, e, m = persons.c, eligibility_periods.c, employers.c
    return (
        p.id, p.employer_id, p.symbol, p.number, p.branch, p.relationship, p.insured_id,
        p.name, p.name_kana, p.birth_date, p.sex, p.postal_code, p.address, p.my_number_ct,
        p.my_number_status, e.eligible_from, m.delivery, m.category, m.name, m.postal_code,
        m.address, m.phone, _elderly_pay(p.id, p.birth_date, day, p.relationship == 1),
    )  # fmt: skip


def _elderly_pay(person_id: Any, birth_date: Any, day: date, insured: Any) -> Any:
    """The pay record in force on the day (registry.household), read only for an insured person
    born in the years that can be 70-74 on the day: their pay decides 現役並み for the whole
    household (domain.copay), for nobody else. In the extraction's own stream, not a query
    per employer."""
    pp = pay_periods.c
    pay = (
        select(pp.standard_monthly_pay)
        .where(pp.person_id == person_id, pp.effective_from == pay_in_force(person_id, day))
        .scalar_subquery()
    )
    born_from, born_until = date(day.year - 76, 1, 1), date(day.year - 69, 12, 31)
    return case((and_(insured, birth_date >= born_from, birth_date <= born_until), pay), else_=None)


def symbol_range(column: Any, low: str | None, high: str | None) -> Any:
    """low <= column < high; None is open."""
    parts = []
    if low is not None:
        parts.append(column >= low)
    if high is not None:
        parts.append(column < high)
    return and_(True, *parts)


def _eligible_rows(
    conn: Connection,
    insurer_number: str,
    day: date,
    chain: Sequence[int],
    low: str | None,
    high: str | None,
) -> Any:
    """One streamed statement over a 記号 range; a follow-up joins each earlier run's target
    by primary key."""
    p, e, m = persons.c, eligibility_periods.c, employers.c
    previous = [run_targets.alias(f"t{i}") for i in range(len(chain))]
    query = (
        select(*source_columns(day), *[t.c.change_hash for t in previous])
        .join_from(persons, eligibility_periods, e.person_id == p.id)
        .join(employers, m.id == p.employer_id)
    )
    for run_id, t in zip(chain, previous, strict=True):
        query = query.join(
            t,
            and_(t.c.run_id == run_id, t.c.person_id == p.id, t.c.status == "ready"),
            isouter=True,
        )
    query = query.where(
        p.insurer_number == insurer_number,
        symbol_range(p.symbol, low, high),
        e.eligible_from <= day,
        or_(e.lost_on.is_(None), e.lost_on > day),
    ).order_by(p.insurer_number, p.symbol, p.number, p.branch)
    return conn.execute(query.execution_options(yield_per=2000))


def envelope_returns_for(
    conn: Connection,
    chain: Sequence[int],
    day: date,
    insurer_number: str,
    low: str | None,
    high: str | None,
) -> tuple[frozenset[int], frozenset[int]]:
    """Of the people in the 記号 range: (those whose envelope came back because they left on
    or before the day, those whose envelope in the chain came back undelivered): a follow-up
    leaves out the first even while the registry still shows them covered, and prints again
    for the second."""
    r, p = envelope_returns.c, persons.c
    mine = and_(p.insurer_number == insurer_number, symbol_range(p.symbol, low, high))
    base = select(r.person_id).join(persons, p.id == r.person_id).where(mine)
    left = conn.execute(
        base.where(r.reason == "left", or_(r.left_on.is_(None), r.left_on <= day))
    ).scalars()
    left_ids = frozenset(left)
    undelivered = frozenset(
        conn.execute(base.where(r.reason == "unknown_address", r.run_id.in_(chain))).scalars()
    )
    return left_ids, undelivered - left_ids


def _insured_outside(
    conn: Connection, ids: Iterable[int], day: date
) -> dict[int, tuple[str, date, int | None]]:
    """Insured persons not in the stream (not eligible on the day themselves): rare."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    c = persons.c
    pay = _elderly_pay(c.id, c.birth_date, day, True)
    rows = conn.execute(select(c.id, c.name, c.birth_date, pay).where(c.id.in_(wanted)))
    return {pid: (name, birth, pay) for pid, name, birth, pay in rows}


class Extractor:
    """Turns one employer's eligible rows into targets and held entries."""

    def __init__(
        self,
        conn: Connection,
        config: RunConfig,
        vault: MyNumberVault,
        unprintable: Unprintable,
        day: date,
        follow_up: bool,
    ) -> None:
        self.conn = conn
        self.config = config
        self.vault = vault
        self.unprintable = unprintable
        self.day = day
        self.follow_up = follow_up
        self.excluded = frozenset(config.excluded_categories)

    def _glyphs(self, what: Sequence[tuple[str, str | None]]) -> str | None:
        problems = []
        for label, value in what:
            if value:
                bad = self.unprintable(value)
                if bad:
                    codes = " ".join(f"U+{ord(ch):04X}" for ch in bad)
                    problems.append(f"{label} {codes}")
        return f"{UNPRINTABLE}: " + "、".join(problems) if problems else None

    def employer_problem(self, row: _Row) -> str | None:
        return self._glyphs(
            [("事業所名", row.employer_name), ("事業所所在地", row.employer_address)]
        )

    def targets(
        self, rows: list[_Row], counts: TaskCounts
    ) -> list[tuple[Target, bytes, str | None]]:
        """(target, change hash, held reason or None) in print order: households by 番号,
        then 枝番."""
        rows.sort(key=lambda r: (number_order(r.number), r.branch))
        insured_rows = {r.person_id: r for r in rows if r.relationship == Relationship.INSURED}
        outside = _insured_outside(
            self.conn,
            (r.insured_id for r in rows if r.insured_id and r.insured_id not in insured_rows),
            self.day,
        )
        employer_problem = self.employer_problem(rows[0]) if rows else None
        out: list[tuple[Target, bytes, str | None]] = []
        for r in rows:
            insured_id = r.person_id if r.relationship == Relationship.INSURED else r.insured_id
            insured = insured_rows.get(insured_id) if insured_id else None
            if insured is not None:
                insured_name, insured_birth = insured.name, insured.birth_date
                postal, address, pay = insured.postal_code, insured.address, insured.pay
            elif insured_id in outside:
                insured_name, insured_birth, pay = outside[insured_id]
                postal, address = r.postal_code, r.address
            else:  # no insured person on file: print the dependent's own name in the window
                insured_name, insured_birth, pay = r.name, r.birth_date, None
                postal, address = r.postal_code, r.address
            home = r.delivery == "home"
            if home:
                postal, address = r.postal_code or postal, r.address or address
            else:
                postal, address = None, None
            new_change = change_hash(
                r.symbol, r.number, r.branch, r.name, r.name_kana, r.birth_date, r.delivery,
                postal, address,
            )  # fmt: skip
            if self.follow_up and r.previous_change == new_change:
                counts.unchanged += 1
                continue
            reason = employer_problem
            rate = printed_copay_rate(r.birth_date, self.day, insured_birth, pay, r.relationship)
            if isinstance(rate, DomainError):
                reason = reason or f"規則: {rate.ja}"
                rate = 0
            if home and not (postal and address):
                reason = reason or "送付先住所がありません"
            reason = reason or self._glyphs(
                [("氏名", r.name), ("フリガナ", r.name_kana)]
                + ([("被保険者氏名", insured_name)] if insured_name != r.name else [])
                + ([("住所", address)] if home else [])
            )
            state, last4 = self._my_number(r)
            target = Target(
                r.person_id, r.employer_id, r.symbol, r.number, r.branch, r.relationship,
                r.name, r.name_kana, r.birth_date, r.sex if self.config.notice_shows_sex else None,
                r.eligible_from, rate, state, last4, insured_name, r.delivery, postal, address,
            )  # fmt: skip
            out.append((target, new_change, reason))
        return out

    def _my_number(self, r: _Row) -> tuple[str, str | None]:
        if r.my_number_status == "registered" and r.my_number_ct is not None:
            return "registered", self.vault.last4(bytes(r.my_number_ct))
        if r.my_number_status == "registered":
            return "none", None
        return r.my_number_status, None


class NoticePlan:
    """A notice run prints every target the extractor makes, as made (a certificate run
    decides person by person: certificate_plan.CertificatePlanner, the same two steps)."""

    def prepare(self, rows: list[Any]) -> list[Any]:
        return rows

    def decide(
        self, target: Target, held: str | None, counts: Any
    ) -> tuple[Target, str | None] | None:
        return target, held


def _target_row(
    run_id: int, t: Target, change: bytes, partition: int, piece: int, reason: str | None
) -> tuple[Any, ...]:
    return (
        run_id, partition, piece, t.person_id, "held" if reason else "ready", reason,
        t.employer_id, t.symbol, t.number, t.branch, t.relationship, t.name, t.name_kana,
        t.birth_date.isoformat(), t.sex, t.eligible_from.isoformat(), t.copay_rate,
        t.my_number_state, t.my_number_last4, t.insured_name, t.delivery, t.postal_code,
        t.address, t.content_hash(), change, t.cert_reason,
        t.valid_until.isoformat() if t.valid_until else None,
        t.effective_from.isoformat() if t.effective_from else None, t.cap_category, t.supersedes,
    )  # fmt: skip


def safe_file_part(value: str) -> str:
    """Only ASCII letters and digits reach a file name (a 健保組合's 記号 may hold kana)."""
    return "".join(ch for ch in value if ch.isascii() and ch.isalnum()) or "x"


PARTITION_COLUMNS = (
    "run_id", "partition_no", "kind", "employer_id", "area", "targets", "recipient",
    "recipient_symbol", "postal_code", "address", "phone", "status", "file_name",
)  # fmt: skip


def _parcel_row(run_id: int, partition: int, first: _Row, pieces: int) -> tuple[Any, ...]:
    """An employer's parcel (PARTITION_COLUMNS), addressed from its first member's row."""
    return (
        run_id, partition, "parcel", first.employer_id, None, pieces, first.employer_name,
        first.symbol, first.employer_postal, first.employer_address, first.employer_phone,
        "pending", f"parcels/P{partition:07d}-{safe_file_part(first.symbol)}.pdf",
    )  # fmt: skip


def _batch_row(run_id: int, partition: int, area: str, letters: int) -> tuple[Any, ...]:
    """A batch of home letters of one postal area (PARTITION_COLUMNS)."""
    return (
        run_id, partition, "batch", None, area, letters, None, None, None, None, None,
        "pending", f"letters/B{partition:07d}-{safe_file_part(area)}.pdf",
    )  # fmt: skip


def mark_extracted(conn: Connection, summary: ExtractionSummary) -> None:
    conn.execute(
        runs.update()
        .where(runs.c.id == summary.run_id)
        .values(
            status="extracted",
            targets=summary.targets,
            held=summary.held,
            partitions=summary.parcels + summary.batches,
        )
    )


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True, slots=True)
class KeySource:
    """How an extraction task finds the My Number key (to print the last 4 digits): a task in
    the driver's own process (inline, or a threaded cluster) uses the driver's vault; a worker
    process loads the key as the CLI does (SHIKAKU_MY_NUMBER_KEY, else `key_file`) and must
    find the same key (`fingerprint`, an HMAC that reveals nothing of it). Never the key."""

    key_file: str
    fingerprint: str

    @classmethod
    def of(cls, vault: MyNumberVault, key_file: Path | str | None) -> KeySource:
        fingerprint = _fingerprint(vault)
        _VAULTS[fingerprint] = vault
        return cls(str(Path(key_file).resolve()) if key_file else "", fingerprint)

    def vault(self) -> MyNumberVault:
        found = _VAULTS.get(self.fingerprint)
        if found is None:
            found = load_vault(Path(self.key_file))  # the environment first, as the CLI
            if _fingerprint(found) != self.fingerprint:
                raise DomainError(
                    "ワーカーの個人番号の暗号鍵が実行のものと異なります",
                    "the worker's My Number key is not the run's",
                )
            _VAULTS[self.fingerprint] = found
        return found


_VAULTS: dict[str, MyNumberVault] = {}


def _fingerprint(vault: MyNumberVault) -> str:
    return vault.blind_index("0").hex()[:16]


@dataclass(frozen=True, slots=True)
class RangeTask:
    """One range of 記号 to extract: [low, high) (None: open), whose first employer has
    `first_rank`. Small: the task reads everything else from the frozen registry."""

    run_id: int
    database_url: str
    snapshot: Snapshot
    attempt: str
    config: RunConfig
    keys: KeySource
    first_rank: int
    low: str | None
    high: str | None

    @property
    def name(self) -> str:
        return f"range {self.first_rank}"


class StaleTask(DomainError):
    """A task of an extraction attempt that was given up (the run's extraction started over)."""


def claim_task(conn: Connection, run_id: int, attempt: str, name: str, counts: TaskCounts) -> None:
    """First statement of a task's write transaction: the task belongs to the run's current
    attempt (held shared on PostgreSQL until commit, so an extraction that starts over waits
    for it), and its summary goes in; a second run of the task fails here on the key."""
    t = run_extract_tasks.c
    query = select(t.summary).where(t.run_id == run_id, t.task == ATTEMPT)
    if not is_sqlite(conn):
        query = query.with_for_update(read=True)
    if conn.execute(query).scalar() != attempt:
        raise StaleTask(
            "抽出をやり直したため、この作業は破棄されます", f"{name}: stale extraction attempt"
        )
    conn.execute(
        run_extract_tasks.insert().values(run_id=run_id, task=name, summary=counts.to_json())
    )


def stored_counts(engine: Engine, run_id: int, name: str) -> TaskCounts | None:
    t = run_extract_tasks.c
    with engine.connect() as conn:
        text = conn.execute(select(t.summary).where(t.run_id == run_id, t.task == name)).scalar()
    return None if text is None else TaskCounts.from_json(text)


def write_task(
    engine: Engine, task: Any, counts: TaskCounts, write: Callable[[Connection], None]
) -> TaskCounts:
    """The task's rows and summary in one transaction, once: a task Dask runs again (its
    worker died after the commit, say) finds its summary and writes nothing."""
    try:
        with write_transaction(engine) as conn:
            claim_task(conn, task.run_id, task.attempt, task.name, counts)
            write(conn)
    except IntegrityError:
        done = stored_counts(engine, task.run_id, task.name)
        if done is None:
            raise
        return done
    return counts


def extract_range(task: RangeTask) -> TaskCounts:
    """The engine task: extract one 記号 range in the frozen registry, write its targets,
    parcels, held targets and staged home letters in one transaction; its counts."""
    from shikaku.issuance.letters import letter_key, stage
    from shikaku.issuance.work import database_for

    db = database_for(task.database_url)
    done = stored_counts(db, task.run_id, task.name)
    if done is not None:
        return done
    counts = TaskCounts()
    targets: list[tuple[Any, ...]] = []
    parts: list[tuple[Any, ...]] = []
    letters: list[tuple[Any, ...]] = []
    digits = task.config.postal_area_digits
    with snapshot_reader(db, task.snapshot) as conn:
        run = conn.execute(select(runs).where(runs.c.id == task.run_id)).one()
        for rank, first, pieces in _range_targets(conn, run, task, counts):
            parcel = held = 0
            for target, change, reason in pieces:
                if reason is not None:
                    held += 1
                    targets.append(_target_row(task.run_id, target, change, -rank, held, reason))
                elif target.delivery == "home":
                    area = (target.postal_code or "")[:digits]
                    counts.letters[area] = counts.letters.get(area, 0) + 1
                    row = _target_row(task.run_id, target, change, 0, 0, None)
                    letters.append((task.run_id, letter_key(target), stage(row)))
                else:
                    parcel += 1
                    targets.append(_target_row(task.run_id, target, change, rank, parcel, None))
            counts.held += held
            counts.targets += len(pieces) - held  # parcel pieces and home letters
            if parcel:
                counts.parcels += 1
                parts.append(_parcel_row(task.run_id, rank, first, parcel))

    def write(conn: Connection) -> None:
        bulk = Bulk(conn)
        bulk.insert(run_targets, TARGET_COLUMNS, targets)
        bulk.insert(run_partitions, PARTITION_COLUMNS, parts)
        bulk.insert(run_letters, ("run_id", "sort_key", "target"), letters)

    return write_task(db, task, counts, write)


def _range_targets(
    conn: Connection, run: Any, task: RangeTask, counts: TaskCounts
) -> Iterator[tuple[int, _Row, list[tuple[Target, bytes, str | None]]]]:
    """(employer rank, first row, its targets) for each employer of the range with anyone
    eligible, in 記号 order."""
    from shikaku.issuance.certificate_plan import CertificatePlanner
    from shikaku.issuance.work import renderer_for

    config = task.config
    day: date = run.extraction_date
    follow_up = run.kind == "follow_up"
    m = employers.c
    ranks = {
        employer_id: task.first_rank + i
        for i, employer_id in enumerate(
            conn.execute(
                select(m.id)
                .where(m.insurer_number == config.insurer_number,
                       symbol_range(m.symbol, task.low, task.high))
                .order_by(m.symbol)
            ).scalars()
        )
    }  # fmt: skip
    plan: NoticePlan | CertificatePlanner = NoticePlan()
    chain: list[int] = []
    if run.kind in CERTIFICATE_KINDS:
        plan = CertificatePlanner(conn, run, config, task.low, task.high)
    else:
        chain = run_chain(conn, run.after_run_id)
    left, undelivered = (
        envelope_returns_for(conn, chain, day, config.insurer_number, task.low, task.high)
        if follow_up
        else (frozenset(), frozenset())
    )
    unprintable = renderer_for(config).fonts.unprintable
    extractor = Extractor(conn, config, task.keys.vault(), unprintable, day, follow_up)
    width = len(source_columns(day))
    stream = (
        _Row(  # type: ignore[call-arg]  # row[:width]: _Row's fields but the last
            *row[:width],
            None
            if row[0] in undelivered
            else next((h for h in row[width:] if h is not None), None),
        )
        for row in _eligible_rows(conn, config.insurer_number, day, chain, task.low, task.high)
    )
    for employer_id, group in groupby(stream, key=lambda r: r.employer_id):
        rows = list(group)
        counts.members += len(rows)
        counts.eligible += len(rows)
        rank = ranks.get(employer_id)
        if rank is None:
            raise DomainError(
                f"記号 {rows[0].symbol} の事業所が範囲にありません",
                f"employer {employer_id} is not in its 記号 range",
            )
        first = rows[0]
        if first.category and first.category in extractor.excluded:
            counts.excluded += len(rows)
            continue
        if left:
            kept = [r for r in rows if r.person_id not in left]
            counts.reported_left += len(rows) - len(kept)
            if not kept:
                continue
            rows, first = kept, kept[0]
        pieces = []
        for target, change, reason in extractor.targets(plan.prepare(rows), counts):
            decided = plan.decide(target, reason, counts)
            if decided is not None:
                pieces.append((decided[0], change, decided[1]))
        yield rank, first, pieces


# --------------------------------------------------------------------------- held report

HELD_HEADER = ("記号", "番号", "枝番", "保留理由")
HELD_SAMPLE = 50


def write_held_report(
    reading: AbstractContextManager[Connection], report_dir: Path, summary: ExtractionSummary
) -> None:
    """Who was held back and why: code points, never the My Number, never the whole name.
    Streamed from the ledger in the order met (employer by employer in 記号 order); the first
    lines also go to `summary.held_sample`."""
    summary.held_sample.clear()
    summary.held_report = None
    if not summary.held:
        return
    t = run_targets.c
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / f"run-{summary.run_id:06d}-held.csv"
    tmp = path.with_suffix(".csv.tmp")
    with reading as conn, tmp.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv_writer(f, lineterminator="\r\n")
        writer.writerow(HELD_HEADER)
        for row in conn.execute(
            select(t.symbol, t.number, t.branch, t.held_reason)
            .where(t.run_id == summary.run_id, t.partition_no <= 0)
            .order_by(t.partition_no.desc(), t.piece_no)
            .execution_options(yield_per=5000)
        ):
            writer.writerow(tuple(row))
            if len(summary.held_sample) < HELD_SAMPLE:
                summary.held_sample.append(Held(*row))
    tmp.replace(path)
    summary.held_report = path
