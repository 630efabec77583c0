"""Routes of the staff console: login, search, a person, actions, reports, anomalies, runs.
Thin: parse, call service.desk / service.accounts / service.anomalies, render a template."""

from __future__ import annotations

import hmac
import io
import secrets
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from shikaku.issuance.jobs import run_label
from shikaku.security.audit import CONSOLE_READ
from shikaku.service import accounts, anomalies, desk
from shikaku.service.accounts import User
from shikaku.webconsole.common import (
    LOGIN_CSRF_COOKIE,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    Field,
    Forbidden,
    NotFound,
    RowId,
    actor,
    check_csrf,
    console_of,
    form_id,
    new_router,
    page,
    pdf,
    redirect,
    session_user,
    staff_user,
)

router = new_router()


# ------------------------------------------------------------------ login


def _next_page(value: str) -> str:
    """Where to go after logging in: a page of the console or the portal asked for before
    (never another site: a path, not //host)."""
    ok = value.startswith(("/console", "/portal")) and not value.startswith("/console/login")
    return value if ok and "//" not in value and "\\" not in value else ""


@router.get("/console/login")
def login_form(request: Request, next: str = "") -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", csrf=token, values={"next": _next_page(next)}, errors={})
    _cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.post("/console/login")
def login_submit(
    request: Request, name: Field = "", password: Field = "", csrf: Field = "", next: Field = ""
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
        values = {"name": name, "next": _next_page(next)}
        return page(request, "login.html", status, csrf=expected, values=values, errors=errors)
    user, token = result
    home = "/portal" if user.role == accounts.Role.EMPLOYER else "/console"
    target = _next_page(next)
    if target and not target.startswith(home):
        target = ""  # a page of the other side: the user's own home instead
    response = redirect(target or home)
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
    user = session_user(request)
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


@router.get("/console/anomalies")
def anomalies_page(request: Request) -> HTMLResponse:
    """Registry rows that contradict a rule (service.anomalies), for every staff role."""
    user = staff_user(request)
    engine = console_of(request).engine
    rows = anomalies.find_anomalies(engine, date.today())
    desk.audit_view(engine, user, CONSOLE_READ, None, view="anomalies", hits=len(rows))
    return page(request, "anomalies.html", user=user, rows=rows, today=date.today())


@router.get("/console/anomalies.csv")
def anomalies_csv(request: Request) -> Response:
    user = staff_user(request)
    engine = console_of(request).engine
    rows = anomalies.find_anomalies(engine, date.today())
    desk.audit_view(engine, user, CONSOLE_READ, None, view="anomalies_csv", hits=len(rows))
    text = io.StringIO()
    anomalies.write_csv(rows, text)
    name = f"anomalies-{date.today().isoformat()}.csv"
    headers = SECURITY_HEADERS | {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(
        "\ufeff" + text.getvalue(), media_type="text/csv; charset=utf-8", headers=headers
    )


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
