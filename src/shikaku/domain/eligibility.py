"""オンライン資格確認: the validity code a clinic receives for a person on a date (DOMAIN.md §5).

The answer depends only on the period histories of the person records that matched every key
(保険者番号・記号・番号・枝番・生年月日) and on whether the registry knows a newer
qualification of the same person elsewhere. Who the person is (本人/家族, names) is added by
the caller: the code itself is the same for an insured person and a dependent.

Periods are [eligible_from, lost_on): lost_on is the first day NOT covered (資格喪失日).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import IntEnum
from itertools import pairwise

from shikaku.domain.ages import late_elderly_on
from shikaku.domain.errors import DomainError
from shikaku.domain.members import (
    LOSS_REASON_WITHOUT_LOST_ON,
    LOSS_REASONS,
    LOST_ON_NOT_AFTER_START,
    Period,
)

History = Sequence[tuple[Period, str | None]]
"""One person record's periods, each with its 喪失事由 (None while open), in any order."""


class Validity(IntEnum):
    """資格有効性 as the national online check codes it."""

    VALID = 1
    INVALID = 2
    INVALID_NEWER = 3
    NOT_FOUND = 4
    MULTIPLE = 5

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Validity.VALID: "有効",
    Validity.INVALID: "無効",
    Validity.INVALID_NEWER: "無効（新しい資格あり）",
    Validity.NOT_FOUND: "該当資格なし",
    Validity.MULTIPLE: "複数該当",
}


@dataclass(frozen=True, slots=True)
class EligibilityAnswer:
    """The validity code, the period it is about, and that period's 喪失事由.

    `period` is the covering period (VALID), the latest period that ended on or before the day
    (INVALID / INVALID_NEWER), or None (NOT_FOUND, MULTIPLE, or a day before any period).
    `loss_reason` goes with the period's lost_on whenever it has one: a VALID answer with a
    recorded future 資格喪失日 (or the 75th birthday ahead) gives its 事由 too, as the registry
    holds them together; the clinic never sees a loss date without its reason.
    """

    validity: Validity
    period: Period | None = None
    loss_reason: str | None = None

    @property
    def loss_reason_label(self) -> str | None:
        return None if self.loss_reason is None else LOSS_REASONS[self.loss_reason]

    @property
    def valid_until(self) -> date | None:
        """The last covered day of `period` (有効終了日), None while it is open."""
        if self.period is None or self.period.lost_on is None:
            return None
        return self.period.lost_on - timedelta(days=1)


def covers(period: Period, day: date) -> bool:
    """eligible_from inclusive, lost_on exclusive."""
    return period.eligible_from <= day and (period.lost_on is None or day < period.lost_on)


def _checked(history: History) -> list[tuple[Period, str | None]]:
    """The history oldest first, refused when it could give a wrong answer.

    Corrupt data must not turn into 有効 or 無効 at a clinic, so overlaps, empty periods and
    unknown or premature 喪失事由 raise instead of being guessed around.
    """
    ordered = sorted(history, key=lambda item: item[0].eligible_from)
    for period, reason in ordered:
        if period.lost_on is not None and period.lost_on <= period.eligible_from:
            raise DomainError(LOST_ON_NOT_AFTER_START.ja, LOST_ON_NOT_AFTER_START.en)
        if reason is not None and reason not in LOSS_REASONS:
            raise DomainError(
                f"喪失事由 {reason} は 01・02・03・99 のいずれでもありません",
                f"unknown loss reason {reason}",
            )
        if reason is not None and period.lost_on is None:
            raise DomainError(LOSS_REASON_WITHOUT_LOST_ON.ja, LOSS_REASON_WITHOUT_LOST_ON.en)
    for (before, _), (after, _) in pairwise(ordered):
        if before.lost_on is None or before.lost_on > after.eligible_from:
            raise DomainError(
                "同じ加入者の資格期間が重なっています", "periods of one record overlap"
            )
    return ordered


# 喪失事由 of a period the law ends although the registry has not: a person of 75 joins
# 後期高齢者医療 (another medical insurance, 03); a dependent whose insured person left that way
# loses the dependency with nothing in its place (99).
STATUTORY_REASON_OWN = "03"
STATUTORY_REASON_INSURED = "99"


@dataclass(frozen=True, slots=True)
class StatutoryWindow:
    """The days the law lets this insurer cover a person, whatever the registry holds.

    Nobody is covered before birth (nor a dependent before the insured person's birth), and
    coverage ends on the 75th birthday (後期高齢者医療, DOMAIN.md §6), for a dependent also on
    the insured person's 75th birthday: there is no 被扶養者 without a 被保険者. `lost_on` is
    None only where that birthday is beyond the calendar.
    """

    starts_on: date
    lost_on: date | None
    reason: str


def statutory_window(birth: date, insured_birth: date) -> StatutoryWindow:
    """The window for a person born on `birth` whose insured person was born on
    `insured_birth` (the same date for the insured person)."""
    own = _late_elderly_or_none(birth)
    insured = _late_elderly_or_none(insured_birth)
    starts_on = max(birth, insured_birth)
    if insured is not None and (own is None or insured < own):
        return StatutoryWindow(starts_on, insured, STATUTORY_REASON_INSURED)
    return StatutoryWindow(starts_on, own, STATUTORY_REASON_OWN)


def _late_elderly_or_none(birth: date) -> date | None:
    try:
        return late_elderly_on(birth)
    except DomainError:  # beyond the calendar: never within it
        return None


def within_window(history: History, window: StatutoryWindow) -> History:
    """The history as the law reads it: each period cut to the window, with the window's
    喪失事由 where the cut ends it (a registry loss on or before the cut keeps its own), and
    periods wholly outside the window dropped. Corrupt histories pass through unchanged for
    `eligibility_on` to refuse."""
    cut: list[tuple[Period, str | None]] = []
    for period, reason in history:
        if period.lost_on is not None and period.lost_on <= period.eligible_from:
            cut.append((period, reason))  # corrupt: refused later, never hidden
            continue
        start = max(period.eligible_from, window.starts_on)
        lost_on, why = period.lost_on, reason
        if window.lost_on is not None and (lost_on is None or lost_on > window.lost_on):
            lost_on, why = window.lost_on, window.reason
        if lost_on is not None and lost_on <= start:
            continue
        cut.append((Period(start, lost_on), why))
    return tuple(cut)


def eligibility_on(
    candidates: Sequence[History], day: date, *, newer_from: date | None = None
) -> EligibilityAnswer:
    """The オンライン資格確認 answer for `day`, from the records that matched every key.

    - no record, or no record with any period: NOT_FOUND (there is no 資格 to report on);
    - more than one record covering the day: MULTIPLE (the keys should have been unique);
    - exactly one record covering the day: VALID with that period (and its 事由 when its end
      is known);
    - otherwise INVALID, with the period that ended latest on or before the day and its
      reason; a day before every period: no period, no reason. Ties on lost_on go to the
      later eligible_from, then to the first candidate.
    - INVALID_NEWER instead of INVALID only when a qualification that began LATER than that
      period covers the day: `newer_from` is the caller's finding of another record of the
      same person (same My Number) covering the day, given as the day it began. An older
      record still covering the day (a transfer's new record asked before it starts) is not
      newer; a later period of these same records is not either: the clinic already has those
      numbers, and a day in a gap is simply not covered.
    """
    histories = [_checked(history) for history in candidates]
    if not any(histories):
        return EligibilityAnswer(Validity.NOT_FOUND)
    # Periods of one record never overlap (checked), so one covering period = one record.
    covering = [
        (period, reason)
        for history in histories
        for period, reason in history
        if covers(period, day)
    ]
    if len(covering) > 1:
        return EligibilityAnswer(Validity.MULTIPLE)
    if covering:
        return EligibilityAnswer(Validity.VALID, *covering[0])
    ended = [
        (period.lost_on, period.eligible_from, period, reason)
        for history in histories
        for period, reason in history
        if period.lost_on is not None and period.lost_on <= day
    ]
    if not ended:
        return EligibilityAnswer(Validity.INVALID)
    *_, period, reason = max(ended, key=lambda item: (item[0], item[1]))  # first of equals
    newer = newer_from is not None and newer_from > period.eligible_from
    return EligibilityAnswer(Validity.INVALID_NEWER if newer else Validity.INVALID, period, reason)
