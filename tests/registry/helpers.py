"""Builders for small import files with real rows, written the way employers send them."""

from __future__ import annotations

from pathlib import Path

from shikaku.registry.columns import EMPLOYER_COLUMNS, MEMBER_COLUMNS

EMPLOYER_HEADER = [c.header for c in EMPLOYER_COLUMNS]
MEMBER_HEADER = [c.header for c in MEMBER_COLUMNS]

# Valid My Numbers (check digit per DOMAIN.md §4); tests search written bytes for these.
MY_NUMBERS = ["123456789018", "987654321093", "111111111118", "222222222225", "314159265352"]


def employer(symbol: str = "01234567", **over: str) -> dict[str, str]:
    row = {
        "記号": symbol,
        "事業所名": "株式会社しかく商事",
        "事業所名カナ": "ｼｶｸｼｮｳｼﾞ",
        "郵便番号": "100-0013",
        "所在地": "東京都千代田区霞が関1丁目3-2",
        "送付先": "事業所",
    }
    row.update(over)
    return row


def member(number: str = "1", branch: str = "00", **over: str) -> dict[str, str]:
    insured = branch == "00"
    row = {
        "記号": "01234567",
        "番号": number,
        "枝番": branch,
        "続柄": "本人" if insured else "家族",
        "氏名": "協会　花子" if insured else "協会　正子",
        "氏名カナ": "キョウカイ　ハナコ" if insured else "キョウカイ　マサコ",
        "生年月日": "1980-01-02" if insured else "2010-03-04",
        "性別": "2",
        "資格取得年月日": "2020-04-01",
    }
    row.update(over)
    return row


def table(header: list[str], rows: list[dict[str, str]]) -> list[list[str]]:
    unknown = {k for r in rows for k in r} - set(header)
    assert not unknown, unknown
    return [header, *([r.get(h, "") for h in header] for r in rows)]


def write(
    path: Path, header: list[str], rows: list[dict[str, str]], encoding: str = "utf-8"
) -> Path:
    from tests.conftest import write_csv

    return write_csv(path, table(header, rows), encoding)
