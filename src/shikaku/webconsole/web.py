"""The staff console and the employer portal wired into the app (docs/console.md).

Every error under /console and /portal is an HTML page with the menu of whoever is logged
in (never JSON): the console's own (login required, forbidden, not found), the framework's
(an unknown URL, a method the URL does not take, a body too large) and a bug (500). A GET on
a URL that only takes a form (the address bar left on a POST's URL, then Enter) goes to the
page the form belongs to. Other paths keep the API's problem+json.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from shikaku.settings import Settings
from shikaku.webconsole import portal, staff
from shikaku.webconsole.common import (
    Console,
    Forbidden,
    LoginRequired,
    NotFound,
    page,
    redirect,
    session_user,
)

PREFIXES = ("/console", "/portal")
TITLES = {
    400: ("リクエストが正しくありません", "入力した内容を確認して、もう一度お試しください。"),
    403: ("権限がありません", "このページを表示する権限がないか、フォームの有効期限が切れています。ページを開き直してください。"),
    404: ("見つかりません", "お探しのページは見つからないか、表示する権限がありません。"),
    405: ("この操作はできません", "このアドレスはフォームの送信先です。元のページから操作してください。"),
    409: ("同じ操作を処理しています", "しばらく待ってから、ページを開き直してください。"),
    413: ("送信した内容が大きすぎます", "内容を減らして、もう一度お試しください。"),
    429: ("しばらくお待ちください", "短い時間に操作が集中しました。少し待ってから、もう一度お試しください。"),
    500: ("システムエラーが発生しました", "操作は完了していない可能性があります。画面を開き直して結果を確認し、続く場合は管理者に連絡してください。"),
    503: ("ただいま利用できません", "しばらく待ってから、もう一度お試しください。"),
}  # fmt: skip


def _ours(request: Request) -> bool:
    path = request.url.path
    return any(path == p or path.startswith(p + "/") for p in PREFIXES)


def error_page(request: Request, status: int) -> Response:
    """The HTML page for an error status, with the menu of whoever is logged in."""
    title, message = TITLES.get(status, (f"エラー（{status}）", TITLES[400][1]))
    try:
        user = session_user(request)
    except Exception:  # the database itself may be the error: the page still answers
        user = None
    return page(request, "error.html", status, user=user, title=title, message=message, path="")


def _parent(path: str) -> str:
    """The page a form's URL belongs to: /console/persons/7/reissue → /console/persons/7."""
    parent = path.rstrip("/").rsplit("/", 1)[0]
    return parent if parent not in ("", "/portal/parcels") else PREFIXES[0]


async def _delegate(handler: Any, request: Request, exc: Exception) -> Response:
    """Another exception handler's answer (a handler may be a plain function or a coroutine)."""
    answer = handler(request, exc)
    if inspect.isawaitable(answer):
        answer = await answer
    assert isinstance(answer, Response)
    return answer


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

    async def _login(request: Request, _exc: Exception) -> Response:
        target = request.url.path
        if request.method == "GET" and target not in ("/console", "/console/login"):
            query = f"?{request.url.query}" if request.url.query else ""
            return redirect(f"/console/login?next={quote(target + query, safe='')}")
        return redirect("/console/login")

    async def _forbidden(request: Request, _exc: Exception) -> Response:
        return error_page(request, 403)

    async def _not_found(request: Request, _exc: Exception) -> Response:
        return error_page(request, 404)

    app.add_exception_handler(LoginRequired, _login)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(NotFound, _not_found)

    # The API's handlers (web.problems) answer everything outside the console and portal.
    api_http = app.exception_handlers[StarletteHTTPException]
    api_invalid = app.exception_handlers[RequestValidationError]
    api_bug = app.exception_handlers[Exception]

    async def _http(request: Request, exc: Exception) -> Response:
        if not _ours(request):
            return await _delegate(api_http, request, exc)
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405 and request.method in ("GET", "HEAD"):
            return redirect(_parent(request.url.path))
        return error_page(request, exc.status_code)

    async def _invalid(request: Request, exc: Exception) -> Response:
        if not _ours(request):
            return await _delegate(api_invalid, request, exc)
        return error_page(request, 404)

    async def _bug(request: Request, exc: Exception) -> Response:
        if not _ours(request):
            return await _delegate(api_bug, request, exc)
        return error_page(request, 500)

    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _bug)
