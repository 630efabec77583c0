"""オンライン資格確認 validity codes (DOMAIN.md §5)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shikaku.domain.eligibility import (
    EligibilityAnswer,
    History,
    Validity,
    covers,
    eligibility_on,
    statutory_window,
    within_window,
)
from shikaku.domain.errors import DomainError
from shikaku.domain.members import Period

D = timedelta(days=1)
V = Validity

FROM = date(2020, 4, 1)
LOST = date(2025, 10, 1)  # first day NOT covered
CLOSED: History = ((Period(FROM, LOST), "03"),)
OPEN: History = ((Period(FROM, None), None),)


# --------------------------------------------------------------------------- codes


def test_codes_and_labels() -> None:
    assert [(v.value, v.label) for v in Validity] == [
        (1, "有効"),
        (2, "無効"),
        (3, "無効（新しい資格あり）"),
        (4, "該当資格なし"),
        (5, "複数該当"),
    ]
    assert Validity(3) is V.INVALID_NEWER


# --------------------------------------------------------------------------- one period's edges


@pytest.mark.parametrize(
    ("day", "validity", "reason"),
    [
        (FROM - D, V.INVALID, None),  # before the first period: no reason
        (FROM, V.VALID, "03"),  # eligible_from is covered
        (LOST - D, V.VALID, "03"),  # last covered day: the recorded loss comes with its reason
        (LOST, V.INVALID, "03"),  # lost_on is the first day NOT covered
        (LOST + 3650 * D, V.INVALID, "03"),
    ],
)
def test_period_edges(day: date, validity: Validity, reason: str | None) -> None:
    answer = eligibility_on([CLOSED], day)
    assert answer.validity is validity
    assert answer.loss_reason == reason
    expected_period = None if day < FROM else CLOSED[0][0]
    assert answer.period == expected_period


def test_open_period_is_valid_for_ever() -> None:
    assert eligibility_on([OPEN], FROM).validity is V.VALID
    assert eligibility_on([OPEN], date(2099, 12, 31)).validity is V.VALID
    assert eligibility_on([OPEN], FROM - D) == EligibilityAnswer(V.INVALID)


def test_answer_details() -> None:
    answer = eligibility_on([CLOSED], LOST)
    assert answer.valid_until == LOST - D
    assert answer.loss_reason_label == "他の医療保険取得"
    valid = eligibility_on([OPEN], FROM)
    assert valid.valid_until is None
    assert valid.loss_reason_label is None
    assert EligibilityAnswer(V.NOT_FOUND).valid_until is None


# --------------------------------------------------------------------------- not found / multiple


def test_no_record_is_not_found() -> None:
    assert eligibility_on([], FROM) == EligibilityAnswer(V.NOT_FOUND)


def test_records_without_any_period_are_not_found() -> None:
    assert eligibility_on([(), ()], FROM) == EligibilityAnswer(V.NOT_FOUND)
    # a newer record elsewhere cannot make a qualification out of nothing
    assert eligibility_on([()], FROM, newer_from=FROM).validity is V.NOT_FOUND


def test_two_records_covering_the_day_are_multiple() -> None:
    other: History = ((Period(date(2025, 9, 1), None), None),)
    assert eligibility_on([CLOSED, other], date(2025, 9, 1)) == EligibilityAnswer(V.MULTIPLE)
    assert eligibility_on([CLOSED, other], date(2025, 9, 30)).validity is V.MULTIPLE
    # one day before the overlap and the day the first one is lost: a single covering record
    assert eligibility_on([CLOSED, other], date(2025, 8, 31)).period == CLOSED[0][0]
    assert eligibility_on([CLOSED, other], LOST).period == other[0][0]


def test_one_covering_record_among_several_is_valid() -> None:
    ended: History = ((Period(date(2010, 1, 1), date(2015, 1, 1)), "99"),)
    answer = eligibility_on([ended, OPEN, ()], date(2024, 1, 1))
    assert answer == EligibilityAnswer(V.VALID, OPEN[0][0])


# --------------------------------------------------------------------------- gaps and history


HISTORY: History = (
    (Period(date(2010, 4, 1), date(2015, 4, 1)), "99"),
    (Period(date(2015, 4, 1), date(2018, 7, 1)), "02"),  # adjacent: no day uncovered
    (Period(date(2020, 1, 6), None), None),
)


@pytest.mark.parametrize(
    ("day", "validity", "period_index", "reason"),
    [
        (date(2010, 3, 31), V.INVALID, None, None),
        (date(2010, 4, 1), V.VALID, 0, "99"),  # a known end: its 喪失日 and 事由 go together
        (date(2015, 3, 31), V.VALID, 0, "99"),
        (date(2015, 4, 1), V.VALID, 1, "02"),  # lost_on of one = eligible_from of the next
        (date(2018, 6, 30), V.VALID, 1, "02"),
        (date(2018, 7, 1), V.INVALID, 1, "02"),  # in the gap: the period that just ended
        (date(2020, 1, 5), V.INVALID, 1, "02"),
        (date(2020, 1, 6), V.VALID, 2, None),
    ],
)
def test_history_with_adjacent_periods_and_a_gap(
    day: date, validity: Validity, period_index: int | None, reason: str | None
) -> None:
    answer = eligibility_on([HISTORY], day)
    assert answer.validity is validity
    assert answer.period == (None if period_index is None else HISTORY[period_index][0])
    assert answer.loss_reason == reason


def test_order_of_periods_does_not_matter() -> None:
    shuffled = (HISTORY[2], HISTORY[0], HISTORY[1])
    for day in (date(2010, 3, 31), date(2015, 4, 1), date(2019, 1, 1), date(2021, 1, 1)):
        assert eligibility_on([shuffled], day) == eligibility_on([HISTORY], day)


def test_latest_ended_period_across_records() -> None:
    a: History = ((Period(date(2000, 1, 1), date(2010, 1, 1)), "01"),)
    b: History = ((Period(date(2005, 1, 1), date(2012, 1, 1)), "03"),)
    answer = eligibility_on([a, b], date(2013, 1, 1))
    assert (answer.validity, answer.period, answer.loss_reason) == (V.INVALID, b[0][0], "03")
    # between the two losses only a has ended
    assert eligibility_on([a, b], date(2011, 1, 1)).validity is V.VALID


def test_tie_on_lost_on_goes_to_the_later_start_then_the_first_candidate() -> None:
    long: History = ((Period(date(2000, 1, 1), date(2010, 1, 1)), "99"),)
    short: History = ((Period(date(2008, 1, 1), date(2010, 1, 1)), "03"),)
    same: History = ((Period(date(2008, 1, 1), date(2010, 1, 1)), "01"),)
    day = date(2011, 1, 1)
    assert eligibility_on([long, short], day).loss_reason == "03"
    assert eligibility_on([short, long], day).loss_reason == "03"
    assert eligibility_on([short, same], day).loss_reason == "03"
    assert eligibility_on([same, short], day).loss_reason == "01"


# --------------------------------------------------------------------------- newer elsewhere


def test_newer_elsewhere_marks_an_ended_qualification() -> None:
    answer = eligibility_on([CLOSED], LOST, newer_from=LOST)
    assert answer == EligibilityAnswer(V.INVALID_NEWER, CLOSED[0][0], "03")


def test_newer_elsewhere_does_not_override_a_covering_period() -> None:
    assert eligibility_on([CLOSED], LOST - D, newer_from=FROM + D).validity is V.VALID


def test_an_older_record_covering_the_day_is_not_newer() -> None:
    """A transfer's new record asked before it starts, while the old one still covers the
    day: only the older covers it, so 2, not 3 (issue 15)."""
    assert eligibility_on([CLOSED], LOST, newer_from=FROM - D).validity is V.INVALID
    assert eligibility_on([CLOSED], LOST, newer_from=FROM).validity is V.INVALID


def test_before_the_first_period_nothing_is_newer() -> None:
    answer = eligibility_on([CLOSED], FROM - D, newer_from=FROM - 10 * D)
    assert answer == EligibilityAnswer(V.INVALID)


def test_a_later_period_of_the_same_record_is_not_newer_elsewhere() -> None:
    """A gap day is plainly INVALID: the clinic already has the record's numbers."""
    assert eligibility_on([HISTORY], date(2019, 1, 1)).validity is V.INVALID


def test_newer_elsewhere_with_multiple_records_still_multiple() -> None:
    assert eligibility_on([OPEN, OPEN], FROM, newer_from=FROM).validity is V.MULTIPLE


# --------------------------------------------------------------------------- corrupt data


@pytest.mark.parametrize(
    "history",
    [
        ((Period(FROM, FROM), None),),  # empty period
        ((Period(FROM, FROM - D), None),),  # reversed
        ((Period(FROM, None), "03"),),  # reason while open
        ((Period(FROM, LOST), "04"),),  # unknown reason
        ((Period(FROM, LOST), "3"),),  # not normalised
        ((Period(FROM, LOST), None), (Period(LOST - D, None), None)),  # overlap by a day
        ((Period(FROM, None), None), (Period(LOST, None), None)),  # two open periods
    ],
)
def test_corrupt_history_is_refused(history: History) -> None:
    with pytest.raises(DomainError):
        eligibility_on([history], LOST)


def test_covers() -> None:
    period = Period(FROM, LOST)
    assert not covers(period, FROM - D)
    assert covers(period, FROM)
    assert covers(period, LOST - D)
    assert not covers(period, LOST)
    assert covers(Period(FROM, None), date.max)


# --------------------------------------------------------------------------- properties

BASE = date(2000, 1, 1)
reasons = st.sampled_from([None, "01", "02", "03", "99"])


@st.composite
def histories(draw: st.DrawFn) -> History:
    """A valid history: non-overlapping periods, gaps of 0 days allowed, the last maybe open."""
    shapes = draw(st.lists(st.tuples(st.integers(0, 400), st.integers(1, 800)), max_size=4))
    out: list[tuple[Period, str | None]] = []
    start = BASE
    for i, (gap, length) in enumerate(shapes):
        start = start + gap * D
        if i == len(shapes) - 1 and draw(st.booleans()):
            out.append((Period(start, None), None))
        else:
            out.append((Period(start, start + length * D), draw(reasons)))
            start = start + length * D
    shuffled: list[tuple[Period, str | None]] = draw(st.permutations(out))
    return tuple(shuffled)


days = st.integers(-10, 5000).map(lambda n: BASE + n * D)


@given(histories(), days, st.none() | days)
def test_valid_iff_a_period_covers_the_day(history: History, day: date, newer: date | None) -> None:
    answer = eligibility_on([history], day, newer_from=newer)
    covering = [(p, r) for p, r in history if covers(p, day)]
    assert (answer.validity is V.VALID) == bool(covering)
    if covering:
        assert (answer.period, answer.loss_reason) == covering[0]


@given(histories(), days, st.none() | days)
def test_one_record_answers_are_consistent(history: History, day: date, newer: date | None) -> None:
    answer = eligibility_on([history], day, newer_from=newer)
    if not history:
        assert answer == EligibilityAnswer(V.NOT_FOUND)
        return
    assert answer.validity is not V.MULTIPLE
    if answer.validity is V.VALID:
        return
    began_later = (
        newer is not None and answer.period is not None and newer > answer.period.eligible_from
    )
    assert answer.validity is (V.INVALID_NEWER if began_later else V.INVALID)
    ended = [(p, r) for p, r in history if p.lost_on is not None and p.lost_on <= day]
    if not ended:
        assert answer.period is None and answer.loss_reason is None
        assert all(p.eligible_from > day for p, _ in history)
    else:
        latest = max(ended, key=lambda pr: pr[0].eligible_from)
        assert (answer.period, answer.loss_reason) == latest


@given(st.lists(histories(), max_size=3), days)
def test_multiple_iff_more_than_one_record_covers(histories_: list[History], day: date) -> None:
    answer = eligibility_on(histories_, day)
    covering_records = sum(any(covers(p, day) for p, _ in h) for h in histories_)
    assert (answer.validity is V.MULTIPLE) == (covering_records > 1)
    assert (answer.validity is V.VALID) == (covering_records == 1)
    assert (answer.validity is V.NOT_FOUND) == (not any(histories_))


@given(st.lists(histories(), max_size=3), days)
def test_newer_elsewhere_only_turns_invalid_into_invalid_newer(
    histories_: list[History], day: date
) -> None:
    plain = eligibility_on(histories_, day)
    newer = eligibility_on(histories_, day, newer_from=day)
    if plain.validity is V.INVALID and plain.period is not None:
        assert newer == EligibilityAnswer(V.INVALID_NEWER, plain.period, plain.loss_reason)
    else:
        assert newer == plain


@given(histories(), days)
def test_a_covered_day_stays_covered_until_lost_on(history: History, day: date) -> None:
    """Monotone inside a period: VALID on every day from eligible_from to the day before lost_on."""
    answer = eligibility_on([history], day)
    if answer.validity is V.VALID and answer.period is not None:
        period = answer.period
        assert eligibility_on([history], period.eligible_from).period == period
        if period.lost_on is not None:
            assert eligibility_on([history], period.lost_on - D).period == period


# --------------------------------------------------------------------------- the law's window


def test_statutory_window_ends_on_the_75th_birthday() -> None:
    w = statutory_window(date(1950, 6, 15), date(1950, 6, 15))
    assert (w.starts_on, w.lost_on, w.reason) == (date(1950, 6, 15), date(2025, 6, 15), "03")
    leap = statutory_window(date(1952, 2, 29), date(1952, 2, 29))
    assert leap.lost_on == date(2027, 3, 1)  # no 29 February in 2027: reached on 28 February


def test_a_dependents_window_ends_with_the_insured_persons() -> None:
    w = statutory_window(date(1953, 3, 3), date(1950, 6, 15))
    assert (w.lost_on, w.reason) == (date(2025, 6, 15), "99")
    young_insured = statutory_window(date(1950, 6, 15), date(1960, 1, 1))
    assert (young_insured.lost_on, young_insured.reason) == (date(2025, 6, 15), "03")


def test_within_window_cuts_and_drops() -> None:
    w = statutory_window(date(1950, 6, 15), date(1950, 6, 15))
    open_ = ((Period(date(2000, 4, 1), None), None),)
    assert within_window(open_, w) == ((Period(date(2000, 4, 1), date(2025, 6, 15)), "03"),)
    recorded = ((Period(date(2000, 4, 1), date(2025, 1, 1)), "01"),)
    assert within_window(recorded, w) == recorded  # the registry's earlier loss stands
    after = ((Period(date(2025, 7, 1), None), None),)
    assert within_window(after, w) == ()  # wholly past 75: nothing here ever covered it
    before_birth = ((Period(date(1940, 1, 1), None), None),)
    assert within_window(before_birth, w)[0][0].eligible_from == date(1950, 6, 15)
    answer = eligibility_on([within_window(open_, w)], date(2025, 6, 15))
    assert answer == EligibilityAnswer(V.INVALID, Period(date(2000, 4, 1), date(2025, 6, 15)), "03")
