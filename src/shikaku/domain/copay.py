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
from types import MappingProxyType
from typing import Any, TypeVar

from shikaku.domain.ages import age_on, is_elderly_on, is_preschool_on, late_elderly_on
from shikaku.domain.errors import DomainError

T = TypeVar("T", "CopayTable", "CapTable")

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


# The 限度額適用区分 code table as clinic software reads it (OQSCD012 in the オンライン資格確認
# interface, DOMAIN.md §5). B09/B10 are 後期高齢者 codes; A06/B07/B08 (境界層, 老福) are
# given by the insurer's own decision, never derived from pay. A later table may add codes
# with their labels (the 2027-08 brackets): see `CapRule.label` and `burden_tables_from_data`.
CAP_CODES: Mapping[str, str] = MappingProxyType(
    {
        "A01": "ア",
        "A02": "イ",
        "A03": "ウ",
        "A04": "エ",
        "A05": "オ",
        "A06": "オ（境）",
        "B01": "現役並みⅢ",
        "B02": "現役並みⅡ",
        "B03": "現役並みⅠ",
        "B04": "一般",
        "B05": "低所得Ⅱ",
        "B06": "低所得Ⅰ",
        "B07": "低所得Ⅰ（老福）",
        "B08": "低所得Ⅰ（境）",
        "B09": "一般Ⅱ",
        "B10": "一般Ⅰ",
    }
)


@dataclass(frozen=True, slots=True)
class CapCategory:
    """One 限度額適用区分 as the online check returns it: the code, and what staff read."""

    code: str
    label: str

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True)
class CapRule:
    """One 区分: base + (total − threshold) × percent % (never below base), per month.

    `many_times` is the 多数回 cap (None: no reduction); `outpatient` the 外来 (個人) cap
    (None: the household cap applies to outpatients too). `label` names a code that
    OQSCD012 (`CAP_CODES`) does not know yet.
    """

    base: int
    threshold: int | None = None  # None: a flat cap
    many_times: int | None = None
    outpatient: int | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class CapTable:
    """The 高額療養費 amounts and 区分 of one period, as data.

    `under70_bands` / `active_bands` map a 標準報酬月額 lower bound to its 区分 code, highest
    first; an insured 70-74 person below every `active_bands` bound is `elderly_general`. A
    住民税非課税 insured under 70 is `exempt` unless the pay is at least `exempt_ignored_from`
    (ア/イ win, see `cap_category`); a 住民税非課税 70-74 household is `elderly_low_income`,
    or `elderly_no_income` when its income is nil. Every code a table names has a rule.
    """

    effective_from: date
    rules: Mapping[str, CapRule]
    under70_bands: tuple[tuple[int, str], ...]
    active_bands: tuple[tuple[int, str], ...]
    exempt_ignored_from: int
    excess_percent: int
    general_outpatient_annual: int  # 一般 外来, Aug-Jul (年間上限)
    exempt: str = "A05"
    elderly_general: str = "B04"
    elderly_low_income: str = "B05"
    elderly_no_income: str = "B06"

    def __post_init__(self) -> None:
        named = {
            *(code for _, code in self.under70_bands),
            *(code for _, code in self.active_bands),
            self.exempt,
            self.elderly_general,
            self.elderly_low_income,
            self.elderly_no_income,
        }
        for code in sorted(named | set(self.rules)):
            if code not in self.rules:
                raise DomainError(
                    f"限度額適用区分 {code} の金額が表にありません", f"no rule for cap code {code}"
                )
            if self.rules[code].label is None and code not in CAP_CODES:
                raise DomainError(
                    f"限度額適用区分 {code} の名称がありません（label を指定してください）",
                    f"cap code {code} is not in OQSCD012 and has no label",
                )
        for bands in (self.under70_bands, self.active_bands):
            bounds = [lower for lower, _ in bands]
            if bounds != sorted(bounds, reverse=True) or len(set(bounds)) != len(bounds):
                raise DomainError(
                    "区分の標準報酬月額の下限は高い順に重複なく並べてください",
                    "band lower bounds must be strictly decreasing",
                )
        if not self.under70_bands or self.under70_bands[-1][0] != 0:
            raise DomainError(
                "70歳未満の区分は標準報酬月額 0 円から始まる必要があります",
                "the under-70 bands must reach down to 0 yen",
            )

    def category(self, code: str) -> CapCategory:
        """The code with its label: the table's own, else OQSCD012's."""
        return CapCategory(code, self.rules[code].label or CAP_CODES[code])


CAP_TABLES: tuple[CapTable, ...] = (
    CapTable(
        effective_from=date(2018, 8, 1),
        rules=MappingProxyType(
            {
                "A01": CapRule(252_600, 842_000, many_times=140_100),
                "A02": CapRule(167_400, 558_000, many_times=93_000),
                "A03": CapRule(80_100, 267_000, many_times=44_400),
                "A04": CapRule(57_600, many_times=44_400),
                "A05": CapRule(35_400, many_times=24_600),
                "B01": CapRule(252_600, 842_000, many_times=140_100),
                "B02": CapRule(167_400, 558_000, many_times=93_000),
                "B03": CapRule(80_100, 267_000, many_times=44_400),
                "B04": CapRule(57_600, many_times=44_400, outpatient=18_000),
                "B05": CapRule(24_600, outpatient=8_000),
                "B06": CapRule(15_000, outpatient=8_000),
            }
        ),
        under70_bands=((830_000, "A01"), (530_000, "A02"), (280_000, "A03"), (0, "A04")),
        active_bands=((830_000, "B01"), (530_000, "B02"), (280_000, "B03")),
        exempt_ignored_from=530_000,
        excess_percent=1,
        general_outpatient_annual=144_000,
    ),
)


@dataclass(frozen=True, slots=True)
class BurdenTables:
    """Every dated table the rules apply: the built-in ones plus any an insurer loads as data
    (settings `policy.burden_tables`), so a law change is a file, never a code change."""

    copay: tuple[CopayTable, ...] = COPAY_TABLES
    caps: tuple[CapTable, ...] = CAP_TABLES

    def merged(self, other: BurdenTables) -> BurdenTables:
        """These tables with `other`'s added; one of `other` with the same effective_from
        replaces the built-in one."""

        def merge(old: tuple[T, ...], new: tuple[T, ...]) -> tuple[T, ...]:
            by_day = {t.effective_from: t for t in old} | {t.effective_from: t for t in new}
            return tuple(by_day[day] for day in sorted(by_day))

        return BurdenTables(merge(self.copay, other.copay), merge(self.caps, other.caps))


DEFAULT_BURDEN_TABLES = BurdenTables()


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
    tables: BurdenTables = DEFAULT_BURDEN_TABLES,
) -> int:
    """負担割合 on `day` in percent (20 or 30) for a person born on `birth`.

    `insured_*` describe the 被保険者 of the household (the person themself when is_insured).
    `table` defaults to the one in force on `day`. Raises DomainError from the 75th birthday.
    """
    _check_household(birth, day, insured_birth, insured_standard_monthly_pay, is_insured)
    rates = table if table is not None else table_on(tables.copay, day)
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
    tables: BurdenTables = DEFAULT_BURDEN_TABLES,
) -> CapCategory:
    """限度額適用区分 on `day`, decided by the insured person's 標準報酬月額 and tax status.

    `tax_exempt`: the insured person is 住民税非課税. `household_income_zero`: for 70-74, the
    household's income is nil (低所得Ⅰ); it only matters together with tax_exempt.
    Precedence (DOMAIN.md leaves it open; 協会けんぽ practice): under 70, ア/イ by pay beat
    住民税非課税 (only ウ/エ become オ); for 70-74, 現役並み beats 低所得.
    """
    _check_household(birth, day, insured_birth, insured_standard_monthly_pay, is_insured)
    caps = table if table is not None else table_on(tables.caps, day)
    return caps.category(
        _cap_code(
            caps,
            birth,
            day,
            insured_birth,
            insured_standard_monthly_pay,
            tax_exempt,
            household_income_zero,
        )
    )


def _cap_code(
    caps: CapTable,
    birth: date,
    day: date,
    insured_birth: date,
    pay: int,
    tax_exempt: bool,
    household_income_zero: bool,
) -> str:
    if is_elderly_on(birth, day):
        if is_elderly_on(insured_birth, day):
            for lower, code in caps.active_bands:
                if pay >= lower:
                    return code
        if tax_exempt:
            return caps.elderly_no_income if household_income_zero else caps.elderly_low_income
        return caps.elderly_general
    if tax_exempt and pay < caps.exempt_ignored_from:
        return caps.exempt
    # The bands reach down to 0 (CapTable checks it), so one always matches.
    return next(code for lower, code in caps.under70_bands if pay >= lower)


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
    tables: BurdenTables = DEFAULT_BURDEN_TABLES,
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
        table = table_on(tables.caps, day) if day is not None else tables.caps[-1]
    try:
        rule = table.rules[str(category)]
    except KeyError:
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


# --------------------------------------------------------------------------- tables as data


def burden_tables_from_data(data: Mapping[str, Any], source: str = "") -> BurdenTables:
    """Dated tables from parsed data (a TOML file's `[[copay]]` and `[[caps]]` arrays, see
    docs/settings.md), checked as strictly as the built-in ones; a DomainError names the
    source, the table and the field."""
    where = f"{source}: " if source else ""
    unknown = set(data) - {"copay", "caps"}
    if unknown:
        raise DomainError(
            f"{where}未知の表 {sorted(unknown)} (copay・caps のみ)", f"{where}unknown {unknown}"
        )
    try:
        copay = tuple(_copay_table(item) for item in _items(data, "copay"))
        caps = tuple(_cap_table(item) for item in _items(data, "caps"))
    except DomainError as exc:
        raise DomainError(where + exc.ja, where + exc.en) from None
    return BurdenTables(copay, caps)


def _items(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise DomainError(f"{key} は表の配列 [[{key}]] です", f"{key} must be an array of tables")
    return items


def _field(item: Mapping[str, Any], key: str, kind: type, optional: bool = False) -> Any:
    value = item.get(key)
    if value is None and optional:
        return None
    # Exact types: a bool is no int, a date-time no date; amounts are never negative.
    if type(value) is not kind or (isinstance(value, int) and value < 0):
        what = {int: "0以上の整数", str: "文字列", date: "日付"}[kind]
        raise DomainError(f"{key} は{what}です", f"{key} must be a {kind.__name__}")
    return value


def _known(item: Mapping[str, Any], keys: set[str], table: str) -> None:
    extra = set(item) - keys
    if extra:
        raise DomainError(f"{table}: 未知の項目 {sorted(extra)}", f"{table}: unknown {extra}")


_COPAY_FIELDS = ("default", "preschool", "elderly", "elderly_active", "active_pay_from")


def _copay_table(item: Mapping[str, Any]) -> CopayTable:
    _known(item, {"effective_from", *_COPAY_FIELDS}, "copay")
    return CopayTable(
        effective_from=_field(item, "effective_from", date),
        **{key: _field(item, key, int) for key in _COPAY_FIELDS},
    )


_RULE_FIELDS = ("threshold", "many_times", "outpatient")
_ROLE_FIELDS = ("exempt", "elderly_general", "elderly_low_income", "elderly_no_income")


def _cap_table(item: Mapping[str, Any]) -> CapTable:
    scalars = ("effective_from", "exempt_ignored_from", "excess_percent")
    _known(
        item,
        {*scalars, "general_outpatient_annual", "rules", "under70_bands", "active_bands",
         *_ROLE_FIELDS},
        "caps",
    )  # fmt: skip
    rules = item.get("rules")
    if not isinstance(rules, Mapping) or not rules:
        raise DomainError("caps.rules に区分ごとの金額がありません", "caps.rules is missing")
    roles = {key: _field(item, key, str) for key in _ROLE_FIELDS if key in item}
    return CapTable(
        effective_from=_field(item, "effective_from", date),
        rules=MappingProxyType({str(code): _cap_rule(code, rule) for code, rule in rules.items()}),
        under70_bands=_bands(item, "under70_bands"),
        active_bands=_bands(item, "active_bands"),
        exempt_ignored_from=_field(item, "exempt_ignored_from", int),
        excess_percent=_field(item, "excess_percent", int),
        general_outpatient_annual=_field(item, "general_outpatient_annual", int),
        **roles,
    )


def _cap_rule(code: str, rule: Any) -> CapRule:
    if not isinstance(rule, Mapping):
        raise DomainError(f"caps.rules.{code} は表です", f"caps.rules.{code} must be a table")
    _known(rule, {"base", "label", *_RULE_FIELDS}, f"caps.rules.{code}")
    return CapRule(
        base=_field(rule, "base", int),
        label=_field(rule, "label", str, optional=True),
        **{key: _field(rule, key, int, optional=True) for key in _RULE_FIELDS},
    )


def _bands(item: Mapping[str, Any], key: str) -> tuple[tuple[int, str], ...]:
    bands = item.get(key)
    if not isinstance(bands, list) or not all(
        isinstance(b, list) and len(b) == 2 and type(b[0]) is int and isinstance(b[1], str)
        for b in bands
    ):
        raise DomainError(
            f"{key} は [標準報酬月額の下限, 区分コード] の配列です",
            f"{key} must be a list of [lower bound, code]",
        )
    return tuple((lower, code) for lower, code in bands)
