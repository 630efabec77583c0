"""The import column spec: canonical Japanese headers, their English aliases, what each means.

docs/import.md is generated from nothing: it is written by hand, and a test checks that every
column here is documented there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FileKind(StrEnum):
    EMPLOYERS = "employers"
    MEMBERS = "members"


@dataclass(frozen=True)
class Column:
    key: str  # English identifier from the glossary
    header: str  # canonical Japanese header
    aliases: tuple[str, ...] = ()
    required: bool = False
    max_length: int | None = None  # characters, for free text (the limits below)


# Longest free text accepted, in characters, chosen so that the value prints legibly in the
# smallest box that shows it (tests/registry/test_text_limits.py measures those boxes with
# the real fonts and the default envelope window):
# - 氏名 24: the window line "(被保険者氏名)… 様" at 11 pt, 81 mm, and the notice's and the
#   certificate's card parts at 10 pt, 64 mm, still print 24 ideographs at 7 pt or more;
# - 氏名カナ 25: the notice's card part (7.5 pt, 64 mm) at 7 pt or more; the certificate's
#   (5.5 pt, 66 mm) at its own size;
# - 住所, 所在地 40: three lines of the window at 10.5 pt hold 21 ideographs each; 40 leave
#   room for where a line breaks (at a space past half a line, before 、。);
# - 事業所名 32: the return letter's window line at 11.5 pt, 81 mm, at 7 pt or more;
# - the rest is not printed: limits against runaway cells (電話番号 also fits its column).
NAME_MAX = 24
KANA_MAX = 25
ADDRESS_MAX = 40
EMPLOYER_NAME_MAX = 32
EMPLOYER_KANA_MAX = 100
PHONE_MAX = 24
CATEGORY_MAX = 32


EMPLOYER_COLUMNS: tuple[Column, ...] = (
    Column("insurer_number", "保険者番号", ("insurer_number",)),
    Column("symbol", "記号", ("symbol",), required=True),
    Column(
        "name",
        "事業所名",
        ("employer_name", "name", "事業所名称"),
        required=True,
        max_length=EMPLOYER_NAME_MAX,
    ),
    Column(
        "name_kana",
        "事業所名カナ",
        ("employer_name_kana", "name_kana"),
        required=True,
        max_length=EMPLOYER_KANA_MAX,
    ),
    Column("postal_code", "郵便番号", ("postal_code",), required=True),
    Column("address", "所在地", ("address", "住所"), required=True, max_length=ADDRESS_MAX),
    Column("phone", "電話番号", ("phone",), max_length=PHONE_MAX),
    Column("delivery", "送付先", ("delivery",)),
    Column("category", "区分", ("category", "事業所区分"), max_length=CATEGORY_MAX),
    Column("electronic_delivery", "電子交付", ("electronic_delivery", "電子配付")),
)

MEMBER_COLUMNS: tuple[Column, ...] = (
    Column("insurer_number", "保険者番号", ("insurer_number",)),
    Column("symbol", "記号", ("symbol",), required=True),
    Column("number", "番号", ("number",), required=True),
    Column("branch", "枝番", ("branch",), required=True),
    Column("relationship", "続柄", ("relationship", "本人家族"), required=True),
    Column("name", "氏名", ("name",), required=True, max_length=NAME_MAX),
    Column("name_kana", "氏名カナ", ("name_kana", "フリガナ"), required=True, max_length=KANA_MAX),
    Column("birth_date", "生年月日", ("birth_date",), required=True),
    Column("sex", "性別", ("sex",), required=True),
    Column("eligible_from", "資格取得年月日", ("eligible_from", "資格取得日"), required=True),
    Column("lost_on", "資格喪失年月日", ("lost_on", "資格喪失日")),
    Column("loss_reason", "喪失事由", ("loss_reason",)),
    Column("my_number", "個人番号", ("my_number", "マイナンバー")),
    Column("my_number_status", "個人番号状態", ("my_number_status",)),
    Column("postal_code", "郵便番号", ("postal_code",)),
    Column("address", "住所", ("address",), max_length=ADDRESS_MAX),
    Column("mynacard_registered_on", "マイナ保険証登録日", ("mynacard_registered_on",)),
    Column("mynacard_cancelled_on", "マイナ保険証解除日", ("mynacard_cancelled_on",)),
    Column("ecert_expires_on", "電子証明書有効期限", ("ecert_expires_on",)),
    Column("standard_monthly_pay", "標準報酬月額", ("standard_monthly_pay",)),
    Column("pay_effective_from", "標準報酬適用年月日", ("pay_effective_from",)),
    Column("tax_exempt", "住民税非課税", ("tax_exempt",)),
    Column("old_card_expires_on", "保険証有効期限", ("old_card_expires_on",)),
)

COLUMNS: dict[FileKind, tuple[Column, ...]] = {
    FileKind.EMPLOYERS: EMPLOYER_COLUMNS,
    FileKind.MEMBERS: MEMBER_COLUMNS,
}

# A required column must be in the file (map_header) and its value must not be blank (parsing).
REQUIRED_KEYS: dict[FileKind, frozenset[str]] = {
    kind: frozenset(c.key for c in columns if c.required) for kind, columns in COLUMNS.items()
}
