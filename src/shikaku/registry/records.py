"""Typed records parsed from import rows: employers and members.

Parsing is pure apart from the blind index (an HMAC with the index key), so batches can be
parsed in worker processes while the main process writes the previous batch.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

from shikaku.domain.errors import DomainError
from shikaku.domain.identifiers import validate_insurer_number, validate_my_number
from shikaku.domain.members import (
    Delivery,
    Relationship,
    check_branch,
    check_period,
    my_number_status,
    parse_delivery,
    parse_loss_reason,
    parse_relationship,
)
from shikaku.domain.normalize import (
    normalize_code,
    normalize_kana,
    normalize_name,
    normalize_postal_code,
    normalize_symbol,
    parse_date,
    parse_flag,
    parse_sex,
)
from shikaku.registry.rows import HeaderMap, RowError, RowParser

_SEP = "\x1f"


def _digest(*parts: object) -> bytes:
    text = _SEP.join("" if p is None else str(p) for p in parts)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


MAX_NUMBER_DIGITS = 10
MAX_SYMBOL_LENGTH = 10


def _number(raw: str) -> str:
    """番号 is a short sequence within the employer; 12 digits would be a My Number typed in the
    wrong column, which must be rejected (and masked in the report), never stored."""
    value = normalize_code(raw, "番号", "number", digits=None)
    if len(value) > MAX_NUMBER_DIGITS:
        raise DomainError(
            f"番号は{MAX_NUMBER_DIGITS}桁以内です（個人番号を入力していませんか）",
            f"number has more than {MAX_NUMBER_DIGITS} digits",
        )
    return value


def _symbol(raw: str) -> str:
    value = normalize_symbol(raw)
    if len(value) > MAX_SYMBOL_LENGTH:
        raise DomainError(
            f"記号は{MAX_SYMBOL_LENGTH}文字以内です", f"symbol longer than {MAX_SYMBOL_LENGTH}"
        )
    return value


def _branch(raw: str) -> str:
    value = normalize_code(raw, "枝番", "branch", digits=None)
    if len(value) == 1:
        value = "0" + value
    if len(value) != 2:
        raise DomainError("枝番は2桁です", "branch must be 2 digits")
    return value


def _text(raw: str) -> str:
    return " ".join(raw.split())


def _yen(raw: str) -> int:
    value = normalize_code(
        raw.replace(",", "").replace("円", ""), "標準報酬月額", "pay", digits=None
    )
    amount = int(value)
    if not 1 <= amount <= 10_000_000:
        raise DomainError("標準報酬月額が範囲外です", "standard monthly pay out of range")
    return amount


@dataclass(frozen=True, slots=True)
class ParseContext:
    insurer_number: str
    insured_branch: str
    index_key: bytes


@dataclass(frozen=True, slots=True)
class EmployerRecord:
    line: int
    insurer_number: str
    symbol: str
    name: str
    name_kana: str
    postal_code: str
    address: str
    phone: str | None
    delivery: Delivery
    row_hash: bytes


@dataclass(slots=True)
class MemberRecord:
    line: int
    insurer_number: str
    symbol: str
    number: str
    branch: str
    relationship: Relationship
    name: str
    name_kana: str
    birth_date: date
    sex: int
    eligible_from: date
    lost_on: date | None
    loss_reason: str | None
    my_number: str | None  # plain text only in memory, encrypted before it is stored
    my_number_bidx: bytes | None
    my_number_status: str
    postal_code: str | None
    address: str | None
    mynacard_registered_on: date | None
    mynacard_cancelled_on: date | None
    ecert_expires_on: date | None
    standard_monthly_pay: int | None
    pay_effective_from: date | None
    tax_exempt: bool | None
    old_card_expires_on: date | None
    person_hash: bytes
    row_hash: bytes

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.insurer_number, self.symbol, self.number, self.branch)

    @property
    def has_pay(self) -> bool:
        return self.standard_monthly_pay is not None or self.tax_exempt is not None


def _insurer(p: RowParser, ctx: ParseContext) -> str:
    value = p.get("insurer_number", validate_insurer_number)
    return value or ctx.insurer_number


def parse_employer(
    header: HeaderMap, line: int, cells: list[str], ctx: ParseContext
) -> EmployerRecord | list[RowError]:
    p = RowParser(header, line, cells)
    insurer = _insurer(p, ctx)
    symbol = p.get("symbol", _symbol, True)
    name = p.get("name", normalize_name, True)
    kana = p.get("name_kana", normalize_kana, True)
    postal = p.get("postal_code", normalize_postal_code, True)
    address = p.get("address", _text, True)
    phone = p.get("phone", _text)
    delivery = p.get("delivery", parse_delivery) or Delivery.EMPLOYER
    if p.errors:
        return p.errors
    digest = _digest(insurer, symbol, name, kana, postal, address, phone, delivery)
    return EmployerRecord(
        line, insurer, symbol, name, kana, postal, address, phone, delivery, digest
    )


def parse_member(
    header: HeaderMap, line: int, cells: list[str], ctx: ParseContext
) -> MemberRecord | list[RowError]:
    p = RowParser(header, line, cells)
    insurer = _insurer(p, ctx)
    symbol = p.get("symbol", _symbol, True)
    number = p.get("number", _number, True)
    branch = p.get("branch", _branch, True)
    relationship = p.get("relationship", parse_relationship, True)
    name = p.get("name", normalize_name, True)
    kana = p.get("name_kana", normalize_kana, True)
    birth = p.get("birth_date", parse_date, True)
    sex = p.get("sex", parse_sex, True)
    eligible_from = p.get("eligible_from", parse_date, True)
    lost_on = p.get("lost_on", parse_date)
    loss_reason = p.get("loss_reason", parse_loss_reason)
    my_number = p.get("my_number", validate_my_number)
    postal = p.get("postal_code", normalize_postal_code)
    address = p.get("address", _text)
    registered_on = p.get("mynacard_registered_on", parse_date)
    cancelled_on = p.get("mynacard_cancelled_on", parse_date)
    ecert = p.get("ecert_expires_on", parse_date)
    pay = p.get("standard_monthly_pay", _yen)
    pay_from = p.get("pay_effective_from", parse_date)
    exempt_raw = p.raw("tax_exempt")
    exempt = p.get("tax_exempt", parse_flag) if exempt_raw.strip() else None
    old_card = p.get("old_card_expires_on", parse_date)

    status_raw = p.raw("my_number_status")
    has_number_cell = bool(p.raw("my_number").strip())
    try:
        status = my_number_status(has_number_cell, status_raw)
    except DomainError as exc:
        p.fail("my_number_status", status_raw, exc)
        status = None

    if relationship is not None and branch is not None:
        try:
            check_branch(relationship, branch, ctx.insured_branch)
        except DomainError as exc:
            p.fail("branch", p.raw("branch"), exc)
    if eligible_from is not None and lost_on is not None:
        try:
            check_period(eligible_from, lost_on)
        except DomainError as exc:
            p.fail("lost_on", p.raw("lost_on"), exc)
    if birth is not None and eligible_from is not None and eligible_from < birth:
        p.fail(
            "eligible_from",
            p.raw("eligible_from"),
            DomainError("資格取得年月日が生年月日より前です", "eligible_from before birth_date"),
        )
    if loss_reason is not None and lost_on is None and not p.raw("lost_on").strip():
        p.fail(
            "loss_reason",
            p.raw("loss_reason"),
            DomainError(
                "資格喪失年月日がないのに喪失事由があります", "loss reason without lost_on"
            ),
        )
    if relationship is Relationship.DEPENDENT and pay is not None:
        p.fail(
            "standard_monthly_pay",
            p.raw("standard_monthly_pay"),
            DomainError(
                "被扶養者に標準報酬月額は設定できません", "dependents have no standard pay"
            ),
        )
    if registered_on is None and (cancelled_on is not None or ecert is not None):
        key = "mynacard_cancelled_on" if cancelled_on is not None else "ecert_expires_on"
        p.fail(
            key,
            p.raw(key),
            DomainError(
                "マイナ保険証登録日がありません（解除日・電子証明書有効期限には登録日が必要です）",
                "needs mynacard_registered_on",
            ),
        )
    if registered_on is not None and cancelled_on is not None and cancelled_on < registered_on:
        p.fail(
            "mynacard_cancelled_on",
            p.raw("mynacard_cancelled_on"),
            DomainError("マイナ保険証解除日が登録日より前です", "cancelled before registered"),
        )
    if p.errors:
        return p.errors

    bidx = None
    if my_number is not None:
        bidx = hmac.digest(ctx.index_key, my_number.encode("ascii"), "sha256")[:16]
    if pay is not None or exempt is not None:
        pay_from = pay_from or eligible_from
    person_hash = _digest(
        symbol,
        relationship,
        name,
        kana,
        birth,
        sex,
        postal,
        address,
        bidx.hex() if bidx else None,
        status,
        old_card,
    )
    row_hash = _digest(
        person_hash.hex(),
        eligible_from,
        lost_on,
        loss_reason,
        registered_on,
        cancelled_on,
        ecert,
        pay,
        pay_from,
        exempt,
    )
    return MemberRecord(
        line,
        insurer,
        symbol,
        number,
        branch,
        relationship,
        name,
        kana,
        birth,
        sex,
        eligible_from,
        lost_on,
        loss_reason,
        my_number,
        bidx,
        str(status),
        postal,
        address,
        registered_on,
        cancelled_on,
        ecert,
        pay,
        pay_from,
        exempt,
        old_card,
        person_hash,
        row_hash,
    )
