"""Routes of the employer portal: the parcels of one 事業所, hand-outs and returns.
Thin: parse, call service.desk, render a template. Every query is filtered by the user's own
employer."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from shikaku.issuance.jobs import run_label
from shikaku.service import desk, portal
from shikaku.service.accounts import User
from shikaku.webconsole.common import (
    Field,
    NotFound,
    PartitionNo,
    RowId,
    check_csrf,
    console_of,
    employer_user,
    form_id,
    new_router,
    page,
    pdf,
    redirect,
)

router = new_router()


# ------------------------------------------------------------------ employer portal


@router.get("/portal")
def home(request: Request) -> HTMLResponse:
    user = employer_user(request)
    c = console_of(request)
    assert user.employer_id is not None
    return page(
        request, "portal.html", user=user, employer=portal.employer_of(c.engine, user.employer_id),
        parcels=portal.employer_parcels(c.engine, user.employer_id),
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
    found = portal.employer_parcel(c.engine, user.employer_id, run_id, partition_no)
    if found is None:
        raise NotFound
    parcel, lines = found
    desk.audit_view(
        c.engine, user, portal.PORTAL_READ, None, view="parcel", run=run_id, partition=partition_no
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
        data = portal.partition_pdf(c.engine, run_id, partition_no, user.employer_id)
    except desk.DeskError:
        raise NotFound from None
    desk.audit_view(
        c.engine, user, portal.PORTAL_DOWNLOAD, None, run=run_id, partition=partition_no
    )
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
        portal.mark_handed_out(engine, employer_id, run_id, partition_no, insured_id, user)

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
        if person_id is None or not portal.parcel_has_person(
            engine, employer_id, run_id, partition_no, person_id
        ):
            raise desk.DeskError("返戻する方を選んでください", "choose a person", "person")
        desk.record_return(
            engine, run_id, person_id, "left", left_on, user, employer_id=employer_id
        )

    values = {"person": person, "left_on": left_on}
    return _parcel_act(request, run_id, partition_no, csrf, values, "person", "returned", action)
