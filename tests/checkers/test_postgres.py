"""The PostgreSQL backend of the checker process (checkers.postgres): one statement for many
lookups answers each exactly as the statement for one does; through the real app, the checks
in flight share statements and commits, each answered only once its row is committed; a
failed batch fails only its checks, and a connection the server dropped is replaced."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, select, text

from shikaku.checkers import NotAudited, Reader
from shikaku.checkers.postgres import PostgresBackend
from shikaku.checkers.process import ProcessChecker, check_batches
from shikaku.registry.auditlog import verify_chain
from shikaku.registry.checks import find_many, find_records
from shikaku.registry.db import libpq_conninfo, make_engine
from shikaku.registry.tables import audit_log, persons
from shikaku.security.mynumber import MyNumberVault
from shikaku.service.clinics import add_clinic
from shikaku.service.eligibility import CheckQuery, CheckRules, answer
from shikaku.settings import load_settings
from tests.web.conftest import CLINIC_CODE, seed_registry

pytestmark = pytest.mark.postgres

DAYS = (date(2019, 1, 1), date(2020, 4, 2), date(2024, 9, 30), date(2024, 12, 2), date(2031, 1, 1))
Keys = tuple[str, str, str, str, date, date]


@pytest.fixture
def pg(pg_engine: Engine, vault: MyNumberVault, tmp_path: Path) -> Engine:
    """Batched lookups are PostgreSQL's (SQLite's backend looks up one by one)."""
    seed_registry(pg_engine, vault, tmp_path)
    return pg_engine


@pytest.fixture
def reader(pg: Engine) -> Reader:
    clinic_id, _key = add_clinic(pg, CLINIC_CODE, "しかく診療所")
    return Reader(clinic_id, "eligibility")


def _lookups(engine: Engine) -> list[Keys]:
    p = persons.c
    with engine.connect() as conn:
        people = conn.execute(
            select(p.insurer_number, p.symbol, p.number, p.branch, p.birth_date)
        ).all()
    keys: list[Keys] = [(*person, day) for person in people for day in DAYS]  # type: ignore[misc]
    keys.append((*people[0][:4], date(1901, 1, 1), DAYS[3]))  # birth date wrong: nobody
    keys.append(("01130012", "99999999", "1", "00", date(1980, 1, 2), DAYS[3]))  # nobody
    return keys


def test_one_statement_for_many_answers_each_as_one_does(pg: Engine) -> None:
    keys = _lookups(pg)
    with pg.connect() as conn:
        one_by_one = [find_records(conn, *k) for k in keys]
    assert sum(1 for records in one_by_one if records) >= 4 * len(DAYS)
    with psycopg.connect(libpq_conninfo(pg), autocommit=True) as conn:
        assert find_many(conn, keys) == one_by_one
        assert find_many(conn, []) == []


def _audit(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(audit_log.c.at, audit_log.c.result)).all())


def test_checks_in_flight_share_lookups_and_commits_each_audited(
    pg: Engine, reader: Reader
) -> None:
    keys = _lookups(pg)
    rules = CheckRules()
    with pg.connect() as conn:
        expected = [answer(find_records(conn, *k), CheckQuery(*k), rules) for k in keys]

    async def requests() -> list[object]:
        checker = ProcessChecker(load_settings({}, {"api": {"check_batch": 8}}), pg)
        try:
            return list(
                await asyncio.wait_for(
                    asyncio.gather(*(checker.check(CheckQuery(*k), reader) for k in keys)), 60
                )
            )
        finally:
            await checker.close()

    assert asyncio.run(requests()) == expected
    rows = _audit(pg)
    assert sorted(str(r.result) for r in rows) == sorted(str(int(e.validity)) for e in expected)
    commits = len({r.at for r in rows})  # a commit's rows share its time
    assert commits < len(keys) / 4
    assert verify_chain(pg).ok


def test_a_failed_batch_fails_its_checks_not_the_checker(pg: Engine, reader: Reader) -> None:
    """A batch whose connection the server dropped fails with its error's kind (never its
    text); the next batch gets a new connection and is answered and audited."""
    query = CheckQuery(*_lookups(pg)[0])
    backend = PostgresBackend(load_settings({}, {}), pg)
    try:
        ((_n, (first,)),) = check_batches(backend, [(1, [(query, reader)])])
        assert first.name == "協会　花子"  # type: ignore[union-attr]
        with pg.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        before = len(_audit(pg))
        ((_n, failed),) = check_batches(backend, [(2, [(query, reader), (query, reader)])])
        # The kind only, never the text. Which kind depends on timing: psycopg says
        # AdminShutdown when it read the server's goodbye, OperationalError when it found the
        # socket already closed (CI saw both).
        assert failed in (["AdminShutdown"] * 2, ["OperationalError"] * 2)
        ((_n, (again,)),) = check_batches(backend, [(3, [(query, reader)])])
        assert again == first
        assert len(_audit(pg)) == before + 1
    finally:
        backend.close()


def test_no_answer_from_a_database_that_cannot_be_reached(reader: Reader) -> None:
    async def requests() -> list[object]:
        bad = make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/no_such_database")
        checker = ProcessChecker(load_settings({}, {}), bad)
        query = CheckQuery("01130012", "01234567", "1", "00", date(1980, 1, 2), DAYS[3])
        try:
            return await asyncio.gather(
                checker.check(query, reader), checker.check(query, reader), return_exceptions=True
            )
        finally:
            await checker.close()

    outcomes = asyncio.run(requests())
    assert len(outcomes) == 2 and all(isinstance(o, NotAudited) for o in outcomes)


def test_a_batch_is_two_statements_whatever_its_size(
    pg: Engine, reader: Reader, tmp_path: Path
) -> None:
    """The hot path's statements, counted on the wire (libpq's trace): one for the lookups of
    every check waiting and one for their audit rows, for 1 check as for 40."""
    keys = _lookups(pg)
    backend = PostgresBackend(load_settings({}, {}), pg)
    try:
        check_batches(backend, [(1, [(CheckQuery(*keys[0]), reader)])])  # connects, prepares
        executed = []
        for size in (1, 8, 40):
            jobs = [(CheckQuery(*k), reader) for k in (keys * 4)[:size]]
            trace = tmp_path / f"trace-{size}"
            with trace.open("w") as out:
                backend._connection().pgconn.trace(out.fileno())
                ((_n, results),) = check_batches(backend, [(2, jobs)])
                backend._connection().pgconn.untrace()
            assert all(not isinstance(r, str) for r in results)
            executed.append(len(re.findall(r"\tF\t\d+\tExecute\b", trace.read_text())))
    finally:
        backend.close()
    assert executed == [2, 2, 2]
