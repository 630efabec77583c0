"""The household's pay on a day, in SQL: one definition for every statement that reads it.

A member's 70-74 負担割合 and 限度額適用区分 (domain.copay) are decided by the household's
insured person's 標準報酬月額 and 住民税非課税 from the pay record in force on the day: the one
that took effect last on or before it (a record applies from its `effective_from` until the
next one, as a burden table does: domain.copay.table_on). The clinic lookup
(registry.checks), the extraction stream (issuance.extract) and the certificate planner
(issuance.certificate_plan) each pick that row inside their own statement, one index probe per
person, so the rule is a SQL expression, written once here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func

from shikaku.registry.db import in_force_on
from shikaku.registry.tables import pay_periods


def household_insured(person: Any) -> Any:
    """Whose pay decides: the insured person of `person`'s household (a dependent's
    `insured_id`, the insured person themself), for a `persons` table or alias."""
    return func.coalesce(person.c.insured_id, person.c.id)


def pay_in_force(owner: Any, day: Any) -> Any:
    """The `effective_from` of `owner`'s pay record in force on `day` (NULL before the
    first): join `pay_periods` on (person_id = owner, effective_from = this). `owner` is a
    column of the enclosing statement, `day` a date or a bound parameter."""
    return in_force_on(pay_periods, "effective_from", owner, day)
