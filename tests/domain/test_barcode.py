"""Japan Post customer barcode: 住所表示番号 extraction, check digit and bar patterns."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shikaku.domain.barcode import (
    ADDRESS_LENGTH,
    BAR_COUNT,
    BARS,
    GEOMETRY_10PT,
    START,
    STOP,
    SYMBOL_VALUES,
    Barcode,
    address_number,
    check_digit,
    encode,
)
from shikaku.domain.errors import DomainError

PAD = "CC4"


def padded(*symbols: str) -> tuple[str, ...]:
    return (*symbols, *[PAD] * (ADDRESS_LENGTH - len(symbols)))


# --------------------------------------------------------------------- worked example


def test_worked_example_from_japan_post() -> None:
    """〒100-0013 東京都千代田区霞が関1丁目3-2 郵便プラザ503室 (DOMAIN.md §7)."""
    b = encode("100-0013", "1丁目3-2 郵便プラザ503室")
    assert b.symbols == (*"1000013", *"1-3-2-503", PAD, PAD, PAD, PAD, "9")
    assert b.data == "10000131-3-2-503[CC4][CC4][CC4][CC4]9"
    assert len(b.bars) == BAR_COUNT == 67
    expected = (
        "LD"
        + "LLT LTT LTT LTT LTT LLT DLA"  # 1000013
        + "LLT TLT DLA TLT LDA TLT LTL LTT DLA"  # 1-3-2-503
        + "TDA TDA TDA TDA"  # CC4 × 4
        + "TLL"  # CD 9
        + "DL"
    ).replace(" ", "")
    assert b.bars == expected
    assert b.bars.startswith(START) and b.bars.endswith(STOP)


def test_barcode_is_frozen() -> None:
    b = encode("1000013", "1")
    assert isinstance(b, Barcode)
    with pytest.raises(AttributeError):
        b.bars = ""  # type: ignore[misc]


# --------------------------------------------------------------------- 住所表示番号


@pytest.mark.parametrize(
    ("address", "symbols"),
    [
        ("三丁目十二番地", ("3", "-", "1", "2")),
        ("十一番地二十三号", ("1", "1", "-", "2", "3")),
        ("百五番", ("1", "0", "5")),
        ("一〇三番地", ("1", "0", "3")),
        ("2番地の1", ("2", "-", "1")),
        ("１丁目３－２", ("1", "-", "3", "-", "2")),  # full-width digits and hyphen
        ("3−2ー1", ("3", "-", "2", "-", "1")),  # minus sign and 長音 as hyphens
    ],
)
def test_numbers_and_separators(address: str, symbols: tuple[str, ...]) -> None:
    assert address_number(address) == padded(*symbols)


@pytest.mark.parametrize(
    ("address", "symbols"),
    [
        ("A棟", ("CC1", "0")),
        ("J", ("CC1", "9")),
        ("K", ("CC2", "0")),
        ("T", ("CC2", "9")),
        ("U", ("CC3", "0")),
        ("Z", ("CC3", "5")),
        ("Ｂ棟", ("CC1", "1")),  # full-width letter
        ("b", ("CC1", "1")),  # lower case
        ("3-A-101", ("3", "CC1", "0", "-", "1", "0", "1")),  # no hyphen before a letter
    ],
)
def test_letters_take_two_positions(address: str, symbols: tuple[str, ...]) -> None:
    assert address_number(address) == padded(*symbols)


def test_hyphens_collapse_and_no_leading_hyphen() -> None:
    assert address_number("--1--2丁目-3番地-の4号") == padded(*"1-2-3-4")
    assert address_number("の1") == padded("1")


def test_building_names_dropped_but_room_numbers_kept() -> None:
    assert address_number("5番地 さくらハイツ 201号室") == padded(*"5-201")


def test_padding_with_cc4() -> None:
    assert address_number("") == (PAD,) * ADDRESS_LENGTH
    assert address_number("1") == ("1", *[PAD] * 12)


def test_truncation_at_13() -> None:
    assert address_number("1-2-3-4-5-6-7-8-9") == tuple("1-2-3-4-5-6-7")
    # a letter that does not fit is cut in half, as Japan Post does
    assert address_number("123456789012Z") == (*"123456789012", "CC3")


@given(st.text(max_size=60))
def test_always_13_valid_symbols(address: str) -> None:
    symbols = address_number(address)
    assert len(symbols) == ADDRESS_LENGTH
    assert all(s in SYMBOL_VALUES and s not in ("CC5", "CC6", "CC7", "CC8") for s in symbols)
    assert symbols[0] != "-"


# --------------------------------------------------------------------- check digit

_DATA_SYMBOLS = st.sampled_from(sorted(SYMBOL_VALUES))


@given(st.lists(_DATA_SYMBOLS, min_size=20, max_size=20))
def test_check_digit_makes_sum_a_multiple_of_19(data: list[str]) -> None:
    cd = check_digit(data)
    assert cd in SYMBOL_VALUES
    assert sum(SYMBOL_VALUES[s] for s in [*data, cd]) % 19 == 0


@given(
    st.text("0123456789", min_size=7, max_size=7),
    st.text(max_size=40),
)
def test_encoded_barcode_sums_to_zero_mod_19(postal: str, address: str) -> None:
    b = encode(postal, address)
    assert len(b.symbols) == 21
    assert sum(SYMBOL_VALUES[s] for s in b.symbols) % 19 == 0
    assert len(b.bars) == BAR_COUNT
    assert set(b.bars) <= set("LADT")


def test_check_digit_rejects_unknown_symbol() -> None:
    with pytest.raises(DomainError):
        check_digit(["1", "X"])


# --------------------------------------------------------------------- bars


def test_bar_table_is_complete_and_unambiguous() -> None:
    assert set(BARS) == set(SYMBOL_VALUES)
    assert len(SYMBOL_VALUES) == 19
    assert sorted(SYMBOL_VALUES.values()) == list(range(19))
    assert all(len(p) == 3 and set(p) <= set("LADT") for p in BARS.values())
    assert len(set(BARS.values())) == 19


def test_geometry_at_10pt() -> None:
    g = GEOMETRY_10PT
    assert (g.long_mm, g.half_mm, g.timing_mm, g.pitch_mm, g.width_mm) == (3.6, 2.4, 1.2, 1.2, 0.6)
    with pytest.raises(AttributeError):
        g.long_mm = 4.0  # type: ignore[misc]


# --------------------------------------------------------------------- postal code


@pytest.mark.parametrize("postal", ["1000013", "100-0013", "〒100-0013", "１００－００１３"])
def test_postal_code_forms(postal: str) -> None:
    assert encode(postal, "").symbols[:7] == tuple("1000013")


@pytest.mark.parametrize("postal", ["", "100-001", "10000130", "abc-defg", "100-00l3"])
def test_bad_postal_code_rejected(postal: str) -> None:
    with pytest.raises(DomainError):
        encode(postal, "1")


def test_address_after_town_starts_at_the_first_house_number() -> None:
    from shikaku.domain.barcode import address_after_town, barcode_for

    assert (
        address_after_town("東京都千代田区霞が関1丁目3-2 郵便プラザ503室")
        == "1丁目3-2 郵便プラザ503室"
    )
    assert address_after_town("東京都世田谷区三軒茶屋二丁目11番22号") == "二丁目11番22号"
    assert address_after_town("広島県福山市城興ケ丘１-２４") == "１-２４"
    assert address_after_town("北海道某村字無番地") == ""
    code = barcode_for("100-0013", "東京都千代田区霞が関1丁目3-2 郵便プラザ503室")
    assert code is not None and code.data.endswith("9")  # DOMAIN.md §7's example, CD 9
    assert barcode_for(None, "x") is None
