"""Check digits and validation of 保険者番号, 医療機関コード and 個人番号 (DOMAIN.md §4).

A mistyped number on a notice sends a clinic's online eligibility check to the wrong
person or to nobody, so every number is checked before it is stored or printed.
My Numbers are 特定個人情報: no message raised here ever contains their digits.
"""

from __future__ import annotations

from operator import mul
from typing import Final

from shikaku.domain.errors import DomainError
from shikaku.domain.normalize import to_halfwidth_ascii

__all__ = [
    "control_code",
    "institution_code_check_digit",
    "insurer_number_check_digit",
    "kyokai_branch_insurer_number",
    "mask_my_number",
    "my_number_check_digit",
    "my_number_last4",
    "run_label",
    "validate_institution_code",
    "validate_insurer_number",
    "validate_my_number",
]

PREFECTURE_CODES: Final = range(1, 48)
"""JIS X 0401 prefecture codes, 01 北海道 … 47 沖縄."""

_SCORE_TABLES: Final = {"1": "医科", "3": "歯科", "4": "調剤"}


def _is_ascii_digits(s: str) -> bool:
    return s.isascii() and s.isdigit()


def _two_one_check_digit(body: str) -> int:
    """The public "2-1" weighted modulus-10 rule shared by insurer and institution codes.

    Weights 2,1,2,1,… from the rightmost digit; a two-digit product counts as its digit sum
    (p − 9 for 10..18). Catches every single-digit error.
    """
    total = 0
    weight2 = True
    for ch in reversed(body):
        p = ord(ch) - 48
        if weight2:
            p *= 2
            if p > 9:
                p -= 9
        total += p
        weight2 = not weight2
    return (10 - total % 10) % 10


def _require_body(body: str, lengths: tuple[int, ...], what_ja: str, what_en: str) -> None:
    if not (_is_ascii_digits(body) and len(body) in lengths):
        want = "または".join(f"{n}桁" for n in lengths)
        raise DomainError(
            f"{what_ja}の検証番号の計算には{want}の半角数字が必要です",
            f"{what_en} check digit needs {' or '.join(map(str, lengths))} ASCII digits",
        )


def insurer_number_check_digit(body: str) -> int:
    """Check digit of a 保険者番号 over its 7 digits (or 5 digits for a 6-digit 国保 number)."""
    _require_body(body, (7, 5), "保険者番号", "insurer number")
    return _two_one_check_digit(body)


def institution_code_check_digit(body: str) -> int:
    """Check digit of a 医療機関コード over its first 9 digits."""
    _require_body(body, (9,), "医療機関コード", "institution code")
    return _two_one_check_digit(body)


def _digits_only(value: str, what_ja: str, what_en: str) -> str:
    """Strip and widen; name the first non-digit (these numbers are public, so it may be shown)."""
    if _is_ascii_digits(value):
        return value
    t = to_halfwidth_ascii(value).strip()
    if not t:
        raise DomainError(f"{what_ja}が空です", f"{what_en} is empty")
    for i, c in enumerate(t, 1):
        if not ("0" <= c <= "9"):
            raise DomainError(
                f"{what_ja}の{i}文字目「{c}」は数字ではありません",
                f"{what_en}: character {i} {c!r} is not a digit",
            )
    return t


def _check(t: str, what_ja: str, what_en: str) -> None:
    expected = _two_one_check_digit(t[:-1])
    if expected != ord(t[-1]) - 48:
        raise DomainError(
            f"{what_ja}{t}の検証番号（末尾）が一致しません（正しくは{expected}、入力は{t[-1]}）",
            f"{what_en} {t}: check digit is {t[-1]}, expected {expected}",
        )


def validate_insurer_number(value: str) -> str:
    """Canonical 保険者番号: 8 digits (法別 2 + 都道府県 2 + 保険者 3 + CD) or 6 (国保).

    A 6-digit 市町村国保 number is 都道府県 2 + 保険者 3 + CD, with the same 2-1 rule over
    its first 5 digits (e.g. 131011 千代田区, 131045 新宿区). 法別 and prefecture are not
    checked: public-expense and national insurers use codes we cannot enumerate here.
    """
    t = _digits_only(value, "保険者番号", "insurer number")
    if len(t) not in (8, 6):
        raise DomainError(
            f"保険者番号は8桁（国民健康保険は6桁）です（入力は{len(t)}桁）",
            f"insurer number must have 8 digits (6 for National Health Insurance), got {len(t)}",
        )
    _check(t, "保険者番号", "insurer number")
    return t


def kyokai_branch_insurer_number(prefecture_code: int) -> str:
    """保険者番号 of the 協会けんぽ branch in a prefecture: 01 + JIS code + 001 + CD."""
    if prefecture_code not in PREFECTURE_CODES:
        raise DomainError(
            f"都道府県コード{prefecture_code}は01〜47ではありません",
            f"prefecture code {prefecture_code} is not 1-47",
        )
    body = f"01{prefecture_code:02d}001"
    return body + str(_two_one_check_digit(body))


def validate_institution_code(value: str) -> str:
    """Canonical 医療機関コード: 都道府県 2 + 点数表 1 + 郡市区 2 + 番号 4 + CD.

    The 点数表 digit says which fee schedule the facility bills under; only 医科 (1),
    歯科 (3) and 調剤 (4) issue claims that involve eligibility checks here.
    """
    t = _digits_only(value, "医療機関コード", "institution code")
    if len(t) != 10:
        raise DomainError(
            f"医療機関コードは10桁です（入力は{len(t)}桁）",
            f"institution code must have 10 digits, got {len(t)}",
        )
    if int(t[:2]) not in PREFECTURE_CODES:
        raise DomainError(
            f"医療機関コード{t}の都道府県番号「{t[:2]}」は01〜47ではありません",
            f"institution code {t}: prefecture {t[:2]} is not 01-47",
        )
    if t[2] not in _SCORE_TABLES:
        raise DomainError(
            f"医療機関コード{t}の点数表番号（3桁目）「{t[2]}」は1（医科）・3（歯科）・4（調剤）"
            "のいずれでもありません",
            f"institution code {t}: fee-schedule digit (3rd) {t[2]} is not 1, 3 or 4",
        )
    _check(t, "医療機関コード", "institution code")
    return t


# --------------------------------------------------------------------------- My Number

# Q_n for n = 1..11 counted from the right: n+1 for n ≤ 6, n−5 for n ≥ 7.
_MY_NUMBER_WEIGHTS: Final = tuple(n + 1 if n <= 6 else n - 5 for n in range(1, 12))
# The same weights left to right, to multiply the digits' ASCII codes with in C (one per
# imported row); each code carries 48 too much, so their weighted excess is taken off once.
_MY_NUMBER_WEIGHTS_LTR: Final = _MY_NUMBER_WEIGHTS[::-1]
_MY_NUMBER_ASCII_EXCESS: Final = ord("0") * sum(_MY_NUMBER_WEIGHTS)
_MY_NUMBER_DROP: Final = str.maketrans("", "", " -\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc")


def my_number_check_digit(body11: str) -> int:
    """Check digit of a 個人番号 over its first 11 digits (the public formula, DOMAIN.md §4)."""
    if not (_is_ascii_digits(body11) and len(body11) == 11):
        raise DomainError(
            "個人番号のチェックディジットの計算には11桁の半角数字が必要です",
            "My Number check digit needs 11 ASCII digits",
        )
    return _my_number_check_digit(body11)


def _my_number_check_digit(body11: str) -> int:
    """r = Σ P_n·Q_n mod 11, for a body already known to be 11 ASCII digits."""
    codes = body11.encode("ascii")
    r = (sum(map(mul, codes, _MY_NUMBER_WEIGHTS_LTR)) - _MY_NUMBER_ASCII_EXCESS) % 11
    return 0 if r <= 1 else 11 - r


def validate_my_number(value: str) -> str:
    """Canonical 12-digit 個人番号; spaces and hyphens people type between groups are dropped.

    Messages say what is wrong and where, never which digits were given.
    """
    if _is_ascii_digits(value) and len(value) == 12:
        t = value
    else:
        t = to_halfwidth_ascii(value).strip().translate(_MY_NUMBER_DROP)
        if not t:
            raise DomainError("個人番号が空です", "My Number is empty")
        for i, c in enumerate(t, 1):
            if not ("0" <= c <= "9"):
                shown = "" if c.isdigit() else f"「{c}」"
                raise DomainError(
                    f"個人番号の{i}文字目{shown}は数字ではありません",
                    f"My Number: character {i} is not an ASCII digit",
                )
        if len(t) != 12:
            raise DomainError(
                f"個人番号は12桁です（入力は{len(t)}桁）",
                f"My Number must have 12 digits, got {len(t)}",
            )
    if _my_number_check_digit(t[:11]) != ord(t[11]) - 48:
        raise DomainError(
            "個人番号のチェックディジットが一致しません",
            "My Number check digit does not match",
        )
    return t


def my_number_last4(value: str) -> str:
    """The only part of a My Number that may be printed on a 資格情報のお知らせ."""
    return validate_my_number(value)[-4:]


def mask_my_number(value: str) -> str:
    """Display form for screens: eight asterisks and the last 4 digits."""
    return "********" + my_number_last4(value)


# --------------------------------------------------------------------------- runs


def run_label(run_id: int) -> str:
    """How people and printed pages name an issuance run: R000001."""
    return f"R{run_id:06d}"


def partition_code(run: str, partition: int) -> str:
    """A parcel's or batch's 管理番号 (R000001-P0000001): printed on its label, cover letter
    and list, shown by the employer portal, and the start of its pieces' control numbers.
    `run` is the run's label."""
    return f"{run}-P{partition:07d}"


def control_code(run_id: int, partition: int, piece: int) -> str:
    """A printed piece's control number: run, partition (parcel or batch) and piece."""
    return f"{partition_code(run_label(run_id), partition)}-{piece:04d}"
