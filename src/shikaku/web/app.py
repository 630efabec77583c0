"""The FastAPI application: clinic API, FHIR endpoints, OpenAPI document and docs page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from shikaku import __version__
from shikaku.domain.documents import DocumentPolicy
from shikaku.registry.db import make_engine, require_current_schema
from shikaku.security.audit import AuditWriter
from shikaku.settings import Settings, load_settings
from shikaku.web import api, fhir, problems
from shikaku.web.auditqueue import LoopAuditQueue
from shikaku.web.auth import RateLimiter
from shikaku.web.context import AppContext

DESCRIPTION = """
医療機関・薬局向けの資格確認 API です。保険者番号・記号・番号・枝番・生年月日が全て一致した加入者について、
受診日時点の資格（有効・無効・該当なし）、本人・家族、負担割合、同意がある場合の限度額適用区分、
使える書類を返します。FHIR R4（JP Core の識別子）でも同じ照会ができます。すべての照会は監査ログに記録され、
記録が確定してから回答します。個人番号はどの回答にも含まれません。

The clinic eligibility API: status on the day of service, relationship, copay rate, cap
category (with the patient's consent) and the documents accepted that day, as JSON or FHIR.
Authenticate with `Authorization: Bearer <key>` or `X-API-Key`. Errors are problem+json
(RFC 9457) or, under /fhir, OperationOutcome.
"""


def serving_options(url: str) -> dict[str, Any]:
    """PostgreSQL plans the lookup (six correlated subqueries) in ~1.3 ms, twice what it takes
    to run it: server-side prepared statements from the first use keep the plan."""
    if url.startswith("postgresql"):
        return {"connect_args": {"prepare_threshold": 1}}
    return {}


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or load_settings()
    db = engine or make_engine(settings.database_url, **serving_options(settings.database_url))
    policy = settings.policy
    ctx = AppContext(
        settings=settings,
        engine=db,
        document_policy=DocumentPolicy.from_policy(policy),
        audit=LoopAuditQueue(AuditWriter(db), delay=settings.api.audit_flush_ms / 1000),
        limiter=RateLimiter(settings.api.rate_limit_per_second, settings.api.rate_limit_burst),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        require_current_schema(db)
        yield
        ctx.audit.close()
        ctx.close()

    app = FastAPI(
        title="shikaku 資格確認 API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    problems.install(app)
    app.include_router(api.router)
    app.include_router(fhir.router)

    @app.get(
        "/v1/health",
        summary="稼働確認 (liveness)",
        description="認証なしで ok を返します（監視と性能比較の基準用）。No authentication, no database.",
    )
    def health() -> dict[str, Any]:
        return {"status": "ok"}

    return app


def app_from_environment() -> FastAPI:
    """The factory `shikaku serve` hands to uvicorn (each worker builds its own)."""
    return create_app()
