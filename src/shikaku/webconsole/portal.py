"""Routes of the employer portal: the mailings of one 事業所, their distribution lists,
hand-outs (many at once, by check box or by the numbers on the envelopes), undo, leavers,
CSV, a printable list and, with electronic delivery, the PDFs. Thin: parse, call
service.portal, render a template. Every query is filtered by the user's own employer.

A list is one parcel of a run (`/portal/parcels/{run}/{partition}`) or every reissue of the
employer together (`/portal/reissues`); both have the same pages and actions, registered
once per prefix by `_list_routes`.
"""

# No `from __future__ import annotations` here: the routes of `_list_routes` are defined in a
# function, and FastAPI must evaluate their annotations (Depends on that function's argument).
import tempfile
from collections.abc import Callable, Iterator
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from shikaku.service import desk, portal
from shikaku.service.accounts import FormOutcome, User, now
from shikaku.service.portal import Key, Scope
from shikaku.webconsole.common import (
    SECURITY_HEADERS,
    Field,
    NotFound,
    PartitionNo,
    RowId,
    act_once,
    console_of,
    csv_download,
    employer_user,
    form_id,
    new_router,
    page,
    pdf,
    verify_csrf,
)

router = new_router()
Fields = Annotated[list[str], Form()]

# What every portal template may use besides the page's own values.
VIEW: dict[str, Any] = {
    "state_ja": portal.STATE_JA,
    "left_reason_ja": portal.LEFT_REASON_JA,
    "envelope_ja": portal.envelope_ja,
}
SHOW_JA = {"all": "すべて", "todo": "未配付", "done": "配付済み", "returned": "返戻"}
SORT_JA = {"number": "記号番号順", "kana": "氏名（カナ）順", "state": "状態順"}


def _page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    return page(request, name, status, **VIEW, **values)


def _electronic(request: Request, user: User) -> bool:
    c = console_of(request)
    assert user.employer_id is not None
    return portal.electronic(c.engine, user.employer_id, c.settings.console.electronic_delivery)


# ------------------------------------------------------------------ home


@router.get("/portal")
def home(request: Request) -> HTMLResponse:
    user = employer_user(request)
    c = console_of(request)
    assert user.employer_id is not None
    found = portal.mailings(c.engine, user.employer_id)
    total = sum((m.progress for m in found), portal.Progress())
    return _page(
        request, "portal.html", user=user, employer=portal.employer_of(c.engine, user.employer_id),
        mailings=found, total=total, electronic=_electronic(request, user),
    )  # fmt: skip


# ------------------------------------------------------------------ one list


class _List:
    """The scope a list URL names, once checked to be the user's own (else 404)."""

    def __init__(self, request: Request, user: User, scope: Scope) -> None:
        self.request, self.user, self.scope = request, user, scope
        self.engine = console_of(request).engine
        self.parcels = portal.scope_parcels(self.engine, scope)
        if not self.parcels and not scope.reissues:
            raise NotFound

    @property
    def title(self) -> str:
        return "再発行" if self.scope.reissues else self.parcels[0].title

    @property
    def file_name(self) -> str:
        """A download's name: the parcel's control code (ASCII), or reissues."""
        return "reissues" if self.scope.reissues else self.parcels[0].control

    def key(self, value: str) -> Key | None:
        """A household or an envelope named in a form or a link: `run:id`, or the id alone
        within one parcel; both numbers a column can hold."""
        run_text, _, id_text = value.strip().rpartition(":")
        if not run_text and self.scope.run_id is not None:
            run_text = str(self.scope.run_id)
        run_id, other = form_id(run_text), form_id(id_text)
        if run_id is None or other is None or run_id < 1 or other < 1:
            return None
        return run_id, other

    def url(self, suffix: str = "", **query: str) -> str:
        shown = {k: v for k, v in query.items() if v and v not in ("all", "number")}
        return self.scope.url + suffix + (f"?{urlencode(shown)}" if shown else "")


def _parcel_scope(request: Request, run_id: RowId, partition_no: PartitionNo) -> _List:
    user = employer_user(request)
    assert user.employer_id is not None
    return _List(request, user, Scope(user.employer_id, run_id, partition_no))


def _reissue_scope(request: Request) -> _List:
    user = employer_user(request)
    assert user.employer_id is not None
    return _List(request, user, Scope(user.employer_id))


def _parcel_actor(
    request: Request, run_id: RowId, partition_no: PartitionNo, csrf: Field = ""
) -> _List:
    """A change to one of the user's parcels, on a form with the session's CSRF token (the
    token is checked first: a forged form learns nothing, not even whether the parcel exists)."""
    verify_csrf(employer_user(request), csrf)
    return _parcel_scope(request, run_id, partition_no)


def _reissue_actor(request: Request, csrf: Field = "") -> _List:
    verify_csrf(employer_user(request), csrf)
    return _reissue_scope(request)


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else allowed[0]


def _list_page(
    lst: _List,
    show: str = "all",
    sort: str = "number",
    select: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    request, scope = lst.request, lst.scope
    show, sort = _choice(show, portal.SHOWS), _choice(sort, portal.SORTS)
    lines = portal.lines_of(lst.engine, scope)
    everyone = portal.households(lines)
    shown = portal.arrange(everyone, show, sort)
    counts = {
        "all": len(everyone),
        **{s: sum(1 for h in everyone if h.state == s) for s in ("todo", "done")},
        "returned": sum(1 for h in everyone if h.returned),
    }
    checked = set(values.get("insured", [])) if values else set()
    if select == "all":
        checked = {h.key for h in shown if h.can_hand_out}
    portal.audit(lst.engine, lst.user, portal.PORTAL_READ, [None], scope, view="list")
    return _page(
        request, "parcel.html", status, user=lst.user, lst=lst, scope=scope,
        parcels=lst.parcels, households=shown, progress=portal.progress_of(lines),
        counts=counts, show=show, sort=sort, show_ja=SHOW_JA, sort_ja=SORT_JA, checked=checked,
        electronic=_electronic(request, lst.user), errors=errors or {}, values=values or {},
    )  # fmt: skip


def _act(
    lst: _List,
    form_key: str,
    action: Callable[[], str],
    show: str = "all",
    sort: str = "number",
    values: dict[str, Any] | None = None,
    level: Callable[[str], str] = lambda _message: "ok",
) -> Response:
    """A change, once per form (common.act_once; the CSRF token was checked by the route's
    dependency): `action` returns the message for the top of the list, shown as it was
    (show, sort) after a redirect; or the list again with the error beside its field and
    summarised at the top, what was typed kept (400)."""

    def run() -> FormOutcome | Response:
        try:
            message = action()
        except desk.DeskError as exc:
            errors = {exc.field or "insured": exc.ja}
            return _list_page(lst, show, sort, errors=errors, values=values, status=400)
        return FormOutcome(lst.url(show=show, sort=sort), message, level(message))

    return act_once(lst.request, lst.user, form_key, run)


def _list_routes(
    prefix: str, scope_of: Callable[..., _List], actor_of: Callable[..., _List]
) -> None:
    """The pages and actions of a list, under `prefix`: `scope_of` gives the list to read,
    `actor_of` the list to change (after the CSRF check)."""
    Lst = Annotated[_List, Depends(scope_of)]
    Act = Annotated[_List, Depends(actor_of)]

    @router.get(prefix)
    def list_page(
        lst: Lst, show: str = "all", sort: str = "number", select: str = ""
    ) -> HTMLResponse:
        return _list_page(lst, show, sort, select)

    @router.post(prefix + "/handed-out")
    def handed_out(
        lst: Act,
        form_key: Field = "",
        insured: Fields = [],  # noqa: B006 - FastAPI copies the default
        codes: Field = "",
        show: Field = "all",
        sort: Field = "number",
    ) -> Response:
        def action() -> str:
            keys = [lst.key(v) for v in insured]
            if any(k is None for k in keys):
                raise desk.DeskError("この一覧にない方が選ばれています", "bad key", "insured")
            done = portal.hand_out(lst.engine, lst.scope, [k for k in keys if k], codes, lst.user)
            if not done.households:
                return NOTHING_NEW
            return f"{done.households}世帯（{done.envelopes}通）を配付済みにしました。"

        values = {"insured": insured, "codes": codes}
        return _act(lst, form_key, action, show, sort, values, _held_if_nothing)

    @router.post(prefix + "/undo")
    def undo(
        lst: Act,
        form_key: Field = "",
        undo: Field = "",
        show: Field = "all",
        sort: Field = "number",
    ) -> Response:
        def action() -> str:
            key = lst.key(undo)
            if key is None:
                raise desk.DeskError("この一覧にない方です", "bad key", "insured")
            household = portal.undo_hand_out(lst.engine, lst.scope, key, lst.user)
            return f"{household.insured_name} 様の世帯の配付済みを取り消しました（未配付に戻しました）。"

        return _act(lst, form_key, action, show, sort)

    @router.get(prefix + "/leaver")
    def leaver_form(lst: Lst, person: str = "") -> HTMLResponse:
        return _leaver_page(lst, {"person": person}, {})

    @router.post(prefix + "/return")
    def leaver(
        lst: Act,
        form_key: Field = "",
        person: Field = "",
        left_on: Field = "",
        left_reason: Field = "",
    ) -> Response:
        values = {"person": person, "left_on": left_on, "left_reason": left_reason}

        def run() -> FormOutcome | Response:
            try:
                result = portal.report_leaver(
                    lst.engine, lst.scope, lst.key(person), left_on, left_reason, lst.user
                )
            except portal.LeaverErrors as exc:
                return _leaver_page(lst, values, exc.errors, 400)
            names = "、".join(f"{n} 様" for n in result.names)
            return FormOutcome(
                lst.url(),
                f"{names}の返戻（{len(result.names)}通）を届け出ました。封筒は開けずに保険者へ"
                "返送してください。次回の追加送付では対象になりません。",
                "ok",
            )

        return act_once(lst.request, lst.user, form_key, run)

    @router.post(prefix + "/return/undo")
    def leaver_undo(lst: Act, form_key: Field = "", person: Field = "") -> Response:
        def action() -> str:
            names = portal.undo_return(lst.engine, lst.scope, lst.key(person), lst.user)
            return "、".join(f"{n} 様" for n in names) + "の返戻の届出を取り消しました。"

        return _act(lst, form_key, action)

    @router.get(prefix + "/list.csv")
    def list_csv(lst: Lst, show: str = "all", sort: str = "number") -> Response:
        show, sort = _choice(show, portal.SHOWS), _choice(sort, portal.SORTS)
        found = portal.arrange(
            portal.households(portal.lines_of(lst.engine, lst.scope)), show, sort
        )
        text = portal.csv_text(lst.parcels, found)
        portal.audit(
            lst.engine, lst.user, portal.PORTAL_EXPORT, [None], lst.scope, what="csv", show=show
        )
        return csv_download(text, f"{lst.file_name}-list.csv")

    @router.get(prefix + "/print")
    def print_list(lst: Lst) -> HTMLResponse:
        lines = portal.lines_of(lst.engine, lst.scope)
        portal.audit(lst.engine, lst.user, portal.PORTAL_READ, [None], lst.scope, view="print")
        return _page(
            lst.request, "parcel_print.html", user=lst.user, lst=lst, parcels=lst.parcels,
            households=portal.households(lines), progress=portal.progress_of(lines),
            employer=portal.employer_of(lst.engine, lst.scope.employer_id), now=now(),
        )  # fmt: skip

    @router.get(prefix + "/notices.zip")
    def notices_zip(lst: Lst) -> Response:
        if not _electronic(lst.request, lst.user):
            return _mailed_only(lst)
        # created 0600 and unlinked (nobody else can read it); closed by _chunks once sent
        spool = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            count = portal.notices_zip(lst.engine, lst.scope, spool)
        except BaseException:
            spool.close()
            raise
        portal.audit(
            lst.engine, lst.user, portal.PORTAL_DOWNLOAD, [None], lst.scope, what="notices_zip",
            files=count,
        )  # fmt: skip
        spool.seek(0)
        headers = dict(SECURITY_HEADERS)
        headers["Content-Disposition"] = f'attachment; filename="{lst.file_name}-notices.zip"'
        return StreamingResponse(_chunks(spool), media_type="application/zip", headers=headers)


NOTHING_NEW = "選んだ方はすべて配付済みとして記録済みでした（変更はありません）。"


def _held_if_nothing(message: str) -> str:
    return "held" if message == NOTHING_NEW else "ok"


def _chunks(spool: Any) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(1 << 16):
            yield chunk


def _leaver_page(
    lst: _List, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    """The leaver form for the household of the envelope named by `values["person"]`."""
    lines = portal.lines_of(lst.engine, lst.scope)
    key = lst.key(values.get("person", ""))
    chosen = next((x for x in lines if key == (x.run_id, x.person_id)), None)
    household = None
    if chosen is not None:
        household = next(
            h for h in portal.households(lines)
            if h.run_id == chosen.run_id and h.insured_id == chosen.insured_id
        )  # fmt: skip
    portal.audit(lst.engine, lst.user, portal.PORTAL_READ, [None], lst.scope, view="leaver")
    return _page(
        lst.request, "leaver.html", status, user=lst.user, lst=lst, household=household,
        chosen=chosen, lines=lines, values=values, errors=errors,
    )  # fmt: skip


def _mailed_only(lst: _List | None, request: Request | None = None) -> HTMLResponse:
    """Electronic delivery is off for this employer: said plainly, with the way back."""
    req = lst.request if lst is not None else request
    assert req is not None
    user = lst.user if lst is not None else employer_user(req)
    return _page(
        req, "portal_message.html", 404, user=user,
        title="この事業所は郵送でのお届けです",
        message="この事業所には、封筒を郵送でお届けしています（電子データでのお届けは設定されていません）。"
        "PDF が必要な場合は、保険者の担当窓口へお問い合わせください。",
        back=lst.url() if lst is not None else "/portal",
    )  # fmt: skip


_list_routes("/portal/parcels/{run_id}/{partition_no}", _parcel_scope, _parcel_actor)
_list_routes("/portal/reissues", _reissue_scope, _reissue_actor)


# ------------------------------------------------------------------ PDFs of one parcel


@router.get("/portal/parcels/{run_id}/{partition_no}/pdf")
def parcel_pdf(request: Request, run_id: RowId, partition_no: PartitionNo) -> Response:
    lst = _parcel_scope(request, run_id, partition_no)
    if not _electronic(request, lst.user):
        return _mailed_only(lst)
    try:
        data = portal.partition_pdf(lst.engine, run_id, partition_no, lst.scope.employer_id)
    except desk.DeskError:
        raise NotFound from None
    portal.audit(lst.engine, lst.user, portal.PORTAL_DOWNLOAD, [None], lst.scope, what="parcel")
    return pdf(data, f"{lst.parcels[0].control}.pdf")


@router.get("/portal/parcels/{run_id}/{partition_no}/persons/{person_id}/pdf")
def person_pdf(
    request: Request, run_id: RowId, partition_no: PartitionNo, person_id: RowId
) -> Response:
    lst = _parcel_scope(request, run_id, partition_no)
    line = next(
        (x for x in portal.lines_of(lst.engine, lst.scope) if x.person_id == person_id), None
    )
    if line is None:
        raise NotFound
    if not _electronic(request, lst.user):
        return _mailed_only(lst)
    if not lst.parcels[0].notices:
        raise NotFound
    try:
        data = desk.cut_pages(lst.engine, run_id, person_id, lst.scope.employer_id)
    except desk.DeskError:
        raise NotFound from None
    portal.audit(
        lst.engine, lst.user, portal.PORTAL_DOWNLOAD, [person_id], lst.scope, what="notice"
    )
    return pdf(data, f"{portal.file_stem(line.symbol, line.number, line.branch)}.pdf")
