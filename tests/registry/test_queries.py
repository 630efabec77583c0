"""Read paths: results, and the number of statements each costs (pinned)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, event

from shikaku.registry.importer import ImportOptions, import_file
from shikaku.registry.queries import find_member, iter_eligible
from shikaku.security.mynumber import MyNumberVault
from tests.registry.helpers import EMPLOYER_HEADER, MEMBER_HEADER, employer, member, write


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def listen(_c: object, _cur: object, sql: str, *_: object) -> None:
        if not sql.startswith("BEGIN"):
            seen.append(sql)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def _load(engine: Engine, vault: MyNumberVault, tmp_path: Path, n: int) -> None:
    opts = ImportOptions("01130012", "00", tmp_path / "r", batch_size=1000, workers=0)
    import_file(
        engine,
        write(
            tmp_path / "e.csv", EMPLOYER_HEADER, [employer(), employer("00000002", 送付先="自宅")]
        ),
        vault,
        opts,
    )
    rows = []
    for i in range(1, n + 1):
        symbol = "01234567" if i % 2 else "00000002"
        lost = "2024-07-01" if i % 5 == 0 else ""
        rows.append(member(str(i), "00", 記号=symbol, 資格喪失年月日=lost))
        rows.append(member(str(i), "01", 記号=symbol, 資格取得年月日="2024-06-08"))
    import_file(engine, write(tmp_path / "m.csv", MEMBER_HEADER, rows), vault, opts)


def test_find_member_needs_every_key_and_one_statement(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    _load(engine, vault, tmp_path, 20)
    with engine.connect() as conn, statements(engine) as seen:
        found = find_member(conn, "01130012", "01234567", "5", "00", date(1980, 1, 2))
        wrong_birth = find_member(conn, "01130012", "01234567", "5", "00", date(1980, 1, 3))
        wrong_branch = find_member(conn, "01130012", "01234567", "5", "01", date(1980, 1, 2))
    assert len(seen) == 3
    assert wrong_birth is None and wrong_branch is None
    assert found is not None and found.name == "協会　花子"
    [(period, _reason)] = found.periods
    assert period.eligible_from == date(2020, 4, 1) and period.lost_on == date(2024, 7, 1)


def test_iter_eligible_streams_in_one_statement(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    _load(engine, vault, tmp_path, 40)
    with engine.connect() as conn, statements(engine) as seen:
        on_extraction = list(iter_eligible(conn, date(2024, 6, 7), batch=7))
    assert len(seen) == 1
    assert len(on_extraction) == 40  # insured only: dependents joined on 06-08
    with engine.connect() as conn:
        later = list(iter_eligible(conn, date(2024, 7, 1)))
    assert len(later) == 40 - 8 + 40  # 8 left on 07-01 (their lost_on), all 40 dependents in
    keys = [(r.symbol, r.number, r.branch) for r in later]
    assert keys == sorted(keys)
    assert {r.delivery for r in later} == {"employer", "home"}


def test_registry_counts(engine: Engine, vault: MyNumberVault, tmp_path: Path) -> None:
    from shikaku.registry.queries import registry_counts

    _load(engine, vault, tmp_path, 10)
    with engine.connect() as conn:
        counts = registry_counts(conn)
    assert (counts.employers, counts.home_delivery_employers) == (2, 1)
    assert (counts.insured, counts.dependents) == (10, 10)
    assert counts.my_number == {"none": 20}
    assert counts.mynacard_registered == 0
