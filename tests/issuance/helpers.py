"""A small real registry (demo data through the real importer) and runs over it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from shikaku.demo import write_demo_files
from shikaku.issuance.engine import InlineEngine
from shikaku.issuance.extract import ExtractionSummary
from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.runs import create_run, execute, extract_run
from shikaku.registry.importer import ImportOptions, import_file
from shikaku.registry.tables import run_targets
from shikaku.security.mynumber import MyNumberVault
from shikaku.settings import Settings, load_settings

EXTRACTION = date(2024, 6, 7)
CUT_OFF = date(2024, 11, 29)
DAY = date(2025, 12, 2)  # a 資格確認書 run's day: the old cards have expired


def settings(tmp_path: Path, **over: object) -> Settings:
    base: dict[str, object] = {
        "output_dir": str(tmp_path / "out"),
        "issuance": {"report_dir": str(tmp_path / "reports")},
    }
    return load_settings({}, {**base, **over})


def import_path(engine: Engine, path: Path, vault: MyNumberVault, tmp_path: Path) -> None:
    options = ImportOptions(
        insurer_number="01130012",
        insured_branch="00",
        report_dir=tmp_path / "reports",
        batch_size=500,
        parser_process=False,
    )
    summary = import_file(engine, path, vault, options)
    assert summary.balanced and summary.rejected == 0, summary


def demo_registry(
    engine: Engine, vault: MyNumberVault, tmp_path: Path, members: int = 300, seed: int = 3
) -> Path:
    files = write_demo_files(tmp_path / "demo", members=members, seed=seed)
    import_path(engine, files.employers, vault, tmp_path)
    import_path(engine, files.members, vault, tmp_path)
    return files.members


def start(
    engine: Engine,
    vault: MyNumberVault,
    s: Settings,
    kind: str = "full",
    day: date = EXTRACTION,
    after: int | None = None,
) -> tuple[int, ExtractionSummary]:
    run_id = create_run(
        engine, RunConfig.from_settings(s), s.output_dir, kind, day, date(2024, 9, 9), after
    )
    summary = extract_run(engine, run_id, vault, s.issuance.report_dir)
    return run_id, summary


def ready_keys(engine: Engine, run_id: int) -> set[tuple[str, str, str]]:
    t = run_targets.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.symbol, t.number, t.branch).where(t.run_id == run_id, t.status == "ready")
        )
        return {(a, b, c) for a, b, c in rows}


def cert_run(
    engine: Engine,
    vault: MyNumberVault,
    s: Settings,
    kind: str = "certificates",
    day: date = DAY,
    expiring_before: date | None = None,
    work: Any = None,
) -> int:
    run_id = create_run(
        engine, RunConfig.from_settings(s), s.output_dir, kind, day, day,
        expiring_before=expiring_before,
    )  # fmt: skip
    extract_run(engine, run_id, vault, s.issuance.report_dir)
    execute(engine, run_id, work or InlineEngine(), task_notices=40)
    return run_id
