"""Group commit for the API: the answers in flight share one audit transaction.

Handlers `await queue.write(entry)`; their future resolves once the row's transaction has
committed (durable: see security.audit), and only then is the answer sent. Rows that arrive
while a batch commits form the next one, so a batch grows with the load. When none is
committing, a batch gathers until the loop has nothing else to do (web.quiet), at the latest
`api.audit_flush_ms` after its first row. (On PostgreSQL, whose commit does not stop the
loop, sending a batch at the end of the loop's turn instead was measured too: no clear
difference on this noisy VM, and more commits.)

SQLite commits on the loop's thread: a writer thread traded the GIL with the loop on every
statement and stalled it (measured: lookups 3-4× slower). PostgreSQL commits on an
asynchronous connection (web.pgpool), so the loop serves other requests during the round
trips and the server's flush; a connection the server dropped is replaced and the batch
written once more.
"""

from __future__ import annotations

import asyncio

from shikaku.security.audit import AuditEntry, AuditWriter
from shikaku.web.pgpool import AsyncPool
from shikaku.web.quiet import Load, WhenQuiet, settle

_Waiter = tuple[AuditEntry, "asyncio.Future[int]"]


class LoopAuditQueue:
    def __init__(
        self,
        writer: AuditWriter,
        max_batch: int = 500,
        delay: float = 0.002,
        connections: AsyncPool | None = None,
        load: Load | None = None,
    ) -> None:
        self.writer = writer
        self.max_batch = max_batch
        self.connections = connections  # PostgreSQL: commit asynchronously on these
        self._pending: list[_Waiter] = []
        self._committing = False
        self.load = load or Load()
        self._quiet = WhenQuiet(self.load, self._flush, delay)

    async def write(self, entry: AuditEntry) -> int:
        """The entry's row id, once its transaction has committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._pending.append((entry, future))
        if not self._committing:
            self._quiet.arm()
        return await future

    def _take(self) -> list[_Waiter]:
        batch = self._pending[: self.max_batch]
        del self._pending[: self.max_batch]
        return batch

    def _flush(self) -> None:
        self._quiet.disarm()
        if self.connections is not None:
            self._committing = True
            asyncio.get_running_loop().create_task(self._commit_async(self._take()))
            return
        while self._pending:
            batch = self._take()
            try:
                ids = self.writer.append([entry for entry, _f in batch])
            except Exception as exc:
                settle(batch, None, exc)
                continue
            settle(batch, ids, None)

    async def _commit_async(self, batch: list[_Waiter]) -> None:
        try:
            while batch:
                try:
                    ids = await self._append_async([e for e, _f in batch])
                except Exception as exc:
                    settle(batch, None, exc)
                else:
                    settle(batch, ids, None)
                batch = self._take()  # what arrived meanwhile: at once
        finally:
            self._committing = False

    async def _append_async(self, entries: list[AuditEntry]) -> list[int]:
        """On a new connection once more if the server dropped this one (web.pgpool). Should
        the lost connection have committed after all, those rows are logged twice: a read is
        never answered unlogged, at worst logged twice."""
        assert self.connections is not None
        return await self.connections.run(lambda conn: self.writer.append_async(conn, entries))

    async def close(self) -> None:
        """Commit whatever is still queued (at shutdown, after the last request)."""
        if self.connections is not None:
            await self._commit_async(self._take())
        else:
            self._flush()
        self.writer.close()
