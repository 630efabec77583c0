"""Where partitions run: in this process (tests, debugging) or on Dask distributed.

Both take jobs from an iterator and hand back results as they finish, with a bounded number
in flight, so a 40-million-notice run never holds more than a few jobs in memory. Dask runs a
LocalCluster of worker processes by default, or joins a scheduler (`--scheduler ADDR`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

J = TypeVar("J")
R = TypeVar("R")


class Engine(Protocol):
    name: str
    workers: int

    def map_unordered(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[R]: ...

    def finish(self) -> None:
        """No job follows: the engine may let its workers go while the driver works on."""

    def close(self) -> None: ...


class InlineEngine:
    """Runs each job here, in order: no processes, easy to debug and to test."""

    name = "inline"
    workers = 1

    def map_unordered(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[R]:
        for job in jobs:
            yield fn(job)

    def finish(self) -> None:
        pass

    def close(self) -> None:
        pass


# Messages each of Dask's comms, its scheduler and its workers keep for debugging (Dask's
# default: 1,000). A LocalCluster's scheduler runs in the driver, and every task's message
# carries the task's arguments, so the driver grew until the logs were full: 2,000 small
# tasks added 20.4 MiB at 1,000 messages, 2.7 MiB at 20 (/tmp experiment, 2 workers), enough
# to break "driver memory flat in the registry's size" between a 100k and a 1M run.
LOW_LEVEL_LOG_LENGTH = 20


class DaskEngine:
    """A Dask client on a LocalCluster (one single-threaded process per worker) or a scheduler.

    The cluster starts in a thread beside the driver, which meanwhile imports the run's
    modules, creates the run and freezes the registry; the first job waits for it. It closes
    the same way once `finish` says no job follows (`runs.execute`: while the driver writes
    the manifest). Driver-only seconds, 20k members, 2 workers: the start took 0.78 s and the
    close 0.42 s of them, run one after the other with the driver's own work."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int = 0) -> None:
        import dask

        # Set before the cluster and the client exist (each log is sized when it is made);
        # the workers' processes get this configuration from their nannies.
        dask.config.set({"distributed.admin.low-level-log-length": LOW_LEVEL_LOG_LENGTH})
        self.cluster: Any = None
        self.client: Any = None
        self.workers = 1
        # One thread beside the driver: the close it is given runs after the start.
        self._beside = ThreadPoolExecutor(1, thread_name_prefix="shikaku-dask")
        self._started = self._beside.submit(self._start, scheduler, workers)
        self._closed: Future[None] | None = None

    def _start(self, scheduler: str | None, workers: int) -> None:
        from dask.distributed import Client, LocalCluster

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

        if self._closed is not None:
            raise RuntimeError("the engine was finished: no job may follow")
        self._started.result()
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

    def finish(self) -> None:
        if self._closed is None:
            self._closed = self._beside.submit(self._close)
            self._beside.shutdown(wait=False)

    def close(self) -> None:
        self.finish()
        assert self._closed is not None
        self._closed.result()

    def _close(self) -> None:
        if self._started.exception() is not None:
            return  # a cluster that failed to start has closed what it had started
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_engine(kind: str, scheduler: str | None = None, workers: int = 0) -> Engine:
    if kind == "inline" and not scheduler:
        return InlineEngine()
    return DaskEngine(scheduler, workers)
