"""Registry rows that contradict a rule (issue 15): what staff must correct.

The clinic answer already reads the registry as the law does (domain.eligibility's statutory
window), so a clinic is never told 有効 past 75; but the registry itself stays wrong until
someone fixes it, and a wrong row also feeds notices, certificates and statistics. Each rule
here names what is broken and why, in the words staff read. Pure: the registry streams one
household at a time (registry.anomalies) and these functions judge it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from shikaku.domain.eligibility import STATUTORY_REASON_OWN, statutory_window
from shikaku.domain.members import Period, Relationship


class AnomalyRule(StrEnum):
    """Each rule a registry row can break; `label` is the rule as staff read it."""

    COVERED_PAST_75 = "covered_past_75"
    COVERED_PAST_INSUREDS_75 = "covered_past_insureds_75"
    COVERED_BEFORE_BIRTH = "covered_before_birth"
    DEPENDENT_WITHOUT_INSURED = "dependent_without_insured"
    OVERLAPPING_COVERAGE = "overlapping_coverage"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    AnomalyRule.COVERED_PAST_75: (
        "75歳の誕生日以降も資格が続いています（誕生日に後期高齢者医療へ移行し、資格を喪失します）"
    ),
    AnomalyRule.COVERED_PAST_INSUREDS_75: (
        "被保険者の75歳の誕生日以降も被扶養者の資格が続いています（被保険者の資格喪失と同時に喪失します）"
    ),
    AnomalyRule.COVERED_BEFORE_BIRTH: "生年月日より前から資格があります",
    AnomalyRule.DEPENDENT_WITHOUT_INSURED: "被保険者に資格のない日に被扶養者の資格があります",
    AnomalyRule.OVERLAPPING_COVERAGE: "同じ個人番号の別の記録と資格期間が重なっています",
}


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What the rules read of one person record."""

    person_id: int
    relationship: int
    birth_date: date
    periods: tuple[Period, ...]


@dataclass(frozen=True, slots=True)
class Anomaly:
    person_id: int
    rule: AnomalyRule
    since: date  # the first day the row is wrong
    other_person_id: int | None = None  # the record it overlaps (OVERLAPPING_COVERAGE)


def _extends_past(periods: Iterable[Period], day: date, as_of: date) -> bool:
    """A period still covering `day` or later: a closed one by its lost_on; an open one only
    once `day` has come (an open period of a 60-year-old is merely not closed yet)."""
    for p in periods:
        if p.lost_on is None:
            if p.eligible_from < day <= as_of:
                return True
        elif p.lost_on > day and p.eligible_from < p.lost_on:
            return True
    return False


def household_anomalies(
    insured: MemberFacts | None, dependents: Sequence[MemberFacts], as_of: date
) -> list[Anomaly]:
    """Every rule one household breaks as of `as_of`, insured person first."""
    found: list[Anomaly] = []
    insured_birth = insured.birth_date if insured is not None else None
    for person in ([insured] if insured is not None else []) + list(dependents):
        window = statutory_window(person.birth_date, insured_birth or person.birth_date)
        if any(p.eligible_from < person.birth_date for p in person.periods):
            found.append(Anomaly(person.person_id, AnomalyRule.COVERED_BEFORE_BIRTH, min(
                p.eligible_from for p in person.periods
            )))  # fmt: skip
        if window.lost_on is not None and _extends_past(person.periods, window.lost_on, as_of):
            own = (
                window.reason == STATUTORY_REASON_OWN or person.relationship == Relationship.INSURED
            )
            rule = AnomalyRule.COVERED_PAST_75 if own else AnomalyRule.COVERED_PAST_INSUREDS_75
            found.append(Anomaly(person.person_id, rule, window.lost_on))
    if insured is not None:
        for dependent in dependents:
            uncovered = first_day_outside(dependent.periods, insured.periods, as_of)
            if uncovered is not None:
                found.append(
                    Anomaly(dependent.person_id, AnomalyRule.DEPENDENT_WITHOUT_INSURED, uncovered)
                )
    return found


def first_day_outside(
    periods: Sequence[Period], cover: Sequence[Period], as_of: date
) -> date | None:
    """The first day up to `as_of` that `periods` cover and `cover` does not, if any."""
    for p in sorted(periods, key=lambda p: p.eligible_from):
        day = p.eligible_from
        end = p.lost_on
        while day <= as_of and (end is None or day < end):
            covering = next((c for c in cover if _covers(c, day)), None)
            if covering is None:
                return day
            if covering.lost_on is None:
                break
            day = covering.lost_on
    return None


def _covers(p: Period, day: date) -> bool:
    return p.eligible_from <= day and (p.lost_on is None or day < p.lost_on)
