"""The checks in a checker process beside each API process, off the event loop.

The event loop's one core is what limits the API: it reads, authorises and answers every
request. A check on the loop also cost it the lookup, the rules and the audit rows' durable
commit (on SQLite its fsync on the loop's own thread, on PostgreSQL psycopg's asynchronous
machinery): ~1.6× a trivial request's CPU. Here the loop only reads, authorises and answers;
the checks go to a child (`python -m shikaku.checkers.process`, on another core) in batches
of at most `api.check_batch`, as length-prefixed pickles over its stdin. The child takes
every batch that is waiting and hands them to its database's backend (checkers.sqlite,
checkers.postgres), which looks them up, applies the rules and writes their audit rows in
one durable commit (the group commit); the child answers each batch over its stdout; only
then does the loop answer.

What it buys (docs/api.md has the figures): 1M members, 16 clients, 2026-12-06: SQLite 76 %
of the baseline's rate against ~56 % with the checks on the loop; PostgreSQL 44-45 % against
40-42 % with psycopg's asynchronous connections on the loop. (The child as an event loop
running the loop's own check path cost it twice the CPU per check: 200-280 µs.)

Batches are small on purpose: with 16 clients answered together the loop had nothing to do
while one batch of 16 was checked; in halves it reads one half's next requests while the
child checks the other.

A job the child could not finish (it died, its connection broke) is tried once more, in a
new child if need be: a read may then be logged twice, never answered unlogged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import select
import signal
import struct
import sys
from collections.abc import Sequence
from typing import Any, BinaryIO, Protocol

from sqlalchemy import Engine

from shikaku.checkers import NotAudited, Reader
from shikaku.registry.db import is_sqlite, shared_sqlite_file
from shikaku.service.eligibility import CheckQuery, CheckResult
from shikaku.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

_LENGTH = struct.Struct("<I")
Job = tuple[CheckQuery, Reader]
# A batch's number and, per job, its result or the kind of the error that stopped it.
Reply = tuple[int, list[CheckResult | str]]


class Backend(Protocol):
    """A database's side of the child: the jobs of every batch waiting, checked and audited
    in one durable commit; per job its result or the kind of the error that stopped it."""

    def check(self, jobs: list[Job]) -> Sequence[CheckResult | str]: ...

    def close(self) -> None: ...


def _fail(part: list[tuple[Job, asyncio.Future[CheckResult]]], exc: BaseException) -> None:
    """Every waiter of a batch learns its error (waiters that gave up meanwhile are left
    alone)."""
    for _job, future in part:
        if not future.done():
            future.set_exception(exc)


class ProcessChecker:
    """The loop's side: queue a check, await its audited result."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        if is_sqlite(engine) and shared_sqlite_file(engine) is None:
            raise SettingsError(
                "database_url: 照会 API の SQLite はファイルで指定してください（メモリ上や file: URI の"
                "データベースは照会用の子プロセスから開けません） (the clinic API needs a SQLite "
                "database file another process can open: not in memory, not a file: URI)"
            )
        self.settings = settings
        self.database_url = engine.url.render_as_string(hide_password=False)
        self.batch = settings.api.check_batch
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._starting: asyncio.Future[None] | None = None
        self._queued: list[tuple[Job, asyncio.Future[CheckResult]]] = []
        self._sent: dict[int, list[tuple[Job, asyncio.Future[CheckResult]]]] = {}
        self._number = 0
        self._send_soon: asyncio.Handle | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        """The running child's process id (none before the first check)."""
        return self._proc.pid if self._proc is not None else None

    async def check(self, query: CheckQuery, reader: Reader) -> CheckResult:
        """The result, once its audit row is durable. A job the child could not finish is
        tried once more (in a new child if it died)."""
        job = (query, reader)
        try:
            return await self._check_once(job)
        except NotAudited:
            return await self._check_once(job)

    async def _check_once(self, job: Job) -> CheckResult:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests): its own child
            self._abandon()
        if self._proc is None or self._proc.returncode is not None:
            await self._start()
        future: asyncio.Future[CheckResult] = loop.create_future()
        self._queued.append((job, future))
        if len(self._queued) >= self.batch:
            self._send()
        elif self._send_soon is None:
            self._send_soon = loop.call_soon(self._send)  # the rest of this loop turn joins
        return await future

    async def _start(self) -> None:
        """One child at a time; checks that wait for it go on either way (without one, they
        fail as NotAudited: 503)."""
        if self._starting is not None:
            await asyncio.shield(self._starting)
            return
        loop = asyncio.get_running_loop()
        self._starting = starting = loop.create_future()
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "shikaku.checkers.process",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
        except OSError as exc:
            raise NotAudited(f"checker child not started: {exc.strerror}") from exc
        finally:
            self._starting = None
            starting.set_result(None)
        assert proc.stdin is not None
        proc.stdin.write(_frame((self.settings, self.database_url)))
        self._proc, self._loop = proc, loop
        self._reader = loop.create_task(self._read(proc))

    def _send(self) -> None:
        self._send_soon = None
        proc = self._proc
        while self._queued:
            part = self._queued[: self.batch]
            del self._queued[: self.batch]
            if proc is None or proc.stdin is None or proc.returncode is not None:
                _fail(part, NotAudited("checker child not running"))
                continue
            self._number += 1
            self._sent[self._number] = part
            proc.stdin.write(_frame((self._number, [j for j, _f in part])))

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        try:
            while True:
                head = await proc.stdout.readexactly(_LENGTH.size)
                number, results = pickle.loads(await proc.stdout.readexactly(*_LENGTH.unpack(head)))
                for (_job, future), result in zip(self._sent.pop(number), results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, str):
                        future.set_exception(NotAudited(result))
                    else:
                        future.set_result(result)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if self._proc is proc:  # the next check starts a new child
                self._proc = None
                logger.warning("checker child stopped (pid %s)", proc.pid)
            sent, self._sent = self._sent, {}
            for part in sent.values():
                _fail(part, NotAudited("checker child stopped"))
            if proc.returncode is None:
                proc.kill()
            await proc.wait()

    def _abandon(self) -> None:
        """Forget a child of another (finished) event loop."""
        proc, self._proc, self._loop = self._proc, None, None
        self._queued.clear()
        self._sent.clear()
        self._send_soon = self._reader = None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)

    async def close(self) -> None:
        """After the last request: the child finishes what it has and ends with its input."""
        if self._loop is not asyncio.get_running_loop():
            self._abandon()
            return
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        if self._reader is not None:
            await self._reader


def _frame(value: Any) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


# ------------------------------------------------------------------ the child


class _Frames:
    """Length-prefixed pickles from a pipe: the next one (waiting for it), or every one that
    is already there."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.ended = False

    def _read(self, wait: bool) -> bool:
        if not wait and not select.select([self.fd], [], [], 0)[0]:
            return False
        data = os.read(self.fd, 1 << 20)
        self.buffer += data
        self.ended = not data
        return bool(data)

    def _take(self) -> Any | None:
        if len(self.buffer) < _LENGTH.size:
            return None
        end = _LENGTH.size + _LENGTH.unpack_from(self.buffer)[0]
        if len(self.buffer) < end:
            return None
        value = pickle.loads(self.buffer[_LENGTH.size : end])
        del self.buffer[:end]
        return value

    def next(self) -> Any:
        """The next frame; EOFError once the input has ended."""
        while (value := self._take()) is None:
            if self.ended:
                raise EOFError
            self._read(wait=True)
        return value

    def waiting(self) -> list[Any]:
        """Every frame that has arrived, without waiting."""
        frames = []
        while (value := self._take()) is not None or self._read(wait=False):
            if value is not None:
                frames.append(value)
        return frames


def check_batches(backend: Backend, batches: list[tuple[int, list[Job]]]) -> list[Reply]:
    """The batches waiting, checked together by `backend` (one commit); per batch its reply."""
    results = backend.check([job for _number, jobs in batches for job in jobs])
    replies: list[Reply] = []
    start = 0
    for number, jobs in batches:
        replies.append((number, list(results[start : start + len(jobs)])))
        start += len(jobs)
    return replies


def open_backend(settings: Settings, url: str) -> Backend:
    """The child's database side, by the database's kind."""
    from shikaku.registry.db import make_engine

    engine = make_engine(url)
    if is_sqlite(engine):
        from shikaku.checkers.sqlite import SqliteBackend

        return SqliteBackend(settings, engine)
    from shikaku.checkers.postgres import PostgresBackend

    return PostgresBackend(settings, engine)


def serve(source: int, sink: BinaryIO) -> None:
    """Check and audit batches from `source` (a pipe) until it ends: whatever waits is done
    together (one commit), so the child keeps up however the loop's turns divide them."""
    frames = _Frames(source)
    settings, url = frames.next()
    backend = open_backend(settings, url)
    try:
        while True:
            try:
                batches = [frames.next(), *frames.waiting()]
            except EOFError:
                break
            replies = check_batches(backend, batches)
            sink.write(b"".join(_frame(reply) for reply in replies))
            sink.flush()
    finally:
        backend.close()


if __name__ == "__main__":
    # Ctrl-C and `kill` reach the whole process group: the parent finishes its requests
    # (uvicorn's graceful shutdown), so the child ends when the parent closes its input.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    serve(sys.stdin.fileno(), sys.stdout.buffer)
