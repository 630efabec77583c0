"""Japan Post customer barcode: 住所表示番号 extraction, check digit and bar patterns.

The worked examples are Japan Post's own, from 郵便番号・バーコードマニュアル
(https://www.post.japanpost.jp/zipcode/zipmanual/), each test naming its page. Here the pure
part: the text after the town (住所B) as the manual splits it; the same examples through the
postal-code lookup are in tests/registry/test_postal.py.
"""

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
    Place,
    address_data,
    address_number,
    check_digit,
    derive_barcode,
    encode,
    encode_data,
    split_after_town,
)
from shikaku.domain.errors import DomainError
from tests.zipmanual import P25

PAD = "CC4"
MANUAL = "https://www.post.japanpost.jp/zipcode/zipmanual/"


def padded(*symbols: str) -> tuple[str, ...]:
    return (*symbols, *[PAD] * (ADDRESS_LENGTH - len(symbols)))


def spaced(text: str) -> tuple[str, ...]:
    """The manual's notation, symbols separated by spaces: "3 - 2 0 CC1 1" ."""
    return tuple(text.split())


# ------------------------------------------------------ the manual's worked examples


def test_worked_example_p17_p21() -> None:
    """p17 (処理概要) and p21 (チェックデジットの生成例): 〒100-0013 東京都千代田区霞が関
    1丁目3番2号 郵便プラザ503室 → 1000013 1-3-2-503 CC4×4, check digit 9; the bars as drawn
    from the p12 table."""
    b = encode("100-0013", "1丁目3番2号　郵便プラザ503室")
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


def test_basic_and_supplementary_rules_p19() -> None:
    """p19: 千葉県鎌ヶ谷市右京塚 | 東3丁目-20-5 郵便・A&bコーポB604号. The basic rules give
    3-20-5-B604 (b → B, & and ・ removed, "AB" a run of letters, so dropped); the 補足ルール
    (no hyphen beside a letter) make it 3-20-5B604."""
    assert address_data("東3丁目-20-5　郵便・A&bコーポB604号") == "3-20-5B604"


@pytest.mark.parametrize(
    ("postal", "after_town", "data", "first_20"),
    [
        # 317-0055 茨城県日立市宮田町 | 6丁目7-14 ABCビル2F: "2F" keeps its 2
        ("317-0055", "6丁目7-14　ABCビル2F", "6-7-14-2", "31700556-7-14-2" + PAD * 5),
        # 20 symbols reached on a digit or a hyphen: the rest is cut
        (
            "064-0804",
            "29丁目1524-23　第2郵便ハウス501",
            "29-1524-23-2-501",
            "064080429-1524-23-2-",
        ),
        # the 20th symbol is a letter's control code: it stays, its digit goes
        ("910-0067", "3丁目80-25　J1ビル2-B", "3-80-25J1-2B", "91000673-80-25CC191-2CC1"),
    ],
)
def test_concatenation_and_cut_p20(postal: str, after_town: str, data: str, first_20: str) -> None:
    """p20: the postal code and the バーコードデータ joined, cut after 20 symbols."""
    assert address_data(after_town) == data
    assert "".join(encode(postal, after_town).symbols[:20]) == first_20


def test_office_and_po_box_numbers_p22() -> None:
    """p22: a 大口事業所's own code (日本郵便株式会社 100-8792) is encoded alone, its 13
    address positions CC4; a 私書箱 without its own code: the 包括番号 980-8691 and the box
    number 215, then CC4."""
    assert encode_data("100-8792", "").symbols[:20] == (*"1008792", *[PAD] * 13)
    assert encode("980-8691", "215").symbols[:20] == (*"9808691", *"215", *[PAD] * 10)


@pytest.mark.parametrize(("postal", "town", "after_town", "symbols"), P25, ids=[x[0] for x in P25])
def test_printed_examples_p25(postal: str, town: str, after_town: str, symbols: str) -> None:
    """p25 (バーコード印字例), each from the text after its town: 丁 alone, 地割 and 線
    like 丁目, 第 before a number dropped, a building name one separator, A棟 and B604 kept
    while ABCビル goes, 2F / 10F / 1F keep the number and not the F, no hyphen beside a
    letter, kanji numerals before 丁目・番地・号 read as numbers, CC4 padding, the 13th
    position."""
    b = encode(postal, after_town)
    assert b.symbols == spaced(symbols)
    assert b.bars == START + "".join(BARS[s] for s in b.symbols) + STOP


# --------------------------------------------------------------------- 住所表示番号


@pytest.mark.parametrize(
    ("address", "symbols"),
    [
        ("三丁目十二番地", ("3", "-", "1", "2")),
        ("十一番地二十三号", ("1", "1", "-", "2", "3")),
        ("百五番", ("1", "0", "5")),
        ("一〇三番地", ("1", "0", "3")),
        ("2番地の1", ("2", "-", "1")),
        ("二の五", ("2",)),  # 二 before の is a number; 五 before nothing, a kanji
        ("１丁目３－２", ("1", "-", "3", "-", "2")),  # full-width digits and hyphen
        ("3−2ー1", ("3", "-", "2", "-", "1")),  # a minus sign; the 長音 is like a kana
    ],
)
def test_numbers_and_separators(address: str, symbols: tuple[str, ...]) -> None:
    assert address_number(address) == padded(*symbols)


def test_kanji_numerals_elsewhere_are_just_kanji() -> None:
    """補足ルール 1: only before the nine words; 第二ビル's 二 is part of a name."""
    assert address_data("5番地　第二ビル301") == "5-301"
    assert address_data("三和荘12") == "12"


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
        ("3-A-101", ("3", "CC1", "0", "1", "0", "1")),  # no hyphen beside a letter
    ],
)
def test_letters_take_two_positions(address: str, symbols: tuple[str, ...]) -> None:
    assert address_number(address) == padded(*symbols)


def test_letter_runs_and_floors() -> None:
    assert address_data("12-3 ABCビル") == "12-3"  # a run of letters is dropped
    assert address_data("12-3 A.B.C.ビル") == "12-3"  # even spelt with periods (removed first)
    assert address_data("12-3 Fビル") == "12-3F"  # F after no number is a letter
    assert address_data("12-3 5F") == "12-3-5"  # a floor: the F is not kept
    assert address_data("12-3 5F 501") == "12-3-5-501"  # ... and separates what follows


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
    # a letter whose control code is the 13th symbol keeps it (p12, p20)
    assert address_number("123456789012Z") == (*"123456789012", "CC3")


@pytest.mark.parametrize("text", ["①番地", "2-Ⅲ", "3番Ⓐ棟", "壱番地", "拾弐番地3"])
def test_unreadable_numbers_are_refused(text: str) -> None:
    """A digit or letter the rules would drop (circled, Roman, 大字 numerals before 番地):
    the barcode would be wrong, so there is none."""
    with pytest.raises(DomainError):
        address_data(text)


@given(st.text(max_size=60))
def test_always_13_valid_symbols(address: str) -> None:
    try:
        symbols = address_number(address)
    except DomainError:
        return
    assert len(symbols) == ADDRESS_LENGTH
    assert all(s in SYMBOL_VALUES and s not in ("CC5", "CC6", "CC7", "CC8") for s in symbols)
    assert symbols[0] != "-"


# --------------------------------------------------------------------- 住所A and 住所B

HIGASHI = Place("北海道", "札幌市東区", "北六条東")


def test_split_after_the_dataset_town_p18() -> None:
    """p18: 住所A is the town the dataset gives for the code, so 北六条東's 六 is not a
    house number; the prefecture may be left out, as the manual's own examples do."""
    assert split_after_town("北海道札幌市東区北六条東4丁目　郵便センター6号館", HIGASHI) == {
        "4丁目　郵便センター6号館"
    }
    assert split_after_town("札幌市東区 北六条東8丁目", HIGASHI) == {"8丁目"}
    assert split_after_town("札幌市東区北6条東8丁目", HIGASHI) == {"8丁目"}  # digits spelt
    assert split_after_town("札幌市中央区北六条東8丁目", HIGASHI) == set()  # another city
    assert split_after_town("東京都札幌市東区北六条東8丁目", HIGASHI) == set()


def test_split_spellings() -> None:
    kamagaya = Place("千葉県", "鎌ケ谷市", "右京塚")
    assert split_after_town("千葉県鎌ヶ谷市右京塚東3丁目-20-5", kamagaya) == {"東3丁目-20-5"}
    tsugaruishi = Place("岩手県", "宮古市", "津軽石")
    assert split_after_town("宮古市大字津軽石第二十一地割", tsugaruishi) == {"第二十一地割"}
    hatoyama = Place("埼玉県", "比企郡鳩山町", "今宿")
    assert split_after_town("埼玉県鳩山町今宿12", hatoyama) == {"12"}
    akizuki = Place("北海道", "上川郡上川町", "秋月１条")
    assert split_after_town("北海道上川郡上川町秋月一条3-4", akizuki) == {"3-4"}


def test_derive_barcode_encodes_what_follows_the_town() -> None:
    town = Place("東京都", "千代田区", "霞が関")
    b = derive_barcode("1000013", "東京都千代田区霞が関1丁目3番2号　郵便プラザ503室", [town])
    assert b == encode("100-0013", "1丁目3番2号　郵便プラザ503室")


@pytest.mark.parametrize(
    ("address", "places"),
    [
        ("東京都千代田区霞が関1-3-2", []),  # a code the dataset lacks
        ("東京都千代田区霞が関1-3-2", [Place("東京都", "千代田区", "")]),  # its 代表 entry
        ("東京都港区霞が関1-3-2", [Place("東京都", "千代田区", "霞が関")]),  # another city
        ("東京都千代田区霞が関ビル", [Place("東京都", "千代田区", "霞が関")]),  # no number
        ("東京都千代田区霞が関A棟", [Place("東京都", "千代田区", "霞が関")]),  # a letter only
        ("東京都千代田区霞が関①", [Place("東京都", "千代田区", "霞が関")]),  # unreadable
        # two towns of one code that read the address differently: ambiguous
        (
            "東京都千代田区八幡三番町5-6",
            [Place("東京都", "千代田区", "八幡"), Place("東京都", "千代田区", "八幡三番町")],
        ),
    ],
)
def test_no_barcode_without_confidence(address: str, places: list[Place]) -> None:
    assert derive_barcode("1000013", address, places) is None


def test_towns_of_one_code_that_agree() -> None:
    """茂尻 and 茂尻栄町 share 079-1266: either split reads 3-1."""
    places = [Place("北海道", "赤平市", "茂尻"), Place("北海道", "赤平市", "茂尻栄町")]
    b = derive_barcode("0791266", "北海道赤平市茂尻栄町3-1", places)
    assert b is not None and b.symbols[7:10] == ("3", "-", "1")


def test_office_code_needs_its_address() -> None:
    office = Place("東京都", "千代田区", "大手町", office=True)
    b = derive_barcode("1008792", "東京都千代田区大手町2-3-1", [office])
    assert b is not None and b.symbols[7:20] == (PAD,) * 13
    assert derive_barcode("1008792", "東京都港区芝5-3-1", [office]) is None


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
    try:
        b = encode(postal, address)
    except DomainError:
        return
    assert len(b.symbols) == 21
    assert sum(SYMBOL_VALUES[s] for s in b.symbols) % 19 == 0
    assert len(b.bars) == BAR_COUNT
    assert set(b.bars) <= set("LADT")


def test_check_digit_rejects_unknown_symbol() -> None:
    with pytest.raises(DomainError):
        check_digit(["1", "X"])


# --------------------------------------------------------------------- bars


def test_barcode_is_frozen() -> None:
    b = encode("1000013", "1")
    assert isinstance(b, Barcode)
    with pytest.raises(AttributeError):
        b.bars = ""  # type: ignore[misc]


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
