"""Runs as the console shows and drives them: honest states, and the work an admin starts
from the browser (a follow-up or a certificate run, resume, verify) done in the background.

Starting and resuming call what `shikaku issue …` and `shikaku runs resume` call
(issuance.runs.create_run, extract_run, execute with the settings' issuance engine;
issuance.verify.verify_run for `runs verify`), in a thread of the server process; each is a
`console_jobs` row, and the page reads a run's progress from the ledger (partitions done), so
any server process shows it. A job whose process is gone (the server restarted) shows as
stopped, and the run can be resumed: every step of a run is safe to repeat.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from shikaku.domain.errors import DomainError
from shikaku.domain.identifiers import run_label
from shikaku.registry.db import write_transaction
from shikaku.registry.tables import console_jobs, console_users, run_partitions, run_targets, runs
from shikaku.security.mynumber import MyNumberVault
from shikaku.service.accounts import User, now
from shikaku.service.desk import DeskError, audit_change, audit_view

logger = logging.getLogger(__name__)

CONSOLE_RUN = "console_run"
STARTABLE = {"follow_up": "追加発行（お知らせ）", "certificates": "資格確認書の発行"}
NOTICE_KINDS = ("full", "follow_up")  # what a follow-up may follow
HOST = socket.gethostname()[:255]
_threads: dict[int, threading.Thread] = {}  # this process's jobs, by id


class OperationError(DeskError):
    """A run cannot be started, resumed or verified as asked."""


# ------------------------------------------------------------------ jobs


@dataclass(frozen=True)
class Job:
    id: int
    kind: str  # run / verify
    run_id: int
    user_name: str
    started_at: datetime
    finished_at: datetime | None
    status: str  # running / done / failed / stopped (its process is gone)
    message: str | None

    @property
    def running(self) -> bool:
        return self.status == "running"


def _alive(row: Any) -> bool:
    """Whether a job marked running still has its process (only known on this host)."""
    if row.host != HOST:
        return True
    if row.pid == os.getpid():
        thread = _threads.get(row.id)
        return thread is not None and thread.is_alive()
    try:
        os.kill(row.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _job(row: Any) -> Job:
    status = row.status
    if status == "running" and not _alive(row):
        status = "stopped"
    return Job(
        row.id, row.kind, row.run_id, row.user_name, row.started_at, row.finished_at, status,
        row.message,
    )  # fmt: skip


def _jobs_query() -> Any:
    j, u = console_jobs.c, console_users.c
    return select(
        j.id, j.kind, j.run_id, j.started_at, j.finished_at, j.status, j.message, j.host, j.pid,
        u.name.label("user_name"),
    ).join_from(console_jobs, console_users, u.id == j.user_id)  # fmt: skip


def latest_jobs(engine: Engine, run_ids: Iterable[int]) -> dict[tuple[int, str], Job]:
    """The newest job of each kind for each run, in one statement."""
    ids = list(run_ids)
    if not ids:
        return {}
    found: dict[tuple[int, str], Job] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            _jobs_query().where(console_jobs.c.run_id.in_(ids)).order_by(console_jobs.c.id)
        ).all()
    for row in rows:
        found[(row.run_id, row.kind)] = _job(row)
    return found


def start_job(
    engine: Engine, settings: Any, vault: MyNumberVault, user: User, run_id: int, kind: str
) -> int:
    """Start `kind` (run: whatever is left of the run; verify) in the background; its id.
    Refused while another job of the run is at work."""
    j = console_jobs.c
    with write_transaction(engine) as conn:
        run = conn.execute(select(runs.c.status).where(runs.c.id == run_id)).first()
        if run is None:
            raise OperationError("この実行はありません", "no such run", "run")
        if kind == "run" and run.status == "done":
            raise OperationError("この実行は完了しています", "already done", "run")
        if kind == "verify" and run.status != "done":
            raise OperationError(
                "完了していない実行は照合できません（先に再開してください）", "not done", "run"
            )
        for other in conn.execute(
            select(j.id, j.host, j.pid).where(j.run_id == run_id, j.status == "running")
        ):
            if _alive(other):
                raise OperationError(
                    "この実行はいま処理中です。終わってから操作してください", "busy", "run"
                )
            conn.execute(  # its process is gone: say so, once
                console_jobs.update()
                .where(j.id == other.id)
                .values(status="failed", finished_at=now(), message="処理が中断されました")
            )
        job_id = int(
            conn.execute(
                console_jobs.insert()
                .values(
                    kind=kind,
                    run_id=run_id,
                    user_id=user.id,
                    started_at=now(),
                    status="running",
                    host=HOST,
                    pid=os.getpid(),
                )
                .returning(j.id)
            ).scalar_one()
        )
    audit_change(engine, user, CONSOLE_RUN, None, run=run_id, action=kind, job=job_id)
    thread = threading.Thread(
        target=_work, args=(engine, settings, vault, job_id, run_id, kind),
        name=f"console-job-{job_id}", daemon=True,
    )  # fmt: skip
    _threads[job_id] = thread
    thread.start()
    return job_id


def wait(job_id: int, timeout: float | None = None) -> None:
    """Wait for a job of this process to end (tests, and a server shutting down)."""
    thread = _threads.get(job_id)
    if thread is not None:
        thread.join(timeout)


def _work(
    engine: Engine, settings: Any, vault: MyNumberVault, job_id: int, run_id: int, kind: str
) -> None:
    try:
        message = (
            _verify(engine, run_id)
            if kind == "verify"
            else _finish(engine, settings, vault, run_id)
        )
        status = "done"
    except DomainError as exc:
        status, message = "failed", exc.ja
    except BaseException as exc:  # a bug or a lost database: logged, said without details
        logger.exception("console job %s (%s of run %s) failed", job_id, kind, run_id)
        status, message = (
            "failed",
            f"処理が失敗しました（{type(exc).__name__}）。ログを確認してください",
        )
    with write_transaction(engine) as conn:
        conn.execute(
            console_jobs.update()
            .where(console_jobs.c.id == job_id)
            .values(status=status, finished_at=now(), message=message[:2000])
        )


def _finish(engine: Engine, settings: Any, vault: MyNumberVault, run_id: int) -> str:
    """What `shikaku runs resume` does: extraction if left, then rendering and the manifest."""
    from shikaku.issuance.engine import make_engine
    from shikaku.issuance.runs import execute, extract_run, load_config

    run, _config = load_config(engine, run_id)
    if run.status == "extracting":
        extract_run(engine, run_id, vault, Path(settings.issuance.report_dir))
    run, _config = load_config(engine, run_id)
    if run.status != "done":
        cfg = settings.issuance
        work = make_engine(str(cfg.engine), cfg.scheduler, cfg.workers)
        try:
            result = execute(engine, run_id, work, cfg.task_notices)
        finally:
            work.close()
        return f"作成しました: {result.notices_rendered:,} 通・{result.pages:,} 頁"
    return "完了しています"


def _verify(engine: Engine, run_id: int) -> str:
    """What `shikaku runs verify` does; its report as one message."""
    from shikaku.issuance.verify import verify_run

    report = verify_run(engine, run_id)
    counts = (
        f"対象者 {report.targets:,} = 文書 {report.documents:,} = 容器内の通数 "
        f"{report.pieces_in_containers:,}（ファイル {report.files:,}・{report.pages:,} 頁・"
        f"保留 {report.held:,}）"
    )
    if report.ok:
        return f"照合OK: {counts}"
    problems = "\n".join(str(p) for p in report.problems[:20])
    raise OperationError(
        f"照合NG（{report.problem_count:,} 件）: {counts}\n{problems}", "verification failed"
    )


# ------------------------------------------------------------------ starting a run


def start_run(
    engine: Engine,
    settings: Any,
    vault: MyNumberVault,
    user: User,
    kind: str,
    day: date,
    issued_on: date,
    after: int | None = None,
) -> int:
    """Create a run as `shikaku issue follow-up|certificates` does and start it; its id."""
    from shikaku.issuance.runconfig import RunConfig
    from shikaku.issuance.runs import RunError, create_run

    if kind not in STARTABLE:
        raise OperationError("種類を選んでください", "choose a kind", "kind")
    if kind == "follow_up":
        if after is None:
            raise OperationError("先行する実行を選んでください", "choose a run", "after")
        with engine.connect() as conn:
            before = conn.execute(
                select(runs.c.kind, runs.c.status, runs.c.extraction_date).where(runs.c.id == after)
            ).first()
        if before is None or before.kind not in NOTICE_KINDS:
            raise OperationError("先行する実行を選んでください", "choose a run", "after")
        if before.status != "done":
            raise OperationError("先行する実行が完了していません", "not done", "after")
        if day <= before.extraction_date:
            raise OperationError(
                "締切日は先行する実行の基準日より後の日にしてください", "cut-off too early", "day"
            )
    output = settings.issuance.output_url or settings.output_dir
    try:
        run_id = create_run(
            engine, RunConfig.from_settings(settings), output, kind, day, issued_on,
            after if kind == "follow_up" else None,
        )  # fmt: skip
    except RunError as exc:
        raise OperationError(exc.ja, exc.en, "kind") from None
    audit_change(engine, user, CONSOLE_RUN, None, run=run_id, action="create", run_kind=kind)
    start_job(engine, settings, vault, user, run_id, "run")
    return run_id


# ------------------------------------------------------------------ what the pages show


@dataclass(frozen=True)
class RunRow:
    id: int
    label: str
    kind: str
    after_run_id: int | None
    extraction_date: date
    issued_on: date
    db_status: str
    targets: int
    held: int
    partitions: int
    partitions_done: int
    created_at: datetime
    finished_at: datetime | None
    job: Job | None  # the latest run job
    check: Job | None  # the latest verification

    @property
    def state(self) -> str:
        """What is true now: running / stopped / done / done_empty (nothing to print)."""
        if self.db_status == "done":
            return "done" if self.targets else "done_empty"
        return "running" if self.job is not None and self.job.running else "stopped"

    @property
    def state_ja(self) -> str:
        step = "抽出" if self.db_status == "extracting" else "作成"
        return {
            "running": f"{step}中",
            "stopped": f"未完了（{step}の途中）",
            "done": "完了",
            "done_empty": "完了（印刷した書類なし）",
        }[self.state]

    @property
    def can_resume(self) -> bool:
        return self.state == "stopped"

    @property
    def can_verify(self) -> bool:
        return self.db_status == "done" and not (self.check is not None and self.check.running)


@dataclass(frozen=True)
class RunList:
    runs: list[RunRow]
    reissues: int  # runs of kind reissue (one person each), not in `runs` unless asked
    reissues_today: int


def _runs_query() -> Any:
    r, p = runs.c, run_partitions.c
    done = (
        select(func.count())
        .where(p.run_id == r.id, p.status == "done")
        .correlate(runs)
        .scalar_subquery()
    )
    return select(
        r.id, r.kind, r.after_run_id, r.extraction_date, r.issued_on, r.status, r.targets,
        r.held, r.partitions, r.created_at, r.finished_at, done.label("done"),
    )  # fmt: skip


def _rows(engine: Engine, rows: list[Any]) -> list[RunRow]:
    jobs = latest_jobs(engine, [r.id for r in rows])
    return [
        RunRow(
            r.id,
            run_label(r.id),
            r.kind,
            r.after_run_id,
            r.extraction_date,
            r.issued_on,
            r.status,
            int(r.targets),
            int(r.held),
            int(r.partitions),
            int(r.done),
            r.created_at,
            r.finished_at,
            jobs.get((r.id, "run")),
            jobs.get((r.id, "verify")),
        )
        for r in rows
    ]


def run_list(engine: Engine, reissues: bool, today_start: datetime, limit: int = 200) -> RunList:
    """Runs newest first; one-person reissues only when asked (else counted)."""
    r = runs.c
    query = _runs_query().order_by(r.id.desc()).limit(limit)
    query = query.where(r.kind == "reissue") if reissues else query.where(r.kind != "reissue")
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        count, today = conn.execute(
            select(func.count(), func.count().filter(r.created_at >= today_start)).where(
                r.kind == "reissue"
            )
        ).one()
    return RunList(_rows(engine, list(rows)), int(count), int(today))


def notice_runs_done(engine: Engine) -> list[RunRow]:
    """Finished notice runs a follow-up may follow, newest first."""
    r = runs.c
    with engine.connect() as conn:
        rows = conn.execute(
            _runs_query().where(r.kind.in_(NOTICE_KINDS), r.status == "done").order_by(r.id.desc())
        ).all()
    return _rows(engine, list(rows))


_CODES = re.compile(r"U\+([0-9A-F]{4,6})")


@dataclass(frozen=True)
class HeldRow:
    person_id: int
    symbol: str
    number: str
    branch: str
    name: str
    address: str | None
    reason: str
    chars: tuple[str, ...]  # the characters the fonts lack (glyph holds), in order


@dataclass(frozen=True)
class Glyph:
    char: str
    code: str
    people: list[HeldRow]

    @property
    def block(self) -> str:
        """Where the character sits in Unicode, as an 外字 register names it."""
        return unicode_block(self.char)


# (first, last, name): where the characters a registry holds beyond JIS sit in Unicode.
_BLOCKS = (
    (0x3400, 0x4DBF, "CJK統合漢字拡張A"),
    (0x4E00, 0x9FFF, "CJK統合漢字"),
    (0xE000, 0xF8FF, "私用領域（外字）"),
    (0xF900, 0xFAFF, "CJK互換漢字"),
    (0x20000, 0x2A6DF, "CJK統合漢字拡張B"),
    (0x2A700, 0x2B73F, "CJK統合漢字拡張C"),
    (0x2B740, 0x2B81F, "CJK統合漢字拡張D"),
    (0x2B820, 0x2CEAF, "CJK統合漢字拡張E"),
    (0x2CEB0, 0x2EBEF, "CJK統合漢字拡張F"),
    (0x2EBF0, 0x2EE5F, "CJK統合漢字拡張I"),
    (0x2F800, 0x2FA1F, "CJK互換漢字補助"),
    (0x30000, 0x3134F, "CJK統合漢字拡張G"),
    (0x31350, 0x323AF, "CJK統合漢字拡張H"),
)


def unicode_block(char: str) -> str:
    code = ord(char)
    return next((name for first, last, name in _BLOCKS if first <= code <= last), "その他の文字")


@dataclass(frozen=True)
class RunDetail:
    run: RunRow
    held: list[HeldRow]
    glyphs: list[Glyph]  # each character the fonts lack, with the people it holds
    ready: int
    rendered: int
    pages: int


def held_rows(engine: Engine, run_id: int) -> list[HeldRow]:
    t = run_targets.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.person_id, t.symbol, t.number, t.branch, t.name, t.address, t.held_reason)
            .where(t.run_id == run_id, t.status == "held")
            .order_by(t.symbol, t.number, t.branch)
        ).all()
    return [
        HeldRow(
            r.person_id,
            r.symbol,
            r.number,
            r.branch,
            r.name,
            r.address,
            r.held_reason or "",
            tuple(dict.fromkeys(chr(int(c, 16)) for c in _CODES.findall(r.held_reason or ""))),
        )
        for r in rows
    ]


def run_detail(engine: Engine, run_id: int) -> RunDetail | None:
    r, t, part = runs.c, run_targets.c, run_partitions.c
    with engine.connect() as conn:
        row = conn.execute(_runs_query().where(r.id == run_id)).first()
        if row is None:
            return None
        ready, rendered = conn.execute(
            select(func.count(), func.count(t.page_first)).where(
                t.run_id == run_id, t.status == "ready"
            )
        ).one()
        pages = conn.execute(
            select(func.coalesce(func.sum(part.pages), 0)).where(part.run_id == run_id)
        ).scalar_one()
    held = held_rows(engine, run_id)
    by_char: dict[str, list[HeldRow]] = {}
    for h in held:
        for ch in h.chars:
            by_char.setdefault(ch, []).append(h)
    glyphs = [Glyph(ch, f"U+{ord(ch):04X}", people) for ch, people in sorted(by_char.items())]
    (run,) = _rows(engine, [row])
    return RunDetail(run, held, glyphs, int(ready), int(rendered), int(pages))


def audit_held_view(engine: Engine, user: User, run_id: int, view: str, hits: int) -> None:
    """The held list shows people's names: a read like any other."""
    audit_view(engine, user, "console_read", None, view=view, run=run_id, hits=hits)
