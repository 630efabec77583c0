"""What a rendered partition adds to the ledger: its containers and each piece's pages.

Computed where the partition was rendered (a worker), from the document and its render
result, so that only these small rows travel back to the driver.
"""

from __future__ import annotations

from typing import Any

from shikaku.issuance.jobs import PartitionWork
from shikaku.render.model import MailingBatch, RenderResult

CONTAINER_COLUMNS = (
    "run_id", "partition_no", "container_no", "kind", "container_count", "first_piece",
    "last_piece", "sheets", "page_first", "page_last", "recipient", "postal_code", "address",
    "barcode_data",
)  # fmt: skip


def container_rows(run_id: int, work: PartitionWork, result: RenderResult) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    doc = work.document
    if isinstance(doc, MailingBatch):  # every home letter is its own container
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


def piece_rows(work: PartitionWork, result: RenderResult) -> tuple[tuple[int, int, int], ...]:
    """(first page, last page, container number) of each piece, in piece order."""
    if len(result.piece_pages) != len(work.person_ids):
        raise ValueError(f"partition {work.partition_no}: pieces and pages differ")
    doc = work.document
    if isinstance(doc, MailingBatch):
        return tuple((p.first, p.last, i) for i, p in enumerate(result.piece_pages, 1))
    bounds = [(c.first_piece, c.last_piece, c.index) for c in doc.containers]
    out = []
    for piece, pages in enumerate(result.piece_pages, 1):
        container = next((i for lo, hi, i in bounds if lo <= piece <= hi), None)
        if container is None:
            raise ValueError(f"partition {work.partition_no}: piece {piece} is in no container")
        out.append((pages.first, pages.last, container))
    return tuple(out)
