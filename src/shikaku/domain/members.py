"""Rules about members and their periods that the importer and the console both apply."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import IntEnum, StrEnum
from typing import TypeVar

from shikaku.domain.errors import DomainError
from shikaku.domain.normalize import normalize_code, normalize_symbol


class Relationship(IntEnum):
    """JP Core Coverage.relationship codes."""

    INSURED = 1  # 被保険者 (本人)
    DEPENDENT = 2  # 被扶養者 (家族)

    @property
    def label(self) -> str:
        """What a card, a list or a clinic's screen shows: 本人 or 家族."""
        return "本人" if self is Relationship.INSURED else "家族"


class MyNumberStatus(StrEnum):
    NONE = "none"
    REGISTERED = "registered"
    NEEDS_CHECK = "needs_check"


class Delivery(StrEnum):
    EMPLOYER = "employer"  # 事業所経由で配付
    HOME = "home"  # 自宅へ直送 (任意継続)


LOSS_REASONS: dict[str, str] = {
    "01": "死亡",
    "02": "生活保護",
    "03": "他の医療保険取得",
    "99": "その他",
}

_RELATIONSHIP_WORDS = {
    "本人": Relationship.INSURED,
    "被保険者": Relationship.INSURED,
    "1": Relationship.INSURED,
    "家族": Relationship.DEPENDENT,
    "被扶養者": Relationship.DEPENDENT,
    "2": Relationship.DEPENDENT,
}

_STATUS_WORDS = {
    "登録済": MyNumberStatus.REGISTERED,
    "登録済み": MyNumberStatus.REGISTERED,
    "registered": MyNumberStatus.REGISTERED,
    "要確認": MyNumberStatus.NEEDS_CHECK,
    "needs_check": MyNumberStatus.NEEDS_CHECK,
}

_DELIVERY_WORDS = {
    "": Delivery.EMPLOYER,
    "事業所": Delivery.EMPLOYER,
    "employer": Delivery.EMPLOYER,
    "自宅": Delivery.HOME,
    "home": Delivery.HOME,
}

# 電子交付 (the portal offers the employer's PDFs): blank leaves it to the insurer's setting.
_ELECTRONIC_WORDS = {
    "する": True,
    "あり": True,
    "有": True,
    "可": True,
    "1": True,
    "yes": True,
    "true": True,
    "しない": False,
    "なし": False,
    "無": False,
    "不可": False,
    "0": False,
    "no": False,
    "false": False,
}


T = TypeVar("T")


def _lookup(table: dict[str, T], value: str, ja: str, en: str) -> T:
    try:
        return table[value.strip()]
    except KeyError:
        choices = "・".join(k for k in table if k)
        raise DomainError(
            f"{ja}は {choices} のいずれかです", f"{en} must be one of {choices}"
        ) from None


def parse_relationship(value: str) -> Relationship:
    return _lookup(_RELATIONSHIP_WORDS, value, "続柄", "relationship")


def parse_delivery(value: str) -> Delivery:
    return _lookup(_DELIVERY_WORDS, value, "送付先", "delivery")


def parse_electronic_delivery(value: str) -> bool | None:
    """電子交付: する/しない (1/0, あり/なし, 可/不可); blank is None, the setting's default."""
    if not value.strip():
        return None
    return _lookup(_ELECTRONIC_WORDS, value.strip().lower(), "電子交付", "electronic delivery")


def parse_loss_reason(value: str) -> str:
    code = value.strip()
    if code.isdigit() and len(code) == 1:
        code = "0" + code
    if code not in LOSS_REASONS:
        raise DomainError(
            "喪失事由は 01 死亡・02 生活保護・03 他の医療保険取得・99 その他 のいずれかです",
            "loss reason must be 01, 02, 03 or 99",
        )
    return code


def my_number_status(has_number: bool, stated: str) -> MyNumberStatus:
    """A number on file is registered unless the file says it needs a check."""
    if not has_number:
        if stated.strip() in ("", "なし", "none"):
            return MyNumberStatus.NONE
        raise DomainError(
            "個人番号がないのに個人番号状態が指定されています", "status without a My Number"
        )
    if not stated.strip():
        return MyNumberStatus.REGISTERED
    return _lookup(_STATUS_WORDS, stated, "個人番号状態", "My Number status")


def validate_branch(relationship: Relationship, branch: str, insured_branch: str) -> None:
    """(policy) The insured person carries insured_branch (00); dependents any other."""
    if relationship is Relationship.INSURED and branch != insured_branch:
        raise DomainError(
            f"被保険者本人の枝番は {insured_branch} です",
            f"the insured person's branch must be {insured_branch}",
        )
    if relationship is Relationship.DEPENDENT and branch == insured_branch:
        raise DomainError(
            f"枝番 {insured_branch} は被保険者本人の枝番です（被扶養者には使えません）",
            f"branch {insured_branch} belongs to the insured person, not a dependent",
        )


# --------------------------------------------------------------------------- member key
# 記号・番号・枝番 by the same rules whether an employer's file or a clinic's request brings them.

MAX_NUMBER_DIGITS = 10
MAX_SYMBOL_LENGTH = 10


def parse_number(raw: str) -> str:
    """番号 is a short sequence within the employer; 12 digits would be a My Number typed in the
    wrong column, which must be rejected (and masked in the report), never stored."""
    value = normalize_code(raw, "番号", "number", digits=None)
    if len(value) > MAX_NUMBER_DIGITS:
        raise DomainError(
            f"番号は{MAX_NUMBER_DIGITS}桁以内です（個人番号を入力していませんか）",
            f"number has more than {MAX_NUMBER_DIGITS} digits",
        )
    return value


def parse_symbol(raw: str) -> str:
    """記号 as stored and matched: normalize_symbol's form, at most MAX_SYMBOL_LENGTH long."""
    value = normalize_symbol(raw)
    if len(value) > MAX_SYMBOL_LENGTH:
        raise DomainError(
            f"記号は{MAX_SYMBOL_LENGTH}文字以内です", f"symbol longer than {MAX_SYMBOL_LENGTH}"
        )
    return value


def parse_branch(raw: str) -> str:
    """枝番 as two digits: a single digit gets its leading zero."""
    value = normalize_code(raw, "枝番", "branch", digits=None)
    if len(value) == 1:
        value = "0" + value
    if len(value) != 2:
        raise DomainError("枝番は2桁です", "branch must be 2 digits")
    return value


@dataclass(frozen=True, slots=True)
class Period:
    """[eligible_from, lost_on): lost_on is the first day NOT covered; None means open."""

    eligible_from: date
    lost_on: date | None

    def overlaps(self, other: Period) -> bool:
        a_end = self.lost_on or date.max
        b_end = other.lost_on or date.max
        return self.eligible_from < b_end and other.eligible_from < a_end


def first_overlap(period: Period, others: Iterable[Period]) -> Period | None:
    for other in others:
        if other.eligible_from != period.eligible_from and period.overlaps(other):
            return other
    return None


# Rules across the fields of one member row: their names and messages, one each. The importer
# checks them on ISO date strings (which order like dates), in records.MemberParser; the
# domain rules that meet the same data (eligibility, certificate) raise the same messages.
LOST_ON_NOT_AFTER_START = DomainError(
    "資格喪失年月日が資格取得年月日以前です", "lost_on must be after eligible_from"
)
ELIGIBLE_BEFORE_BIRTH = DomainError(
    "資格取得年月日が生年月日より前です", "eligible_from before birth_date"
)
LOSS_REASON_WITHOUT_LOST_ON = DomainError(
    "資格喪失年月日がないのに喪失事由があります", "loss reason without lost_on"
)
DEPENDENT_WITH_PAY = DomainError(
    "被扶養者に標準報酬月額は設定できません", "dependents have no standard pay"
)
MYNACARD_DATES_WITHOUT_REGISTRATION = DomainError(
    "マイナ保険証登録日がありません（解除日・電子証明書有効期限には登録日が必要です）",
    "needs mynacard_registered_on",
)
MYNACARD_CANCELLED_BEFORE_REGISTERED = DomainError(
    "マイナ保険証解除日が登録日より前です", "cancelled before registered"
)
