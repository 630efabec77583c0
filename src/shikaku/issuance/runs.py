"""Issuance runs as plain operations on ids: start, extract, execute (and resume), list, show.

A run moves extracting → extracted → done. The driver (this module) only schedules: range
tasks extract (issuance/extract.py) and letter tasks batch (issuance/letters.py) on the
engine, render tasks render and record (issuance/work.py); the driver shows progress, writes
the held report and the manifest. Each step is safe to repeat: an extraction that did not
finish starts over (its tasks read one frozen registry, which a new attempt takes afresh), a
partition is recorded done with its file in one transaction after the file is renamed into
place, and the manifest is rebuilt from the ledger. So `resume` is simply "do whatever is
left", after a clean stop, an exception or kill -9 alike.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, func, select

from shikaku.domain.errors import DomainError
from shikaku.domain.identifiers import run_label
from shikaku.issuance.certificate_returns import (
    RETURNS_CSV,
    RETURNS_PDF,
    request_returns,
    write_returns_list,
)
from shikaku.issuance.engine import Engine as WorkEngine
from shikaku.issuance.engine import InlineEngine
from shikaku.issuance.extract import (
    ATTEMPT,
    CERTIFICATE_KINDS,
    ExtractionSummary,
    KeySource,
    RangeTask,
    extract_range,
    mark_extracted,
    write_held_report,
)
from shikaku.issuance.jobs import Job, plan_jobs
from shikaku.issuance.letters import batch_letters, plan_letters
from shikaku.issuance.manifest import MANIFEST_CSV, MANIFEST_JSON, ManifestWriter
from shikaku.issuance.return_letters import build_return_letters
from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.work import (
    atomic_write,
    clean_partial,
    output_fs,
    render_job,
    renderer_for,
)
from shikaku.registry.db import analyze_after_load, read_once, write_transaction
from shikaku.registry.snapshot import frozen_registry
from shikaku.registry.tables import (
    certificate_returns,
    employers,
    run_extract_tasks,
    run_letters,
    run_partitions,
    run_targets,
    runs,
)
from shikaku.security.mynumber import MyNumberVault

Progress = Callable[[int], None]


class RunError(DomainError):
    """A run cannot do what was asked (unknown id, wrong state)."""


def run_dir(output: Path | str, run_id: int) -> str:
    """The run's folder: under a local directory (made absolute) or an fsspec URL."""
    name = f"run-{run_id:06d}"
    if isinstance(output, str) and "://" in output:
        return f"{output.rstrip('/')}/{name}"
    return str((Path(output) / name).resolve())


def create_run(
    engine: Engine,
    config: RunConfig,
    output: Path | str,
    kind: str,
    extraction_date: date,
    issued_on: date,
    after_run_id: int | None = None,
    expiring_before: date | None = None,
) -> int:
    with write_transaction(engine) as conn:
        if after_run_id is not None:
            after = conn.execute(select(runs.c.status).where(runs.c.id == after_run_id)).scalar()
            if after is None:
                raise RunError(f"実行 {after_run_id} はありません", f"no run {after_run_id}")
            if after != "done":
                raise RunError(
                    f"実行 {after_run_id} が完了していません（先に resume してください）",
                    f"run {after_run_id} is not done yet: resume it first",
                )
        run_id = conn.execute(
            runs.insert()
            .values(
                kind=kind,
                after_run_id=after_run_id,
                expiring_before=expiring_before,
                extraction_date=extraction_date,
                issued_on=issued_on,
                status="extracting",
                output_url="",
                settings_json=config.to_json(),
                created_at=datetime.now(UTC).replace(tzinfo=None),
            )
            .returning(runs.c.id)
        ).scalar_one()
        conn.execute(
            runs.update().where(runs.c.id == run_id).values(output_url=run_dir(output, run_id))
        )
    return int(run_id)


def load_config(engine: Engine, run_id: int) -> tuple[Any, RunConfig]:
    with engine.connect() as conn:
        run = conn.execute(select(runs).where(runs.c.id == run_id)).one_or_none()
    if run is None:
        raise RunError(f"実行 {run_id} はありません", f"no run {run_id}")
    return run, RunConfig.from_json(run.settings_json)


@dataclass
class ExecutionSummary:
    run_id: int
    partitions_rendered: int = 0
    notices_rendered: int = 0
    pages: int = 0
    manifest_csv: str = ""
    manifest_json: str = ""
    output_url: str = ""
    parallel_seconds: float = 0.0  # while render tasks ran
    driver_seconds: float = 0.0  # the driver alone: cleaning up, return letters, manifest


def _clean_temporaries(output_url: str) -> None:
    """Half-written files of a killed run or worker: never seen as output, removed before a
    resume and after the render tasks (the `.partial/` folder, see work.atomic_write)."""
    clean_partial(*output_fs(output_url))


def execute(
    engine: Engine,
    run_id: int,
    work_engine: WorkEngine,
    task_notices: int,
    progress: Progress | None = None,
) -> ExecutionSummary:
    """Render and record every pending partition (on the engine) while the manifest follows
    the partitions done; the run is done. The engine is finished once the last partition is
    rendered: its workers shut down while the driver ends the manifest."""
    started = time.perf_counter()
    run, config = load_config(engine, run_id)
    if run.status == "extracting":
        raise RunError(
            f"実行 {run_id} は抽出が終わっていません（resume で抽出からやり直します）",
            f"run {run_id} is not extracted: resume it",
        )
    summary = ExecutionSummary(run_id, output_url=run.output_url)
    _clean_temporaries(run.output_url)
    jobs = plan_jobs(lambda: read_once(engine), run_id, database_url(engine), config, task_notices)
    stretch = DoneStretch()
    with manifest_stream(engine, run, config) as manifest:
        parallel = time.perf_counter()
        for done in work_engine.map_unordered(render_job, stretch.follow(jobs)):
            summary.partitions_rendered += done.partitions
            summary.notices_rendered += done.notices
            summary.pages += done.pages
            if progress is not None:
                progress(done.notices)
            upto = stretch.done(done.last_partition)
            if upto is not None:
                with read_once(engine) as conn:
                    manifest.add(conn, upto)
        summary.parallel_seconds = time.perf_counter() - parallel
        work_engine.finish()
        if run.kind in CERTIFICATE_KINDS:
            write_returns(engine, run_id)
    _clean_temporaries(run.output_url)  # left by a worker that was killed mid-file
    summary.manifest_csv = f"{run.output_url}/{MANIFEST_CSV}"
    summary.manifest_json = f"{run.output_url}/{MANIFEST_JSON}"
    summary.driver_seconds = time.perf_counter() - started - summary.parallel_seconds
    return summary


class DoneStretch:
    """Which partitions are done from the first on, as jobs (planned in partition order)
    finish in any order: the manifest follows in partition order."""

    def __init__(self) -> None:
        self.sent: deque[int] = deque()  # each job's last partition, in the order planned
        self.finished: set[int] = set()

    def follow(self, jobs: Iterable[Job]) -> Iterator[Job]:
        for job in jobs:
            self.sent.append(job.partitions[-1])
            yield job

    def done(self, last_partition: int) -> int | None:
        """A job ended: the last partition of the stretch now done, if it grew."""
        self.finished.add(last_partition)
        upto = None
        while self.sent and self.sent[0] in self.finished:
            upto = self.sent.popleft()
            self.finished.discard(upto)
        return upto


def database_url(engine: Engine) -> str:
    """The URL a worker process opens: with the password, and an absolute SQLite path."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).resolve()))
    return url.render_as_string(hide_password=False)


def write_returns(engine: Engine, run_id: int) -> int:
    """A certificate run's return requests, rebuilt from the ledger: the list (returns.csv)
    and the letters (returns.pdf, 資格確認書の返却のお願い; drawn with the run's frozen
    settings and fonts). No returns.pdf when the run carries no printable request.
    Returns the number of letters."""
    run, config = load_config(engine, run_id)
    renderer = renderer_for(config)
    fs, root = output_fs(run.output_url)
    fs.makedirs(root, exist_ok=True)
    with engine.connect() as conn:
        with atomic_write(fs, root, RETURNS_CSV) as sink:
            write_returns_list(conn, run_id, sink)
        letters = build_return_letters(conn, run_id, renderer.fonts.unprintable)
    pdf = f"{root}/{RETURNS_PDF}"
    if not letters:
        if fs.exists(pdf):
            fs.rm(pdf)
        return 0
    with atomic_write(fs, root, RETURNS_PDF) as sink:
        renderer.render_return_letters(letters, sink)
    return len(letters)


@contextmanager
def manifest_stream(engine: Engine, run: Any, config: RunConfig) -> Iterator[ManifestWriter]:
    """The manifest of `run` (its row), written as its partitions are done (`add`); when the
    block ends, with every partition done, the rest and the totals are written, the files put
    in place and the run is done. Nothing is put in place if the block fails."""
    run_id = run.id
    fs, root = output_fs(run.output_url)
    fs.makedirs(root, exist_ok=True)
    with (
        atomic_write(fs, root, MANIFEST_CSV) as csv_sink,
        atomic_write(fs, root, MANIFEST_JSON) as json_sink,
        tempfile.TemporaryFile() as body,
    ):
        manifest = ManifestWriter(
            run, config.barcode_discount_min_letters, csv_sink, json_sink, body
        )
        yield manifest
        with read_once(engine) as conn:
            pending = conn.execute(
                select(func.count())
                .select_from(run_partitions)
                .where(run_partitions.c.run_id == run_id, run_partitions.c.status != "done")
            ).scalar_one()
            if pending:
                raise RunError(
                    f"実行 {run_id} に未処理の区画が {pending} 件あります",
                    f"run {run_id} has {pending} partitions pending",
                )
            manifest.finish(conn)
    with write_transaction(engine) as conn:
        conn.execute(
            runs.update()
            .where(runs.c.id == run_id)
            .values(status="done", finished_at=datetime.now(UTC).replace(tzinfo=None))
        )


RANGE_EMPLOYERS = 1000  # employers per extraction task (settings issuance.extract_employers)
TASK_NOTICES = 2000  # letters per batch task (settings issuance.task_notices)


def extract_run(
    engine: Engine,
    run_id: int,
    vault: MyNumberVault,
    report_dir: Path,
    progress: Progress | None = None,
    work: WorkEngine | None = None,
    key_file: Path | str | None = None,
    range_employers: int = RANGE_EMPLOYERS,
    task_notices: int = TASK_NOTICES,
    waiting: Callable[[], None] | None = None,
) -> ExtractionSummary:
    """Fill the ledger of a run in status extracting, on the engine, and mark it extracted.

    The driver freezes the registry (registry.snapshot), cuts the insurer's employers into
    ranges of `range_employers` in 記号 order and hands them to range tasks; then the home
    letters go to batch tasks by postal area; then it writes the held report. Progress gets
    the members read so far. A run whose extraction did not finish starts it over here."""
    started = time.perf_counter()
    run, config = load_config(engine, run_id)
    if run.status != "extracting":
        raise RunError(f"実行 {run_id} は抽出済みです", f"run {run_id} was extracted already")
    work = work or InlineEngine()
    url = database_url(engine)
    keys = KeySource.of(vault, key_file)
    attempt = uuid.uuid4().hex
    summary = ExtractionSummary(run_id=run_id)
    with write_transaction(engine) as conn:
        _start_over(conn, run_id, attempt)
        if run.kind in CERTIFICATE_KINDS:
            request_returns(conn, run)
            summary.returns = conn.execute(
                select(func.count()).where(certificate_returns.c.notified_run_id == run_id)
            ).scalar_one()
    parallel = 0.0
    with frozen_registry(engine, run_label(run_id), waiting) as (conn, snapshot):
        ranges = EmployerRanges(conn, config.insurer_number, range_employers)
        bounds = list(ranges)  # a few values per 1,000 employers: flat in the registry's size
        if snapshot.id is None:
            conn.rollback()  # SQLite: the lock keeps imports out; no read holds the WAL back
        tasks = (
            RangeTask(run_id, url, snapshot, attempt, config, keys, first, low, high)
            for first, low, high in bounds
        )
        begun = time.perf_counter()
        for counts in work.map_unordered(extract_range, tasks):
            summary.add(counts)
            if progress is not None:
                progress(summary.members)
        parallel += time.perf_counter() - begun
    letters = plan_letters(
        run_id, url, attempt, config, summary.letters, ranges.total + 1, task_notices
    )
    # PostgreSQL plans the render tasks' reads and writes of the new ledger rows on fresh
    # statistics, not on those of an empty table. Gathered beside the letter tasks (which
    # add the home letters' rows; statistics steer plans, never results): the ANALYZE took
    # 0.4 s of the driver's own work at 200k members.
    with ThreadPoolExecutor(1, thread_name_prefix="shikaku-analyze") as beside:
        analyzed = beside.submit(
            analyze_after_load, engine, (run_targets, run_partitions), summary.targets
        )
        begun = time.perf_counter()
        for counts in work.map_unordered(batch_letters, letters):
            summary.batches += counts.batches
        parallel += time.perf_counter() - begun
        analyzed.result()  # any wait for it counts as the driver's
    with write_transaction(engine) as conn:
        mark_extracted(conn, summary)
        conn.execute(run_extract_tasks.delete().where(run_extract_tasks.c.run_id == run_id))
    write_held_report(read_once(engine), report_dir, summary)
    if progress is not None:
        progress(summary.members)
    summary.parallel_seconds = parallel
    summary.driver_seconds = time.perf_counter() - started - parallel
    return summary


def _start_over(conn: Connection, run_id: int, attempt: str) -> None:
    """Whatever an unfinished extraction of the run left goes, and its tasks (any still
    running somewhere) are turned away: the new attempt is the only one that may write."""
    for table in (run_targets, run_partitions, run_letters, run_extract_tasks):
        conn.execute(table.delete().where(table.c.run_id == run_id))
    conn.execute(run_extract_tasks.insert().values(run_id=run_id, task=ATTEMPT, summary=attempt))


class EmployerRanges:
    """The insurer's employers in 記号 order, cut every `size`: (rank of the range's first
    employer, low, high) with [low, high) covering every 記号 (None: open). One streamed
    statement over the employers' unique key, read in the frozen registry; `total` is the
    number of employers once iterated (home-letter batches are numbered after them)."""

    def __init__(self, conn: Connection, insurer_number: str, size: int) -> None:
        self.conn = conn
        self.insurer_number = insurer_number
        self.size = max(1, size)
        self.total = 0

    def __iter__(self) -> Iterator[tuple[int, str | None, str | None]]:
        m = employers.c
        symbols = self.conn.execute(
            select(m.symbol)
            .where(m.insurer_number == self.insurer_number)
            .order_by(m.symbol)
            .execution_options(yield_per=10_000)
        ).scalars()
        first, low = 1, None
        for i, symbol in enumerate(symbols):
            self.total = i + 1
            if i and i % self.size == 0:
                yield first, low, symbol
                first, low = i + 1, symbol
        yield first, low, None


@dataclass(frozen=True)
class RunInfo:
    id: int
    label: str
    kind: str
    after_run_id: int | None
    extraction_date: date
    issued_on: date
    status: str
    targets: int
    held: int
    partitions: int
    partitions_done: int
    output_url: str
    created_at: datetime
    finished_at: datetime | None
    expiring_before: date | None = None


def list_runs(engine: Engine, run_id: int | None = None) -> list[RunInfo]:
    """Runs newest first, with their progress; two statements. Read once: counting a 1M
    run's done partitions filled the 64 MiB page cache of a pooled connection with 14 MiB
    (at the end of every run, `shikaku issue` shows where it is)."""
    p = run_partitions.c
    with read_once(engine) as conn:
        query = select(runs).order_by(runs.c.id.desc())
        if run_id is not None:
            query = query.where(runs.c.id == run_id)
        rows = conn.execute(query).all()
        done_q = select(p.run_id, func.count()).where(p.status == "done").group_by(p.run_id)
        if run_id is not None:
            done_q = done_q.where(p.run_id == run_id)
        done: dict[int, int] = dict(conn.execute(done_q).all())
    return [
        RunInfo(
            r.id,
            run_label(r.id),
            r.kind,
            r.after_run_id,
            r.extraction_date,
            r.issued_on,
            r.status,
            r.targets,
            r.held,
            r.partitions,
            int(done.get(r.id, 0)),
            r.output_url,
            r.created_at,
            r.finished_at,
            r.expiring_before,
        )
        for r in rows
    ]


def latest_run(engine: Engine, kind: str, extraction_date: date) -> RunInfo | None:
    """The newest run of this kind and date, if any (the demo reuses or resumes it)."""
    with engine.connect() as conn:
        run_id = conn.execute(
            select(runs.c.id)
            .where(runs.c.kind == kind, runs.c.extraction_date == extraction_date)
            .order_by(runs.c.id.desc())
            .limit(1)
        ).scalar()
    return None if run_id is None else list_runs(engine, int(run_id))[0]


class HeldTarget(NamedTuple):
    symbol: str
    number: str
    branch: str
    held_reason: str


def held_targets(engine: Engine, run_id: int) -> list[HeldTarget]:
    c = run_targets.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.symbol, c.number, c.branch, c.held_reason)
            .where(c.run_id == run_id, c.status == "held")
            .order_by(c.symbol, c.number, c.branch)
        ).all()
    return [HeldTarget(r.symbol, r.number, r.branch, r.held_reason or "") for r in rows]
