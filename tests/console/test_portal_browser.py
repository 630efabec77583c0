"""The employer portal in a real browser (Debian's chromium, headless, via Playwright), as the
HR clerk of a 事業所 with 44 envelopes (28 households) uses it: on a desk (1280 px) and on a
phone (390 px). One registry and one browser for the module; the app under uvicorn in a
thread on SQLite. Screenshots of every portal page at both widths go to
test-artifacts/console/portal-*.png (git-ignored) for a person to look at."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from shikaku.issuance.engine import InlineEngine
from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.runs import create_run, execute, extract_run
from shikaku.registry.db import make_engine
from shikaku.registry.tables import envelope_returns, hand_outs, run_partitions
from shikaku.security.mynumber import MyNumberVault
from shikaku.service import desk
from shikaku.service.accounts import add_user, login
from shikaku.web.app import create_app
from tests.conftest import FIXED_KEY
from tests.console.conftest import (
    PASSWORD,
    SYMBOL_A,
    SYMBOL_B,
    Server,
    console_settings,
    person_id,
)
from tests.console.test_browser import ARTIFACTS, CHROMIUM, _tab_through
from tests.issuance.helpers import import_path
from tests.registry.helpers import EMPLOYER_HEADER, MEMBER_HEADER, employer, member, write

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not __import__("os").environ.get("CI"),
    reason="Debian's chromium is not installed (scripts/test installs it)",
)

FAMILIES = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
    ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
    ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
    ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"),
    ("阿部", "アベ"), ("石川", "イシカワ"), ("長谷川", "ハセガワ"), ("中島", "ナカジマ"),
]  # fmt: skip
GIVEN = [("太郎", "タロウ"), ("花子", "ハナコ"), ("健一", "ケンイチ"), ("美咲", "ミサキ"),
         ("翔太", "ショウタ"), ("麻衣子", "マイコ"), ("大輔", "ダイスケ")]  # fmt: skip
DEPENDENT = ("陽菜", "ヒナ")
HOUSEHOLDS, WITH_DEPENDENT = 28, 16  # 28 + 16 = 44 envelopes
ENVELOPES = HOUSEHOLDS + WITH_DEPENDENT
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}


@dataclass
class Site:
    url: str
    engine: Engine
    run_id: int
    partition: int
    reissue_run: int


def _members() -> list[dict[str, str]]:
    rows = []
    for i, (family, family_kana) in enumerate(FAMILIES):
        given, given_kana = GIVEN[i % len(GIVEN)]
        number = str(i + 1)
        rows.append(
            member(number, 氏名=f"{family}　{given}", 氏名カナ=f"{family_kana}　{given_kana}",
                   生年月日=f"19{60 + i}-04-0{1 + i % 9}")
        )  # fmt: skip
        if i < WITH_DEPENDENT:
            rows.append(
                member(number, "01", 氏名=f"{family}　{DEPENDENT[0]}",
                       氏名カナ=f"{family_kana}　{DEPENDENT[1]}")
            )  # fmt: skip
    rows.append(member("1", 記号=SYMBOL_B, 氏名="別社　太郎", 氏名カナ="ベッシャ　タロウ"))
    return rows


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Site]:
    """44 envelopes for employer A (electronic delivery by the setting), one for B (電子交付
    しない), a full run, one reissue for A; users emp_a, emp_b and op1."""
    tmp = tmp_path_factory.mktemp("portal")
    db = tmp / "registry.db"
    db.write_bytes(sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{db}")
    vault = MyNumberVault(FIXED_KEY)
    settings = console_settings(tmp)
    emp = write(
        tmp / "e.csv",
        EMPLOYER_HEADER,
        [employer(SYMBOL_A), employer(SYMBOL_B, 事業所名="株式会社べつ会社", 電子交付="しない")],
    )
    import_path(engine, emp, vault, tmp)
    import_path(engine, write(tmp / "m.csv", MEMBER_HEADER, _members()), vault, tmp)
    run_id = create_run(
        engine, RunConfig.from_settings(settings), settings.output_dir, "full",
        date(2024, 6, 7), date(2024, 9, 9),
    )  # fmt: skip
    extract_run(engine, run_id, vault, settings.issuance.report_dir)
    execute(engine, run_id, InlineEngine(), task_notices=100)
    for name, role, symbol in [
        ("op1", "operator", None),
        ("emp_a", "employer", SYMBOL_A),
        ("emp_b", "employer", SYMBOL_B),
    ]:
        add_user(engine, name, PASSWORD, role, symbol)
    with engine.connect() as conn:
        partition = conn.execute(
            select(run_partitions.c.partition_no).where(
                run_partitions.c.run_id == run_id, run_partitions.c.recipient_symbol == SYMBOL_A
            )
        ).scalar_one()
    app = create_app(settings, engine)
    app.state.console.vault_override = vault
    with Server(app) as url:
        op = _user(engine, "op1")
        done = desk.request_reissue(
            engine, settings, vault, person_id(engine, SYMBOL_A, "28"), op, "lost",
            date(2025, 3, 3),
        )  # fmt: skip
        yield Site(url, engine, run_id, partition, int(getattr(done, "run_id", done)))
    engine.dispose()


def _user(engine: Engine, name: str) -> Any:
    found = login(engine, name, PASSWORD, "test", 100, 15, 60)
    assert found is not None
    return found[0]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield b
        b.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}-{width}.png"), full_page=True)


def log_in(browser: Any, site: Site, name: str, viewport: dict[str, int]) -> Any:
    context = browser.new_context(locale="ja-JP", accept_downloads=True, viewport=viewport)
    page = context.new_page()
    page.goto(f"{site.url}/console/login")
    page.get_by_label("ログイン名").fill(name)
    page.get_by_label("パスワード").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="ログイン").click()
    return page


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# What a phone must not do: scroll sideways (the page or a box in it), or squeeze a cell or a button narrower than its
# longest word (a name broken one character per line). Words are split at spaces and where
# Japanese lines break between phrases (before an opening bracket, after a closing one or
# 、。・); each text is measured in its own font; cells of a header that is hidden (a table shown as cards) are
# not on screen and are skipped.
_LAYOUT = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  const bad = [];
  const sideways = document.documentElement.scrollWidth - window.innerWidth;
  for (const el of document.querySelectorAll('main td, main th, main button, main a.button')) {
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1 || el.closest('.sr, thead[hidden]')) continue;
    if (el.closest('thead') && el.closest('thead').getBoundingClientRect().height <= 1) continue;
    const style = getComputedStyle(el);
    const inner = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    let longest = 0, word = '';
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const parent = n.parentElement;
      if (parent.closest('.sr') || parent.getBoundingClientRect().width <= 1) continue;
      ctx.font = getComputedStyle(parent).font;
      for (const w of n.textContent.split(/[\\s\\u3000]+|(?=[（「(])|(?<=[）」)、。・])/)) {
        const width = w ? ctx.measureText(w).width : 0;
        if (width > longest) { longest = width; word = w; }
      }
    }
    if (inner + 1 < longest) bad.push(`${el.tagName} "${word}" ${Math.round(longest)}px in ${Math.round(inner)}px`);
  }
  for (const el of document.querySelectorAll('main *')) {  // nor a box scrolling sideways
    const x = getComputedStyle(el).overflowX;
    if ((x === 'auto' || x === 'scroll') && el.scrollWidth > el.clientWidth + 1)
      bad.push(`${el.tagName}.${el.className} scrolls sideways`);
  }
  const short = [...document.querySelectorAll('main button, main a.button')]
    .filter(b => b.getBoundingClientRect().height > 1 && b.getBoundingClientRect().height < 44)
    .map(b => `${b.textContent.trim()} ${Math.round(b.getBoundingClientRect().height)}px`);
  return {sideways, bad, short};
}"""


def check_layout(page: Any, phone: bool) -> None:
    found = page.evaluate(_LAYOUT)
    assert found["sideways"] <= 0, (page.url, found["sideways"])
    assert not found["bad"], (page.url, found["bad"])
    if phone:
        assert not found["short"], (page.url, found["short"])


def visit(page: Any, name: str, phone: bool = False) -> None:
    check_layout(page, phone)
    shot(page, name)


# ------------------------------------------------------------------ the clerk's job


def test_a_clerk_hands_out_44_envelopes(site: Site, browser: Any, tmp_path: Path) -> None:
    """Hand out the whole parcel in at most three page loads, undo one, filter 未配付, export
    the CSV and compare it, report a leaver from the list."""
    page = log_in(browser, site, "emp_a", DESK)
    assert page.url.endswith("/portal")
    assert "すべての送付の合計" in page.content()
    visit(page, "flow-home")
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    page.get_by_role("link", name="2024年9月送付分").click()  # load 1: the list
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "2024年9月送付分の配付一覧"
    visit(page, "flow-parcel")
    page.get_by_role("link", name=f"表示中の未配付をすべて選ぶ（{HOUSEHOLDS}世帯）").click()  # 2
    page.wait_for_load_state()
    assert page.locator("input[name=insured]:checked").count() == HOUSEHOLDS
    visit(page, "flow-parcel-selected")
    page.get_by_role("button", name="印を付けた方を配付済みにする").first.click()  # 3: done
    page.wait_for_load_state()
    assert len(loads) <= 3, loads
    assert (
        f"{HOUSEHOLDS}世帯（{ENVELOPES}通）を配付済みにしました"
        in page.locator("#result").inner_text()
    )
    assert count(site.engine, hand_outs) == HOUSEHOLDS
    visit(page, "flow-parcel-all-handed-out")

    # undo one household (佐藤 has a dependent: 2 envelopes back to 未配付)
    page.get_by_role("button", name="佐藤　太郎 様の配付済みを取り消す").click()
    page.wait_for_load_state()
    assert "配付済みを取り消しました" in page.locator("#result").inner_text()
    assert count(site.engine, hand_outs) == HOUSEHOLDS - 1

    # 未配付 only: the household undone, nobody else
    filters = page.get_by_role("navigation", name="表示する方")
    filters.get_by_role("link", name="未配付").click()
    page.wait_for_load_state()
    shown = page.locator("table.households tbody th.who label").all_inner_texts()
    assert shown == ["佐藤　太郎 様"]
    visit(page, "flow-parcel-todo")

    # the CSV of what is shown, then of everything: read back and compared
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV（Excel 用）").click()
    rows = _csv(info.value, tmp_path / "todo.csv")
    assert [(r["被保険者氏名"], r["対象者氏名"], r["状態"]) for r in rows] == [
        ("佐藤　太郎", "佐藤　太郎", "未配付"),
        ("佐藤　太郎", "佐藤　陽菜", "未配付"),
    ]
    page.get_by_role("navigation", name="表示する方").get_by_role("link", name="すべて").click()
    page.wait_for_load_state()
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV（Excel 用）").click()
    rows = _csv(info.value, tmp_path / "all.csv")
    assert len(rows) == ENVELOPES
    states = [r["状態"] for r in rows]
    assert states.count("配付済み") == ENVELOPES - 2 and states.count("未配付") == 2
    on_page = page.locator(".progress-box .counts dd").all_inner_texts()
    assert on_page == [f"{ENVELOPES - 2}通", "2通", "0通", f"{ENVELOPES}通"]
    assert {r["被保険者氏名"] for r in rows} == {
        f"{f}　{GIVEN[i % 7][0]}" for i, (f, _k) in enumerate(FAMILIES)
    }

    # report the undone household's insured person as a leaver, from the list
    page.get_by_role("link", name="佐藤　太郎 様の世帯の返戻を届け出る").click()
    page.wait_for_load_state()
    assert "ご家族の封筒（1通）も一緒に返送します" in page.content()
    visit(page, "flow-leaver")
    page.get_by_role("button", name="返戻を届け出る").click()  # no date, no reason
    page.wait_for_load_state()
    assert page.locator("#error-summary").is_visible()
    visit(page, "flow-leaver-errors")
    page.get_by_label("退職日（扶養から外れた日など）").fill("令和6年10月31日")
    page.get_by_label("退職", exact=True).check()
    page.get_by_role("button", name="返戻を届け出る").click()
    page.wait_for_load_state()
    assert "返戻（2通）を届け出ました" in page.locator("#result").inner_text()
    assert count(site.engine, envelope_returns) == 2
    assert page.locator(".progress-box .counts dd").all_inner_texts()[2] == "2通"
    visit(page, "flow-parcel-returned")
    page.context.close()


def _csv(download: Any, path: Path) -> list[dict[str, str]]:
    download.save_as(path)
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def test_the_other_pages_and_a_phone(site: Site, browser: Any, tmp_path: Path) -> None:
    """Every portal page at 1280 and 390 px: no sideways scroll, no squeezed word, buttons of
    44 px on a phone; the printable list fits A4; the keyboard reaches every control."""
    parcel = f"{site.url}/portal/parcels/{site.run_id}/{site.partition}"
    with site.engine.connect() as conn:
        other = conn.execute(
            select(run_partitions.c.partition_no).where(
                run_partitions.c.run_id == site.run_id,
                run_partitions.c.recipient_symbol == SYMBOL_B,
            )
        ).scalar_one()
    pid = person_id(site.engine, SYMBOL_A, "2")
    pages = [
        ("home", "/portal"),
        ("parcel", parcel),
        ("parcel-selected", f"{parcel}?select=all"),
        ("parcel-todo", f"{parcel}?show=todo&sort=kana"),
        ("leaver", f"{parcel}/leaver?person={site.run_id}:{pid}"),
        ("print", f"{parcel}/print"),
        ("reissues", "/portal/reissues"),
        ("not-found", f"/portal/parcels/{site.run_id}/{other}"),
    ]
    for viewport, phone in ((DESK, False), (PHONE, True)):
        page = log_in(browser, site, "emp_a", viewport)
        for name, path in pages:
            response = page.goto(path if path.startswith("http") else site.url + path)
            assert response is not None
            assert response.status == (404 if name == "not-found" else 200), path
            assert "職員コンソール" not in page.content(), path
            visit(page, name, phone)
        # an action: the reissued envelope handed out (desk), then undone (phone)
        page.goto(f"{site.url}/portal/reissues")
        boxes = page.locator("input[name=insured]")
        if boxes.count():
            boxes.first.check()
            page.get_by_role("button", name="印を付けた方を配付済みにする").first.click()
        else:
            page.get_by_role("button", name="配付済みを取り消す").first.click()
        page.wait_for_load_state()
        assert page.locator("#result").is_visible()
        visit(page, "reissues-result", phone)
        page.context.close()
    # the clerk of B, whose parcels are mailed only: said plainly, in the portal
    for viewport, phone in ((DESK, False), (PHONE, True)):
        page = log_in(browser, site, "emp_b", viewport)
        visit(page, "home-mailed", phone)
        response = page.goto(f"{site.url}/portal/parcels/{site.run_id}/{other}/pdf")
        assert response is not None and response.status == 404
        assert "郵送でのお届けです" in page.content() and "事業所ポータル" in page.content()
        visit(page, "mailed-only", phone)
        page.context.close()
    # the printable list on A4
    page = log_in(browser, site, "emp_a", DESK)
    page.goto(f"{parcel}/print")
    page.emulate_media(media="print")
    pdf = tmp_path / "list.pdf"
    page.pdf(path=str(pdf), format="A4")
    from pypdf import PdfReader

    pages_printed = len(PdfReader(pdf).pages)
    assert 1 <= pages_printed <= 3, pages_printed
    shot(page, "print-as-printed")
    # the keyboard reaches every control of the home page and the list, each focus visible
    page.emulate_media(media="screen")
    for path in ("/portal", f"{parcel}?show=todo"):
        page.goto(path if path.startswith("http") else site.url + path)
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        _tab_through(page)
    page.context.close()
