"""What the staff console's and the employer portal's routes share: the session, the page
renderer, the errors and the id types, and how an action answers. The routes are in
webconsole.staff and webconsole.portal; webconsole.web wires them into the app. See
docs/console.md.

An action (a POST) either changes nothing and shows its form again (400) with each error
beside its field and summarised at the top, or does its work and redirects (303) to a page
(POST-redirect-GET) that shows the result at the top, focused. The result travels in a
short-lived cookie signed with the session's CSRF token (`done`). Every form carries a fresh
idempotency key (`form_key()` in templates, via macros.hidden); `act_once` claims it, so a
second submission of the same form (double click, reload, back button) does not act again
but is shown the first one's outcome.

Security: every form carries the session's CSRF token (the login form a pre-login token in a
cookie); cookies are HttpOnly and SameSite=Strict (Secure unless `console.secure_cookies` is
off); templates escape everything; every page showing a person's data writes an audit row
with the viewer's identity before it is sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi import Path as UrlPart
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy import Engine

from shikaku.domain.certificate import APPLICATION_REASONS, CertificateReason
from shikaku.domain.identifiers import run_label
from shikaku.domain.normalize import format_wareki
from shikaku.security.mynumber import MyNumberVault, load_vault
from shikaku.service import accounts, desk
from shikaku.service.accounts import ROLE_JA, FormOutcome, User
from shikaku.settings import Settings

SESSION_COOKIE = "shikaku_session"
LOGIN_CSRF_COOKIE = "shikaku_login_csrf"
RESULT_COOKIE = "shikaku_result"
JST = timezone(timedelta(hours=9), "JST")
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


def wareki(value: date | datetime | None) -> str:
    """A date as the documents print it (令和6年6月7日); a datetime is taken as UTC and shown
    in Japan's time with its hour (令和6年6月7日 14:24). None: —."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return jst(value)
    return format_wareki(value)


def jst(value: datetime | None, seconds: bool = False) -> str:
    """A stored time (naive UTC, as every table keeps it) in Japan's time: 令和6年6月7日 14:24
    (with `seconds`, 14:24:05)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(JST)
    return (
        f"{format_wareki(local.date())} {local:%H:%M:%S}"
        if seconds
        else (f"{format_wareki(local.date())} {local:%H:%M}")
    )


def jst_iso(value: datetime | None) -> str:
    """The same time for a machine (a CSV cell, <time datetime>): 2024-06-07T14:24:00+09:00."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(JST).isoformat(timespec="seconds")


def mark(value: str | None, chars: tuple[str, ...] | list[str]) -> Markup:
    """`value` escaped, with each of `chars` (the characters the fonts lack) highlighted."""
    out = []
    for ch in value or "":
        text = escape(ch)
        out.append(Markup('<mark class="glyph">{}</mark>').format(text) if ch in chars else text)
    return Markup("").join(out)


def form_key() -> str:
    """A fresh idempotency key for one form (macros.hidden puts it in every form)."""
    return secrets.token_urlsafe(24)


templates.filters.update(wareki=wareki, jst=jst, jst_iso=jst_iso, mark=mark)
templates.globals.update(
    role_ja=ROLE_JA,
    kind_ja=desk.RUN_KIND_JA,
    mn_status_ja=desk.MY_NUMBER_STATUS_JA,
    return_ja=desk.RETURN_REASON_JA,
    application_reasons=APPLICATION_REASONS,
    certificate_reason=CertificateReason,
    loss_ja=desk.loss_reason_ja,
    run_label=run_label,
    form_key=form_key,
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


@dataclass(frozen=True)
class Result:
    """What the page after an action says at the top: `level` ok (done), held (done, but
    not as asked: say why) or error."""

    text: str
    level: str = "ok"


def page(
    request: Request, name: str, status: int = 200, user: User | None = None, **values: Any
) -> HTMLResponse:
    """A page. With a user, the result of the action that led here (if any) is shown at the
    top and focused (base.html); pass `errors` ({field: message}) to show the summary."""
    result = _read_result(request, user) if user is not None else None
    path = values.pop("path", request.url.path)  # the menu marks the entry of this path
    html = templates.get_template(name).render(user=user, result=result, path=path, **values)
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if RESULT_COOKIE in request.cookies:
        response.delete_cookie(RESULT_COOKIE, path="/")
    return response


def _sign(user: User, payload: str) -> str:
    return hmac.new(user.csrf.encode(), payload.encode(), hashlib.sha256).hexdigest()[:32]


def _read_result(request: Request, user: User) -> Result | None:
    raw = request.cookies.get(RESULT_COOKIE, "")
    payload, _, mac = raw.partition(".")
    if not payload or not hmac.compare_digest(mac, _sign(user, payload)):
        return None
    try:
        level, text = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, TypeError):
        return None
    return Result(str(text), str(level))


def done(request: Request, user: User, url: str, text: str, level: str = "ok") -> Response:
    """Redirect (303) to `url`, whose page shows `text` at the top (POST-redirect-GET)."""
    payload = base64.urlsafe_b64encode(json.dumps([level, text]).encode()).decode()
    response = redirect(url)
    response.set_cookie(
        RESULT_COOKIE, f"{payload}.{_sign(user, payload)}", max_age=120, path="/",
        httponly=True, samesite="strict", secure=console_of(request).settings.console.secure_cookies,
    )  # fmt: skip
    return response


DUPLICATE_WAIT_S = 30.0
DUPLICATE = "同じフォームがもう一度送信されたため、2回目は実行していません。"


def act_once(
    request: Request, user: User, key: str, action: Callable[[], FormOutcome | Response]
) -> Response:
    """Run a form's action once per idempotency key (the form's hidden `form_key`).

    `action` returns a FormOutcome (done: redirect to its url, whose page says its message)
    or a Response (nothing was done: the form again with its errors; the key is freed so the
    corrected form may be sent). A second submission of the same form waits for the first
    to end and is shown its outcome, prefixed with DUPLICATE: it never acts again."""
    engine = console_of(request).engine
    if not accounts.claim_form_key(engine, user.id, key):
        return _duplicate(request, user, key)
    try:
        outcome = action()
    except BaseException:
        accounts.release_form_key(engine, key)
        raise
    if isinstance(outcome, FormOutcome):
        accounts.finish_form_key(engine, key, outcome)
        return done(request, user, outcome.url, outcome.message, outcome.level)
    accounts.release_form_key(engine, key)
    return outcome


def _duplicate(request: Request, user: User, key: str) -> Response:
    engine = console_of(request).engine
    if not key:
        return page(
            request, "error.html", 400, user=user, title="フォームを開き直してください",
            message="このフォームは古い形式です。ページを開き直してから、もう一度操作してください。",
        )  # fmt: skip
    deadline = time.monotonic() + DUPLICATE_WAIT_S
    while True:
        outcome = accounts.form_key_outcome(engine, user.id, key)
        if isinstance(outcome, FormOutcome):
            text = f"{DUPLICATE}1回目の結果: {outcome.message}"
            return done(request, user, outcome.url, text, "held")
        if outcome is False or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return page(
        request, "error.html", 409, user=user, title="同じ操作を処理しています",
        message=f"{DUPLICATE}1回目の処理が終わってから、ページを開き直して結果を確認してください。",
    )  # fmt: skip


def session_user(request: Request) -> User | None:
    return accounts.session_user(console_of(request).engine, request.cookies.get(SESSION_COOKIE))


def admin_user(request: Request) -> User:
    user = staff_user(request)
    if user.role != accounts.Role.ADMIN:
        raise Forbidden
    return user


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
    verify_csrf(user, csrf)
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


def verify_csrf(user: User, token: str) -> None:
    if not token or not hmac.compare_digest(token.encode(), user.csrf.encode()):
        raise Forbidden


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


# A PDF shown in the browser's viewer: the viewer is a plugin, which `default-src 'none'`
# (object-src) would refuse; nothing in a PDF we render runs scripts.
PDF_HEADERS = {k: v for k, v in SECURITY_HEADERS.items() if k != "Content-Security-Policy"}


def pdf(data: bytes, filename: str, inline: bool = False) -> Response:
    """A PDF as a download, or `inline` for the browser's viewer (same name if saved)."""
    headers = dict(PDF_HEADERS if inline else SECURITY_HEADERS)
    disposition = "inline" if inline else "attachment"
    headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return Response(data, media_type="application/pdf", headers=headers)


def csv_download(text: str, filename: str) -> Response:
    """A CSV for Excel (UTF-8 with BOM); write it with security.outputs.csv_writer."""
    headers = SECURITY_HEADERS | {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response("\ufeff" + text, media_type="text/csv; charset=utf-8", headers=headers)


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
