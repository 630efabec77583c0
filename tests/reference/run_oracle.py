"""Reading an issuance run's output folder from its files alone (see test_run_output.py).

Written from docs/issuance.md, docs/render.md, docs/demo.md and DOMAIN.md only: nothing here
imports `shikaku`. The manifest is read as JSON and as CSV, the PDFs with pypdf (page counts)
and poppler's `pdftotext -layout` (text, one page per form feed), the demo's input files as
CSV. Functions return plain values; the tests make the assertions.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pypdf import PdfReader

# docs/issuance.md, "Output": the CSV's columns, in order. 通番 and 頁 are ranges, so each may
# be written as one column or as a (始)/(終) pair (CHOICE 3).
CSV_COLUMNS = (
    "区画",
    "種別",
    "容器番号",
    "容器数",
    "記号",
    "宛先",
    "郵便番号",
    "住所",
    "バーコード",
    "通数",
    "通番",
    "枚数",
    "ファイル",
    "頁",
)
# 種別 as the CSV writes it -> the JSON's kind (CHOICE 2).
KIND_JA = {"外封筒": "envelope", "箱": "box", "封書": "letter"}
# docs/security.md: a CSV text cell starting with one of these is written with a leading '.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# docs/issuance.md: `R000001-P0000001-0001` (run, partition, piece).
CONTROL_RE = re.compile(r"(?<![0-9A-Za-z])R(\d{6})-P(\d{7})-(\d{4})(?![0-9])")
WINDOW_RE = re.compile(r"\(記号\)\s*(\S+?)\s*\(番号\)\s*(\S+)")
TABLE_RE = re.compile(r"記号\s+(\S+)\s+番号\s+(\S+)\s+枝番\s+(\d{2})")
LAST4_RE = re.compile(r"マイナンバー（下4桁）[:：]\s*＊＊＊＊\s*＊＊＊＊\s*(\d{4})")
NO_DIGITS = "マイナンバー（下4桁）: 記載していません"
FORM_ENCLOSED = "マイナンバー登録申出書を同封しています"
LABEL_CONTENTS_RE = re.compile(r"この(箱|封筒)の内容（\s*(\d+)\s*/\s*(\d+)\s*）")
LABEL_RANGE_RE = re.compile(r"No\.\s*(\d+)\s*〜\s*(\d+)")
LABEL_COUNT_RE = re.compile(r"（\s*(\d+)\s*通）")
LIST_ROW_RE = re.compile(
    r"^\s*(\d+)\s+(\d{8})\s+(\S+)\s+(\d{2})\s+.*?(本人|家族)\s+(箱|封筒)\s*(\d+)\s*$",
    re.MULTILINE,
)
LABEL_KIND = {"箱": "box", "封筒": "envelope"}


@dataclass(frozen=True)
class Row:
    """One container row of manifest.json."""

    partition: int
    kind: str
    container: int
    containers: int
    symbol: str
    recipient: str
    postal_code: str
    address: str
    barcode: str
    pieces: int
    first_piece: int
    last_piece: int
    sheets: int
    file: str
    page_first: int
    page_last: int

    @staticmethod
    def from_json(d: dict[str, Any]) -> Row:
        return Row(**{name: d[name] for name in Row.__dataclass_fields__})


@dataclass(frozen=True)
class Page:
    """One PDF page as pdftotext reads it, classified by what render.md says it is."""

    number: int  # 1-based
    kind: str  # label, cover, list, notice, form, unknown
    text: str

    @cached_property
    def controls(self) -> list[tuple[int, int, int]]:
        return [(int(r), int(p), int(n)) for r, p, n in CONTROL_RE.findall(self.text)]


@dataclass(frozen=True)
class Notice:
    """What a notice page says about its piece."""

    file: str
    page: int
    run: int
    partition: int
    piece: int
    symbol: str  # 記号, from the data table
    number: str  # 番号
    branch: str  # 枝番
    window_symbol: str
    window_number: str
    last4: str | None  # the My Number digits shown, None when none are
    says_form_enclosed: bool


def classify(text: str) -> str:
    """The document a page holds, by its title or headings (CHOICE 5)."""
    if "■ あなたの資格情報" in text:
        return "notice"
    if "マイナンバー登録申出書" in text and "■ ご記入欄" in text:
        return "form"
    if "の送付について（ご案内）" in text:
        return "cover"
    if text.lstrip().startswith("配付一覧（"):
        return "list"
    if "特定記録" in text and "在中" in text and LABEL_CONTENTS_RE.search(text):
        return "label"
    return "unknown"


def pdf_page_count(path: Path) -> int:
    return len(PdfReader(path).pages)


def pdf_pages(path: Path) -> list[Page]:
    out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout.decode("utf-8")
    texts = out.split("\f")
    if texts and not texts[-1].strip():
        texts = texts[:-1]
    return [Page(i + 1, classify(t), t) for i, t in enumerate(texts)]


def notice_of(file: str, page: Page) -> Notice | None:
    controls = page.controls
    table = TABLE_RE.search(page.text)
    window = WINDOW_RE.search(page.text)
    if len(controls) != 1 or table is None or window is None:
        return None
    run, partition, piece = controls[0]
    last4 = LAST4_RE.search(page.text)
    return Notice(
        file=file,
        page=page.number,
        run=run,
        partition=partition,
        piece=piece,
        symbol=table.group(1),
        number=table.group(2),
        branch=table.group(3),
        window_symbol=window.group(1),
        window_number=window.group(2),
        last4=last4.group(1) if last4 else None,
        says_form_enclosed=FORM_ENCLOSED in page.text,
    )


def sha256_tree(root: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under root."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def read_csv_rows(path: Path) -> tuple[bytes, list[str], list[list[str]]]:
    """(first three bytes, header, data rows) of manifest.csv."""
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return raw[:3], rows[0], rows[1:]


def csv_column_map(header: list[str]) -> dict[str, int] | None:
    """Column name -> index, with 通番/頁 split into (始)/(終) when written so; None if the
    header does not follow docs/issuance.md's order."""
    index: dict[str, int] = {}
    i = 0
    for name in CSV_COLUMNS:
        if i < len(header) and header[i] == name:
            index[name] = i
            i += 1
        elif i + 1 < len(header) and header[i].startswith(name) and header[i + 1].startswith(name):
            index[name + "(始)"] = i
            index[name + "(終)"] = i + 1
            i += 2
        else:
            return None
    return index if i == len(header) else None


def csv_text(value: str) -> str:
    """How docs/security.md says a text cell is written."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def normalise(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


@dataclass(frozen=True)
class Member:
    symbol: str
    number: str
    branch: str
    my_number: str
    my_number_status: str


def read_members(path: Path) -> list[Member]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            Member(
                symbol=normalise(r["記号"]),
                number=str(int(normalise(r["番号"]))),
                branch=normalise(r["枝番"]),
                my_number=normalise(r["個人番号"]),
                my_number_status=normalise(r["個人番号状態"]),
            )
            for r in csv.DictReader(f)
        ]


def read_employers(path: Path) -> dict[str, str]:
    """記号 -> 送付先 from the demo's employers.csv (CP932)."""
    with path.open(encoding="cp932", newline="") as f:
        return {normalise(r["記号"]): normalise(r["送付先"]) for r in csv.DictReader(f)}


class RunOutput:
    """One run folder: its manifests and, read once, the text of every page."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @cached_property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.folder / "manifest.json").read_text("utf-8"))
        return data

    @cached_property
    def rows(self) -> list[Row]:
        return [Row.from_json(d) for d in self.json["containers"]]

    @cached_property
    def files(self) -> list[str]:
        return sorted({r.file for r in self.rows})

    @cached_property
    def pages(self) -> dict[str, list[Page]]:
        return {f: pdf_pages(self.folder / f) for f in self.files}

    @cached_property
    def notices(self) -> list[Notice]:
        found: list[Notice] = []
        for f, pages in self.pages.items():
            for page in pages:
                if page.kind == "notice":
                    notice = notice_of(f, page)
                    if notice is not None:
                        found.append(notice)
        return found

    def partitions(self) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = {}
        for r in self.rows:
            out.setdefault(r.partition, []).append(r)
        return out

    def container_of_piece(self) -> dict[tuple[int, int], Row]:
        """(partition, piece) -> its container row."""
        return {
            (r.partition, n): r for r in self.rows for n in range(r.first_piece, r.last_piece + 1)
        }
