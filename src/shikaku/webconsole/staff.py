"""Routes of the staff console: login, search, a person, actions, reports, anomalies, runs,
users, the audit log. Thin: parse, call service.desk / accounts / operations / audit_trail /
anomalies, render a template. Every change is a form with a confirmation where it matters
(reissue, a My Number decision), done once per form (common.act_once), then a redirect to a
page that says what happened (POST-redirect-GET)."""

from __future__ import annotations

import hmac
import io
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from shikaku.domain.certificate import application_reason
from shikaku.domain.errors import DomainError
from shikaku.domain.identifiers import run_label
from shikaku.domain.normalize import parse_date
from shikaku.security.audit import CONSOLE_READ
from shikaku.security.outputs import csv_writer
from shikaku.service import accounts, anomalies, audit_trail, certificates, desk, operations
from shikaku.service.accounts import FormOutcome, User
from shikaku.webconsole.common import (
    JST,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Field,
    Forbidden,
    NotFound,
    RowId,
    act_once,
    actor,
    admin_user,
    console_of,
    csv_download,
    form_id,
    new_router,
    page,
    pdf,
    redirect,
    session_user,
    staff_user,
    verify_csrf,
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
        verify_csrf(user, csrf)
        accounts.logout(console_of(request).engine, request.cookies.get(SESSION_COOKIE))
    response = redirect("/console/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ------------------------------------------------------------------ staff: search, person


def today() -> date:
    """The business day in Japan (the server's clock may be UTC)."""
    return datetime.now(JST).date()


def _int(value: str, default: int = 1) -> int:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 9 else default


@router.get("/console")
def home(
    request: Request,
    symbol: str = "",
    number: str = "",
    name: str = "",
    kana: str = "",
    birth_date: str = "",
    sort: str = "",
    page_no: str = "1",
) -> HTMLResponse:
    user = staff_user(request)
    form = desk.SearchForm(symbol, number, name or kana, birth_date, sort, _int(page_no))
    found = None
    if not form.empty or "search" in request.query_params:
        engine = console_of(request).engine
        found = desk.search_persons(engine, form, today())
        if found is not None and found.rows:
            desk.audit_view(
                engine, user, CONSOLE_READ, None, view="search", hits=found.total,
                page=found.page,
            )  # fmt: skip
    query = {"search": "1", "symbol": form.symbol, "number": form.number, "name": form.name,
             "birth_date": form.birth_date}  # fmt: skip

    def link(**changes: Any) -> str:
        return "/console?" + urlencode({**query, "sort": form.sort, **changes})

    return page(
        request, "search.html", user=user, form=form, found=found, errors=form.errors,
        sorts=desk.SORTS, link=link,
    )  # fmt: skip


def _person_page(
    request: Request,
    user: User,
    person_id: int,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    c = console_of(request)
    day = today()
    view = desk.person_view(c.engine, c.vault, person_id, day)
    if view is None:
        raise NotFound
    desk.audit_view(c.engine, user, CONSOLE_READ, person_id, view="person")
    return page(
        request, "person.html", status, user=user, v=view, errors=errors or {},
        values=values or {}, today=day, reissue_ja=desk.REISSUE_REASON_JA,
    )  # fmt: skip


@router.get("/console/persons/{person_id}")
def person(request: Request, person_id: RowId) -> HTMLResponse:
    return _person_page(request, staff_user(request), person_id)


@router.get("/console/persons/{person_id}/documents/{run_id}")
def person_document(
    request: Request, person_id: RowId, run_id: RowId, download: str = ""
) -> Response:
    """The person's page(s) of a run: shown in the browser's PDF viewer, or saved."""
    user = staff_user(request)
    c = console_of(request)
    try:
        data = desk.cut_pages(c.engine, run_id, person_id)
    except desk.DeskError:
        raise NotFound from None
    desk.audit_view(
        c.engine, user, desk.CONSOLE_DOWNLOAD, person_id, run=run_id,
        view="save" if download else "show",
    )  # fmt: skip
    return pdf(data, f"{run_label(run_id)}-{person_id}.pdf", inline=not download)


Action = Callable[[User], tuple[str, str]]
T = TypeVar("T")


def _person_act(
    request: Request,
    person_id: int,
    csrf: str,
    form_key: str,
    fields: dict[str, str],
    action: Action,
    again: Callable[[User, dict[str, str]], HTMLResponse] | None = None,
) -> Response:
    """A change to a person, once per form: the person page with what happened at the top,
    or the form again (`again`, else the person page) with the error beside its field."""
    user = actor(request, csrf)

    def run() -> FormOutcome | Response:
        try:
            message, level = action(user)
        except desk.DeskError as exc:
            errors = {exc.field or "form": exc.ja}
            if again is not None:
                return again(user, errors)
            return _person_page(request, user, person_id, errors, fields, status=400)
        return FormOutcome(f"/console/persons/{person_id}", message, level)

    return act_once(request, user, form_key, run)


def _reissue_page(
    request: Request,
    user: User,
    person_id: int,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    c = console_of(request)
    day = today()
    view = desk.person_view(c.engine, c.vault, person_id, day)
    if view is None:
        raise NotFound
    desk.audit_view(c.engine, user, CONSOLE_READ, person_id, view="reissue")
    return page(
        request, "reissue.html", status, user=user, v=view, errors=errors or {},
        values=values or {}, earlier=desk.reissues_on(c.engine, person_id, day),
        reasons={k: v for k, v in desk.REISSUE_REASON_JA.items() if k != "my_number"},
    )  # fmt: skip


@router.get("/console/persons/{person_id}/reissue")
def reissue_form(request: Request, person_id: RowId) -> HTMLResponse:
    """The confirmation step: who, why, and any reissue already made today."""
    user = staff_user(request)
    if not user.can_act:
        raise Forbidden
    return _reissue_page(request, user, person_id)


def _reissue_message(outcome: desk.ReissueOutcome, before: str = "") -> tuple[str, str]:
    label = run_label(outcome.run_id)
    if outcome.held_reason:
        return (
            f"{before}再発行 {label} は印刷できないため保留しました（お知らせは作成されていません）: "
            f"{outcome.held_reason}。外字を登録してから、もう一度再発行してください",
            "held",
        )
    return (
        f"{before}お知らせを再発行しました（{label}）。「発行した書類」で表示・印刷できます",
        "ok",
    )


@router.post("/console/persons/{person_id}/reissue")
def reissue(
    request: Request,
    person_id: RowId,
    csrf: Field = "",
    form_key: Field = "",
    reason: Field = "",
    note: Field = "",
) -> Response:
    c = console_of(request)
    values = {"reason": reason, "note": note}

    def action(user: User) -> tuple[str, str]:
        outcome = desk.request_reissue(
            c.engine, c.settings, c.vault, person_id, user, reason, today(), note
        )
        return _reissue_message(outcome)

    return _person_act(
        request, person_id, csrf, form_key, values, action,
        lambda user, errors: _reissue_page(request, user, person_id, errors, values, 400),
    )  # fmt: skip


def _parsed(parse: Callable[[str], T], text: str, field: str) -> T:
    """A form value read by a domain parser; its refusal shown beside the field."""
    try:
        return parse(text)
    except DomainError as exc:
        raise desk.DeskError(exc.ja, exc.en, field) from None


def _day_or_today(text: str, field: str) -> date:
    """A date typed in a form (和暦 or 西暦), today when left empty."""
    return _parsed(parse_date, text, field) if text.strip() else today()


@router.post("/console/persons/{person_id}/certificate")
def certificate(
    request: Request,
    person_id: RowId,
    csrf: Field = "",
    form_key: Field = "",
    cert_reason: Field = "",
    cert_on: Field = "",
    cert_cap: Field = "",
) -> Response:
    c = console_of(request)
    fields = {"cert_reason": cert_reason, "cert_on": cert_on, "cert_cap": cert_cap}

    def action(user: User) -> tuple[str, str]:
        reason = _parsed(application_reason, cert_reason, "cert_reason")
        day = _day_or_today(cert_on, "cert_on")
        try:
            number = certificates.apply(c.engine, person_id, reason, day, bool(cert_cap), user)
        except certificates.CertificateError as exc:
            raise desk.DeskError(exc.ja, exc.en, "cert_reason") from None
        return (
            f"資格確認書の交付申請 #{number} を記録しました（次の資格確認書の発行で交付されます）",
            "ok",
        )

    return _person_act(request, person_id, csrf, form_key, fields, action)


@router.post("/console/persons/{person_id}/certificate-returned")
def certificate_returned(
    request: Request,
    person_id: RowId,
    csrf: Field = "",
    form_key: Field = "",
    returned_certificate: Field = "",
    returned_on: Field = "",
) -> Response:
    """A 資格確認書 came back (as `shikaku certificates returned`)."""
    c = console_of(request)
    fields = {"returned_certificate": returned_certificate, "returned_on": returned_on}

    def action(user: User) -> tuple[str, str]:
        number = form_id(returned_certificate)
        if number is None:
            raise desk.DeskError("資格確認書を選んでください", "choose one", "returned_certificate")
        day = _day_or_today(returned_on, "returned_on")
        try:
            certificates.mark_returned(c.engine, number, day, user, person_id)
        except certificates.CertificateError as exc:
            field = "returned_on" if exc.field == "on" else "returned_certificate"
            raise desk.DeskError(exc.ja, exc.en, field) from None
        return f"資格確認書 {number} の返却を記録しました（この日から無効）", "ok"

    return _person_act(request, person_id, csrf, form_key, fields, action)


@router.post("/console/persons/{person_id}/my-number")
def my_number(
    request: Request,
    person_id: RowId,
    csrf: Field = "",
    form_key: Field = "",
    my_number: Field = "",
) -> Response:
    c = console_of(request)

    def action(user: User) -> tuple[str, str]:
        number = desk.record_my_number_report(c.engine, c.vault, person_id, my_number, user)
        return f"個人番号の届出 #{number} を記録しました。別の担当者の承認を待っています", "ok"

    # The number typed is never sent back (not even when it is wrong).
    return _person_act(request, person_id, csrf, form_key, {}, action)


@router.post("/console/persons/{person_id}/return")
def envelope_return(
    request: Request,
    person_id: RowId,
    csrf: Field = "",
    form_key: Field = "",
    return_run: Field = "",
    reason: Field = "",
    left_on: Field = "",
) -> Response:
    c = console_of(request)
    fields = {"return_run": return_run, "reason": reason, "left_on": left_on}

    def action(user: User) -> tuple[str, str]:
        run_id = form_id(return_run)
        if run_id is None:
            raise desk.DeskError("書類を選んでください", "choose a run", "return_run")
        desk.record_return(c.engine, run_id, person_id, reason, left_on, user)
        return f"{run_label(run_id)} の返戻を記録しました（{desk.RETURN_REASON_JA[reason]}）", "ok"

    return _person_act(request, person_id, csrf, form_key, fields, action)


# ------------------------------------------------------------------ staff: My Number reports


def _reports_page(request: Request, user: User) -> HTMLResponse:
    engine = console_of(request).engine
    return page(
        request, "reports.html", user=user, reports=desk.pending_reports(engine),
        decided=desk.decided_reports(engine),
    )  # fmt: skip


@router.get("/console/reports")
def reports(request: Request) -> HTMLResponse:
    return _reports_page(request, staff_user(request))


def _decision_page(
    request: Request,
    user: User,
    report_id: int,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    found = desk.report(console_of(request).engine, report_id)
    if found is None:
        raise NotFound
    return page(
        request, "decision.html", status, user=user, r=found, errors=errors or {},
        values=values or {},
    )  # fmt: skip


@router.get("/console/reports/{report_id}")
def decision_form(request: Request, report_id: RowId) -> HTMLResponse:
    """The confirmation step of a decision: the report, approve or reject, and why."""
    return _decision_page(request, staff_user(request), report_id)


@router.post("/console/reports/{report_id}")
def decide(
    request: Request,
    report_id: RowId,
    csrf: Field = "",
    form_key: Field = "",
    decision: Field = "",
    note: Field = "",
) -> Response:
    user = actor(request, csrf)
    c = console_of(request)
    values = {"decision": decision, "note": note}

    def run() -> FormOutcome | Response:
        try:
            if decision not in ("approve", "reject"):
                raise desk.DeskError("承認か却下を選んでください", "choose", "decision")
            outcome = desk.decide_report(
                c.engine, c.settings, c.vault, report_id, user, decision == "approve", today(),
                note,
            )  # fmt: skip
        except desk.DeskError as exc:
            errors = {exc.field or "form": exc.ja}
            return _decision_page(request, user, report_id, errors, values, 400)
        if outcome is None:
            return FormOutcome("/console/reports", f"届出 #{report_id} を却下しました", "ok")
        text, level = _reissue_message(outcome, f"届出 #{report_id} を承認しました。")
        return FormOutcome("/console/reports", text, level)

    if desk.report(c.engine, report_id) is None:
        raise NotFound
    return act_once(request, user, form_key, run)


# ------------------------------------------------------------------ staff: anomalies


@router.get("/console/anomalies")
def anomalies_page(request: Request) -> HTMLResponse:
    """Registry rows that contradict a rule (service.anomalies), for every staff role."""
    user = staff_user(request)
    engine = console_of(request).engine
    rows = anomalies.find_anomalies(engine, today())
    desk.audit_view(engine, user, CONSOLE_READ, None, view="anomalies", hits=len(rows))
    return page(request, "anomalies.html", user=user, rows=rows, today=today())


@router.get("/console/anomalies.csv")
def anomalies_csv(request: Request) -> Response:
    user = staff_user(request)
    engine = console_of(request).engine
    rows = anomalies.find_anomalies(engine, today())
    desk.audit_view(engine, user, CONSOLE_READ, None, view="anomalies_csv", hits=len(rows))
    text = io.StringIO()
    anomalies.write_csv(rows, text)
    return csv_download(text.getvalue(), f"anomalies-{today().isoformat()}.csv")


# ------------------------------------------------------------------ runs


def _naive_utc(value: datetime) -> datetime:
    """An aware time as the tables keep times (naive UTC)."""
    return value.astimezone(UTC).replace(tzinfo=None)


def _runs_page(
    request: Request,
    user: User,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    engine = console_of(request).engine
    show_reissues = request.query_params.get("kind") == "reissue"
    listed = operations.run_list(engine, show_reissues, _naive_utc(
        datetime.combine(today(), datetime.min.time(), JST)))  # fmt: skip
    return page(
        request, "runs.html", status, user=user, listed=listed, show_reissues=show_reissues,
        follows=operations.notice_runs_done(engine) if user.role == "admin" else [],
        startable=operations.STARTABLE, errors=errors or {}, values=values or {},
        today=today(),
    )  # fmt: skip


@router.get("/console/runs")
def runs_page(request: Request) -> HTMLResponse:
    return _runs_page(request, staff_user(request))


@router.post("/console/runs")
def start_run(
    request: Request,
    csrf: Field = "",
    form_key: Field = "",
    kind: Field = "",
    after: Field = "",
    day: Field = "",
    issued_on: Field = "",
) -> Response:
    """An admin starts a follow-up or a certificate run; it works in the background."""
    user = admin_user(request)
    verify_csrf(user, csrf)
    c = console_of(request)
    values = {"kind": kind, "after": after, "day": day, "issued_on": issued_on}

    def run() -> FormOutcome | Response:
        errors: dict[str, str] = {}
        parsed: dict[str, date] = {}
        for name, text, required in (("day", day, True), ("issued_on", issued_on, False)):
            if not text.strip():
                if required:
                    errors[name] = "日付を入力してください"
                continue
            try:
                parsed[name] = parse_date(text)
            except DomainError as exc:
                errors[name] = exc.ja
        if kind not in operations.STARTABLE:
            errors["kind"] = "種類を選んでください"
        if not errors:
            try:
                run_id = operations.start_run(
                    c.engine, c.settings, c.vault, user, kind, parsed["day"],
                    parsed.get("issued_on", today()), form_id(after),
                )  # fmt: skip
            except desk.DeskError as exc:
                errors[exc.field or "kind"] = exc.ja
        if errors:
            return _runs_page(request, user, errors, values, 400)
        return FormOutcome(
            f"/console/runs/{run_id}",
            f"{run_label(run_id)}（{operations.STARTABLE[kind]}）を開始しました。進み具合はこのページに表示されます",
            "ok",
        )

    return act_once(request, user, form_key, run)


def _run_page(
    request: Request, user: User, run_id: int, errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:  # fmt: skip
    engine = console_of(request).engine
    detail = operations.run_detail(engine, run_id)
    if detail is None:
        raise NotFound
    if detail.held:
        operations.audit_held_view(engine, user, run_id, "held", len(detail.held))
    return page(request, "run.html", status, user=user, d=detail, errors=errors or {})


@router.get("/console/runs/{run_id}")
def run_page(request: Request, run_id: RowId) -> HTMLResponse:
    return _run_page(request, staff_user(request), run_id)


def _run_job(request: Request, run_id: int, csrf: str, form_key: str, kind: str) -> Response:
    user = admin_user(request)
    verify_csrf(user, csrf)
    c = console_of(request)

    def run() -> FormOutcome | Response:
        try:
            operations.start_job(c.engine, c.settings, c.vault, user, run_id, kind)
        except desk.DeskError as exc:
            return _run_page(request, user, run_id, {"form": exc.ja}, 400)
        what = "照合" if kind == "verify" else "再開"
        return FormOutcome(
            f"/console/runs/{run_id}",
            f"{run_label(run_id)} の{what}を始めました。結果はこのページに表示されます",
            "ok",
        )

    if operations.run_detail(c.engine, run_id) is None:
        raise NotFound
    return act_once(request, user, form_key, run)


@router.post("/console/runs/{run_id}/resume")
def resume_run(request: Request, run_id: RowId, csrf: Field = "", form_key: Field = "") -> Response:
    return _run_job(request, run_id, csrf, form_key, "run")


@router.post("/console/runs/{run_id}/verify")
def verify_run(request: Request, run_id: RowId, csrf: Field = "", form_key: Field = "") -> Response:
    return _run_job(request, run_id, csrf, form_key, "verify")


@router.get("/console/runs/{run_id}/held.csv")
def held_csv(request: Request, run_id: RowId) -> Response:
    """The run's held targets for Excel: who, why, which characters."""
    user = staff_user(request)
    engine = console_of(request).engine
    if operations.run_detail(engine, run_id) is None:
        raise NotFound
    rows = operations.held_rows(engine, run_id)
    operations.audit_held_view(engine, user, run_id, "held_csv", len(rows))
    text = io.StringIO()
    writer = csv_writer(text, lineterminator="\r\n")
    writer.writerow(("記号", "番号", "枝番", "氏名", "保留の理由", "印字できない文字", "コード"))
    for h in rows:
        writer.writerow((
            h.symbol, h.number, h.branch, h.name, h.reason, "".join(h.chars),
            " ".join(f"U+{ord(ch):04X}" for ch in h.chars),
        ))  # fmt: skip
    return csv_download(text.getvalue(), f"{run_label(run_id)}-held.csv")


# ------------------------------------------------------------------ admin: users


def _users_page(
    request: Request,
    user: User,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return page(
        request, "users.html", status, user=user,
        users=accounts.accounts(console_of(request).engine), errors=errors or {},
        values=values or {},
    )  # fmt: skip


@router.get("/console/users")
def users_page(request: Request) -> HTMLResponse:
    return _users_page(request, admin_user(request))


@router.post("/console/users")
def add_user(
    request: Request,
    csrf: Field = "",
    form_key: Field = "",
    name: Field = "",
    role: Field = "",
    employer: Field = "",
    password: Field = "",
) -> Response:
    user = admin_user(request)
    verify_csrf(user, csrf)
    engine = console_of(request).engine
    values = {"name": name, "role": role, "employer": employer}

    def run() -> FormOutcome | Response:
        try:
            new_id = accounts.add_user(
                engine, name, password, role, employer.strip() if role == "employer" else None
            )
        except accounts.AccountError as exc:
            return _users_page(request, user, {exc.field or "name": exc.ja}, values, 400)
        desk.audit_change(engine, user, "console_user", None, action="add", target=name.strip(),
                          role=role, target_id=new_id)  # fmt: skip
        return FormOutcome(
            f"/console/users/{new_id}",
            f"利用者 {name.strip()}（{accounts.ROLE_JA.get(role, role)}）を追加しました。"
            "パスワードは本人に直接伝えてください",
            "ok",
        )

    return act_once(request, user, form_key, run)


def _user_page(
    request: Request, admin: User, user_id: int, errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:  # fmt: skip
    found = accounts.account(console_of(request).engine, user_id)
    if found is None:
        raise NotFound
    return page(request, "user.html", status, user=admin, u=found, errors=errors or {})


@router.get("/console/users/{user_id}")
def user_page(request: Request, user_id: RowId) -> HTMLResponse:
    return _user_page(request, admin_user(request), user_id)


def _user_act(
    request: Request, user_id: int, csrf: str, form_key: str,
    change: Callable[[User], tuple[str, dict[str, Any]]], field: str,
) -> Response:  # fmt: skip
    """An admin's change to a user: done (the user's page says what changed), or refused."""
    admin = admin_user(request)
    verify_csrf(admin, csrf)
    engine = console_of(request).engine
    if accounts.account(engine, user_id) is None:
        raise NotFound

    def run() -> FormOutcome | Response:
        try:
            message, detail = change(admin)
        except accounts.AccountError as exc:
            return _user_page(request, admin, user_id, {field: exc.ja}, 400)
        desk.audit_change(engine, admin, "console_user", None, target_id=user_id, **detail)
        return FormOutcome(f"/console/users/{user_id}", message, "ok")

    return act_once(request, admin, form_key, run)


@router.post("/console/users/{user_id}/role")
def user_role(
    request: Request, user_id: RowId, csrf: Field = "", form_key: Field = "", role: Field = ""
) -> Response:
    engine = console_of(request).engine

    def change(admin: User) -> tuple[str, dict[str, Any]]:
        name = accounts.set_role(engine, admin.id, user_id, role)
        return (
            f"{name} の役割を{accounts.ROLE_JA[role]}にしました（ログインし直すまで操作できません）",
            {"action": "role", "target": name, "role": role},
        )

    return _user_act(request, user_id, csrf, form_key, change, "role")


@router.post("/console/users/{user_id}/active")
def user_active(
    request: Request, user_id: RowId, csrf: Field = "", form_key: Field = "", active: Field = ""
) -> Response:
    engine = console_of(request).engine

    def change(admin: User) -> tuple[str, dict[str, Any]]:
        on = active == "1"
        name = accounts.set_active(engine, admin.id, user_id, on)
        return (
            f"{name} を{'有効' if on else '無効'}にしました"
            + ("" if on else "（ログイン中のセッションも終了しました）"),
            {"action": "enable" if on else "disable", "target": name},
        )

    return _user_act(request, user_id, csrf, form_key, change, "active")


@router.post("/console/users/{user_id}/password")
def user_password(
    request: Request, user_id: RowId, csrf: Field = "", form_key: Field = "", password: Field = ""
) -> Response:
    engine = console_of(request).engine

    def change(_admin: User) -> tuple[str, dict[str, Any]]:
        name = accounts.reset_password(engine, user_id, password)
        return (
            f"{name} のパスワードを設定しました。本人に直接伝えてください",
            {"action": "password", "target": name},
        )

    return _user_act(request, user_id, csrf, form_key, change, "password")


# ------------------------------------------------------------------ auditors: the audit log


def _audit_filter(request: Request) -> audit_trail.AuditFilter:
    q = request.query_params
    return audit_trail.AuditFilter(
        q.get("person", ""), q.get("user", ""), q.get("since", ""), q.get("until", ""),
        q.get("group", "all"), _int(q.get("page_no", "1")),
    )  # fmt: skip


def auditor(request: Request) -> User:
    user = staff_user(request)
    if user.role not in ("admin", "auditor"):
        raise Forbidden
    return user


@router.get("/console/audit")
def audit_page(request: Request) -> HTMLResponse:
    """Who viewed or changed whose data, when: by person, user and day; CSV."""
    user = auditor(request)
    engine = console_of(request).engine
    f = _audit_filter(request)
    found = audit_trail.search_audit(engine, f) if request.query_params else None
    if found is not None:
        desk.audit_view(engine, user, CONSOLE_READ, None, view="audit", hits=found.total)
    query = {k: v for k, v in request.query_params.items() if k != "page_no"}
    return page(
        request, "audit.html", user=user, f=f, found=found, errors=f.errors,
        users=accounts.accounts(engine), groups=audit_trail.GROUPS,
        csv_link="/console/audit.csv?" + urlencode(query),
        page_link_kw=lambda page_no: "/console/audit?" + urlencode({**query, "page_no": page_no}),
    )  # fmt: skip


@router.get("/console/audit.csv")
def audit_csv(request: Request) -> Response:
    user = auditor(request)
    engine = console_of(request).engine
    f = _audit_filter(request)
    rows = audit_trail.export_rows(engine, f)
    if rows is None:
        return page(
            request, "audit.html", 400, user=user, f=f, found=None, errors=f.errors,
            users=accounts.accounts(engine), groups=audit_trail.GROUPS, csv_link="",
            page_link_kw=lambda page_no: "",
        )  # fmt: skip
    desk.audit_view(engine, user, CONSOLE_READ, None, view="audit_csv", hits=len(rows))
    text = io.StringIO()
    audit_trail.write_csv(rows, text)
    return csv_download(text.getvalue(), f"audit-{today().isoformat()}.csv")
