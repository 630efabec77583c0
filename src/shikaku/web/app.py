"""The FastAPI application: clinic API, FHIR endpoints, OpenAPI document and docs page."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from sqlalchemy import Engine

from shikaku import __version__
from shikaku.settings import Settings
from shikaku.web import api, fhir, problems
from shikaku.web.auth import SECURITY_SCHEMES
from shikaku.web.context import app_context
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


def create_app(settings: Settings, db: Engine) -> FastAPI:
    """The app on a registry whose schema is current (whoever opens the database checks it:
    `shikaku serve`'s factory, cli_serve.app_from_environment)."""
    ctx = app_context(settings, db)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        settle_heap()
        yield
        await ctx.checker.close()

    app = FastAPI(
        title="shikaku 資格確認 API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        telemetry=None if settings.api.telemetry else NO_TELEMETRY,
    )
    app.state.ctx = ctx
    _declare_key_schemes(app)
    problems.install(app, {fhir.PREFIX: fhir.problem_outcome})  # OperationOutcome there
    api.install(app)
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
