"""The print vendor's manifest: one row per container, with totals, as CSV and JSON.

Built from the ledger alone, in partition and container order, with no timestamps: the same
run gives the same bytes, so verify can rebuild it and compare. Totals come from aggregates
first, then the rows stream to both files: memory stays flat however many containers.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, BinaryIO

from sqlalchemy import Connection, and_, func, select, true

from shikaku.domain.identifiers import run_label
from shikaku.registry.tables import run_containers, run_partitions
from shikaku.security.outputs import csv_writer

MANIFEST_CSV = "manifest.csv"
MANIFEST_JSON = "manifest.json"

CSV_HEADER = (
    "区画", "種別", "容器番号", "容器数", "記号", "宛先", "郵便番号", "住所", "バーコード",
    "通数", "通番(始)", "通番(終)", "枚数", "ファイル", "頁(始)", "頁(終)",
)  # fmt: skip
_KIND_JA = {"envelope": "外封筒", "box": "箱", "letter": "封書"}


# A row's fields in the JSON (and, but for the kind in Japanese, the CSV's columns).
ROW_FIELDS = (
    "partition", "kind", "container", "containers", "symbol", "recipient", "postal_code",
    "address", "barcode", "pieces", "first_piece", "last_piece", "sheets", "file",
    "page_first", "page_last",
)  # fmt: skip


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
    letters_without_barcode: int  # letters whose address gave none (no discount for them)
    barcode_discount: bool  # enough barcoded letters for Japan Post's discount


# One encoder for every row: json.dumps with an option builds a new one per call.
_JSON = json.JSONEncoder(ensure_ascii=False)


def manifest_rows(
    conn: Connection, run_id: int, after: int = 0, upto: int | None = None
) -> Iterator[tuple[Any, ...]]:
    """The containers of the run's partitions numbered after `after` up to `upto` (None: the
    last), in partition and container order, as tuples of ROW_FIELDS (plain tuples: the
    manifest of a 1M-member run is 75k rows)."""
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
        .where(
            c.run_id == run_id,
            c.partition_no > after,
            true() if upto is None else c.partition_no <= upto,
        )
        .order_by(c.partition_no, c.container_no)
        .execution_options(yield_per=1000)  # 5,000 rows held 2 MiB of the driver's peak
    )
    for (partition, kind, container, containers, symbol, recipient, postal_code, address,
         barcode, first, last, sheets, file, page_first, page_last) in conn.execute(query):  # fmt: skip
        yield (
            partition, kind, container, containers, symbol or "", recipient, postal_code,
            address, barcode or "", last - first + 1, first, last, sheets, file, page_first,
            page_last,
        )  # fmt: skip


def totals(conn: Connection, run_id: int, min_letters: int) -> ManifestTotals:
    """Three aggregate statements over the run's containers and partitions. The containers'
    kinds are counted with one filtered aggregate each, not GROUP BY kind: SQLite sorted every
    container for that (in memory, temp_store=MEMORY), 30 MB of a certificates run's driver
    at 1M members (one container per card)."""
    c, p = run_containers.c, run_partitions.c
    columns = []
    for kind in _KIND_JA:
        mine = c.kind == kind
        columns += [
            func.count().filter(mine),
            func.sum(c.last_piece - c.first_piece + 1).filter(mine),
            func.sum(c.sheets).filter(mine),
            func.count(c.barcode_data).filter(mine),
        ]
    sums = conn.execute(select(*columns).where(c.run_id == run_id)).one()
    by_kind = {
        kind: tuple(int(v or 0) for v in sums[4 * i : 4 * i + 4]) for i, kind in enumerate(_KIND_JA)
    }
    files, pages = conn.execute(
        select(func.count(), func.sum(p.pages)).where(p.run_id == run_id)
    ).one()
    partitions = conn.execute(
        select(func.count(func.distinct(c.partition_no))).where(c.run_id == run_id)
    ).scalar_one()
    barcode_letters = sum(v[3] for kind, v in by_kind.items() if kind != "box")
    all_letters = sum(v[0] for kind, v in by_kind.items() if kind != "box")
    return ManifestTotals(
        partitions=int(partitions),
        files=int(files),
        containers=sum(v[0] for v in by_kind.values()),
        envelopes=by_kind["envelope"][0],
        boxes=by_kind["box"][0],
        letters=by_kind["letter"][0],
        pieces=sum(v[1] for v in by_kind.values()),
        sheets=sum(v[2] for v in by_kind.values()),
        pages=int(pages or 0),
        barcode_letters=barcode_letters,
        letters_without_barcode=all_letters - barcode_letters,
        barcode_discount=barcode_letters >= min_letters,
    )


class TextSink:
    """Encodes text (a csv.writer's, say) to a binary sink as UTF-8, in chunks; `flush` at the end."""

    def __init__(self, sink: BinaryIO) -> None:
        self.sink = sink
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        self.parts.append(text)
        self.size += len(text)
        if self.size > 1 << 16:
            self.flush()
        return len(text)

    def flush(self) -> None:
        self.sink.write("".join(self.parts).encode("utf-8"))
        self.parts.clear()
        self.size = 0


class ManifestWriter:
    """Writes the two files as the run's partitions are done, in partition order: the driver
    adds each finished stretch of partitions while the render tasks go on, and only the rest
    and the totals are left once the last is rendered. Written at the end, the rows were
    most of the driver's own work: `bench/issue_bench.py`, 1M members, SQLite, 2 workers,
    2.5 s before (398a765), 0.6 s after (c716947); the model of 39.7M members on 10 × 16
    cores fell from 3.6 to 2.5 min (with PostgreSQL's ANALYZE beside the letter tasks).
    The JSON's rows wait in `body`, an unnamed temporary file (mode 0600, gone when
    closed), until the totals that precede them are known."""

    def __init__(
        self,
        run: Any,
        min_letters: int,
        csv_sink: BinaryIO,
        json_sink: BinaryIO,
        body: BinaryIO,
    ) -> None:
        self.run = run  # the run's row: its head is written as it was read
        self.run_id: int = run.id
        self.min_letters = min_letters
        self.json_sink = json_sink
        self.csv_text = TextSink(csv_sink)
        self.csv_text.write("\ufeff")  # UTF-8 with BOM: Excel opens it as UTF-8
        self.csv = csv_writer(self.csv_text, lineterminator="\r\n")
        self.csv.writerow(CSV_HEADER)
        self.body = body
        self.body_text = TextSink(self.body)
        self.after = 0  # partitions up to this one are written
        self.count = 0

    def add(self, conn: Connection, upto: int | None = None) -> None:
        """The rows of the partitions after those written, up to `upto` (None: all), every
        one of them done."""
        if upto is not None and upto <= self.after:
            return
        encode = _JSON.encode
        for row in manifest_rows(conn, self.run_id, self.after, upto):
            self.csv.writerow((row[0], _KIND_JA[row[1]], *row[2:]))
            row_json = encode(dict(zip(ROW_FIELDS, row, strict=True)))
            self.body_text.write(("\n  " if self.count == 0 else ",\n  ") + row_json)
            self.count += 1
        if upto is not None:
            self.after = upto

    def finish(self, conn: Connection) -> ManifestTotals:
        """The rows left, the totals, and the JSON put together."""
        self.add(conn)
        run = self.run
        total = totals(conn, self.run_id, self.min_letters)
        self.csv.writerow(
            (
                "合計", "", total.containers, "", "", "", "", "", total.barcode_letters,
                total.pieces, "", "", total.sheets, total.files, "", total.pages,
            )
        )  # fmt: skip
        self.csv_text.flush()
        head = {
            "run": run_label(self.run_id),
            "kind": run.kind,
            "extraction_date": run.extraction_date.isoformat(),
            "issued_on": run.issued_on.isoformat(),
            "totals": asdict(total),
            "barcode_discount_min_letters": self.min_letters,
        }
        head_json = json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "containers": ['
        self.json_sink.write(head_json.encode("utf-8"))
        self.body_text.flush()
        self.body.seek(0)
        shutil.copyfileobj(self.body, self.json_sink)
        self.json_sink.write(b"\n ]\n}\n")
        return total


def write_manifest_files(
    conn: Connection, run: Any, min_letters: int, csv_sink: BinaryIO, json_sink: BinaryIO
) -> ManifestTotals:
    """Stream the manifest of a run (its row) whose partitions are all done into two binary
    sinks."""
    with tempfile.TemporaryFile() as body:
        return ManifestWriter(run, min_letters, csv_sink, json_sink, body).finish(conn)
