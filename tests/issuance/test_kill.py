"""kill -9 in the middle of rendering, then resume: verify finds every document exactly once."""

from __future__ import annotations

import base64
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shikaku.demo import write_demo_files
from tests.conftest import FIXED_KEY

SHIKAKU = str(Path(sys.executable).parent / "shikaku")


def _env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "shikaku.toml"
    config.write_text("[issuance]\ntask_notices = 20\nworkers = 1\n", encoding="utf-8")
    return {
        **os.environ,
        "SHIKAKU_CONFIG": str(config),
        "SHIKAKU_MY_NUMBER_KEY": base64.b64encode(FIXED_KEY).decode(),
    }


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SHIKAKU, *args], env=env, cwd=cwd, capture_output=True, text=True)


def _progress(db: Path) -> tuple[str | None, int, int]:
    """(run status, partitions done, partitions) read like any other reader would."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1) as conn:
            row = conn.execute("SELECT status, partitions FROM runs WHERE id = 1").fetchone()
            if row is None:
                return None, 0, 0
            done = conn.execute(
                "SELECT count(*) FROM run_partitions WHERE run_id = 1 AND status = 'done'"
            ).fetchone()[0]
            return row[0], int(done), int(row[1])
    except sqlite3.OperationalError:
        return None, 0, 0


@pytest.mark.slow
def test_sigkill_mid_rendering_then_resume_and_verify(tmp_path: Path) -> None:
    env = _env(tmp_path)
    files = write_demo_files(tmp_path / "input", members=4000, seed=5)
    assert _cli(env, tmp_path, "db", "upgrade").returncode == 0
    for path in (files.employers, files.members):
        assert _cli(env, tmp_path, "import", str(path)).returncode == 0
    proc = subprocess.Popen(
        [SHIKAKU, "issue", "notices", "--extraction-date", "2024-06-07",
         "--issued-on", "2024-09-09"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    db = tmp_path / "shikaku.db"
    killed_at = None
    while proc.poll() is None:
        status, done, total = _progress(db)
        if status == "extracted" and 0 < done < total:
            os.killpg(proc.pid, signal.SIGKILL)
            killed_at = (done, total)
            break
        time.sleep(0.01)
    proc.wait()
    assert killed_at is not None, "the run finished before it could be killed"
    status, done, total = _progress(db)
    assert status == "extracted" and done < total  # really stopped mid-rendering

    resumed = _cli(env, tmp_path, "runs", "resume", "R000001")
    assert resumed.returncode == 0, resumed.stderr
    verified = _cli(env, tmp_path, "runs", "verify", "R000001", "--deep")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "照合 OK" in verified.stdout
    out = tmp_path / "shikaku-out" / "run-000001"
    pdfs = sorted(out.glob("*/*.pdf"))
    assert len(pdfs) == total  # one file per partition, no strays
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    # and verify notices a file that changed afterwards: exit 1
    data = bytearray(pdfs[0].read_bytes())
    data[-40] ^= 1
    pdfs[0].write_bytes(bytes(data))
    broken = _cli(env, tmp_path, "runs", "verify", "R000001")
    assert broken.returncode == 1 and "照合 NG" in broken.stderr
