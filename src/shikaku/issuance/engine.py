"""Where partitions run: in this process (tests, debugging) or on Dask distributed.

Both take jobs from an iterator and hand back results as they finish, with a bounded number
in flight, so a 40-million-notice run never holds more than a few jobs in memory. Dask runs a
LocalCluster of worker processes by default, or joins a scheduler (`--scheduler ADDR`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

J = TypeVar("J")
R = TypeVar("R")


class Engine(Protocol):
    name: str
    workers: int

    def map_unordered(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[R]: ...

    def close(self) -> None: ...


class InlineEngine:
    """Runs each job here, in order: no processes, easy to debug and to test."""

    name = "inline"
    workers = 1

    def map_unordered(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[R]:
        for job in jobs:
            yield fn(job)

    def close(self) -> None:
        pass


class DaskEngine:
    """A Dask client on a LocalCluster (one single-threaded process per worker) or a scheduler."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int = 0) -> None:
        from dask.distributed import Client, LocalCluster

        self.cluster: Any = None
        if scheduler:
            self.client = Client(scheduler)
        else:
            n = workers or os.cpu_count() or 1
            self.cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,
            )
            self.client = Client(self.cluster)
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})) or workers or 1)

    def map_unordered(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[R]:
        from dask.distributed import as_completed

        window = 2 * self.workers + 1  # enough to keep every worker busy, no more in memory
        source = iter(jobs)
        pending = as_completed()
        for job in source:
            pending.add(self.client.submit(fn, job, pure=False))
            if pending.count() >= window:
                break
        for future in pending:
            result = future.result()
            future.release()
            nxt = next(source, None)
            if nxt is not None:
                pending.add(self.client.submit(fn, nxt, pure=False))
            yield result

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_engine(kind: str, scheduler: str | None = None, workers: int = 0) -> Engine:
    if kind == "inline" and not scheduler:
        return InlineEngine()
    return DaskEngine(scheduler, workers)
