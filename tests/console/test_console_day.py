"""The staff console at work (issue 16), in-process on SQLite and PostgreSQL: actions that say
what they did at the top of the next page and cannot run twice, confirmations with a reason,
HTML errors, a search that scales, the person page, the audit trail, administration."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, func, select

from shikaku.registry.tables import (
    audit_log,
    console_users,
    my_number_reports,
    persons,
    reissue_requests,
    runs,
)
from shikaku.service import operations
from tests.console.conftest import (
    NEW_NUMBER,
    SYMBOL_A,
    SYMBOL_B,
    Desk,
    form,
    login,
    person_id,
)

RESULT = re.compile(
    r'<div class="result result-(\w+)" id="result"[^>]*autofocus>\s*<p>(.*?)</p>', re.S
)


def _result(html: str) -> tuple[str, str]:
    """The level and text of the result at the top of a page (it must be there)."""
    found = RESULT.search(html)
    assert found, "no result at the top of the page"
    return found.group(1), re.sub(r"<[^>]+>", "", found.group(2))


def _count(engine: Engine, table: object, *where: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore[arg-type]


def _audit_rows(engine: Engine, after: int = 0) -> list[tuple[str, int | None, str]]:
    with engine.connect() as conn:
        return [
            (r.kind, r.person_id, r.detail)
            for r in conn.execute(
                select(audit_log.c.kind, audit_log.c.person_id, audit_log.c.detail)
                .where(audit_log.c.id > after)
                .order_by(audit_log.c.id)
            )
        ]


def _last_audit_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(audit_log.c.id), 0))).scalar_one())


# ------------------------------------------------------------------ actions


def test_reissue_confirms_says_so_at_the_top_and_never_runs_twice(desk: Desk) -> None:
    pid = person_id(desk.engine, SYMBOL_A, "1")
    c = desk.client()
    token = login(c, "op1")
    confirm = c.get(f"/console/persons/{pid}/reissue")
    assert confirm.status_code == 200 and "再発行の理由" in confirm.text
    assert "今日すでに再発行しています" not in confirm.text
    # no reason: the confirmation again, the error beside the field and summarised at the top
    r = c.post(f"/console/persons/{pid}/reissue", data=form(token, reason="", note=""))
    assert r.status_code == 400
    assert 'id="error-summary"' in r.text and 'href="#f-reason"' in r.text
    assert 'id="e-reason"' in r.text
    r = c.post(f"/console/persons/{pid}/reissue", data=form(token, reason="other", note=" "))
    assert r.status_code == 400 and "理由を入力してください" in r.text
    assert _count(desk.engine, reissue_requests) == 0
    # confirmed: a redirect (POST-redirect-GET) to the person page, the result at the top
    fields = form(token, reason="lost", note="引っ越しで紛失")
    r = c.post(f"/console/persons/{pid}/reissue", data=fields)
    assert r.status_code == 303 and r.headers["location"] == f"/console/persons/{pid}"
    page = c.get(r.headers["location"])
    level, text = _result(page.text)
    assert level == "ok" and "再発行しました" in text
    assert _result(c.get(f"/console/persons/{pid}").text) if False else True
    assert 'id="result"' not in c.get(f"/console/persons/{pid}").text  # shown once
    # the same form again (a double click, the back button): refused, the first one's result
    r = c.post(f"/console/persons/{pid}/reissue", data=fields)
    assert r.status_code == 303
    level, text = _result(c.get(r.headers["location"]).text)
    assert level == "held" and "2回目は実行していません" in text and "再発行しました" in text
    assert _count(desk.engine, reissue_requests) == 1
    with desk.engine.connect() as conn:
        note, reason = conn.execute(
            select(reissue_requests.c.note, reissue_requests.c.reason)
        ).one()
    assert (note, reason) == ("引っ越しで紛失", "lost")
    # the confirmation now warns that a reissue was made today, by whom
    again = c.get(f"/console/persons/{pid}/reissue").text
    assert "今日すでに再発行しています" in again and "op1" in again
    # audited as a change, with the user
    kinds = [(k, p) for k, p, _ in _audit_rows(desk.engine)]
    assert ("console_reissue", pid) in kinds


def test_a_held_reissue_says_held_and_why(desk: Desk) -> None:
    """A name the fonts cannot print: the reissue is held, and the page says so (it said
    作成しました)."""
    pid = person_id(desk.engine, SYMBOL_A, "1")
    with desk.engine.begin() as conn:
        conn.execute(persons.update().where(persons.c.id == pid).values(name="𫠠田　花子"))
    c = desk.client()
    token = login(c, "op1")
    r = c.post(f"/console/persons/{pid}/reissue", data=form(token, reason="damaged"))
    assert r.status_code == 303
    level, text = _result(c.get(r.headers["location"]).text)
    assert level == "held" and "保留しました" in text and "U+2B820" in text
    assert "再発行しました" not in text
    page = c.get(f"/console/persons/{pid}").text  # and the person page says so too
    assert "は作成されていません（保留）" in page


def test_errors_are_html_pages_with_the_menu(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    c = desk.client()
    token = login(c, "op1")
    pid = person_id(desk.engine, SYMBOL_A, "1")
    for url, status in (("/console/nowhere", 404), ("/console/persons/999999", 404)):
        r = c.get(url)
        assert r.status_code == status and r.headers["content-type"].startswith("text/html")
        assert 'aria-label="メインメニュー"' in r.text and "加入者検索" in r.text
    # the address bar left on a form's URL, then Enter: the page the form belongs to
    r = c.get(f"/console/persons/{pid}/my-number")
    assert r.status_code == 303 and r.headers["location"] == f"/console/persons/{pid}"
    r = c.get("/console/logout")
    assert r.status_code == 303
    # a method the URL does not take at all: the 405 page, in HTML
    r = c.put(f"/console/persons/{pid}", data=form(token))
    assert r.status_code == 405 and r.headers["content-type"].startswith("text/html")
    assert "メインメニュー" in r.text
    # an auditor on an admin page: 403 with the menu
    a = desk.client()
    login(a, "audit")
    r = a.get("/console/users")
    assert r.status_code == 403 and "メインメニュー" in r.text and "監査記録" in r.text
    # not logged in: the login page, then back where they were going
    anon = desk.client()
    r = anon.get(f"/console/persons/{pid}")
    assert r.headers["location"].startswith("/console/login?next=")
    login_page = anon.get(r.headers["location"])
    assert f'name="next" value="/console/persons/{pid}"' in login_page.text
    # a bug: the 500 page, in HTML, with the menu (the API keeps its own format)
    from fastapi.testclient import TestClient

    from shikaku.service import desk as service

    monkeypatch.setattr(service, "person_view", lambda *a, **k: 1 / 0)
    broken = TestClient(desk.app, raise_server_exceptions=False)  # type: ignore[arg-type]
    broken.cookies = c.cookies
    r = broken.get(f"/console/persons/{pid}")
    monkeypatch.undo()
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "システムエラー" in r.text and "メインメニュー" in r.text
    # the API keeps its own errors
    assert desk.client().get("/v1/nowhere").headers["content-type"].startswith("application/")


# ------------------------------------------------------------------ search


def test_search_names_spaceless_kana_and_era_dates(desk: Desk) -> None:
    c = desk.client()
    login(c, "op1")
    hanako = f"{SYMBOL_A}-1-00"
    for typed in ("協会花子", "協会 花子", "協会　花子", "協会", "キョウカイハナコ", "きょうかいはなこ",
                  "ｷｮｳｶｲﾊﾅｺ", "ｷｮｳｶｲ ﾊﾅｺ"):  # fmt: skip
        page = c.get("/console", params={"search": "1", "name": typed}).text
        assert hanako in page, typed
    assert hanako not in c.get("/console", params={"search": "1", "name": "花子"}).text
    for typed in ("昭和55年1月2日", "昭55.1.2", "S55.1.2", "s55/1/2", "Ｓ５５．１．２", "1980-01-02",
                  "19800102", "S55年1月2日"):  # fmt: skip
        page = c.get("/console", params={"search": "1", "birth_date": typed})
        assert page.status_code == 200 and hanako in page.text, typed
    page = c.get("/console", params={"search": "1", "name": "協会"}).text
    assert "株式会社" in page or "事業所" in page  # the 事業所 column
    assert "資格あり" in page  # the coverage column
    assert "2件" in page  # the total: 花子 and 正子, each once


def test_search_pages_and_sorts(desk: Desk) -> None:
    from shikaku.service import desk as service

    form_ = service.SearchForm(name="キョウカイ", sort="birth")
    found = service.search_persons(desk.engine, form_, date(2025, 1, 1), per_page=1)
    assert found is not None and found.total == 2 and found.pages == 2
    assert found.rows[0].birth_date < date(2000, 1, 1)  # 1980 before 2010
    form_ = service.SearchForm(name="キョウカイ", sort="birth", page=2)
    second = service.search_persons(desk.engine, form_, date(2025, 1, 1), per_page=1)
    assert second is not None and second.rows[0].birth_date.year == 2010
    form_ = service.SearchForm(name="キョウカイ")  # a name typed: by name (in kana: 五十音)
    by_kana = service.search_persons(desk.engine, form_, date(2025, 1, 1))
    assert by_kana is not None and form_.sort == "name"
    assert [r.name_kana for r in by_kana.rows] == sorted(r.name_kana for r in by_kana.rows)
    assert by_kana.rows[0].name_kana == "キョウカイ\u3000ハナコ"
    form_ = service.SearchForm(symbol=SYMBOL_A, sort="keys")
    by_keys = service.search_persons(desk.engine, form_, date(2025, 1, 1))
    assert by_keys is not None
    keys = [(r.number, r.branch) for r in by_keys.rows]
    assert keys == sorted(keys) and len(keys) == 3
    c = desk.client()
    login(c, "op1")
    page = c.get("/console", params={"search": "1", "name": "キョウカイ", "sort": "birth"}).text
    assert 'aria-sort="ascending"' in page


# ------------------------------------------------------------------ the person page


def test_person_page_has_what_a_clerk_needs(desk: Desk) -> None:
    insured = person_id(desk.engine, SYMBOL_A, "1")
    child = person_id(desk.engine, SYMBOL_A, "1", "01")
    c = desk.client()
    token = login(c, "op1")
    r = c.post(
        f"/console/persons/{insured}/certificate", data=form(token, cert_reason="lost", cert_on="")
    )
    assert r.status_code == 303
    page = c.get(f"/console/persons/{insured}").text
    assert "昭和55年1月2日" in page  # 和暦, as the documents print it
    assert "女" in page and "住所" in page
    assert f'href="/console/persons/{child}"' in page  # the household, linked
    assert "資格あり" in page
    assert "資格確認書の交付申請" in page and "op1・" in page  # who recorded it, and when
    assert re.search(r"令和\d+年\d+月\d+日 \d\d:\d\d", page)  # a time, in JST
    assert f"/console/persons/{insured}/documents/{desk.run_id}?download=1" in page
    pdf = c.get(f"/console/persons/{insured}/documents/{desk.run_id}")
    assert pdf.headers["content-disposition"].startswith("inline")
    assert pdf.content.startswith(b"%PDF")


def test_a_person_whose_coverage_ended_has_a_banner(desk: Desk) -> None:
    from shikaku.registry.tables import eligibility_periods

    pid = person_id(desk.engine, SYMBOL_A, "2")
    with desk.engine.begin() as conn:
        conn.execute(
            eligibility_periods.update()
            .where(eligibility_periods.c.person_id == pid)
            .values(lost_on=date(2024, 11, 1), loss_reason="99")
        )
    c = desk.client()
    token = login(c, "op1")
    page = c.get(f"/console/persons/{pid}").text
    assert 'class="banner bad"' in page and "資格喪失: 令和6年11月1日" in page
    assert "再発行できません" in page
    r = c.post(f"/console/persons/{pid}/reissue", data=form(token, reason="lost"))
    assert r.status_code == 400 and "資格喪失のため再発行できません" in r.text
    assert _count(desk.engine, runs, runs.c.kind == "reissue") == 0  # no empty run left behind


def test_decisions_need_a_reason_and_stay_visible(desk: Desk) -> None:
    pid = person_id(desk.engine, SYMBOL_A, "1")
    one, two = desk.client(), desk.client()
    t1, t2 = login(one, "op1"), login(two, "op2")
    r = one.post(f"/console/persons/{pid}/my-number", data=form(t1, my_number=NEW_NUMBER))
    assert r.status_code == 303
    with desk.engine.connect() as conn:
        report_id = conn.execute(select(my_number_reports.c.id)).scalar_one()
    assert "判断する" in two.get("/console/reports").text
    confirm = two.get(f"/console/reports/{report_id}")
    assert confirm.status_code == 200 and "判断を確定する" in confirm.text
    r = two.post(
        f"/console/reports/{report_id}",
        data=form(t2, decision="reject", note="本人確認書類と一致しない"),
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/reports"
    page = two.get("/console/reports").text
    level, text = _result(page)
    assert level == "ok" and "却下しました" in text
    decided = page.split('id="decided-h"')[1]
    assert "却下" in decided and "op2" in decided and "本人確認書類と一致しない" in decided
    person = two.get(f"/console/persons/{pid}").text
    assert "却下: op2" in person and "本人確認書類と一致しない" in person
    kinds = [k for k, p, _ in _audit_rows(desk.engine) if p == pid]
    assert "console_report" in kinds and "console_decision" in kinds


# ------------------------------------------------------------------ the audit trail


def test_every_change_is_audited_with_the_user_and_auditors_find_it(desk: Desk) -> None:
    pid = person_id(desk.engine, SYMBOL_A, "1")
    op = desk.client()
    token = login(op, "op1")
    op.get(f"/console/persons/{pid}")
    op.post(
        f"/console/persons/{pid}/return",
        data=form(token, return_run=str(desk.run_id), reason="unknown_address"),
    )
    rows = _audit_rows(desk.engine)
    assert ("console_return", pid) in [(k, p) for k, p, _ in rows]
    assert all('"user":"op1"' in d for k, p, d in rows if k.startswith("console_"))
    auditor = desk.client()
    login(auditor, "audit")
    page = auditor.get("/console/audit", params={"person": f"{SYMBOL_A}-1-00"}).text
    assert "op1" in page and "閲覧" in page and "返戻の記録" in page
    assert auditor.get("/console/audit", params={"user": "op2"}).text.count("<tr>") <= 1
    today = datetime.now(UTC).date().isoformat()
    by_day = auditor.get("/console/audit", params={"user": "op1", "since": today}).text
    assert "返戻の記録" in by_day
    export = auditor.get("/console/audit.csv", params={"person": str(pid)})
    assert export.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert lines[0][0] == "日時（日本時間）"
    assert any(row[1] == "op1" and row[3] == "閲覧" for row in lines[1:])
    # the auditor's own reading is audited too
    kinds = [d for k, _, d in _audit_rows(desk.engine) if k == "console_read"]
    assert any('"view":"audit_csv"' in d and '"user":"audit"' in d for d in kinds)
    # an operator has no audit page
    assert op.get("/console/audit").status_code == 403


def test_audit_list_shows_the_user(desk: Desk) -> None:
    from typer.testing import CliRunner

    from shikaku.cli import app

    c = desk.client()
    login(c, "op2")
    c.get(f"/console/persons/{person_id(desk.engine, SYMBOL_A, '1')}")
    url = desk.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app, ["audit", "list", "--database-url", url], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "利用者" in result.output and "op2" in result.output


# ------------------------------------------------------------------ administration


def test_admin_manages_users(desk: Desk) -> None:
    c = desk.client()
    token = login(c, "admin")
    r = c.post("/console/users", data=form(token, name="op3", role="operator", password="short"))
    assert r.status_code == 400 and 'id="e-password"' in r.text
    r = c.post(
        "/console/users",
        data=form(token, name="op3", role="operator", password="a long enough pass"),
    )
    assert r.status_code == 303
    user_page = r.headers["location"]
    assert "追加しました" in _result(c.get(user_page).text)[1]
    new = desk.client()
    login(new, "op3", "a long enough pass")
    with desk.engine.connect() as conn:
        uid = conn.execute(
            select(console_users.c.id).where(console_users.c.name == "op3")
        ).scalar_one()
    r = c.post(f"/console/users/{uid}/role", data=form(token, role="auditor"))
    assert r.status_code == 303
    assert new.get("/console").status_code == 303  # its session ended with the change
    r = c.post(f"/console/users/{uid}/password", data=form(token, password="another long one"))
    assert r.status_code == 303
    login(new, "op3", "another long one")
    r = c.post(f"/console/users/{uid}/active", data=form(token, active="0"))
    assert r.status_code == 303 and "無効にしました" in _result(c.get(user_page).text)[1]
    assert new.get("/console").status_code == 303
    # not oneself
    with desk.engine.connect() as conn:
        me = conn.execute(
            select(console_users.c.id).where(console_users.c.name == "admin")
        ).scalar_one()
    r = c.post(f"/console/users/{me}/active", data=form(token, active="0"))
    assert r.status_code == 400 and "自分自身は無効にできません" in r.text
    changes = [d for k, _, d in _audit_rows(desk.engine) if k == "console_user"]
    assert len(changes) == 4 and all('"user":"admin"' in d for d in changes)
    assert all("long" not in d for d in changes)  # never a password
    op = desk.client()
    login(op, "op1")
    assert op.get("/console/users").status_code == 403


def test_admin_starts_and_verifies_a_follow_up_run(desk: Desk) -> None:
    c = desk.client()
    token = login(c, "admin")
    page = c.get("/console/runs").text
    assert "実行を始める" in page
    r = c.post("/console/runs", data=form(token, kind="follow_up", after="", day="令和6年11月29日"))
    assert r.status_code == 400 and "先行する実行を選んでください" in r.text
    r = c.post(
        "/console/runs",
        data=form(token, kind="follow_up", after=str(desk.run_id), day="R6.11.29",
                  issued_on="2025-01-22"),
    )  # fmt: skip
    assert r.status_code == 303
    run_id = int(r.headers["location"].rsplit("/", 1)[1])
    _wait_for_jobs(desk.engine, run_id)
    page = c.get(f"/console/runs/{run_id}").text
    assert "完了" in page and "照合する" in page
    r = c.post(f"/console/runs/{run_id}/verify", data=form(token))
    assert r.status_code == 303
    _wait_for_jobs(desk.engine, run_id)
    page = c.get(f"/console/runs/{run_id}").text
    assert "照合OK" in page
    op = desk.client()
    op_token = login(op, "op1")
    assert op.post(f"/console/runs/{run_id}/verify", data=form(op_token)).status_code == 403


def _wait_for_jobs(engine: Engine, run_id: int) -> None:
    from shikaku.registry.tables import console_jobs

    with engine.connect() as conn:
        ids = conn.execute(
            select(console_jobs.c.id).where(console_jobs.c.run_id == run_id)
        ).scalars()
        for job_id in list(ids):
            operations.wait(job_id, 120)


def test_runs_list_leaves_out_one_person_reissues_and_states_are_honest(desk: Desk) -> None:
    pid = person_id(desk.engine, SYMBOL_A, "1")
    held = person_id(desk.engine, SYMBOL_B, "1")
    with desk.engine.begin() as conn:
        conn.execute(persons.update().where(persons.c.id == held).values(name="𫠠　太郎"))
    c = desk.client()
    token = login(c, "op1")
    for who in (pid, held):
        assert (
            c.post(f"/console/persons/{who}/reissue", data=form(token, reason="lost")).status_code
            == 303
        )
    page = c.get("/console/runs").text
    assert "再発行の実行を表示" in page and "2件" in page
    assert page.count('href="/console/runs/') == 1  # only the full run
    reissues = c.get("/console/runs", params={"kind": "reissue"}).text
    assert reissues.count('href="/console/runs/') >= 2
    with desk.engine.connect() as conn:
        held_run = conn.execute(
            select(reissue_requests.c.run_id).where(reissue_requests.c.person_id == held)
        ).scalar_one()
    page = c.get(f"/console/runs/{held_run}").text
    assert "完了（印刷した書類なし）" in page and "一致" not in page
    assert "𫠠" in page and "U+2B820" in page and f'href="/console/persons/{held}"' in page
    export = c.get(f"/console/runs/{held_run}/held.csv")
    assert "𫠠" in export.content.decode("utf-8-sig")


def test_admin_starts_a_certificate_run_and_resumes_a_stopped_one(desk: Desk) -> None:
    from shikaku.issuance.runconfig import RunConfig
    from shikaku.issuance.runs import create_run

    c = desk.client()
    token = login(c, "admin")
    r = c.post(
        "/console/runs", data=form(token, kind="certificates", day="令和7年12月2日", issued_on="")
    )
    assert r.status_code == 303
    certificates_run = int(r.headers["location"].rsplit("/", 1)[1])
    _wait_for_jobs(desk.engine, certificates_run)
    page = c.get(f"/console/runs/{certificates_run}").text
    assert "資格確認書" in page and "完了" in page
    # a run created and left before extraction (the CLI stopped, the server restarted)
    stopped = create_run(
        desk.engine, RunConfig.from_settings(desk.settings), desk.settings.output_dir,
        "follow_up", date(2024, 11, 29), date(2025, 1, 22), desk.run_id,
    )  # fmt: skip
    page = c.get(f"/console/runs/{stopped}").text
    assert "未完了" in page and "再開する" in page
    assert "未完了" in c.get("/console/runs").text
    r = c.post(f"/console/runs/{stopped}/resume", data=form(token))
    assert r.status_code == 303
    _wait_for_jobs(desk.engine, stopped)
    with desk.engine.connect() as conn:
        assert conn.execute(select(runs.c.status).where(runs.c.id == stopped)).scalar() == "done"
    page = c.get(f"/console/runs/{stopped}").text
    assert "再開する" not in page and "照合する" in page
    kinds = [d for k, _, d in _audit_rows(desk.engine) if k == "console_run"]
    assert any('"action":"run"' in d and '"user":"admin"' in d for d in kinds)
