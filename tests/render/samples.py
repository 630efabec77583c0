"""Sample parcels and batches for the renderer's tests and for looking at the output.

No real person, no real My Number: last-4 values are plain test digits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from shikaku.domain.barcode import encode
from shikaku.domain.window import Rect, window_on_sheet
from shikaku.render.model import (
    Certificate,
    CertificateReason,
    Container,
    Employer,
    Household,
    Issuer,
    MailingBatch,
    MyNumberState,
    Notice,
    Parcel,
    ReturnItem,
    ReturnLetter,
)

ISSUER = Issuer(
    insurer_number="01130012",
    name="全国健康保険協会 東京支部",
    short_name="協会けんぽ",
    contact_lines=(
        "全国健康保険協会 東京支部",
        "〒164-8540 東京都中野区中野4-10-2 中野セントラルパークサウス7階",
        "電話 03-6853-6111（平日 8:30〜17:15）",
    ),
    my_number_dial="0570-015-369",
    my_number_dial_label="協会けんぽマイナンバー専用ダイヤル",
)
WINDOW: Rect = window_on_sheet(235, 120, Rect(23, 13, 90, 45), 3)
EMPLOYER = Employer(
    symbol="12345678",
    name="株式会社 霞が関商事",
    postal_code="1000013",
    address="東京都千代田区霞が関1丁目3-2 郵便プラザ503室",
    phone="03-0000-0000",
)
RUN = "R000001"


def notice(
    piece: int,
    name: str,
    kana: str,
    *,
    number: str = "1234567",
    branch: str = "00",
    relationship: int = 1,
    insured_name: str | None = None,
    state: MyNumberState = "registered",
    last4: str | None = "1234",
    sex: int | None = 2,
    birth: date = date(1985, 4, 1),
    copay_rate: int = 30,
) -> Notice:
    return Notice(
        control=f"{RUN}-P000012-{piece:04d}",
        symbol=EMPLOYER.symbol,
        number=number,
        branch=branch,
        relationship=relationship,
        name=name,
        name_kana=kana,
        birth_date=birth,
        sex=sex,
        eligible_from=date(2020, 4, 1),
        copay_rate=copay_rate,
        my_number_state=state,
        my_number_last4=last4 if state == "registered" else None,
        insured_name=insured_name or name,
        delivery="employer",
    )


def households() -> tuple[Household, ...]:
    """Two households: 協会 (a dependent without My Number) and 𠮷田 (IPAmj needed)."""
    hanako = notice(1, "協会 花子", "キョウカイ ハナコ")
    masako = notice(
        2, "協会 正子", "キョウカイ マサコ", branch="01", relationship=2,
        insured_name="協会 花子", state="none", birth=date(2019, 6, 2), copay_rate=20,
    )  # fmt: skip
    ichiro = notice(
        3, "協会 一郎", "キョウカイ イチロウ", branch="02", relationship=2,
        insured_name="協会 花子", last4="5678", sex=1, birth=date(2016, 11, 30),
    )  # fmt: skip
    taro = notice(
        4, "𠮷田 太郎", "ヨシダ タロウ", number="1234568", sex=1, last4="9012",
        birth=date(1962, 1, 15),
    )  # fmt: skip
    takako = notice(
        5, "𠮷田 髙子", "ヨシダ タカコ", number="1234568", branch="01", relationship=2,
        insured_name="𠮷田 太郎", state="needs_check", birth=date(1964, 3, 3),
    )  # fmt: skip
    return (Household((hanako, masako, ichiro)), Household((taro, takako)))


def parcel(households_: tuple[Household, ...] | None = None) -> Parcel:
    """The sample parcel: a box with pieces 1-3 and an outer envelope with 4-5."""
    hs = households() if households_ is None else households_
    pieces = sum(len(h.notices) for h in hs)
    split = min(3, pieces)
    barcode = encode(EMPLOYER.postal_code, "1丁目3-2 郵便プラザ503室")
    containers = [Container("box", 1, 2 if pieces > split else 1, 1, split, barcode)]
    if pieces > split:
        containers.append(Container("envelope", 2, 2, split + 1, pieces, barcode))
    return Parcel(
        run_label=RUN,
        partition=12,
        issued_on=date(2024, 9, 9),
        extraction_date=date(2024, 6, 7),
        employer=EMPLOYER,
        households=hs,
        containers=tuple(containers),
    )


def big_parcel(insured: int = 30, per_household: int = 2) -> Parcel:
    """Many households (several list pages); every other dependent lacks a My Number."""
    hs = []
    piece = 0
    for i in range(insured):
        members = []
        head = f"社員 {i:03d}"
        for j in range(per_household):
            piece += 1
            members.append(
                notice(
                    piece,
                    head if j == 0 else f"家族 {i:03d}-{j}",
                    "シャイン" if j == 0 else "カゾク",
                    number=f"{1000 + i:07d}",
                    branch=f"{j:02d}",
                    relationship=1 if j == 0 else 2,
                    insured_name=head,
                    state="registered" if (i + j) % 2 == 0 else "none",
                )
            )
        hs.append(Household(tuple(members)))
    return parcel(tuple(hs))


def home_batch() -> MailingBatch:
    """任意継続 members at home: the window shows the address and the barcode."""
    people = [
        ("1000013", "東京都千代田区霞が関1丁目3-2", "郵便プラザ503室", "任継 一郎", "ニンケイ イチロウ"),
        ("1640001", "東京都中野区中野四丁目10番2号", "中野セントラルパークサウス7階 701号室",
         "髙橋 𠮷子", "タカハシ ヨシコ"),
        ("0600001", "北海道札幌市中央区北一条西2丁目", "", "任継 三郎", "ニンケイ サブロウ"),
    ]  # fmt: skip
    notices = []
    for i, (postal_code, town, rest, name, kana) in enumerate(people, 1):
        base = notice(i, name, kana, number=f"{2000 + i:07d}", state="registered" if i != 2
                      else "none")  # fmt: skip
        after_town = town.split("区")[-1].split("中野")[-1] + rest
        notices.append(
            replace(
                base,
                delivery="home",
                postal_code=postal_code,
                address=f"{town} {rest}".strip(),
                addressee=name,
                barcode=encode(postal_code, after_town),
            )
        )
    return MailingBatch(
        run_label=RUN,
        partition=40,
        issued_on=date(2024, 9, 9),
        extraction_date=date(2024, 6, 7),
        area="100",
        notices=tuple(notices),
    )


# --------------------------------------------------------------------------- 資格確認書


def certificate(
    piece: int,
    name: str,
    kana: str,
    *,
    number: str = "1234567",
    branch: str = "00",
    relationship: int = 1,
    insured_name: str | None = None,
    sex: int | None = 2,
    birth: date = date(1985, 4, 1),
    reason: CertificateReason = "not_registered",
    effective_from: date | None = None,
    copay_rate: int | None = None,
    cap_category: str | None = None,
    supersedes: bool = False,
) -> Certificate:
    return Certificate(
        control=f"{RUN}-P000012-{piece:04d}",
        symbol=EMPLOYER.symbol,
        number=number,
        branch=branch,
        relationship=relationship,
        name=name,
        name_kana=kana,
        birth_date=birth,
        sex=sex,
        insured_name=insured_name or name,
        issued_on=date(2024, 12, 2),
        valid_until=date(2029, 12, 1),
        reason=reason,
        delivery="employer",
        effective_from=effective_from,
        copay_rate=copay_rate,
        cap_category=cap_category,
        supersedes=supersedes,
    )


def certificate_households() -> tuple[Household, ...]:
    """Two households: 協会 (under 70, one with 区分ウ on request) and 𠮷田 (70-74)."""
    hanako = certificate(1, "協会 花子", "キョウカイ ハナコ", cap_category="区分ウ")
    masako = certificate(
        2, "協会 正子", "キョウカイ マサコ", branch="01", relationship=2,
        insured_name="協会 花子", birth=date(2019, 6, 2), reason="no_mynacard",
    )  # fmt: skip
    taro = certificate(
        3, "𠮷田 太郎", "ヨシダ タロウ", number="1234568", sex=1, birth=date(1952, 5, 10),
        reason="ecert_expired", effective_from=date(2022, 6, 1), copay_rate=30,
    )  # fmt: skip
    takako = certificate(
        4, "𠮷田 髙子", "ヨシダ タカコ", number="1234568", branch="01", relationship=2,
        insured_name="𠮷田 太郎", sex=None, birth=date(1953, 3, 3), reason="lost",
        effective_from=date(2023, 4, 1), copay_rate=30, cap_category="現役並みⅠ",
        supersedes=True,
    )  # fmt: skip
    return (Household((hanako, masako)), Household((taro, takako)))


def certificate_parcel(households_: tuple[Household, ...] | None = None) -> Parcel:
    """A parcel of certificates: a box with pieces 1-3 and an envelope with 4 (or fewer)."""
    return parcel(certificate_households() if households_ is None else households_)


def certificate_batch() -> MailingBatch:
    """任意継続 members at home, with certificates: the window shows the address."""
    batch = home_batch()
    reasons: tuple[CertificateReason, ...] = ("registration_cancelled", "needs_assistance",
                                             "renewal_expiry")  # fmt: skip
    pieces = []
    for i, (n, reason) in enumerate(zip(batch.notices, reasons, strict=True), 1):
        base = certificate(i, n.name, n.name_kana, number=n.number, reason=reason,
                           supersedes=reason == "renewal_expiry")  # fmt: skip
        pieces.append(
            replace(
                base,
                delivery="home",
                postal_code=n.postal_code,
                address=n.address,
                addressee=n.addressee,
                barcode=n.barcode,
            )
        )
    return replace(batch, notices=tuple(pieces))


# --------------------------------------------------------------------------- 返却のお願い


def return_item(i: int, name: str, *, lost_on: date = date(2026, 3, 1)) -> ReturnItem:
    return ReturnItem(
        symbol=EMPLOYER.symbol,
        number=f"{3000 + i:07d}",
        branch="00" if i % 3 else "01",
        name=name,
        issued_on=date(2025, 12, 2),
        valid_until=date(2030, 12, 1),
        lost_on=lost_on,
    )


def return_home_letter() -> ReturnLetter:
    """A former member at home: the window shows the address and the barcode."""
    n = home_batch().notices[1]
    return ReturnLetter(
        control=f"{RUN}-返却-000042",
        delivery="home",
        issued_on=date(2026, 4, 1),
        items=(replace(return_item(1, "髙橋 𠮷子"), number=n.number),),
        postal_code=n.postal_code,
        address=n.address,
        addressee="髙橋 𠮷子",
        barcode=n.barcode,
    )


def return_employer_letter(people: int = 3) -> ReturnLetter:
    """An employer's letter listing `people` former employees (several pages if many)."""
    names = ["協会 花子", "𠮷田 太郎", "髙橋 一郎"]
    items = tuple(
        return_item(i, names[i - 1] if i <= len(names) else f"退職 {i:03d}",
                    lost_on=date(2026, 1 + i % 3, 1))
        for i in range(1, people + 1)
    )  # fmt: skip
    return ReturnLetter(
        control=f"{RUN}-返却-事業所{EMPLOYER.symbol}",
        delivery="employer",
        issued_on=date(2026, 4, 1),
        items=items,
        employer=EMPLOYER,
        barcode=encode(EMPLOYER.postal_code, "1丁目3-2 郵便プラザ503室"),
    )
