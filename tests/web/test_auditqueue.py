"""The API's audit queue: requests that come together share one commit, and a batch is
written as soon as the loop has nothing else to do, not when its timer runs out."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine, select

from shikaku.registry.db import is_sqlite
from shikaku.registry.tables import audit_log
from shikaku.security.audit import DURABLE_COMMITS, AuditEntry, AuditWriter, verify_chain
from shikaku.web.auditqueue import LoopAuditQueue
from shikaku.web.pgpool import AsyncPool

HOUR = 3600.0  # the timer: a batch that waited for it would never finish in the test


async def _requests(queue: LoopAuditQueue, n: int) -> list[int]:
    async def request(i: int) -> int:
        queue.load.note_request()
        await asyncio.sleep(0)  # the rest of a request's work
        return await queue.write(AuditEntry(kind="eligibility", result=str(i)))

    return await asyncio.wait_for(asyncio.gather(*(request(i) for i in range(n))), HOUR / 60)


def _queue(engine: Engine) -> LoopAuditQueue:
    pool = None if is_sqlite(engine) else AsyncPool(engine.url, 1, DURABLE_COMMITS)
    return LoopAuditQueue(AuditWriter(engine, keep_connection=True), delay=HOUR, connections=pool)


def test_requests_together_share_one_commit_without_waiting_for_the_timer(
    engine: Engine,
) -> None:
    async def run() -> list[int]:
        queue = _queue(engine)
        try:
            return await _requests(queue, 16)
        finally:
            await queue.close()
            if queue.connections is not None:
                await queue.connections.close()

    ids = asyncio.run(run())
    assert ids == list(range(ids[0], ids[0] + 16))
    with engine.connect() as conn:
        times = conn.execute(select(audit_log.c.at).where(audit_log.c.id.in_(ids))).scalars()
        assert len(set(times)) == 1  # one batch: its rows carry the batch's time
    assert verify_chain(engine).ok
