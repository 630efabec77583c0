"""The manifest counts letters with and without a customer barcode, and stays deterministic.

A letter whose address gives no barcode with confidence goes out without one (it loses its
own discount, never the mailing's); the print vendor and the insurer see how many.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, select

from shikaku.issuance.certificate_returns import request_returns
from shikaku.issuance.engine import InlineEngine
from shikaku.issuance.jobs import Job
from shikaku.issuance.runs import DoneStretch, execute, load_config, manifest_stream
from shikaku.issuance.verify import verify_run
from shikaku.registry.db import read_once, write_transaction
from shikaku.registry.tables import employers, runs
from shikaku.security.mynumber import MyNumberVault
from tests.issuance.helpers import demo_registry, settings, start
from tests.statements import driver_statements

J = TypeVar("J")
R = TypeVar("R")


def test_manifest_counts_letters_with_and_without_barcode(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    demo_registry(engine, vault, tmp_path, members=150)
    with write_transaction(engine) as conn:
        e = employers.c
        # two employers whose address no longer starts with their postal code's city
        for employer_id, address in conn.execute(
            select(e.id, e.address).where(e.delivery == "employer").order_by(e.id).limit(2)
        ).all():
            conn.execute(
                employers.update()
                .where(e.id == employer_id)
                .values(address="移転先未登録 " + address)
            )
    run_id, _ = start(engine, vault, settings(tmp_path))
    execute(engine, run_id, InlineEngine(), task_notices=40)
    with engine.connect() as conn:
        out = Path(conn.execute(select(runs.c.output_url).where(runs.c.id == run_id)).scalar_one())
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    totals = manifest["totals"]
    letters = [c for c in manifest["containers"] if c["kind"] != "box"]
    without = [c for c in letters if not c["barcode"]]
    assert without and without == [c for c in letters if c["address"].startswith("移転先未登録")]
    assert totals["letters_without_barcode"] == len(without)
    assert totals["barcode_letters"] == len(letters) - len(without) > 0
    assert totals["barcode_letters"] + totals["letters_without_barcode"] == (
        totals["envelopes"] + totals["letters"]
    )
    with (out / "manifest.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[-1][0] == "合計" and int(rows[-1][8]) == totals["barcode_letters"]
    # verify rebuilds both manifest files from the ledger and compares their bytes
    report = verify_run(engine, run_id)
    assert report.ok, report.problems


def test_the_driver_sorts_nothing_in_memory(
    sqlite_engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    """The driver's reads that grow with a run or the registry (the manifest, the return
    requests) go in index order: a sort (a GROUP BY, an ORDER BY off the index) holds every row
    in the driver, as SQLite keeps its temporary B-trees in memory: the manifest's GROUP BY
    kind took 30 MB of a 1M-member certificates run."""
    demo_registry(sqlite_engine, vault, tmp_path, members=150)
    run_id, _ = start(sqlite_engine, vault, settings(tmp_path))
    execute(sqlite_engine, run_id, InlineEngine(), task_notices=40)
    run, config = load_config(sqlite_engine, run_id)
    with driver_statements(sqlite_engine) as statements:
        with (
            manifest_stream(sqlite_engine, run, config) as manifest,
            read_once(sqlite_engine) as conn,
        ):
            manifest.add(conn, 2)  # as the first partitions are done
        with write_transaction(sqlite_engine) as conn:
            request_returns(conn, run)
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) >= 5
    with sqlite_engine.connect() as conn:
        for statement in selects:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement).all()
            assert not [row for row in plan if "TEMP B-TREE" in row[-1]], (statement, plan)


class ShuffledEngine(InlineEngine):
    """Runs the jobs in a shuffled order, each result handed back as its job ends, as workers
    may: the manifest must not take a later job's end for its partitions' being done."""

    def map_unordered(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[R]:
        shuffled = list(jobs)
        random.Random(7).shuffle(shuffled)
        for job in shuffled:
            yield fn(job)


def test_the_manifest_follows_jobs_finished_in_any_order(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    demo_registry(engine, vault, tmp_path, members=200)
    run_id, _ = start(engine, vault, settings(tmp_path))
    summary = execute(engine, run_id, ShuffledEngine(), task_notices=15)
    assert summary.partitions_rendered > 5
    # verify rebuilds both files from the ledger in one pass and compares their bytes
    report = verify_run(engine, run_id)
    assert report.ok, report.problems


def test_the_done_stretch_grows_only_from_the_first_partition() -> None:
    stretch = DoneStretch()
    jobs = [Job(1, "", "", cast(Any, None), partitions, 1) for partitions in ((1, 2), (3,), (4, 5))]
    assert list(stretch.follow(jobs)) == jobs
    assert stretch.done(3) is None  # the first job is not done yet
    assert stretch.done(2) == 3
    assert stretch.done(5) == 5
    assert not stretch.sent and not stretch.finished
