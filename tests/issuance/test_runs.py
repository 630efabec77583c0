"""Whole runs: render, record, manifest, verify; re-execution gives the same bytes."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, select

from shikaku.issuance.engine import InlineEngine
from shikaku.issuance.runs import execute
from shikaku.issuance.verify import verify_run
from shikaku.registry.db import write_transaction
from shikaku.registry.tables import run_containers, run_partitions, run_targets, runs
from shikaku.security.mynumber import MyNumberVault
from tests.issuance.helpers import demo_registry, settings, start


def _pdftotext(path: Path, first: int, last: int) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-f", str(first), "-l", str(last), str(path), "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def done_run(engine: Engine, vault: MyNumberVault, tmp_path: Path) -> tuple[Engine, int, Path]:
    demo_registry(engine, vault, tmp_path, members=250)
    s = settings(tmp_path)
    run_id, _summary = start(engine, vault, s)
    execute(engine, run_id, InlineEngine(), task_notices=40)
    with engine.connect() as conn:
        out = Path(conn.execute(select(runs.c.output_url).where(runs.c.id == run_id)).scalar_one())
    return engine, run_id, out


def test_a_run_verifies_and_its_documents_read_back(done_run: tuple[Engine, int, Path]) -> None:
    engine, run_id, out = done_run
    report = verify_run(engine, run_id, deep=True)
    assert report.ok, report.problems
    assert report.targets == report.documents == report.pieces_in_containers > 200
    with engine.connect() as conn:
        t = run_targets.c
        targets = conn.execute(
            select(run_targets)
            .where(t.run_id == run_id, t.status == "ready")
            .order_by(t.partition_no, t.piece_no)
        ).all()
        parts = {
            p.partition_no: p
            for p in conn.execute(select(run_partitions).where(run_partitions.c.run_id == run_id))
        }
        boxes = conn.execute(select(run_containers).where(run_containers.c.run_id == run_id)).all()
    # page counts per container, read from the PDFs: the containers tile each file, and each
    # parcel container starts with its label page
    by_file: dict[str, list[object]] = {}
    for box in boxes:
        by_file.setdefault(parts[box.partition_no].file_name, []).append(box)
    for name, file_boxes in by_file.items():
        pdf = PdfReader(out / name)
        assert sum(b.page_last - b.page_first + 1 for b in file_boxes) == len(pdf.pages)  # type: ignore[attr-defined]
        if name.startswith("parcels/"):
            for b in file_boxes:
                label = pdf.pages[b.page_first - 1].extract_text()  # type: ignore[attr-defined]
                assert "特定記録" in label and f"{b.container_no}" in label  # type: ignore[attr-defined]
    registered = next(r for r in targets if r.my_number_state == "registered")
    missing = next(r for r in targets if r.my_number_state != "registered")
    for row in (registered, missing):
        path = out / parts[row.partition_no].file_name
        text = _pdftotext(path, row.page_first, row.page_last)
        flat = re.sub(r"\s+", "", text)
        # the window block: 記号・番号, the insured person's name and the target's name
        assert f"(記号){row.symbol}(番号){row.number}" in flat
        assert f"(被保険者氏名){_squeeze(row.insured_name)}様" in flat
        assert f"(対象者氏名){_squeeze(row.name)}様" in flat
        if row is registered:
            assert row.my_number_last4 in flat and row.page_first == row.page_last
        else:
            assert not re.search(r"(?<!\d)\d{4}(?!\d)", text.split("マイナンバー", 1)[1][:60])
            assert "マイナンバー登録申出書" in flat and row.page_last == row.page_first + 1
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["totals"]["pieces"] == len(targets)
    with (out / "manifest.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[-1][0] == "合計" and int(rows[-1][9]) == len(targets)


def test_re_executed_partitions_are_byte_identical(done_run: tuple[Engine, int, Path]) -> None:
    engine, run_id, out = done_run
    with engine.connect() as conn:
        parts = conn.execute(
            select(run_partitions.c.partition_no, run_partitions.c.file_name)
            .where(run_partitions.c.run_id == run_id)
            .order_by(run_partitions.c.partition_no)
        ).all()
    chosen = [parts[0], parts[-1]]  # an employer parcel and a home-mail batch
    before = {p.file_name: (out / p.file_name).read_bytes() for p in chosen}
    manifest = (out / "manifest.csv").read_bytes()
    with write_transaction(engine) as conn:
        for p in chosen:
            conn.execute(
                run_containers.delete().where(
                    run_containers.c.run_id == run_id,
                    run_containers.c.partition_no == p.partition_no,
                )
            )
            conn.execute(
                run_partitions.update()
                .where(
                    run_partitions.c.run_id == run_id,
                    run_partitions.c.partition_no == p.partition_no,
                )
                .values(status="pending")
            )
            (out / p.file_name).unlink()
        conn.execute(runs.update().where(runs.c.id == run_id).values(status="extracted"))
    summary = execute(engine, run_id, InlineEngine(), task_notices=40)
    assert summary.partitions_rendered == 2
    for name, data in before.items():
        assert (out / name).read_bytes() == data
    assert (out / "manifest.csv").read_bytes() == manifest
    assert verify_run(engine, run_id).ok


def test_verify_fails_on_a_changed_file(done_run: tuple[Engine, int, Path]) -> None:
    engine, run_id, out = done_run
    victim = sorted((out / "parcels").glob("*.pdf"))[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 1
    victim.write_bytes(bytes(data))
    report = verify_run(engine, run_id)
    assert not report.ok
    assert any("ハッシュ" in p for p in report.problems)
