"""security.outputs: the one CSV writer, the My Number masks, private file creation."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from pathlib import Path

import pytest

from shikaku.security.outputs import (
    create_private_file,
    csv_writer,
    for_terminal,
    mask_digit_runs,
    my_number_tail,
    spreadsheet_cell,
)

SRC = Path(__file__).parents[2] / "src" / "shikaku"


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("協会　花子", "協会　花子"),
        ("100-0013", "100-0013"),
        ("a=b", "a=b"),
        ("", ""),
        (-1, -1),  # numbers shikaku computes are not text from a file
    ],
)
def test_a_cell_that_would_run_as_a_formula_is_quoted(cell: object, shown: object) -> None:
    assert spreadsheet_cell(cell) == shown


def test_the_writer_quotes_every_row_it_writes() -> None:
    f = io.StringIO()
    w = csv_writer(f, lineterminator="\n")
    w.writerow(["=1+1", 2, "x"])
    w.writerows([["@A1", "-"], ["ok", "+81 3"]])
    assert list(csv.reader(io.StringIO(f.getvalue()))) == [
        ["'=1+1", "2", "x"],
        ["'@A1", "'-"],
        ["ok", "'+81 3"],
    ]


def test_every_csv_writer_in_shikaku_is_the_safe_one() -> None:
    """A CSV written for people goes through csv_writer; demo/ writes import input files
    (read back by the importer, where a quote would change the value)."""
    raw = re.compile(r"csv\.(writer|DictWriter)\(")
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if raw.search(p.read_text(encoding="utf-8"))
        and p.relative_to(SRC).parts[0] != "demo"
        and p.name != "outputs.py"
    ]
    assert not offenders, offenders


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("123456789018", "********9018"),
        ("個人番号123456789018備考", "個人番号********9018備考"),
        ("1234-5678-9018", "********9018"),
        ("1234 5678 9018", "********9018"),
        ("１２３４５６７８９０１８", "********9018"),
        ("1234567890181", "********0181"),
        ("a 123456789018, b 987654321093", "a ********9018, b ********1093"),
        ("03-1234-5678", "03-1234-5678"),
        ("2024-06-07", "2024-06-07"),
        ("12345678901", "12345678901"),  # 11 digits: not a run of 12
        ("", ""),
    ],
)
def test_runs_of_twelve_digits_are_masked(text: str, shown: str) -> None:
    assert mask_digit_runs(text) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("123456789018", "********9018"),
        ("12345678901", "********8901"),
        ("1234 5678 901X", "********8901"),
        ("１２３", "****"),
        ("なし", "なし"),
        ("", ""),
    ],
)
def test_a_my_number_cell_shows_its_last_four_digits_only(value: str, shown: str) -> None:
    assert my_number_tail(value) == shown


def test_a_private_file_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        path = tmp_path / "new" / "registry.db"
        create_private_file(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert path.read_bytes() == b""
        path.write_bytes(b"kept")
        path.chmod(0o640)
        create_private_file(path)  # an existing file is left as it is
        assert path.read_bytes() == b"kept"
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(old)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("備考", "備考"),
        ("氏名　カナ", "氏名　カナ"),
        ("line 1\nline 2\tend", "line 1\nline 2\tend"),
        ("\x1b[31mred", "\\u001b[31mred"),
        ("\u202egnp.exe", "\\u202egnp.exe"),
        ("\x00\x07", "\\u0000\\u0007"),
        ("\x1b 123456789018", "\\u001b ********9018"),
    ],
)
def test_echoed_text_cannot_act_on_a_terminal(text: str, shown: str) -> None:
    assert for_terminal(text) == shown
