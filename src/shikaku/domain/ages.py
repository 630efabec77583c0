"""Ages and the age-dated boundaries of burden ratio and eligibility (DOMAIN.md §6).

Under 年齢計算ニ関スル法律 (with 民法143条) a person reaches an age on the DAY BEFORE the
birthday, so someone born on the 1st reaches it on the last day of the previous month and a
29 February birth reaches it on 28 February in every year. Every boundary below is built on
`reaches_age_on`, so the rule lives in one place.
"""

from __future__ import annotations

from calendar import isleap
from datetime import MAXYEAR, date, timedelta

from shikaku.domain.errors import DomainError

_ONE_DAY = timedelta(days=1)

PRESCHOOL_AGE = 6  # 未就学: until the first 3/31 after reaching 6
ELDERLY_AGE = 70  # 高齢受給者
LATE_ELDERLY_AGE = 75  # 後期高齢者医療


def _anniversary_day(birth: date, year: int) -> tuple[int, int]:
    """(month, day) of the birthday in `year`; a 29 February birthday falls on 1 March in
    common years.

    民法143条2項: with no corresponding day in the month, the period ends on its last day
    (28 February), so the day after it (1 March) plays the part of the birthday.
    """
    if (birth.month, birth.day) == (2, 29) and not isleap(year):
        return (3, 1)
    return (birth.month, birth.day)


def _anniversary(birth: date, year: int) -> date:
    """The birthday in `year` as a date; a DomainError past the calendar (year 9999)."""
    if year > MAXYEAR:
        raise DomainError(
            f"{year}年は暦の範囲外です", f"year {year} is beyond the supported calendar"
        )
    return date(year, *_anniversary_day(birth, year))


def reaches_age_on(birth: date, age: int) -> date:
    """The day the person reaches `age`: the day before the birthday (age 0: the birth day)."""
    if age < 0:
        raise DomainError("年齢は0以上です", "age must not be negative")
    if age == 0:
        return birth
    return _anniversary(birth, birth.year + age) - _ONE_DAY


def age_on(birth: date, day: date) -> int:
    """The legal age on `day`: it goes up on the day before each birthday.

    Equivalently, the everyday age on the following day, which is how it is computed.
    """
    if day < birth:
        raise DomainError(
            "生年月日より前の日の年齢は求められません", "day is before the birth date"
        )
    # The day after, as (year, month, day): day + 1 would overflow on 9999-12-31.
    if (day.month, day.day) == (12, 31):
        year, month_day = day.year + 1, (1, 1)
    else:
        nxt = day + _ONE_DAY
        year, month_day = nxt.year, (nxt.month, nxt.day)
    return year - birth.year - (month_day < _anniversary_day(birth, year))


def preschool_until(birth: date) -> date:
    """Last day of 未就学: the first 31 March on or after the day the child reaches 6.

    A child born on 1 April reaches 6 on 31 March and so starts school a year earlier than
    one born on 2 April (早生まれ); that is why the day of reaching, not the birthday, counts.
    """
    six = reaches_age_on(birth, PRESCHOOL_AGE)
    march_31 = date(six.year, 3, 31)
    return march_31 if six <= march_31 else date(six.year + 1, 3, 31)


def is_preschool_on(birth: date, day: date) -> bool:
    return birth <= day <= preschool_until(birth)


def elderly_from(birth: date) -> date:
    """First day as 高齢受給者: the 1st of the month after the month of reaching 70.

    健保法: 「七十歳に達する日の属する月の翌月以後」. For a birth on the 1st the person reaches 70
    on the last day of the previous month, so it starts on the 1st of the birthday month.
    """
    seventy = reaches_age_on(birth, ELDERLY_AGE)
    if seventy.month == 12:
        return date(seventy.year + 1, 1, 1)
    return date(seventy.year, seventy.month + 1, 1)


def late_elderly_on(birth: date) -> date:
    """First day under 後期高齢者医療, i.e. 資格喪失日 here: the 75th birthday itself.

    For a 29 February birth in a common year that is 1 March (the day after reaching 75).
    """
    return reaches_age_on(birth, LATE_ELDERLY_AGE) + _ONE_DAY


def is_elderly_on(birth: date, day: date) -> bool:
    """高齢受給者 on `day`: from `elderly_from` up to the day before the 75th birthday."""
    return elderly_from(birth) <= day < late_elderly_on(birth)
