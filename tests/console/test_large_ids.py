"""Ids no database column can hold, in every console and portal URL that takes one, on SQLite
and PostgreSQL: the browser gets the 404 page (or, for an id chosen in a form, the form again
with its error), never a 500 and never JSON."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.console.conftest import SYMBOL_A, Desk, form, login, person_id

TOO_LARGE = [
    "99999999999999999999",  # beyond 64 bits
    str(2**63),  # one past BIGINT (and SQLite's INTEGER)
    "-1",
    "abc",
    "²",  # a digit to str.isdigit, not to int()
]
PARTITION_TOO_LARGE = [*TOO_LARGE, str(2**31)]  # one past INTEGER (run_partitions.partition_no)


def _is_page(r: object, status: int) -> None:
    assert r.status_code == status, (r.request.url, r.status_code, r.text[:300])  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("text/html"), r.request.url  # type: ignore[attr-defined]


def test_staff_console_urls(desk: Desk) -> None:
    client = desk.client()
    csrf = login(client, "op1")
    pid = person_id(desk.engine, SYMBOL_A, "1")
    for big in TOO_LARGE:
        for url in (
            f"/console/persons/{big}",
            f"/console/persons/{big}/documents/{desk.run_id}",
            f"/console/persons/{pid}/documents/{big}",
            f"/console/runs/{big}",
        ):
            _is_page(client.get(url), 404)
        for url, fields in (
            (f"/console/persons/{big}/reissue", {}),
            (f"/console/persons/{big}/certificate", {"cert_reason": "lost"}),
            (f"/console/persons/{big}/my-number", {"my_number": ""}),
            (f"/console/persons/{big}/return", {"return_run": str(desk.run_id)}),
            (f"/console/reports/{big}", {"decision": "approve"}),
        ):
            _is_page(client.post(url, data={"csrf": csrf, **fields}), 404)
        r = client.post(
            f"/console/persons/{pid}/return",
            data=form(csrf, return_run=big, reason="unknown", left_on=""),
        )
        _is_page(r, 400)
        assert "書類を選んでください" in r.text
    # Not logged in: the same page (the URL names nothing), no redirect through the login.
    _is_page(desk.client().get(f"/console/persons/{TOO_LARGE[0]}"), 404)


PORTAL_PAGES = ("", "/pdf", "/leaver", "/list.csv", "/print", "/notices.zip", "/persons/1/pdf")
PORTAL_FORMS = ("handed-out", "undo", "return", "return/undo")


def test_employer_portal_urls(desk: Desk) -> None:
    client = desk.client()
    csrf = login(client, "emp_a")
    run = desk.run_id
    keys = iter(range(10**6))

    def form(**values: str) -> dict[str, str]:
        return {"csrf": csrf, "form_key": f"k{next(keys)}", **values}

    for big in TOO_LARGE:
        for suffix in PORTAL_PAGES:
            _is_page(client.get(f"/portal/parcels/{big}/1{suffix}"), 404)
        _is_page(client.get(f"/portal/parcels/{run}/1/persons/{big}/pdf"), 404)
        for action in PORTAL_FORMS:
            _is_page(client.post(f"/portal/parcels/{big}/1/{action}", data=form()), 404)
        # a household or person chosen in a form, alone or as run:id, in either part
        for value in (big, f"{big}:1", f"{run}:{big}"):
            r = client.post(f"/portal/parcels/{run}/1/handed-out", data=form(insured=value))
            _is_page(r, 400)
            r = client.post("/portal/reissues/handed-out", data=form(insured=value))
            _is_page(r, 400)
            r = client.post(f"/portal/parcels/{run}/1/undo", data=form(undo=value))
            _is_page(r, 400)
            r = client.post(f"/portal/parcels/{run}/1/return", data=form(person=value))
            _is_page(r, 400)
            assert "返戻する方を選んでください" in r.text
            r = client.post(f"/portal/parcels/{run}/1/return/undo", data=form(person=value))
            _is_page(r, 400)
            _is_page(client.get(f"/portal/parcels/{run}/1/leaver", params={"person": value}), 200)
    for big in PARTITION_TOO_LARGE:
        for suffix in PORTAL_PAGES:
            _is_page(client.get(f"/portal/parcels/{run}/{big}{suffix}"), 404)
        for action in PORTAL_FORMS:
            r = client.post(f"/portal/parcels/{run}/{big}/{action}", data=form())
            _is_page(r, 404)


def test_an_id_in_range_still_works(desk: Desk) -> None:
    """The ids' bounds let every real id through (the first person, partition 1)."""
    client: TestClient = desk.client()
    login(client, "op1")
    assert (
        client.get(f"/console/persons/{person_id(desk.engine, SYMBOL_A, '1')}").status_code == 200
    )
    portal = desk.client()
    login(portal, "emp_a")
    assert portal.get(f"/portal/parcels/{desk.run_id}/1").status_code == 200
