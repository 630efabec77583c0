"""Every row parser is total: whatever text the cells hold, each row comes back as a record
or as errors naming its line, never both, never an exception (an int() of 5,000 digits
crashed the parser process halfway through a file)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shikaku.registry.columns import EMPLOYER_COLUMNS, MEMBER_COLUMNS, FileKind
from shikaku.registry.records import EmployerParser, MemberParser, ParseContext
from shikaku.registry.rows import map_header
from shikaku.security.mynumber import MyNumberVault
from tests.conftest import FIXED_KEY

# Pieces of valid values and of hostile ones: long digit runs, eras, controls, full width.
PIECES = [
    "0", "1", "9" * 40, "01234567", "01130012", "123456789018", "00", "本人", "家族", "協会",
    "　", " ", "ｷｮｳｶｲ", "キョウカイ", "1980-01-02", "令和元年5月1日", "大正15年12月25日", "R6.6.7",
    "0001-01-01", "9999-12-31", "-", ",", "=", "\x00", "\u202e", "\u2028", "\ufeff", "２",
    "300,000", "1", "2", "男", "女", "事業所", "自宅", "登録済", "要確認", "01", "99", "𠮷",
]  # fmt: skip
cell = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=4).map("".join),
    st.text(max_size=12),
    st.just("9" * 5000),
)
VAULT = MyNumberVault(FIXED_KEY)
CTX = ParseContext("01130012", "00")


def rows_of(width: int) -> st.SearchStrategy[list[tuple[int, list[str]]]]:
    row = st.lists(cell, min_size=width, max_size=width)
    return st.lists(row, min_size=1, max_size=6).map(
        lambda rows: [(i + 2, cells) for i, cells in enumerate(rows)]
    )


@settings(max_examples=300, deadline=None)
@given(rows_of(len(MEMBER_COLUMNS)))
def test_member_rows_are_records_or_errors(rows: list[tuple[int, list[str]]]) -> None:
    header = map_header([c.header for c in MEMBER_COLUMNS], FileKind.MEMBERS)
    records, errors = MemberParser(header, CTX, VAULT)(rows)
    lines = [r[0] for r in records]
    assert len(set(lines)) == len(lines)
    assert set(lines).isdisjoint(e.line for e in errors)
    assert set(lines) | {e.line for e in errors} == {line for line, _c in rows}


@settings(max_examples=300, deadline=None)
@given(rows_of(len(EMPLOYER_COLUMNS)))
def test_employer_rows_are_records_or_errors(rows: list[tuple[int, list[str]]]) -> None:
    header = map_header([c.header for c in EMPLOYER_COLUMNS], FileKind.EMPLOYERS)
    records, errors = EmployerParser(header, CTX)(rows)
    lines = [r[0] for r in records]
    assert set(lines).isdisjoint(e.line for e in errors)
    assert set(lines) | {e.line for e in errors} == {line for line, _c in rows}
