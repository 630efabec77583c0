"""A member's coverage on a day, as a counter clerk says it: covered (until when), ended
(since when, why), not yet begun, or a history that contradicts itself.

The same reading as the clinic check (domain.eligibility): the registry's periods cut to the
days the law allows (the 75th birthday ends coverage whether or not the registry has
recorded it; a dependent's ends with the insured person's), then the answer for the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from shikaku.domain.eligibility import (
    History,
    Validity,
    eligibility_on,
    statutory_window,
    within_window,
)
from shikaku.domain.errors import DomainError
from shikaku.domain.members import LOSS_REASONS


class Coverage(StrEnum):
    COVERED = "covered"
    ENDED = "ended"
    NOT_YET = "not_yet"
    NONE = "none"  # no period at all
    CONTRADICTORY = "contradictory"  # periods overlap or end before they start

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Coverage.COVERED: "資格あり",
    Coverage.ENDED: "資格喪失",
    Coverage.NOT_YET: "資格取得前",
    Coverage.NONE: "資格なし",
    Coverage.CONTRADICTORY: "要確認（資格の履歴に矛盾）",
}


@dataclass(frozen=True, slots=True)
class CoverageStatus:
    """`since`: the first covered day (covered), the 資格喪失日 (ended) or the day coverage
    will begin (not yet); `lost_on`: a covered person's known 資格喪失日 (None: open);
    `reason`: the 喪失事由 of that end, as a label."""

    state: Coverage
    since: date | None = None
    lost_on: date | None = None
    reason: str | None = None

    @property
    def label(self) -> str:
        return self.state.label


def coverage_on(history: History, birth: date, insured_birth: date, day: date) -> CoverageStatus:
    """The person's coverage on `day` from their own periods (with 喪失事由), their birth date
    and their insured person's (their own for an insured person)."""
    try:
        lawful = within_window(history, statutory_window(birth, insured_birth))
        answer = eligibility_on([lawful], day)
    except DomainError:
        return CoverageStatus(Coverage.CONTRADICTORY)
    reason = None if answer.loss_reason is None else LOSS_REASONS.get(answer.loss_reason)
    if answer.validity == Validity.VALID and answer.period is not None:
        period = answer.period
        return CoverageStatus(Coverage.COVERED, period.eligible_from, period.lost_on, reason)
    later = sorted(p.eligible_from for p, _ in lawful if p.eligible_from > day)
    if answer.period is not None and answer.period.lost_on is not None:
        if later:  # ended, and a later period begins: say when it begins
            return CoverageStatus(Coverage.NOT_YET, later[0])
        return CoverageStatus(Coverage.ENDED, answer.period.lost_on, None, reason)
    if later:
        return CoverageStatus(Coverage.NOT_YET, later[0])
    return CoverageStatus(Coverage.NONE)
