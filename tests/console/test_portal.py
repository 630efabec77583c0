"""The employer portal through the app in-process, on SQLite and PostgreSQL: hand-outs many at
once or by the numbers on the envelopes, undo, conflicts refused, leavers (household, next
follow-up run, the insurer's console), filters, sorting, CSV, the printable list, reissues
as one mailing, electronic delivery per employer, the notices as a ZIP, audit, and every
portal URL tried with another employer's ids (docs/console.md)."""

from __future__ import annotations

import csv
import io
import secrets
import stat
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, func, select, update

from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.runs import create_run, extract_run
from shikaku.registry.tables import (
    audit_log,
    employers,
    envelope_returns,
    hand_outs,
    run_partitions,
    run_targets,
)
from shikaku.service import desk as desk_service
from shikaku.service.accounts import session_user
from tests.console.conftest import (
    SYMBOL_A,
    SYMBOL_B,
    Desk,
    csrf_of,
    login,
    person_id,
)
from tests.issuance.helpers import import_path
from tests.registry.helpers import EMPLOYER_HEADER, MY_NUMBERS, employer, write


def parcel_of(engine: Engine, run_id: int, symbol: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(run_partitions.c.partition_no).where(
                    run_partitions.c.run_id == run_id,
                    run_partitions.c.recipient_symbol == symbol,
                )
            ).scalar_one()
        )


class Clerk:
    """An employer user's browser: each form sent with the session's token and a fresh key."""

    def __init__(self, desk: Desk, name: str = "emp_a") -> None:
        self.client: TestClient = desk.client()
        self.csrf = login(self.client, name)
        self.run = desk.run_id
        self.mine = parcel_of(desk.engine, desk.run_id, SYMBOL_A)
        self.url = f"/portal/parcels/{self.run}/{self.mine}"

    def get(self, url: str, **params: Any) -> Any:
        return self.client.get(url, params=params)

    def post(self, url: str, data: dict[str, Any] | None = None) -> Any:
        form = {"csrf": self.csrf, "form_key": secrets.token_urlsafe(16), **(data or {})}
        return self.client.post(url, data=form)

    def follow(self, r: Any) -> str:
        """The page a 303 leads to (its result message at the top)."""
        assert r.status_code == 303, r.text[:500]
        return str(self.client.get(r.headers["location"]).text)


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def audit_since(engine: Engine, first: int) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(audit_log.c.kind, audit_log.c.person_id, audit_log.c.detail)
                .where(audit_log.c.id >= first)
                .order_by(audit_log.c.id)
            ).all()
        )


def next_audit_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return (
            int(conn.execute(select(func.coalesce(func.max(audit_log.c.id), 0))).scalar_one()) + 1
        )


# ------------------------------------------------------------------ hand-outs


def test_households_handed_out_in_one_submit_then_one_undone(desk: Desk) -> None:
    e = Clerk(desk)
    insured = person_id(desk.engine, SYMBOL_A, "1")
    leaver = person_id(desk.engine, SYMBOL_A, "2")
    page = e.get(e.url).text
    assert "2024年9月送付分の配付一覧" in page and "未配付" in page
    assert f'value="{e.run}:{insured}"' in page and f'value="{e.run}:{leaver}"' in page
    first = next_audit_id(desk.engine)
    keys = [f"{e.run}:{insured}", f"{e.run}:{leaver}"]
    landing = e.follow(e.post(f"{e.url}/handed-out", {"insured": keys}))
    assert "2世帯（3通）を配付済みにしました" in landing
    assert count(desk.engine, hand_outs) == 2
    # the time and who recorded it are shown; the home page counts 3 of 3
    assert "配付済み" in landing and "emp_a" in landing
    home = e.get("/portal").text
    assert ">3<small>通</small>" in home
    # the same form sent again does not act twice
    again = e.post(f"{e.url}/handed-out", {"insured": keys})
    assert count(desk.engine, hand_outs) == 2 and again.status_code in (303, 400)
    # undo one household: back to 未配付, the audit keeps who had recorded it
    landing = e.follow(e.post(f"{e.url}/undo", {"undo": f"{e.run}:{leaver}"}))
    assert "配付済みを取り消しました" in landing
    with desk.engine.connect() as conn:
        left = set(conn.execute(select(hand_outs.c.person_id)).scalars())
    assert left == {insured}
    rows = audit_since(desk.engine, first)
    kinds = [(r.kind, r.person_id) for r in rows if r.kind != "portal_read"]
    assert kinds == [
        ("portal_hand_out", insured),
        ("portal_hand_out", leaver),
        ("portal_hand_out_undo", leaver),
    ]
    assert all('"user":"emp_a"' in r.detail for r in rows)
    undone = [r for r in rows if r.kind == "portal_hand_out_undo"]
    assert '"recorded_by":"emp_a"' in undone[0].detail


def test_select_all_checks_every_household_still_to_hand_out(desk: Desk) -> None:
    e = Clerk(desk)
    insured = person_id(desk.engine, SYMBOL_A, "1")
    e.follow(e.post(f"{e.url}/handed-out", {"insured": [f"{e.run}:{insured}"]}))
    page = e.get(e.url, select="all").text
    leaver = person_id(desk.engine, SYMBOL_A, "2")
    assert f'value="{e.run}:{leaver}" checked' in page
    assert f'name="insured" value="{e.run}:{insured}"' not in page  # handed out: no box


def test_hand_out_by_the_numbers_on_the_envelopes(desk: Desk) -> None:
    e = Clerk(desk)
    with desk.engine.connect() as conn:
        pieces = dict(
            conn.execute(
                select(run_targets.c.number, run_targets.c.piece_no).where(
                    run_targets.c.run_id == e.run, run_targets.c.partition_no == e.mine
                )
            ).all()
        )
    # a number nobody in this parcel has: refused, nothing recorded, what was typed kept
    r = e.post(f"{e.url}/handed-out", {"codes": "1\n999"})
    assert r.status_code == 400 and "この一覧にない番号です" in r.text and "999" in r.text
    assert "1\n999</textarea>" in r.text and count(desk.engine, hand_outs) == 0
    # the window's (記号)…(番号)…, full-width digits, and the control code on the notice
    code = f"R{e.run:06d}-P{e.mine:07d}-{pieces['2']:04d}"
    landing = e.follow(
        e.post(f"{e.url}/handed-out", {"codes": f"(記号){SYMBOL_A} (番号)１\n{code}"})
    )
    assert "2世帯（3通）" in landing
    assert count(desk.engine, hand_outs) == 2
    # the printed list's No.: already recorded, nothing new
    landing = e.follow(e.post(f"{e.url}/handed-out", {"codes": f"No.{pieces['1']}"}))
    assert "記録済みでした" in landing


def test_conflicting_states_are_refused_and_explained(desk: Desk) -> None:
    e = Clerk(desk)
    insured = person_id(desk.engine, SYMBOL_A, "1")
    leaver = person_id(desk.engine, SYMBOL_A, "2")
    e.follow(e.post(f"{e.url}/handed-out", {"insured": [f"{e.run}:{insured}"]}))
    # a leaver report for a household handed out: refused, said why
    r = e.post(
        f"{e.url}/return",
        {"person": f"{e.run}:{insured}", "left_on": "2024-10-31", "left_reason": "retired"},
    )
    assert r.status_code == 400 and "配付済みとして記録されています" in r.text
    assert count(desk.engine, envelope_returns) == 0
    # a household reported as leavers cannot then be handed out
    e.follow(
        e.post(
            f"{e.url}/return",
            {"person": f"{e.run}:{leaver}", "left_on": "令和6年10月31日", "left_reason": "retired"},
        )
    )
    r = e.post(f"{e.url}/handed-out", {"insured": [f"{e.run}:{leaver}"]})
    assert r.status_code == 400 and "返戻として届け出済み" in r.text
    assert count(desk.engine, hand_outs) == 1
    # withdraw the report (a mistake): the household can be handed out again
    landing = e.follow(e.post(f"{e.url}/return/undo", {"person": f"{e.run}:{leaver}"}))
    assert "返戻の届出を取り消しました" in landing
    e.follow(e.post(f"{e.url}/handed-out", {"insured": [f"{e.run}:{leaver}"]}))
    assert count(desk.engine, hand_outs) == 2 and count(desk.engine, envelope_returns) == 0


# ------------------------------------------------------------------ leavers


def test_a_leaver_takes_the_household_out_of_the_next_follow_up(desk: Desk, tmp_path: Path) -> None:
    e = Clerk(desk)
    insured = person_id(desk.engine, SYMBOL_A, "1")
    dependent = person_id(desk.engine, SYMBOL_A, "1", "01")
    form = e.get(f"{e.url}/leaver", person=f"{e.run}:{insured}").text
    assert "ご家族の封筒（1通）も一緒に返送します" in form
    # the form's errors, each beside its field and summarised at the top
    r = e.post(f"{e.url}/return", {"person": f"{e.run}:{insured}", "left_on": "2999-01-01"})
    assert r.status_code == 400 and "未来の日付です" in r.text and "理由を選んでください" in r.text
    assert 'id="error-summary"' in r.text
    first = next_audit_id(desk.engine)
    landing = e.follow(
        e.post(
            f"{e.url}/return",
            {"person": f"{e.run}:{insured}", "left_on": "R6.10.31", "left_reason": "retired"},
        )
    )
    assert "返戻（2通）を届け出ました" in landing
    assert "保険者へ返送してください" in landing  # awaiting the envelope
    with desk.engine.connect() as conn:
        rows = conn.execute(
            select(
                envelope_returns.c.person_id,
                envelope_returns.c.left_on,
                envelope_returns.c.left_reason,
                envelope_returns.c.source,
            )
        ).all()
    assert {r.person_id for r in rows} == {insured, dependent}
    assert {(r.left_on, r.left_reason, r.source) for r in rows} == {
        (date(2024, 10, 31), "retired", "employer")
    }
    kinds = [(r.kind, r.person_id) for r in audit_since(desk.engine, first)]
    assert ("portal_return", insured) in kinds and ("portal_return", dependent) in kinds
    # the insurer's staff see it on the person's page
    staff = desk.client()
    login(staff, "op1")
    person_page = staff.get(f"/console/persons/{insured}").text
    assert "返戻" in person_page and "事業所" in person_page
    # the envelope reaches the insurer, who records it in the console: no longer awaited
    r = staff.post(
        f"/console/persons/{insured}/return",
        data={"csrf": csrf_of(person_page), "form_key": "arrived", "return_run": str(e.run),
              "reason": "left", "left_on": "2024-10-31"},
    )  # fmt: skip
    assert r.status_code == 303, r.text[:500]
    with desk.engine.connect() as conn:
        received = dict(
            conn.execute(select(envelope_returns.c.person_id, envelope_returns.c.received_at)).all()
        )
    assert received[insured] is not None and received[dependent] is None
    page = e.get(e.url).text
    assert "保険者が受領済み" in page
    r = e.post(f"{e.url}/return/undo", {"person": f"{e.run}:{insured}"})
    assert r.status_code == 400 and "保険者が封筒を受け取った後は取り消せません" in r.text
    # the next follow-up run leaves the household out
    follow = create_run(
        desk.engine, RunConfig.from_settings(desk.settings), desk.settings.output_dir,
        "follow_up", date(2024, 11, 29), date(2025, 1, 22), desk.run_id,
    )  # fmt: skip
    summary = extract_run(desk.engine, follow, desk.vault, tmp_path / "reports")
    assert summary.reported_left == 2
    with desk.engine.connect() as conn:
        targeted = set(
            conn.execute(
                select(run_targets.c.person_id).where(run_targets.c.run_id == follow)
            ).scalars()
        )
    assert not targeted & {insured, dependent}


# ------------------------------------------------------------------ where am I


def test_filter_sort_csv_and_printable_list(desk: Desk) -> None:
    e = Clerk(desk)
    insured = person_id(desk.engine, SYMBOL_A, "1")
    e.follow(e.post(f"{e.url}/handed-out", {"insured": [f"{e.run}:{insured}"]}))
    todo = e.get(e.url, show="todo").text
    assert "退職　予定 様" in todo and "協会　花子 様" not in todo
    assert 'aria-current="page">未配付' in todo
    done = e.get(e.url, show="done").text
    assert "協会　花子 様" in done and "退職　予定 様" not in done
    by_kana = e.get(e.url, sort="kana").text
    assert by_kana.index("協会　花子 様") < by_kana.index("退職　予定 様")  # キ before タ
    by_state = e.get(e.url, sort="state").text
    assert by_state.index("退職　予定 様") < by_state.index("協会　花子 様")  # 未配付 first
    r = e.get(f"{e.url}/list.csv")
    assert r.headers["content-type"].startswith("text/csv")
    assert f"R{e.run:06d}-P{e.mine:07d}-list.csv" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [(x["番号"], x["枝番"], x["状態"]) for x in rows] == [
        ("1", "00", "配付済み"),
        ("1", "01", "配付済み"),
        ("2", "00", "未配付"),
    ]
    assert rows[0]["送付"] == "2024年9月送付分" and rows[0]["配付の記録者"] == "emp_a"
    assert all(x["管理番号"].startswith(f"R{e.run:06d}-P{e.mine:07d}-") for x in rows)
    todo_csv = e.get(f"{e.url}/list.csv", show="todo").content.decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(todo_csv)))) == 1
    printed = e.get(f"{e.url}/print").text
    assert "配付一覧 2024年9月送付分" in printed and "受取（日付・サイン）" in printed
    assert printed.count("□ 未配付") == 1
    kinds = [r.kind for r in audit_since(desk.engine, 1)]
    assert "portal_export" in kinds


# ------------------------------------------------------------------ reissues


def test_reissues_are_one_mailing_with_plain_names(desk: Desk) -> None:
    staff_user = _staff(desk)
    pid = person_id(desk.engine, SYMBOL_A, "2")
    reissue = _reissue(desk, staff_user, pid)
    _reissue(desk, staff_user, person_id(desk.engine, SYMBOL_B, "1"))
    e = Clerk(desk)
    home = e.get("/portal").text
    assert "2024年9月送付分" in home and "再発行" in home
    assert home.count('href="/portal/reissues"') == 1
    assert f"/portal/parcels/{reissue}/" not in home  # not a parcel of its own beside the run
    assert "別社" not in home
    page = e.get("/portal/reissues").text
    assert "退職　予定 様" in page and "別社" not in page
    landing = e.follow(e.post("/portal/reissues/handed-out", {"insured": [f"{reissue}:{pid}"]}))
    assert "1世帯（1通）を配付済みにしました" in landing
    with desk.engine.connect() as conn:
        assert set(conn.execute(select(hand_outs.c.run_id, hand_outs.c.person_id)).all()) == {
            (reissue, pid)
        }


def _reissue(desk: Desk, user: Any, pid: int) -> int:
    """The insurer reissues a person's notice (lost): a run of kind reissue; its id."""
    done = desk_service.request_reissue(
        desk.engine, desk.settings, desk.vault, pid, user, "lost", date(2025, 3, 3)
    )
    return int(getattr(done, "run_id", done))


def _staff(desk: Desk) -> Any:
    c = desk.client()
    login(c, "op1")
    user = session_user(desk.engine, c.cookies.get("shikaku_session"))
    assert user is not None
    return user


# ------------------------------------------------------------------ electronic delivery


def test_electronic_delivery_per_employer_from_the_import(desk: Desk, tmp_path: Path) -> None:
    """The setting is on (conftest); employer A's row says しない: A's PDFs are refused with a
    plain portal page, B's (blank: the setting) work."""
    path = write(
        tmp_path / "e2.csv",
        [*EMPLOYER_HEADER],
        [employer(SYMBOL_A, 電子交付="しない"), employer(SYMBOL_B, 事業所名="株式会社べつ会社")],
    )
    import_path(desk.engine, path, desk.vault, tmp_path)
    with desk.engine.connect() as conn:
        stored = dict(
            conn.execute(select(employers.c.symbol, employers.c.electronic_delivery)).all()
        )
    assert stored == {SYMBOL_A: False, SYMBOL_B: None}
    e = Clerk(desk)
    pid = person_id(desk.engine, SYMBOL_A, "1")
    assert "郵送でお届けしています" in e.get("/portal").text
    assert "notices.zip" not in e.get(e.url).text
    for url in (f"{e.url}/pdf", f"{e.url}/notices.zip", f"{e.url}/persons/{pid}/pdf"):
        r = e.get(url)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), url
        assert "郵送でのお届けです" in r.text and "事業所ポータル" in r.text, url
        assert "職員コンソール" not in r.text and f'href="{e.url}"' in r.text, url
    b = Clerk(desk, "emp_b")
    theirs = parcel_of(desk.engine, desk.run_id, SYMBOL_B)
    assert b.get(f"/portal/parcels/{desk.run_id}/{theirs}/notices.zip").status_code == 200
    # a value the column does not know rejects the row, naming the column
    bad = write(tmp_path / "e3.csv", [*EMPLOYER_HEADER], [employer(SYMBOL_A, 電子交付="たぶん")])
    from shikaku.registry.importer import ImportOptions, import_file

    summary = import_file(
        desk.engine, bad, desk.vault,
        ImportOptions(insurer_number="01130012", insured_branch="00",
                      report_dir=tmp_path / "reports", batch_size=500, parser_process=False),
    )  # fmt: skip
    assert summary.rejected == 1


def test_notices_as_a_zip_named_by_symbol_and_number(desk: Desk) -> None:
    e = Clerk(desk)
    first = next_audit_id(desk.engine)
    r = e.get(f"{e.url}/notices.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert f"R{e.run:06d}-P{e.mine:07d}-notices.zip" in r.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = archive.namelist()
    assert names == [
        f"{SYMBOL_A}-1-00.pdf",
        f"{SYMBOL_A}-1-01.pdf",
        f"{SYMBOL_A}-2-00.pdf",
        "一覧.csv",
    ]
    with desk.engine.connect() as conn:
        pages = {
            (n, b): last - first_page + 1
            for n, b, first_page, last in conn.execute(
                select(
                    run_targets.c.number,
                    run_targets.c.branch,
                    run_targets.c.page_first,
                    run_targets.c.page_last,
                ).where(run_targets.c.run_id == e.run, run_targets.c.partition_no == e.mine)
            )
        }
    for info in archive.infolist():
        mode = info.external_attr >> 16
        assert stat.S_IMODE(mode) == 0o600 and stat.S_ISREG(mode), info.filename
        if info.filename.endswith(".pdf"):
            _symbol, number, branch = info.filename[:-4].split("-")
            assert len(PdfReader(io.BytesIO(archive.read(info))).pages) == pages[(number, branch)]
    index = archive.read("一覧.csv").decode("utf-8-sig")
    assert "協会　正子" in index
    for number in MY_NUMBERS:  # never a My Number, in a name or in the index
        assert all(number not in n for n in names) and number not in index
    # the person's own notice alone
    pid = person_id(desk.engine, SYMBOL_A, "1", "01")
    one = e.get(f"{e.url}/persons/{pid}/pdf")
    assert one.content.startswith(b"%PDF")
    assert f"{SYMBOL_A}-1-01.pdf" in one.headers["content-disposition"]
    assert [(r.kind, r.person_id) for r in audit_since(desk.engine, first)] == [
        ("portal_download", None),
        ("portal_download", pid),
    ]


# ------------------------------------------------------------------ another employer's ids


def test_every_portal_url_refuses_another_employers_ids(desk: Desk) -> None:
    """Every GET and POST under /portal with the other employer's parcel answers 404; every
    form of one's own parcel naming the other employer's people changes nothing."""
    run = desk.run_id
    theirs = parcel_of(desk.engine, run, SYMBOL_B)
    their_person = person_id(desk.engine, SYMBOL_B, "1")
    staff_user = _staff(desk)
    their_reissue = _reissue(desk, staff_user, their_person)
    e = Clerk(desk)
    other = f"/portal/parcels/{run}/{theirs}"
    with desk.engine.connect() as conn:
        their_reissue_part = conn.execute(
            select(run_partitions.c.partition_no).where(run_partitions.c.run_id == their_reissue)
        ).scalar_one()
    before = [count(desk.engine, t) for t in (hand_outs, envelope_returns)]
    for parcel in (other, f"/portal/parcels/{their_reissue}/{their_reissue_part}"):
        for suffix in (
            "", "?show=todo&sort=kana&select=all", "/leaver", f"/leaver?person={their_person}",
            "/list.csv", "/print", "/notices.zip", "/pdf", f"/persons/{their_person}/pdf",
        ):  # fmt: skip
            r = e.get(parcel + suffix)
            assert r.status_code == 404, parcel + suffix
            assert "別社" not in r.text and "%PDF" not in r.text[:10], parcel + suffix
            assert "PK" not in r.text[:2], parcel + suffix
        for suffix, data in (
            ("/handed-out", {"insured": [f"{run}:{their_person}"]}),
            ("/handed-out", {"codes": "1"}),
            ("/undo", {"undo": f"{run}:{their_person}"}),
            ("/return", {"person": f"{run}:{their_person}", "left_on": "2024-10-31",
                         "left_reason": "retired"}),
            ("/return/undo", {"person": f"{run}:{their_person}"}),
        ):  # fmt: skip
            assert e.post(parcel + suffix, data).status_code == 404, parcel + suffix
    # one's own parcel, the other employer's people: refused, nothing changed
    mine = e.url
    for suffix, data, field in (
        ("/handed-out", {"insured": [f"{run}:{their_person}"]}, "この一覧にない方"),
        ("/handed-out", {"insured": [str(their_person)]}, "この一覧にない方"),
        ("/handed-out", {"insured": [f"{their_reissue}:{their_person}"]}, "この一覧にない方"),
        ("/undo", {"undo": f"{run}:{their_person}"}, "この一覧にない方"),
        ("/return", {"person": f"{run}:{their_person}", "left_on": "2024-10-31",
                     "left_reason": "retired"}, "返戻する方を選んでください"),
        ("/return/undo", {"person": f"{run}:{their_person}"}, "取り消す返戻がありません"),
    ):  # fmt: skip
        r = e.post(mine + suffix, data)
        assert r.status_code == 400 and field in r.text, (suffix, r.text[:300])
        assert "別社" not in r.text
    # nor through the reissue group: theirs is not in it
    assert "別社" not in e.get("/portal/reissues").text
    r = e.post("/portal/reissues/handed-out", {"insured": [f"{their_reissue}:{their_person}"]})
    assert r.status_code == 400
    assert e.get(f"{mine}/persons/{their_person}/pdf").status_code == 404
    assert e.get(f"{mine}/leaver", person=f"{run}:{their_person}").status_code == 200
    assert "別社" not in e.get(f"{mine}/leaver", person=f"{run}:{their_person}").text
    assert [count(desk.engine, t) for t in (hand_outs, envelope_returns)] == before


def test_forms_need_the_session_token(desk: Desk) -> None:
    e = Clerk(desk)
    insured = person_id(desk.engine, SYMBOL_A, "1")
    for suffix, data in (
        ("/handed-out", {"insured": [f"{e.run}:{insured}"]}),
        ("/undo", {"undo": f"{e.run}:{insured}"}),
        ("/return", {"person": f"{e.run}:{insured}", "left_on": "2024-10-31",
                     "left_reason": "retired"}),
        ("/return/undo", {"person": f"{e.run}:{insured}"}),
    ):  # fmt: skip
        for token in ("", "forged"):
            r = e.client.post(e.url + suffix, data={**data, "csrf": token, "form_key": "k"})
            assert r.status_code == 403, suffix
    assert count(desk.engine, hand_outs) == 0 and count(desk.engine, envelope_returns) == 0


@pytest.mark.parametrize("setting", [True, False])
def test_the_setting_is_the_default_of_a_blank_column(desk: Desk, setting: bool) -> None:
    object.__setattr__(
        desk.app.state.console,
        "settings",
        desk.settings.model_copy(  # type: ignore[attr-defined]
            update={
                "console": desk.settings.console.model_copy(update={"electronic_delivery": setting})
            }
        ),
    )
    e = Clerk(desk)
    assert (e.get(f"{e.url}/pdf").status_code == 200) is setting
    with desk.engine.begin() as conn:
        conn.execute(update(employers).values(electronic_delivery=not setting))
    assert (e.get(f"{e.url}/pdf").status_code == 200) is not setting
    assert csrf_of(e.get(e.url).text)


def test_pages_read_a_fixed_number_of_queries(desk: Desk) -> None:
    """No query per household or envelope: the home page and a list cost the same for a
    parcel of 3 envelopes (A) as for one of 1 (B)."""
    from sqlalchemy import event

    counts: list[int] = []

    def counted(client: Clerk, url: str) -> int:
        statements: list[str] = []

        def record(*args: Any) -> None:
            statements.append(str(args[2]))

        event.listen(desk.engine, "before_cursor_execute", record)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(desk.engine, "before_cursor_execute", record)
        return len(statements)

    a, b = Clerk(desk), Clerk(desk, "emp_b")
    theirs = f"/portal/parcels/{desk.run_id}/{parcel_of(desk.engine, desk.run_id, SYMBOL_B)}"
    for url_a, url_b in (
        ("/portal", "/portal"),
        (a.url, theirs),
        (a.url + "/print", theirs + "/print"),
    ):
        counts = [counted(a, url_a), counted(b, url_b)]
        assert counts[0] == counts[1], (url_a, counts)
        assert counts[0] <= 12, (url_a, counts)


def test_mailings_are_named_as_the_leaflet_names_them() -> None:
    from shikaku.service.portal import mailing_title

    assert mailing_title("full", date(2024, 9, 9)) == "2024年9月送付分"
    assert mailing_title("follow_up", date(2025, 1, 22)) == "追加送付（2025年1月）"
    assert mailing_title("reissue", date(2025, 3, 3)) == "再発行"
    assert mailing_title("certificates", date(2025, 12, 2)) == "資格確認書（2025年12月送付分）"
    assert mailing_title("renewals", date(2026, 6, 1)) == "資格確認書の更新（2026年6月送付分）"
