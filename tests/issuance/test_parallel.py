"""Extraction in range tasks: the number of tasks changes nothing (SQLite and PostgreSQL).

Each run kind is run twice on the same registry, once as one extraction task and once as
three (and several letter tasks), and must give the same ledger rows and the same bytes in
every file. The three-task run also has an import arrive between two of its tasks: SQLite
refuses it (docs/issuance.md), PostgreSQL takes it and the run, reading its exported
snapshot, does not see it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, func, select, text

from shikaku.demo.changes import write_demo_changes
from shikaku.domain.errors import DomainError
from shikaku.issuance.engine import InlineEngine
from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.runs import create_run, database_url, execute, extract_run
from shikaku.issuance.verify import verify_run
from shikaku.registry.db import is_sqlite, write_transaction
from shikaku.registry.snapshot import registry_writes
from shikaku.registry.tables import (
    certificates,
    employers,
    run_containers,
    run_extract_tasks,
    run_letters,
    run_partitions,
    run_targets,
    runs,
)
from shikaku.security.mynumber import MyNumberVault
from shikaku.settings import Settings
from tests.conftest import FIXED_KEY
from tests.issuance.helpers import CUT_OFF, DAY, EXTRACTION, demo_registry, import_path, settings
from tests.registry.helpers import MEMBER_HEADER, member, write

J = TypeVar("J")
R = TypeVar("R")
SHIKAKU = str(Path(sys.executable).parent / "shikaku")


class CountingEngine(InlineEngine):
    """The inline engine, counting tasks by function; `between` runs before the second
    range task (an import arriving mid-extraction)."""

    def __init__(self, between: Callable[[], None] | None = None) -> None:
        self.calls: Counter[str] = Counter()
        self.between = between

    def map_unordered(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[R]:
        for job in jobs:
            self.calls[fn.__name__] += 1
            if fn.__name__ == "extract_range" and self.calls[fn.__name__] == 2 and self.between:
                self.between()
            yield fn(job)


def _rows(engine: Engine, run_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every ledger row of the run, the run's id left out."""
    out = {}
    for table in (run_targets, run_partitions, run_containers):
        key = [c for c in table.primary_key.columns if c.name != "run_id"]
        cols = [c for c in table.columns if c.name != "run_id"]
        with engine.connect() as conn:
            out[table.name] = [
                tuple(r)
                for r in conn.execute(select(*cols).where(table.c.run_id == run_id).order_by(*key))
            ]
    return out


def _batches(engine: Engine, run_id: int) -> list[Any]:
    p = run_partitions.c
    with engine.connect() as conn:
        return list(
            conn.execute(select(run_partitions).where(p.run_id == run_id, p.kind == "batch"))
        )


def _files(engine: Engine, run_id: int) -> dict[str, bytes]:
    with engine.connect() as conn:
        root = Path(conn.execute(select(runs.c.output_url).where(runs.c.id == run_id)).scalar_one())
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _undo(engine: Engine, run_id: int) -> None:
    """Forget a run as if it never was, ids included, so the next run gets its number."""
    with write_transaction(engine) as conn:
        for table in (certificates, run_containers, run_targets, run_partitions, run_letters,
                      run_extract_tasks):  # fmt: skip
            conn.execute(table.delete().where(table.c.run_id == run_id))
        conn.execute(runs.delete().where(runs.c.id == run_id))
        if not is_sqlite(conn):
            for seq, table in (("runs_id_seq", "runs"), ("certificates_id_seq", "certificates")):
                conn.execute(
                    text(f"SELECT setval('{seq}', coalesce(max(id), 0) + 1, false) FROM {table}")
                )


def _employer_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(employers)).scalar_one())


def _run(
    engine: Engine,
    vault: MyNumberVault,
    s: Settings,
    kind: str,
    day: date,
    tasks: int,
    after: int | None = None,
    between: Callable[[], None] | None = None,
) -> tuple[int, CountingEngine]:
    work = CountingEngine(between)
    run_id = create_run(engine, RunConfig.from_settings(s), s.output_dir, kind, day, day, after)
    per_task = -(-_employer_count(engine) // tasks)
    extract_run(
        engine, run_id, vault, s.issuance.report_dir, work=work, range_employers=per_task,
        task_notices=10**6 if tasks == 1 else 1,
    )  # fmt: skip
    execute(engine, run_id, work, task_notices=30)
    assert work.calls["extract_range"] == tasks
    return run_id, work


def _settings(folder: Path) -> Settings:
    """Small batches of fine postal areas: several letter tasks, batches cut inside areas."""
    return settings(
        folder,
        issuance={"report_dir": str(folder / "reports"), "postal_area_digits": 7,
                  "batch_letters": 3},
    )  # fmt: skip


def _same_with_one_and_three_tasks(
    engine: Engine,
    vault: MyNumberVault,
    tmp_path: Path,
    kind: str,
    day: date,
    after: int | None = None,
    between: Callable[[], None] | None = None,
) -> int:
    one, work = _run(engine, vault, _settings(tmp_path / "one"), kind, day, 1, after)
    assert work.calls["batch_letters"] == 1
    assert verify_run(engine, one, deep=True).ok
    rows, files = _rows(engine, one), _files(engine, one)
    assert rows["run_targets"] and any(n.startswith("letters/") for n in files)
    _undo(engine, one)
    three, work = _run(engine, vault, _settings(tmp_path / "three"), kind, day, 3, after, between)
    areas = {part.area for part in _batches(engine, three)}
    assert three == one and work.calls["batch_letters"] == len(areas)  # a task per area
    report = verify_run(engine, three, deep=True)
    assert report.ok, report.problems
    assert _rows(engine, three) == rows
    assert _files(engine, three) == files  # PDFs, manifest (and returns) byte for byte
    return three


def _import_between(engine: Engine, tmp_path: Path) -> Callable[[], None]:
    """An import through the real CLI, of a new member of the last employer (in the third
    range): refused on SQLite while the run extracts; on PostgreSQL it commits, unseen."""

    def run_import() -> None:
        with engine.connect() as conn:
            symbol = conn.execute(
                select(employers.c.symbol).order_by(employers.c.symbol.desc()).limit(1)
            ).scalar_one()
        path = write(tmp_path / "late.csv", MEMBER_HEADER, [member("999999", 記号=symbol)])
        env = {
            **os.environ,
            "SHIKAKU_MY_NUMBER_KEY": __import__("base64").b64encode(FIXED_KEY).decode(),
            "SHIKAKU_CONFIG": str(tmp_path / "none.toml"),
        }
        (tmp_path / "none.toml").write_text("", encoding="utf-8")
        result = subprocess.run(
            [SHIKAKU, "import", str(path), "--database-url", database_url(engine)],
            env=env, cwd=tmp_path, capture_output=True, text=True,
        )  # fmt: skip
        if is_sqlite(engine):
            assert result.returncode == 2, result.stdout + result.stderr
            assert "R000001 が抽出中のため取り込めません" in result.stderr
        else:
            assert result.returncode == 0, result.stdout + result.stderr

    return run_import


def test_full_run_is_the_same_in_one_or_three_tasks_even_with_an_import_between(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    demo_registry(engine, vault, tmp_path, members=300)
    _same_with_one_and_three_tasks(
        engine, vault, tmp_path, "full", EXTRACTION, between=_import_between(engine, tmp_path)
    )


def test_follow_up_is_the_same_in_one_or_three_tasks(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    members_csv = demo_registry(engine, vault, tmp_path, members=300)
    full, _ = _run(engine, vault, settings(tmp_path / "full"), "full", EXTRACTION, 3)
    changes = write_demo_changes(members_csv, tmp_path / "changes.csv", 3, EXTRACTION)
    import_path(engine, changes.path, vault, tmp_path)
    follow = _same_with_one_and_three_tasks(engine, vault, tmp_path, "follow_up", CUT_OFF, full)
    with engine.connect() as conn:
        t = run_targets.c
        printed = set(
            conn.execute(
                select(t.symbol, t.number, t.branch).where(t.run_id == follow, t.status == "ready")
            ).all()
        )
    assert changes.expected_follow_up <= printed


def test_certificate_run_is_the_same_in_one_or_three_tasks(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    demo_registry(engine, vault, tmp_path, members=300)
    run_id = _same_with_one_and_three_tasks(engine, vault, tmp_path, "certificates", DAY)
    with engine.connect() as conn:
        issued = conn.execute(
            select(func.count()).where(certificates.c.run_id == run_id)
        ).scalar_one()
        ready = conn.execute(
            select(func.count()).where(
                run_targets.c.run_id == run_id, run_targets.c.status == "ready"
            )
        ).scalar_one()
    assert issued == ready > 10


def test_an_extraction_waits_for_an_import_in_progress(
    sqlite_engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    """SQLite: an extraction that finds an import holding the registry waits until it ends."""
    engine = sqlite_engine
    demo_registry(engine, vault, tmp_path, members=60)
    s = settings(tmp_path)
    run_id = create_run(engine, RunConfig.from_settings(s), s.output_dir, "full", EXTRACTION,
                        EXTRACTION)  # fmt: skip
    waiting = threading.Event()
    failed: list[BaseException] = []

    def extract() -> None:
        try:
            extract_run(engine, run_id, vault, s.issuance.report_dir, waiting=waiting.set)
        except BaseException as exc:  # reported below
            failed.append(exc)

    with registry_writes(engine):  # an import in progress
        worker = threading.Thread(target=extract)
        worker.start()
        assert waiting.wait(60), "the extraction did not wait for the import"
        with engine.connect() as conn:
            status = conn.execute(select(runs.c.status).where(runs.c.id == run_id)).scalar()
        assert status == "extracting"
    worker.join(120)
    assert not failed and not worker.is_alive()
    with engine.connect() as conn:
        assert conn.execute(select(runs.c.status).where(runs.c.id == run_id)).scalar() == (
            "extracted"
        )


@pytest.mark.parametrize("tasks", [1, 4])
def test_a_range_task_costs_a_fixed_number_of_statements(
    sqlite_engine: Engine, vault: MyNumberVault, tmp_path: Path, tasks: int
) -> None:
    """No statement per employer (the 標準報酬月額 comes in the stream): the statements of
    an extraction grow with its tasks, not with the registry."""
    from sqlalchemy import event

    from shikaku.issuance.work import database_for

    engine = sqlite_engine
    demo_registry(engine, vault, tmp_path, members=400)
    s = settings(tmp_path)
    run_id = create_run(engine, RunConfig.from_settings(s), s.output_dir, "full", EXTRACTION,
                        EXTRACTION)  # fmt: skip
    statements: list[str] = []
    worker_db = database_for(database_url(engine))
    listen = event.listens_for(worker_db, "before_cursor_execute")
    hook = listen(lambda *args: statements.append(args[2]))
    try:
        per_task = -(-_employer_count(engine) // tasks)
        extract_run(engine, run_id, vault, s.issuance.report_dir, range_employers=per_task)
    finally:
        event.remove(worker_db, "before_cursor_execute", hook)
    reads = [q for q in statements if q.lstrip().upper().startswith("SELECT")]
    # per range task: its summary, the run, the ranks, the stream, the attempt; per letters
    # task: the attempt and a page or two
    assert len(reads) <= 6 * tasks + 4, reads  # 62 employers: 8 reads for one task


def test_a_worker_loads_the_runs_key_or_refuses(
    vault: MyNumberVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task carries no key: a worker process loads its own (environment, else key file)
    and must hold the run's; the task carries only a fingerprint (an HMAC, no digit of it)."""
    import base64

    from shikaku.issuance import extract
    from shikaku.security.mynumber import KEY_ENV

    source = extract.KeySource.of(vault, None)
    assert source.vault() is vault  # the driver's own process (inline)
    monkeypatch.setattr(extract, "_VAULTS", {})  # as in a worker process
    monkeypatch.setenv(KEY_ENV, base64.b64encode(FIXED_KEY).decode())
    assert source.vault().last4(vault.encrypt("123456789018")) == "9018"
    monkeypatch.setattr(extract, "_VAULTS", {})
    monkeypatch.setenv(KEY_ENV, base64.b64encode(bytes(reversed(FIXED_KEY))).decode())
    with pytest.raises(DomainError, match="not the run's"):
        source.vault()


def test_postgresql_plans_the_render_tasks_on_fresh_statistics(
    pg_engine: Engine, vault: MyNumberVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After extraction the new ledger rows are analysed: planned as an empty table, each
    render task's read walked every pending partition of the run (1M members: 499 CPU-s of
    the server's for one worker's run)."""
    from shikaku.registry import db

    monkeypatch.setattr(db, "ANALYZE_AFTER_ROWS", 1)  # the demo registry is small
    demo_registry(pg_engine, vault, tmp_path, members=60)
    run_id, _work = _run(pg_engine, vault, settings(tmp_path), "full", EXTRACTION, 1)
    with pg_engine.connect() as conn:
        analysed = conn.execute(
            text(
                "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL "
                "AND relname IN ('run_targets', 'run_partitions')"
            )
        ).scalars()
        assert set(analysed) == {"run_targets", "run_partitions"}
    assert verify_run(pg_engine, run_id, deep=True).ok
