"""`shikaku import FILE`: stream a file into the registry in committed batches.

Guarantees: the header is checked before anything is written; every row is inserted,
updated, unchanged or listed in the error report (read = inserted + updated + unchanged +
rejected); each batch is one transaction, so a killed import leaves whole batches that a
re-run completes, never half a row; memory does not grow with the file.
"""

from __future__ import annotations

import csv
import hashlib
import multiprocessing
import os
import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, insert, select, update

from shikaku.registry.columns import FileKind
from shikaku.registry.db import write_transaction
from shikaku.registry.readers import open_table
from shikaku.registry.records import (
    EmployerRecord,
    MemberRecord,
    ParseContext,
    parse_employer,
    parse_member,
)
from shikaku.registry.rows import HeaderMap, RowError, detect_kind, map_header, undecodable_cell
from shikaku.registry.tables import import_runs
from shikaku.registry.upsert import Outcome, apply_employers, apply_members
from shikaku.security.mynumber import MyNumberVault

Record = EmployerRecord | MemberRecord
Rows = list[tuple[int, list[str]]]
Parsed = tuple[int, list[Record], list[RowError]]
Progress = Callable[[int, int], None]  # rows read so far, bytes read so far (0 for XLSX)


@dataclass
class ImportSummary:
    import_id: int
    kind: FileKind
    file_name: str
    encoding: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    report_path: Path | None = None
    ignored_columns: tuple[str, ...] = ()
    errors_sample: list[RowError] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.read == self.inserted + self.updated + self.unchanged + self.rejected


@dataclass(frozen=True)
class ImportOptions:
    insurer_number: str
    insured_branch: str
    report_dir: Path
    batch_size: int = 5000
    workers: int = 1
    kind: FileKind | None = None
    encoding: str | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _chunks(rows: Iterable[tuple[int, list[str]]], size: int) -> Iterator[Rows]:
    chunk: Rows = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# Worker-process state, set once by _init_worker so each task ships only its rows.
_worker: dict[str, Any] = {}


def _init_worker(header: HeaderMap, ctx: ParseContext) -> None:
    _worker["header"] = header
    _worker["ctx"] = ctx


def parse_rows(header: HeaderMap, ctx: ParseContext, rows: Rows) -> Parsed:
    parse: Callable[..., Record | list[RowError]] = (
        parse_member if header.kind is FileKind.MEMBERS else parse_employer
    )
    records: list[Record] = []
    errors: list[RowError] = []
    for line, cells in rows:
        bad = undecodable_cell(header, line, cells)
        result = parse(header, line, cells, ctx) if bad is None else [bad]
        if isinstance(result, list):
            errors.extend(result)
        else:
            records.append(result)
    return len(rows), records, errors


def _parse_in_worker(rows: Rows) -> Parsed:
    return parse_rows(_worker["header"], _worker["ctx"], rows)


def _parsed(
    chunks: Iterator[Rows], header: HeaderMap, ctx: ParseContext, workers: int
) -> Iterator[Parsed]:
    """Parse batches, in worker processes when asked, keeping at most a few batches in flight."""
    if workers <= 0:
        for chunk in chunks:
            yield parse_rows(header, ctx, chunk)
        return
    # forkserver: workers never inherit the parent's database connections.
    mp = multiprocessing.get_context("forkserver")
    with mp.Pool(workers, initializer=_init_worker, initargs=(header, ctx)) as pool:
        pending: deque[Any] = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(_parse_in_worker, (chunk,)))
            if len(pending) > workers + 1:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


class ErrorReport:
    """CSV in UTF-8 with BOM (Excel opens it as Japanese): 行, 列, 値, 理由, reason."""

    HEADER = ("行", "列", "値", "理由", "reason")

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO | None = None
        self._writer: Any = None

    def write(self, errors: Iterable[RowError]) -> None:
        errors = list(errors)
        if not errors:
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._file, lineterminator="\r\n")
            self._writer.writerow(self.HEADER)
        self._writer.writerows((e.line, e.column, e.value, e.ja, e.en) for e in errors)
        self._file.flush()

    def close(self) -> Path | None:
        if self._file is None:
            return None
        self._file.close()
        return self.path


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _start_run(engine: Engine, path: Path, kind: FileKind, encoding: str) -> int:
    with engine.begin() as conn:
        _mark_dead_runs(conn)
        return int(
            conn.execute(
                insert(import_runs)
                .values(
                    kind=str(kind),
                    file_name=path.name,
                    file_sha256=_sha256(path),
                    encoding=encoding,
                    status="running",
                    started_at=_now(),
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    rows_read=0,
                    rows_inserted=0,
                    rows_updated=0,
                    rows_unchanged=0,
                    rows_rejected=0,
                )
                .returning(import_runs.c.id)
            ).scalar_one()
        )


def _mark_dead_runs(conn: Connection) -> None:
    """Runs left 'running' by a process of this host that no longer exists were interrupted."""
    rows = conn.execute(
        select(import_runs.c.id, import_runs.c.pid).where(
            import_runs.c.status == "running", import_runs.c.host == socket.gethostname()
        )
    ).all()
    for run_id, pid in rows:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            conn.execute(
                update(import_runs).where(import_runs.c.id == run_id).values(status="interrupted")
            )
        except PermissionError:
            pass


def _apply(
    conn: Connection,
    kind: FileKind,
    records: list[Record],
    import_id: int,
    vault: MyNumberVault,
    insured_branch: str,
) -> Outcome:
    if kind is FileKind.MEMBERS:
        return apply_members(conn, records, import_id, vault, insured_branch)  # type: ignore[arg-type]
    return apply_employers(conn, records, import_id)  # type: ignore[arg-type]


def import_file(
    engine: Engine,
    path: Path,
    vault: MyNumberVault,
    options: ImportOptions,
    progress: Progress | None = None,
) -> ImportSummary:
    ctx = ParseContext(options.insurer_number, options.insured_branch, vault.index_key)
    with open_table(path, options.encoding) as table:
        kind = options.kind or detect_kind(table.header)
        header = map_header(table.header, kind)
        import_id = _start_run(engine, path, kind, table.encoding)
        summary = ImportSummary(
            import_id, kind, path.name, table.encoding, ignored_columns=header.ignored
        )
        report = ErrorReport(options.report_dir / f"import-{import_id:06d}-errors.csv")
        status = "failed"
        try:
            chunks = _chunks(table.rows, options.batch_size)
            for n_read, records, parse_errors in _parsed(chunks, header, ctx, options.workers):
                with write_transaction(engine) as conn:
                    out = _apply(conn, kind, records, import_id, vault, options.insured_branch)
                    errors = sorted([*parse_errors, *out.errors], key=lambda e: e.line)
                    rejected = len({e.line for e in errors})
                    summary.read += n_read
                    summary.inserted += out.inserted
                    summary.updated += out.updated
                    summary.unchanged += out.unchanged
                    summary.rejected += rejected
                    _save_counts(conn, summary)
                report.write(errors)
                if len(summary.errors_sample) < 20:
                    summary.errors_sample.extend(errors[: 20 - len(summary.errors_sample)])
                if progress is not None:
                    progress(summary.read, table.position())
            status = "done"
        finally:
            summary.report_path = report.close()
            with engine.begin() as conn:
                conn.execute(
                    update(import_runs)
                    .where(import_runs.c.id == import_id)
                    .values(
                        status=status,
                        finished_at=_now(),
                        report_path=str(summary.report_path) if summary.report_path else None,
                    )
                )
    return summary


def _save_counts(conn: Connection, s: ImportSummary) -> None:
    conn.execute(
        update(import_runs)
        .where(import_runs.c.id == s.import_id)
        .values(
            rows_read=s.read,
            rows_inserted=s.inserted,
            rows_updated=s.updated,
            rows_unchanged=s.unchanged,
            rows_rejected=s.rejected,
        )
    )
