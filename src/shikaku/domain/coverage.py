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
    STATUTORY_REASON_OWN,
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
    by_law: bool = False  # the end is the 75th birthday's (own or the insured person's)
    own_75: bool = False  # …the person's own 75th birthday (else the insured person's)

    @property
    def label(self) -> str:
        return self.state.label

    @property
    def end_label(self) -> str | None:
        """Why coverage ends, in a clerk's words."""
        if self.by_law:
            return "75歳到達（後期高齢者医療へ移行）" if self.own_75 else "被保険者の75歳到達"
        return self.reason


def coverage_on(history: History, birth: date, insured_birth: date, day: date) -> CoverageStatus:
    """The person's coverage on `day` from their own periods (with 喪失事由), their birth date
    and their insured person's (their own for an insured person)."""
    window = statutory_window(birth, insured_birth)
    try:
        lawful = within_window(history, window)
        answer = eligibility_on([lawful], day)
    except DomainError:
        return CoverageStatus(Coverage.CONTRADICTORY)
    reason = None if answer.loss_reason is None else LOSS_REASONS.get(answer.loss_reason)
    end = None if answer.period is None else answer.period.lost_on
    by_law = (
        end is not None
        and end == window.lost_on
        and all(p.lost_on != end for p, _ in history)  # the registry has not recorded it
    )
    own = window.reason == STATUTORY_REASON_OWN
    if answer.validity == Validity.VALID and answer.period is not None:
        period = answer.period
        return CoverageStatus(
            Coverage.COVERED, period.eligible_from, period.lost_on, reason, by_law, own
        )
    later = sorted(p.eligible_from for p, _ in lawful if p.eligible_from > day)
    if answer.period is not None and end is not None:
        if later:  # ended, and a later period begins: say when it begins
            return CoverageStatus(Coverage.NOT_YET, later[0])
        return CoverageStatus(Coverage.ENDED, end, None, reason, by_law, own)
    if later:
        return CoverageStatus(Coverage.NOT_YET, later[0])
    return CoverageStatus(Coverage.NONE)
