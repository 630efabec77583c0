"""Ages under 年齢計算ニ関スル法律 and the age-dated boundaries (DOMAIN.md §6)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shikaku.domain.ages import (
    age_on,
    elderly_from,
    is_elderly_on,
    is_preschool_on,
    late_elderly_on,
    preschool_until,
    reaches_age_on,
)
from shikaku.domain.errors import DomainError

D = timedelta(days=1)
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


# --------------------------------------------------------------------------- age_on


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        # born on the 1st: the age goes up on the last day of the previous month
        (date(2000, 1, 1), date(2000, 12, 30), 0),
        (date(2000, 1, 1), date(2000, 12, 31), 1),
        (date(2000, 3, 1), date(2030, 2, 27), 29),
        (date(2000, 3, 1), date(2030, 2, 28), 30),  # common year: 28 Feb is the last day
        (date(2000, 3, 1), date(2032, 2, 28), 31),
        (date(2000, 3, 1), date(2032, 2, 29), 32),  # leap year: 29 Feb
        # born on the 31st
        (date(1990, 12, 31), date(2020, 12, 29), 29),
        (date(1990, 12, 31), date(2020, 12, 30), 30),
        (date(1990, 5, 31), date(2000, 5, 30), 10),
        (date(1990, 5, 31), date(2000, 5, 29), 9),
        # 29 February: 28 February in every year
        (date(2000, 2, 29), date(2001, 2, 27), 0),
        (date(2000, 2, 29), date(2001, 2, 28), 1),
        (date(2000, 2, 29), date(2004, 2, 27), 3),
        (date(2000, 2, 29), date(2004, 2, 28), 4),
        (date(2000, 2, 29), date(2004, 2, 29), 4),
        (date(2000, 2, 29), date(2004, 3, 1), 4),
        # the birth day itself and the birthday itself
        (date(2000, 6, 15), date(2000, 6, 15), 0),
        (date(2000, 6, 15), date(2010, 6, 15), 10),
    ],
)
def test_age_on(birth: date, day: date, age: int) -> None:
    assert age_on(birth, day) == age


def test_age_before_birth_is_rejected() -> None:
    with pytest.raises(DomainError):
        age_on(date(2000, 6, 15), date(2000, 6, 14))


def test_negative_age_is_rejected() -> None:
    with pytest.raises(DomainError):
        reaches_age_on(date(2000, 6, 15), -1)


@pytest.mark.parametrize(
    ("birth", "age", "reached"),
    [
        (date(2000, 6, 15), 0, date(2000, 6, 15)),
        (date(2000, 6, 15), 20, date(2020, 6, 14)),
        (date(2000, 1, 1), 1, date(2000, 12, 31)),
        (date(2000, 3, 1), 1, date(2001, 2, 28)),
        (date(2000, 3, 1), 4, date(2004, 2, 29)),
        (date(2000, 2, 29), 1, date(2001, 2, 28)),
        (date(2000, 2, 29), 4, date(2004, 2, 28)),
        (date(1990, 12, 31), 30, date(2020, 12, 30)),
    ],
)
def test_reaches_age_on(birth: date, age: int, reached: date) -> None:
    assert reaches_age_on(birth, age) == reached


@given(births, st.integers(0, 40_000), st.integers(0, 40_000))
def test_age_is_monotone_in_day(birth: date, a: int, b: int) -> None:
    early, late = birth + min(a, b) * D, birth + max(a, b) * D
    assert age_on(birth, early) <= age_on(birth, late)


@given(births, st.integers(1, 120))
def test_reaches_age_on_is_the_first_day_of_that_age(birth: date, n: int) -> None:
    reached = reaches_age_on(birth, n)
    assert age_on(birth, reached) == n
    assert age_on(birth, reached - D) == n - 1


@given(births, st.integers(0, 40_000))
def test_age_goes_up_by_at_most_one_a_day(birth: date, offset: int) -> None:
    day = birth + offset * D
    assert age_on(birth, day + D) - age_on(birth, day) in (0, 1)


# --------------------------------------------------------------------------- 未就学


@pytest.mark.parametrize(
    ("birth", "until"),
    [
        # April 1 reaches 6 on March 31 and starts school that April (早生まれ)
        (date(2019, 4, 1), date(2025, 3, 31)),
        # April 2 reaches 6 on April 1, after that March 31
        (date(2019, 4, 2), date(2026, 3, 31)),
        (date(2019, 3, 31), date(2025, 3, 31)),
        (date(2019, 1, 1), date(2025, 3, 31)),
        (date(2018, 12, 31), date(2025, 3, 31)),
        (date(2020, 2, 29), date(2026, 3, 31)),
        (date(2019, 4, 30), date(2026, 3, 31)),
    ],
)
def test_preschool_until(birth: date, until: date) -> None:
    assert preschool_until(birth) == until
    assert is_preschool_on(birth, until)
    assert not is_preschool_on(birth, until + D)


def test_april_1_and_april_2_children_leave_a_year_apart() -> None:
    march_31 = date(2025, 3, 31)
    assert is_preschool_on(date(2019, 4, 1), march_31)
    assert not is_preschool_on(date(2019, 4, 1), march_31 + D)
    assert is_preschool_on(date(2019, 4, 2), march_31 + D)
    assert age_on(date(2019, 4, 1), march_31) == 6
    assert age_on(date(2019, 4, 2), march_31) == 5


@given(births)
def test_preschool_ends_on_a_march_31_within_a_year_of_reaching_6(birth: date) -> None:
    until = preschool_until(birth)
    six = reaches_age_on(birth, 6)
    assert (until.month, until.day) == (3, 31)
    assert six <= until < six + 366 * D
    assert age_on(birth, until) == 6


# --------------------------------------------------------------------------- 高齢受給者 / 後期高齢者


@pytest.mark.parametrize(
    ("birth", "start"),
    [
        (date(1955, 6, 1), date(2025, 6, 1)),  # reaches 70 on 5/31: from the birthday month
        (date(1955, 6, 2), date(2025, 7, 1)),  # reaches 70 on 6/1
        (date(1955, 6, 30), date(2025, 7, 1)),
        (date(1955, 12, 31), date(2026, 1, 1)),  # reaches 70 on 12/30
        (date(1956, 1, 1), date(2026, 1, 1)),  # reaches 70 on 12/31/2025
        (date(1955, 1, 1), date(2025, 1, 1)),
        (date(1956, 3, 1), date(2026, 3, 1)),  # reaches 70 on 2/28/2026
        (date(1956, 2, 29), date(2026, 3, 1)),  # reaches 70 on 2/28/2026
        (date(1954, 3, 1), date(2024, 3, 1)),  # reaches 70 on 2/29/2024
    ],
)
def test_elderly_from(birth: date, start: date) -> None:
    assert elderly_from(birth) == start
    assert is_elderly_on(birth, start)
    assert not is_elderly_on(birth, start - D)


@pytest.mark.parametrize(
    ("birth", "lost"),
    [
        (date(1950, 6, 15), date(2025, 6, 15)),
        (date(1950, 6, 1), date(2025, 6, 1)),
        (date(1950, 12, 31), date(2025, 12, 31)),
        (date(1952, 2, 29), date(2027, 3, 1)),  # 75 is never a leap-year birthday: 3/1
    ],
)
def test_late_elderly_on_is_the_75th_birthday(birth: date, lost: date) -> None:
    assert late_elderly_on(birth) == lost
    assert is_elderly_on(birth, lost - D)
    assert not is_elderly_on(birth, lost)
    assert age_on(birth, lost - D) == 75  # reached 75 the day before the birthday


def test_day_before_and_of_70th_birthday() -> None:
    birth = date(1955, 8, 20)
    assert age_on(birth, date(2025, 8, 18)) == 69
    assert age_on(birth, date(2025, 8, 19)) == 70
    assert not is_elderly_on(birth, date(2025, 8, 31))
    assert is_elderly_on(birth, date(2025, 9, 1))


@given(births)
def test_elderly_starts_on_a_first_within_a_month_of_reaching_70(birth: date) -> None:
    start = elderly_from(birth)
    seventy = reaches_age_on(birth, 70)
    assert start.day == 1
    assert seventy < start <= seventy + 31 * D
    assert age_on(birth, start) == 70
