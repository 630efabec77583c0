"""The print vendor's manifest: one row per container, with totals, as CSV and JSON.

Built from the ledger alone, in partition and container order, with no timestamps: the same
run gives the same bytes, so verify can rebuild it and compare.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, and_, select

from shikaku.issuance.jobs import run_label
from shikaku.registry.tables import run_containers, run_partitions, runs

MANIFEST_CSV = "manifest.csv"
MANIFEST_JSON = "manifest.json"

CSV_HEADER = (
    "区画", "種別", "容器番号", "容器数", "記号", "宛先", "郵便番号", "住所", "バーコード",
    "通数", "通番(始)", "通番(終)", "枚数", "ファイル", "頁(始)", "頁(終)",
)  # fmt: skip
_KIND_JA = {"envelope": "外封筒", "box": "箱", "letter": "封書"}


@dataclass(frozen=True)
class ManifestRow:
    partition: int
    kind: str
    container: int
    containers: int
    symbol: str
    recipient: str
    postal_code: str
    address: str
    barcode: str
    pieces: int
    first_piece: int
    last_piece: int
    sheets: int
    file: str
    page_first: int
    page_last: int


@dataclass(frozen=True)
class ManifestTotals:
    partitions: int
    files: int
    containers: int
    envelopes: int
    boxes: int
    letters: int
    pieces: int
    sheets: int
    pages: int
    barcode_letters: int  # letters (外封筒 and 封書) carrying a customer barcode
    barcode_discount: bool  # enough barcoded letters for Japan Post's discount


def manifest_rows(conn: Connection, run_id: int) -> list[ManifestRow]:
    c, p = run_containers.c, run_partitions.c
    query = (
        select(
            c.partition_no,
            c.kind,
            c.container_no,
            c.container_count,
            p.recipient_symbol,
            c.recipient,
            c.postal_code,
            c.address,
            c.barcode_data,
            c.first_piece,
            c.last_piece,
            c.sheets,
            p.file_name,
            c.page_first,
            c.page_last,
        )
        .join_from(
            run_containers,
            run_partitions,
            and_(p.run_id == c.run_id, p.partition_no == c.partition_no),
        )
        .where(c.run_id == run_id)
        .order_by(c.partition_no, c.container_no)
    )
    return [
        ManifestRow(
            r.partition_no,
            r.kind,
            r.container_no,
            r.container_count,
            r.recipient_symbol or "",
            r.recipient,
            r.postal_code,
            r.address,
            r.barcode_data or "",
            r.last_piece - r.first_piece + 1,
            r.first_piece,
            r.last_piece,
            r.sheets,
            r.file_name,
            r.page_first,
            r.page_last,
        )
        for r in conn.execute(query)
    ]


def totals(
    rows: Iterable[ManifestRow], page_counts: dict[str, int], min_letters: int
) -> ManifestTotals:
    rows = list(rows)
    kinds = [r.kind for r in rows]
    barcode_letters = sum(1 for r in rows if r.kind != "box" and r.barcode)
    return ManifestTotals(
        partitions=len({r.partition for r in rows}),
        files=len(page_counts),
        containers=len(rows),
        envelopes=kinds.count("envelope"),
        boxes=kinds.count("box"),
        letters=kinds.count("letter"),
        pieces=sum(r.pieces for r in rows),
        sheets=sum(r.sheets for r in rows),
        pages=sum(page_counts.values()),
        barcode_letters=barcode_letters,
        barcode_discount=barcode_letters >= min_letters,
    )


def page_counts(conn: Connection, run_id: int) -> dict[str, int]:
    p = run_partitions.c
    rows = conn.execute(
        select(p.file_name, p.pages).where(p.run_id == run_id).order_by(p.partition_no)
    )
    return {name: int(pages or 0) for name, pages in rows}


def build_manifest(
    conn: Connection,
    run_id: int,
    min_letters: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[bytes, bytes]:
    """(CSV, JSON) bytes of a run whose partitions are all done."""
    run = conn.execute(select(runs).where(runs.c.id == run_id)).one()
    rows = manifest_rows(conn, run_id)
    if progress is not None:
        progress(len(rows))
    total = totals(rows, page_counts(conn, run_id), min_letters)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow(
            (
                r.partition, _KIND_JA[r.kind], r.container, r.containers, r.symbol, r.recipient,
                r.postal_code, r.address, r.barcode, r.pieces, r.first_piece, r.last_piece,
                r.sheets, r.file, r.page_first, r.page_last,
            )
        )  # fmt: skip
    writer.writerow(
        (
            "合計", "", total.containers, "", "", "", "", "", total.barcode_letters, total.pieces,
            "", "", total.sheets, total.files, "", total.pages,
        )
    )  # fmt: skip
    document: dict[str, Any] = {
        "run": run_label(run_id),
        "kind": run.kind,
        "extraction_date": run.extraction_date.isoformat(),
        "issued_on": run.issued_on.isoformat(),
        "totals": asdict(total),
        "barcode_discount_min_letters": min_letters,
        "containers": [asdict(r) for r in rows],
    }
    json_bytes = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=False).encode()
    return buf.getvalue().encode("utf-8-sig"), json_bytes + b"\n"
