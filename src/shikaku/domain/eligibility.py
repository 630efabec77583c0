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
    """The validity code, the period it is about, and the 喪失事由 when that period ended.

    `period` is the covering period (VALID), the latest period that ended on or before the day
    (INVALID / INVALID_NEWER), or None (NOT_FOUND, MULTIPLE, or a day before any period).
    `loss_reason` is only given for a period that has ended: a future lost_on of a VALID
    period is not a loss yet.
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


def eligibility_on(
    candidates: Sequence[History], day: date, *, newer_elsewhere: bool = False
) -> EligibilityAnswer:
    """The オンライン資格確認 answer for `day`, from the records that matched every key.

    - no record, or no record with any period: NOT_FOUND (there is no 資格 to report on);
    - more than one record covering the day: MULTIPLE (the keys should have been unique);
    - exactly one record covering the day: VALID with that period (newer_elsewhere ignored);
    - otherwise INVALID_NEWER when `newer_elsewhere`, else INVALID, with the period that ended
      latest on or before the day and its reason; a day before every period: no period, no
      reason. Ties on lost_on go to the later eligible_from, then to the first candidate.

    `newer_elsewhere` is the caller's finding that the same person (same My Number) holds a
    newer qualification in another record, i.e. one covering the day or starting after the
    period that ended. A later period of these same records is deliberately not "newer":
    the clinic already has those numbers, and a day in a gap is simply not covered.
    """
    histories = [_checked(history) for history in candidates]
    if not any(histories):
        return EligibilityAnswer(Validity.NOT_FOUND)
    # Periods of one record never overlap (checked), so one covering period = one record.
    covering = [period for history in histories for period, _ in history if covers(period, day)]
    if len(covering) > 1:
        return EligibilityAnswer(Validity.MULTIPLE)
    if covering:
        return EligibilityAnswer(Validity.VALID, covering[0])
    validity = Validity.INVALID_NEWER if newer_elsewhere else Validity.INVALID
    ended = [
        (period.lost_on, period.eligible_from, period, reason)
        for history in histories
        for period, reason in history
        if period.lost_on is not None and period.lost_on <= day
    ]
    if not ended:
        return EligibilityAnswer(validity)
    *_, period, reason = max(ended, key=lambda item: (item[0], item[1]))  # first of equals
    return EligibilityAnswer(validity, period, reason)
