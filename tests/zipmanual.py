"""Japan Post's worked examples of the customer barcode, shared by the domain and lookup tests.

From 郵便番号・バーコードマニュアル, https://www.post.japanpost.jp/zipcode/zipmanual/p25.html
(バーコード印字例).
"""

# (postal code, 住所A as printed, 住所B, the 21 symbols with the check digit). p25 itself was
# not in the stored copy of the site we could search; these expected values are as
# transcribed from p25 by three independent public test suites that cite it (they agree
# symbol for symbol), and p20 prints the same data for 317-0055, 064-0804 and 910-0067.
P25 = [
    ("263-0023", "千葉市稲毛区緑町", "3丁目30-8　郵便ビル403号",
     "2 6 3 0 0 2 3 3 - 3 0 - 8 - 4 0 3 CC4 CC4 CC4 5"),
    ("014-0113", "秋田県大仙市堀見内", "　南田茂木　添60-1",
     "0 1 4 0 1 1 3 6 0 - 1 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC8"),
    ("110-0016", "東京都台東区台東", "5-6-3　ABCビル10F",
     "1 1 0 0 0 1 6 5 - 6 - 3 - 1 0 CC4 CC4 CC4 CC4 CC4 9"),
    ("060-0906", "北海道札幌市東区北六条東", "4丁目　郵便センター6号館",
     "0 6 0 0 9 0 6 4 - 6 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC4 9"),
    ("065-0006", "北海道札幌市東区北六条東", "8丁目　郵便センター10号館",
     "0 6 5 0 0 0 6 8 - 1 0 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC4 9"),
    ("407-0033", "山梨県韮崎市龍岡町下條南割", "　韮崎400",
     "4 0 7 0 0 3 3 4 0 0 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC4 -"),
    ("273-0102", "千葉県鎌ケ谷市右京塚", "　東3丁目-20-5　郵便・A&bコーポB604号",
     "2 7 3 0 1 0 2 3 - 2 0 - 5 CC1 1 6 0 4 CC4 CC4 0"),
    ("198-0036", "東京都青梅市河辺町", "十一丁目六番地一号　郵便タワー601",
     "1 9 8 0 0 3 6 1 1 - 6 - 1 - 6 0 1 CC4 CC4 CC4 CC8"),
    ("027-0203", "岩手県宮古市大字津軽石", "第二十一地割大淵川480",
     "0 2 7 0 2 0 3 2 1 - 4 8 0 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC5"),
    ("590-0016", "大阪府堺市堺区中田出井町", "四丁六番十九号",
     "5 9 0 0 0 1 6 4 - 6 - 1 9 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC2"),
    ("080-0831", "北海道帯広市稲田町南", "七線　西28",
     "0 8 0 0 8 3 1 7 - 2 8 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC4 CC7"),
    ("317-0055", "茨城県日立市宮田町", "6丁目7-14　ABCビル2F",
     "3 1 7 0 0 5 5 6 - 7 - 1 4 - 2 CC4 CC4 CC4 CC4 CC4 CC1"),
    ("650-0046", "神戸市中央区港島中町", "9丁目7-6　郵便シティA棟1F1号",
     "6 5 0 0 0 4 6 9 - 7 - 6 CC1 0 1 - 1 CC4 CC4 CC4 5"),
    ("623-0011", "京都府綾部市青野町", "綾部6-7　LプラザB106",
     "6 2 3 0 0 1 1 6 - 7 CC2 1 CC1 1 1 0 6 CC4 CC4 CC4 4"),
    ("064-0804", "札幌市中央区南四条西", "29丁目1524-23　第2郵便ハウス501",
     "0 6 4 0 8 0 4 2 9 - 1 5 2 4 - 2 3 - 2 - 3"),
    ("910-0067", "福井県福井市新田塚", "3丁目80-25　J1ビル2-B",
     "9 1 0 0 0 6 7 3 - 8 0 - 2 5 CC1 9 1 - 2 CC1 9"),
]  # fmt: skip
