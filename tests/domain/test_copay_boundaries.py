"""Day and yen boundaries of 負担割合, 限度額適用区分 and monthly caps not pinned elsewhere
(test_ages.py, test_copay.py): the day before / of each age boundary, and one yen either
side of each pay band and cap threshold (DOMAIN.md §6)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shikaku.domain.copay import cap_category, copay_rate, monthly_cap
from shikaku.domain.errors import DomainError
from tests.domain.codes import C

D = timedelta(days=1)
PARENT = date(1990, 5, 5)


def rate(birth: date, day: date, *, insured: date | None = None, pay: int = 200_000) -> int:
    return copay_rate(
        birth,
        day,
        insured_birth=birth if insured is None else insured,
        insured_standard_monthly_pay=pay,
        is_insured=insured is None,
    )


def category(
    birth: date, day: date, pay: int, *, insured: date | None = None, tax_exempt: bool = False
) -> str:
    return cap_category(
        birth,
        day,
        insured_birth=birth if insured is None else insured,
        insured_standard_monthly_pay=pay,
        is_insured=insured is None,
        tax_exempt=tax_exempt,
    ).code


# --------------------------------------------------------------------------- 未就学 (2割)


@pytest.mark.parametrize(
    ("birth", "last_preschool_day"),
    [
        (date(2019, 3, 31), date(2025, 3, 31)),  # reaches 6 on 3/30
        (date(2019, 4, 1), date(2025, 3, 31)),  # reaches 6 on 3/31 itself
        (date(2019, 4, 2), date(2026, 3, 31)),  # reaches 6 on 4/1: one more year
        (date(2020, 2, 29), date(2026, 3, 31)),  # reaches 6 on 2/28/2026
        (date(2020, 3, 1), date(2026, 3, 31)),  # reaches 6 on 2/28/2026
        (date(2019, 12, 31), date(2026, 3, 31)),
        (date(2020, 1, 1), date(2026, 3, 31)),  # reaches 6 on 12/31/2025
        (date(2019, 1, 1), date(2025, 3, 31)),
    ],
)
def test_preschool_last_day(birth: date, last_preschool_day: date) -> None:
    assert rate(birth, birth, insured=PARENT) == 20
    assert rate(birth, last_preschool_day, insured=PARENT) == 20
    assert rate(birth, last_preschool_day + D, insured=PARENT) == 30


# --------------------------------------------------------------------------- 高齢受給者 (70)


@pytest.mark.parametrize(
    ("birth", "first_elderly_day"),
    [
        (date(1955, 7, 1), date(2025, 7, 1)),  # born on the 1st: from the birthday month
        (date(1955, 7, 2), date(2025, 8, 1)),  # born on the 2nd: the month after
        (date(1955, 7, 31), date(2025, 8, 1)),  # born on the 31st
        (date(1955, 8, 1), date(2025, 8, 1)),
        (date(1956, 1, 1), date(2026, 1, 1)),  # reaches 70 on 12/31/2025
        (date(1956, 2, 29), date(2026, 3, 1)),  # leap-day birth: reaches 70 on 2/28
        (date(1956, 3, 1), date(2026, 3, 1)),  # reaches 70 on 2/28/2026
        (date(1954, 3, 1), date(2024, 3, 1)),  # reaches 70 on 2/29/2024
        (date(1952, 2, 29), date(2022, 3, 1)),  # reaches 70 on 2/28/2022
    ],
)
def test_elderly_rate_and_category_switch_on_the_same_day(
    birth: date, first_elderly_day: date
) -> None:
    day_before = first_elderly_day - D
    assert rate(birth, day_before) == 30
    assert rate(birth, first_elderly_day) == 20
    assert category(birth, day_before, 200_000) == C.A04
    assert category(birth, first_elderly_day, 200_000) == C.B04
    assert category(birth, day_before, 300_000) == C.A03
    assert category(birth, first_elderly_day, 300_000) == C.B03
    assert rate(birth, first_elderly_day, pay=300_000) == 30  # 現役並み from the same day


def test_active_dependent_follows_the_insured_first_elderly_day() -> None:
    spouse = date(1953, 1, 20)  # elderly for years
    for insured, first_day in (
        (date(1955, 7, 1), date(2025, 7, 1)),
        (date(1955, 7, 2), date(2025, 8, 1)),
    ):
        assert rate(spouse, first_day - D, insured=insured, pay=280_000) == 20
        assert rate(spouse, first_day, insured=insured, pay=280_000) == 30
        assert category(spouse, first_day - D, 280_000, insured=insured) == C.B04
        assert category(spouse, first_day, 280_000, insured=insured) == C.B03


# --------------------------------------------------------------------------- 後期高齢者 (75)


@pytest.mark.parametrize(
    "birth",
    [date(1950, 7, 1), date(1950, 7, 31), date(1950, 12, 31), date(1951, 1, 1), date(1952, 2, 29)],
)
def test_75th_birthday_leaves_the_insurer(birth: date) -> None:
    birthday = (
        date(birth.year + 75, 3, 1)
        if (birth.month, birth.day) == (2, 29)
        else (birth.replace(year=birth.year + 75))
    )
    assert rate(birth, birthday - D) == 20
    assert category(birth, birthday - D, 200_000) == C.B04
    with pytest.raises(DomainError):
        rate(birth, birthday)
    with pytest.raises(DomainError):
        category(birth, birthday, 200_000)


def test_dependent_refused_from_the_insured_75th_birthday() -> None:
    insured = date(1950, 7, 1)
    spouse = date(1953, 1, 20)
    assert rate(spouse, date(2025, 6, 30), insured=insured, pay=300_000) == 30
    with pytest.raises(DomainError):
        rate(spouse, date(2025, 7, 1), insured=insured, pay=300_000)


# --------------------------------------------------------------------------- pay bands, one yen


ELDERLY = date(1953, 1, 20)
UNDER_70 = date(1980, 1, 20)
DAY = date(2025, 10, 15)


@pytest.mark.parametrize(
    ("pay", "under70", "elderly", "elderly_rate"),
    [
        (279_999, C.A04, C.B04, 20),
        (280_000, C.A03, C.B03, 30),
        (529_999, C.A03, C.B03, 30),
        (530_000, C.A02, C.B02, 30),
        (829_999, C.A02, C.B02, 30),
        (830_000, C.A01, C.B01, 30),
    ],
)
def test_band_edges(pay: int, under70: str, elderly: str, elderly_rate: int) -> None:
    assert category(UNDER_70, DAY, pay) is under70
    assert category(ELDERLY, DAY, pay) is elderly
    assert rate(ELDERLY, DAY, pay=pay) == elderly_rate
    assert rate(UNDER_70, DAY, pay=pay) == 30


@pytest.mark.parametrize(
    ("pay", "under70", "elderly"),
    [
        (0, C.A05, C.B05),
        (279_999, C.A05, C.B05),
        (280_000, C.A05, C.B03),  # 現役並み beats 低所得 for 70-74
        (529_999, C.A05, C.B03),
        (530_000, C.A02, C.B02),  # ア/イ beat 住民税非課税 under 70
        (830_000, C.A01, C.B01),
    ],
)
def test_tax_exempt_edges(pay: int, under70: str, elderly: str) -> None:
    assert category(UNDER_70, DAY, pay, tax_exempt=True) is under70
    assert category(ELDERLY, DAY, pay, tax_exempt=True) is elderly


def test_no_table_before_2018_08_for_categories() -> None:
    with pytest.raises(DomainError):
        category(UNDER_70, date(2018, 7, 31), 300_000)
    assert category(UNDER_70, date(2018, 8, 1), 300_000) == C.A03


# --------------------------------------------------------------------------- monthly cap, one yen


@pytest.mark.parametrize(
    ("categories", "base", "threshold"),
    [
        ((C.A01, C.B01), 252_600, 842_000),
        ((C.A02, C.B02), 167_400, 558_000),
        ((C.A03, C.B03), 80_100, 267_000),
    ],
)
def test_one_percent_starts_above_the_threshold(
    categories: tuple[str, ...], base: int, threshold: int
) -> None:
    for cat in categories:
        assert monthly_cap(cat, threshold - 1, many_times=False) == base
        assert monthly_cap(cat, threshold, many_times=False) == base
        assert monthly_cap(cat, threshold + 49, many_times=False) == base  # 0.49 yen
        assert monthly_cap(cat, threshold + 50, many_times=False) == base + 1  # 0.5 yen up
        assert monthly_cap(cat, threshold + 100, many_times=False) == base + 1
        assert monthly_cap(cat, threshold + 150, many_times=False) == base + 2


@pytest.mark.parametrize(
    ("cat", "normal", "many"),
    [
        (C.A01, 252_600, 140_100),
        (C.A02, 167_400, 93_000),
        (C.A03, 80_100, 44_400),
        (C.A04, 57_600, 44_400),
        (C.A05, 35_400, 24_600),
        (C.B01, 252_600, 140_100),
        (C.B02, 167_400, 93_000),
        (C.B03, 80_100, 44_400),
        (C.B04, 57_600, 44_400),
        (C.B05, 24_600, 24_600),  # 低所得: no 多数回 reduction
        (C.B06, 15_000, 15_000),
    ],
)
def test_many_times_at_zero_total_and_flat_above(cat: str, normal: int, many: int) -> None:
    assert monthly_cap(cat, 0, many_times=False) == normal
    assert monthly_cap(cat, 0, many_times=True) == many
    assert monthly_cap(cat, 10_000_000, many_times=True) == many  # no 1 % in 多数回


@pytest.mark.parametrize(
    ("cat", "expected"),
    [
        (C.A01, 140_100),  # under 70 and 現役並み have no 外来 cap: the household one applies
        (C.A04, 44_400),
        (C.A05, 24_600),
        (C.B01, 140_100),
        (C.B03, 44_400),
        (C.B04, 18_000),  # 一般 外来 (個人): no 多数回
        (C.B05, 8_000),
        (C.B06, 8_000),
    ],
)
def test_outpatient_with_many_times(cat: str, expected: int) -> None:
    assert monthly_cap(cat, 2_000_000, many_times=True, outpatient_only=True) == expected
