"""The staff console and the employer portal wired into the app (docs/console.md)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from shikaku.settings import Settings
from shikaku.webconsole import portal, staff
from shikaku.webconsole.common import Console, Forbidden, LoginRequired, NotFound, page, redirect

# ------------------------------------------------------------------ wiring


def install(app: FastAPI, settings: Settings, engine: Engine) -> None:
    app.state.console = Console(settings, engine)
    app.include_router(staff.router)
    app.include_router(portal.router)
    app.mount(
        "/console/static",
        StaticFiles(directory=Path(__file__).parent / "static"),
        name="console-static",
    )

    async def _login(_request: Request, _exc: Exception) -> Response:
        return redirect("/console/login")

    async def _forbidden(request: Request, _exc: Exception) -> Response:
        return page(request, "error.html", 403, title="権限がありません",
                    message="このページを表示する権限がないか、フォームの有効期限が切れています。")  # fmt: skip

    async def _not_found(request: Request, _exc: Exception) -> Response:
        return page(request, "error.html", 404, title="見つかりません",
                    message="お探しのページは見つからないか、表示する権限がありません。")  # fmt: skip

    app.add_exception_handler(LoginRequired, _login)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(NotFound, _not_found)
