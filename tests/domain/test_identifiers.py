"""Check digits of 保険者番号, 医療機関コード and 個人番号 (DOMAIN.md §4)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shikaku.domain.errors import DomainError
from shikaku.domain.identifiers import (
    institution_code_check_digit,
    insurer_number_check_digit,
    kyokai_branch_insurer_number,
    mask_my_number,
    my_number_check_digit,
    my_number_last4,
    validate_institution_code,
    validate_insurer_number,
    validate_my_number,
)

VALID_MY_NUMBER = "123456789018"


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


def change_one_digit(value: str, data: st.DataObject) -> str:
    i = data.draw(st.integers(0, len(value) - 1))
    new = data.draw(st.sampled_from([c for c in "0123456789" if c != value[i]]))
    return value[:i] + new + value[i + 1 :]


# --------------------------------------------------------------------------- 保険者番号


@pytest.mark.parametrize("number", ["01040013", "01130012", "33120015"])
def test_domain_insurer_examples_validate(number: str) -> None:
    assert validate_insurer_number(number) == number
    assert insurer_number_check_digit(number[:7]) == int(number[7])


def test_insurer_check_digit_by_hand() -> None:
    # 0104001: weights from the right 2,1,2,1,2,1,2 -> 2+0+0+4+0+1+0 = 7 -> CD 3
    assert insurer_number_check_digit("0104001") == 3
    # 9 * 2 = 18 counts as 1 + 8 = 9: 0000009 -> S = 9 -> CD 1
    assert insurer_number_check_digit("0000009") == 1
    assert insurer_number_check_digit("0000000") == 0


KYOKAI_BRANCHES = {
    1: "01010016",
    4: "01040013",
    13: "01130012",
    27: "01270016",
    47: "01470012",
}


@pytest.mark.parametrize("pref", range(1, 48))
def test_all_47_kyokai_branches(pref: int) -> None:
    number = kyokai_branch_insurer_number(pref)
    assert number.startswith(f"01{pref:02d}001")
    assert len(number) == 8
    assert validate_insurer_number(number) == number
    if pref in KYOKAI_BRANCHES:
        assert number == KYOKAI_BRANCHES[pref]


def test_47_branch_numbers_are_distinct() -> None:
    assert len({kyokai_branch_insurer_number(p) for p in range(1, 48)}) == 47


@pytest.mark.parametrize("pref", [0, 48, -1, 100])
def test_kyokai_branch_rejects_unknown_prefecture(pref: int) -> None:
    with pytest.raises(DomainError) as e:
        kyokai_branch_insurer_number(pref)
    assert str(pref) in e.value.ja
    assert "01〜47" in e.value.ja


@pytest.mark.parametrize("number", ["131011", "131045"])
def test_kokuho_six_digit_numbers(number: str) -> None:
    assert validate_insurer_number(number) == number
    assert insurer_number_check_digit(number[:5]) == int(number[5])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" 01040013 ", "01040013"),
        ("０１０４００１３", "01040013"),
        ("\u300001130012\u3000", "01130012"),
        ("０１１３0012", "01130012"),
    ],
)
def test_insurer_number_normalises(raw: str, expected: str) -> None:
    assert validate_insurer_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "part"),
    [("0104001A", "8文字目「A」"), ("01-04-0013", "3文字目「-」"), ("０１Ｘ", "3文字目「X」")],
)
def test_insurer_number_rejects_non_digits(raw: str, part: str) -> None:
    with pytest.raises(DomainError) as e:
        validate_insurer_number(raw)
    assert part in e.value.ja
    assert "数字ではありません" in e.value.ja


@pytest.mark.parametrize("raw", ["", "   ", "\u3000"])
def test_insurer_number_rejects_empty(raw: str) -> None:
    with pytest.raises(DomainError) as e:
        validate_insurer_number(raw)
    assert "空" in e.value.ja


@pytest.mark.parametrize("raw", ["0104001", "010400131", "1", "01311"])
def test_insurer_number_rejects_wrong_length(raw: str) -> None:
    with pytest.raises(DomainError) as e:
        validate_insurer_number(raw)
    assert f"入力は{len(raw)}桁" in e.value.ja
    assert "8桁" in e.value.ja


def test_insurer_number_rejects_bad_check_digit() -> None:
    with pytest.raises(DomainError) as e:
        validate_insurer_number("01040014")
    assert "01040014" in e.value.ja
    assert "正しくは3" in e.value.ja
    assert "入力は4" in e.value.ja
    assert "expected 3" in e.value.en


def test_kokuho_bad_check_digit() -> None:
    with pytest.raises(DomainError) as e:
        validate_insurer_number("131012")
    assert "正しくは1" in e.value.ja


@pytest.mark.parametrize("body", ["010400", "01040011", "010400A", "０１０４００１", ""])
def test_insurer_check_digit_rejects_bad_body(body: str) -> None:
    with pytest.raises(DomainError):
        insurer_number_check_digit(body)


@given(digits(7))
def test_any_insurer_body_with_its_check_digit_validates(body: str) -> None:
    number = body + str(insurer_number_check_digit(body))
    assert validate_insurer_number(number) == number


@given(digits(5))
def test_any_kokuho_body_with_its_check_digit_validates(body: str) -> None:
    number = body + str(insurer_number_check_digit(body))
    assert validate_insurer_number(number) == number


@given(digits(7), st.data())
def test_single_digit_change_breaks_insurer_number(body: str, data: st.DataObject) -> None:
    number = body + str(insurer_number_check_digit(body))
    with pytest.raises(DomainError):
        validate_insurer_number(change_one_digit(number, data))


# --------------------------------------------------------------------------- 医療機関コード


def test_domain_institution_example_validates() -> None:
    assert validate_institution_code("0110113719") == "0110113719"
    assert institution_code_check_digit("011011371") == 9
    assert validate_institution_code("０１１０１１３７１９") == "0110113719"


def test_institution_and_insurer_share_the_2_1_rule() -> None:
    # Same digits right-aligned give the same check digit: one rule, two lengths.
    assert institution_code_check_digit("000104001") == insurer_number_check_digit("0104001")


@pytest.mark.parametrize("table", ["1", "3", "4"])
def test_institution_fee_schedules_accepted(table: str) -> None:
    body = f"13{table}123456"
    code = body + str(institution_code_check_digit(body))
    assert validate_institution_code(code) == code


@pytest.mark.parametrize("table", ["0", "2", "5", "6", "7", "8", "9"])
def test_institution_rejects_other_fee_schedules(table: str) -> None:
    body = f"13{table}123456"
    code = body + str(institution_code_check_digit(body))
    with pytest.raises(DomainError) as e:
        validate_institution_code(code)
    assert f"点数表番号（3桁目）「{table}」" in e.value.ja
    assert "1（医科）" in e.value.ja


@pytest.mark.parametrize("pref", ["00", "48", "99"])
def test_institution_rejects_unknown_prefecture(pref: str) -> None:
    body = f"{pref}1123456"
    code = body + str(institution_code_check_digit(body))
    with pytest.raises(DomainError) as e:
        validate_institution_code(code)
    assert f"都道府県番号「{pref}」" in e.value.ja


@pytest.mark.parametrize("raw", ["011011371", "01101137190", "01040013"])
def test_institution_rejects_wrong_length(raw: str) -> None:
    with pytest.raises(DomainError) as e:
        validate_institution_code(raw)
    assert "10桁" in e.value.ja
    assert f"入力は{len(raw)}桁" in e.value.ja


def test_institution_rejects_non_digit() -> None:
    with pytest.raises(DomainError) as e:
        validate_institution_code("01101-3719")
    assert "6文字目「-」" in e.value.ja


def test_institution_rejects_bad_check_digit() -> None:
    with pytest.raises(DomainError) as e:
        validate_institution_code("0110113710")
    assert "0110113710" in e.value.ja
    assert "正しくは9" in e.value.ja
    assert "入力は0" in e.value.ja


@pytest.mark.parametrize("body", ["01101137", "0110113719", "01101137X"])
def test_institution_check_digit_rejects_bad_body(body: str) -> None:
    with pytest.raises(DomainError):
        institution_code_check_digit(body)


institution_bodies = st.builds(
    lambda pref, table, rest: f"{pref:02d}{table}{rest}",
    st.integers(1, 47),
    st.sampled_from("134"),
    digits(6),
)


@given(institution_bodies)
def test_any_institution_body_with_its_check_digit_validates(body: str) -> None:
    code = body + str(institution_code_check_digit(body))
    assert validate_institution_code(code) == code


@given(institution_bodies, st.data())
def test_single_digit_change_breaks_institution_code(body: str, data: st.DataObject) -> None:
    code = body + str(institution_code_check_digit(body))
    with pytest.raises(DomainError):
        validate_institution_code(change_one_digit(code, data))


# --------------------------------------------------------------------------- 個人番号


def test_domain_my_number_example() -> None:
    assert my_number_check_digit("12345678901") == 8
    assert validate_my_number(VALID_MY_NUMBER) == VALID_MY_NUMBER


def test_my_number_check_digit_low_remainders_give_zero() -> None:
    # r = 0 -> CD 0
    assert my_number_check_digit("00000000000") == 0
    # r = 2: P1 = 5 with Q1 = 2 gives 10; P2 = 1 with Q2 = 3 adds 3: 13 mod 11 = 2 -> CD 9.
    assert my_number_check_digit("00000000015") == 9
    # r = 1: P1 = 6 -> 12 mod 11 = 1 -> CD 0
    assert my_number_check_digit("00000000006") == 0


@pytest.mark.parametrize(
    "raw",
    [
        "1234 5678 9018",
        "1234-5678-9018",
        " 123456789018 ",
        "１２３４５６７８９０１８",
        "１２３４\u3000５６７８\u3000９０１８",
        "1234－5678－9018",
        "1234ー5678ー9018",
    ],
)
def test_my_number_normalises(raw: str) -> None:
    assert validate_my_number(raw) == VALID_MY_NUMBER


def test_my_number_last4_and_mask() -> None:
    assert my_number_last4("1234 5678 9018") == "9018"
    assert mask_my_number("１２３４５６７８９０１８") == "********9018"


@pytest.mark.parametrize(
    ("raw", "ja_part"),
    [
        ("123456789019", "チェックディジットが一致しません"),
        ("12345678901", "12桁です（入力は11桁）"),
        ("1234567890180", "12桁です（入力は13桁）"),
        ("", "空"),
        ("12345678901A", "12文字目「A」は数字ではありません"),
        ("1234/5678/9018", "5文字目「/」"),
    ],
)
def test_my_number_rejections_name_the_part_but_not_the_digits(raw: str, ja_part: str) -> None:
    with pytest.raises(DomainError) as e:
        validate_my_number(raw)
    assert ja_part in e.value.ja
    for text in (e.value.ja, e.value.en, str(e.value)):
        assert "1234" not in text
        assert "9018" not in text
        assert "9019" not in text


@pytest.mark.parametrize("func", [my_number_last4, mask_my_number])
def test_last4_and_mask_reject_invalid(func: object) -> None:
    assert callable(func)
    with pytest.raises(DomainError):
        func("123456789019")


def test_my_number_non_ascii_digit_is_not_shown() -> None:
    with pytest.raises(DomainError) as e:
        validate_my_number("12345678901\u0668")  # ARABIC-INDIC DIGIT EIGHT
    assert "\u0668" not in e.value.ja
    assert "12文字目" in e.value.ja


@pytest.mark.parametrize(
    "body", ["1234567890", "123456789012", "1234567890A", "１２３４５６７８９０１"]
)
def test_my_number_check_digit_rejects_bad_body_without_echo(body: str) -> None:
    with pytest.raises(DomainError) as e:
        my_number_check_digit(body)
    assert body not in str(e.value)


def _valid_my_number(body: str) -> str:
    return body + str(my_number_check_digit(body))


@given(digits(11))
def test_any_my_number_body_with_its_check_digit_validates(body: str) -> None:
    number = _valid_my_number(body)
    assert validate_my_number(number) == number
    assert mask_my_number(number) == "********" + number[-4:]


def _remainder(body11: str) -> int:
    weights = [n + 1 if n <= 6 else n - 5 for n in range(1, 12)]
    return sum(int(p) * q for p, q in zip(reversed(body11), weights, strict=True)) % 11


@given(digits(11), st.data())
def test_single_digit_change_breaks_my_number(body: str, data: st.DataObject) -> None:
    """Caught unless r moves between 0 and 1, which the law maps to the same CD 0."""
    number = _valid_my_number(body)
    changed = change_one_digit(number, data)
    if changed[:11] != body and {_remainder(body), _remainder(changed[:11])} == {0, 1}:
        assert validate_my_number(changed) == changed
    else:
        with pytest.raises(DomainError):
            validate_my_number(changed)


def test_my_number_blind_spot_r0_r1_is_by_the_formula() -> None:
    # "00000000000" has r = 0; P1 = 6 (Q1 = 2) gives r = 1: both have CD 0.
    assert validate_my_number("000000000000") == "000000000000"
    assert validate_my_number("000000000060") == "000000000060"


@given(
    st.one_of(
        digits(12),
        st.builds(lambda b, d: b + d, digits(11).map(_valid_my_number), digits(1)),
        st.text(alphabet="0123456789 -ab", min_size=1, max_size=16),
    )
)
def test_my_number_errors_never_contain_the_digits(raw: str) -> None:
    try:
        validate_my_number(raw)
    except DomainError as e:
        # Only counts and positions ("12桁", "5文字目") may appear: no run of 3+ digits.
        for text in (e.ja, e.en, str(e)):
            assert re.search(r"[0-9０-９]{3}", text) is None, text
