"""What the staff console's and the employer portal's routes share: the session, the page
renderer, the errors and the id types. The routes are in webconsole.staff and
webconsole.portal; webconsole.web wires them into the app. See docs/console.md.

Security: every form carries the session's CSRF token (the login form a pre-login token in a
cookie); cookies are HttpOnly and SameSite=Strict (Secure unless `console.secure_cookies` is
off); templates escape everything; every page showing a person's data writes an audit row
with the viewer's identity before it is sent.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi import Path as UrlPart
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine

from shikaku.issuance.jobs import run_label
from shikaku.security.mynumber import MyNumberVault, load_vault
from shikaku.service import accounts, desk
from shikaku.service.accounts import ROLE_JA, User
from shikaku.settings import Settings

SESSION_COOKIE = "shikaku_session"
LOGIN_CSRF_COOKIE = "shikaku_login_csrf"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

templates = Environment(
    loader=PackageLoader("shikaku.webconsole", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.globals.update(
    role_ja=ROLE_JA,
    kind_ja=desk.RUN_KIND_JA,
    mn_status_ja=desk.MY_NUMBER_STATUS_JA,
    return_ja=desk.RETURN_REASON_JA,
    loss_ja=desk.loss_reason_ja,
    run_label=run_label,
)


@dataclass
class Console:
    settings: Settings
    engine: Engine
    vault_override: MyNumberVault | None = None
    _vault: MyNumberVault | None = field(default=None, repr=False)

    @property
    def vault(self) -> MyNumberVault:
        if self.vault_override is not None:
            return self.vault_override
        if self._vault is None:
            self._vault = load_vault(self.settings.key_file)
        return self._vault


class LoginRequired(Exception):
    pass


class Forbidden(Exception):
    pass


class NotFound(Exception):
    pass


def console_of(request: Request) -> Console:
    c: Console = request.app.state.console
    return c


def page(
    request: Request, name: str, status: int = 200, user: User | None = None, **values: Any
) -> HTMLResponse:
    html = templates.get_template(name).render(user=user, **values)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def session_user(request: Request) -> User | None:
    return accounts.session_user(console_of(request).engine, request.cookies.get(SESSION_COOKIE))


def staff_user(request: Request) -> User:
    user = session_user(request)
    if user is None:
        raise LoginRequired
    if not user.is_staff:
        raise Forbidden
    return user


def actor(request: Request, csrf: str) -> User:
    """A staff member who may change things, on a form with the right CSRF token."""
    user = staff_user(request)
    check_csrf(user, csrf)
    if not user.can_act:
        raise Forbidden
    return user


def employer_user(request: Request) -> User:
    user = session_user(request)
    if user is None:
        raise LoginRequired
    if user.role != accounts.Role.EMPLOYER or user.employer_id is None:
        raise Forbidden
    return user


def check_csrf(user: User, token: str) -> None:
    if not token or not hmac.compare_digest(token.encode(), user.csrf.encode()):
        raise Forbidden


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def pdf(data: bytes, filename: str) -> Response:
    headers = dict(SECURITY_HEADERS)
    headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(data, media_type="application/pdf", headers=headers)


# The largest ids the databases hold: persons, runs and My Number reports are BIGINT on
# PostgreSQL (SQLite's INTEGER has 64 bits too); a partition number is an INTEGER. A larger
# number names nothing, and must not reach a query (SQLite cannot bind it).
ROW_ID_MAX = 2**63 - 1
PARTITION_NO_MAX = 2**31 - 1
RowId = Annotated[int, UrlPart(ge=1, le=ROW_ID_MAX)]
PartitionNo = Annotated[int, UrlPart(ge=0, le=PARTITION_NO_MAX)]


def form_id(value: str) -> int | None:
    """An id chosen in a form (ASCII digits, in the column's range), else None."""
    if not (value.isascii() and value.isdigit()) or int(value) > ROW_ID_MAX:
        return None
    return int(value)


class ConsoleRoute(APIRoute):
    """A page whose URL does not parse (an id that is not a number, or one no column could
    hold) does not exist: the 404 page, as for an id that is not there, never a JSON error."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError:
                raise NotFound from None

        return route


def new_router() -> APIRouter:
    """A router for console or portal pages (ids that do not parse are the 404 page)."""
    return APIRouter(include_in_schema=False, route_class=ConsoleRoute)


Field = Annotated[str, Form()]
