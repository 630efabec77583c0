"""Home letters (任意継続, certificates mailed home): batched by postal area, in tasks.

A range task meets home letters in 記号 order; a mailing batch wants them in postal-code
order, across all employers. So the range tasks stage each letter (run_letters, keyed in
mailing order: 郵便番号, 記号, 番号 numerically, 枝番), and once every range is extracted,
batch tasks over postal areas cut each area's letters into batches of at most
`issuance.batch_letters`, never mixing areas. The driver numbers the batches from the letter
counts per area the range tasks reported (after every employer's parcel number), so the
numbers do not depend on how the areas were cut into tasks. Nothing holds all letters in
memory: a batch task reads its areas a chunk at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from shikaku.issuance.extract import (
    PARTITION_COLUMNS,
    TARGET_COLUMNS,
    TaskCounts,
    _batch_row,
    write_task,
)
from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.targets import Target
from shikaku.registry.bulk import Bulk
from shikaku.registry.tables import run_letters, run_partitions, run_targets

_STAGED = TARGET_COLUMNS[3:]  # a staged row: the ledger row without run, partition, piece
_BYTES = tuple(i for i, name in enumerate(_STAGED) if name in ("content_hash", "change_hash"))
_CHUNK = 5000


def letter_key(t: Target) -> bytes:
    """Mailing order as bytes (compared bytewise on both databases, whatever the collation):
    郵便番号, 記号, 番号 numerically (leading zeros after), 枝番."""
    number = t.number
    if number.isdigit():
        order = b"0" + f"{int(number):020d}".encode() + b"\0" + number.encode()
    else:
        order = b"1" + number.encode()
    return b"\0".join(((t.postal_code or "").encode(), t.symbol.encode(), order, t.branch.encode()))


def stage(row: tuple[Any, ...]) -> str:
    values = list(row[3:])
    for i in _BYTES:
        values[i] = values[i].hex()
    return json.dumps(values, ensure_ascii=False)


def _unstage(run_id: int, partition: int, piece: int, text: str) -> tuple[Any, ...]:
    values = json.loads(text)
    for i in _BYTES:
        values[i] = bytes.fromhex(values[i])
    return (run_id, partition, piece, *values)


@dataclass(frozen=True, slots=True)
class LettersTask:
    """Postal areas to batch (consecutive, in order, with their letter counts) and the
    number of their first batch."""

    run_id: int
    database_url: str
    attempt: str
    config: RunConfig
    areas: tuple[tuple[str, int], ...]
    first_partition: int

    @property
    def name(self) -> str:
        return f"letters {self.first_partition}"


def plan_letters(
    run_id: int,
    database_url: str,
    attempt: str,
    config: RunConfig,
    letters: dict[str, int],
    first_partition: int,
    task_letters: int,
) -> Iterator[LettersTask]:
    """Batch tasks of about `task_letters` letters (whole areas), numbered from
    `first_partition` in area order."""
    areas: list[tuple[str, int]] = []
    size = 0
    number = first_partition
    for area, n in sorted(letters.items()):
        areas.append((area, n))
        size += n
        if size >= task_letters:
            yield LettersTask(run_id, database_url, attempt, config, tuple(areas), number)
            number += sum(-(-k // config.batch_letters) for _a, k in areas)
            areas, size = [], 0
    if areas:
        yield LettersTask(run_id, database_url, attempt, config, tuple(areas), number)


def batch_letters(task: LettersTask) -> TaskCounts:
    """The engine task: this task's areas' staged letters become batches (targets and
    partitions, numbered from `first_partition`) and leave the staging table, in one
    transaction."""
    from shikaku.issuance.work import database_for

    db = database_for(task.database_url)
    counts = TaskCounts(batches=sum(-(-n // task.config.batch_letters) for _a, n in task.areas))
    expected = dict(task.areas)

    def write(conn: Connection) -> None:
        bulk = Bulk(conn)
        digits = task.config.postal_area_digits
        size = task.config.batch_letters
        low = task.areas[0][0].encode()
        high = task.areas[-1][0].encode() + b"\xff"
        partition = task.first_partition - 1
        area, piece, found = "", 0, dict.fromkeys(expected, 0)
        batch_rows: list[tuple[Any, ...]] = []
        for chunk in _staged(conn, task.run_id, low, high):
            targets = []
            for key, text in chunk:
                this = key.split(b"\0", 1)[0].decode()[:digits]
                if this != area or piece == size:
                    if piece:
                        batch_rows.append(_batch_row(task.run_id, partition, area, piece))
                    partition, area, piece = partition + 1, this, 0
                piece += 1
                found[this] = found.get(this, 0) + 1
                targets.append(_unstage(task.run_id, partition, piece, text))
            bulk.insert(run_targets, TARGET_COLUMNS, targets)
        if piece:
            batch_rows.append(_batch_row(task.run_id, partition, area, piece))
        if found != expected:  # the driver numbered the batches from these counts
            raise RuntimeError(f"{task.name}: staged letters {found} differ from {expected}")
        bulk.insert(run_partitions, PARTITION_COLUMNS, batch_rows)
        s = run_letters.c
        conn.execute(
            run_letters.delete().where(
                s.run_id == task.run_id, s.sort_key >= low, s.sort_key < high
            )
        )

    return write_task(db, task, counts, write)


def _staged(
    conn: Connection, run_id: int, low: bytes, high: bytes
) -> Iterator[list[tuple[bytes, str]]]:
    """The staged letters of [low, high) in key order, a chunk at a time (keyset pages)."""
    s = run_letters.c
    after = low
    first = True
    while True:
        query = select(s.sort_key, s.target).where(
            s.run_id == run_id,
            s.sort_key >= after if first else s.sort_key > after,
            s.sort_key < high,
        )
        rows = [(bytes(k), t) for k, t in conn.execute(query.order_by(s.sort_key).limit(_CHUNK))]
        if not rows:
            return
        yield rows
        after, first = rows[-1][0], False
