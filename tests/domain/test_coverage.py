"""domain.coverage: a member's coverage on a day as the console's banner and badges say it."""

from __future__ import annotations

from datetime import date

from shikaku.domain.coverage import Coverage, coverage_on
from shikaku.domain.members import Period

BIRTH = date(1980, 1, 2)
DAY = date(2025, 1, 15)


def test_covered_open_and_with_a_recorded_end() -> None:
    c = coverage_on([(Period(date(2020, 4, 1), None), None)], BIRTH, BIRTH, DAY)
    assert (c.state, c.since) == (Coverage.COVERED, date(2020, 4, 1))
    assert (c.lost_on, c.by_law) == (date(2055, 1, 2), True)  # an open period: the law's end
    c = coverage_on([(Period(date(2020, 4, 1), date(2025, 2, 1)), "03")], BIRTH, BIRTH, DAY)
    assert c.state == Coverage.COVERED and c.lost_on == date(2025, 2, 1)
    assert c.end_label == "他の医療保険取得" and not c.by_law


def test_ended_not_yet_none_and_contradictory() -> None:
    c = coverage_on([(Period(date(2020, 4, 1), date(2024, 11, 1)), "99")], BIRTH, BIRTH, DAY)
    assert (c.state, c.since, c.end_label) == (Coverage.ENDED, date(2024, 11, 1), "その他")
    c = coverage_on([(Period(date(2025, 4, 1), None), None)], BIRTH, BIRTH, DAY)
    assert (c.state, c.since) == (Coverage.NOT_YET, date(2025, 4, 1))
    gap = [
        (Period(date(2020, 4, 1), date(2025, 1, 1)), "99"),
        (Period(date(2025, 2, 1), None), None),
    ]
    assert coverage_on(gap, BIRTH, BIRTH, DAY).state == Coverage.NOT_YET
    assert coverage_on([], BIRTH, BIRTH, DAY).state == Coverage.NONE
    overlap = [(Period(date(2020, 4, 1), None), None), (Period(date(2021, 4, 1), None), None)]
    assert coverage_on(overlap, BIRTH, BIRTH, DAY).state == Coverage.CONTRADICTORY


def test_the_75th_birthday_ends_coverage_whatever_the_registry_says() -> None:
    old = date(1950, 1, 20)  # 75 on 2025-01-20
    open_period = [(Period(date(2000, 4, 1), None), None)]
    c = coverage_on(open_period, old, old, DAY)
    assert c.state == Coverage.COVERED and c.lost_on == date(2025, 1, 20)
    assert c.by_law and c.own_75 and c.end_label == "75歳到達（後期高齢者医療へ移行）"
    c = coverage_on(open_period, old, old, date(2025, 1, 20))
    assert (c.state, c.since, c.by_law) == (Coverage.ENDED, date(2025, 1, 20), True)
    # a dependent: coverage ends with the insured person's 75th birthday
    c = coverage_on(open_period, date(1990, 5, 5), old, date(2025, 2, 1))
    assert c.state == Coverage.ENDED and c.by_law and not c.own_75
    assert c.end_label == "被保険者の75歳到達"
    # a loss the registry recorded on that day is the registry's, with its reason
    recorded = [(Period(date(2000, 4, 1), date(2025, 1, 20)), "03")]
    c = coverage_on(recorded, old, old, date(2025, 2, 1))
    assert c.state == Coverage.ENDED and not c.by_law and c.end_label == "他の医療保険取得"
