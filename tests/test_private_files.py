"""Files with members' data are private (0600, folders 0700) whatever the umask, and the
CSVs a run writes for people show a formula from an employer's file as text.

A real `shikaku import` and a real issuance run, as subprocesses started with umask 022
(the usual default, which would make every file world-readable).
"""

from __future__ import annotations

import csv
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.registry.helpers import EMPLOYER_HEADER, MEMBER_HEADER, employer, member, write

HOSTILE_NAME = '=HYPERLINK("http://x","click")'
UNPRINTABLE = "\U00030000"  # CJK Ext. G, in no font: the member is held (a held report)


def shikaku(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIKAKU_")}
    env["SHIKAKU_LOG_FILE"] = str(cwd / "logs" / "shikaku.log")
    return subprocess.run(
        [sys.executable, "-m", "shikaku", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        umask=0o022,
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """keys init, db upgrade, two imports (one with a rejected row), a notices run."""
    cwd = tmp_path_factory.mktemp("private")
    write(
        cwd / "employers.csv",
        EMPLOYER_HEADER,
        [employer(), employer("07654321", 事業所名=HOSTILE_NAME)],
    )
    rows = [
        member("1", "00"),
        member("2", "00", 記号="07654321"),
        member("3", "00", 氏名=f"協会　{UNPRINTABLE}子"),
        member("4", "00", 生年月日="2024-02-30"),  # rejected: an error report
    ]
    write(cwd / "members.csv", MEMBER_HEADER, rows)
    for args, code in (
        (("keys", "init"), 0),
        (("db", "upgrade"), 0),
        (("import", "employers.csv"), 0),
        (("import", "members.csv"), 3),
        (("issue", "notices", "--extraction-date", "2024-06-07", "--engine", "inline"), 0),
    ):
        done = shikaku(*args, cwd=cwd)
        assert done.returncode == code, (args, done.stdout, done.stderr)
    yield cwd


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_file_and_folder_written_is_private(workdir: Path) -> None:
    inputs = {workdir / "employers.csv", workdir / "members.csv"}
    written = [p for p in workdir.rglob("*") if p not in inputs]
    names = {p.relative_to(workdir).as_posix() for p in written}
    for expected in (
        "shikaku.db",
        "shikaku.key",
        "logs/shikaku.log",
        "reports/import-000002-errors.csv",
        "reports/run-000001-held.csv",
        "shikaku-out/run-000001/manifest.csv",
        "shikaku-out/run-000001/manifest.json",
    ):
        assert expected in names, sorted(names)
    assert any(name.endswith(".pdf") for name in names), sorted(names)
    wrong = {
        p.relative_to(workdir).as_posix(): oct(_mode(p))
        for p in written
        if _mode(p) != (0o700 if p.is_dir() else 0o600)
    }
    assert not wrong, wrong


def test_sqlite_companion_files_take_the_database_files_mode(workdir: Path) -> None:
    """-wal and -shm are made by whichever process opens the registry, with its own umask:
    SQLite gives them the database file's mode, so the database file's mode is what counts."""
    old = os.umask(0o022)
    try:
        conn = sqlite3.connect(workdir / "shikaku.db")
        try:
            conn.execute("CREATE TABLE probe (x)")
            conn.commit()
            companions = [workdir / "shikaku.db-wal", workdir / "shikaku.db-shm"]
            assert {oct(_mode(p)) for p in companions} == {oct(0o600)}
        finally:
            conn.close()
    finally:
        os.umask(old)


def test_run_csvs_show_a_formula_as_text(workdir: Path) -> None:
    with (workdir / "shikaku-out" / "run-000001" / "manifest.csv").open(
        encoding="utf-8-sig", newline=""
    ) as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    assert "'" + HOSTILE_NAME in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
