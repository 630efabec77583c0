"""Extraction: who gets a notice in a run, frozen in the ledger in one transaction.

Everyone eligible on the date (a full run), or, for a follow-up, everyone eligible on the
cut-off who got no notice in the earlier runs of its chain or whose printed data changed
since. Excluded categories (日雇特例 …) are left out; a target whose strings the fonts cannot
draw, or whom a rule refuses, is held and listed in the held report, never printed.
Employer parcels get partition numbers in 記号 order as the stream passes; home-delivered
letters are batched by postal area at the end. One transaction: a killed extraction leaves
nothing behind, and running it again gives the same ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, and_, or_, select

from shikaku.domain.ages import is_elderly_on
from shikaku.domain.errors import DomainError
from shikaku.domain.members import Relationship
from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.targets import Target, change_hash, number_order, printed_copay_rate
from shikaku.registry.bulk import Bulk
from shikaku.registry.db import write_transaction
from shikaku.registry.tables import (
    eligibility_periods,
    employers,
    envelope_returns,
    pay_periods,
    persons,
    run_partitions,
    run_targets,
    runs,
)
from shikaku.security.mynumber import MyNumberVault
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
_WRITE_BATCH = 5000
UNPRINTABLE = "印字できない文字"  # how a target held for glyphs begins its held_reason


@dataclass
class Held:
    symbol: str
    number: str
    branch: str
    reason: str


@dataclass
class ExtractionSummary:
    run_id: int
    eligible: int = 0
    excluded: int = 0  # by category (日雇特例 …)
    unchanged: int = 0  # follow-up: already served, nothing printed changed
    not_needed: int = 0  # certificate runs: a usable マイナ保険証, or no renewal due
    holding: int = 0  # certificate runs: holds a valid certificate already
    returns: int = 0  # certificate runs: return requests recorded at this extraction
    reported_left: int = 0  # follow-up: the employer reported them gone (envelope returned)
    targets: int = 0  # ready to print
    held: list[Held] = field(default_factory=list)
    parcels: int = 0
    batches: int = 0
    held_report: Path | None = None


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


def source_columns() -> tuple[Any, ...]:
    """What a target is built from: the person, the eligibility period, the employer (the
    order `_Row` reads them in; a reissue selects the same for one person)."""
    p, e, m = persons.c, eligibility_periods.c, employers.c
    return (
        p.id, p.employer_id, p.symbol, p.number, p.branch, p.relationship, p.insured_id,
        p.name, p.name_kana, p.birth_date, p.sex, p.postal_code, p.address, p.my_number_ct,
        p.my_number_status, e.eligible_from, m.delivery, m.category, m.name, m.postal_code,
        m.address, m.phone,
    )  # fmt: skip


def _eligible_rows(conn: Connection, insurer_number: str, day: date, chain: Sequence[int]) -> Any:
    """One streamed statement; a follow-up joins each earlier run's target by primary key."""
    p, e, m = persons.c, eligibility_periods.c, employers.c
    previous = [run_targets.alias(f"t{i}") for i in range(len(chain))]
    query = (
        select(
            *source_columns(),
            *[t.c.change_hash for t in previous],
        )
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
        e.eligible_from <= day,
        or_(e.lost_on.is_(None), e.lost_on > day),
    ).order_by(p.insurer_number, p.symbol, p.number, p.branch)
    return conn.execute(query.execution_options(yield_per=2000))


def envelope_returns_for(
    conn: Connection, chain: Sequence[int], day: date
) -> tuple[frozenset[int], frozenset[int]]:
    """(people whose envelope came back because they left on or before the day, people whose
    envelope in the chain came back undelivered): a follow-up leaves out the first even while
    the registry still shows them covered, and prints again for the second."""
    r = envelope_returns.c
    left = conn.execute(
        select(r.person_id).where(r.reason == "left", or_(r.left_on.is_(None), r.left_on <= day))
    ).scalars()
    left_ids = frozenset(left)
    undelivered = frozenset(
        conn.execute(
            select(r.person_id).where(r.reason == "unknown_address", r.run_id.in_(chain))
        ).scalars()
    )
    return left_ids, undelivered - left_ids


def _pay_on(conn: Connection, person_ids: Iterable[int], day: date) -> dict[int, int | None]:
    """標準報酬月額 on the day for the insured persons of households with someone 70-74."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    c = pay_periods.c
    rows = conn.execute(
        select(c.person_id, c.standard_monthly_pay)
        .where(c.person_id.in_(ids), c.effective_from <= day)
        .order_by(c.person_id, c.effective_from)
    )
    return {pid: pay for pid, pay in rows}  # the latest period wins


def _insured_outside(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[str, date]]:
    """Insured persons not in the stream (not eligible on the day themselves): rare."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    c = persons.c
    rows = conn.execute(select(c.id, c.name, c.birth_date).where(c.id.in_(wanted)))
    return {pid: (name, birth) for pid, name, birth in rows}


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
        self, rows: list[_Row], summary: ExtractionSummary
    ) -> list[tuple[Target, bytes, str | None]]:
        """(target, change hash, held reason or None) in print order: households by 番号,
        then 枝番."""
        rows.sort(key=lambda r: (number_order(r.number), r.branch))
        insured_rows = {r.person_id: r for r in rows if r.relationship == Relationship.INSURED}
        outside = _insured_outside(
            self.conn,
            (r.insured_id for r in rows if r.insured_id and r.insured_id not in insured_rows),
        )
        elderly_households = {
            r.insured_id or r.person_id for r in rows if is_elderly_on(r.birth_date, self.day)
        }
        pay = _pay_on(self.conn, elderly_households, self.day)
        employer_problem = self.employer_problem(rows[0]) if rows else None
        out: list[tuple[Target, bytes, str | None]] = []
        for r in rows:
            insured_id = r.person_id if r.relationship == Relationship.INSURED else r.insured_id
            insured = insured_rows.get(insured_id) if insured_id else None
            if insured is not None:
                insured_name, insured_birth = insured.name, insured.birth_date
                postal, address = insured.postal_code, insured.address
            elif insured_id in outside:
                insured_name, insured_birth = outside[insured_id]
                postal, address = r.postal_code, r.address
            else:  # no insured person on file: print the dependent's own name in the window
                insured_name, insured_birth = r.name, r.birth_date
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
                summary.unchanged += 1
                continue
            reason = employer_problem
            rate = printed_copay_rate(
                r.birth_date, self.day, insured_birth, pay.get(insured_id or 0), r.relationship
            )
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


CERTIFICATE_KINDS = ("certificates", "renewals")  # run kinds that issue 資格確認書
HELD_PARTITION = 0  # held targets: never rendered, numbered in the order they were met


def safe_file_part(value: str) -> str:
    """Only ASCII letters and digits reach a file name (a 健保組合's 記号 may hold kana)."""
    return "".join(ch for ch in value if ch.isascii() and ch.isalnum()) or "x"


def extract(
    engine: Engine,
    run_id: int,
    config: RunConfig,
    vault: MyNumberVault,
    unprintable: Unprintable,
    report_dir: Path,
    progress: Progress | None = None,
) -> ExtractionSummary:
    """Fill the ledger of a run in status extracting, and mark it extracted."""
    summary = ExtractionSummary(run_id)
    with write_transaction(engine) as conn:
        run = conn.execute(select(runs).where(runs.c.id == run_id)).one()
        if run.status != "extracting":
            raise DomainError(
                f"実行 {run_id} は抽出済みです", f"run {run_id} was extracted already"
            )
        conn.execute(run_targets.delete().where(run_targets.c.run_id == run_id))
        conn.execute(run_partitions.delete().where(run_partitions.c.run_id == run_id))
        chain = run_chain(conn, run.after_run_id)
        follow_up = run.kind == "follow_up"
        day = run.extraction_date
        extractor = Extractor(conn, config, vault, unprintable, day, follow_up)
        planner = None
        if run.kind in CERTIFICATE_KINDS:
            from shikaku.issuance.certificates import CertificatePlanner, request_returns

            summary.returns = request_returns(conn, run)
            planner = CertificatePlanner(conn, run, config)
            chain = []
        bulk = Bulk(conn)
        pending: list[tuple[Any, ...]] = []
        partition_rows: list[tuple[Any, ...]] = []
        seen = 0

        def flush() -> None:
            bulk.insert(run_targets, TARGET_COLUMNS, pending)
            pending.clear()

        left, undelivered = (
            envelope_returns_for(conn, chain, day) if follow_up else (frozenset(), frozenset())
        )
        stream = (
            _Row(
                *row[:22],
                None
                if row[0] in undelivered
                else next((h for h in row[22:] if h is not None), None),
            )
            for row in _eligible_rows(conn, config.insurer_number, day, chain)
        )
        partition = 0
        home: list[tuple[Target, bytes]] = []  # 任意継続 letters, batched by area at the end
        for _employer, group in groupby(stream, key=lambda r: r.employer_id):
            rows = list(group)
            seen += len(rows)
            summary.eligible += len(rows)
            first = rows[0]
            if first.category and first.category in extractor.excluded:
                summary.excluded += len(rows)
                continue
            if left:
                kept = [r for r in rows if r.person_id not in left]
                summary.reported_left += len(rows) - len(kept)
                if not kept:
                    continue
                rows, first = kept, kept[0]
            if planner is not None:
                rows = planner.prepare(rows)
            parcel_pieces = 0
            for target, change, reason in extractor.targets(rows, summary):
                if planner is not None:
                    decided = planner.decide(target, reason, summary)
                    if decided is None:
                        continue
                    target, reason = decided
                if reason is not None:
                    pending.append(_held_row(summary, target, change, reason))
                elif target.delivery == "home":
                    home.append((target, change))
                else:
                    if parcel_pieces == 0:
                        partition += 1
                    parcel_pieces += 1
                    pending.append(
                        _target_row(run_id, target, change, partition, parcel_pieces, None)
                    )
            summary.targets += parcel_pieces
            if parcel_pieces:
                partition_rows.append(_parcel_row(run_id, partition, first, parcel_pieces))
            if len(pending) >= _WRITE_BATCH:
                flush()
                bulk.insert(run_partitions, PARTITION_COLUMNS, partition_rows)
                partition_rows.clear()
                if progress is not None:
                    progress(seen)
        summary.parcels = partition
        summary.targets += len(home)
        for row in _batch_home_letters(run_id, partition, home, config):
            if row[0] == "partition":
                partition_rows.append(row[1])
                summary.batches += 1
            else:
                pending.append(row[1])
        flush()
        bulk.insert(run_partitions, PARTITION_COLUMNS, partition_rows)
        mark_extracted(conn, summary)
        if progress is not None:
            progress(seen)
    summary.held_report = write_held_report(report_dir, run_id, summary.held)
    return summary


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


def _held_row(
    summary: ExtractionSummary, target: Target, change: bytes, reason: str
) -> tuple[Any, ...]:
    """Lists a held target in the summary; its ledger row, numbered in the held order."""
    summary.held.append(Held(target.symbol, target.number, target.branch, reason))
    return _target_row(summary.run_id, target, change, HELD_PARTITION, len(summary.held), reason)


def mark_extracted(conn: Connection, summary: ExtractionSummary) -> None:
    conn.execute(
        runs.update()
        .where(runs.c.id == summary.run_id)
        .values(
            status="extracted",
            targets=summary.targets,
            held=len(summary.held),
            partitions=summary.parcels + summary.batches,
        )
    )


def _batch_home_letters(
    run_id: int, after: int, letters: list[tuple[Target, bytes]], config: RunConfig
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Home letters in postal-code order, cut into batches that never mix postal areas:
    ("partition", row) and ("target", row) rows to store."""
    letters.sort(
        key=lambda tc: (
            tc[0].postal_code or "",
            tc[0].symbol,
            number_order(tc[0].number),
            tc[0].branch,
        )
    )
    digits = config.postal_area_digits
    partition = after
    for area, group in groupby(letters, key=lambda tc: (tc[0].postal_code or "")[:digits]):
        members = list(group)
        for start in range(0, len(members), config.batch_letters):
            chunk = members[start : start + config.batch_letters]
            partition += 1
            for piece, (target, change) in enumerate(chunk, 1):
                yield "target", _target_row(run_id, target, change, partition, piece, None)
            yield "partition", _batch_row(run_id, partition, area, len(chunk))


HELD_HEADER = ("記号", "番号", "枝番", "保留理由")


def write_held_report(report_dir: Path, run_id: int, held: Sequence[Held]) -> Path | None:
    """Who was held back and why: code points, never the My Number, never the whole name."""
    if not held:
        return None
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / f"run-{run_id:06d}-held.csv"
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv_writer(f, lineterminator="\r\n")
        writer.writerow(HELD_HEADER)
        for h in held:
            writer.writerow((h.symbol, h.number, h.branch, h.reason))
    tmp.replace(path)
    return path
