"""電子交付 in the employers file: the words an insurer's staff type, blank = the setting."""

from __future__ import annotations

import pytest

from shikaku.domain.errors import DomainError
from shikaku.domain.members import parse_electronic_delivery


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("する", True), ("1", True), ("あり", True), ("可", True), ("YES", True), (" true ", True),
        ("しない", False), ("0", False), ("なし", False), ("不可", False), ("No", False),
        ("", None), ("  ", None),
    ],
)  # fmt: skip
def test_words(raw: str, expected: bool | None) -> None:
    assert parse_electronic_delivery(raw) is expected


def test_an_unknown_word_names_the_column_and_the_choices() -> None:
    with pytest.raises(DomainError) as info:
        parse_electronic_delivery("たぶん")
    assert "電子交付" in info.value.ja and "する" in info.value.ja and "しない" in info.value.ja
