"""`shikaku clinics …` and `shikaku audit …` as a user runs them: subprocesses, exit codes."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from shikaku.registry.auditlog import AuditWriter
from shikaku.registry.db import make_engine
from shikaku.security.audit import AuditEntry
from shikaku.service.clinics import authenticate

CODE = "0110113719"


def shikaku(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIKAKU_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "shikaku", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_clinic_keys_from_the_command_line(tmp_path: Path) -> None:
    assert shikaku("db", "upgrade", cwd=tmp_path).returncode == 0
    added = shikaku("clinics", "add", CODE, "札幌しかく内科", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    keys = re.findall(r"sk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", added.stdout)
    assert len(keys) == 1
    assert "二度と表示できません" in added.stderr and "cannot be shown again" in added.stderr
    engine = make_engine(f"sqlite:///{tmp_path / 'shikaku.db'}")
    clinic = authenticate(engine, keys[0], cache=None)
    assert clinic is not None and clinic.institution_code == CODE

    again = shikaku("clinics", "add", CODE, "別名", cwd=tmp_path)
    assert again.returncode == 2 and "登録済み" in again.stderr
    bad = shikaku("clinics", "add", "0110113718", "誤り", cwd=tmp_path)
    assert bad.returncode == 2 and "検証番号" in bad.stderr

    listed = shikaku("clinics", "list", cwd=tmp_path)
    assert listed.returncode == 0
    assert CODE in listed.stdout and "有効" in listed.stdout and keys[0] not in listed.stdout
    assert keys[0].split("_", 2)[2] not in listed.stdout  # the secret is never shown again

    assert shikaku("clinics", "revoke", CODE, cwd=tmp_path).returncode == 0
    assert authenticate(engine, keys[0], cache=None) is None
    assert "失効" in shikaku("clinics", "list", cwd=tmp_path).stdout
    assert "既に失効" in shikaku("clinics", "revoke", CODE, cwd=tmp_path).stdout
    assert shikaku("clinics", "revoke", "1310000011", cwd=tmp_path).returncode == 2
    engine.dispose()


def test_audit_verify_exit_codes(tmp_path: Path) -> None:
    assert shikaku("db", "upgrade", cwd=tmp_path).returncode == 0
    empty = shikaku("audit", "verify", cwd=tmp_path)
    assert empty.returncode == 0, empty.stderr

    engine = make_engine(f"sqlite:///{tmp_path / 'shikaku.db'}")
    writer = AuditWriter(engine)
    for batch in range(3):
        writer.append(
            [
                AuditEntry("eligibility", person_id=batch * 10 + i, result="1", detail={"n": "秘"})
                for i in range(4)
            ]
        )
    engine.dispose()
    ok = shikaku("audit", "verify", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "正常" in ok.stdout and "12" in ok.stdout
    head = re.search(r"(\d+:[0-9a-f]{64})", ok.stdout)
    assert head is not None and head.group(1).startswith("12:")

    listed = shikaku("audit", "list", "--limit", "5", cwd=tmp_path)
    assert listed.returncode == 0
    ids = re.findall(r"^\s*│?\s*(\d+)\s", listed.stdout, flags=re.M)
    assert ids[:5] == ["12", "11", "10", "9", "8"]
    assert "秘" not in listed.stdout  # details are not shown

    with sqlite3.connect(tmp_path / "shikaku.db") as db:
        db.execute("UPDATE audit_log SET result = '0' WHERE id = 5")
        db.execute("DELETE FROM audit_log WHERE id = 9")
    broken = shikaku("audit", "verify", cwd=tmp_path)
    assert broken.returncode == 1
    assert "#5" in broken.stderr and "#9" in broken.stderr
    assert "改ざん" in broken.stderr and "削除" in broken.stderr

    with sqlite3.connect(tmp_path / "shikaku.db") as db:
        db.execute("DELETE FROM audit_log WHERE id >= 11")  # the newest rows
    assert "#12" not in shikaku("audit", "verify", cwd=tmp_path).stderr  # no trace in the chain
    anchored = shikaku("audit", "verify", "--anchor", head.group(1), cwd=tmp_path)
    assert anchored.returncode == 1 and "#12" in anchored.stderr and "truncated" in anchored.stderr
    assert shikaku("audit", "verify", "--anchor", "12:zz", cwd=tmp_path).returncode == 2
