"""What `shikaku import` shows and writes for people: no formula runs in Excel, no My Number.

Through the real command (a subprocess), with real files; the outputs are read back as a
clerk would see them: stdout, stderr, the log file, the error report, the names of files.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

from openpyxl import Workbook

from tests.registry.helpers import (
    EMPLOYER_HEADER,
    MEMBER_HEADER,
    MY_NUMBERS,
    employer,
    member,
    write,
)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def shikaku(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SHIKAKU_")}
    full_env.update(env)
    full_env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "shikaku", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
    )


def registry(tmp_path: Path, env: dict[str, str]) -> None:
    for args in (("keys", "init"), ("db", "upgrade")):
        done = shikaku(*args, cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
    write(tmp_path / "employers.csv", EMPLOYER_HEADER, [employer()])
    done = shikaku("import", "employers.csv", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr


def report_cells(tmp_path: Path) -> list[list[str]]:
    [path] = (tmp_path / "reports").glob("import-*-errors.csv")
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_error_report_cells_never_start_a_formula(tmp_path: Path) -> None:
    """Cells an employer's file puts into the error report are shown by Excel, never run."""
    env: dict[str, str] = {}
    registry(tmp_path, env)
    hostile = {
        "生年月日": '=HYPERLINK("http://x","click")',
        "性別": "@SUM(A1)",
        "枝番": "+1",
        "標準報酬月額": "-1+2",
        "資格取得年月日": "\t=1+1",
        "資格喪失年月日": "\r=1+1",
    }
    rows = [
        member(str(i), "00", **{column: value})
        for i, (column, value) in enumerate(hostile.items(), 1)
    ]
    write(tmp_path / "members.csv", MEMBER_HEADER, rows)
    done = shikaku("import", "members.csv", cwd=tmp_path, env=env)
    assert done.returncode == 3, done.stdout + done.stderr

    header, *cells = report_cells(tmp_path)
    assert header == ["行", "列", "値", "理由", "reason"]
    shown = {row[1]: row[2] for row in cells}
    for column, value in hostile.items():
        assert shown[column] == "'" + value, (column, shown.get(column))
    for row in [header, *cells]:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.digit(c)) for c in text if c.isdigit())


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_no_my_number_in_anything_import_shows_or_writes(tmp_path: Path) -> None:
    """Valid My Numbers where they do not belong: as headers of unknown columns (plain,
    full-width, with hyphens; a number in an XLSX header), in the wrong column, and in the
    個人番号 column with a wrong length or check digit. None reaches stdout, stderr, the log,
    the reports or a file name; the report shows the 個人番号 column's values as their last
    4 digits only."""
    log_file = tmp_path / "logs" / "shikaku.log"
    env = {"SHIKAKU_LOG_FILE": str(log_file)}
    registry(tmp_path, env)
    a, b, c, d, e = MY_NUMBERS
    full_width = unicodedata.normalize("NFKC", c).translate(
        {ord(x): ord(x) + 0xFEE0 for x in "0123456789"}
    )
    unknown = [a, f"{b[:4]}-{b[4:8]}-{b[8:]}", full_width, f"備考{d}"]
    header = [*MEMBER_HEADER, *unknown]
    rows = [
        member("1", "00", 個人番号=e[:-1]),  # 11 digits: one lost
        member("2", "00", 個人番号=e + "1"),  # 13 digits
        member("3", "00", 個人番号=e[:-1] + str((int(e[-1]) + 1) % 10)),  # wrong check digit
        member("4", "00", 個人番号=f"{e[:4]} {e[4:8]} {e[8:11]}X"),  # a letter at the end
        member("5", "00", 番号=a),  # a My Number in the 番号 column
        member("6", "00", 記号=b),  # … in the 記号 column
        member("7", "00", 生年月日=c),  # … in a date column
        member("8", "00", 性別=d),
        member("9", "00", 枝番=e),
        member("10", "00", 個人番号="１２３４５６７８９０１"),  # full-width, 11 digits
    ]
    table = [header, *([r.get(h, "") for h in MEMBER_HEADER] + unknown for r in rows)]
    from tests.conftest import write_csv

    write_csv(tmp_path / "members.csv", table)
    _xlsx(
        tmp_path / "members.xlsx",
        [
            [*MEMBER_HEADER, int(a), f"{d}備考"],
            *([*r[: len(MEMBER_HEADER)], "", ""] for r in table[1:]),
        ],
    )
    inputs = {tmp_path / "members.csv", tmp_path / "members.xlsx", tmp_path / "employers.csv"}

    outputs = []
    for name in ("members.csv", "members.xlsx"):
        done = shikaku("import", name, "--kind", "members", cwd=tmp_path, env=env)
        assert done.returncode == 3, done.stdout + done.stderr
        assert "無視した列" in done.stdout
        outputs += [done.stdout, done.stderr]
    outputs.append(shikaku("imports", "list", cwd=tmp_path, env=env).stdout)

    written = [p for p in tmp_path.rglob("*") if p.is_file() and p not in inputs]
    reports = [p for p in written if p.suffix == ".csv"]
    assert len(reports) == 2
    assert log_file.stat().st_size > 0
    texts = [*outputs, log_file.read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8-sig") for p in reports]
    texts += [str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p not in inputs]
    for text in texts:
        # Digits as people write a My Number: in one run, in groups with spaces or hyphens,
        # full-width or not.
        for run in re.findall(r"\d(?:[ \-－]?\d)*", text):
            assert len(_ascii_digits(run)) < 11, f"…{_ascii_digits(run)[-4:]} shown"
        for number in [*MY_NUMBERS, e[:-1]]:
            assert number not in text, f"…{number[-4:]} shown"

    for path in reports:
        with path.open(encoding="utf-8-sig", newline="") as f:
            cells = list(csv.DictReader(f))
        values = [row["値"] for row in cells if row["列"] == "個人番号"]
        assert len(values) == 5, values
        for value in values:
            assert len(_ascii_digits(value)) <= 4, value
        assert "********" + e[-5:-1] in values  # the clerk still sees which number it was


def test_unknown_headers_are_echoed_as_text(tmp_path: Path) -> None:
    """A header is echoed as what it is: not as console markup (a stray closing tag crashed
    the summary after the import), not as terminal escape sequences (colours, links) or a
    bidi override."""
    from tests.conftest import write_csv

    env: dict[str, str] = {}
    registry(tmp_path, env)
    unknown = ["[/x]", "[link=http://x]click", "\x1b[31mred", "\u202egnp.exe"]
    row = member("1", "00")
    name = "[b]members.csv"  # the file's name is echoed too, not as markup
    write_csv(
        tmp_path / name,
        [[*MEMBER_HEADER, *unknown], [*(row.get(h, "") for h in MEMBER_HEADER), "", "", "", ""]],
    )
    done = shikaku("import", name, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[/x], [link=http://x]click, \\u001b[31mred, \\u202egnp.exe" in done.stdout
    assert name in done.stdout
    listed = shikaku("imports", "list", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert name in listed.stdout
    for text in (done.stdout, done.stderr, listed.stdout, listed.stderr):
        assert "\x1b" not in text
        assert "\u202e" not in text
