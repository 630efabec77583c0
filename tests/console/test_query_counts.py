"""The search and person pages cost a fixed number of statements (no N+1), pinned through the
real app on SQLite and PostgreSQL and counted by the database driver (tests/statements.py):
more results or a longer history add rows, not queries. The audit row each page writes is
counted too."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from shikaku.registry.tables import console_users
from shikaku.service import desk as service
from shikaku.service.accounts import User
from tests.console.conftest import SYMBOL_A, SYMBOL_B, Desk, form, login, person_id
from tests.statements import driver_statements

SEARCH_STATEMENTS = 4  # the session; the count; the page with 事業所; the page's periods
PERSON_STATEMENTS = 15  # the session; person, 事業所, household (+ periods), periods,
# documents, certificates, applications (+ who, from the audit log), マイナ保険証, reports,
# returns, hand-outs, reissues


def audit_write(desk: Desk) -> int:
    """What the page's audit row costs: durable commits on, the chain's last row, the row,
    durable commits back (PostgreSQL also takes the chain's lock)."""
    return {"sqlite": 4, "postgresql": 5}[desk.engine.dialect.name]


def test_search_page_statements_do_not_grow_with_the_results(desk: Desk) -> None:
    c = desk.client()
    login(c, "op1")
    counts = {}
    for params, hits in (
        ({"name": "別社"}, 1),
        ({"name": "キョウカイ"}, 2),
        ({"symbol": SYMBOL_A}, 3),
    ):
        with driver_statements(desk.engine) as seen:
            page = c.get("/console", params={"search": "1", **params})
        assert page.status_code == 200 and f"{hits}件" in page.text, params
        counts[hits] = len(seen)
    assert set(counts.values()) == {SEARCH_STATEMENTS + audit_write(desk)}, counts


def test_person_page_statements_do_not_grow_with_the_history(desk: Desk) -> None:
    pid = person_id(desk.engine, SYMBOL_A, "1")
    c = desk.client()
    token = login(c, "op1")
    with driver_statements(desk.engine) as seen:
        assert c.get(f"/console/persons/{pid}").status_code == 200
    before = len(seen)
    # a long history: reissues, applications, a return
    with desk.engine.connect() as conn:
        op = User(
            int(conn.execute(select(console_users.c.id).where(console_users.c.name == "op1")).scalar_one()),
            "op1", "operator", None,
        )  # fmt: skip
    for reason in ("lost", "damaged"):
        service.request_reissue(
            desk.engine, desk.settings, desk.vault, pid, op, reason, date.today()
        )
    for _ in range(3):
        r = c.post(f"/console/persons/{pid}/certificate", data=form(token, cert_reason="lost"))
        assert r.status_code == 303
    r = c.post(
        f"/console/persons/{pid}/return",
        data=form(token, return_run=str(desk.run_id), reason="unknown_address"),
    )
    assert r.status_code == 303
    with driver_statements(desk.engine) as seen:
        page = c.get(f"/console/persons/{pid}")
    assert page.status_code == 200 and page.text.count("マイナンバーカードの紛失") >= 3
    assert before == len(seen) == PERSON_STATEMENTS + audit_write(desk), (before, len(seen))
    other = person_id(desk.engine, SYMBOL_B, "1")
    with driver_statements(desk.engine) as seen:
        assert c.get(f"/console/persons/{other}").status_code == 200
    assert len(seen) == PERSON_STATEMENTS + audit_write(desk)
