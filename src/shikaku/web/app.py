"""The FastAPI application: clinic API, FHIR endpoints, OpenAPI document and docs page."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from sqlalchemy import Engine
from starlette.types import Receive, Scope, Send

from shikaku import __version__
from shikaku.domain.documents import DocumentPolicy
from shikaku.registry.db import is_sqlite, make_engine, require_current_schema
from shikaku.security.audit import DURABLE_COMMITS, AuditWriter
from shikaku.settings import Settings, load_settings
from shikaku.web import api, fastpath, fhir, problems
from shikaku.web.auditqueue import LoopAuditQueue
from shikaku.web.auth import SECURITY_SCHEMES, RateLimiter
from shikaku.web.context import AppContext
from shikaku.web.lookups import LookupBatcher
from shikaku.web.pgpool import AsyncPool
from shikaku.web.quiet import Load
from shikaku.webconsole import web as console

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


# The lookups' sessions. The statement is prepared once per connection; PostgreSQL would still
# plan it anew for each execution while it judges custom plans cheaper (~0.15 ms, as long as
# the query itself). Every parameter is an equality on a unique key or a date bound, so one
# generic plan serves. No JIT: a batch's estimated cost can pass jit_above_cost (tables not
# yet analysed after an import), and compiling then took 26 ms of a 0.5 ms lookup.
LOOKUP_SESSION = ("SET plan_cache_mode = force_generic_plan", "SET jit = off")

# FastAPI's OpenTelemetry spans and metrics: off unless `api.telemetry` (they cost ~5% of a
# lookup's time even with no exporter configured).
NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def settle_heap() -> None:
    """Move everything built at start-up out of the collector's sight: a full collection
    then walks only what requests allocate, not the ~200k objects of the frameworks (it cost
    tens of milliseconds, the API's worst latencies)."""
    gc.collect()
    gc.freeze()


class App(FastAPI):
    """The FastAPI app, with the eligibility check served directly (web.fastpath)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: AppContext = self.state.ctx
        if scope["type"] == "http":
            ctx.load.note_request()  # batches gather while requests come (web.quiet)
            if fastpath.handles(scope):
                await fastpath.eligibility(ctx, scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or load_settings()
    db = engine or make_engine(settings.database_url)
    policy = settings.policy
    postgres = not is_sqlite(db)
    load = Load()
    ctx = AppContext(
        settings=settings,
        engine=db,
        document_policy=DocumentPolicy.from_policy(policy),
        audit=LoopAuditQueue(
            AuditWriter(db, keep_connection=True),
            delay=settings.api.audit_flush_ms / 1000,
            connections=AsyncPool(db.url, 1, DURABLE_COMMITS) if postgres else None,
            load=load,
        ),
        limiter=RateLimiter(settings.api.rate_limit_per_second, settings.api.rate_limit_burst),
        load=load,
        lookups=LookupBatcher(
            AsyncPool(db.url, settings.api.database_connections, LOOKUP_SESSION), load
        )
        if postgres
        else None,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        require_current_schema(db)
        settle_heap()
        yield
        await ctx.audit.close()
        ctx.close()
        for pool in (ctx.lookups.pool if ctx.lookups else None, ctx.audit.connections):
            if pool is not None:
                await pool.close()

    app = App(
        title="shikaku 資格確認 API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        telemetry=None if settings.api.telemetry else NO_TELEMETRY,
    )
    app.state.ctx = ctx
    _declare_key_schemes(app)
    problems.install(app)
    app.include_router(api.router)
    app.include_router(fhir.router)

    @app.get(
        "/v1/health",
        summary="稼働確認 (liveness)",
        description="認証なしで ok を返します（監視と性能比較の基準用）。No authentication, no database.",
    )
    async def health() -> dict[str, Any]:
        """The benchmark's baseline, so as cheap as FastAPI allows: a coroutine (a plain
        function would run in the thread pool), routed before the console's pages."""
        return {"status": "ok"}

    console.install(app, settings, db)  # the staff console and employer portal (HTML)
    return app


def _declare_key_schemes(app: FastAPI) -> None:
    """The OpenAPI document names both ways to send a key (routes list them: KEY_REQUIRED)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def app_from_environment() -> FastAPI:
    """The factory `shikaku serve` hands to uvicorn (each worker builds its own)."""
    return create_app()
