"""A few asynchronous PostgreSQL connections for the event loop: lookups and audit commits.

On PostgreSQL a lookup or a commit is a round trip: run on the loop's thread it would stop
every other request until the server answers (measured: half the loop's time). With
psycopg's AsyncConnection the loop reads and answers other requests meanwhile, and several
lookups run on the server at once. SQLite has no such wait for reads (a local file), so it
keeps the plain connection of web.context.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from sqlalchemy.engine import URL

LOST = (psycopg.OperationalError, psycopg.InterfaceError)


class AsyncPool:
    def __init__(self, url: URL, size: int = 4, session: tuple[str, ...] = ()) -> None:
        self.conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.size = size
        self.session = session  # statements run once on each new connection
        self._idle: asyncio.LifoQueue[psycopg.AsyncConnection] | None = None
        self._open = 0

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """An idle connection, a new one while fewer than `size` are open, else the next one
        given back. A connection found broken is closed and forgotten."""
        if self._idle is None:
            self._idle = asyncio.LifoQueue()
        if self._idle.empty() and self._open < self.size:
            self._open += 1
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, prepare_threshold=1
                )
                for statement in self.session:
                    await conn.execute(statement)
            except BaseException:
                self._open -= 1
                raise
        else:
            conn = await self._idle.get()
        try:
            yield conn
        finally:
            if conn.closed or conn.broken:
                self._open -= 1
                await conn.close()
            else:
                self._idle.put_nowait(conn)

    async def close(self) -> None:
        while self._idle is not None and not self._idle.empty():
            conn = self._idle.get_nowait()
            self._open -= 1
            await conn.close()
