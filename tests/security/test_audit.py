"""The audit chain: what is hashed, and that verify names every edited, inserted, deleted row."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text

from shikaku.registry.auditlog import AuditWriter, verify_chain
from shikaku.registry.db import libpq_conninfo
from shikaku.registry.tables import audit_log
from shikaku.security.audit import (
    GENESIS,
    AuditEntry,
    AuditReport,
    chain_hash,
    check_chain,
)
from shikaku.service.clinics import add_clinic


def entries(n: int, clinic_id: int | None = None, start: int = 0) -> list[AuditEntry]:
    return [
        AuditEntry(
            "eligibility" if i % 3 else "fhir_coverage",
            clinic_id=clinic_id,
            person_id=None if i % 5 == 4 else 1000 + i,  # nobody found: no person
            result="1" if i % 5 != 4 else "not_found",
            detail={"symbol": "01234567", "number": str(i), "query": "資格確認"},
        )
        for i in range(start, start + n)
    ]


def filled(engine: Engine, rows: int = 12) -> AuditWriter:
    clinic_id, _ = add_clinic(engine, "0110113719", "札幌しかく内科")
    writer = AuditWriter(engine)
    for start in range(0, rows, 4):  # several batches
        writer.append(entries(4, clinic_id, start))
    return writer


def problems(report: AuditReport) -> list[tuple[int, str]]:
    return [(p.row_id, p.kind) for p in report.problems]


def sql(engine: Engine, statement: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def test_rows_are_chained_as_documented(engine: Engine) -> None:
    """An auditor can recompute the chain from the docs alone: pin the exact encoding."""
    at = datetime(2026, 11, 27, 1, 2, 3, 4)
    writer = AuditWriter(engine)
    ids = writer.append([AuditEntry("console_read", person_id=42, result="1", at=at)])
    ids += writer.append([AuditEntry("eligibility", result="0", detail={"b": "二", "a": 1}, at=at)])
    assert ids == [1, 2]
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.id)).all()
    one, two = rows
    encoded = b'[1,"2026-11-27T01:02:03.000004",null,"console_read",42,"1",null]'
    assert bytes(one.prev_hash) == GENESIS == bytes(32)
    assert bytes(one.row_hash) == hashlib.sha256(bytes(32) + encoded).digest()
    assert two.detail == '{"a":1,"b":"二"}'  # compact, sorted keys
    encoded = json.dumps(
        [2, "2026-11-27T01:02:03.000004", None, "eligibility", None, "0", two.detail],
        separators=(",", ":"),
    ).encode("ascii")
    assert bytes(two.prev_hash) == bytes(one.row_hash)
    assert bytes(two.row_hash) == hashlib.sha256(bytes(one.row_hash) + encoded).digest()


def test_batches_make_one_valid_chain(engine: Engine) -> None:
    writer = filled(engine, 12)
    assert writer.append([]) == []
    assert writer.append(entries(3)) == [13, 14, 15]
    report = verify_chain(engine, batch=4)  # streamed in several fetches
    assert report.ok, report.problems
    assert (report.rows, report.first_id, report.last_id) == (15, 1, 15)
    with engine.connect() as conn:
        last = conn.execute(select(audit_log.c.row_hash).where(audit_log.c.id == 15)).scalar()
        stamps = conn.execute(select(audit_log.c.at)).scalars().all()
    assert report.head_hash == bytes(last)
    now = datetime.now(UTC).replace(tzinfo=None)
    assert all(now - timedelta(minutes=5) < at <= now for at in stamps)  # UTC


def test_an_empty_log_is_intact(engine: Engine) -> None:
    report = verify_chain(engine)
    assert report.ok and report.rows == 0 and report.head_hash == GENESIS


def test_an_aware_time_is_stored_as_utc(engine: Engine) -> None:
    jst = timezone(timedelta(hours=9))
    AuditWriter(engine).append([AuditEntry("eligibility", at=datetime(2026, 4, 1, 9, tzinfo=jst))])
    with engine.connect() as conn:
        assert conn.execute(select(audit_log.c.at)).scalar() == datetime(2026, 4, 1, 0, 0)
    assert verify_chain(engine).ok


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("result", "'0'"),
        ("detail", "'{}'"),
        ("person_id", "999"),
        ("clinic_id", "NULL"),
        ("kind", "'console_read'"),
        ("at", "'2026-01-01 00:00:00'"),
    ],
)
def test_an_edited_row_is_named(engine: Engine, column: str, value: str) -> None:
    filled(engine, 12)
    sql(engine, f"UPDATE audit_log SET {column} = {value} WHERE id = 7")
    report = verify_chain(engine)
    assert problems(report) == [(7, "edited")]
    assert "7 行目" in report.problems[0].ja and "row 7" in report.problems[0].en
    assert report.counts == {"edited": 1} and report.rows == 12


def test_edited_rows_are_all_named(engine: Engine) -> None:
    filled(engine, 12)
    sql(engine, "UPDATE audit_log SET result = 'x' WHERE id IN (1, 5, 12)")
    assert problems(verify_chain(engine)) == [(1, "edited"), (5, "edited"), (12, "edited")]


def test_an_edited_and_rehashed_row_breaks_the_next_link(engine: Engine) -> None:
    filled(engine, 12)
    with engine.begin() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.id == 7)).one()
        forged = chain_hash(
            bytes(row.prev_hash), 7, row.at, row.clinic_id, row.kind, row.person_id, "0", row.detail
        )
        conn.execute(
            text("UPDATE audit_log SET result = '0', row_hash = :h WHERE id = 7"), {"h": forged}
        )
    report = verify_chain(engine)
    assert problems(report) == [(8, "unlinked")]
    assert "row 7 was replaced" in report.problems[0].en


@pytest.mark.parametrize(("deleted", "first"), [((5,), 5), ((5, 6, 7), 5), ((1,), 1), ((1, 2), 1)])
def test_a_deleted_row_is_named(engine: Engine, deleted: tuple[int, ...], first: int) -> None:
    filled(engine, 12)
    sql(engine, f"DELETE FROM audit_log WHERE id IN ({','.join(map(str, deleted))})")
    report = verify_chain(engine)
    assert problems(report) == [(first, "deleted")]
    span = str(deleted[0]) if len(deleted) == 1 else f"{deleted[0]}–{deleted[-1]}"
    assert f"{span} 行目がありません" in report.problems[0].ja
    assert report.rows == 12 - len(deleted)


def forge(engine: Engine, row_id: int, prev_hash: bytes) -> None:
    """A row with a correct hash of its own, as someone who read the docs would write it."""
    at = datetime(2026, 11, 27, 12, 0)
    detail = '{"note":"forged"}'
    row_hash = chain_hash(prev_hash, row_id, at, None, "console_read", 1, "1", detail)
    with engine.begin() as conn:
        conn.execute(
            insert(audit_log).values(
                id=row_id, at=at, kind="console_read", person_id=1, result="1", detail=detail,
                prev_hash=prev_hash, row_hash=row_hash,
            )
        )  # fmt: skip


def test_a_forged_row_at_the_end_is_named(engine: Engine) -> None:
    writer = filled(engine, 12)
    forge(engine, 13, os.urandom(32))
    report = verify_chain(engine)
    assert problems(report) == [(13, "inserted")]
    # The application then writes on after it: the forged row stays named.
    writer.append(entries(2))
    report = verify_chain(engine)
    assert problems(report) == [(13, "unlinked")]
    assert "row 13 is not chained to row 12" in report.problems[0].en


def test_a_forged_row_with_an_id_out_of_sequence_is_named(engine: Engine) -> None:
    filled(engine, 12)
    forge(engine, 20, os.urandom(32))
    assert problems(verify_chain(engine)) == [(13, "deleted")]  # ids 13–19 are missing


def test_a_forged_row_in_place_of_a_deleted_one_is_named(engine: Engine) -> None:
    filled(engine, 12)
    with engine.begin() as conn:
        prev = conn.execute(select(audit_log.c.row_hash).where(audit_log.c.id == 6)).scalar()
        conn.execute(text("DELETE FROM audit_log WHERE id = 7"))
    forge(engine, 7, bytes(prev))  # chained correctly to row 6
    report = verify_chain(engine)
    assert problems(report) == [(8, "unlinked")]
    assert "row 7 was replaced" in report.problems[0].en


def raw_chain(engine: Engine, links: list[int | None]) -> None:
    """Rows 1..n, row i chained to row links[i-1] (0 = genesis, None = nothing)."""
    hashes = {0: GENESIS}
    at = datetime(2026, 11, 27)
    with engine.begin() as conn:
        for i, link in enumerate(links, 1):
            prev = hashes[link] if link is not None else os.urandom(32)
            hashes[i] = chain_hash(prev, i, at, None, "console_read", i, "1", None)
            conn.execute(
                insert(audit_log).values(
                    id=i, at=at, kind="console_read", person_id=i, result="1",
                    prev_hash=prev, row_hash=hashes[i],
                )
            )  # fmt: skip


def test_a_row_the_chain_goes_around_is_inserted(engine: Engine) -> None:
    raw_chain(engine, [0, 1, None, 2, 4, 5])  # row 4 follows row 2: row 3 is not in the chain
    assert problems(verify_chain(engine)) == [(3, "inserted")]


def test_rows_between_a_row_and_its_link_are_inserted(engine: Engine) -> None:
    raw_chain(engine, [0, 1, 2, 3, 2, 5])  # row 5 follows row 2: rows 3 and 4 are not
    report = verify_chain(engine)
    assert problems(report) == [(3, "inserted")]
    assert "3–4" in report.problems[0].en


def test_a_first_row_not_chained_to_genesis(engine: Engine) -> None:
    raw_chain(engine, [None])
    assert problems(verify_chain(engine)) == [(1, "inserted")]


def test_truncation_needs_an_anchor(engine: Engine) -> None:
    filled(engine, 12)
    head = verify_chain(engine)
    anchor = (head.last_id or 0, head.head_hash)
    assert verify_chain(engine, anchor=anchor).ok
    sql(engine, "DELETE FROM audit_log WHERE id > 10")
    assert verify_chain(engine).ok  # removing the newest rows leaves no trace in the chain
    report = verify_chain(engine, anchor=anchor)
    assert problems(report) == [(12, "anchor")]
    assert "truncated" in report.problems[0].en


def test_a_consistent_rewrite_is_caught_by_the_anchor(engine: Engine) -> None:
    writer = filled(engine, 12)
    report = verify_chain(engine)
    anchor = (12, report.head_hash)
    sql(engine, "DELETE FROM audit_log WHERE id >= 12")
    writer.append(entries(1))  # row 12 again, correctly chained, but not the recorded one
    assert verify_chain(engine).ok
    assert problems(verify_chain(engine, anchor=anchor)) == [(12, "anchor")]


def test_every_problem_is_counted_and_the_list_is_bounded(engine: Engine) -> None:
    filled(engine, 12)
    sql(engine, "UPDATE audit_log SET result = 'x'")
    sql(engine, "DELETE FROM audit_log WHERE id = 3")
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.id))
        report = check_chain(rows, max_problems=4)
    assert report.counts == {"edited": 11, "deleted": 1}
    assert report.problem_count == 12 and len(report.problems) == 4
    assert not report.ok


@pytest.mark.parametrize(
    ("result", "detail"),
    [
        ("123456789018", None),
        (None, {"my_number": "123456789018"}),
        (None, {"q": "１２３４５６７８９０１８"}),  # full width
        (None, {"q": "1234-5678-9018"}),
        (None, {"q": "1234 5678 9018"}),
        (None, {"q": ["x", {"y": 123456789018}]}),
        (None, {"123456789018": "key"}),
    ],
)
def test_a_my_number_is_never_written(result: str | None, detail: Any) -> None:
    with pytest.raises(ValueError) as info:
        AuditEntry("eligibility", result=result, detail=detail)
    assert "9018" not in str(info.value)


def test_entries_are_checked() -> None:
    ok = AuditEntry("eligibility", detail={"date": "2024-06-07", "member": "01130012:1:2:00"})
    assert ok.detail_json == '{"date":"2024-06-07","member":"01130012:1:2:00"}'
    with pytest.raises(ValueError):
        AuditEntry("Eligibility")
    with pytest.raises(ValueError):
        AuditEntry("x" * 33)
    with pytest.raises(ValueError):
        AuditEntry("eligibility", result="x" * 33)
    with pytest.raises(ValueError):
        AuditEntry("eligibility", detail={"x": "y" * 2000})


def test_writers_of_two_processes_keep_one_chain(engine: Engine) -> None:
    """PostgreSQL (the API checker's autocommit path): each writer continues from the row it wrote last;
    when the other writer got there first, the primary key refuses the batch and it tries
    again from the head. Interleaved, the log stays one valid chain with no gap.
    (SQLite has no autocommit writer: the same interleaving through `append`.)"""
    if engine.dialect.name == "sqlite":
        first, second = AuditWriter(engine), AuditWriter(engine)
        for i in range(6):
            (first if i % 2 else second).append(entries(3, start=3 * i))
    else:
        _interleave_autocommit(engine, batches=6, size=3)
    report = verify_chain(engine)
    assert report.ok and report.rows == 18


def _interleave_autocommit(engine: Engine, batches: int, size: int) -> None:
    """Two autocommit writers, each on its own connection, take turns batch by batch: each
    batch finds the other's rows after its own last one."""
    from psycopg import connect

    dsn = libpq_conninfo(engine)
    first, second = AuditWriter(engine), AuditWriter(engine)
    with connect(dsn, autocommit=True) as a, connect(dsn, autocommit=True) as b:
        for i in range(batches):
            writer, conn = (first, a) if i % 2 else (second, b)
            ids = writer.append_autocommit(conn, entries(size, start=size * i))
            assert ids == list(range(size * i + 1, size * i + size + 1))


def test_concurrent_writers_of_three_processes_all_succeed(pg_engine: Engine) -> None:
    """Two API workers' checker processes (autocommit writers) and a staff console's blocking
    writer, at once: a writer that continues from its own last row must not slip in between
    a locked writer's read of the head and its insert (that insert then failed on the primary
    key, and the API answered 503). Every batch is written, and the log is one chain without
    gaps."""
    from concurrent.futures import ThreadPoolExecutor

    from psycopg import connect

    dsn = libpq_conninfo(pg_engine)
    batches, size = 40, 3
    console = AuditWriter(pg_engine)

    def api_worker() -> int:
        writer = AuditWriter(pg_engine)
        with connect(dsn, autocommit=True) as conn:
            for i in range(batches):
                assert len(writer.append_autocommit(conn, entries(size, start=i))) == size
        return batches * size

    def console_rows() -> int:
        return sum(len(console.append(entries(size))) for _ in range(batches))

    with ThreadPoolExecutor(3) as pool:
        written = sum(f.result() for f in [pool.submit(api_worker), pool.submit(api_worker),
                                           pool.submit(console_rows)])  # fmt: skip
    report = verify_chain(pg_engine)
    assert report.ok, report.problems[:3]
    assert report.rows == written == 3 * batches * size


@pytest.mark.parametrize("tries", [0, 1, 3])
def test_autocommit_writers_after_refusals_take_the_lock(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch, tries: int
) -> None:
    """However many unlocked attempts a batch gets (none: straight to the locked way), two
    writers that keep overtaking each other write every batch, in one chain."""
    from shikaku.registry import auditlog

    monkeypatch.setattr(auditlog, "OPTIMISTIC_TRIES", tries)
    _interleave_autocommit(pg_engine, batches=6, size=2)
    report = verify_chain(pg_engine)
    assert report.ok and report.rows == 12
