"""From the ledger to render inputs: each partition as a Parcel or a MailingBatch.

Everything a document shows comes from the frozen ledger rows and the run's frozen config,
so a partition rendered twice, today or after a crash, gets the same input and the same bytes.
The driver plans jobs of about `task_notices` notices (whole partitions, by number only);
each worker reads its partitions from the ledger itself, so no document data passes through
the driver or the scheduler and memory stays flat whatever the run's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, and_, select

from shikaku.domain.certificate import CertificateReason
from shikaku.domain.identifiers import control_code, run_label
from shikaku.domain.packing import pack_households
from shikaku.issuance.runconfig import RunConfig
from shikaku.registry.postal import barcode_for
from shikaku.registry.tables import run_partitions, run_targets, runs
from shikaku.render.model import (
    Certificate,
    Container,
    Employer,
    Household,
    MailingBatch,
    Notice,
    Parcel,
    Piece,
)

Document = Parcel | MailingBatch


@dataclass(frozen=True, slots=True)
class PartitionWork:
    """One partition to render, and what the driver needs to record its result."""

    partition_no: int
    file_name: str
    document: Document
    person_ids: tuple[int, ...]  # piece order
    recipients: tuple[tuple[str, str, str], ...]  # per container: name, postal code, address


@dataclass(frozen=True, slots=True)
class Job:
    """What one engine task renders: partition numbers and where to find them. Small."""

    run_id: int
    database_url: str
    output_url: str
    config: RunConfig
    partitions: tuple[int, ...]
    notices: int


_TARGET_FIELDS = (
    "partition_no", "piece_no", "person_id", "symbol", "number", "branch", "relationship",
    "name", "name_kana", "birth_date", "sex", "eligible_from", "copay_rate", "my_number_state",
    "my_number_last4", "insured_name", "delivery", "postal_code", "address", "cert_reason",
    "valid_until", "effective_from", "cap_category", "supersedes",
)  # fmt: skip


def _certificate(run_id: int, issued_on: date, row: Any) -> Certificate:
    home = row.delivery == "home"
    elderly = row.effective_from is not None
    return Certificate(
        control=control_code(run_id, row.partition_no, row.piece_no),
        symbol=row.symbol,
        number=row.number,
        branch=row.branch,
        relationship=row.relationship,
        name=row.name,
        name_kana=row.name_kana,
        birth_date=row.birth_date,
        sex=row.sex,
        insured_name=row.insured_name,
        issued_on=issued_on,
        valid_until=row.valid_until,
        reason=CertificateReason(row.cert_reason),
        delivery=row.delivery,
        effective_from=row.effective_from,
        copay_rate=row.copay_rate if elderly else None,
        cap_category=row.cap_category,
        supersedes=bool(row.supersedes),
        postal_code=row.postal_code if home else None,
        address=row.address if home else None,
        addressee=row.insured_name if home else None,
        barcode=barcode_for(row.postal_code, row.address) if home else None,
    )


def _piece(run_id: int, issued_on: date, row: Any) -> Piece:
    if row.cert_reason is not None:
        return _certificate(run_id, issued_on, row)
    return _notice(run_id, row)


def _notice(run_id: int, row: Any) -> Notice:
    home = row.delivery == "home"
    return Notice(
        control=control_code(run_id, row.partition_no, row.piece_no),
        symbol=row.symbol,
        number=row.number,
        branch=row.branch,
        relationship=row.relationship,
        name=row.name,
        name_kana=row.name_kana,
        birth_date=row.birth_date,
        sex=row.sex,
        eligible_from=row.eligible_from,
        copay_rate=row.copay_rate,
        my_number_state=row.my_number_state,
        my_number_last4=row.my_number_last4,
        insured_name=row.insured_name,
        delivery=row.delivery,
        postal_code=row.postal_code if home else None,
        address=row.address if home else None,
        addressee=row.insured_name if home else None,
        barcode=barcode_for(row.postal_code, row.address) if home else None,
    )


def _parcel(
    run_id: int,
    issued_on: date,
    extraction_date: date,
    part: Any,
    rows: list[Any],
    config: RunConfig,
) -> PartitionWork:
    notices = [_piece(run_id, issued_on, r) for r in rows]
    households: list[Household] = []
    for _number, members in groupby(notices, key=lambda n: (n.symbol, n.number)):
        households.append(Household(tuple(members)))
    plan = pack_households(
        [len(h.notices) for h in households], config.envelope_capacity, config.box_capacity
    )
    barcode = barcode_for(part.postal_code, part.address)
    containers = tuple(
        Container(c.kind, i, len(plan), c.first_piece, c.last_piece, barcode)
        for i, c in enumerate(plan, 1)
    )
    parcel = Parcel(
        run_label=run_label(run_id),
        partition=part.partition_no,
        issued_on=issued_on,
        extraction_date=extraction_date,
        employer=Employer(
            part.recipient_symbol, part.recipient, part.postal_code, part.address, part.phone
        ),
        households=tuple(households),
        containers=containers,
    )
    recipient = (part.recipient, part.postal_code, part.address)
    return PartitionWork(
        part.partition_no,
        part.file_name,
        parcel,
        tuple(r.person_id for r in rows),
        (recipient,) * len(containers),
    )


def _batch(
    run_id: int, issued_on: date, extraction_date: date, part: Any, rows: list[Any]
) -> PartitionWork:
    notices = tuple(_piece(run_id, issued_on, r) for r in rows)
    batch = MailingBatch(
        run_label=run_label(run_id),
        partition=part.partition_no,
        issued_on=issued_on,
        extraction_date=extraction_date,
        area=part.area,
        notices=notices,
    )
    return PartitionWork(
        part.partition_no,
        part.file_name,
        batch,
        tuple(r.person_id for r in rows),
        tuple((n.addressee or n.name, n.postal_code or "", n.address or "") for n in notices),
    )


_PARTITION_FIELDS = (
    "kind", "area", "recipient", "recipient_symbol", "postal_code", "address", "phone",
    "file_name",
)  # fmt: skip


def plan_jobs(
    reading: Callable[[], AbstractContextManager[Connection]],
    run_id: int,
    database_url: str,
    config: RunConfig,
    task_notices: int,
) -> Iterator[Job]:
    """Jobs for every partition not yet done, in partition order, each of about
    `task_notices` notices. Partitions are read a page at a time, each page in its own short
    read (no transaction stays open while the workers write; memory stays flat)."""
    p = run_partitions.c
    with reading() as conn:
        output_url = conn.execute(select(runs.c.output_url).where(runs.c.id == run_id)).scalar_one()
    batch: list[int] = []
    size = 0
    after = 0
    while True:
        with reading() as conn:
            rows = conn.execute(
                select(p.partition_no, p.targets)
                .where(p.run_id == run_id, p.status == "pending", p.partition_no > after)
                .order_by(p.partition_no)
                .limit(_PLAN_PAGE)
            ).all()
        if not rows:
            break
        after = rows[-1][0]
        for partition_no, targets in rows:
            batch.append(partition_no)
            size += targets
            if size >= task_notices:
                yield Job(run_id, database_url, output_url, config, tuple(batch), size)
                batch, size = [], 0
    if batch:
        yield Job(run_id, database_url, output_url, config, tuple(batch), size)


_PLAN_PAGE = 1_000  # partitions per read: a page of 10,000 held 3 MiB of the driver's peak


def load_partitions(
    conn: Connection,
    run_id: int,
    partitions: Sequence[int],
    config: RunConfig,
    pending_only: bool = False,
) -> Iterator[PartitionWork]:
    """The render inputs of these partitions (those not yet done, with `pending_only`), read
    as ranges of the print-order key."""
    run = conn.execute(select(runs).where(runs.c.id == run_id)).one()
    p, t = run_partitions.c, run_targets.c
    wanted = sorted(partitions)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = conn.execute(
            select(
                *(t[name] for name in _TARGET_FIELDS),
                *(p[name].label(f"p_{name}") for name in _PARTITION_FIELDS),
            )
            .join_from(
                run_targets,
                run_partitions,
                and_(p.run_id == t.run_id, p.partition_no == t.partition_no),
            )
            .where(
                t.run_id == run_id,
                t.partition_no.in_(chunk),
                # the same keys on the partition side: without it PostgreSQL, with no
                # statistics on a fresh ledger, walked every pending partition of the run
                # for each job (1M members, one worker: 499 CPU-s of the server's)
                p.partition_no.in_(chunk),
                t.status == "ready",
                p.status == "pending" if pending_only else and_(True),
            )
            .order_by(t.partition_no, t.piece_no)
        )
        for _partition_no, group in groupby(rows, key=lambda r: r.partition_no):
            members = list(group)
            part = _Partition(members[0])
            if part.kind == "parcel":
                yield _parcel(run_id, run.issued_on, run.extraction_date, part, members, config)
            else:
                yield _batch(run_id, run.issued_on, run.extraction_date, part, members)


class _Partition:
    """The partition columns carried on a partition's first target row."""

    __slots__ = ("partition_no", *_PARTITION_FIELDS)
    kind: str  # the one field read by name; the others are copied by _PARTITION_FIELDS

    def __init__(self, row: Any) -> None:
        self.partition_no = row.partition_no
        for name in _PARTITION_FIELDS:
            setattr(self, name, getattr(row, f"p_{name}"))
