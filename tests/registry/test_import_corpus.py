"""The hostile import corpus (tests/corpus/import/cases.toml) through `shikaku import`, on
SQLite and on PostgreSQL: each file is refused whole, writing nothing, or every row is
inserted, updated, unchanged or reported with its line, column and reason, and the counts
add up."""

from __future__ import annotations

import csv
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from shikaku.registry.tables import employers, import_runs, persons
from tests.registry.conftest import Cli

CORPUS = Path(__file__).parents[1] / "corpus" / "import"
CASES: list[dict[str, Any]] = tomllib.loads((CORPUS / "cases.toml").read_text("utf-8"))["case"]
TABLES = {"persons": persons, "employers": employers}


def prepare(name: str, case: dict[str, Any], into: Path) -> Path:
    """The case's file in `into`: copied with its markers expanded, or built from its spec."""
    target = into / name
    spec = case.get("xlsx") if name == case["file"] else None
    if spec is not None:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        rows = spec["rows"]
        if "numbered" in spec:  # copies of the first row, numbered 1.. in that column
            at = spec["header"].index(spec["numbered"]["column"])
            rows = [
                [*rows[0][:at], str(n), *rows[0][at + 1 :]]
                for n in range(1, spec["numbered"]["count"] + 1)
            ]
        for row in [spec["header"], *rows]:
            sheet.append(row)
        book.save(target)
        if "damaged" in spec:  # bytes at this fraction of the sheet's compressed data
            part = zipfile.ZipFile(target).getinfo("xl/worksheets/sheet1.xml")
            data = bytearray(target.read_bytes())
            at = part.header_offset + 30 + len(part.filename) + len(part.extra)
            at += int(part.compress_size * spec["damaged"])
            data[at : at + 16] = bytes(b ^ 0x5A for b in data[at : at + 16])
            target.write_bytes(bytes(data))
        return target
    data = (CORPUS / name).read_bytes()
    for marker, (char, count) in case.get("expand", {}).items():
        data = data.replace(marker.encode(), (char * count).encode())
    target.write_bytes(data)
    return target


def written(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (employers, persons, import_runs)
        )


def report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_corpus_case(case: dict[str, Any], engine: Engine, cli: Cli, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    default_setup = ["employers.csv"] if case["file"].startswith("members") else []
    for name in case.get("setup", default_setup):
        prepare(name, case, tmp_path)
        assert cli("import", name, "--in-process", "--database-url", url).code == 0

    before = written(engine)
    path = prepare(case["file"], case, tmp_path)
    ran = cli("import", path.name, *case.get("args", []), "--database-url", url)

    if "refused" in case:
        assert ran.code == 2, ran.out + ran.err
        assert case["refused"] in ran.err
        assert written(engine) == before  # not even an import run
        return

    expected = case.get("rejected", [])
    assert ran.code == (3 if expected else 0), ran.out + ran.err
    with engine.connect() as conn:
        run = conn.execute(select(import_runs).order_by(import_runs.c.id.desc())).first()
    assert run is not None and run.status == "done"
    counts = (run.rows_inserted, run.rows_updated, run.rows_unchanged, run.rows_rejected)
    rejected_lines = {e["line"] for e in expected}
    want = (case.get("inserted", 0), case.get("updated", 0), case.get("unchanged", 0))
    assert counts == (*want, len(rejected_lines))
    assert run.rows_read == sum(counts)
    assert (
        f"読込 {run.rows_read:,} = 新規 {counts[0]:,} + 更新 {counts[1]:,} + "
        f"変更なし {counts[2]:,} + エラー {counts[3]:,}"
    ) in ran.out

    if expected:
        rows = report(Path(run.report_path))
        got = sorted((int(r["行"]), r["列"]) for r in rows)
        assert got == sorted((e["line"], e["column"]) for e in expected)
        reasons = {(int(r["行"]), r["列"]): r["理由"] for r in rows}
        for e in expected:
            assert e["reason"] in reasons[(e["line"], e["column"])], e
        assert all(r["reason"] for r in rows)
        assert all(len(r["値"]) <= 201 for r in rows)  # a huge value is not copied whole
    else:
        assert run.report_path is None

    for check in case.get("stored", []):
        table = TABLES[check["table"]]
        with engine.connect() as conn:
            row = conn.execute(
                select(table).where(*(table.c[k] == v for k, v in check["where"].items()))
            ).one()
        for column, value in check["is"].items():
            stored = row._mapping[column]
            assert (stored if isinstance(value, int) else str(stored)) == value, (column, check)
