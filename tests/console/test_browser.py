"""The staff console in a real browser: Debian's chromium, headless, via Playwright.

Each role's day, in order, on one seeded SQLite registry and one browser for the module: an
operator finds a member by a spaceless name, reissues with confirmation, sees the result at
the top and cannot submit twice; a second operator approves a My Number report with a reason
and the decision stays visible; an admin adds a user and starts and verifies a follow-up run;
an auditor finds who viewed a person and exports it. Every staff page is saved at 1280 px and
390 px to test-artifacts/console/ (git-ignored) for a person to look at.
The employer portal's pages: tests/console/test_portal_browser.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from shikaku.registry.db import make_engine
from shikaku.registry.tables import persons, reissue_requests, runs
from shikaku.security.mynumber import MyNumberVault
from shikaku.web.app import create_app
from tests.conftest import FIXED_KEY
from tests.console.conftest import (
    NEW_NUMBER,
    PASSWORD,
    SYMBOL_A,
    SYMBOL_B,
    Server,
    console_settings,
    person_id,
    seed,
)

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "console"
UNPRINTABLE = "\U0002b820"  # in no font the notices embed: the reissue is held
# Outside CI a machine without chromium skips these; in CI (CI=true) they must run.
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (scripts/test installs it)",
)
WIDE, NARROW = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


@dataclass
class Site:
    url: str
    engine: Engine
    run_id: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Site]:
    """One registry (two employers, a finished full run, users of each role) and one server
    for the whole module: the tests are one day, in order."""
    tmp_path = tmp_path_factory.mktemp("browser")
    path = tmp_path / "registry.db"
    path.write_bytes(sqlite_template.read_bytes())
    engine = make_engine(f"sqlite:///{path}")
    vault = MyNumberVault(FIXED_KEY)
    settings = console_settings(tmp_path)
    run_id = seed(engine, vault, tmp_path, settings)
    app = create_app(settings, engine)
    app.state.console.vault_override = vault
    with Server(app) as url:
        yield Site(url, engine, run_id)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield b
        b.close()


def shots(page: Any, name: str) -> None:
    """The page as it is, at a desk (1280 px) and on a phone (390 px), where it must not
    scroll sideways (a wide table scrolls inside its own box, if at all)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for size, suffix in ((WIDE, "1280"), (NARROW, "390")):
        page.set_viewport_size(size)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{suffix}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name}: {width} px wide at {size['width']} px"
    page.set_viewport_size(WIDE)


def log_in(browser: Any, url: str, name: str, keyboard: bool = False) -> Any:
    context = browser.new_context(locale="ja-JP", accept_downloads=True, viewport=WIDE)
    page = context.new_page()
    page.goto(f"{url}/console/login")
    if keyboard:  # skip link, then the two fields, then Enter: no mouse
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "本文へ移動"
        page.keyboard.press("Tab")
        page.keyboard.type(name)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")
    else:
        page.get_by_label("ログイン名").fill(name)
        page.get_by_label("パスワード").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="ログイン").click()
    return page


def focused_id(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id"))


def result_text(page: Any) -> str:
    """The result at the top of the page, which must have the focus."""
    assert focused_id(page) == "result", page.url
    return str(page.locator("#result").inner_text())


def count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


# ------------------------------------------------------------------ an operator


def test_operator_finds_by_spaceless_name_and_reissues_once(site: Site, browser: Any) -> None:
    url, engine = site.url, site.engine
    pid = person_id(engine, SYMBOL_A, "1")
    login = browser.new_context(locale="ja-JP", viewport=WIDE).new_page()
    login.goto(f"{url}/console/login")
    shots(login, "00-login")
    login.context.close()
    page = log_in(browser, url, "op1", keyboard=True)
    assert page.url.endswith("/console")
    shots(page, "01-search-empty")
    page.get_by_label("氏名またはフリガナ").fill("協会花子")  # no space, as people type it
    with page.expect_navigation():
        page.keyboard.press("Enter")
    table = page.locator("table.results")
    assert table.locator("tbody tr").count() == 1
    row = table.locator("tbody tr").first.inner_text()
    assert "資格あり" in row and "昭和55年1月2日" in row and "1件" in page.content()
    shots(page, "02-search-results")
    page.get_by_label("氏名またはフリガナ").fill("きょうかい")
    page.get_by_label("生年月日").fill("昭55.1.2")
    with page.expect_navigation():
        page.get_by_role("button", name="検索").click()
    with page.expect_navigation():
        page.get_by_role("link", name=f"{SYMBOL_A}-1-00").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("協会　花子")
    assert "資格あり" in page.locator("#status").inner_text()
    shots(page, "03-person")
    with page.expect_navigation():
        page.get_by_role("link", name="お知らせを再発行する…").click()
    assert "お知らせを再発行" in page.get_by_role("heading", level=1).inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="再発行する").click()  # no reason yet
    assert focused_id(page) == "error-summary"
    assert "再発行の理由を選んでください" in page.locator("#error-summary").inner_text()
    assert page.locator("#e-reason").is_visible()
    shots(page, "04-reissue-confirm-error")
    page.get_by_label("紛失").check()
    page.get_by_label("メモ（「その他」のときは必須）").fill("財布ごと紛失")
    shots(page, "05-reissue-confirm")
    before = count(engine, reissue_requests)
    page.get_by_role("button", name="再発行する").dblclick()  # a double click
    page.wait_for_url(f"{url}/console/persons/{pid}")
    page.wait_for_load_state()
    assert "再発行しました" in result_text(page)
    time.sleep(0.5)  # let a second request, if any, finish
    assert count(engine, reissue_requests) == before + 1  # once, not twice
    shots(page, "06-reissued")
    # the document opens in the browser's viewer (inline), or can be saved
    link = page.get_by_role("link", name=f"R{site.run_id:06d} の PDF を表示")
    response = page.context.request.get(url + str(link.get_attribute("href")))
    assert response.headers["content-disposition"].startswith("inline")
    assert response.body().startswith(b"%PDF")
    # a form's URL in the address bar, and a page that does not exist: HTML with the menu
    page.goto(f"{url}/console/persons/{pid}/my-number")
    assert page.url.endswith(f"/console/persons/{pid}")
    response = page.goto(f"{url}/console/persons/{pid}/nothing-here")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    assert page.get_by_role("navigation", name="メインメニュー").is_visible()
    shots(page, "07-not-found")
    page.context.close()


# ------------------------------------------------------------------ a second operator


def test_second_operator_approves_with_a_reason_and_it_stays_visible(
    site: Site, browser: Any
) -> None:
    url, engine = site.url, site.engine
    pid = person_id(engine, SYMBOL_A, "1")
    first = log_in(browser, url, "op1")
    first.goto(f"{url}/console/persons/{pid}")
    assert "****9018" in first.content()
    first.get_by_label("正しい個人番号（12桁）").fill(NEW_NUMBER[:-1] + "3")  # a wrong check digit
    with first.expect_navigation():
        first.get_by_role("button", name="届出を記録する").click()
    assert focused_id(first) == "error-summary"
    assert "チェックディジット" in first.locator("#e-my_number").inner_text()
    shots(first, "08-my-number-error")
    first.get_by_label("正しい個人番号（12桁）").fill(NEW_NUMBER)
    with first.expect_navigation():
        first.get_by_role("button", name="届出を記録する").click()
    assert "別の担当者の承認を待っています" in result_text(first)
    first.goto(f"{url}/console/reports")
    assert "別の担当者の承認待ち" in first.content()  # the recorder cannot decide
    second = log_in(browser, url, "op2")
    second.goto(f"{url}/console/reports")
    shots(second, "09-reports-pending")
    with second.expect_navigation():
        second.get_by_role("link", name="判断する").first.click()
    second.get_by_label("承認する").check()
    with second.expect_navigation():
        second.get_by_role("button", name="判断を確定する").click()  # no reason: refused
    assert "理由を入力してください" in second.locator("#error-summary").inner_text()
    second.get_by_label("理由").fill("通知カードの写しと一致")
    shots(second, "10-decision")
    with second.expect_navigation():
        second.get_by_role("button", name="判断を確定する").click()
    assert "承認しました" in result_text(second)
    decided = second.locator("section", has=second.locator("#decided-h")).inner_text()
    assert "承認" in decided and "op2" in decided and "通知カードの写しと一致" in decided
    shots(second, "11-reports-decided")
    second.goto(f"{url}/console/persons/{pid}")
    html = second.content()
    assert "****5352" in html and "承認: op2" in html
    shots(second, "12-person-corrected")
    for p in (first, second):
        assert NEW_NUMBER not in p.content()
        p.context.close()


# ------------------------------------------------------------------ an admin


def test_admin_adds_a_user_and_starts_and_verifies_a_follow_up(site: Site, browser: Any) -> None:
    url, engine = site.url, site.engine
    page = log_in(browser, url, "admin")
    page.goto(f"{url}/console/users")
    shots(page, "13-users")
    form = page.locator("form", has=page.locator("#add-h"))
    form.get_by_label("ログイン名").fill("op3")
    form.locator("#f-role").select_option("operator")
    form.get_by_label("初期パスワード").fill("a long first password")
    with page.expect_navigation():
        form.get_by_role("button", name="追加する").click()
    assert "op3（担当者）を追加しました" in result_text(page)
    shots(page, "14-user")
    # someone's name changed since the full run: the follow-up prints their notice again
    renamed = person_id(engine, SYMBOL_A, "2")
    with engine.begin() as conn:
        conn.execute(
            persons.update()
            .where(persons.c.id == renamed)
            .values(name="新姓　予定", name_kana="シンセイ　ヨテイ")
        )
    page.goto(f"{url}/console/runs")
    shots(page, "15-runs")
    page.get_by_label("追加発行（お知らせ）").check()
    page.get_by_label("先行する実行（追加発行のとき）").select_option(str(site.run_id))
    page.get_by_label("基準日（追加発行は締切日）").fill("令和6年11月29日")
    with page.expect_navigation():
        page.get_by_role("button", name="実行を始める").click()
    assert "開始しました" in result_text(page)
    follow_up = int(page.url.rsplit("/", 1)[1])
    _until(page, "照合する")
    with page.expect_navigation():
        page.get_by_role("button", name="照合する").click()
    _until(page, "照合OK")
    shots(page, "16-run-verified")
    with engine.connect() as conn:
        status, targets = conn.execute(
            select(runs.c.status, runs.c.targets).where(runs.c.id == follow_up)
        ).one()
    assert (status, targets) == ("done", 1)
    # a notice held for a character the fonts lack: the glyph report draws it, links the person
    held = person_id(engine, SYMBOL_B, "1")
    with engine.begin() as conn:
        conn.execute(
            persons.update().where(persons.c.id == held).values(name=f"{UNPRINTABLE}　太郎")
        )
    page.goto(f"{url}/console/persons/{held}/reissue")
    page.get_by_label("汚損・破損").check()
    with page.expect_navigation():
        page.get_by_role("button", name="再発行する").click()
    text = result_text(page)
    assert "保留しました" in text and "U+2B820" in text
    shots(page, "17-reissue-held")
    page.goto(f"{url}/console/runs?kind=reissue")
    shots(page, "18-runs-reissues")
    with page.expect_navigation():
        page.get_by_role("link", name="R0", exact=False).first.click()
    assert "完了（印刷した書類なし）" in page.content()
    assert page.locator(".glyph-cell").first.inner_text() == UNPRINTABLE
    shots(page, "19-run-glyphs")
    page.goto(f"{url}/console/anomalies")
    shots(page, "20-anomalies")
    page.context.close()
    op3 = browser.new_context(locale="ja-JP", viewport=WIDE).new_page()
    op3.goto(f"{url}/console/login")
    op3.get_by_label("ログイン名").fill("op3")
    op3.get_by_label("パスワード").fill("a long first password")
    with op3.expect_navigation():
        op3.get_by_role("button", name="ログイン").click()
    assert op3.url.endswith("/console")
    op3.context.close()


def _until(page: Any, text: str, seconds: float = 120) -> None:
    """The run page refreshes itself while work goes on; wait for `text`."""
    deadline = time.monotonic() + seconds
    while text not in page.content():
        assert time.monotonic() < deadline, f"{text!r} never appeared on {page.url}"
        time.sleep(0.5)
        page.reload()


# ------------------------------------------------------------------ an auditor


def test_auditor_finds_who_viewed_a_person_and_exports_it(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    url = site.url
    page = log_in(browser, url, "audit")
    page.goto(f"{url}/console/audit")
    shots(page, "21-audit-empty")
    page.get_by_label("加入者（記号-番号-枝番）").fill(f"{SYMBOL_A}-1-00")
    with page.expect_navigation():
        page.get_by_role("button", name="表示する").click()
    rows = page.locator("tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert any("op1" in t and "閲覧" in t for t in texts)
    assert any("op1" in t and "お知らせの再発行" in t for t in texts)
    assert any("op2" in t and "個人番号の届出の判断" in t for t in texts)
    shots(page, "22-audit-person")
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV で保存").click()
    path = tmp_path / "audit.csv"
    info.value.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    assert text.startswith("日時（日本時間）") and "op1" in text and "閲覧" in text
    page.context.close()


# ------------------------------------------------------------------ the keyboard alone

# Every control a keyboard can reach, and whether each form field has a label.
_CONTROLS = """() => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea')]
  .filter(e => !e.disabled && e.offsetParent !== null)
  // a radio group is one Tab stop (arrow keys move within it): keep its first button
  .filter(e => e.type !== 'radio'
    || document.querySelector(`input[type=radio][name="${e.name}"]`) === e)
  .map(e => ({id: e.outerHTML.slice(0, 80),
              field: ['INPUT', 'SELECT', 'TEXTAREA'].includes(e.tagName),
              labelled: (e.labels && e.labels.length > 0) || !!e.getAttribute('aria-label')}))"""
_FOCUSED = """() => { const e = document.activeElement; const s = getComputedStyle(e);
  return {id: e.outerHTML.slice(0, 80), body: e === document.body,
          visible: s.outlineStyle !== 'none' || s.boxShadow !== 'none'}; }"""


def _tab_through(page: Any) -> None:
    """Tab reaches every link, button and field of the page, each with a visible focus, and
    every field has a label."""
    controls = page.evaluate(_CONTROLS)
    assert controls, page.url
    assert all(c["labelled"] for c in controls if c["field"]), [
        c["id"] for c in controls if c["field"] and not c["labelled"]
    ]
    page.evaluate("document.activeElement && document.activeElement.blur()")
    reached: set[str] = set()
    for _ in range(len(controls) + 3):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused["body"]:  # past the last control
            continue
        assert focused["visible"], focused["id"]
        reached.add(focused["id"])
    missing = [c["id"] for c in controls if c["id"] not in reached]
    assert not missing, (page.url, missing)


def test_main_pages_work_by_keyboard(site: Site, browser: Any) -> None:
    url, engine = site.url, site.engine
    pid = person_id(engine, SYMBOL_A, "1", "01")
    page = log_in(browser, url, "op1", keyboard=True)
    for path in (
        "/console?search=1&name=キョウカイ",
        f"/console/persons/{pid}",
        f"/console/persons/{pid}/reissue",
        "/console/reports",
        "/console/runs",
    ):
        page.goto(url + path)
        _tab_through(page)
    # an action by keyboard alone: Tab to the link, Enter, a reason by keyboard, Enter
    page.goto(f"{url}/console/persons/{pid}")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()").startswith(
            "お知らせを再発行"
        ):
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.get_by_label("届いていない").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="再発行する").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "再発行しました" in result_text(page)
    page.context.close()
    admin = log_in(browser, url, "admin", keyboard=True)
    for path in (
        "/console/users",
        "/console/audit?person=" + str(pid),
        f"/console/runs/{site.run_id}",
    ):
        admin.goto(url + path)
        _tab_through(admin)
    admin.context.close()


def test_no_page_is_json(site: Site, browser: Any) -> None:
    """Whatever a browser is sent to under /console, it gets HTML."""
    page = log_in(browser, site.url, "op1")
    for path in ("/console/persons/abc", "/console/reports/99999", "/console/runs/0",
                 "/console/static/nothing.css", "/console/users/1"):  # fmt: skip
        response = page.goto(site.url + path)
        assert response is not None and response.status in (403, 404), path
        assert response.headers["content-type"].startswith("text/html"), path
    page.context.close()
