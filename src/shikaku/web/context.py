"""What every request handler shares: the database, the rules' policy dates, the audit log.

The audit row of a read is durable before its answer leaves: handlers check through
`audited_check`, which returns only after the commit that carries the row (the loop's group
commit, web.auditqueue, or on SQLite the check worker's, web.checkworker).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from shikaku.registry.db import is_sqlite
from shikaku.security.audit import DURABLE_COMMITS, AuditWriter
from shikaku.service.eligibility import (
    CheckQuery,
    CheckResult,
    CheckRules,
    answer,
    audit_entry,
    check_eligibility,
)
from shikaku.settings import Settings
from shikaku.web.auditqueue import LoopAuditQueue
from shikaku.web.auth import Caller, RateLimiter
from shikaku.web.checkworker import CheckWorker, CheckWorkerError, worker_for
from shikaku.web.lookups import LOOKUP_SESSION, LookupBatcher
from shikaku.web.pgpool import AsyncPool
from shikaku.web.problems import Problem
from shikaku.web.quiet import Load

logger = logging.getLogger(__name__)


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    rules: CheckRules
    audit: LoopAuditQueue
    limiter: RateLimiter

    load: Load = field(default_factory=Load)  # requests begun: when batches stop gathering
    lookups: LookupBatcher | None = None  # PostgreSQL: batches of lookups (web.lookups)
    worker: CheckWorker | None = None  # the checks in a child process (web.checkworker)

    _reader: Connection | None = None

    def reader(self) -> Connection:
        """SQLite: the loop's lookups run on the audit writer's connection (PostgreSQL's go
        through `lookups`): a checkout per request cost more than the lookup itself, and a
        connection of their own would lose its page cache at every audit commit. Outside the
        writer's batches it is in autocommit: a SELECT opens no transaction."""
        if self._reader is None or self._reader.closed or self._reader.invalidated:
            self._reader = self.audit.writer.held_connection()
        return self._reader

    async def check(self, query: CheckQuery) -> CheckResult:
        """One lookup: on PostgreSQL in a batch on asynchronous connections, so the loop serves
        other requests during the round trip; on SQLite directly. A connection the server
        dropped is replaced and the lookup tried once more."""
        if self.lookups is None:
            try:
                return check_eligibility(self.reader(), query, self.rules)
            except Exception as exc:
                if not self._lost_connection(exc):
                    raise
                self.close()
                return check_eligibility(self.reader(), query, self.rules)
        records = await self.lookups.find(
            (query.insurer_number, query.symbol, query.number, query.branch, query.birth_date,
             query.service_date)
        )  # fmt: skip
        return answer(records, query, self.rules)

    def _lost_connection(self, exc: Exception) -> bool:
        """SQLAlchemy's verdict; for the driver's own errors (the lookup runs on the driver's
        cursor), whether the connection still answers a ping."""
        if isinstance(exc, DBAPIError):
            return bool(exc.connection_invalidated)
        driver = self.engine.dialect.loaded_dbapi
        if not isinstance(exc, driver.Error):
            return False
        raw = self._reader.connection.dbapi_connection if self._reader is not None else None
        if raw is None:
            return True
        try:
            return not self.engine.dialect.do_ping(raw)
        except Exception:
            return True

    def close(self) -> None:
        """Drop the lookups' connection (the audit writer's: it opens a new one when next
        asked)."""
        if self._reader is not None:
            self._reader = None
            self.audit.writer.close()


def check_context(settings: Settings, engine: Engine) -> AppContext:
    """What the app's checks need: on SQLite the check worker (web.checkworker), on
    PostgreSQL the loop's batches of lookups; the audit log's group commit either way."""
    postgres = not is_sqlite(engine)
    load = Load()
    return AppContext(
        settings=settings,
        engine=engine,
        rules=CheckRules.from_settings(settings),
        audit=LoopAuditQueue(
            AuditWriter(engine, keep_connection=True),
            delay=settings.api.audit_flush_ms / 1000,
            connections=AsyncPool(engine.url, 1, DURABLE_COMMITS) if postgres else None,
            load=load,
        ),
        limiter=RateLimiter(settings.api.rate_limit_per_second, settings.api.rate_limit_burst),
        load=load,
        lookups=LookupBatcher(
            AsyncPool(engine.url, settings.api.database_connections, LOOKUP_SESSION), load
        )
        if postgres
        else None,
        worker=worker_for(settings, engine),
    )


async def close_context(ctx: AppContext) -> None:
    """After the last request: what is queued is written, the connections closed."""
    if ctx.worker is not None:
        await ctx.worker.close()
    await ctx.audit.close()
    ctx.close()
    for pool in (ctx.lookups.pool if ctx.lookups else None, ctx.audit.connections):
        if pool is not None:
            await pool.close()


def context_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def audited_check(ctx: AppContext, who: Caller, kind: str, query: CheckQuery) -> CheckResult:
    """The check's result, once its audit row is durable: only then may the answer be sent.
    A query the rules cannot answer (a day before every dated table) is a 422, read nothing."""
    refusal = ctx.rules.refusal(query)
    if refusal is not None:
        raise Problem(422, refusal, [{"field": "service_date", "message": refusal}])
    if ctx.worker is None:
        result = await ctx.check(query)
        await audit(ctx, who, kind, result)
        return result
    try:
        return await ctx.worker.check((query, who, kind))
    except CheckWorkerError:
        logger.exception("check not done; no answer without its audit row")
        raise _UNAUDITED from None


async def audit(ctx: AppContext, who: Caller, kind: str, result: CheckResult) -> None:
    """Returns once the read's audit row is durable: only then may the answer be sent."""
    try:
        await ctx.audit.write(audit_entry(who.clinic_id, kind, result))
    except Exception:
        logger.exception("audit row not written; the answer is withheld")
        raise _UNAUDITED from None


_UNAUDITED = Problem(
    503,
    "監査ログに記録できないため回答できません。しばらくして再試行してください "
    "(the audit log is unavailable: no answer without its audit row)",
    headers={"Retry-After": "1"},
)
