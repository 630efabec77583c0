"""A registry with two employers, a finished full run, console users, and the app in-process."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from shikaku.issuance.engine import InlineEngine
from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.runs import create_run, execute, extract_run
from shikaku.registry.tables import employers, persons
from shikaku.security.mynumber import MyNumberVault
from shikaku.service.accounts import add_user
from shikaku.settings import Settings, load_settings
from shikaku.web.app import create_app
from tests.issuance.helpers import import_path
from tests.registry.helpers import (
    EMPLOYER_HEADER,
    MEMBER_HEADER,
    MY_NUMBERS,
    employer,
    member,
    write,
)

PASSWORD = "correct horse battery"
SYMBOL_A, SYMBOL_B = "01234567", "07654321"
NEW_NUMBER = MY_NUMBERS[4]  # 314159265352


def console_settings(tmp_path: Path, **console: object) -> Settings:
    return load_settings(
        {},
        {
            "output_dir": str(tmp_path / "out"),
            "issuance": {"report_dir": str(tmp_path / "reports"), "engine": "inline"},
            "console": {"secure_cookies": False, "electronic_delivery": True, **console},
        },
    )


def seed(engine: Engine, vault: MyNumberVault, tmp_path: Path, settings: Settings) -> int:
    """Two employers (A: a household and a leaver-to-be; B: one person), a done full run."""
    emp = write(
        tmp_path / "e.csv",
        EMPLOYER_HEADER,
        [employer(SYMBOL_A), employer(SYMBOL_B, 事業所名="株式会社べつ会社")],
    )
    rows = [
        member("1", 個人番号=MY_NUMBERS[0]),
        member("1", "01"),
        member("2", 氏名="退職　予定", 氏名カナ="タイショク　ヨテイ", 生年月日="1975-05-06"),
        member("1", 記号=SYMBOL_B, 氏名="別社　太郎", 氏名カナ="ベッシャ　タロウ", 性別="1"),
    ]
    mem = write(tmp_path / "m.csv", MEMBER_HEADER, rows)
    import_path(engine, emp, vault, tmp_path)
    import_path(engine, mem, vault, tmp_path)
    run_id = create_run(
        engine, RunConfig.from_settings(settings), settings.output_dir, "full",
        date(2024, 6, 7), date(2024, 9, 9),
    )  # fmt: skip
    extract_run(engine, run_id, vault, settings.issuance.report_dir)
    execute(engine, run_id, InlineEngine(), task_notices=100)
    with engine.begin() as conn:
        ids = dict(conn.execute(select(employers.c.symbol, employers.c.id)).all())
    for name, role, sym in [
        ("admin", "admin", None),
        ("op1", "operator", None),
        ("op2", "operator", None),
        ("audit", "auditor", None),
        ("emp_a", "employer", SYMBOL_A),
        ("emp_b", "employer", SYMBOL_B),
    ]:
        add_user(engine, name, PASSWORD, role, sym)
    assert ids
    return run_id


def person_id(engine: Engine, symbol: str, number: str, branch: str = "00") -> int:
    p = persons.c
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(p.id).where(p.symbol == symbol, p.number == number, p.branch == branch)
            ).scalar_one()
        )


CSRF = re.compile(r'name="csrf" value="([^"]+)"')
FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')


def form(csrf: str, **fields: str) -> dict[str, str]:
    """A form's fields as the page sends them: the CSRF token and a fresh idempotency key
    (as each page renders a new one)."""
    import secrets

    return {"csrf": csrf, "form_key": secrets.token_urlsafe(16), **fields}


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field"
    return found.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in; the session's CSRF token (from the next page)."""
    page = client.get("/console/login")
    r = client.post(
        "/console/login",
        data={"name": name, "password": password, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    landing = client.get(r.headers["location"])
    assert landing.status_code == 200
    return csrf_of(landing.text)


@dataclass
class Desk:
    engine: Engine
    settings: Settings
    vault: MyNumberVault
    run_id: int
    app: object

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)  # type: ignore[arg-type]


@pytest.fixture
def desk(engine: Engine, vault: MyNumberVault, tmp_path: Path) -> Iterator[Desk]:
    settings = console_settings(tmp_path)
    run_id = seed(engine, vault, tmp_path, settings)
    app = create_app(settings, engine)
    app.state.console.vault_override = vault
    with TestClient(app):
        yield Desk(engine, settings, vault, run_id, app)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The app under uvicorn in a thread on a free port (a real HTTP server: parallel
    requests, a browser): `with Server(app) as url`."""

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
