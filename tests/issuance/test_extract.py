"""Extraction and follow-up targeting on a real registry, SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, and_, func, or_, select

from shikaku.demo.changes import write_demo_changes
from shikaku.issuance.engine import InlineEngine
from shikaku.issuance.runs import execute
from shikaku.issuance.verify import verify_run
from shikaku.registry.tables import eligibility_periods, persons, run_partitions, run_targets
from shikaku.security.mynumber import MyNumberVault
from tests.issuance.helpers import (
    CUT_OFF,
    EXTRACTION,
    demo_registry,
    import_path,
    ready_keys,
    settings,
    start,
)
from tests.registry.helpers import EMPLOYER_HEADER, MEMBER_HEADER, employer, member, write


def eligible_keys(engine: Engine, day: date) -> set[tuple[str, str, str]]:
    """Everyone covered on `day`, read straight from the tables (the extraction's oracle)."""
    p, e = persons.c, eligibility_periods.c
    covered = and_(e.eligible_from <= day, or_(e.lost_on.is_(None), e.lost_on > day))
    with engine.connect() as conn:
        rows = conn.execute(
            select(p.symbol, p.number, p.branch)
            .join_from(persons, eligibility_periods)
            .where(covered)
        )
        return {(symbol, number, branch) for symbol, number, branch in rows}


def test_full_run_targets_everyone_eligible_once(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    demo_registry(engine, vault, tmp_path, members=300)
    s = settings(tmp_path)
    run_id, summary = start(engine, vault, s)
    assert summary.eligible == summary.targets + summary.held + summary.excluded
    assert summary.targets > 250 and not summary.held
    with engine.connect() as conn:
        t = run_targets.c
        per_partition = conn.execute(
            select(t.partition_no, func.count(), func.min(t.piece_no), func.max(t.piece_no))
            .where(t.run_id == run_id)
            .group_by(t.partition_no)
        ).all()
        parts = {
            r.partition_no: r.targets
            for r in conn.execute(select(run_partitions).where(run_partitions.c.run_id == run_id))
        }
    # every target in exactly one partition, pieces numbered 1..n without gaps
    assert {p for p, *_ in per_partition} == set(parts)
    for partition, n, lo, hi in per_partition:
        assert (lo, hi, n) == (1, parts[partition], parts[partition])
    assert summary.parcels >= 1 and summary.batches >= 1  # employers and 任意継続 homes


def test_follow_up_targets_exactly_joiners_and_changed(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    members_csv = demo_registry(engine, vault, tmp_path, members=400)
    s = settings(tmp_path)
    full, _ = start(engine, vault, s)
    from shikaku.registry.db import write_transaction
    from shikaku.registry.tables import runs

    with write_transaction(engine) as conn:  # the follow-up needs a finished predecessor
        conn.execute(runs.update().where(runs.c.id == full).values(status="done"))
    # The demo data has joiners of its own between extraction and cut-off.
    late_joiners = eligible_keys(engine, CUT_OFF) - eligible_keys(engine, EXTRACTION)
    changes = write_demo_changes(members_csv, tmp_path / "changes.csv", 3, EXTRACTION)
    assert changes.joiners and changes.renamed and changes.transferred and changes.left
    import_path(engine, changes.path, vault, tmp_path)
    follow, summary = start(engine, vault, s, "follow_up", CUT_OFF, full)
    expected = changes.expected_follow_up | (late_joiners & eligible_keys(engine, CUT_OFF))
    assert ready_keys(engine, follow) == expected
    assert not set(changes.left) & ready_keys(engine, follow)
    assert summary.unchanged > 200  # everyone else was served by the full run


def test_excluded_categories_and_unprintable_names(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    emp = write(
        tmp_path / "e.csv",
        EMPLOYER_HEADER,
        [employer("01234567"), employer("07654321", 区分="日雇特例")],
    )
    mem = write(
        tmp_path / "m.csv",
        MEMBER_HEADER,
        [
            member("9"),
            member("10"),
            member("10", "01"),
            member("11", 氏名="協会\U00030000花子"),  # CJK Extension G: no embedded font has it
            member("12", 氏名="𠮷田　太郎"),  # IPAmj明朝 draws 𠮷
            member("1", 記号="07654321"),
        ],
    )
    import_path(engine, emp, vault, tmp_path)
    import_path(engine, mem, vault, tmp_path)
    s = settings(tmp_path)
    run_id, summary = start(engine, vault, s)
    assert summary.excluded == 1
    assert [(h.number, h.reason) for h in summary.held_sample] == [
        ("11", "印字できない文字: 氏名 U+30000")
    ]
    assert summary.held_report is not None
    assert "U+30000" in summary.held_report.read_text(encoding="utf-8-sig")
    with engine.connect() as conn:
        t = run_targets.c
        order = conn.execute(
            select(t.number, t.branch, t.status)
            .where(t.run_id == run_id)
            .order_by(t.partition_no, t.piece_no)
        ).all()
    # print order is numeric by 番号 (a string sort would put 10 before 9), held last
    assert [(n, b) for n, b, st in order if st == "ready"] == [
        ("9", "00"), ("10", "00"), ("10", "01"), ("12", "00"),
    ]  # fmt: skip


def test_a_held_target_is_never_printed(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    emp = write(tmp_path / "e.csv", EMPLOYER_HEADER, [employer("01234567")])
    mem = write(
        tmp_path / "m.csv",
        MEMBER_HEADER,
        [member("1"), member("2", 氏名="協会\U00030000花子"), member("3", 氏名="𠮷田　太郎")],
    )
    import_path(engine, emp, vault, tmp_path)
    import_path(engine, mem, vault, tmp_path)
    s = settings(tmp_path)
    run_id, summary = start(engine, vault, s)
    assert summary.held == 1
    execute(engine, run_id, InlineEngine(), task_notices=10)
    assert verify_run(engine, run_id, deep=True).ok
    (pdf,) = (s.output_dir / f"run-{run_id:06d}").glob("parcels/*.pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    flat = "".join(text.split())
    assert "(番号)1" in flat and "(番号)3" in flat and "𠮷田" in flat
    assert "(番号)2" not in flat and "\U00030000" not in text
