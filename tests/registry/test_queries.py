"""Read paths: results, and the number of statements each costs (pinned, counted by the driver)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from shikaku.registry.checks import find_records
from shikaku.registry.importer import ImportOptions, import_file
from shikaku.security.mynumber import MyNumberVault
from tests.registry.helpers import EMPLOYER_HEADER, MEMBER_HEADER, employer, member, write
from tests.statements import driver_statements


def _load(engine: Engine, vault: MyNumberVault, tmp_path: Path, n: int) -> None:
    opts = ImportOptions("01130012", "00", tmp_path / "r", batch_size=1000, parser_process=False)
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


def test_a_clinic_lookup_is_one_statement_hit_or_miss(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    """The lookup runs on the driver's own cursor: counted by the driver, not SQLAlchemy."""
    _load(engine, vault, tmp_path, 20)
    keys = ("01130012", "01234567", "5")
    day = date(2024, 6, 7)
    with driver_statements(engine) as seen, engine.connect() as conn:
        [found] = find_records(conn, *keys, "00", date(1980, 1, 2), day)
        after_hit = len(seen)
        assert find_records(conn, *keys, "00", date(1980, 1, 3), day) == []
        assert find_records(conn, *keys, "01", date(1980, 1, 2), day) == []
    assert after_hit == 1 and len(seen) == 3, seen
    assert found.name == "協会　花子"
    [(period, _reason)] = found.periods
    assert period.eligible_from == date(2020, 4, 1) and period.lost_on == date(2024, 7, 1)


def test_registry_counts(engine: Engine, vault: MyNumberVault, tmp_path: Path) -> None:
    from shikaku.registry.queries import registry_counts

    _load(engine, vault, tmp_path, 10)
    with engine.connect() as conn:
        counts = registry_counts(conn)
    assert (counts.employers, counts.home_delivery_employers) == (2, 1)
    assert (counts.insured, counts.dependents) == (10, 10)
    assert counts.my_number == {"none": 20}
    assert counts.mynacard_registered == 0
