"""The audit log: every read of a member's data, as a SHA-256 hash chain.

    row_hash = SHA-256(prev_hash || canonical(id, at, clinic_id, kind, person_id, result, detail))

The first row's prev_hash is 32 zero bytes; every other row's is its predecessor's row_hash.
`canonical` is the compact JSON array of the seven values (see `canonical`), so anyone can
recompute the chain from a database dump with a few lines of any language.

Writing: `AuditWriter.append` writes a batch in one transaction that first takes the log's
lock (SQLite: a lock file, then BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory
lock), so writers in any number of processes never fork the chain; ids are assigned here,
without gaps. It returns only after the commit is durable (SQLite: synchronous=FULL for
that commit; PostgreSQL: synchronous_commit=on), so a caller that answers after `append`
returns never answers without its audit row. The clinic API's checkers (shikaku.checkers)
share one such transaction among the reads in flight (group commit).

Checking: `verify_chain` streams the rows in id order and names every row that was edited,
inserted or deleted. Rows removed from the end (or a consistent rewrite of the newest rows)
leave no trace inside the chain: compare with a head hash recorded elsewhere (`anchor`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import threading
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, select

from shikaku.registry.db import is_sqlite, pg_array, shared_sqlite_file
from shikaku.registry.tables import audit_log

if TYPE_CHECKING:
    from psycopg import AsyncConnection

__all__ = [
    "DURABLE_COMMITS",
    "GENESIS",
    "AuditEntry",
    "AuditProblem",
    "AuditReport",
    "AuditWriter",
    "actor_of",
    "canonical",
    "chain_hash",
    "verify_chain",
]

GENESIS = bytes(32)
"""prev_hash of the first row."""

# Kinds written by shikaku (others may be added: lower-case ASCII, at most 32 characters).
ELIGIBILITY = "eligibility"
FHIR_ELIGIBILITY = "fhir_eligibility"
FHIR_COVERAGE = "fhir_coverage"
CONSOLE_READ = "console_read"

MAX_RESULT = 32
MAX_DETAIL = 2000
_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")
# Twelve digits in a row, once spaces and dashes are taken out: possibly a My Number.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ー]")
_LONG_DIGITS = re.compile(r"\d{12}")
# Any 64-bit key: the PostgreSQL advisory lock that serialises writers of the log.
PG_LOCK_KEY = int.from_bytes(hashlib.sha256(b"shikaku.audit_log").digest()[:8], "big", signed=True)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# Encoders built once (json.dumps with options builds a new encoder on every call).
_DETAIL_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_CANONICAL_JSON = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def _may_hold_my_number(value: str) -> bool:
    if len(value) < 12 and value.isascii():  # NFKC leaves ASCII as it is: too short
        return False
    return bool(_LONG_DIGITS.search(_SEPARATORS.sub("", unicodedata.normalize("NFKC", value))))


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited event, as the caller describes it; the writer adds id and hashes.

    `detail` is a small JSON object (stored as compact JSON with sorted keys). Nothing in
    `result` or `detail` may look like a My Number: twelve digits in a row are refused.
    `at` is UTC (naive, or aware and converted); default: when the batch is written.
    """

    kind: str
    clinic_id: int | None = None
    person_id: int | None = None
    result: str | None = None
    detail: Mapping[str, Any] | None = None
    at: datetime | None = None
    detail_json: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if not _KIND.fullmatch(self.kind):
            raise ValueError(f"audit kind must be lower-case ASCII, ≤ 32 chars: {self.kind!r}")
        if self.result is not None and len(self.result) > MAX_RESULT:
            raise ValueError(f"audit result longer than {MAX_RESULT} characters")
        text_ = None
        if self.detail is not None:
            text_ = _DETAIL_JSON.encode(self.detail)
            if len(text_) > MAX_DETAIL:
                raise ValueError(f"audit detail longer than {MAX_DETAIL} characters")
        # One scan over both (the JSON text holds every key and value of the detail).
        if _may_hold_my_number(f"{self.result or ''}\x00{text_ or ''}"):
            # Never echo the value: it may be a My Number.
            raise ValueError("audit result/detail must not contain 12 digits in a row")
        if self.at is not None and self.at.tzinfo is not None:
            object.__setattr__(self, "at", self.at.astimezone(UTC).replace(tzinfo=None))
        object.__setattr__(self, "detail_json", text_)


def canonical(
    id: int,
    at: datetime,
    clinic_id: int | None,
    kind: str,
    person_id: int | None,
    result: str | None,
    detail: str | None,
) -> bytes:
    """The bytes hashed for a row: a compact, ASCII-only JSON array, `at` as ISO 8601 with
    microseconds, e.g. `[1,"2026-11-27T01:02:03.000004",7,"eligibility",42,"1",null]`."""
    values = [id, at.isoformat(timespec="microseconds"), clinic_id, kind, person_id, result, detail]
    return _CANONICAL_JSON.encode(values).encode("ascii")


def chain_hash(
    prev_hash: bytes,
    id: int,
    at: datetime,
    clinic_id: int | None,
    kind: str,
    person_id: int | None,
    result: str | None,
    detail: str | None,
) -> bytes:
    h = hashlib.sha256(prev_hash)
    h.update(canonical(id, at, clinic_id, kind, person_id, result, detail))
    return h.digest()


def actor_of(detail: str | None) -> str | None:
    """Who acted, for a row written by the console or the portal (`detail`'s "user"); None
    for a clinic's row or a detail that names nobody."""
    if not detail or '"user"' not in detail:
        return None
    try:
        value = json.loads(detail).get("user")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


# ------------------------------------------------------------------ writing


DURABLE_COMMITS = ("SET synchronous_commit = on",)  # PostgreSQL session of a log writer
UNIQUE_VIOLATION = "23505"  # SQLSTATE: another writer took the id first
OPTIMISTIC_TRIES = 3  # append_async's unlocked attempts before it takes the lock


def _columns(rows: list[tuple[Any, ...]]) -> list[str]:
    """The batch as one array literal per column (registry.db.pg_array)."""
    return [pg_array(column) for column in zip(*rows, strict=True)]


# PostgreSQL (psycopg, asynchronous): a whole batch as one prepared statement, one array per
# column. It
# takes the log's lock before its first row (an uncorrelated subquery runs once, before the
# scan; the cast keeps the planner from dropping the call, as it would inside EXISTS), so a
# writer continuing from its own last row never slips in between another writer's locked
# read of the head and that writer's insert.
_PG_INSERT_COLUMNS = (
    "INSERT INTO audit_log (id, at, clinic_id, kind, person_id, result, detail, prev_hash, "
    "row_hash) SELECT * FROM unnest(%s::bigint[], %s::timestamp[], %s::bigint[], "
    "%s::varchar[], %s::bigint[], %s::varchar[], %s::text[], %s::bytea[], %s::bytea[]) "
    "WHERE (SELECT pg_advisory_xact_lock(%s)::text) IS NOT NULL"
)
_COLUMNS = (
    "id",
    "at",
    "clinic_id",
    "kind",
    "person_id",
    "result",
    "detail",
    "prev_hash",
    "row_hash",
)


@contextmanager
def _writers_turn(database: str | None) -> Iterator[None]:
    """SQLite: the writers of a database file take turns on a lock file beside it. A writer
    that finds the database locked otherwise waits in SQLite's busy handler, which sleeps in
    steps of up to 100 ms (two API workers, each with its check worker: p99 778 ms); on the
    lock file it is woken the moment the other lets go. `database`: the file, or None when
    no other process can open it (registry.db.shared_sqlite_file)."""
    if database is None:
        yield
        return
    fd = os.open(f"{database}-auditlock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


class AuditWriter:
    """Appends batches to the chain; safe across threads and processes (see the module).

    Each batch is four statements on the driver's own connection (no ORM, no SQL compiled per
    batch): the API's answers wait for it. With `keep_connection`, one connection is held for
    the writer's life (the SQLite checker's child; call `close`); otherwise each batch checks
    one out.
    """

    def __init__(self, engine: Engine, *, keep_connection: bool = False) -> None:
        self.engine = engine
        self.keep_connection = keep_connection
        self._held: Connection | None = None
        self._head: tuple[int, bytes] | None = None  # (id, row_hash) last written (async)
        self._lock = threading.Lock()
        self._sqlite = is_sqlite(engine)
        self._shared_file = shared_sqlite_file(engine)  # the lock file's database
        mark = "?" if self._sqlite else "%s"
        self._last_sql = "SELECT id, row_hash FROM audit_log ORDER BY id DESC LIMIT 1"
        self._insert_sql = (
            f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join([mark] * len(_COLUMNS))})"
        )
        dialect = engine.dialect
        self._bind_at = audit_log.c.at.type.dialect_impl(dialect).bind_processor(dialect)

    def append(self, entries: Sequence[AuditEntry]) -> list[int]:
        """Write `entries` in one transaction, committed when this returns; their ids."""
        if not entries:
            return []
        with self._lock, self._connection() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            try:
                return self._append(raw, entries)
            except BaseException:
                raw.rollback()
                if self._held is not None:  # the connection may be broken: start afresh
                    self._release()
                raise

    def close(self) -> None:
        with self._lock:
            self._release()

    def held_connection(self) -> Connection:
        """The connection a `keep_connection` writer holds, for reads on the writer's own
        thread between its batches (the SQLite checker's lookups): SQLite empties a
        connection's page cache whenever another connection commits, so reads that share the
        writer's connection keep it (measured: a 20 µs lookup cost 27 µs with a commit every 16)."""
        assert self.keep_connection
        with self._lock, self._connection() as conn:
            return conn

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        if not self.keep_connection:
            with self.engine.connect() as conn:
                self._prepare(conn)
                try:
                    yield conn
                finally:
                    self._unprepare(conn)
            return
        if self._held is None or self._held.closed or self._held.invalidated:
            self._held = self.engine.connect()
            self._prepare(self._held)
        yield self._held

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        try:
            self._unprepare(held)
        except Exception:  # a broken connection: the pool must not hand it out again
            held.invalidate()
        held.close()

    def _prepare(self, conn: Connection) -> None:
        """Durable commits on this connection: SQLite synchronous=FULL (the WAL is synced, so a
        power cut cannot undo a commit; the engine's NORMAL only survives a crash of the
        process); PostgreSQL synchronous_commit=on."""
        conn.rollback()  # no transaction of SQLAlchemy's own is left open on it
        raw = conn.connection.dbapi_connection
        assert raw is not None
        if self._sqlite:
            raw.execute("PRAGMA synchronous=FULL")  # outside a transaction
        else:
            for statement in DURABLE_COMMITS:
                raw.execute(statement)
            raw.commit()

    def _unprepare(self, conn: Connection) -> None:
        raw = conn.connection.dbapi_connection
        if raw is None or conn.invalidated:
            return
        if self._sqlite:
            raw.execute("PRAGMA synchronous=NORMAL")
        else:
            raw.execute("RESET synchronous_commit")
            raw.commit()

    def _append(self, raw: Any, entries: Sequence[AuditEntry]) -> list[int]:
        """The log's lock first (SQLite: the writers' turn on the lock file, then BEGIN
        IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock; read committed, so the
        last row read after it is the newest committed one), then the chain continues from
        the last row. PostgreSQL has no lock file (its `_shared_file` is None)."""
        with _writers_turn(self._shared_file):
            now = _utcnow()
            if self._sqlite:
                raw.execute("BEGIN IMMEDIATE")
            else:
                raw.execute("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))
            rows = self._chain(raw.execute(self._last_sql).fetchone(), entries, now)
            raw.cursor().executemany(self._insert_sql, rows)
            if self._sqlite:
                raw.execute("COMMIT")
            else:
                raw.commit()
        return [row[0] for row in rows]

    async def append_async(
        self, conn: AsyncConnection[Any], entries: Sequence[AuditEntry]
    ) -> list[int]:
        """`append` on a psycopg asynchronous connection in autocommit (the API's on
        PostgreSQL, whose sessions have synchronous_commit=on: see DURABLE_COMMITS): the
        event loop keeps serving while the server commits. The batch is one statement, one
        array per column.

        The writer continues from the row it wrote last, in a single autocommitted statement
        (one round trip, durable when it returns) that takes the log's lock itself. Should
        another writer have continued the chain meanwhile, the batch's first id is taken
        (the primary key refuses it, nothing is written): the writer reads the head, without
        the lock, and tries again from there (several API workers take turns this way, in
        three round trips rather than six). After OPTIMISTIC_TRIES refusals the batch goes
        the locked way, which cannot be refused: lock, read the head, insert, commit. The
        chain cannot fork: a row's place is its id, and no writer inserts without the lock,
        so a head read without it is at worst stale, and then refused."""
        if not entries:
            return []
        assert conn.autocommit, "append_async needs an autocommit connection"
        now = _utcnow()
        last, known = self._head, self._head is not None
        for _attempt in range(OPTIMISTIC_TRIES):
            if not known:
                last, known = await (await conn.execute(self._last_sql)).fetchone(), True
            rows = self._chain(last, entries, now)
            try:
                await conn.execute(_PG_INSERT_COLUMNS, (*_columns(rows), PG_LOCK_KEY), prepare=True)
            except Exception as exc:
                self._head = None
                if getattr(exc, "sqlstate", None) != UNIQUE_VIOLATION:
                    raise
                known = False
                continue
            self._head = (rows[-1][0], rows[-1][-1])
            return [row[0] for row in rows]
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))
            rows = self._chain(await (await conn.execute(self._last_sql)).fetchone(), entries, now)
            await conn.execute(_PG_INSERT_COLUMNS, (*_columns(rows), PG_LOCK_KEY))
        self._head = (rows[-1][0], rows[-1][-1])
        return [row[0] for row in rows]

    def _chain(
        self, last: Any, entries: Sequence[AuditEntry], now: datetime
    ) -> list[tuple[Any, ...]]:
        """The rows to insert after `last` (id, row_hash of the newest row, or None)."""
        next_id, prev = (1, GENESIS) if last is None else (last[0] + 1, bytes(last[1]))
        bind_at = self._bind_at
        stored_now = bind_at(now) if bind_at is not None else now  # most rows: the batch's time
        rows: list[tuple[Any, ...]] = []
        for i, e in enumerate(entries):
            at = e.at or now
            row_id = next_id + i
            row_hash = chain_hash(
                prev, row_id, at, e.clinic_id, e.kind, e.person_id, e.result, e.detail_json
            )
            stored_at = stored_now if at is now else bind_at(at) if bind_at is not None else at
            rows.append(
                (row_id, stored_at, e.clinic_id, e.kind, e.person_id, e.result, e.detail_json,
                 prev, row_hash)
            )  # fmt: skip
            prev = row_hash
        return rows


# ------------------------------------------------------------------ verifying


@dataclass(frozen=True, slots=True)
class AuditProblem:
    row_id: int
    kind: str  # edited / deleted / inserted / unlinked / anchor
    ja: str
    en: str


@dataclass
class AuditReport:
    rows: int = 0
    first_id: int | None = None
    last_id: int | None = None
    head_hash: bytes = GENESIS  # the last row's row_hash: record it elsewhere, as an anchor
    problems: list[AuditProblem] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)  # problems by kind, all of them
    max_problems: int = 1000  # problems kept in the list; counts count them all

    @property
    def ok(self) -> bool:
        return not self.counts

    @property
    def problem_count(self) -> int:
        return sum(self.counts.values())

    def _add(self, row_id: int, kind: str, ja: str, en: str) -> None:
        self.counts[kind] += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(AuditProblem(row_id, kind, ja, en))


_WINDOW = 1024  # recent row hashes kept to recognise what a broken link points to


def verify_chain(
    engine: Engine, anchor: tuple[int, bytes] | None = None, batch: int = 5000
) -> AuditReport:
    """Recompute every hash in id order; report every edited, inserted and deleted row.

    - edited: the row's hash does not match its content;
    - deleted: ids are missing (ids have no gaps by construction);
    - inserted: a row the chain skips (the next row is chained to the row before it), or a
      last row whose prev_hash is not its predecessor's hash;
    - unlinked: a row chained to a row that is not its predecessor (the predecessor was
      replaced or re-hashed, or rows were deleted and the rest renumbered);
    - anchor: `anchor` = (id, row_hash) recorded earlier does not match (rewritten or
      truncated log).

    Reads in one snapshot, `batch` rows at a time; memory does not grow with the log.
    """
    report = AuditReport()
    cols = audit_log.c
    query = select(
        cols.id,
        cols.at,
        cols.clinic_id,
        cols.kind,
        cols.person_id,
        cols.result,
        cols.detail,
        cols.prev_hash,
        cols.row_hash,
    ).order_by(cols.id)
    with engine.connect() as conn:
        rows = conn.execution_options(yield_per=batch).execute(query)
        _check(_lookahead(rows), report, anchor)
    return report


def _lookahead(rows: Any) -> Iterator[tuple[Any, Any]]:
    prev = None
    for row in rows:
        if prev is not None:
            yield prev, row
        prev = row
    if prev is not None:
        yield prev, None


def _check(pairs: Iterator[tuple[Any, Any]], report: AuditReport, anchor: Any) -> None:
    prev_id, prev_hash = 0, GENESIS  # the row the next one must be chained to
    seen_id = 0  # the previous row's id: ids have no gaps
    recent: OrderedDict[bytes, int] = OrderedDict({GENESIS: 0})
    for row, nxt in pairs:
        report.rows += 1
        if report.first_id is None:
            report.first_id = row.id
        report.last_id = row.id
        stored = bytes(row.row_hash)
        report.head_hash = stored
        chained_to = bytes(row.prev_hash)
        computed = chain_hash(
            chained_to,
            row.id,
            row.at,
            row.clinic_id,
            row.kind,
            row.person_id,
            row.result,
            row.detail,
        )
        skip = False  # the chain goes around this row: keep checking against prev
        if computed != stored:
            report._add(
                row.id,
                "edited",
                f"{row.id} 行目: 内容がハッシュと一致しません（書き込み後に変更されています）",
                f"row {row.id}: its hash does not match its content (edited after it was written)",
            )
        first, last = seen_id + 1, row.id - 1
        seen_id = row.id
        if first <= last:
            span = f"{first}" if first == last else f"{first}–{last}"
            report._add(
                first,
                "deleted",
                f"{span} 行目がありません（削除されています）",
                f"row(s) {span} missing (deleted)",
            )
        elif chained_to != prev_hash:
            older = recent.get(chained_to)
            if older is not None and older < prev_id:
                span = f"{older + 1}" if older + 1 == prev_id else f"{older + 1}–{prev_id}"
                report._add(
                    older + 1,
                    "inserted",
                    f"{span} 行目は連鎖の外にあります（後から挿入されています）: {row.id} 行目は"
                    f" {older} 行目に連鎖しています",
                    f"row(s) {span} are outside the chain (inserted): row {row.id} is chained "
                    f"to row {older}",
                )
            elif nxt is not None and bytes(nxt.prev_hash) == prev_hash:
                skip = True
                report._add(
                    row.id,
                    "inserted",
                    f"{row.id} 行目は連鎖の外にあります（後から挿入されています）: 次の行は"
                    f" {prev_id} 行目に連鎖しています",
                    f"row {row.id} is outside the chain (inserted): the next row is chained "
                    f"to row {prev_id}",
                )
            elif nxt is None:
                report._add(
                    row.id,
                    "inserted",
                    f"{row.id} 行目（最後の行）は {prev_id} 行目に連鎖していません（後から挿入"
                    f"されたか、{prev_id} 行目が置き換えられています）",
                    f"row {row.id} (the last) is not chained to row {prev_id}: inserted, or "
                    f"row {prev_id} was replaced",
                )
            else:
                report._add(
                    row.id,
                    "unlinked",
                    f"{row.id} 行目は {prev_id} 行目に連鎖していません: {prev_id} 行目が置き換え"
                    f"られたか（改ざん後にハッシュを再計算）、行が削除され番号が詰められています",
                    f"row {row.id} is not chained to row {prev_id}: row {prev_id} was replaced "
                    f"(edited and re-hashed), or rows were deleted and the ids renumbered",
                )
        if anchor is not None and row.id == anchor[0] and stored != anchor[1]:
            report._add(
                row.id,
                "anchor",
                f"{row.id} 行目のハッシュが記録済みの値と違います（書き換えられています）",
                f"row {row.id}: hash differs from the recorded anchor (rewritten)",
            )
        if not skip:
            prev_id, prev_hash = row.id, stored
            recent[stored] = row.id
            if len(recent) > _WINDOW:
                recent.popitem(last=False)
    if anchor is not None and (report.last_id or 0) < anchor[0]:
        report._add(
            anchor[0],
            "anchor",
            f"記録済みの {anchor[0]} 行目がありません（末尾が削除されています）",
            f"anchored row {anchor[0]} is missing (the log was truncated)",
        )
