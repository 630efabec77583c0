"""負担割合, 限度額適用区分 and the monthly cap of 高額療養費 (DOMAIN.md §5, §6).

Every amount that the law changes (ratios, pay thresholds, caps) lives in a frozen, dated table;
the functions only apply a table. A new law is a new table appended to `COPAY_TABLES` /
`CAP_TABLES`, never a new `if day >= ...` here.

Ratios are int percent (20, 30): exact, comparable and what a ledger multiplies by /100.
A person from the 75th birthday on is under 後期高齢者医療, not this insurer: asking for their
ratio or 区分 is a caller error and raises DomainError rather than returning None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from shikaku.domain.ages import age_on, is_elderly_on, is_preschool_on, late_elderly_on
from shikaku.domain.errors import DomainError

# --------------------------------------------------------------------------- 負担割合


@dataclass(frozen=True, slots=True)
class CopayTable:
    """Burden ratios in percent, and the 標準報酬月額 from which a 70-74 household is 現役並み."""

    effective_from: date
    default: int
    preschool: int
    elderly: int
    elderly_active: int  # 現役並み所得者
    active_pay_from: int


# Each table states every amount: a new law's table inherits nothing from an older one.
COPAY_TABLES: tuple[CopayTable, ...] = (
    CopayTable(
        effective_from=date(2018, 8, 1),
        default=30,
        preschool=20,
        elderly=20,
        elderly_active=30,
        active_pay_from=280_000,
    ),
)


class CapCategory(StrEnum):
    """限度額適用区分 as the online check returns it; `label` is what staff read."""

    A01 = "A01"  # ア
    A02 = "A02"  # イ
    A03 = "A03"  # ウ
    A04 = "A04"  # エ
    A05 = "A05"  # オ
    B01 = "B01"  # 現役並みⅢ
    B02 = "B02"  # 現役並みⅡ
    B03 = "B03"  # 現役並みⅠ
    B04 = "B04"  # 一般
    B05 = "B05"  # 低所得Ⅱ
    B06 = "B06"  # 低所得Ⅰ

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    CapCategory.A01: "ア",
    CapCategory.A02: "イ",
    CapCategory.A03: "ウ",
    CapCategory.A04: "エ",
    CapCategory.A05: "オ",
    CapCategory.B01: "現役並みⅢ",
    CapCategory.B02: "現役並みⅡ",
    CapCategory.B03: "現役並みⅠ",
    CapCategory.B04: "一般",
    CapCategory.B05: "低所得Ⅱ",
    CapCategory.B06: "低所得Ⅰ",
}


@dataclass(frozen=True, slots=True)
class CapRule:
    """One 区分: base + (total − threshold) × percent % (never below base), per month.

    `many_times` is the 多数回 cap (None: no reduction); `outpatient` the 外来 (個人) cap
    (None: the household cap applies to outpatients too).
    """

    base: int
    threshold: int | None = None  # None: a flat cap
    many_times: int | None = None
    outpatient: int | None = None


@dataclass(frozen=True, slots=True)
class CapTable:
    """The 高額療養費 amounts of one period.

    `under70_bands` / `active_bands` map a 標準報酬月額 lower bound to its 区分, highest first;
    an insured 70-74 person below every `active_bands` bound is 一般. A 住民税非課税 insured
    under 70 is オ unless the pay is at least `exempt_ignored_from` (ア/イ win, see module doc).
    """

    effective_from: date
    rules: Mapping[CapCategory, CapRule]
    under70_bands: tuple[tuple[int, CapCategory], ...]
    active_bands: tuple[tuple[int, CapCategory], ...]
    exempt_ignored_from: int
    excess_percent: int
    general_outpatient_annual: int  # 一般 外来, Aug-Jul (年間上限)


CAP_TABLES: tuple[CapTable, ...] = (
    CapTable(
        effective_from=date(2018, 8, 1),
        rules=MappingProxyType(
            {
                CapCategory.A01: CapRule(252_600, 842_000, many_times=140_100),
                CapCategory.A02: CapRule(167_400, 558_000, many_times=93_000),
                CapCategory.A03: CapRule(80_100, 267_000, many_times=44_400),
                CapCategory.A04: CapRule(57_600, many_times=44_400),
                CapCategory.A05: CapRule(35_400, many_times=24_600),
                CapCategory.B01: CapRule(252_600, 842_000, many_times=140_100),
                CapCategory.B02: CapRule(167_400, 558_000, many_times=93_000),
                CapCategory.B03: CapRule(80_100, 267_000, many_times=44_400),
                CapCategory.B04: CapRule(57_600, many_times=44_400, outpatient=18_000),
                CapCategory.B05: CapRule(24_600, outpatient=8_000),
                CapCategory.B06: CapRule(15_000, outpatient=8_000),
            }
        ),
        under70_bands=(
            (830_000, CapCategory.A01),
            (530_000, CapCategory.A02),
            (280_000, CapCategory.A03),
            (0, CapCategory.A04),
        ),
        active_bands=(
            (830_000, CapCategory.B01),
            (530_000, CapCategory.B02),
            (280_000, CapCategory.B03),
        ),
        exempt_ignored_from=530_000,
        excess_percent=1,
        general_outpatient_annual=144_000,
    ),
)

T = TypeVar("T", CopayTable, CapTable)

DEFAULT_COPAY = COPAY_TABLES[-1]
DEFAULT_CAPS = CAP_TABLES[-1]


def table_on(tables: Sequence[T], day: date) -> T:
    """The table in force on `day`: the latest whose effective_from is on or before it."""
    in_force = [t for t in tables if t.effective_from <= day]
    if not in_force:
        raise DomainError(
            f"{day.isoformat()} に適用される負担額の表がありません",
            f"no table in force on {day.isoformat()}",
        )
    return max(in_force, key=lambda t: t.effective_from)


# --------------------------------------------------------------------------- shared checks


def _check_covered(birth: date, day: date, who_ja: str, who_en: str) -> None:
    age_on(birth, day)  # rejects a day before birth
    if day >= late_elderly_on(birth):
        raise DomainError(
            f"{who_ja}は75歳の誕生日から後期高齢者医療の対象です",
            f"the {who_en} is under 後期高齢者医療 from the 75th birthday",
        )


def _check_pay(pay: int) -> None:
    if pay < 0:
        raise DomainError("標準報酬月額は0以上です", "standard monthly pay must not be negative")


def _insured_is_active(
    day: date, insured_birth: date, insured_standard_monthly_pay: int, active_pay_from: int
) -> bool:
    """現役並み: the insured person is 高齢受給者 and earns at least the threshold.

    It is the insured person's age and pay that count, so a 70-74 dependent of an insured
    person under 70 is never 現役並み.
    """
    return is_elderly_on(insured_birth, day) and insured_standard_monthly_pay >= active_pay_from


def _check_household(
    birth: date, day: date, insured_birth: date, insured_standard_monthly_pay: int, is_insured: bool
) -> None:
    if is_insured and insured_birth != birth:
        raise DomainError(
            "被保険者本人の生年月日が一致しません",
            "is_insured but insured_birth differs from birth",
        )
    _check_covered(birth, day, "本人・家族", "person")
    _check_covered(insured_birth, day, "被保険者", "insured person")
    _check_pay(insured_standard_monthly_pay)


# --------------------------------------------------------------------------- 負担割合


def copay_rate(
    birth: date,
    day: date,
    *,
    insured_birth: date,
    insured_standard_monthly_pay: int,
    is_insured: bool,
    table: CopayTable | None = None,
) -> int:
    """負担割合 on `day` in percent (20 or 30) for a person born on `birth`.

    `insured_*` describe the 被保険者 of the household (the person themself when is_insured).
    `table` defaults to the one in force on `day`. Raises DomainError from the 75th birthday.
    """
    _check_household(birth, day, insured_birth, insured_standard_monthly_pay, is_insured)
    rates = table if table is not None else table_on(COPAY_TABLES, day)
    if is_preschool_on(birth, day):
        return rates.preschool
    if is_elderly_on(birth, day):
        if _insured_is_active(
            day, insured_birth, insured_standard_monthly_pay, rates.active_pay_from
        ):
            return rates.elderly_active
        return rates.elderly
    return rates.default


# --------------------------------------------------------------------------- 限度額適用区分


def cap_category(
    birth: date,
    day: date,
    *,
    insured_birth: date,
    insured_standard_monthly_pay: int,
    is_insured: bool,
    tax_exempt: bool = False,
    household_income_zero: bool = False,
    table: CapTable | None = None,
) -> CapCategory:
    """限度額適用区分 on `day`, decided by the insured person's 標準報酬月額 and tax status.

    `tax_exempt`: the insured person is 住民税非課税. `household_income_zero`: for 70-74, the
    household's income is nil (低所得Ⅰ); it only matters together with tax_exempt.
    Precedence (DOMAIN.md leaves it open; 協会けんぽ practice): under 70, ア/イ by pay beat
    住民税非課税 (only ウ/エ become オ); for 70-74, 現役並み beats 低所得.
    """
    _check_household(birth, day, insured_birth, insured_standard_monthly_pay, is_insured)
    caps = table if table is not None else table_on(CAP_TABLES, day)
    pay = insured_standard_monthly_pay
    if is_elderly_on(birth, day):
        if is_elderly_on(insured_birth, day):
            for lower, category in caps.active_bands:
                if pay >= lower:
                    return category
        if tax_exempt:
            return CapCategory.B06 if household_income_zero else CapCategory.B05
        return CapCategory.B04
    if tax_exempt and pay < caps.exempt_ignored_from:
        return CapCategory.A05
    for lower, category in caps.under70_bands:
        if pay >= lower:
            return category
    raise DomainError(  # only reachable with a table whose bands do not start at 0
        "標準報酬月額に当たる区分が表にありません", "no band in the table covers this pay"
    )


# --------------------------------------------------------------------------- monthly cap


def percent_of(amount: int, percent: int) -> int:
    """amount × percent %, rounded to the nearest yen, half up (1円未満四捨五入).

    Integer arithmetic only, so no float can move a yen.
    """
    return (amount * percent * 2 + 100) // 200


def monthly_cap(
    category: CapCategory | str,
    total_medical_cost: int,
    *,
    many_times: bool,
    outpatient_only: bool = False,
    table: CapTable | None = None,
    day: date | None = None,
) -> int:
    """自己負担限度額 in yen for one month, from the 医療費 total (10割, yen).

    The amounts are those in force on `day` (a date in the month of care): the caps change
    by law (DOMAIN.md §6), so a month before a change keeps the old table. Without `day` or
    `table`, the newest table applies.

    The 1 % part is (total − threshold) × 1 %, never negative, rounded half up to the yen.
    `outpatient_only` selects the 外来 (個人) cap where the 区分 has one (一般, 低所得);
    the 多数回 amount never applies to it. The 一般 yearly outpatient cap is
    `table.general_outpatient_annual`.
    """
    if total_medical_cost < 0:
        raise DomainError("医療費は0以上です", "total medical cost must not be negative")
    if table is None:
        table = table_on(CAP_TABLES, day) if day is not None else DEFAULT_CAPS
    try:
        rule = table.rules[CapCategory(category)]
    except (KeyError, ValueError):
        raise DomainError(
            f"限度額適用区分 {category} は表にありません", f"unknown cap category {category}"
        ) from None
    if outpatient_only and rule.outpatient is not None:
        return rule.outpatient
    if many_times and rule.many_times is not None:
        return rule.many_times
    if rule.threshold is None:
        return rule.base
    excess = max(0, total_medical_cost - rule.threshold)
    return rule.base + percent_of(excess, table.excess_percent)
