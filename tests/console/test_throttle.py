"""Login throttling holds under parallel requests: 30 wrong passwords for one name at once
through the real HTTP server check at most `console.login_max_failures` passwords (the check
and the record of an attempt are one atomic step), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select

from shikaku.registry.tables import login_attempts
from shikaku.service.accounts import add_user
from shikaku.web.app import create_app
from tests.console.conftest import PASSWORD, Server, console_settings

PARALLEL = 30
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _wrong_login(url: str, name: str) -> int:
    with httpx.Client(base_url=url, timeout=60) as client:
        form = client.get("/console/login")
        token = CSRF.search(form.text)
        assert token is not None
        r = client.post(
            "/console/login",
            data={"name": name, "password": "wrong password!", "csrf": token.group(1)},
        )
        return r.status_code


def test_parallel_wrong_passwords_check_at_most_the_allowed_number(
    engine: Engine, tmp_path: Path
) -> None:
    settings = console_settings(tmp_path)
    allowed = settings.console.login_max_failures
    add_user(engine, "target", PASSWORD, "operator")
    app = create_app(settings, engine)
    with Server(app) as url:
        with ThreadPoolExecutor(PARALLEL) as pool:
            statuses = list(pool.map(lambda _: _wrong_login(url, "target"), range(PARALLEL)))
        checked = statuses.count(400)  # the password was checked (and wrong)
        throttled = statuses.count(429)  # refused without checking it
        assert checked + throttled == PARALLEL, statuses
        assert checked <= allowed, f"{checked} passwords checked, {allowed} allowed"
        assert checked == allowed  # …and throttling does not refuse early either
        # the right password is refused too now, without being checked
        with httpx.Client(base_url=url, timeout=60) as client:
            token = CSRF.search(client.get("/console/login").text)
            assert token is not None
            r = client.post(
                "/console/login",
                data={"name": "target", "password": PASSWORD, "csrf": token.group(1)},
            )
            assert r.status_code == 429
    with engine.connect() as conn:
        recorded = conn.execute(select(func.count()).select_from(login_attempts)).scalar_one()
    assert recorded == PARALLEL + 1  # every attempt is recorded, throttled ones included
