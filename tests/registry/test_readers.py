"""The file readers on hostile bytes: huge fields and lines, mixed encodings, line ends."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shikaku.demo import write_demo_files
from shikaku.registry.readers import (
    MAX_LINE_CHARS,
    FileRefused,
    MalformedRow,
    detect_encoding,
    open_table,
)

LIMIT = csv.field_size_limit()
HEADER = ["a", "b", "c"]


def csv_text(rows: list[list[str]], newline: str = "\r\n") -> str:
    """Rows as CSV. csv.writer quotes a line break only when it is part of the line end it
    writes, so with LF or CR alone every cell is quoted."""
    buf = io.StringIO()
    quoting = csv.QUOTE_MINIMAL if newline == "\r\n" else csv.QUOTE_ALL
    csv.writer(buf, lineterminator=newline, quoting=quoting).writerows(rows)
    return buf.getvalue()


def line_breaks(text: str) -> int:
    """Physical lines, as a text file with universal newlines splits them."""
    return len(re.findall(r"\r\n|\r|\n", text))


def read(path: Path, encoding: str | None = None) -> list[tuple[int, list[str]]]:
    with open_table(path, encoding) as table:
        return list(table.rows)


cell = st.text(st.sampled_from(list('ab,"\r\n 東')), max_size=6)
record = st.lists(cell, min_size=3, max_size=3).filter(lambda r: any(r))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    before=st.lists(record, max_size=4),
    after=st.lists(record, min_size=1, max_size=4),
    column=st.integers(0, 2),
    quoted_lines=st.booleans(),
    newline=st.sampled_from(["\r\n", "\n", "\r"]),
)
def test_a_field_too_large_rejects_its_row_and_the_rest_reads_as_csv_would(
    tmp_path: Path,
    before: list[list[str]],
    after: list[list[str]],
    column: int,
    quoted_lines: bool,
    newline: str,
) -> None:
    """Whatever the records around it (quotes, separators and line breaks inside cells), a
    field over csv's limit, quoted over several lines or not, is one MalformedRow naming
    its column and first line; every other record comes back as csv reads it alone, on the
    line where it starts."""
    huge = "x" * (LIMIT + 10)
    if quoted_lines:
        huge = f'{newline}{huge},{newline}"{newline}'
    bad = ["1", "2", "3"]
    bad[column] = huge
    path = tmp_path / "f.csv"
    path.write_text(csv_text([HEADER, *before, bad, *after], newline), "utf-8", newline="")

    got = read(path)

    alone = [HEADER, *before]
    expected_before = list(csv.reader(io.StringIO(csv_text(alone, newline), newline="")))[1:]
    first_bad_line = line_breaks(csv_text(alone, newline)) + 1
    rows = [cells for _line, cells in got]
    assert rows[: len(before)] == [r for r in expected_before if r]
    [(line, malformed)] = [(n, c) for n, c in got if isinstance(c, MalformedRow)]
    assert (line, malformed.column) == (first_bad_line, column)
    assert "長すぎます" in malformed.ja
    after_text = csv_text(after, newline)
    assert rows[len(before) + 1 :] == list(csv.reader(io.StringIO(after_text, newline="")))
    assert got[len(before) + 1][0] == first_bad_line + line_breaks(csv_text([bad], newline))


def test_a_line_longer_than_any_row_is_skipped_in_pieces(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    long = ",".join(["a"] * (MAX_LINE_CHARS // 2 + 10))  # 1 MiB of short fields
    path.write_text(f"a,b,c\r\n1,2,3\r\n{long}\r\n4,5,6\r\n", "utf-8", newline="")
    got = read(path)
    assert [cells for _l, cells in got if not isinstance(cells, MalformedRow)] == [
        ["1", "2", "3"],
        ["4", "5", "6"],
    ]
    [(line, bad)] = [(n, c) for n, c in got if isinstance(c, MalformedRow)]
    assert (line, bad.column, bad.ja) == (3, None, "行が長すぎます（1,048,576文字を超えています）")
    assert got[-1][0] == 4


def test_an_unreadable_header_refuses_the_file(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("x" * (LIMIT + 1) + "\r\n1\r\n", "utf-8", newline="")
    with pytest.raises(FileRefused):
        read(path)


# ------------------------------------------------------------------ encodings


def test_detect_encoding_follows_most_lines(tmp_path: Path) -> None:
    """A file of one encoding with a row pasted from the other keeps its own encoding."""
    rows = ["記号,氏名", "1,協会　花子", "2,髙橋　一郎", "3,鈴木　次郎"]
    cp932 = "\r\n".join(rows).encode("cp932") + "\r\n4,協会　正子\r\n".encode()
    (tmp_path / "a.csv").write_bytes(cp932)
    assert detect_encoding(tmp_path / "a.csv") == "cp932"
    utf8 = "\r\n".join(rows).encode() + "\r\n4,協会　正子\r\n".encode("cp932")
    (tmp_path / "b.csv").write_bytes(utf8)
    assert detect_encoding(tmp_path / "b.csv") == "utf-8"
    (tmp_path / "c.csv").write_bytes(bytes(range(0x80, 0x100)) + b"\r\n")
    with pytest.raises(FileRefused):
        detect_encoding(tmp_path / "c.csv")


def test_a_utf8_row_in_a_shift_jis_file_is_named_even_when_it_decodes(tmp_path: Path) -> None:
    """UTF-8 本人 and 花子 decode as CP932 without an error (mojibake): the bytes tell."""
    text = "記号,続柄,氏名\r\n1,本人,協会　花子\r\n"
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode("cp932") + "2,本人,協会　花子\r\n".encode())
    "2,本人".encode().decode("cp932")  # no error: only the bytes show it is UTF-8
    got = read(path, "cp932")
    assert got[0] == (2, ["1", "本人", "協会　花子"])
    line, bad = got[1]
    assert isinstance(bad, MalformedRow) and (line, bad.column, bad.value) == (3, 1, "本人")
    assert "UTF-8 で書かれています" in bad.ja


def test_no_genuine_shift_jis_row_is_taken_for_utf8(tmp_path: Path) -> None:
    """The demo data (names with rare kanji, 半角カナ, addresses) in CP932: nothing flagged."""
    write_demo_files(tmp_path, members=3000, seed=7)
    for name in ("members.csv", "employers.csv"):
        data = (tmp_path / name).read_text(detect_encoding(tmp_path / name))
        path = tmp_path / f"cp932-{name}"
        path.write_bytes(data.encode("cp932", "replace"))
        rows = read(path, "cp932")
        assert len(rows) > 10
        assert not [r for r in rows if isinstance(r[1], MalformedRow)]
