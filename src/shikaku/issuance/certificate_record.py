"""Recording issued 資格確認書: a certificate exists once its partition is recorded done.

`record_certificates` runs in the same transaction as the partitions' status, containers and
pages (issuance/record.py): the `certificates` rows are inserted (unique per run and person,
so never issued twice), each person's earlier certificate is superseded and their open
applications are closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from shikaku.registry.bulk import Bulk, in_lists
from shikaku.registry.tables import certificate_applications, certificates, run_targets, runs


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def record_certificates(conn: Connection, run_id: int, partitions: Sequence[int]) -> int:
    """The certificates of these partitions (just recorded done) exist from now: insert them,
    supersede each person's earlier one, close their open applications. Same transaction as
    the partitions' status. Returns how many were issued."""
    run = conn.execute(select(runs).where(runs.c.id == run_id)).one()
    t = run_targets.c
    issued: list[tuple[Any, ...]] = []
    for chunk in in_lists(sorted(partitions)):
        for r in conn.execute(
            select(
                t.person_id, t.partition_no, t.piece_no, t.valid_until, t.effective_from,
                t.cert_reason, t.cap_category,
            )
            .where(t.run_id == run_id, t.partition_no.in_(chunk), t.status == "ready")
            .order_by(t.partition_no, t.piece_no)
        ):  # fmt: skip
            issued.append(
                (
                    r.person_id, run_id, r.partition_no, r.piece_no, run.issued_on.isoformat(),
                    r.valid_until.isoformat(), _iso(r.effective_from), r.cert_reason,
                    r.cap_category is not None,
                )
            )  # fmt: skip
    if not issued:
        return 0
    Bulk(conn).insert(
        certificates,
        ("person_id", "run_id", "partition_no", "piece_no", "issued_on", "valid_until",
         "effective_from", "reason", "cap_requested"),
        issued,
    )  # fmt: skip
    c, a = certificates.c, certificate_applications.c
    person_ids = sorted({row[0] for row in issued})
    new_ids: dict[int, int] = {}
    for chunk in in_lists(person_ids):
        for pid, cid in conn.execute(
            select(c.person_id, c.id).where(c.run_id == run_id, c.person_id.in_(chunk))
        ):
            new_ids[pid] = cid
    supersede: list[tuple[Any, ...]] = []
    close: list[tuple[Any, ...]] = []
    for chunk in in_lists(person_ids):
        for pid, old in conn.execute(
            select(c.person_id, c.id).where(
                c.person_id.in_(chunk), c.superseded_by.is_(None), c.run_id != run_id
            )
        ):
            supersede.append((new_ids[pid], run.issued_on.isoformat(), old))
        for pid, app in conn.execute(
            select(a.person_id, a.id).where(
                a.person_id.in_(chunk), a.closed_by.is_(None), a.applied_on <= run.issued_on
            )
        ):
            close.append((new_ids[pid], app))
    bulk = Bulk(conn)
    bulk.update(certificates, ("superseded_by", "superseded_on"), supersede, ("id",))
    bulk.update(certificate_applications, ("closed_by",), close, ("id",))
    return len(issued)
