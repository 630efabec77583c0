"""The PostgreSQL checker (checkers.postgres): one statement for many lookups answers each
exactly as the statement for one does; the lookups and the audit rows of requests in flight
share statements, each check returns once its row is committed, a failed batch fails only
its checks, and requests of other kinds hold no batch back."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select

from shikaku.checkers import Load, NotAudited, Reader
from shikaku.checkers.postgres import Connections, Keys, PostgresChecker
from shikaku.registry.auditlog import verify_chain
from shikaku.registry.checks import find_many_async, find_records
from shikaku.registry.tables import audit_log, persons
from shikaku.security.mynumber import MyNumberVault
from shikaku.service.clinics import add_clinic
from shikaku.service.eligibility import CheckQuery, CheckRules, answer
from shikaku.settings import load_settings
from tests.web.conftest import CLINIC_CODE, seed_registry

pytestmark = pytest.mark.postgres

DAYS = (date(2019, 1, 1), date(2020, 4, 2), date(2024, 9, 30), date(2024, 12, 2), date(2031, 1, 1))


@pytest.fixture
def pg(pg_engine: Engine, vault: MyNumberVault, tmp_path: Path) -> Engine:
    """Batched lookups are PostgreSQL's (SQLite's checker looks up one by one in its child)."""
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

    async def many() -> list[list[object]]:
        connections = Connections(pg, 1)
        try:
            return await connections.run(lambda conn: find_many_async(conn, keys))  # type: ignore[arg-type]
        finally:
            await connections.close()

    assert asyncio.run(many()) == one_by_one


def _query(keys: Keys) -> CheckQuery:
    return CheckQuery(*keys)


class CountingChecker(PostgresChecker):
    """Counts the lookups of each batch and the rows of each commit."""

    def __init__(self, engine: Engine, load: Load, **api: object) -> None:
        super().__init__(load_settings({}, {"api": api}), engine, load)
        self.lookup_batches: list[int] = []
        self.commits: list[int] = []

    async def _look_up(self, batch: list) -> None:  # type: ignore[type-arg]
        self.lookup_batches.append(len(batch))
        await super()._look_up(batch)

    async def _append(self, entries: list) -> list[int]:  # type: ignore[type-arg]
        self.commits.append(len(entries))
        return await super()._append(entries)


def test_checks_in_flight_share_lookups_and_commits_each_audited(
    pg: Engine, reader: Reader
) -> None:
    keys = _lookups(pg)
    rules = CheckRules()
    with pg.connect() as conn:
        expected = [answer(find_records(conn, *k), _query(k), rules) for k in keys]

    async def requests() -> tuple[list[object], CountingChecker]:
        load = Load()
        # The audit timer at its longest: batches still go once the loop is quiet.
        checker = CountingChecker(pg, load, database_connections=2, audit_flush_ms=100)

        async def request(k: Keys) -> object:
            load.note_request()
            await asyncio.sleep(0)  # the rest of a request's work
            return await checker.check(_query(k), reader)

        try:
            found = await asyncio.wait_for(asyncio.gather(*map(request, keys)), 60)
        finally:
            await checker.close()
        return list(found), checker

    found, checker = asyncio.run(requests())
    assert found == expected
    batches = checker.lookup_batches
    assert sum(batches) == len(keys) and len(batches) < len(keys) / 4
    assert max(batches) <= 8
    assert sum(checker.commits) == len(keys) and len(checker.commits) < len(keys) / 4
    with pg.connect() as conn:
        rows = conn.execute(select(audit_log.c.person_id, audit_log.c.result)).all()
    assert sorted(str(r.result) for r in rows) == sorted(str(int(e.validity)) for e in expected)
    assert verify_chain(pg).ok


def test_a_failed_batch_fails_its_checks_not_the_checker(pg: Engine, reader: Reader) -> None:
    async def requests() -> list[object]:
        bad = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/no_such_database")
        checker = PostgresChecker(load_settings({}, {}), bad, Load())
        checker.connections.timeout = 1.0
        query = _query(_lookups(pg)[0])
        try:
            return await asyncio.gather(
                checker.check(query, reader),
                checker.check(query, reader),
                return_exceptions=True,
            )
        finally:
            await checker.close()

    outcomes = asyncio.run(requests())
    assert len(outcomes) == 2 and all(isinstance(o, NotAudited) for o in outcomes)


def test_requests_of_other_kinds_do_not_hold_a_check_back(pg: Engine, reader: Reader) -> None:
    """Requests that keep starting without a check (say a flood of health checks) keep the
    loop from ever being quiet: the check still goes after its batches' longest waits."""

    async def run() -> tuple[object, bool]:
        load = Load()
        checker = PostgresChecker(load_settings({}, {"api": {"audit_flush_ms": 50}}), pg, load)
        flooding = True

        async def flood() -> None:
            while flooding:
                load.note_request()
                await asyncio.sleep(0)

        task = asyncio.create_task(flood())
        try:
            result = await asyncio.wait_for(checker.check(_query(_lookups(pg)[0]), reader), 30)
            still_flooding = not task.done()
        finally:
            flooding = False
            await task
            await checker.close()
        return result, still_flooding

    result, still_flooding = asyncio.run(run())
    assert result.person_id is not None and still_flooding  # type: ignore[attr-defined]
