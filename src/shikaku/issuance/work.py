"""The worker side: render a job's partitions to files and record them; return only counts.

Each file is written under a temporary name and renamed to its deterministic name through
fsspec, so a reader never sees half a file and a partition rendered twice (a retry, a resume
after kill -9, a job Dask runs again) replaces the file with the same bytes. The renderer
(fonts parsed, templates ready) and a database engine are built once per worker process; the
worker reads its pending partitions from the ledger, renders them and records them itself
(issuance/record.py): the driver only schedules and counts.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import fsspec
from sqlalchemy import func, select

from shikaku.issuance.jobs import Job, load_partitions
from shikaku.issuance.results import container_rows, piece_rows
from shikaku.issuance.runconfig import RunConfig
from shikaku.registry.tables import run_partitions
from shikaku.render.model import MailingBatch, RenderResult
from shikaku.security.outputs import private_umask

TMP_MARK = ".tmp-"
PARTIAL = ".partial"  # the run folder's subfolder of files being written


@dataclass(frozen=True, slots=True)
class JobDone:
    """What a job tells the driver: how much it recorded (progress), nothing more."""

    partitions: int
    notices: int
    pages: int
    last_partition: int  # the manifest follows the partitions done from the first on


@dataclass(frozen=True, slots=True)
class PartitionDone:
    """A rendered partition: the file's facts and the ledger rows that record it."""

    partition_no: int
    file_name: str
    result: RenderResult
    containers: tuple[tuple[Any, ...], ...]  # run_containers rows
    pieces: tuple[tuple[int, int, int], ...]  # per piece: first page, last page, container
    sheet: RenderResult | None = None  # certificates in sheet layout: the n-up card file

    @property
    def notices(self) -> int:
        return len(self.pieces)


@lru_cache(maxsize=4)
def database_for(url: str) -> Any:
    from shikaku.registry.db import make_engine

    return make_engine(url)


def renderer_for(config: RunConfig) -> Any:
    """The worker process's renderer for this run's frozen settings (built once)."""
    from shikaku.render.documents import renderer_for as build

    corner: Any = config.card_corner
    layout: Any = config.card_layout
    return build(
        config.issuer,
        config.window_rect,
        corner,
        font_paths=config.font_paths,
        card_layout=layout,
        cards_per_sheet=config.cards_per_sheet,
    )


def sheet_file_name(file_name: str) -> str:
    """The n-up card file that goes with a certificate partition's letters."""
    return file_name.removesuffix(".pdf") + "-cards.pdf"


@contextmanager
def atomic_write(fs: Any, root: str, name: str) -> Iterator[Any]:
    """A binary sink renamed to `root/name` only once complete. It is written in the run
    folder's `.partial/` subfolder, so what a killed process leaves is found (and removed
    before a resume and after the render tasks) by listing that folder only: listing a
    national run's folder took the driver 60 MiB per 67,000 files (fsspec's glob)."""
    tmp = f"{root}/{PARTIAL}/{name.replace('/', '-')}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    fs.makedirs(f"{root}/{PARTIAL}", exist_ok=True)
    with fs.open(tmp, "wb") as out:
        yield out
    fs.mv(tmp, f"{root}/{name}")


def clean_partial(fs: Any, root: str) -> None:
    """Half-written files of a killed process: never seen as output."""
    if fs.exists(f"{root}/{PARTIAL}"):
        fs.rm(f"{root}/{PARTIAL}", recursive=True)


def _pieces(document: Any) -> list[Any]:
    if isinstance(document, MailingBatch):
        return list(document.notices)
    return [p for h in document.households for p in h.notices]


def output_fs(url: str) -> tuple[Any, str]:
    fs, root = fsspec.core.url_to_fs(url)
    return fs, root.rstrip("/")


def render_job(job: Job) -> JobDone:
    """The engine task: render the job's partitions still pending and record them. What it
    reports covers all its partitions, whichever run of the task recorded them (Dask runs a
    task again when a worker died after its commit)."""
    from shikaku.issuance.record import record_done

    db = database_for(job.database_url)
    done = render_partitions(job, pending_only=True)
    if done:
        record_done(db, job.run_id, done)
    p = run_partitions.c
    with db.connect() as conn:
        pages = conn.execute(
            select(func.coalesce(func.sum(p.pages), 0)).where(
                p.run_id == job.run_id, p.partition_no.in_(job.partitions), p.status == "done"
            )
        ).scalar_one()
    return JobDone(len(job.partitions), job.notices, int(pages), job.partitions[-1])


def render_partitions(job: Job, pending_only: bool = False) -> list[PartitionDone]:
    """Render the job's partitions to their files; what recording them takes."""
    # A worker of a cluster no `shikaku` command started has its own umask: the PDFs hold
    # members' data, so they are 0600 (folders 0700) here too.
    private_umask()
    renderer = renderer_for(job.config)
    fs, root = output_fs(job.output_url)
    done: list[PartitionDone] = []
    made: set[str] = set()
    with database_for(job.database_url).connect() as conn:
        works = list(load_partitions(conn, job.run_id, job.partitions, job.config, pending_only))
    for work in works:
        path = f"{root}/{work.file_name}"
        folder = path.rsplit("/", 1)[0]
        if folder not in made:
            fs.makedirs(folder, exist_ok=True)
            made.add(folder)
        doc = work.document
        with atomic_write(fs, root, work.file_name) as out:
            if isinstance(doc, MailingBatch):
                result = renderer.render_batch(doc, out)
            else:
                result = renderer.render_parcel(doc, out)
        sheet = None
        if job.config.card_layout == "sheet" and doc.kind == "certificate":
            with atomic_write(fs, root, sheet_file_name(work.file_name)) as out:
                sheet = renderer.render_card_sheet(_pieces(doc), out)
        done.append(
            PartitionDone(
                work.partition_no,
                work.file_name,
                result,
                tuple(container_rows(job.run_id, work, result)),
                piece_rows(work, result),
                sheet,
            )
        )
    return done
