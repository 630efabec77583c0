"""Properties of the importer that must hold for any valid file: the registry it produces
does not depend on the batch size, and importing the same file again changes nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from shikaku.registry.db import make_engine
from shikaku.registry.importer import ImportOptions, import_file
from shikaku.registry.tables import (
    eligibility_periods,
    mynacard_registrations,
    pay_periods,
    persons,
)
from shikaku.security.mynumber import MyNumberVault
from tests.conftest import FIXED_KEY
from tests.registry.helpers import EMPLOYER_HEADER, MEMBER_HEADER, employer, member, write

ADDRESSES = ["東京都千代田区霞が関1-3-2", "東京都中野区中野4-10-2", ""]
PAYS = ["", "300000", "320000"]


@st.composite
def member_file(draw: st.DrawFn) -> list[dict[str, str]]:
    """Households in order; a person may appear again: a later period, or the same period
    twice (rejected as a duplicate row, in whichever batch it falls)."""
    rows: list[dict[str, str]] = []
    for number in range(1, draw(st.integers(1, 5)) + 1):
        for branch in range(draw(st.integers(0, 2)) + 1):
            first = member(
                str(number), f"{branch:02d}", 住所=draw(st.sampled_from(ADDRESSES)),
                生年月日="1980-01-02" if branch == 0 else f"201{branch}-03-04",
                標準報酬月額=draw(st.sampled_from(PAYS)) if branch == 0 else "",
                マイナ保険証登録日=draw(st.sampled_from(["", "2022-05-01"])),
            )  # fmt: skip
            rows.append(first)
            again = draw(st.sampled_from(["none", "correct", "leave and rejoin"]))
            if again == "correct":
                rows.append(
                    {**first, "住所": draw(st.sampled_from(ADDRESSES)), "氏名": "協会　訂正"}
                )
            elif again == "leave and rejoin":
                rows[-1] = {**first, "資格喪失年月日": "2023-01-01", "喪失事由": "99"}
                rows.append({**first, "資格取得年月日": "2024-01-01"})
    return rows


def _state(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        people = {
            r.id: (r.symbol, r.number, r.branch, r.name, r.address, r.insured_id is not None)
            for r in conn.execute(select(persons))
        }
        return {
            "persons": sorted(people.values()),
            "periods": sorted(
                (people[r.person_id][:3], r.eligible_from, r.lost_on, r.loss_reason)
                for r in conn.execute(select(eligibility_periods))
            ),
            "pay": sorted(
                (people[r.person_id][:3], r.effective_from, r.standard_monthly_pay)
                for r in conn.execute(select(pay_periods))
            ),
            "myna": sorted(
                (people[r.person_id][:3], r.registered_on)
                for r in conn.execute(select(mynacard_registrations))
            ),
        }


def _import_all(engine: Engine, files: list[Path], batch: int, work: Path) -> list[Any]:
    vault = MyNumberVault(FIXED_KEY)
    opts = ImportOptions("01130012", "00", work / "reports", batch_size=batch, parser_process=False)
    return [import_file(engine, f, vault, opts) for f in files]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=member_file(), batch=st.integers(1, 4))
def test_batch_size_never_changes_the_result(
    sqlite_template: Path, rows: list[dict[str, str]], batch: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = [
            write(work / "e.csv", EMPLOYER_HEADER, [employer()]),
            write(work / "m.csv", MEMBER_HEADER, rows),
        ]
        states = []
        for size in (10_000, batch):
            db = work / f"r{size}.db"
            db.write_bytes(sqlite_template.read_bytes())
            engine = make_engine(f"sqlite:///{db}")
            duplicates = sum(r["氏名"] == "協会　訂正" for r in rows)
            summaries = _import_all(engine, files, size, work)
            assert summaries[1].rejected == duplicates, summaries[1].errors_sample
            assert summaries[1].balanced
            states.append(_state(engine))
            again = _import_all(engine, files[1:], size, work)[0]
            expected = (len(rows) - duplicates, 0, 0, duplicates)
            assert (again.unchanged, again.inserted, again.updated, again.rejected) == expected
            assert _state(engine) == states[-1]
            engine.dispose()
        assert states[0] == states[1]
