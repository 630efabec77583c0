"""kill -9 in the middle of an import: whole batches or nothing, no process of it left
running, and a re-run completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import Engine, func, select

from shikaku.registry.tables import eligibility_periods, import_runs, persons
from tests.conftest import FIXED_KEY
from tests.registry.helpers import EMPLOYER_HEADER, MEMBER_HEADER, employer, member, write

ROWS = 40_000
BATCH = 500


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        people = conn.execute(select(func.count()).select_from(persons)).scalar_one()
        periods = conn.execute(select(func.count()).select_from(eligibility_periods)).scalar_one()
    return int(people), int(periods)


def _import(
    engine: Engine, path: Path, cwd: Path, mode: str = "--in-process"
) -> subprocess.Popen[str]:
    import base64

    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIKAKU_")}
    env["SHIKAKU_MY_NUMBER_KEY"] = base64.b64encode(FIXED_KEY).decode()
    url = engine.url.render_as_string(hide_password=False)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shikaku",
            "import",
            str(path),
            "--database-url",
            url,
            "--batch-size",
            str(BATCH),
            mode,
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _alive(processes: list[psutil.Process]) -> list[str]:
    """The processes still running (a zombie has ended: it only waits to be reaped)."""
    alive = []
    for p in processes:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{p.pid} {' '.join(p.cmdline())[:80]}")
        except psutil.NoSuchProcess:
            pass
    return alive


@pytest.mark.parametrize("mode", ["--in-process", "--parser-process"])
def test_kill_9_then_rerun(engine: Engine, tmp_path: Path, mode: str) -> None:
    write(tmp_path / "e.csv", EMPLOYER_HEADER, [employer()])
    assert _import(engine, tmp_path / "e.csv", tmp_path).wait() == 0
    rows = [member(str(i), "00") for i in range(1, ROWS + 1)]
    path = write(tmp_path / "m.csv", MEMBER_HEADER, rows)

    proc = _import(engine, path, tmp_path, mode)
    deadline = time.monotonic() + 120
    while _counts(engine)[0] < 3 * BATCH:  # wait until a few batches are committed
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    started = psutil.Process(proc.pid).children(recursive=True)
    assert len(started) >= (mode == "--parser-process"), "the parser process was not running"
    proc.send_signal(signal.SIGKILL)
    # Not reaped yet, as a shell or a container's init may leave it a while: what the
    # import started must end on its own, within a few seconds.
    deadline = time.monotonic() + 10
    while _alive(started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(started), "still running after the import was killed"
    proc.wait()
    proc.communicate()

    people, periods = _counts(engine)
    assert 0 < people < ROWS, "the kill came too late to test anything"
    assert people % BATCH == 0, "a batch was half written"
    assert periods == people, "a person without their period: half a row"

    rerun = _import(engine, path, tmp_path, mode)
    _out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert _counts(engine) == (ROWS, ROWS)
    with engine.connect() as conn:
        runs = conn.execute(select(import_runs).order_by(import_runs.c.id)).all()
    killed, last = runs[1], runs[2]
    assert killed.status == "interrupted"
    assert last.status == "done"
    assert last.rows_read == ROWS
    assert last.rows_unchanged == people
    assert last.rows_inserted == ROWS - people
    assert last.rows_read == (
        last.rows_inserted + last.rows_updated + last.rows_unchanged + last.rows_rejected
    )


def test_a_killed_parser_process_fails_the_import_not_hangs_it(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """kill -9 of the parser process: the importer says so and stops, its run `failed`,
    the batches written before kept; a re-run completes the file."""
    write(tmp_path / "e.csv", EMPLOYER_HEADER, [employer()])
    assert _import(sqlite_engine, tmp_path / "e.csv", tmp_path).wait() == 0
    path = write(
        tmp_path / "m.csv", MEMBER_HEADER, [member(str(i), "00") for i in range(1, ROWS + 1)]
    )
    proc = _import(sqlite_engine, path, tmp_path, "--parser-process")
    deadline = time.monotonic() + 120
    while _counts(sqlite_engine)[0] < BATCH:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    [parser] = psutil.Process(proc.pid).children()
    parser.kill()
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode not in (0, 3), err
    assert "parser process died" in err
    with sqlite_engine.connect() as conn:
        failed = conn.execute(select(import_runs).order_by(import_runs.c.id.desc())).first()
    assert failed is not None and failed.status == "failed"
    assert failed.rows_read == _counts(sqlite_engine)[0] < ROWS

    rerun = _import(sqlite_engine, path, tmp_path, "--parser-process")
    _out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert _counts(sqlite_engine) == (ROWS, ROWS)
