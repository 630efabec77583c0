"""SQLite's check worker (web.checkworker) through the real app: the answers the loop gives,
each to its own request under concurrency, audited before they leave; a dead child or an
audit log that refuses rows costs no wrong answer."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from shikaku.web.checkworker import check_batches
from sqlalchemy import Engine, func, select, text

from shikaku.registry.tables import audit_log
from shikaku.security.audit import AuditWriter
from shikaku.security.mynumber import MyNumberVault
from shikaku.service.clinics import add_clinic
from shikaku.service.eligibility import CheckQuery, CheckResult, CheckRules
from shikaku.settings import load_settings
from shikaku.web.app import create_app
from shikaku.web.auth import Caller
from shikaku.web.context import AppContext
from tests.web.conftest import CLINIC_CODE, query, seed_registry

LIMITS = {"rate_limit_per_second": 10_000, "rate_limit_burst": 10_000}

# The seeded members (tests.web.conftest) and keys that match nobody, mixed.
BODIES: list[dict[str, Any]] = [
    query(consent_cap_info=True),
    query(branch="01", birth_date="2020-04-02"),
    query(number="2", birth_date="1970-05-06"),
    query(number="3", birth_date="1952-06-01", consent_cap_info=True),
    query(birth_date="1980-01-03"),  # one day off: nobody
    query(number="9"),
    query(service_date="2019-01-01"),
]


@pytest.fixture
def registry(
    sqlite_engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> Iterator[tuple[Engine, dict[str, str]]]:
    seed_registry(sqlite_engine, vault, tmp_path)
    _clinic_id, key = add_clinic(sqlite_engine, CLINIC_CODE, "しかく診療所")
    yield sqlite_engine, {"Authorization": f"Bearer {key}"}


def _app(engine: Engine, check_batch: int) -> FastAPI:
    return create_app(load_settings({}, {"api": {**LIMITS, "check_batch": check_batch}}), engine)


def _ctx(app: FastAPI) -> AppContext:
    ctx: AppContext = app.state.ctx
    return ctx


def _audit_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def _answers(app: FastAPI, auth: dict[str, str], bodies: list[dict[str, Any]]) -> list[Any]:
    """Every body at once (one event loop, as under load), each answer in its body's place."""

    async def run() -> list[Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            try:
                replies = await asyncio.gather(
                    *(client.post("/v1/eligibility", json=b, headers=auth) for b in bodies)
                )
            finally:
                if _ctx(app).worker is not None:
                    await _ctx(app).worker.close()  # type: ignore[union-attr]
        assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
        return [r.json() for r in replies]

    return asyncio.run(run())


def test_the_worker_answers_what_the_loop_answers_each_to_its_own_request(
    registry: tuple[Engine, dict[str, str]],
) -> None:
    engine, auth = registry
    bodies = BODIES * 7  # 49 at once: six full batches of 8 and one of 1
    assert _ctx(_app(engine, 0)).worker is None
    on_loop = _answers(_app(engine, 0), auth, bodies)
    before = _audit_rows(engine)
    in_worker = _answers(_app(engine, 8), auth, bodies)
    assert in_worker == on_loop
    assert {a["validity"]["code"] for a in in_worker} == {"1", "2", "4"}
    assert _audit_rows(engine) == before + len(bodies)  # every one audited before it left


def test_every_answer_has_its_audit_row_with_the_person_found(
    registry: tuple[Engine, dict[str, str]],
) -> None:
    engine, auth = registry
    answers = _answers(_app(engine, 3), auth, BODIES)
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.kind, audit_log.c.person_id, audit_log.c.result)
        ).all()
    assert [r.kind for r in rows] == ["eligibility"] * len(BODIES)
    codes = [a["validity"]["code"] for a in answers]
    assert sorted(r.result for r in rows) == sorted(codes)
    assert sum(r.person_id is not None for r in rows) == sum(c != "4" for c in codes) == 5


def test_a_killed_worker_costs_no_answer(registry: tuple[Engine, dict[str, str]]) -> None:
    engine, auth = registry
    with TestClient(_app(engine, 8)) as client:
        assert client.post("/v1/eligibility", json=query(), headers=auth).status_code == 200
        worker = _ctx(client.app).worker  # type: ignore[arg-type]
        assert worker is not None and worker.pid is not None
        first = worker.pid
        os.kill(first, signal.SIGKILL)
        before = _audit_rows(engine)
        for _ in range(2):
            r = client.post("/v1/eligibility", json=query(), headers=auth)
            assert r.status_code == 200, r.text
            assert r.json()["name"] == "協会　花子"
        assert worker.pid not in (None, first)  # a new child took over
        assert _audit_rows(engine) >= before + 2


def test_a_closed_loop_connection_costs_no_answer_without_the_worker(
    registry: tuple[Engine, dict[str, str]],
) -> None:
    engine, auth = registry
    with TestClient(_app(engine, 0)) as client:
        assert client.post("/v1/eligibility", json=query(), headers=auth).status_code == 200
        _ctx(client.app).reader().connection.dbapi_connection.close()  # type: ignore
        assert client.post("/v1/eligibility", json=query(), headers=auth).status_code == 200


@pytest.mark.parametrize("check_batch", [8, 0])
def test_no_answer_while_the_audit_log_refuses_rows(
    registry: tuple[Engine, dict[str, str]], check_batch: int
) -> None:
    engine, auth = registry
    refuse = (
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
    )
    with TestClient(_app(engine, check_batch)) as client:
        with engine.begin() as conn:
            conn.execute(text(refuse))
        before = _audit_rows(engine)
        r = client.post("/v1/eligibility", json=query(), headers=auth)
        assert r.status_code == 503 and r.headers["Retry-After"] == "1"
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "協会" not in r.text and "監査ログ" in r.json()["detail"]
        assert _audit_rows(engine) == before
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER refuse_audit"))
        r = client.post("/v1/eligibility", json=query(), headers=auth)
        assert r.status_code == 200 and _audit_rows(engine) == before + 1


def test_a_failed_lookup_costs_only_its_own_answer(
    registry: tuple[Engine, dict[str, str]],
) -> None:
    """The child's batch work itself (web.checkworker.check_batches), on the real registry:
    one job that cannot be looked up gets its error's kind (never its text); the others are
    answered and audited."""
    engine, _auth = registry
    settings = load_settings({}, {})
    good = CheckQuery("01130012", "01234567", "1", "00", date(1980, 1, 2), date(2024, 12, 2))
    bad = replace(good, birth_date="1980-01-02")  # type: ignore[arg-type]  # not a date
    who = Caller(1, CLINIC_CODE)
    writer = AuditWriter(engine, keep_connection=True)
    before = _audit_rows(engine)
    try:
        replies = check_batches(
            writer,
            [(1, [(good, who, "eligibility")]), (2, [(bad, who, "eligibility"), (good, who, "x")])],
            CheckRules.from_settings(settings),
        )
    finally:
        writer.close()
    assert [number for number, _r in replies] == [1, 2]
    (first,), (failed, second) = replies[0][1], replies[1][1]
    assert isinstance(first, CheckResult) and first.name == "協会　花子"
    assert failed == "AttributeError"
    assert second == first
    assert _audit_rows(engine) == before + 2


def test_no_answer_when_the_worker_cannot_start(
    registry: tuple[Engine, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, auth = registry
    with TestClient(_app(engine, 8)) as client:
        monkeypatch.setattr(sys, "executable", "/nonexistent/python3")
        r = client.post("/v1/eligibility", json=query(), headers=auth)
        assert r.status_code == 503 and r.headers["Retry-After"] == "1"
        monkeypatch.undo()
        assert client.post("/v1/eligibility", json=query(), headers=auth).status_code == 200
