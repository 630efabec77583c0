"""Dask worker processes killed (SIGKILL) in the middle of a run's tasks: Dask runs those
tasks again on a worker that lives, and the run still verifies (`runs verify --deep`, the real
CLI): every target exactly one document, each certificate issued once. SQLite and PostgreSQL.

Four workers die per run, each the first time its task gets there: an extraction task inside
its write transaction and another after its commit (its result never reaches the driver, so
Dask runs it again), and the same for two render tasks (inside the transaction that records
them, after rendering their files; and after that commit). One LocalCluster for the module.
"""

from __future__ import annotations

import base64
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from shikaku.issuance.engine import DaskEngine
from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.runs import create_run, database_url, execute, extract_run
from shikaku.registry.tables import certificates, employers, run_targets
from shikaku.security.mynumber import KEY_ENV, MyNumberVault
from tests.conftest import FIXED_KEY
from tests.issuance.helpers import DAY, EXTRACTION, demo_registry, settings

SHIKAKU = str(Path(sys.executable).parent / "shikaku")
# Where each kill happens, by the order the driver hands out tasks of each kind.
KILLS = {
    ("extract_range", 1): "claim_task",  # inside the task's write transaction
    ("extract_range", 2): "after",  # committed; the result dies with the worker
    ("render_job", 1): "_record",  # files rendered, inside the recording transaction
    ("render_job", 2): "after",
}


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    import dask

    key = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = base64.b64encode(FIXED_KEY).decode()  # the workers load the key
    # A LocalCluster drops a worker for good when that worker happens to be down (killed
    # again) as the lost-worker timer of an earlier death fires (15 s): not here.
    with dask.config.set({"distributed.deploy.lost-worker-timeout": "1 hour"}):
        yield from _cluster(key)


def _cluster(key: str | None) -> Iterator[str]:
    from dask.distributed import LocalCluster

    try:
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as cluster:  # fmt: skip
            yield cluster.scheduler_address
    finally:
        if key is None:
            os.environ.pop(KEY_ENV, None)
        else:
            os.environ[KEY_ENV] = key


def killing(fn: Callable[[Any], Any], item: tuple[Any, str | None, str]) -> Any:
    """Run on a worker: the real task, and the first time (a marker file) at the planned
    point, SIGKILL of this worker process."""
    job, where, marker = item

    def kill() -> None:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return  # the task's second run: let it be
        os.kill(os.getpid(), signal.SIGKILL)

    if where is None or os.path.exists(marker):
        return fn(job)
    if where == "after":
        result = fn(job)
        kill()
        return result

    def at(frame: Any, event: str, _arg: Any) -> None:
        if frame.f_code.co_name == where and event == (
            "return" if where == "claim_task" else "call"
        ):
            kill()

    sys.setprofile(at)
    try:
        return fn(job)
    finally:
        sys.setprofile(None)


class KillingEngine(DaskEngine):
    def __init__(self, scheduler: str, markers: Path) -> None:
        super().__init__(scheduler)
        self.markers = markers

    def map_unordered(self, fn: Callable[[Any], Any], jobs: Iterable[Any]) -> Iterator[Any]:
        name = fn.__name__
        planned = (
            (job, KILLS.get((name, i)), str(self.markers / f"{name}-{i}"))
            for i, job in enumerate(jobs)
        )
        return super().map_unordered(partial(killing, fn), planned)


def _verify_through_the_cli(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    env = {**os.environ, "SHIKAKU_CONFIG": str(tmp_path / "none.toml")}
    result = subprocess.run(
        [SHIKAKU, "runs", "verify", "R000001", "--deep", "--database-url", database_url(engine)],
        env=env, cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "照合 OK" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["full", "certificates"])
def test_workers_killed_mid_task_still_give_a_verified_run(
    engine: Engine, vault: MyNumberVault, tmp_path: Path, scheduler: str, kind: str
) -> None:
    demo_registry(engine, vault, tmp_path, members=250)
    s = settings(tmp_path)
    day = EXTRACTION if kind == "full" else DAY
    run_id = create_run(engine, RunConfig.from_settings(s), s.output_dir, kind, day, day)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(employers)).scalar_one()
    markers = tmp_path / "markers"
    markers.mkdir()
    work = KillingEngine(scheduler, markers)
    try:
        summary = extract_run(
            engine, run_id, vault, s.issuance.report_dir, work=work,
            range_employers=-(-n // 5), task_notices=20,
        )  # fmt: skip
        done = execute(engine, run_id, work, task_notices=25)
    finally:
        work.close()
    assert sorted(p.name for p in markers.iterdir()) == sorted(f"{f}-{i}" for f, i in KILLS)
    assert done.notices_rendered == summary.targets > 0  # each recorded once
    _verify_through_the_cli(engine, tmp_path)
    if kind == "certificates":
        with engine.connect() as conn:
            t, c = run_targets.c, certificates.c
            ready = conn.execute(
                select(func.count()).where(t.run_id == run_id, t.status == "ready")
            ).scalar_one()
            issued = conn.execute(select(func.count()).where(c.run_id == run_id)).scalar_one()
        assert issued == ready
