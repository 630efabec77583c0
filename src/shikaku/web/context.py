"""What every request handler shares: the database, the rules' policy dates, the audit log.

The audit row of a read is durable before its answer leaves: handlers return through
`audit_and_answer`, which waits for the group commit that carries the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from shikaku.domain.documents import DocumentPolicy
from shikaku.security.audit import AuditEntry
from shikaku.service.eligibility import CheckQuery, CheckResult, check_eligibility
from shikaku.settings import Settings
from shikaku.web.auditqueue import LoopAuditQueue
from shikaku.web.auth import Caller, RateLimiter


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    document_policy: DocumentPolicy
    audit: LoopAuditQueue
    limiter: RateLimiter

    _reader: Connection | None = None

    def reader(self) -> Connection:
        """One autocommit connection for the event loop's lookups: every handler's database
        work runs on the loop thread, and a checkout per request cost more than the lookup
        (a ping and a rollback: two round trips on PostgreSQL)."""
        if self._reader is None or self._reader.closed or self._reader.invalidated:
            self._reader = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._reader

    def check(self, query: CheckQuery) -> CheckResult:
        grace = self.settings.policy.ecert_grace_months
        try:
            return check_eligibility(self.reader(), query, self.document_policy, grace)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            self._reader = None  # the server went away: one retry on a fresh connection
            return check_eligibility(self.reader(), query, self.document_policy, grace)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def context_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def audit_and_answer(
    ctx: AppContext, who: Caller, kind: str, result: CheckResult, answer: Any
) -> Any:
    entry = AuditEntry(
        clinic_id=who.clinic_id,
        kind=kind,
        person_id=result.person_id,
        result=str(int(result.validity)),
        detail={"validity": int(result.validity)},
    )
    await ctx.audit.write(entry)  # durable before the answer is sent
    return answer
