"""What the employer portal does, as plain functions on ids: an employer's parcels, their
distribution lists and hand-outs. Every query is filtered by the caller's employer id; a
parcel of another employer is None, never an error that tells it exists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from shikaku.issuance.work import output_fs
from shikaku.registry.db import write_transaction
from shikaku.registry.tables import (
    employers,
    envelope_returns,
    hand_outs,
    persons,
    run_partitions,
    run_targets,
    runs,
)
from shikaku.service.accounts import User, now
from shikaku.service.desk import DeskError

PORTAL_READ = "portal_read"
PORTAL_DOWNLOAD = "portal_download"


def partition_pdf(engine: Engine, run_id: int, partition_no: int, employer_id: int) -> bytes:
    """An employer's whole parcel file (electronic delivery)."""
    part, r = run_partitions.c, runs.c
    with engine.connect() as conn:
        row = conn.execute(
            select(part.file_name, r.output_url)
            .join_from(run_partitions, runs, r.id == part.run_id)
            .where(
                part.run_id == run_id,
                part.partition_no == partition_no,
                part.employer_id == employer_id,
                part.status == "done",
            )
        ).first()
    if row is None:
        raise DeskError("この小包はありません", "no such parcel")
    fs, root = output_fs(row.output_url)
    with fs.open(f"{root}/{row.file_name}", "rb") as f:
        data: bytes = f.read()
    return data


def employer_of(engine: Engine, employer_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(employers).where(employers.c.id == employer_id)).first()


def employer_parcels(engine: Engine, employer_id: int) -> list[Any]:
    part, r = run_partitions.c, runs.c
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(
                    part.run_id,
                    part.partition_no,
                    part.targets,
                    part.status,
                    part.pages,
                    r.kind,
                    r.issued_on,
                )
                .join_from(run_partitions, runs, r.id == part.run_id)
                .where(part.employer_id == employer_id, part.kind == "parcel")
                .order_by(part.run_id.desc(), part.partition_no)
            ).all()
        )


@dataclass
class ParcelLine:
    person_id: int
    insured_id: int
    symbol: str
    number: str
    branch: str
    name: str
    insured_name: str
    relationship: int
    handed_out: bool
    returned: str | None


def employer_parcel(
    engine: Engine, employer_id: int, run_id: int, partition_no: int
) -> tuple[Any, list[ParcelLine]] | None:
    """The distribution list of one of the employer's parcels, or None (not theirs)."""
    part, t = run_partitions.c, run_targets.c
    with engine.connect() as conn:
        parcel = conn.execute(
            select(run_partitions, runs.c.kind.label("run_kind"), runs.c.issued_on)
            .join_from(run_partitions, runs, runs.c.id == part.run_id)
            .where(
                part.run_id == run_id,
                part.partition_no == partition_no,
                part.employer_id == employer_id,
                part.kind == "parcel",
            )
        ).first()
        if parcel is None:
            return None
        rows = conn.execute(
            select(
                t.person_id,
                t.symbol,
                t.number,
                t.branch,
                t.name,
                t.insured_name,
                t.relationship,
                persons.c.insured_id,
            )
            .join_from(run_targets, persons, persons.c.id == t.person_id)
            .where(t.run_id == run_id, t.partition_no == partition_no)
            .order_by(t.piece_no)
        ).all()
        # Only this parcel's people: a run's hand-outs and returns span every employer.
        in_parcel = select(t.person_id).where(t.run_id == run_id, t.partition_no == partition_no)
        h, er = hand_outs.c, envelope_returns.c
        handed = set(
            conn.execute(
                select(h.person_id).where(h.run_id == run_id, h.person_id.in_(in_parcel))
            ).scalars()
        )
        returned: Mapping[int, str] = dict(
            conn.execute(
                select(er.person_id, er.reason).where(
                    er.run_id == run_id, er.person_id.in_(in_parcel)
                )
            ).all()
        )
    lines = []
    for row in rows:
        insured = row.person_id if row.relationship == 1 else (row.insured_id or row.person_id)
        lines.append(
            ParcelLine(
                row.person_id,
                insured,
                row.symbol,
                row.number,
                row.branch,
                row.name,
                row.insured_name,
                row.relationship,
                insured in handed,
                returned.get(row.person_id),
            )
        )
    return parcel, lines


def mark_handed_out(
    engine: Engine, employer_id: int, run_id: int, partition_no: int, insured_id: int, user: User
) -> None:
    """配付: the household's envelopes reached the insured person (idempotent)."""
    t = run_targets.c
    with write_transaction(engine) as conn:
        found = conn.execute(
            select(t.person_id)
            .join_from(run_targets, persons, persons.c.id == t.person_id)
            .where(
                t.run_id == run_id,
                t.partition_no == partition_no,
                t.employer_id == employer_id,
                (t.person_id == insured_id) | (persons.c.insured_id == insured_id),
            )
            .limit(1)
        ).first()
        if found is None:
            raise DeskError("この小包の被保険者ではありません", "not in this parcel", "insured")
        done = conn.execute(
            select(hand_outs.c.person_id).where(
                hand_outs.c.run_id == run_id, hand_outs.c.person_id == insured_id
            )
        ).first()
        if done is None:
            conn.execute(
                hand_outs.insert().values(
                    run_id=run_id, person_id=insured_id, handed_out_at=now(), user_id=user.id
                )
            )


def parcel_has_person(
    engine: Engine, employer_id: int, run_id: int, partition_no: int, person_id: int
) -> bool:
    t = run_targets.c
    with engine.connect() as conn:
        return (
            conn.execute(
                select(t.person_id).where(
                    t.run_id == run_id,
                    t.partition_no == partition_no,
                    t.person_id == person_id,
                    t.employer_id == employer_id,
                )
            ).first()
            is not None
        )
