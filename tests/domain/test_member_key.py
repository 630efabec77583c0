"""記号・番号・枝番: one set of rules for an employer's file and a clinic's request."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shikaku.domain.errors import DomainError
from shikaku.domain.members import parse_branch, parse_number, parse_symbol


def test_widths_are_unified_and_leading_zeros_kept() -> None:
    assert parse_symbol("０１２３") == "0123"
    assert parse_number("００１２") == "0012"
    assert parse_branch("１") == "01" and parse_branch("00") == "00"


@pytest.mark.parametrize(
    ("parse", "raw", "en"),
    [
        (parse_number, "123456789012", "number has more than 10 digits"),  # a My Number?
        (parse_symbol, "12345678901", "symbol longer than 10"),
        (parse_branch, "123", "branch must be 2 digits"),
        (parse_number, "12a", "number: character 3 'a' is not a digit"),
    ],
)
def test_what_no_key_may_be(parse: Callable[[str], str], raw: str, en: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse(raw)
    assert caught.value.en == en
    assert raw not in caught.value.ja  # a mistyped My Number is never echoed
