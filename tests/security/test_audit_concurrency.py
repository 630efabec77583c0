"""Concurrent writers: the chain never forks (group commit: tests/checkers)."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from sqlalchemy import Engine

from shikaku.registry.auditlog import AuditWriter, verify_chain
from shikaku.registry.db import make_engine
from shikaku.security.audit import AuditEntry


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
