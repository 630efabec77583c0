"""One view of the registry for an extraction that many processes read at once.

PostgreSQL: the driver opens a REPEATABLE READ transaction and exports its snapshot
(`pg_export_snapshot()`); each extraction task imports it (`SET TRANSACTION SNAPSHOT`) before
its first read, as `pg_dump --jobs` does, so every task sees exactly the registry the driver
saw, whatever commits meanwhile. The snapshot can be imported while the driver's transaction
is open, that is, for the whole extraction.

SQLite has no snapshot another connection can take up, so the extraction keeps imports out
instead: it holds an exclusive lock (the kernel's `flock`, let go of when the process dies,
even by kill -9) on a file beside the database, `<database>-registrylock`, holding the run's
label. An import takes the same lock shared for its whole length; one that starts while a run
extracts is refused with `RegistryFrozen`, which names the run. An extraction that starts
while an import is in progress waits until that import ends.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from shikaku.domain.errors import DomainError
from shikaku.registry.db import is_sqlite, read_once, shared_sqlite_file

_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


class RegistryFrozen(DomainError):
    """An import was asked for while a run extracts from a SQLite registry."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a task needs to read the registry as the extraction froze it: PostgreSQL's
    exported snapshot id; None on SQLite, where the lock keeps every writer that matters out."""

    id: str | None


def _lock_path(engine: Engine) -> str | None:
    database = shared_sqlite_file(engine)
    return None if database is None else f"{database}-registrylock"


@contextmanager
def frozen_registry(
    engine: Engine, holder: str, waiting: Callable[[], None] | None = None
) -> Iterator[tuple[Connection, Snapshot]]:
    """The extraction driver's side: a connection that reads the frozen registry, and the
    snapshot its tasks import. `holder` (a run label) is what a refused import is told;
    `waiting` is called once if an import in progress makes the extraction wait. On SQLite
    the lock is what freezes: the connection may end its read transaction (and should, so
    that no reader holds the WAL back while the tasks write)."""
    if not is_sqlite(engine):
        conn = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        try:
            with conn.begin():
                snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
                yield conn, Snapshot(str(snapshot))
        finally:
            conn.close()
        return
    path = _lock_path(engine)
    fd = None
    if path is not None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode("utf-8"), 0)
    try:
        # reads in transactions of its own (autobegin); the driver reads each employer once
        with read_once(engine) as conn:
            yield conn, Snapshot(None)
    finally:
        if fd is not None:
            os.ftruncate(fd, 0)
            os.close(fd)  # lets go of the lock


@contextmanager
def snapshot_reader(engine: Engine, snapshot: Snapshot) -> Iterator[Connection]:
    """An extraction task's side: a connection in a transaction that reads the registry as
    the driver froze it (PostgreSQL: the imported snapshot, before any other statement)."""
    if snapshot.id is None:
        with engine.connect() as conn, conn.begin():
            yield conn
        return
    if not _SNAPSHOT_ID.fullmatch(snapshot.id):
        raise ValueError(f"not a snapshot id: {snapshot.id!r}")
    conn = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with conn, conn.begin():
        conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot.id}'")
        yield conn


@contextmanager
def registry_writes(engine: Engine) -> Iterator[None]:
    """An import's side (SQLite): held for the import's whole length; refused at once, with
    the run's label, while a run extracts. A no-op on PostgreSQL (snapshots) and for a
    database no other process can open."""
    path = _lock_path(engine)
    if path is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("utf-8", "replace").strip() or "?"
            raise RegistryFrozen(
                f"実行 {holder} が抽出中のため取り込めません。抽出が終わってから"
                "もう一度取り込んでください",
                f"run {holder} is extracting from this registry: import again once its "
                "extraction is over",
            ) from None
        yield
    finally:
        os.close(fd)
