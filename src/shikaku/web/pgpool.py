"""A few asynchronous PostgreSQL connections for the event loop: lookups and audit commits.

On PostgreSQL a lookup or a commit is a round trip: run on the loop's thread it would stop
every other request until the server answers. On asynchronous connections the loop reads and
answers other requests meanwhile, and several batches of lookups (web.lookups) run on the
server at once. The driver
is asyncpg: per lookup it costs the loop about half of psycopg's AsyncConnection (measured:
55 µs against 100 µs of CPU), and the loop's thread is what limits the API. Statements are
prepared once per connection (asyncpg's statement cache). SQLite has no such wait for reads
(a local file), so it keeps the plain connection of web.context.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from sqlalchemy.engine import URL

T = TypeVar("T")


class AsyncPool:
    def __init__(self, url: URL, size: int = 4, session: tuple[str, ...] = ()) -> None:
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.size = size
        self.session = session  # statements run once on each new connection
        self._idle: asyncio.LifoQueue[asyncpg.Connection] | None = None
        self._open = 0

    async def run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """`work` on a pooled connection. If the server dropped the connection (a restart,
        a terminated backend), once more on a new one; other errors go to the caller."""
        for attempt in (1, 2):
            conn = await self._acquire()
            try:
                result = await work(conn)
            except Exception:
                if not conn.is_closed():
                    self._release(conn)
                    raise
                self._open -= 1
                if attempt == 2:
                    raise
                continue
            except BaseException:  # cancelled mid-statement: the connection's state is unknown
                self._open -= 1
                conn.terminate()
                raise
            self._release(conn)
            return result
        raise AssertionError("unreachable")

    async def _acquire(self) -> asyncpg.Connection:
        """An idle connection, a new one while fewer than `size` are open, else the next
        one given back."""
        if self._idle is None:
            self._idle = asyncio.LifoQueue()
        while not self._idle.empty():
            conn = self._idle.get_nowait()
            if not conn.is_closed():
                return conn
            self._open -= 1
        if self._open < self.size:
            self._open += 1
            try:
                conn = await asyncpg.connect(self.dsn)
                for statement in self.session:
                    await conn.execute(statement)
            except BaseException:
                self._open -= 1
                raise
            return conn
        return await self._idle.get()

    def _release(self, conn: asyncpg.Connection) -> None:
        assert self._idle is not None
        self._idle.put_nowait(conn)

    async def close(self) -> None:
        while self._idle is not None and not self._idle.empty():
            conn = self._idle.get_nowait()
            self._open -= 1
            await conn.close()
