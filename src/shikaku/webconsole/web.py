"""Routes of the staff console and the employer portal. Thin: parse, call service.desk or
service.accounts, render a template. See docs/console.md.

Security: every form carries the session's CSRF token (the login form a pre-login token in a
cookie); cookies are HttpOnly and SameSite=Strict (Secure unless `console.secure_cookies` is
off); templates escape everything; every page showing a person's data writes an audit row
with the viewer's identity before it is sent.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi import Path as UrlPart
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine

from shikaku.issuance.jobs import run_label
from shikaku.security.audit import CONSOLE_READ
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


def _user(request: Request) -> User | None:
    return accounts.session_user(console_of(request).engine, request.cookies.get(SESSION_COOKIE))


def staff_user(request: Request) -> User:
    user = _user(request)
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
    user = _user(request)
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


router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
Field = Annotated[str, Form()]


# ------------------------------------------------------------------ login


@router.get("/console/login")
def login_form(request: Request) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", csrf=token, values={}, errors={})
    _cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.post("/console/login")
def login_submit(
    request: Request, name: Field = "", password: Field = "", csrf: Field = ""
) -> Response:
    c = console_of(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
        raise Forbidden
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "ログイン名を入力してください"
    if not password:
        errors["password"] = "パスワードを入力してください"
    result = None
    status = 400
    if not errors:
        cfg = c.settings.console
        address = request.client.host if request.client else "-"
        try:
            result = accounts.login(
                c.engine, name, password, address, cfg.login_max_failures,
                cfg.login_window_minutes, cfg.session_minutes,
            )  # fmt: skip
        except accounts.Throttled:
            status = 429
            errors["password"] = (
                "ログインの失敗が続いたため、しばらくログインできません。"
                f"{cfg.login_window_minutes}分ほど待ってから再度お試しください"
            )
        else:
            if result is None:
                errors["password"] = "ログイン名かパスワードが正しくありません"
    if result is None:
        return page(
            request, "login.html", status, csrf=expected, values={"name": name}, errors=errors
        )
    user, token = result
    response = redirect("/portal" if user.role == accounts.Role.EMPLOYER else "/console")
    _cookie(
        request, response, SESSION_COOKIE, token, max_age=c.settings.console.session_minutes * 60
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


def _cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="strict",
        secure=console_of(request).settings.console.secure_cookies,
    )  # fmt: skip


@router.post("/console/logout")
def logout(request: Request, csrf: Field = "") -> Response:
    user = _user(request)
    if user is not None:
        check_csrf(user, csrf)
        accounts.logout(console_of(request).engine, request.cookies.get(SESSION_COOKIE))
    response = redirect("/console/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ------------------------------------------------------------------ staff: search, person


@router.get("/console")
def home(
    request: Request,
    symbol: str = "",
    number: str = "",
    name: str = "",
    kana: str = "",
    birth_date: str = "",
) -> HTMLResponse:
    user = staff_user(request)
    form = desk.SearchForm(symbol, number, name, kana, birth_date)
    results = None
    if not form.empty or "search" in request.query_params:
        results = desk.search_persons(console_of(request).engine, form)
        if results:
            desk.audit_view(
                console_of(request).engine, user, CONSOLE_READ, None, view="search",
                hits=len(results),
            )  # fmt: skip
    return page(request, "search.html", user=user, form=form, results=results)


def _person_page(
    request: Request,
    user: User,
    person_id: int,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
) -> HTMLResponse:
    c = console_of(request)
    view = desk.person_view(c.engine, c.vault, person_id)
    if view is None:
        raise NotFound
    desk.audit_view(c.engine, user, CONSOLE_READ, person_id, view="person")
    return page(
        request, "person.html", status, user=user, v=view, errors=errors or {},
        values=values or {}, notice=notice or request.query_params.get("done", ""),
        today=date.today().isoformat(),
    )  # fmt: skip


NOTICES = {
    "reissue": "お知らせの再発行を作成しました。下の「発行した書類」からダウンロードできます",
    "certificate": "資格確認書の交付申請を記録しました（次の資格確認書の実行で発行されます）",
    "my_number": "個人番号の届出を記録しました。別の担当者の承認を待っています",
    "return": "返戻を記録しました",
}


@router.get("/console/persons/{person_id}")
def person(request: Request, person_id: RowId) -> HTMLResponse:
    user = staff_user(request)
    notice = NOTICES.get(request.query_params.get("done", ""), "")
    return _person_page(request, user, person_id, notice=notice)


@router.get("/console/persons/{person_id}/documents/{run_id}")
def person_document(request: Request, person_id: RowId, run_id: RowId) -> Response:
    user = staff_user(request)
    c = console_of(request)
    try:
        data = desk.cut_pages(c.engine, run_id, person_id)
    except desk.DeskError:
        raise NotFound from None
    desk.audit_view(c.engine, user, desk.CONSOLE_DOWNLOAD, person_id, run=run_id)
    return pdf(data, f"{run_label(run_id)}-{person_id}.pdf")


def _act(
    request: Request, person_id: int, fields: dict[str, str], done: str, action: Any
) -> Response:
    user = actor(request, fields.pop("csrf", ""))
    try:
        action(user)
    except desk.DeskError as exc:
        return _person_page(
            request, user, person_id, {exc.field or "form": exc.ja}, fields, status=400
        )
    return redirect(f"/console/persons/{person_id}?done={done}")


@router.post("/console/persons/{person_id}/reissue")
def reissue(request: Request, person_id: RowId, csrf: Field = "") -> Response:
    c = console_of(request)
    return _act(
        request, person_id, {"csrf": csrf}, "reissue",
        lambda user: desk.request_reissue(
            c.engine, c.settings, c.vault, person_id, user, "lost", date.today()
        ),
    )  # fmt: skip


@router.post("/console/persons/{person_id}/certificate")
def certificate(
    request: Request,
    person_id: RowId,
    csrf: Field = "",
    cert_reason: Field = "",
    cert_on: Field = "",
    cert_cap: Field = "",
) -> Response:
    c = console_of(request)
    fields = {"csrf": csrf, "cert_reason": cert_reason, "cert_on": cert_on, "cert_cap": cert_cap}
    return _act(
        request, person_id, fields, "certificate",
        lambda _user: desk.apply_certificate(
            c.engine, person_id, cert_reason, cert_on, bool(cert_cap)
        ),
    )  # fmt: skip


@router.post("/console/persons/{person_id}/my-number")
def my_number(
    request: Request, person_id: RowId, csrf: Field = "", my_number: Field = ""
) -> Response:
    c = console_of(request)
    # The number typed is never sent back (not even when it is wrong).
    return _act(
        request, person_id, {"csrf": csrf}, "my_number",
        lambda user: desk.record_my_number_report(c.engine, c.vault, person_id, my_number, user),
    )  # fmt: skip


@router.post("/console/persons/{person_id}/return")
def envelope_return(
    request: Request,
    person_id: RowId,
    csrf: Field = "",
    return_run: Field = "",
    reason: Field = "",
    left_on: Field = "",
) -> Response:
    c = console_of(request)
    fields = {"csrf": csrf, "return_run": return_run, "reason": reason, "left_on": left_on}

    def action(user: User) -> None:
        run_id = form_id(return_run)
        if run_id is None:
            raise desk.DeskError("書類を選んでください", "choose a run", "return_run")
        desk.record_return(c.engine, run_id, person_id, reason, left_on, user)

    return _act(request, person_id, fields, "return", action)


# ------------------------------------------------------------------ staff: reports, runs


@router.get("/console/reports")
def reports(request: Request) -> HTMLResponse:
    user = staff_user(request)
    rows = desk.pending_reports(console_of(request).engine)
    done = request.query_params.get("done", "")
    return page(request, "reports.html", user=user, reports=rows, errors={}, done=done)


@router.post("/console/reports/{report_id}")
def decide(request: Request, report_id: RowId, csrf: Field = "", decision: Field = "") -> Response:
    user = actor(request, csrf)
    c = console_of(request)
    try:
        if decision not in ("approve", "reject"):
            raise desk.DeskError("承認か却下を選んでください", "choose", "report")
        run_id = desk.decide_report(
            c.engine, c.settings, c.vault, report_id, user, decision == "approve", date.today()
        )
    except desk.DeskError as exc:
        rows = desk.pending_reports(c.engine)
        return page(
            request, "reports.html", 400, user=user, reports=rows,
            errors={report_id: exc.ja}, done="",
        )  # fmt: skip
    return redirect(f"/console/reports?done={'approved' if run_id else 'rejected'}")


@router.get("/console/runs")
def runs_page(request: Request) -> HTMLResponse:
    user = staff_user(request)
    return page(
        request, "runs.html", user=user, runs=desk.run_dashboard(console_of(request).engine)
    )


@router.get("/console/runs/{run_id}")
def run_page(request: Request, run_id: RowId) -> HTMLResponse:
    user = staff_user(request)
    detail = desk.run_detail(console_of(request).engine, run_id)
    if detail is None:
        raise NotFound
    return page(request, "run.html", user=user, d=detail)


# ------------------------------------------------------------------ employer portal


@router.get("/portal")
def portal(request: Request) -> HTMLResponse:
    user = employer_user(request)
    c = console_of(request)
    assert user.employer_id is not None
    return page(
        request, "portal.html", user=user, employer=desk.employer_of(c.engine, user.employer_id),
        parcels=desk.employer_parcels(c.engine, user.employer_id),
        electronic=c.settings.console.electronic_delivery,
    )  # fmt: skip


def _parcel_page(
    request: Request,
    user: User,
    run_id: int,
    partition_no: int,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    c = console_of(request)
    assert user.employer_id is not None
    found = desk.employer_parcel(c.engine, user.employer_id, run_id, partition_no)
    if found is None:
        raise NotFound
    parcel, lines = found
    desk.audit_view(
        c.engine, user, desk.PORTAL_READ, None, view="parcel", run=run_id, partition=partition_no
    )
    return page(
        request, "parcel.html", status, user=user, parcel=parcel, lines=lines,
        electronic=c.settings.console.electronic_delivery, errors=errors or {},
        values=values or {}, done=request.query_params.get("done", ""),
    )  # fmt: skip


@router.get("/portal/parcels/{run_id}/{partition_no}")
def parcel(request: Request, run_id: RowId, partition_no: PartitionNo) -> HTMLResponse:
    return _parcel_page(request, employer_user(request), run_id, partition_no)


@router.get("/portal/parcels/{run_id}/{partition_no}/pdf")
def parcel_pdf(request: Request, run_id: RowId, partition_no: PartitionNo) -> Response:
    user = employer_user(request)
    c = console_of(request)
    assert user.employer_id is not None
    if not c.settings.console.electronic_delivery:
        raise NotFound
    try:
        data = desk.partition_pdf(c.engine, run_id, partition_no, user.employer_id)
    except desk.DeskError:
        raise NotFound from None
    desk.audit_view(c.engine, user, desk.PORTAL_DOWNLOAD, None, run=run_id, partition=partition_no)
    return pdf(data, f"{run_label(run_id)}-P{partition_no:07d}.pdf")


def _parcel_act(
    request: Request,
    run_id: int,
    partition_no: int,
    csrf: str,
    values: dict[str, str],
    default_field: str,
    done: str,
    action: Callable[[User, int], None],
) -> Response:
    """An employer's action on a parcel (`action(user, employer_id)`): done, or the parcel
    page again with the error next to its field (one of `values`, else `default_field`)."""
    user = employer_user(request)
    check_csrf(user, csrf)
    assert user.employer_id is not None
    try:
        action(user, user.employer_id)
    except desk.DeskError as exc:
        name = exc.field if exc.field in values else default_field
        return _parcel_page(request, user, run_id, partition_no, {name: exc.ja}, values, 400)
    return redirect(f"/portal/parcels/{run_id}/{partition_no}?done={done}")


@router.post("/portal/parcels/{run_id}/{partition_no}/handed-out")
def handed_out(
    request: Request,
    run_id: RowId,
    partition_no: PartitionNo,
    csrf: Field = "",
    insured: Field = "",
) -> Response:
    def action(user: User, employer_id: int) -> None:
        insured_id = form_id(insured)
        if insured_id is None:
            raise desk.DeskError("被保険者を選んでください", "choose", "insured")
        engine = console_of(request).engine
        desk.mark_handed_out(engine, employer_id, run_id, partition_no, insured_id, user)

    return _parcel_act(request, run_id, partition_no, csrf, {}, "insured", "handed_out", action)


@router.post("/portal/parcels/{run_id}/{partition_no}/return")
def portal_return(
    request: Request,
    run_id: RowId,
    partition_no: PartitionNo,
    csrf: Field = "",
    person: Field = "",
    left_on: Field = "",
) -> Response:
    engine = console_of(request).engine

    def action(user: User, employer_id: int) -> None:
        person_id = form_id(person)
        if person_id is None or not desk.parcel_has_person(
            engine, employer_id, run_id, partition_no, person_id
        ):
            raise desk.DeskError("返戻する方を選んでください", "choose a person", "person")
        desk.record_return(
            engine, run_id, person_id, "left", left_on, user, employer_id=employer_id
        )

    values = {"person": person, "left_on": left_on}
    return _parcel_act(request, run_id, partition_no, csrf, values, "person", "returned", action)


# ------------------------------------------------------------------ wiring


def install(app: FastAPI, settings: Settings, engine: Engine) -> None:
    app.state.console = Console(settings, engine)
    app.include_router(router)
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
