"""負担割合, 限度額適用区分 and monthly caps (DOMAIN.md §5, §6)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shikaku.domain.ages import late_elderly_on
from shikaku.domain.copay import (
    CAP_CODES,
    CAP_TABLES,
    COPAY_TABLES,
    cap_category,
    copay_rate,
    monthly_cap,
    percent_of,
    table_on,
)
from shikaku.domain.errors import DomainError
from tests.domain.codes import C

D = timedelta(days=1)
DAY = date(2025, 10, 15)
DEFAULT_CAPS = CAP_TABLES[-1]
DEFAULT_COPAY = COPAY_TABLES[-1]


def own_rate(birth: date, day: date = DAY, pay: int = 300_000) -> int:
    return copay_rate(
        birth, day, insured_birth=birth, insured_standard_monthly_pay=pay, is_insured=True
    )


def dependent_rate(birth: date, insured_birth: date, pay: int, day: date = DAY) -> int:
    return copay_rate(
        birth, day, insured_birth=insured_birth, insured_standard_monthly_pay=pay, is_insured=False
    )


# --------------------------------------------------------------------------- 負担割合


def test_working_age_is_30() -> None:
    assert own_rate(date(1980, 5, 5)) == 30
    assert dependent_rate(date(2010, 5, 5), date(1980, 5, 5), 200_000) == 30


@pytest.mark.parametrize(
    ("birth", "last_20_day"),
    [(date(2019, 4, 1), date(2025, 3, 31)), (date(2019, 4, 2), date(2026, 3, 31))],
)
def test_preschool_is_20_until_march_31(birth: date, last_20_day: date) -> None:
    parent = date(1990, 1, 1)
    assert dependent_rate(birth, parent, 500_000, day=birth) == 20
    assert dependent_rate(birth, parent, 500_000, day=last_20_day) == 20
    assert dependent_rate(birth, parent, 500_000, day=last_20_day + D) == 30


def test_april_1_and_2_children_on_april_1() -> None:
    parent = date(1990, 1, 1)
    day = date(2025, 4, 1)
    assert dependent_rate(date(2019, 4, 1), parent, 200_000, day=day) == 30
    assert dependent_rate(date(2019, 4, 2), parent, 200_000, day=day) == 20


@pytest.mark.parametrize(
    ("birth", "first_elderly_day"),
    [
        (date(1955, 6, 1), date(2025, 6, 1)),
        (date(1955, 6, 2), date(2025, 7, 1)),
        (date(1955, 12, 31), date(2026, 1, 1)),
    ],
)
def test_elderly_20_from_the_month_after_reaching_70(birth: date, first_elderly_day: date) -> None:
    assert own_rate(birth, first_elderly_day - D, pay=200_000) == 30
    assert own_rate(birth, first_elderly_day, pay=200_000) == 20


def test_elderly_20_until_the_day_before_75() -> None:
    birth = date(1950, 11, 20)
    assert own_rate(birth, date(2025, 11, 19), pay=200_000) == 20
    with pytest.raises(DomainError, match="後期高齢者"):
        own_rate(birth, date(2025, 11, 20), pay=200_000)


def test_active_elderly_insured_is_30_at_280000() -> None:
    birth = date(1954, 4, 10)
    assert own_rate(birth, pay=280_000) == 30
    assert own_rate(birth, pay=260_000) == 20


def test_active_through_the_insured_person() -> None:
    insured = date(1954, 4, 10)  # 71
    spouse = date(1953, 9, 9)  # 72
    assert dependent_rate(spouse, insured, 280_000) == 30
    assert dependent_rate(spouse, insured, 260_000) == 20


def test_dependent_of_an_insured_under_70_is_20() -> None:
    insured = date(1956, 12, 1)  # 68 on DAY
    spouse = date(1953, 9, 9)  # 72
    assert dependent_rate(spouse, insured, 1_390_000) == 20


def test_insured_reaching_70_but_not_yet_elderly_does_not_make_dependent_active() -> None:
    insured = date(1955, 10, 10)  # reaches 70 on 2025-10-09, 高齢受給者 from 2025-11-01
    spouse = date(1953, 9, 9)
    assert dependent_rate(spouse, insured, 500_000, day=date(2025, 10, 31)) == 20
    assert dependent_rate(spouse, insured, 500_000, day=date(2025, 11, 1)) == 30


def test_active_insured_does_not_change_a_child_or_adult_dependent() -> None:
    insured = date(1954, 4, 10)
    assert dependent_rate(date(1990, 1, 1), insured, 830_000) == 30
    assert dependent_rate(date(2022, 1, 1), insured, 830_000) == 20


@pytest.mark.parametrize(
    "kwargs",
    [
        {"insured_birth": date(1980, 1, 1), "is_insured": True},  # not the same person
        {"insured_birth": date(1950, 1, 1), "is_insured": False},  # insured already 75
    ],
)
def test_inconsistent_household_is_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(DomainError):
        copay_rate(
            date(1981, 1, 1),
            DAY,
            insured_standard_monthly_pay=300_000,
            **kwargs,  # type: ignore[arg-type]
        )


def test_negative_pay_and_day_before_birth_are_rejected() -> None:
    with pytest.raises(DomainError):
        own_rate(date(1980, 1, 1), pay=-1)
    with pytest.raises(DomainError):
        own_rate(date(2026, 1, 1))


def test_rates_come_from_the_table() -> None:
    ten_percent = dataclasses.replace(DEFAULT_COPAY, elderly=10)
    birth = date(1954, 4, 10)
    assert (
        copay_rate(
            birth,
            DAY,
            insured_birth=birth,
            insured_standard_monthly_pay=200_000,
            is_insured=True,
            table=ten_percent,
        )
        == 10
    )


def test_no_table_before_2018_08() -> None:
    with pytest.raises(DomainError):
        own_rate(date(1980, 1, 1), day=date(2018, 7, 31))
    assert own_rate(date(1980, 1, 1), day=date(2018, 8, 1)) == 30


def test_table_on_picks_the_latest_in_force() -> None:
    newer = dataclasses.replace(DEFAULT_CAPS, effective_from=date(2026, 8, 1))
    tables = (*CAP_TABLES, newer)
    assert table_on(tables, date(2026, 7, 31)) is DEFAULT_CAPS
    assert table_on(tables, date(2026, 8, 1)) is newer
    assert table_on(COPAY_TABLES, DAY) is DEFAULT_COPAY


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    st.integers(0, 75 * 366),
    st.integers(0, 1_500_000),
    st.booleans(),
)
def test_rate_is_20_or_30_from_birth_to_the_day_before_75(
    birth: date, offset: int, pay: int, is_insured: bool
) -> None:
    day = birth + offset * D
    if day >= late_elderly_on(birth):
        day = late_elderly_on(birth) - D
    insured_birth = birth if is_insured else date(1960, 1, 1)
    if day >= late_elderly_on(insured_birth) or day < date(2018, 8, 1):
        return
    rate = copay_rate(
        birth,
        day,
        insured_birth=insured_birth,
        insured_standard_monthly_pay=pay,
        is_insured=is_insured,
    )
    assert rate in (20, 30)


# --------------------------------------------------------------------------- 限度額適用区分


def own_category(birth: date, pay: int, *, tax_exempt: bool = False, zero: bool = False) -> str:
    return cap_category(
        birth,
        DAY,
        insured_birth=birth,
        insured_standard_monthly_pay=pay,
        is_insured=True,
        tax_exempt=tax_exempt,
        household_income_zero=zero,
    ).code


UNDER_70 = date(1980, 1, 1)
ELDERLY = date(1954, 4, 10)


@pytest.mark.parametrize(
    ("pay", "under70", "elderly"),
    [
        (0, C.A04, C.B04),
        (58_000, C.A04, C.B04),
        (260_000, C.A04, C.B04),
        (280_000, C.A03, C.B03),
        (500_000, C.A03, C.B03),
        (530_000, C.A02, C.B02),
        (790_000, C.A02, C.B02),
        (830_000, C.A01, C.B01),
        (1_390_000, C.A01, C.B01),
    ],
)
def test_category_thresholds(pay: int, under70: str, elderly: str) -> None:
    assert own_category(UNDER_70, pay) == under70
    assert own_category(ELDERLY, pay) == elderly


@pytest.mark.parametrize(
    ("pay", "expected"),
    [(260_000, C.A05), (500_000, C.A05), (530_000, C.A02), (830_000, C.A01)],
)
def test_tax_exempt_under_70_is_o_except_for_a_and_i(pay: int, expected: str) -> None:
    assert own_category(UNDER_70, pay, tax_exempt=True) == expected


def test_elderly_low_income() -> None:
    assert own_category(ELDERLY, 200_000, tax_exempt=True) == C.B05
    assert own_category(ELDERLY, 200_000, tax_exempt=True, zero=True) == C.B06
    assert own_category(ELDERLY, 200_000, zero=True) == C.B04  # zero only with tax_exempt
    assert own_category(ELDERLY, 280_000, tax_exempt=True) == C.B03  # 現役並み first


def test_elderly_dependent_category_follows_the_insured() -> None:
    def cat(insured_birth: date, pay: int) -> str:
        return cap_category(
            date(1953, 9, 9),
            DAY,
            insured_birth=insured_birth,
            insured_standard_monthly_pay=pay,
            is_insured=False,
        ).code

    assert cat(ELDERLY, 280_000) == C.B03
    assert cat(ELDERLY, 830_000) == C.B01
    assert cat(date(1960, 1, 1), 830_000) == C.B04  # insured under 70: 一般


def test_under_70_dependent_uses_the_insured_pay() -> None:
    child = date(2015, 1, 1)
    assert (
        cap_category(
            child,
            DAY,
            insured_birth=UNDER_70,
            insured_standard_monthly_pay=530_000,
            is_insured=False,
        ).code
        == C.A02
    )


def test_category_from_75_is_rejected() -> None:
    with pytest.raises(DomainError):
        own_category(date(1950, 10, 15), 300_000)


def test_labels_are_oqscd012s() -> None:
    top = cap_category(
        UNDER_70, DAY, insured_birth=UNDER_70, insured_standard_monthly_pay=900_000, is_insured=True
    )
    assert (top.code, top.label, str(top)) == ("A01", "ア", "A01")
    assert DEFAULT_CAPS.category("B03").label == "現役並みⅠ"
    assert DEFAULT_CAPS.category("B06").label == "低所得Ⅰ"
    assert [(code, CAP_CODES[code]) for code in ("A06", "B07", "B08", "B09", "B10")] == [
        ("A06", "オ（境）"),
        ("B07", "低所得Ⅰ（老福）"),
        ("B08", "低所得Ⅰ（境）"),
        ("B09", "一般Ⅱ"),
        ("B10", "一般Ⅰ"),
    ]


# --------------------------------------------------------------------------- monthly cap


@pytest.mark.parametrize(
    ("category", "total", "cap"),
    [
        # below / at the threshold: the base amount
        (C.A01, 0, 252_600),
        (C.A01, 842_000, 252_600),
        (C.A01, 1_000_000, 254_180),
        (C.A02, 500_000, 167_400),
        (C.A02, 558_000, 167_400),
        (C.A02, 1_000_000, 171_820),
        (C.A03, 100_000, 80_100),
        (C.A03, 267_000, 80_100),
        (C.A03, 1_000_000, 87_430),
        (C.A04, 1_000_000, 57_600),
        (C.A05, 1_000_000, 35_400),
        (C.B01, 1_000_000, 254_180),
        (C.B02, 1_000_000, 171_820),
        (C.B03, 1_000_000, 87_430),
        (C.B04, 1_000_000, 57_600),
        (C.B05, 1_000_000, 24_600),
        (C.B06, 1_000_000, 15_000),
    ],
)
def test_monthly_cap(category: str, total: int, cap: int) -> None:
    assert monthly_cap(category, total, many_times=False) == cap


@pytest.mark.parametrize(
    ("category", "cap"),
    [
        (C.A01, 140_100),
        (C.A02, 93_000),
        (C.A03, 44_400),
        (C.A04, 44_400),
        (C.A05, 24_600),
        (C.B01, 140_100),
        (C.B02, 93_000),
        (C.B03, 44_400),
        (C.B04, 44_400),
        (C.B05, 24_600),  # no 多数回 for 低所得
        (C.B06, 15_000),
    ],
)
def test_many_times(category: str, cap: int) -> None:
    assert monthly_cap(category, 2_000_000, many_times=True) == cap


@pytest.mark.parametrize(
    ("category", "cap"),
    [
        (C.B04, 18_000),
        (C.B05, 8_000),
        (C.B06, 8_000),
        (C.B03, 87_430),  # 現役並み: no separate outpatient cap
        (C.A04, 57_600),
    ],
)
def test_outpatient_only(category: str, cap: int) -> None:
    assert monthly_cap(category, 1_000_000, many_times=False, outpatient_only=True) == cap
    # 多数回 never lowers the 外来 (個人) cap of 一般/低所得
    if category in (C.B04, C.B05, C.B06):
        assert monthly_cap(category, 1_000_000, many_times=True, outpatient_only=True) == cap


def test_general_outpatient_annual_is_exposed() -> None:
    assert DEFAULT_CAPS.general_outpatient_annual == 144_000


@pytest.mark.parametrize(
    ("excess", "one_percent"),
    [(0, 0), (49, 0), (50, 1), (149, 1), (150, 2), (151, 2), (158_000, 1_580), (1, 0)],
)
def test_one_percent_rounds_half_up(excess: int, one_percent: int) -> None:
    assert percent_of(excess, 1) == one_percent


def test_cap_rounding_at_a_half_yen() -> None:
    assert monthly_cap(C.A03, 267_050, many_times=False) == 80_101  # 0.5 yen rounds up
    assert monthly_cap(C.A03, 267_049, many_times=False) == 80_100


def test_cap_accepts_the_code_string() -> None:
    assert monthly_cap("A04", 0, many_times=False) == 57_600


@pytest.mark.parametrize(("category", "total"), [("Z99", 0), (C.A01, -1)])
def test_cap_rejects(category: str, total: int) -> None:
    with pytest.raises(DomainError):
        monthly_cap(category, total, many_times=False)


@given(st.sampled_from(sorted(DEFAULT_CAPS.rules)), st.integers(0, 10_000_000), st.booleans())
def test_cap_is_monotone_and_many_times_never_higher(
    category: str, total: int, outpatient: bool
) -> None:
    cap = monthly_cap(category, total, many_times=False, outpatient_only=outpatient)
    assert cap <= monthly_cap(category, total + 1, many_times=False, outpatient_only=outpatient)
    assert monthly_cap(category, total, many_times=True, outpatient_only=outpatient) <= cap


def test_monthly_cap_uses_the_table_in_force_that_month() -> None:
    """A month before a change of the law keeps the old amounts (dated data, not the newest)."""
    from datetime import date

    from shikaku.domain.copay import CAP_TABLES, monthly_cap, table_on

    first = CAP_TABLES[0]
    day = date(2019, 1, 15)
    assert table_on(CAP_TABLES, day) is first or first.effective_from <= day
    assert monthly_cap("A04", 1_000_000, many_times=False, day=day) == monthly_cap(
        "A04", 1_000_000, many_times=False, table=table_on(CAP_TABLES, day)
    )
