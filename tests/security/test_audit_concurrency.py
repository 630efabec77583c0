"""Group commit and concurrent writers: the chain never forks, no answer before its commit."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future

import pytest
from sqlalchemy import Engine, select

from shikaku.registry.db import make_engine
from shikaku.registry.tables import audit_log
from shikaku.security.audit import AuditBatcher, AuditEntry, AuditWriter, verify_chain


class SlowWriter(AuditWriter):
    """Records each batch; a slow commit lets the next callers queue up behind it."""

    def __init__(self, engine: Engine, delay: float = 0.01) -> None:
        super().__init__(engine)
        self.delay = delay
        self.batches: list[int] = []

    def append(self, entries: Sequence[AuditEntry]) -> list[int]:
        time.sleep(self.delay)
        ids = super().append(entries)
        self.batches.append(len(ids))
        return ids


def committed(engine: Engine, row_id: int) -> bool:
    """Seen from another connection: only a committed row is."""
    with engine.connect() as conn:
        found = conn.execute(select(audit_log.c.id).where(audit_log.c.id == row_id)).first()
        return found is not None


def test_threads_share_transactions_and_each_waits_for_its_commit(engine: Engine) -> None:
    observer = make_engine(engine.url.render_as_string(hide_password=False))
    writer = SlowWriter(engine)
    threads, per_thread = 8, 25
    ids: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()

    def request(n: int) -> None:
        for i in range(per_thread):
            entry = AuditEntry("eligibility", person_id=n * 1000 + i, result="1")
            row_id = batcher.submit(entry).result(timeout=60)
            if not committed(observer, row_id):  # answered before its row was durable
                failures.append(f"row {row_id} not committed when submit returned")
            with lock:
                ids.append(row_id)

    with AuditBatcher(writer) as batcher:
        workers = [threading.Thread(target=request, args=(n,)) for n in range(threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
    observer.dispose()
    assert not failures
    assert sorted(ids) == list(range(1, threads * per_thread + 1))
    assert sum(writer.batches) == threads * per_thread
    assert max(writer.batches) > 1, "concurrent submits should share a transaction"
    report = verify_chain(engine)
    assert report.ok, report.problems
    with engine.connect() as conn:
        people = conn.execute(select(audit_log.c.id, audit_log.c.person_id)).all()
    assert len({p for _, p in people}) == threads * per_thread  # every entry, once


def test_async_callers(engine: Engine) -> None:
    writer = SlowWriter(engine)

    async def main(batcher: AuditBatcher) -> list[int]:
        calls = [batcher.write(AuditEntry("fhir_coverage", person_id=i)) for i in range(40)]
        return await asyncio.gather(*calls)

    with AuditBatcher(writer) as batcher:
        ids = asyncio.run(main(batcher))
    assert sorted(ids) == list(range(1, 41))
    assert len(writer.batches) < 40
    assert verify_chain(engine).ok


def test_a_failed_commit_reaches_every_waiter_and_the_batcher_goes_on(engine: Engine) -> None:
    class Flaky(AuditWriter):
        fail = True

        def append(self, entries: Sequence[AuditEntry]) -> list[int]:
            if self.fail:
                self.fail = False
                time.sleep(0.05)
                raise RuntimeError("database unavailable")
            return super().append(entries)

    with AuditBatcher(Flaky(engine)) as batcher:
        first = batcher.submit(AuditEntry("eligibility", person_id=1))
        time.sleep(0.01)  # queued while the failing commit runs: the next batch
        second = batcher.submit(AuditEntry("eligibility", person_id=2))
        with pytest.raises(RuntimeError, match="unavailable"):
            first.result(timeout=10)
        assert second.result(timeout=10) == 1
    assert verify_chain(engine).rows == 1


def test_close_writes_what_was_submitted(engine: Engine) -> None:
    batcher = AuditBatcher(SlowWriter(engine, delay=0.001), max_batch=7)
    futures: list[Future[int]] = [
        batcher.submit(AuditEntry("console_read", person_id=i)) for i in range(50)
    ]
    batcher.close()
    assert all(f.done() for f in futures)
    assert sorted(f.result() for f in futures) == list(range(1, 51))
    with pytest.raises(RuntimeError, match="closed"):
        batcher.submit(AuditEntry("console_read"))
    batcher.close()  # twice is fine
    assert verify_chain(engine).rows == 50


def _process_writer(url: str, worker: int, batches: int, start: multiprocessing.Event) -> None:
    engine = make_engine(url)
    writer = AuditWriter(engine)
    start.wait()
    for b in range(batches):
        writer.append(
            [AuditEntry("eligibility", person_id=worker * 10_000 + b * 3 + i) for i in range(3)]
        )
    engine.dispose()


@pytest.mark.slow
def test_writers_in_several_processes_never_fork_the_chain(engine: Engine) -> None:
    """As uvicorn workers would: separate processes, one database, one chain."""
    url = engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_process_writer, args=(url, w, 20, start)) for w in range(4)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    report = verify_chain(engine)
    assert report.ok, report.problems
    assert report.rows == 4 * 20 * 3


def test_sqlite_writers_take_turns_on_the_lock_file(sqlite_engine: Engine) -> None:
    """Another process's writer holds the turn (the lock file beside the database): a batch
    waits for it, not in SQLite's sleeping busy handler, and goes in as soon as it is free."""
    import fcntl
    import os

    database = sqlite_engine.url.database
    assert database
    writer = AuditWriter(sqlite_engine)
    writer.append([AuditEntry("eligibility", result="1")])  # creates the lock file
    lock_file = f"{database}-auditlock"
    assert os.stat(lock_file).st_mode & 0o777 == 0o600
    other = os.open(lock_file, os.O_RDWR)
    fcntl.flock(other, fcntl.LOCK_EX)
    done: list[int] = []
    waiting = threading.Thread(
        target=lambda: done.extend(writer.append([AuditEntry("eligibility", result="1")]))
    )
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive() and not done  # it waits for the turn
    os.close(other)  # the other writer lets go
    waiting.join(30)
    assert done == [2]
    assert verify_chain(sqlite_engine).ok
