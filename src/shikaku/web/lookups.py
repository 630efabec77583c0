"""The lookups of the requests in flight, in one statement per batch (PostgreSQL).

A lookup alone is a round trip and a statement: asyncpg cost the loop ~45 µs of CPU per
lookup and the server its per-statement work each time. Gathered (web.quiet) and sent as one
statement of arrays (registry.checks.find_many_async), a batch of 16 costs the loop ~10 µs
per lookup. A batch goes as soon as it is full or the loop has nothing else to do, when a
connection is free; lookups that arrive while every connection is busy go together when one
comes back.
"""

from __future__ import annotations

import asyncio
from datetime import date

from shikaku.registry.checks import PersonRecord, find_many_async
from shikaku.web.pgpool import AsyncPool
from shikaku.web.quiet import Load, WhenQuiet, settle

# The lookups' sessions. The statement is prepared once per connection; PostgreSQL would still
# plan it anew for each execution while it judges custom plans cheaper (~0.15 ms, as long as
# the query itself). Every parameter is an equality on a unique key or a date bound, so one
# generic plan serves. No JIT: a batch's estimated cost can pass jit_above_cost (tables not
# yet analysed after an import), and compiling then took 26 ms of a 0.5 ms lookup.
LOOKUP_SESSION = ("SET plan_cache_mode = force_generic_plan", "SET jit = off")

# PostgreSQL runs a batch's lookups one after another on one backend: batches of at most 8
# keep both cores' backends busy (measured on 2 cores, 16 clients: 8 against 256, ~5,500
# against ~4,300 lookups/s, noisy).
LOOKUP_BATCH = 8
LOOKUP_MAX_WAIT = 0.002  # seconds a lookup waits at most for others to join its batch
Keys = tuple[str, str, str, str, date, date]  # insurer, symbol, number, branch, birth, day
_Waiter = tuple[Keys, "asyncio.Future[list[PersonRecord]]"]


class LookupBatcher:
    def __init__(
        self,
        pool: AsyncPool,
        load: Load,
        max_batch: int = LOOKUP_BATCH,
        max_wait: float = LOOKUP_MAX_WAIT,
    ) -> None:
        self.pool = pool
        self.max_batch = max_batch
        self._pending: list[_Waiter] = []
        self._running = 0  # batches on their way, at most one per connection
        self._quiet = WhenQuiet(load, self._send, max_wait)

    async def find(self, keys: Keys) -> list[PersonRecord]:
        """The records matching every key (see registry.checks)."""
        future: asyncio.Future[list[PersonRecord]] = asyncio.get_running_loop().create_future()
        self._pending.append((keys, future))
        if len(self._pending) >= self.max_batch and self._running < self.pool.size:
            self._send()  # a full batch need not wait
        else:
            self._quiet.arm()
        return await future

    def _send(self) -> None:
        self._quiet.disarm()
        while self._pending and self._running < self.pool.size:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            self._running += 1
            asyncio.get_running_loop().create_task(self._run(batch))

    async def _run(self, batch: list[_Waiter]) -> None:
        keys = [k for k, _f in batch]
        try:
            found = await self.pool.run(lambda conn: find_many_async(conn, keys))
        except Exception as exc:
            settle(batch, None, exc)
        else:
            settle(batch, found)
        finally:
            self._running -= 1
            self._send()  # what gathered meanwhile goes at once
