"""What every request handler shares: the database, the rules' policy dates, the audit log.

The audit row of a read is durable before its answer leaves: handlers return through
`audit_and_answer`, which waits for the group commit that carries the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import Engine

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

    def check(self, query: CheckQuery) -> CheckResult:
        with self.engine.connect() as conn:
            return check_eligibility(
                conn, query, self.document_policy, self.settings.policy.ecert_grace_months
            )


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
