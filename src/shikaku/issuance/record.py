"""The driver side: a rendered partition becomes done, with its containers and page ranges.

One transaction per finished job: the partition's status, its containers and each target's
pages and container move together, so after a crash a partition is either done with all its
records or pending and rendered again (to the same bytes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from shikaku.issuance.jobs import PartitionWork
from shikaku.issuance.work import PartitionDone
from shikaku.registry.bulk import Bulk
from shikaku.registry.db import write_transaction
from shikaku.registry.tables import run_containers, run_partitions, run_targets
from shikaku.render.model import MailingBatch

CONTAINER_COLUMNS = (
    "run_id", "partition_no", "container_no", "kind", "container_count", "first_piece",
    "last_piece", "sheets", "page_first", "page_last", "recipient", "postal_code", "address",
    "barcode_data",
)  # fmt: skip


def container_rows(run_id: int, work: PartitionWork, done: PartitionDone) -> list[tuple[Any, ...]]:
    result = done.result
    rows: list[tuple[Any, ...]] = []
    doc = work.document
    if isinstance(doc, MailingBatch):
        for i, (notice, pages) in enumerate(
            zip(doc.notices, result.container_pages, strict=True), 1
        ):
            name, postal, address = work.recipients[i - 1]
            rows.append(
                (
                    run_id, work.partition_no, i, "letter", len(doc.notices), i, i,
                    pages.last - pages.first + 1, pages.first, pages.last, name, postal, address,
                    notice.barcode.data if notice.barcode else None,
                )
            )  # fmt: skip
        return rows
    for c, pages in zip(doc.containers, result.container_pages, strict=True):
        name, postal, address = work.recipients[c.index - 1]
        sheets = pages.last - pages.first  # every page but the label goes inside
        rows.append(
            (
                run_id, work.partition_no, c.index, c.kind, c.count, c.first_piece, c.last_piece,
                sheets, pages.first, pages.last, name, postal, address,
                c.barcode.data if c.barcode else None,
            )
        )  # fmt: skip
    return rows


def container_of_piece(work: PartitionWork, piece: int) -> int:
    doc = work.document
    if isinstance(doc, MailingBatch):
        return piece
    for c in doc.containers:
        if c.first_piece <= piece <= c.last_piece:
            return c.index
    raise ValueError(f"piece {piece} is in no container")


def record_done(
    engine: Engine, run_id: int, finished: Sequence[tuple[PartitionWork, PartitionDone]]
) -> None:
    with write_transaction(engine) as conn:
        bulk = Bulk(conn)
        containers: list[tuple[Any, ...]] = []
        targets: list[tuple[Any, ...]] = []
        parts: list[tuple[Any, ...]] = []
        for work, done in finished:
            r = done.result
            parts.append(("done", r.sha256, r.size, r.pages, run_id, work.partition_no))
            containers.extend(container_rows(run_id, work, done))
            if len(r.piece_pages) != len(work.person_ids):
                raise ValueError(f"partition {work.partition_no}: pieces and pages differ")
            for piece, pages in enumerate(r.piece_pages, 1):
                targets.append(
                    (
                        pages.first, pages.last, container_of_piece(work, piece), run_id,
                        work.partition_no, piece,
                    )
                )  # fmt: skip
        bulk.insert(run_containers, CONTAINER_COLUMNS, containers)
        bulk.update(
            run_targets,
            ("page_first", "page_last", "container_no"),
            targets,
            ("run_id", "partition_no", "piece_no"),
        )
        bulk.update(
            run_partitions,
            ("status", "sha256", "size", "pages"),
            parts,
            ("run_id", "partition_no"),
        )
