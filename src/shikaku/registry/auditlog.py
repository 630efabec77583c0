"""The audit log's storage: appending to the chain in the `audit_log` table, durably and
without forking it, and reading it back to verify (the chain itself: security.audit).

Writing: `AuditWriter.append` writes a batch in one transaction that first takes the log's
lock (SQLite: a lock file, then BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory
lock), so writers in any number of processes never fork the chain; ids are assigned here,
without gaps. It returns only after the commit is durable (SQLite: synchronous=FULL for
that commit; PostgreSQL: synchronous_commit=on), so a caller that answers after `append`
returns never answers without its audit row. The clinic API's checker process
(shikaku.checkers) shares one commit among the reads in flight (group commit):
`append` on SQLite, `append_autocommit` (one statement) on PostgreSQL.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, select

from shikaku.registry.db import is_sqlite, pg_array, shared_sqlite_file
from shikaku.registry.tables import audit_log
from shikaku.security.audit import GENESIS, AuditEntry, AuditReport, chain_hash, check_chain

if TYPE_CHECKING:
    from psycopg import Connection as PsycopgConnection

# Any 64-bit key: the PostgreSQL advisory lock that serialises writers of the log.
PG_LOCK_KEY = int.from_bytes(hashlib.sha256(b"shikaku.audit_log").digest()[:8], "big", signed=True)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


DURABLE_COMMITS = ("SET synchronous_commit = on",)  # PostgreSQL session of a log writer
UNIQUE_VIOLATION = "23505"  # SQLSTATE: another writer took the id first
OPTIMISTIC_TRIES = 3  # append_autocommit's unlocked attempts before it takes the lock


def _columns(rows: list[tuple[Any, ...]]) -> list[str]:
    """The batch as one array literal per column (registry.db.pg_array)."""
    return [pg_array(column) for column in zip(*rows, strict=True)]


# PostgreSQL (psycopg, autocommit): a whole batch as one prepared statement, one array per
# column. It takes the log's lock before its first row (an uncorrelated subquery runs once,
# before the scan; the cast keeps the planner from dropping the call, as it would inside
# EXISTS), so a writer continuing from its own last row never slips in between another
# writer's locked read of the head and that writer's insert.
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
    steps of up to 100 ms (two API processes, each with its checker process: p99 778 ms); on the
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
    the writer's life (the SQLite backend of the checker process; call `close`); otherwise
    each batch checks one out.
    """

    def __init__(self, engine: Engine, *, keep_connection: bool = False) -> None:
        self.engine = engine
        self.keep_connection = keep_connection
        self._held: Connection | None = None
        self._head: tuple[int, bytes] | None = None  # (id, row_hash) last written (autocommit)
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
        thread between its batches (the SQLite backend's lookups): SQLite empties a
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

    def append_autocommit(
        self, conn: PsycopgConnection[Any], entries: Sequence[AuditEntry]
    ) -> list[int]:
        """`append` on a psycopg connection in autocommit (the PostgreSQL backend's, whose
        session has synchronous_commit=on: see DURABLE_COMMITS), in one statement, one array
        per column: one round trip, durable when it returns.

        The writer continues from the row it wrote last, in a single autocommitted statement
        that takes the log's lock itself. Should another writer have continued the chain
        meanwhile, the batch's first id is taken (the primary key refuses it, nothing is
        written): the writer reads the head, without the lock, and tries again from there
        (several API workers take turns this way, in three round trips rather than six).
        After OPTIMISTIC_TRIES refusals the batch goes the locked way, which cannot be
        refused: lock, read the head, insert, commit. The chain cannot fork: a row's place is
        its id, and no writer inserts without the lock, so a head read without it is at worst
        stale, and then refused."""
        if not entries:
            return []
        assert conn.autocommit, "append_autocommit needs an autocommit connection"
        now = _utcnow()
        last, known = self._head, self._head is not None
        for _attempt in range(OPTIMISTIC_TRIES):
            if not known:
                last, known = conn.execute(self._last_sql).fetchone(), True
            rows = self._chain(last, entries, now)
            try:
                conn.execute(_PG_INSERT_COLUMNS, (*_columns(rows), PG_LOCK_KEY), prepare=True)
            except Exception as exc:
                self._head = None
                if getattr(exc, "sqlstate", None) != UNIQUE_VIOLATION:
                    raise
                known = False
                continue
            self._head = (rows[-1][0], rows[-1][-1])
            return [row[0] for row in rows]
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))
            rows = self._chain(conn.execute(self._last_sql).fetchone(), entries, now)
            conn.execute(_PG_INSERT_COLUMNS, (*_columns(rows), PG_LOCK_KEY))
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


def verify_chain(
    engine: Engine, anchor: tuple[int, bytes] | None = None, batch: int = 5000
) -> AuditReport:
    """security.audit.check_chain over the whole log, read in id order in one snapshot,
    `batch` rows at a time: memory does not grow with the log."""
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
        return check_chain(rows, anchor)
