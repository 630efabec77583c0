"""The oracle against DOMAIN.md's own sentences and examples: it must be right before it can
judge the production code (tests/reference/test_differential.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from tests.reference import oracle
from tests.reference.oracle import Key, Pay, Period, Query, Record, Registration

INSURED = Key("01130012", "01234567", "1", "00")
SPOUSE = Key("01130012", "01234567", "1", "01")
ELSEWHERE = Key("01130012", "07654321", "9", "00")


def person(
    key: Key = INSURED, born: date = date(1980, 1, 2), *periods: Period, **over: object
) -> Record:
    fields: dict[str, object] = {
        "key": key,
        "relationship": oracle.INSURED if key.branch == "00" else oracle.DEPENDENT,
        "name": "試験　一郎",
        "name_kana": "シケン　イチロウ",
        "birth_date": born,
        "periods": periods or (Period(date(2010, 4, 1)),),
        "insured": INSURED if key.symbol == INSURED.symbol else key,
        "pay": (Pay(date(2010, 4, 1), 300_000),) if key.branch == "00" else (),
    }
    fields.update(over)
    return Record(**fields)  # type: ignore[arg-type]


def ask(records: list[Record], day: date, key: Key = INSURED, online: bool = True) -> oracle.Answer:
    record = next(r for r in records if r.key == key)
    return oracle.answer(records, Query(key, record.birth_date, day, True, online))


@pytest.mark.parametrize(
    ("born", "last_day"),
    [
        (date(2019, 4, 1), date(2025, 3, 31)),  # reaches 6 on 3/31: leaves a year earlier
        (date(2019, 4, 2), date(2026, 3, 31)),  # reaches 6 on 4/1
        (date(2016, 2, 29), date(2022, 3, 31)),
    ],
)
def test_preschool_ends_on_the_first_march_31_after_reaching_6(born: date, last_day: date) -> None:
    assert oracle.preschool_until(born) == last_day


@pytest.mark.parametrize(
    ("born", "elderly", "at_75"),
    [
        (date(1955, 6, 1), date(2025, 6, 1), date(2030, 6, 1)),  # born on the 1st: that month
        (date(1955, 6, 2), date(2025, 7, 1), date(2030, 6, 2)),
        (date(1955, 12, 15), date(2026, 1, 1), date(2030, 12, 15)),
        (date(1956, 2, 29), date(2026, 3, 1), date(2031, 3, 1)),  # 28 Feb reached, 1 Mar
    ],
)
def test_age_limits(born: date, elderly: date, at_75: date) -> None:
    assert oracle.elderly_from(born) == elderly
    assert oracle.leaves_at_75(born) == at_75


def test_nobody_is_valid_from_the_75th_birthday_whatever_the_registry_holds() -> None:
    records = [person(INSURED, date(1950, 6, 15))]
    assert ask(records, date(2025, 6, 14)).validity == oracle.VALID
    after = ask(records, date(2025, 6, 15))
    assert (after.validity, after.lost_on) == (oracle.INVALID, date(2025, 6, 15))


def test_active_level_applies_to_the_insured_and_their_70_74_dependents_only() -> None:
    elder = person(INSURED, date(1953, 5, 10))  # 高齢受給者 from 2023-06-01
    spouse = person(SPOUSE, date(1954, 8, 3))  # from 2024-09-01
    records = [elder, spouse]
    assert ask(records, date(2023, 5, 31)).copay_rate == 30  # under 70: 3割
    assert ask(records, date(2023, 6, 1)).copay_rate == 30  # 現役並み (300,000)
    assert ask(records, date(2024, 8, 31), SPOUSE).copay_rate == 30  # under 70
    assert ask(records, date(2024, 9, 1), SPOUSE).copay_rate == 30  # 70-74 of 現役並み
    young = [person(INSURED, date(1970, 1, 1)), spouse]
    assert ask(young, date(2024, 9, 1), SPOUSE).copay_rate == 20  # insured under 70: 2割
    assert ask(young, date(2024, 9, 1), SPOUSE).cap_category == "B04"
    assert ask(records, date(2024, 9, 1), SPOUSE).cap_category == "B03"  # 現役並みⅠ
    assert ask(young, date(2024, 9, 1)).cap_category == "A03"  # ウ


def test_old_card_relief_and_notice() -> None:
    before = person(old_card_expires_on=date(2025, 3, 31))
    joined = person(periods=(Period(date(2024, 12, 2)),), old_card_expires_on=date(2026, 3, 31))

    def docs(r: Record, day: date, online: bool = True) -> frozenset[str]:
        return ask([r], day, online=online).accepted_documents

    assert oracle.OLD_CARD in docs(before, date(2025, 3, 31))
    assert docs(before, date(2025, 4, 1)) == {oracle.OLD_CARD, oracle.NOTICE_ALONE}  # relief
    assert docs(before, date(2025, 4, 1), online=False) == frozenset()
    assert docs(before, date(2026, 7, 31)) == {oracle.OLD_CARD, oracle.NOTICE_ALONE}
    assert docs(before, date(2026, 8, 1)) == frozenset()
    assert oracle.OLD_CARD not in docs(joined, date(2025, 1, 10))  # nobody got a card
    assert docs(joined, date(2025, 12, 2)) == {oracle.NOTICE_ALONE}
    myna = person(registrations=(Registration(date(2023, 1, 10)),))
    assert docs(myna, date(2024, 12, 1), online=False) == {oracle.OLD_CARD}
    assert docs(myna, date(2024, 12, 2), online=False) == {
        oracle.OLD_CARD,
        oracle.MYNA_CARD_WITH_NOTICE,
    }


def test_validity_3_only_for_a_qualification_that_began_later() -> None:
    old = person(INSURED, date(1980, 1, 2), Period(date(2010, 4, 1), date(2024, 4, 1), "03"))
    new = person(ELSEWHERE, date(1980, 1, 2), Period(date(2024, 4, 1)))
    records = [replace(old, identity=7), replace(new, identity=7)]
    assert ask(records, date(2024, 5, 1)).validity == oracle.INVALID_NEWER
    assert ask(records, date(2020, 5, 1), ELSEWHERE).validity == oracle.INVALID  # older covers
    assert ask(records, date(2020, 5, 1), ELSEWHERE).eligible_from is None
