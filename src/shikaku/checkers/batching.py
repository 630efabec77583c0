"""When to stop gathering a batch: once the event loop has nothing else to do.

The PostgreSQL checker (checkers.postgres) gathers the lookups and the audit rows of the
requests in flight into one statement each; both checkers settle a batch's waiters here.
Waiting a fixed time for a batch cost the clients that were answered together and came back
together that whole wait (16 clients, a 2 ms wait: a fifth of the rate). Instead a batch is let go once the loop has turned
`QUIET_TURNS` times with no new request starting: whoever could join it has.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

QUIET_TURNS = 2


def settle(
    batch: Sequence[tuple[Any, asyncio.Future[T]]],
    results: Sequence[T] | None,
    exc: BaseException | None = None,
) -> None:
    """Every waiter of a batch learns its result, or the batch's error (waiters that gave up
    meanwhile are left alone)."""
    for i, (_item, future) in enumerate(batch):
        if future.done():
            continue
        if results is None:
            future.set_exception(exc or RuntimeError("batch not done"))
        else:
            future.set_result(results[i])


class Load:
    """Requests begun in this process (web.app counts every HTTP request)."""

    def __init__(self) -> None:
        self.started = 0

    def note_request(self) -> None:
        self.started += 1


class WhenQuiet:
    """Calls `action` once the loop has turned QUIET_TURNS times with no request begun, or
    `max_wait` seconds after `arm`, whichever comes first (requests of other kinds, which
    never join the batch, could otherwise keep it waiting)."""

    def __init__(self, load: Load, action: Callable[[], None], max_wait: float) -> None:
        self.load = load
        self.action = action
        self.max_wait = max_wait
        self._timer: asyncio.TimerHandle | None = None
        self._seen = 0
        self._quiet = 0

    def arm(self) -> None:
        """Start watching (a batch began gathering); nothing if already watching."""
        if self._timer is not None:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.max_wait, self._fire)
        self._seen, self._quiet = self.load.started, 0
        loop.call_soon(self._turn)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        self.action()

    def _turn(self) -> None:
        if self._timer is None:
            return
        if self.load.started != self._seen:
            self._seen, self._quiet = self.load.started, 0
        else:
            self._quiet += 1
            if self._quiet >= QUIET_TURNS:
                self.disarm()
                self.action()
                return
        asyncio.get_running_loop().call_soon(self._turn)
