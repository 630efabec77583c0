"""A target: one person's notice exactly as it will be printed, frozen in the ledger.

The content hash covers every printed value (verify recomputes it); the change hash covers
what a follow-up run compares (記号, 番号, 枝番, 氏名, カナ, 生年月日, 送付先 and, for home
delivery, the address): a person whose change hash moved since the last run gets a new notice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from shikaku.domain.copay import copay_rate
from shikaku.domain.errors import DomainError
from shikaku.domain.members import Relationship


@dataclass(frozen=True, slots=True)
class Target:
    person_id: int
    employer_id: int
    symbol: str
    number: str
    branch: str
    relationship: int
    name: str
    name_kana: str
    birth_date: date
    sex: int | None
    eligible_from: date
    copay_rate: int
    my_number_state: str
    my_number_last4: str | None
    insured_name: str
    delivery: str
    postal_code: str | None
    address: str | None
    # 資格確認書 only (None for a notice)
    cert_reason: str | None = None
    valid_until: date | None = None
    effective_from: date | None = None
    cap_category: str | None = None
    supersedes: bool | None = None

    def content_hash(self) -> bytes:
        """Every printed value (all fields but the person id), in field order."""
        text = (
            f"{self.employer_id}\x1f{self.symbol}\x1f{self.number}\x1f{self.branch}"
            f"\x1f{self.relationship}\x1f{self.name}\x1f{self.name_kana}\x1f{self.birth_date}"
            f"\x1f{_s(self.sex)}\x1f{self.eligible_from}\x1f{self.copay_rate}"
            f"\x1f{self.my_number_state}\x1f{_s(self.my_number_last4)}\x1f{self.insured_name}"
            f"\x1f{self.delivery}\x1f{_s(self.postal_code)}\x1f{_s(self.address)}"
        )
        if self.cert_reason is not None:
            text += (
                f"\x1e{self.cert_reason}\x1f{_s(self.valid_until)}\x1f{_s(self.effective_from)}"
                f"\x1f{_s(self.cap_category)}\x1f{_s(self.supersedes)}"
            )
        return hashlib.sha256(text.encode("utf-8")).digest()


def _s(value: object) -> str:
    return "" if value is None else str(value)


def change_hash(
    symbol: str,
    number: str,
    branch: str,
    name: str,
    name_kana: str,
    birth_date: date,
    delivery: str,
    postal_code: str | None,
    address: str | None,
) -> bytes:
    home = delivery == "home"
    text = (
        f"{symbol}\x1f{number}\x1f{branch}\x1f{name}\x1f{name_kana}\x1f{birth_date}"
        f"\x1f{delivery}\x1f{_s(postal_code) if home else ''}\x1f{_s(address) if home else ''}"
    )
    return hashlib.sha256(text.encode("utf-8")).digest()


def printed_copay_rate(
    birth: date, day: date, insured_birth: date, insured_pay: int | None, relationship: int
) -> int | DomainError:
    """負担割合 on the extraction date, or the rule that refused (a person past 75, say)."""
    try:
        return copay_rate(
            birth,
            day,
            insured_birth=insured_birth,
            insured_standard_monthly_pay=insured_pay or 0,
            is_insured=relationship == Relationship.INSURED,
        )
    except DomainError as exc:
        return exc


def number_order(number: str) -> tuple[int, str]:
    """番号 in print order: numerically (a string column sorts 10 before 9), leading zeros kept."""
    return (int(number), number) if number.isdigit() else (1 << 62, number)
