"""Reissue one person's 資格情報のお知らせ (lost, or My Number corrected): a run of kind
`reissue` over that person alone, on the same ledger, engine, manifest and verify as any run.

Extraction freezes the person's current values exactly as a full run would (the same
`Extractor`: copay on the day, the My Number's last 4 digits, glyph check); the notice goes
the way the person's notices go (the employer's parcel of one, or a home letter).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Connection, Engine, or_, select

from shikaku.domain.errors import DomainError
from shikaku.issuance.engine import InlineEngine
from shikaku.issuance.extract import (
    PARTITION_COLUMNS,
    TARGET_COLUMNS,
    ExtractionSummary,
    Extractor,
    _batch_row,
    _parcel_row,
    _Row,
    _target_row,
    mark_extracted,
    source_columns,
    write_held_report,
)
from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.runs import create_run, execute, load_config
from shikaku.registry.bulk import Bulk
from shikaku.registry.db import write_transaction
from shikaku.registry.tables import (
    eligibility_periods,
    employers,
    persons,
    run_partitions,
    run_targets,
)
from shikaku.render.fonts import FontSet
from shikaku.security.mynumber import MyNumberVault

REISSUE = "reissue"


class ReissueError(DomainError):
    """The person cannot get a notice today (not eligible, or unknown)."""


def _person_row(conn: Connection, person_id: int, day: date) -> _Row | None:
    p, e, m = persons.c, eligibility_periods.c, employers.c
    row = conn.execute(
        select(*source_columns(day))
        .join_from(persons, eligibility_periods, e.person_id == p.id)
        .join(employers, m.id == p.employer_id)
        .where(
            p.id == person_id,
            e.eligible_from <= day,
            or_(e.lost_on.is_(None), e.lost_on > day),
        )
        .order_by(e.eligible_from.desc())
        .limit(1)
    ).first()
    return None if row is None else _Row(*row, None)  # type: ignore[call-arg]  # all but the last


def extract_one(
    engine: Engine, run_id: int, person_id: int, vault: MyNumberVault, report_dir: Path
) -> ExtractionSummary:
    """The ledger of a reissue run: one target (or one held entry), one partition."""
    run, config = load_config(engine, run_id)
    unprintable = FontSet.load(config.font_paths).unprintable
    summary = ExtractionSummary(run_id=run_id)
    with write_transaction(engine) as conn:
        row = _person_row(conn, person_id, run.extraction_date)
        if row is None:
            raise ReissueError(
                "この日に資格のある加入者ではないため再発行できません",
                f"person {person_id} is not eligible on {run.extraction_date}",
            )
        summary.eligible = 1
        extractor = Extractor(conn, config, vault, unprintable, run.extraction_date, False)
        [(target, change, reason)] = extractor.targets([row], summary)
        if reason is not None:
            summary.held = 1
            rows = [_target_row(run_id, target, change, -1, 1, reason)]
        else:
            summary.targets = 1
            rows = [_target_row(run_id, target, change, 1, 1, None)]
            if target.delivery == "home":
                summary.batches = 1
                area = (target.postal_code or "")[: config.postal_area_digits]
                part = _batch_row(run_id, 1, area, 1)
            else:
                summary.parcels = 1
                part = _parcel_row(run_id, 1, row, 1)
            Bulk(conn).insert(run_partitions, PARTITION_COLUMNS, [part])
        Bulk(conn).insert(run_targets, TARGET_COLUMNS, rows)
        mark_extracted(conn, summary)
    write_held_report(engine.connect(), report_dir, summary)
    return summary


def reissue_notice(
    engine: Engine,
    config: RunConfig,
    output: Path | str,
    vault: MyNumberVault,
    person_id: int,
    day: date,
    report_dir: Path,
) -> int:
    """Create, extract and render (in this process) a reissue run; its id."""
    run_id = create_run(engine, config, output, REISSUE, day, day)
    extract_one(engine, run_id, person_id, vault, report_dir)
    execute(engine, run_id, InlineEngine(), task_notices=1)
    return run_id
