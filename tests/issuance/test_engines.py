"""The same run through other engines and file systems: a Dask scheduler address, fsspec."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
from sqlalchemy import Engine

from shikaku.issuance.engine import DaskEngine, InlineEngine
from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.runs import create_run, execute, extract_run
from shikaku.issuance.verify import verify_run
from shikaku.security.mynumber import MyNumberVault
from tests.issuance.helpers import EXTRACTION, demo_registry, settings, start


def test_a_cluster_by_scheduler_address(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    from dask.distributed import LocalCluster

    demo_registry(engine, vault, tmp_path, members=120)
    run_id, summary = start(engine, vault, settings(tmp_path))
    with LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster:
        work = DaskEngine(scheduler=cluster.scheduler_address)
        try:
            result = execute(engine, run_id, work, task_notices=15)
        finally:
            work.close()
    assert result.notices_rendered == summary.targets
    assert verify_run(engine, run_id, deep=True).ok


def test_output_through_an_fsspec_url(engine: Engine, vault: MyNumberVault, tmp_path: Path) -> None:
    demo_registry(engine, vault, tmp_path, members=80)
    s = settings(tmp_path)
    url = f"memory://shikaku-{uuid.uuid4().hex}"
    from datetime import date

    run_id = create_run(
        engine, RunConfig.from_settings(s), url, "full", EXTRACTION, date(2024, 9, 9)
    )
    extract_run(engine, run_id, vault, s.issuance.report_dir)
    execute(engine, run_id, InlineEngine(), task_notices=20)
    fs = fsspec.filesystem("memory")
    root = url.removeprefix("memory://")
    assert fs.glob(f"{root}/run-{run_id:06d}/parcels/*.pdf")
    assert fs.exists(f"{root}/run-{run_id:06d}/manifest.json")
    assert not fs.glob(f"{root}/**/*.tmp-*")
    assert verify_run(engine, run_id).ok


def test_the_driver_keeps_few_messages_whatever_the_number_of_tasks() -> None:
    """Dask's debugging logs of messages (a task's carry its arguments) are what grew the
    driver's memory with the run's size: they stay at LOW_LEVEL_LOG_LENGTH."""
    from shikaku.issuance.engine import LOW_LEVEL_LOG_LENGTH

    work = DaskEngine(workers=1)
    try:
        assert sorted(work.map_unordered(abs, range(-150, 0))) == list(range(1, 151))
        scheduler = work.cluster.scheduler
        logs = [scheduler.transition_log, work.client.scheduler_comm.recent_message_log]
        logs += [s.recent_message_log for s in scheduler.stream_comms.values()]
        assert all(log.maxlen == LOW_LEVEL_LOG_LENGTH for log in logs)
        assert all(len(log) <= LOW_LEVEL_LOG_LENGTH for log in logs)
    finally:
        work.close()
