"""PostgreSQL lookups in batches: one statement for many lookups answers each exactly as the
statement for one does, and the API's batcher gathers the lookups of requests in flight."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select

from shikaku.registry.checks import find_many_async, find_records
from shikaku.registry.tables import persons
from shikaku.security.mynumber import MyNumberVault
from shikaku.web.lookups import Keys, LookupBatcher
from shikaku.web.pgpool import AsyncPool
from shikaku.web.quiet import Load
from tests.web.conftest import seed_registry

pytestmark = pytest.mark.postgres

DAYS = (date(2019, 1, 1), date(2020, 4, 2), date(2024, 9, 30), date(2024, 12, 2), date(2031, 1, 1))


@pytest.fixture
def pg(pg_engine: Engine, vault: MyNumberVault, tmp_path: Path) -> Engine:
    """Batched lookups are PostgreSQL's (SQLite reads on the loop's thread)."""
    seed_registry(pg_engine, vault, tmp_path)
    return pg_engine


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
        pool = AsyncPool(pg.url, 1)
        try:
            return await pool.run(lambda conn: find_many_async(conn, keys))  # type: ignore[arg-type]
        finally:
            await pool.close()

    assert asyncio.run(many()) == one_by_one


class CountingBatcher(LookupBatcher):
    batches: list[int]

    async def _run(self, batch: list) -> None:  # type: ignore[type-arg]
        self.batches.append(len(batch))
        await super()._run(batch)


def test_the_lookups_of_requests_in_flight_share_statements(pg: Engine) -> None:
    keys = _lookups(pg)
    with pg.connect() as conn:
        expected = [find_records(conn, *k) for k in keys]

    async def requests() -> tuple[list[object], list[int]]:
        pool = AsyncPool(pg.url, 2)
        load = Load()
        batcher = CountingBatcher(pool, load)
        batcher.batches = []

        async def request(k: Keys) -> object:
            load.note_request()
            await asyncio.sleep(0)
            return await batcher.find(k)

        try:
            found = await asyncio.wait_for(asyncio.gather(*map(request, keys)), 60)
        finally:
            await pool.close()
        return list(found), batcher.batches

    found, batches = asyncio.run(requests())
    assert found == expected
    assert sum(batches) == len(keys) and len(batches) < len(keys) / 4
    assert max(batches) <= 8


def test_a_failed_batch_fails_its_requests_not_the_batcher(pg: Engine) -> None:
    async def requests() -> list[object]:
        bad = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/no_such_database")
        batcher = LookupBatcher(AsyncPool(bad.url, 1), Load())
        key = _lookups(pg)[0]
        return await asyncio.gather(batcher.find(key), batcher.find(key), return_exceptions=True)

    outcomes = asyncio.run(requests())
    assert len(outcomes) == 2 and all(isinstance(o, Exception) for o in outcomes)


def test_requests_of_other_kinds_do_not_hold_a_lookup_back(pg: Engine) -> None:
    """Requests that keep starting without a lookup (say a flood of health checks) keep the
    loop from ever being quiet: the lookup still goes after its batch's longest wait."""

    async def run() -> tuple[list[object], bool]:
        pool = AsyncPool(pg.url, 1)
        load = Load()
        batcher = LookupBatcher(pool, load, max_wait=0.05)
        flooding = True

        async def flood() -> None:
            while flooding:
                load.note_request()
                await asyncio.sleep(0)

        task = asyncio.create_task(flood())
        try:
            records = await asyncio.wait_for(batcher.find(_lookups(pg)[0]), 30)
            still_flooding = not task.done()
        finally:
            flooding = False
            await task
            await pool.close()
        return records, still_flooding

    records, still_flooding = asyncio.run(run())
    assert records and still_flooding
