"""The checker process (checkers.process) through the real app, on SQLite (PostgreSQL's
backend: test_postgres): each answer to its own request under concurrency, audited before it
leaves, as one at a time would have it; a dead child or an audit log that refuses rows costs
no wrong answer; a database no child can open is refused at start."""

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
from sqlalchemy import Engine, func, select, text

from shikaku.checkers import Reader
from shikaku.checkers.process import ProcessChecker, check_batches
from shikaku.checkers.sqlite import SqliteBackend
from shikaku.registry.db import make_engine
from shikaku.registry.tables import audit_log
from shikaku.security.mynumber import MyNumberVault
from shikaku.service.clinics import add_clinic
from shikaku.service.eligibility import CheckQuery, CheckResult
from shikaku.settings import SettingsError, load_settings
from shikaku.web.app import create_app
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


def _checker(app: FastAPI) -> ProcessChecker:
    ctx: AppContext = app.state.ctx
    assert isinstance(ctx.checker, ProcessChecker)
    return ctx.checker


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
                await _checker(app).close()
        assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
        return [r.json() for r in replies]

    return asyncio.run(run())


def test_answers_together_are_each_their_own_requests_as_one_at_a_time(
    registry: tuple[Engine, dict[str, str]],
) -> None:
    engine, auth = registry
    bodies = BODIES * 7  # 49 at once: six full batches of 8 and one of 1
    one_by_one = [_answers(_app(engine, 1), auth, [body])[0] for body in BODIES]
    before = _audit_rows(engine)
    together = _answers(_app(engine, 8), auth, bodies)
    assert together == one_by_one * 7
    assert {a["validity"]["code"] for a in together} == {"1", "2", "4"}
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


def test_a_killed_child_costs_no_answer(registry: tuple[Engine, dict[str, str]]) -> None:
    engine, auth = registry
    with TestClient(_app(engine, 8)) as client:
        assert client.post("/v1/eligibility", json=query(), headers=auth).status_code == 200
        worker = _checker(client.app)  # type: ignore[arg-type]
        assert worker.pid is not None
        first = worker.pid
        os.kill(first, signal.SIGKILL)
        before = _audit_rows(engine)
        for _ in range(2):
            r = client.post("/v1/eligibility", json=query(), headers=auth)
            assert r.status_code == 200, r.text
            assert r.json()["name"] == "協会　花子"
        assert worker.pid not in (None, first)  # a new child took over
        assert _audit_rows(engine) >= before + 2


def test_no_answer_while_the_audit_log_refuses_rows(
    registry: tuple[Engine, dict[str, str]],
) -> None:
    engine, auth = registry
    refuse = (
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
    )
    with TestClient(_app(engine, 8)) as client:
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
    """The child's batch work itself (checkers.sqlite.SqliteBackend), on the real registry:
    one job that cannot be looked up gets its error's kind (never its text); the others are
    answered and audited."""
    engine, _auth = registry
    settings = load_settings({}, {})
    good = CheckQuery("01130012", "01234567", "1", "00", date(1980, 1, 2), date(2024, 12, 2))
    bad = replace(good, birth_date="1980-01-02")  # type: ignore[arg-type]  # not a date
    who, other = Reader(1, "eligibility"), Reader(1, "fhir_coverage")
    backend = SqliteBackend(settings, engine)
    before = _audit_rows(engine)
    try:
        replies = check_batches(backend, [(1, [(good, who)]), (2, [(bad, who), (good, other)])])
    finally:
        backend.close()
    assert [number for number, _r in replies] == [1, 2]
    (first,), (failed, second) = replies[0][1], replies[1][1]
    assert isinstance(first, CheckResult) and first.name == "協会　花子"
    assert failed == "AttributeError"
    assert second == first
    assert _audit_rows(engine) == before + 2


def test_no_answer_when_the_child_cannot_start(
    registry: tuple[Engine, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, auth = registry
    with TestClient(_app(engine, 8)) as client:
        monkeypatch.setattr(sys, "executable", "/nonexistent/python3")
        r = client.post("/v1/eligibility", json=query(), headers=auth)
        assert r.status_code == 503 and r.headers["Retry-After"] == "1"
        monkeypatch.undo()
        assert client.post("/v1/eligibility", json=query(), headers=auth).status_code == 200


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///file:shikaku.db?mode=memory&uri=true"])
def test_a_database_no_child_can_open_is_refused_at_start(url: str) -> None:
    with pytest.raises(SettingsError, match="database_url") as refused:
        create_app(load_settings({}, {}), make_engine(url))
    assert "SQLite" in str(refused.value) and "ファイル" in str(refused.value)
