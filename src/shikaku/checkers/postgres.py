"""The PostgreSQL checker: lookups and audit rows in batches, on the event loop.

On PostgreSQL a lookup or a commit is a round trip: on psycopg's asynchronous connections
(`psycopg_pool.AsyncConnectionPool`, `api.database_connections` for the lookups and one more
for the audit commits) the loop reads and answers other requests meanwhile.

- **Lookups in batches**: the lookups of the requests in flight are gathered (checkers.
  batching) and sent as one statement of arrays (registry.checks.find_many_async), at most
  `api.check_batch` (8) at once: the server runs a batch's lookups one after another on one
  backend.
- **Audit group commit**: the audit rows of the checks looked up meanwhile share one
  autocommitted statement (registry.auditlog.AuditWriter.append_async); every check returns
  once its row's commit is durable. Rows that arrive while a batch commits form the next.

A connection the server dropped (a restart, a terminated backend) is replaced and its batch
tried once more: a read may then be logged twice, never answered unlogged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine

from shikaku.checkers import NotAudited, Reader
from shikaku.checkers.batching import Load, WhenQuiet, settle
from shikaku.registry.auditlog import DURABLE_COMMITS, AuditWriter
from shikaku.registry.checks import PersonRecord, find_many_async
from shikaku.security.audit import AuditEntry
from shikaku.service.eligibility import CheckQuery, CheckResult, CheckRules, answer, audit_entry
from shikaku.settings import Settings

T = TypeVar("T")

# Every session's settings. The lookup is prepared once per connection; PostgreSQL would
# still plan it anew for each execution while it judges custom plans cheaper (~0.15 ms, as
# long as the query itself). Every parameter is an equality on a unique key or a date bound,
# so one generic plan serves. No JIT: a batch's estimated cost can pass jit_above_cost
# (tables not yet analysed after an import), and compiling then took 26 ms of a 0.5 ms
# lookup. The audit rows' commits are durable (DURABLE_COMMITS).
SESSION = ("SET plan_cache_mode = force_generic_plan", "SET jit = off", *DURABLE_COMMITS)

LOOKUP_MAX_WAIT = 0.002  # seconds a lookup waits at most for others to join its batch
AUDIT_BATCH = 500
Keys = tuple[str, str, str, str, date, date]  # insurer, symbol, number, branch, birth, day
_Lookup = tuple[Keys, "asyncio.Future[list[PersonRecord]]"]
_Row = tuple[AuditEntry, "asyncio.Future[int]"]


class Connections:
    """psycopg's pool, opened on the event loop of the first request (a new loop, as in
    tests that start the app twice, gets a pool of its own)."""

    timeout = 10.0  # seconds a batch waits for a connection (none opens: the database is down)

    def __init__(self, engine: Engine, size: int) -> None:
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self.size = size
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        for statement in SESSION:
            await conn.execute(statement)

    async def pool(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Any]]:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._loop is not loop:  # another loop's dies with its loop
            self._loop = loop
            self._pool = AsyncConnectionPool(
                self.conninfo,
                min_size=self.size,
                max_size=self.size,
                kwargs={"autocommit": True},
                configure=self._configure,
                open=False,
                timeout=self.timeout,
                name="shikaku-checks",
            )
        pool = self._pool
        if pool.closed:  # opened by the first batch (opening again is harmless)
            await pool.open()
        return pool

    async def run(self, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]]) -> T:
        """`work` on a pooled connection; once more on another if the server dropped this
        one (the pool discards a broken connection it gets back, and its idle ones that a
        restart dropped too are found by `check`); other errors go to the caller."""
        pool = await self.pool()
        for attempt in (1, 2):
            async with pool.connection() as conn:
                try:
                    return await work(conn)
                except psycopg.OperationalError:
                    if attempt == 2 or not conn.broken:
                        raise
            await pool.check()
        raise AssertionError("unreachable")

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None and self._loop is asyncio.get_running_loop():
            await pool.close()


class PostgresChecker:
    def __init__(self, settings: Settings, engine: Engine, load: Load) -> None:
        self.rules = CheckRules.from_settings(settings)
        # PostgreSQL runs a batch's lookups one after another on one backend: batches of at
        # most 8 keep both cores' backends busy (2 cores, 16 clients: 8 against 256, ~5,500
        # against ~4,300 lookups/s, noisy).
        self.lookup_batch = settings.api.check_batch
        self.lookup_connections = settings.api.database_connections
        self.connections = Connections(engine, self.lookup_connections + 1)  # + the audit's
        self.writer = AuditWriter(engine)
        self._lookups: list[_Lookup] = []
        self._looking_up = 0  # batches of lookups on their way, one per connection at most
        self._lookups_quiet = WhenQuiet(load, self._send_lookups, LOOKUP_MAX_WAIT)
        self._rows: list[_Row] = []
        self._committing = False
        self._rows_quiet = WhenQuiet(load, self._commit, settings.api.audit_flush_ms / 1000)

    async def check(self, query: CheckQuery, reader: Reader) -> CheckResult:
        keys = (query.insurer_number, query.symbol, query.number, query.branch,
                query.birth_date, query.service_date)  # fmt: skip
        try:
            result = answer(await self._find(keys), query, self.rules)
            await self._audit(audit_entry(reader.clinic_id, reader.kind, result))
        except Exception as exc:  # as the SQLite checker: no answer, its error's kind only
            raise NotAudited(type(exc).__name__) from exc
        return result

    # ------------------------------------------------------------ lookups

    async def _find(self, keys: Keys) -> list[PersonRecord]:
        future: asyncio.Future[list[PersonRecord]] = asyncio.get_running_loop().create_future()
        self._lookups.append((keys, future))
        if len(self._lookups) >= self.lookup_batch and self._looking_up < self.lookup_connections:
            self._send_lookups()  # a full batch need not wait
        else:
            self._lookups_quiet.arm()
        return await future

    def _send_lookups(self) -> None:
        self._lookups_quiet.disarm()
        while self._lookups and self._looking_up < self.lookup_connections:
            batch = self._lookups[: self.lookup_batch]
            del self._lookups[: self.lookup_batch]
            self._looking_up += 1
            asyncio.get_running_loop().create_task(self._look_up(batch))

    async def _look_up(self, batch: list[_Lookup]) -> None:
        keys = [k for k, _f in batch]
        try:
            found = await self.connections.run(lambda conn: find_many_async(conn, keys))
        except Exception as exc:
            settle(batch, None, exc)
        else:
            settle(batch, found)
        finally:
            self._looking_up -= 1
            self._send_lookups()  # what gathered meanwhile goes at once

    # ------------------------------------------------------------ audit rows

    async def _audit(self, entry: AuditEntry) -> int:
        """The entry's row id, once its commit is durable."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._rows.append((entry, future))
        if not self._committing:
            self._rows_quiet.arm()
        return await future

    def _take_rows(self) -> list[_Row]:
        batch = self._rows[:AUDIT_BATCH]
        del self._rows[:AUDIT_BATCH]
        return batch

    def _commit(self) -> None:
        self._rows_quiet.disarm()
        self._committing = True
        asyncio.get_running_loop().create_task(self._commit_rows(self._take_rows()))

    async def _commit_rows(self, batch: list[_Row]) -> None:
        try:
            while batch:
                try:
                    ids = await self._append([e for e, _f in batch])
                except Exception as exc:
                    settle(batch, None, exc)
                else:
                    settle(batch, ids)
                batch = self._take_rows()  # what arrived meanwhile: at once
        finally:
            self._committing = False

    async def _append(self, entries: list[AuditEntry]) -> list[int]:
        return await self.connections.run(lambda conn: self.writer.append_async(conn, entries))

    async def close(self) -> None:
        """Commit what is still queued (after the last request), then close the pool."""
        self._lookups_quiet.disarm()
        self._rows_quiet.disarm()
        if self._rows and not self._committing:
            await self._commit_rows(self._take_rows())
        await self.connections.close()
