"""What every request handler shares: the database, the rules' policy dates, the checker.

A read's answer leaves only once its audit row is durable: handlers check through
`audited_check`, which returns only when the checker (shikaku.checkers) has committed the row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine

from shikaku.checkers import Checker, NotAudited, Reader, checker_for
from shikaku.service.eligibility import CheckQuery, CheckResult, CheckRules
from shikaku.settings import Settings
from shikaku.web.auth import Caller, RateLimiter
from shikaku.web.problems import Problem

logger = logging.getLogger(__name__)


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    rules: CheckRules
    checker: Checker
    limiter: RateLimiter


def app_context(settings: Settings, engine: Engine) -> AppContext:
    return AppContext(
        settings=settings,
        engine=engine,
        rules=CheckRules.from_settings(settings),
        checker=checker_for(settings, engine),
        limiter=RateLimiter(settings.api.rate_limit_per_second, settings.api.rate_limit_burst),
    )


def context_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def audited_check(ctx: AppContext, who: Caller, kind: str, query: CheckQuery) -> CheckResult:
    """The check's result, once its audit row is durable: only then may the answer be sent
    (503 otherwise). A query the rules cannot answer (a day before every dated table) is a
    422, read nothing."""
    refusal = ctx.rules.refusal(query)
    if refusal is not None:
        raise Problem(422, refusal, [{"field": "service_date", "message": refusal}])
    try:
        return await ctx.checker.check(query, Reader(who.clinic_id, kind))
    except NotAudited:
        logger.exception("check not audited; no answer without its audit row")
        raise _UNAUDITED from None


_UNAUDITED = Problem(
    503,
    "監査ログに記録できないため回答できません。しばらくして再試行してください "
    "(the audit log is unavailable: no answer without its audit row)",
    headers={"Retry-After": "1"},
)
