"""The console and portal through the app in-process, on SQLite and PostgreSQL: login,
throttling, CSRF, cookies, roles, employers' isolation, escaping, audit rows, actions."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.runs import create_run, extract_run
from shikaku.registry.tables import (
    audit_log,
    envelope_returns,
    hand_outs,
    my_number_reports,
    persons,
    run_partitions,
    run_targets,
)
from shikaku.security.passwords import hash_password, verify_password
from tests.console.conftest import (
    NEW_NUMBER,
    SYMBOL_A,
    SYMBOL_B,
    Desk,
    csrf_of,
    form,
    login,
    person_id,
)
from tests.registry.helpers import MY_NUMBERS


def test_password_hashes_are_salted_scrypt() -> None:
    a, b = hash_password("pässword-1234"), hash_password("pässword-1234")
    assert a != b and a.startswith("scrypt$16384$8$1$")
    assert verify_password("pässword-1234", a)
    assert not verify_password("pässword-1235", a)
    assert not verify_password("x", None) and not verify_password("x", "garbage")


def test_login_cookie_flags_and_logout(desk: Desk) -> None:
    c = desk.client()
    page = c.get("/console/login")
    assert "httponly" in page.headers["set-cookie"].lower()
    r = c.post(
        "/console/login",
        data={"name": "op1", "password": "correct horse battery", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"].lower()
    assert "shikaku_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    home = c.get("/console")
    assert home.status_code == 200 and "Content-Security-Policy" in home.headers
    c.post("/console/logout", data={"csrf": csrf_of(home.text)})
    assert c.get("/console", follow_redirects=False).status_code == 303


def test_bad_login_keeps_the_name_and_says_why(desk: Desk) -> None:
    c = desk.client()
    page = c.get("/console/login")
    r = c.post(
        "/console/login",
        data={"name": "op1<b>", "password": "", "csrf": csrf_of(page.text)},
    )
    assert r.status_code == 400
    assert 'value="op1&lt;b&gt;"' in r.text
    assert "パスワードを入力してください" in r.text


def test_login_is_throttled(desk: Desk) -> None:
    c = desk.client()
    token = csrf_of(c.get("/console/login").text)
    for _ in range(desk.settings.console.login_max_failures):
        r = c.post("/console/login", data={"name": "op2", "password": "wrong", "csrf": token})
        assert r.status_code == 400
    r = c.post(
        "/console/login",
        data={"name": "op2", "password": "correct horse battery", "csrf": token},
    )
    assert r.status_code == 429 and "しばらくログインできません" in r.text
    login(desk.client(), "op1")  # another name is not locked out


def test_login_without_its_csrf_token_is_refused(desk: Desk) -> None:
    c = desk.client()
    c.get("/console/login")
    r = c.post("/console/login", data={"name": "op1", "password": "correct horse battery"})
    assert r.status_code == 403


def test_every_form_needs_the_session_csrf_token(desk: Desk) -> None:
    c = desk.client()
    login(c, "op1")
    pid = person_id(desk.engine, SYMBOL_A, "1")
    for path, data in [
        (f"/console/persons/{pid}/reissue", {}),
        (f"/console/persons/{pid}/certificate", {"cert_reason": "lost"}),
        (f"/console/persons/{pid}/my-number", {"my_number": NEW_NUMBER}),
        (f"/console/persons/{pid}/return", {"return_run": "1", "reason": "unknown_address"}),
        ("/console/reports/1", {"decision": "approve"}),
    ]:
        for token in ({}, {"csrf": "forged"}):
            r = c.post(path, data={**data, **token})
            assert r.status_code == 403, path
    with desk.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(my_number_reports)).scalar() == 0
    e = desk.client()
    login(e, "emp_a")
    for path in ("handed-out", "return"):
        r = e.post(f"/portal/parcels/{desk.run_id}/1/{path}", data={"insured": "1"})
        assert r.status_code == 403


def test_roles(desk: Desk) -> None:
    pid = person_id(desk.engine, SYMBOL_A, "1")
    auditor = desk.client()
    token = login(auditor, "audit")
    assert auditor.get(f"/console/persons/{pid}").status_code == 200
    assert "再発行する" not in auditor.get(f"/console/persons/{pid}").text
    r = auditor.post(f"/console/persons/{pid}/reissue", data={"csrf": token})
    assert r.status_code == 403
    employer = desk.client()
    login(employer, "emp_a")
    for path in ("/console", f"/console/persons/{pid}", "/console/runs", "/console/reports"):
        assert employer.get(path).status_code == 403, path
    staff = desk.client()
    login(staff, "op1")
    assert staff.get("/portal").status_code == 403
    anonymous = desk.client()
    r = anonymous.get(f"/console/persons/{pid}", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/console/login?next=%2Fconsole%2Fpersons%2F{pid}"
    assert anonymous.get("/portal/parcels/1/1", follow_redirects=False).status_code == 303


def _parcel_of(engine: Engine, run_id: int, symbol: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(run_partitions.c.partition_no).where(
                    run_partitions.c.run_id == run_id,
                    run_partitions.c.recipient_symbol == symbol,
                )
            ).scalar_one()
        )


def test_an_employer_reads_nothing_of_another_employer(desk: Desk) -> None:
    run = desk.run_id
    mine, theirs = _parcel_of(desk.engine, run, SYMBOL_A), _parcel_of(desk.engine, run, SYMBOL_B)
    their_person = person_id(desk.engine, SYMBOL_B, "1")
    c = desk.client()
    token = login(c, "emp_a")
    portal = c.get("/portal")
    assert f"/portal/parcels/{run}/{mine}" in portal.text
    assert f"/portal/parcels/{run}/{theirs}" not in portal.text and "別社" not in portal.text
    for path in (
        f"/portal/parcels/{run}/{theirs}",
        f"/portal/parcels/{run}/{theirs}/pdf",
        f"/portal/parcels/{run}/999",
        f"/portal/parcels/999/{mine}",
        f"/console/persons/{their_person}",
        f"/console/persons/{their_person}/documents/{run}",
    ):
        r = c.get(path)
        assert r.status_code in (403, 404), path
        assert "別社" not in r.text and "%PDF" not in r.text[:10], path
    # forms with the other employer's ids change nothing (every portal URL and form:
    # tests/console/test_portal.py)
    key = {"csrf": token, "form_key": "k1"}
    r = c.post(f"/portal/parcels/{run}/{theirs}/handed-out", data={**key, "insured": their_person})
    assert r.status_code == 404
    r = c.post(
        f"/portal/parcels/{run}/{mine}/handed-out",
        data={**key, "form_key": "k2", "insured": their_person},
    )
    assert r.status_code == 400 and "この一覧にない方が選ばれています" in r.text
    r = c.post(
        f"/portal/parcels/{run}/{mine}/return",
        data={**key, "form_key": "k3", "person": str(their_person), "left_on": "2024-10-31",
              "left_reason": "retired"},
    )  # fmt: skip
    assert r.status_code == 400
    r = c.post(
        f"/portal/parcels/{run}/{theirs}/return",
        data={**key, "form_key": "k4", "person": str(their_person), "left_on": "2024-10-31"},
    )
    assert r.status_code in (400, 404)
    with desk.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(hand_outs)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(envelope_returns)).scalar() == 0
    # their own parcel works, PDF included (electronic delivery on)
    assert c.get(f"/portal/parcels/{run}/{mine}").status_code == 200
    assert c.get(f"/portal/parcels/{run}/{mine}/pdf").content.startswith(b"%PDF")


def test_names_are_escaped_and_every_view_is_audited(desk: Desk) -> None:
    pid = person_id(desk.engine, SYMBOL_A, "2")
    with desk.engine.begin() as conn:
        conn.execute(
            persons.update().where(persons.c.id == pid).values(name="<script>alert(1)</script>")
        )
    c = desk.client()
    login(c, "audit")
    with desk.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    page = c.get(f"/console/persons/{pid}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    c.get(f"/console/persons/{pid}/documents/{desk.run_id}")
    with desk.engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.kind, audit_log.c.person_id, audit_log.c.detail)
            .where(audit_log.c.id > before)
            .order_by(audit_log.c.id)
        ).all()
    assert [(r.kind, r.person_id) for r in rows] == [
        ("console_read", pid),
        ("console_download", pid),
    ]
    assert all('"user":"audit"' in r.detail for r in rows)


def test_search_errors_stay_next_to_their_field(desk: Desk) -> None:
    c = desk.client()
    login(c, "op1")
    r = c.get("/console", params={"search": "1", "number": "abc", "birth_date": "令和99年13月1日"})
    assert 'id="e-number"' in r.text and 'id="e-birth_date"' in r.text
    assert 'value="abc"' in r.text
    r = c.get("/console", params={"search": "1", "name": "協会 花子"})
    assert f"{SYMBOL_A}-1-00" in r.text and f"{SYMBOL_A}-1-01" not in r.text


def test_document_is_the_persons_own_page(desk: Desk) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    c = desk.client()
    login(c, "op1")
    pid = person_id(desk.engine, SYMBOL_A, "1", "01")
    data = c.get(f"/console/persons/{pid}/documents/{desk.run_id}").content
    with desk.engine.connect() as conn:
        first, last = conn.execute(
            select(run_targets.c.page_first, run_targets.c.page_last).where(
                run_targets.c.run_id == desk.run_id, run_targets.c.person_id == pid
            )
        ).one()
    pdf = PdfReader(BytesIO(data))
    assert len(pdf.pages) == last - first + 1
    assert f"R{desk.run_id:06d}" in pdf.pages[0].extract_text()


def test_my_number_report_four_eyes_and_reissue(desk: Desk) -> None:
    pid = person_id(desk.engine, SYMBOL_A, "1")
    one, two = desk.client(), desk.client()
    t1, t2 = login(one, "op1"), login(two, "op2")
    bad = NEW_NUMBER[:-1] + "3"
    r = one.post(f"/console/persons/{pid}/my-number", data=form(t1, my_number=bad))
    assert r.status_code == 400 and "チェックディジット" in r.text and bad not in r.text
    r = one.post(f"/console/persons/{pid}/my-number", data=form(t1, my_number=MY_NUMBERS[0]))
    assert "登録済みの個人番号と同じです" in r.text
    r = one.post(f"/console/persons/{pid}/my-number", data=form(t1, my_number=NEW_NUMBER))
    assert r.status_code == 303
    with desk.engine.connect() as conn:
        report_id = conn.execute(select(my_number_reports.c.id)).scalar_one()
    approve = {"decision": "approve", "note": "通知カードの写しで確認"}
    r = one.post(f"/console/reports/{report_id}", data=form(t1, **approve))
    assert r.status_code == 400 and "承認できません" in r.text
    r = two.post(f"/console/reports/{report_id}", data=form(t2, decision="approve"))
    assert r.status_code == 400 and "理由を入力してください" in r.text  # a reason is required
    r = two.post(f"/console/reports/{report_id}", data=form(t2, **approve))
    assert r.status_code == 303
    with desk.engine.connect() as conn:
        run_id = conn.execute(select(my_number_reports.c.reissue_run_id)).scalar_one()
        last4 = conn.execute(
            select(run_targets.c.my_number_last4).where(run_targets.c.run_id == run_id)
        ).scalar_one()
    assert last4 == NEW_NUMBER[-4:]
    page = two.get(f"/console/persons/{pid}").text
    assert f"****{NEW_NUMBER[-4:]}" in page and NEW_NUMBER not in page
    with desk.engine.connect() as conn:
        details = " ".join(str(d) for d in conn.execute(select(audit_log.c.detail)).scalars())
    assert NEW_NUMBER not in details


def test_certificate_application_and_insurer_return(desk: Desk) -> None:
    pid = person_id(desk.engine, SYMBOL_A, "1")
    c = desk.client()
    t = login(c, "op1")
    r = c.post(
        f"/console/persons/{pid}/certificate", data=form(t, cert_reason="", cert_on="2025/13/40")
    )
    assert r.status_code == 400 and 'id="e-cert_reason"' in r.text
    assert 'value="2025/13/40"' in r.text
    r = c.post(
        f"/console/persons/{pid}/certificate",
        data=form(t, cert_reason="lost", cert_on="2025-12-01"),
    )
    assert r.status_code == 303
    r = c.post(
        f"/console/persons/{pid}/return",
        data=form(t, return_run=str(desk.run_id), reason="left", left_on=""),
    )
    assert r.status_code == 400 and "退職日を入力してください" in r.text
    r = c.post(
        f"/console/persons/{pid}/return",
        data=form(t, return_run=str(desk.run_id), reason="unknown_address"),
    )
    assert r.status_code == 303


def test_runs_dashboard(desk: Desk) -> None:
    c = desk.client()
    login(c, "audit")
    assert f"R{desk.run_id:06d}" in c.get("/console/runs").text
    page = c.get(f"/console/runs/{desk.run_id}").text
    assert "対象 = 作成済み書類（一致）" in page
    assert c.get("/console/runs/999").status_code == 404


def test_follow_up_leaves_out_reported_leavers(desk: Desk, tmp_path: Path) -> None:
    """A return for a person who left keeps them out of the next follow-up; an undelivered
    envelope is printed again."""
    run = desk.run_id
    leaver = person_id(desk.engine, SYMBOL_A, "2")
    lost = person_id(desk.engine, SYMBOL_B, "1")
    c = desk.client()
    t = login(c, "emp_a")
    mine = _parcel_of(desk.engine, run, SYMBOL_A)
    r = c.post(
        f"/portal/parcels/{run}/{mine}/return",
        data={"csrf": t, "form_key": "k", "person": str(leaver), "left_on": "令和6年10月31日",
              "left_reason": "retired"},
    )  # fmt: skip
    assert r.status_code == 303
    s = login(staff := desk.client(), "op1")
    r = staff.post(
        f"/console/persons/{lost}/return",
        data=form(s, return_run=str(run), reason="unknown_address"),
    )
    assert r.status_code == 303
    follow = create_run(
        desk.engine, RunConfig.from_settings(desk.settings), desk.settings.output_dir,
        "follow_up", date(2024, 11, 29), date(2025, 1, 22), run,
    )  # fmt: skip
    summary = extract_run(desk.engine, follow, desk.vault, tmp_path / "reports")
    assert summary.reported_left == 1
    with desk.engine.connect() as conn:
        targeted = set(
            conn.execute(
                select(run_targets.c.person_id).where(run_targets.c.run_id == follow)
            ).scalars()
        )
    assert targeted == {lost}


@pytest.mark.parametrize("electronic", [False])
def test_pdf_download_needs_electronic_delivery(desk: Desk, electronic: bool) -> None:
    object.__setattr__(
        desk.app.state.console,
        "settings",
        desk.settings.model_copy(  # type: ignore[attr-defined]
            update={
                "console": desk.settings.console.model_copy(
                    update={"electronic_delivery": electronic}
                )
            }
        ),
    )
    c = desk.client()
    login(c, "emp_a")
    mine = _parcel_of(desk.engine, desk.run_id, SYMBOL_A)
    assert "郵送でお届けしています" in c.get("/portal").text
    assert c.get(f"/portal/parcels/{desk.run_id}/{mine}/pdf").status_code == 404
