"""The console and the portal in a real browser: Debian's chromium, headless, via Playwright.

The app runs under uvicorn in a thread on a free port, on an SQLite registry. Screenshots go
to test-artifacts/console/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from shikaku.registry.tables import run_partitions
from shikaku.security.mynumber import MyNumberVault
from shikaku.web.app import create_app
from tests.console.conftest import (
    NEW_NUMBER,
    PASSWORD,
    SYMBOL_A,
    SYMBOL_B,
    console_settings,
    person_id,
    seed,
)

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "console"
# Outside CI a machine without chromium skips these; in CI (CI=true) they must run.
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (scripts/test installs it)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                break
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def site(
    sqlite_engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> Iterator[tuple[str, Engine, int]]:
    settings = console_settings(tmp_path)
    run_id = seed(sqlite_engine, vault, tmp_path, settings)
    app = create_app(settings, sqlite_engine)
    app.state.console.vault_override = vault
    with Server(app) as url:
        yield url, sqlite_engine, run_id


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield b
        b.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(browser: Any, url: str, name: str, keyboard: bool = False) -> Any:
    context = browser.new_context(locale="ja-JP", accept_downloads=True)
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
    shot(page, f"00-login-{name}")
    return page


def test_operator_finds_reissues_and_downloads(
    site: tuple[str, Engine, int], browser: Any, tmp_path: Path
) -> None:
    url, _engine, _run = site
    page = log_in(browser, url, "op1", keyboard=True)
    assert page.url.endswith("/console")
    # keyboard only: the search form's first field is reached by Tab from the menu
    page.get_by_label("フリガナ（一部でも可）").fill("ｷｮｳｶｲ")
    page.get_by_label("生年月日").fill("昭和55年1月2日")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    shot(page, "01-search")
    page.get_by_role("link", name=f"{SYMBOL_A}-1-00").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("協会　花子")
    page.get_by_role("button", name="再発行する").click()
    page.wait_for_load_state()
    assert "再発行を作成しました" in page.content()
    shot(page, "02-reissued")
    links = page.get_by_role("link", name="PDF")
    assert links.count() == 2  # the full run's notice and the reissue
    with page.expect_download() as info:
        links.nth(1).click()
    path = tmp_path / "notice.pdf"
    info.value.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    from pypdf import PdfReader

    assert len(PdfReader(path).pages) >= 1
    page.context.close()


def test_two_operators_correct_a_my_number(site: tuple[str, Engine, int], browser: Any) -> None:
    url, engine, _run = site
    pid = person_id(engine, SYMBOL_A, "1")
    first = log_in(browser, url, "op1")
    first.goto(f"{url}/console/persons/{pid}")
    assert "****9018" in first.content()
    box = first.get_by_label("正しい個人番号（12桁）")
    box.fill(NEW_NUMBER[:-1] + "3")  # a wrong check digit
    first.get_by_role("button", name="届出を記録する").click()
    assert "チェックディジット" in first.locator("#e-my_number").inner_text()
    shot(first, "03-my-number-error")
    first.get_by_label("正しい個人番号（12桁）").fill(NEW_NUMBER)
    first.get_by_role("button", name="届出を記録する").click()
    assert "別の担当者の承認を待っています" in first.content()
    first.goto(f"{url}/console/reports")
    assert "別の担当者の承認待ち" in first.content()  # the recorder cannot approve
    second = log_in(browser, url, "op2")
    second.goto(f"{url}/console/reports")
    shot(second, "04-pending-report")
    second.get_by_role("button", name="承認").first.click()
    assert "再発行しました" in second.content()
    second.goto(f"{url}/console/persons/{pid}")
    html = second.content()
    assert "****5352" in html and "承認済み" in html
    shot(second, "05-my-number-corrected")
    for p in (first, second):
        assert NEW_NUMBER not in p.content()
        p.context.close()


def test_employer_hands_out_and_reports_a_return(
    site: tuple[str, Engine, int], browser: Any
) -> None:
    url, engine, run_id = site
    page = log_in(browser, url, "emp_a")
    assert page.url.endswith("/portal")
    shot(page, "06-portal")
    page.get_by_role("link", name=f"R{run_id:06d}-P").first.click()
    page.get_by_role("button", name="協会　花子 様の世帯分を配付済みにする").click()
    assert "配付済みを記録しました" in page.content()
    page.get_by_role("button", name="返戻を記録する").click()  # nothing chosen: errors
    assert page.locator("#e-person").is_visible()
    page.get_by_label("対象者").select_option(label=f"{SYMBOL_A}-2-00 退職　予定")
    page.get_by_label("退職日").fill("令和6年10月31日")
    page.get_by_role("button", name="返戻を記録する").click()
    assert "返戻を記録しました" in page.content()
    shot(page, "07-parcel-handed-out-returned")
    with engine.connect() as conn:
        other = conn.execute(
            select(run_partitions.c.partition_no).where(
                run_partitions.c.run_id == run_id, run_partitions.c.recipient_symbol == SYMBOL_B
            )
        ).scalar_one()
    response = page.goto(f"{url}/portal/parcels/{run_id}/{other}")
    assert response is not None and response.status == 404
    assert "別社" not in page.content()
    shot(page, "08-other-employer-refused")
    response = page.goto(f"{url}/portal/parcels/{run_id}/{other}/pdf")
    assert response is not None and response.status == 404
    page.context.close()


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


def test_main_pages_work_by_keyboard(site: tuple[str, Engine, int], browser: Any) -> None:
    url, engine, run_id = site
    pid = person_id(engine, SYMBOL_A, "1")
    page = log_in(browser, url, "op1", keyboard=True)
    for path in ("/console", f"/console/persons/{pid}", "/console/reports", "/console/runs"):
        page.goto(url + path)
        _tab_through(page)
    # an action by keyboard alone: focus the reissue button by Tab, then Enter
    page.goto(f"{url}/console/persons/{pid}")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "再発行する":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "再発行を作成しました" in page.content()
    page.context.close()
    page = log_in(browser, url, "emp_a", keyboard=True)
    _tab_through(page)
    page.get_by_role("link", name=f"R{run_id:06d}-P").first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _tab_through(page)
    shot(page, "09-keyboard-parcel")
    page.context.close()
