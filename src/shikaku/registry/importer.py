"""`shikaku import FILE`: stream a file into the registry in committed batches.

Guarantees: the header is checked before anything is written; every row is inserted,
updated, unchanged or listed in the error report (read = inserted + updated + unchanged +
rejected); each batch is one transaction, so a killed import leaves whole batches that a
re-run completes, never half a row; memory does not grow with the file.
"""

from __future__ import annotations

import gc
import hashlib
import os
import socket
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, insert, select, update

from shikaku.registry.columns import FileKind
from shikaku.registry.db import analyze_after_load, write_transaction
from shikaku.registry.parserproc import parse_in_child
from shikaku.registry.readers import open_table
from shikaku.registry.records import (
    EmployerParser,
    EmployerRecord,
    MemberParser,
    MemberRecord,
    ParseContext,
    Rows,
)
from shikaku.registry.rows import HeaderMap, RowError, detect_kind, map_header, screen
from shikaku.registry.snapshot import registry_writes
from shikaku.registry.tables import (
    eligibility_periods,
    employers,
    import_runs,
    mynacard_registrations,
    pay_periods,
    persons,
)
from shikaku.registry.upsert import Outcome, apply_employers, apply_members
from shikaku.security.mynumber import MyNumberVault
from shikaku.security.outputs import csv_writer, mask_digit_runs, my_number_tail

# What an import writes, for the planner's statistics afterwards.
REGISTRY_TABLES = (employers, persons, eligibility_periods, pay_periods, mynacard_registrations)
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
    parser_process: bool = True
    kind: FileKind | None = None
    encoding: str | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _chunks(
    rows: Iterable[tuple[int, list[str]]], size: int, household: Callable[[list[str]], Any]
) -> Iterator[list[tuple[int, list[str]]]]:
    """Batches of about `size` rows, cut only where the household (記号・番号) changes, so
    all rows of a household are decided together (a duplicate row is always caught)."""
    chunk: list[tuple[int, list[str]]] = []
    for row in rows:
        if len(chunk) >= size and household(row[1]) != household(chunk[-1][1]):
            yield chunk
            chunk = []
        chunk.append(row)
    if chunk:
        yield chunk


def _household_of(header: HeaderMap) -> Callable[[list[str]], Any]:
    symbol, number = header.index.get("symbol"), header.index.get("number")
    if header.kind is not FileKind.MEMBERS or symbol is None or number is None:
        return lambda cells: None
    width = max(symbol, number) + 1
    return lambda cells: (cells[symbol], cells[number]) if len(cells) >= width else None


@contextmanager
def _batch_gc() -> Iterator[None]:
    """Pause the cyclic GC for one batch: a batch allocates hundreds of thousands of small
    acyclic objects (freed by reference counting), and collecting over them while they are
    alive costs a third of the batch. One young-generation pass after the batch instead."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(0)


@dataclass
class Parsed:
    read: int
    records: list[tuple[Any, ...]]  # plain tuples: cheap to pickle; typed again by _apply
    errors: list[RowError]
    position: int  # bytes of the file read so far (0 for XLSX)


def parse_stream(
    path: Path,
    encoding: str | None,
    header: HeaderMap,
    ctx: ParseContext,
    vault: MyNumberVault,
    batch_size: int,
) -> Iterator[Parsed]:
    """Read and parse the file batch by batch; runs in the parser process or in-process."""
    parse: Callable[[Rows], tuple[list[tuple[Any, ...]], list[RowError]]] = (
        MemberParser(header, ctx, vault)
        if header.kind is FileKind.MEMBERS
        else EmployerParser(header, ctx)
    )
    with open_table(path, encoding) as table:
        for chunk in _chunks(table.rows, batch_size, _household_of(header)):
            # rows the reader could not split, bytes not in the file's encoding, XLSX number
            # cells in code columns: rejected here with their column (rows.screen)
            good, errors = screen(header, table.encoding, chunk)
            with _batch_gc():
                records, parse_errors = parse(good)
            yield Parsed(len(chunk), records, [*errors, *parse_errors], table.position())


def _parsed(
    path: Path,
    encoding: str | None,
    header: HeaderMap,
    ctx: ParseContext,
    vault: MyNumberVault,
    options: ImportOptions,
) -> Iterator[Parsed]:
    """Parsed batches in file order: from a parser process, or in this one.

    With two cores, one process parsing while the other writes is what the machine allows;
    the pipe holds about one batch ahead, so memory stays flat. The parser process never
    outlives the import (registry.parserproc).
    """
    if not options.parser_process:
        return parse_stream(path, encoding, header, ctx, vault, options.batch_size)
    return parse_in_child(path, encoding, header, ctx, vault.worker_key(), options.batch_size)


class ErrorReport:
    """CSV in UTF-8 with BOM (Excel opens it as Japanese): 行, 列, 値, 理由, reason.

    Made for people to open in Excel, so written through `csv_writer` (a cell never runs as
    a formula), and it shows no My Number, whatever the parser passed on: the 個人番号
    column's values (`my_number_columns`, the headers as written) as their last 4 digits
    only, any other run of 12 digits masked the same way."""

    HEADER = ("行", "列", "値", "理由", "reason")

    def __init__(self, path: Path, my_number_columns: Collection[str] = ()) -> None:
        self.path = path
        self.my_number_columns = frozenset(my_number_columns)
        self._file: TextIO | None = None
        self._writer: Any = None

    def cells(self, e: RowError) -> tuple[int, str, str, str, str]:
        column = mask_digit_runs(e.column)
        value = my_number_tail(e.value) if e.column in self.my_number_columns else e.value
        return e.line, column, mask_digit_runs(value), mask_digit_runs(e.ja), mask_digit_runs(e.en)

    def write(self, errors: Iterable[RowError]) -> None:
        errors = list(errors)
        if not errors:
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv_writer(self._file, lineterminator="\r\n")
            self._writer.writerow(self.HEADER)
        self._writer.writerows(map(self.cells, errors))
        self._file.flush()

    def close(self) -> Path | None:
        if self._file is None:
            return None
        self._file.close()
        return self.path


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _start_run(engine: Engine, path: Path, kind: FileKind, encoding: str) -> int:
    file_sha256 = _sha256(path)  # a full read of the file: not inside the transaction
    with engine.begin() as conn:
        _mark_dead_runs(conn)
        return int(
            conn.execute(
                insert(import_runs)
                .values(
                    kind=str(kind),
                    file_name=path.name,
                    file_sha256=file_sha256,
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
    records: list[tuple[Any, ...]],
    import_id: int,
    insured_branch: str,
) -> Outcome:
    if kind is FileKind.MEMBERS:
        return apply_members(
            conn, list(map(MemberRecord._make, records)), import_id, insured_branch
        )
    return apply_employers(conn, list(map(EmployerRecord._make, records)), import_id)


def import_file(
    engine: Engine,
    path: Path,
    vault: MyNumberVault,
    options: ImportOptions,
    progress: Progress | None = None,
) -> ImportSummary:
    with registry_writes(engine):  # SQLite: refused while a run extracts (registry.snapshot)
        return _import_file(engine, path, vault, options, progress)


def _import_file(
    engine: Engine,
    path: Path,
    vault: MyNumberVault,
    options: ImportOptions,
    progress: Progress | None,
) -> ImportSummary:
    ctx = ParseContext(options.insurer_number, options.insured_branch)
    with open_table(path, options.encoding) as table:  # the header decides before any write
        kind = options.kind or detect_kind(table.header)
        header = map_header(table.header, kind)
        encoding = table.encoding
    import_id = _start_run(engine, path, kind, encoding)
    # Unknown headers are echoed to the clerk: a My Number typed as one is shown masked.
    ignored = tuple(map(mask_digit_runs, header.ignored))
    summary = ImportSummary(import_id, kind, path.name, encoding, ignored_columns=ignored)
    my_number_header = header.names.get("my_number")
    report = ErrorReport(
        options.report_dir / f"import-{import_id:06d}-errors.csv",
        () if my_number_header is None else (my_number_header,),
    )
    status = "failed"
    try:
        # The detected encoding, so the parser does not sniff again (ignored for XLSX).
        for parsed in _parsed(path, encoding, header, ctx, vault, options):
            with _batch_gc(), write_transaction(engine, checked_references=True) as conn:
                out = _apply(conn, kind, parsed.records, import_id, options.insured_branch)
                errors = sorted([*parsed.errors, *out.errors], key=lambda e: e.line)
                summary.read += parsed.read
                summary.inserted += out.inserted
                summary.updated += out.updated
                summary.unchanged += out.unchanged
                summary.rejected += len({e.line for e in errors})
                _save_counts(conn, summary)
            report.write(errors)
            if len(summary.errors_sample) < 20:
                summary.errors_sample.extend(errors[: 20 - len(summary.errors_sample)])
            if progress is not None:
                progress(summary.read, parsed.position)
        status = "done"
        analyze_after_load(engine, REGISTRY_TABLES, summary.inserted + summary.updated)
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
