"""The household's pay on a day (registry.household) is the same for the clinic lookup, the
extraction stream and the certificate planner (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, and_, select

from shikaku.issuance.certificate_plan import household_pay
from shikaku.issuance.extract import source_columns
from shikaku.registry.checks import find_records
from shikaku.registry.db import write_transaction
from shikaku.registry.household import household_insured, pay_in_force
from shikaku.registry.tables import eligibility_periods, employers, pay_periods, persons

INSURER, SYMBOL = "01130012", "100"
INSURED_BIRTH = date(1953, 6, 1)  # 70-74 through 2028: their pay decides 現役並み
PAY = (  # the insured person's pay records: effective_from, 標準報酬月額, 住民税非課税
    (date(2024, 9, 1), 200_000, False),
    (date(2025, 4, 1), 410_000, True),
    (date(2025, 9, 1), 300_000, False),
)
DAYS = {  # the day → the pay in force (None: before the first record)
    date(2024, 8, 31): None,
    date(2024, 9, 1): (200_000, False),
    date(2025, 3, 31): (200_000, False),
    date(2025, 4, 1): (410_000, True),
    date(2025, 8, 31): (410_000, True),
    date(2025, 9, 1): (300_000, False),
    date(2027, 1, 1): (300_000, False),
}


def _household(engine: Engine) -> tuple[int, int]:
    """An insured person and a dependent, both covered since 2020, with three pay records."""
    with write_transaction(engine) as conn:
        employer = conn.execute(
            employers.insert()
            .values(insurer_number=INSURER, symbol=SYMBOL, name="株式会社テスト",
                    name_kana="テスト", postal_code="1000001", address="東京都千代田区千代田1",
                    delivery="employer", row_hash=b"e" * 16)
            .returning(employers.c.id)
        ).scalar_one()  # fmt: skip
        ids: list[int] = []
        for branch, relationship, birth, insured in (
            ("00", 1, INSURED_BIRTH, None),
            ("01", 2, date(1955, 2, 3), "insured"),
        ):
            ids.append(
                conn.execute(
                    persons.insert()
                    .values(employer_id=employer, insurer_number=INSURER, symbol=SYMBOL,
                            number="7", branch=branch, relationship=relationship,
                            insured_id=ids[0] if insured else None, name="保険 花子",
                            name_kana="ホケン ハナコ", birth_date=birth, sex=2,
                            my_number_status="none", row_hash=branch.encode() * 8)
                    .returning(persons.c.id)
                ).scalar_one()
            )  # fmt: skip
            conn.execute(
                eligibility_periods.insert().values(
                    person_id=ids[-1], eligible_from=date(2020, 4, 1), row_hash=b"p" * 16
                )
            )
        for effective_from, pay, exempt in reversed(PAY):  # stored order does not matter
            conn.execute(
                pay_periods.insert().values(
                    person_id=ids[0],
                    effective_from=effective_from,
                    standard_monthly_pay=pay,
                    tax_exempt=exempt,
                )
            )
    return ids[0], ids[1]


@pytest.mark.parametrize("day", sorted(DAYS))
def test_every_reader_takes_the_same_pay_record(engine: Engine, day: date) -> None:
    insured, dependent = _household(engine)
    expected = DAYS[day]
    p, e, m = persons.c, eligibility_periods.c, employers.c
    with engine.connect() as conn:
        planner = household_pay(conn, {insured, dependent}, day)
        stream: dict[int, int | None] = dict(
            conn.execute(
                select(p.id, source_columns(day)[-1])
                .join_from(persons, eligibility_periods, e.person_id == p.id)
                .join(employers, m.id == p.employer_id)
            ).all()
        )
        lookups = [
            find_records(conn, INSURER, SYMBOL, "7", branch, birth, day)[0].household
            for branch, birth in (("00", INSURED_BIRTH), ("01", date(1955, 2, 3)))
        ]
    for person in (insured, dependent):
        found = planner.get(person)
        assert (None if found is None else (found[1], bool(found[2]))) == expected
        assert found is None or found[0] == INSURED_BIRTH
    for household in lookups:
        assert household.insured_birth == INSURED_BIRTH
        assert (household.standard_monthly_pay, household.tax_exempt) == (expected or (None, False))
    # The stream reads the pay of the insured person only (a dependent takes it from theirs).
    assert stream == {insured: expected and expected[0], dependent: None}


def test_the_rule_in_sql_is_one_expression(engine: Engine) -> None:
    """pay_in_force joins one row per person and day, whatever the number of records."""
    insured, dependent = _household(engine)
    p, pp = persons.c, pay_periods.c
    day = date(2025, 6, 30)
    with engine.connect() as conn:
        rows = conn.execute(
            select(p.id, pp.standard_monthly_pay)
            .join_from(
                persons,
                pay_periods,
                and_(
                    pp.person_id == household_insured(persons),
                    pp.effective_from == pay_in_force(household_insured(persons), day),
                ),
            )
            .order_by(p.id)
        ).all()
    assert [tuple(r) for r in rows] == [(insured, 410_000), (dependent, 410_000)]
