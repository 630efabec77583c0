"""An issuance run's output folder checked against docs/issuance.md, from its files alone.

Independent of the implementation: written from docs/issuance.md, docs/render.md,
docs/settings.md, docs/demo.md, docs/security.md and /work/shared/DOMAIN.md, without reading
src/ or the issuance/render tests, and never through shikaku's Python API. The real command
line makes a registry (`db upgrade`, `demo-data`, `import` employers then members) in a
temporary folder, the folder is copied, and `issue notices` runs once with one Dask worker
and once with two (with other task sizes). The checks read manifest.json, manifest.csv, the
PDFs (pypdf for page counts, `pdftotext -layout` for text) and the demo's input CSVs.

Settings are small so that every rule is exercised on ~1,500 members: envelope_capacity 6,
box_capacity 15 (boxes, several boxes and box + envelope parcels occur), batch_letters 3 and
postal_area_digits 1 (home letters in several batches, some with several letters).

Where the documents leave room, the choice made:

CHOICE 1. Determinism is checked between `--workers 1` with task_notices 100 and
  extract_employers 50, and `--workers 2` with task_notices 37 and extract_employers 17 (set by
  environment): issuance.md says numbers, pieces and bytes never depend on the number of tasks
  or workers, and settings.md that output never depends on extract_employers.
CHOICE 2. The JSON names the kinds `envelope` (外封筒), `box` (箱) and `letter` (封書); the
  JSON row fields are read by name (partition, kind, container, containers, symbol, recipient,
  postal_code, address, barcode, pieces, first_piece, last_piece, sheets, file, page_first,
  page_last) and compared with the CSV's columns in issuance.md's order.
CHOICE 3. 通番 and 頁 are ranges: the CSV may write each as one column or as a 始/終 pair.
  The 合計 row gives the total pieces under 通数, sheets under 枚数, barcoded letters under
  バーコード (issuance.md), files under ファイル, pages under 頁 (its 終 column when split) and
  containers under 容器番号 or 容器数.
CHOICE 4. 枚数 (sheets) is the number of pages of the container that go inside it: every page
  of its range except its label page (the label goes on the outside). A home letter has no
  label: sheets = pages.
CHOICE 5. Pages are recognised by their headings: a notice by 「■ あなたの資格情報」, the
  申出書 by its title and 「■ ご記入欄」, the cover letter by 「…の送付について（ご案内）」, the
  distribution list by its title 「配付一覧（」 at the top, the label by 特定記録, 在中 and
  「この箱の内容（k / n）」 or 「この封筒の内容（k / n）」. The print order is render.md's.
CHOICE 6. "Larger ones fill boxes" is read as: no box but the last could have taken the next
  household too, every container but the last is a box, and the last container is an
  outer envelope exactly when it holds at most envelope_capacity pieces ("a remainder small
  enough").
CHOICE 7. A household is an insured person and their dependents: the same 記号 and 番号
  (DOMAIN.md §4). The never-split rule is checked for employer parcels (home letters hold one
  notice each).
CHOICE 8. The distribution list's No. is the piece number (通番), as on the labels
  (「No. a〜b」).
CHOICE 9. A letters file is named `letters/B{partition:07d}-{area}.pdf` with the postal area's
  digits, a parcel `parcels/P{partition:07d}-{記号}.pdf` (issuance.md's examples).
CHOICE 10. docs/console.md gives the portal's 管理番号 as `R000001-P0000001` and says it is for
  inquiries to the insurer; the parcel's own pages (label, cover letter, list) must show the same
  string. (This check found labels, covers and lists printing `R000001-P000001`.)
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import stat
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reference.run_oracle import (
    KIND_JA,
    LABEL_CONTENTS_RE,
    LABEL_COUNT_RE,
    LABEL_KIND,
    LABEL_RANGE_RE,
    LIST_ROW_RE,
    NO_DIGITS,
    Member,
    Row,
    RunOutput,
    csv_column_map,
    csv_text,
    pdf_page_count,
    read_csv_rows,
    read_employers,
    read_members,
    sha256_tree,
)

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils' pdftotext is not installed"
)

SHIKAKU = str(Path(sys.executable).parent / "shikaku")
MEMBERS = 1500
SEED = 11
EXTRACTION_DATE = "2024-06-07"
ISSUED_ON = "2024-09-09"
ENVELOPE_CAPACITY = 6
BOX_CAPACITY = 15
BATCH_LETTERS = 3
POSTAL_AREA_DIGITS = 1
BARCODE_DISCOUNT_MIN_LETTERS = 1000  # docs/settings.md default (mail.*)
CONFIG = f"""\
[issuance]
envelope_capacity = {ENVELOPE_CAPACITY}
box_capacity = {BOX_CAPACITY}
batch_letters = {BATCH_LETTERS}
postal_area_digits = {POSTAL_AREA_DIGITS}
task_notices = 100
extract_employers = 50
"""
RUN_FOLDER = Path("shikaku-out") / "run-000001"


@dataclass(frozen=True)
class Runs:
    one: RunOutput  # --workers 1
    two: RunOutput  # --workers 2, other task sizes
    members: list[Member]
    employers: dict[str, str]  # 記号 -> 送付先


def _shikaku(cwd: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [SHIKAKU, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, (
        f"shikaku {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


def _env(folder: Path, key: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIKAKU_")}
    env["SHIKAKU_CONFIG"] = str(folder / "shikaku.toml")
    env["SHIKAKU_MY_NUMBER_KEY"] = key
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    base = tmp_path_factory.mktemp("run_output")
    key = base64.b64encode(os.urandom(64)).decode()
    registry = base / "registry"
    registry.mkdir()
    (registry / "shikaku.toml").write_text(CONFIG, encoding="utf-8")
    env = _env(registry, key)
    _shikaku(registry, env, "db", "upgrade")
    _shikaku(registry, env, "demo-data", "--members", str(MEMBERS), "--seed", str(SEED),
             "--out", "in")  # fmt: skip
    _shikaku(registry, env, "import", "in/employers.csv")
    _shikaku(registry, env, "import", "in/members.csv")
    one, two = base / "one", base / "two"
    shutil.copytree(registry, one)
    shutil.copytree(registry, two)
    issue = ("issue", "notices", "--extraction-date", EXTRACTION_DATE, "--issued-on", ISSUED_ON)
    _shikaku(one, _env(one, key), *issue, "--workers", "1")
    _shikaku(
        two,
        _env(
            two,
            key,
            SHIKAKU_ISSUANCE__TASK_NOTICES="37",
            SHIKAKU_ISSUANCE__EXTRACT_EMPLOYERS="17",
        ),
        *issue,
        "--workers",
        "2",
    )
    return Runs(
        one=RunOutput(one / RUN_FOLDER),
        two=RunOutput(two / RUN_FOLDER),
        members=read_members(registry / "in" / "members.csv"),
        employers=read_employers(registry / "in" / "employers.csv"),
    )


def _problems(items: list[str], limit: int = 15) -> str:
    shown = "\n".join(items[:limit])
    more = f"\n… and {len(items) - limit} more" if len(items) > limit else ""
    return f"{len(items)} problem(s):\n{shown}{more}"


# 1. Determinism -------------------------------------------------------------------------


def test_same_bytes_whatever_the_workers(runs: Runs) -> None:
    one, two = sha256_tree(runs.one.folder), sha256_tree(runs.two.folder)
    assert sorted(one) == sorted(two), (
        f"file names differ: only with 1 worker {sorted(set(one) - set(two))}, "
        f"only with 2 {sorted(set(two) - set(one))}"
    )
    differ = [name for name in sorted(one) if one[name] != two[name]]
    assert not differ, f"files whose bytes differ between 1 and 2 workers: {differ[:20]}"
    assert {"manifest.csv", "manifest.json"} <= set(one)


# 2. manifest.csv = manifest.json, totals -----------------------------------------------


def test_csv_and_json_describe_the_same_rows(runs: Runs) -> None:
    bom, header, data = read_csv_rows(runs.one.folder / "manifest.csv")
    assert bom == b"\xef\xbb\xbf", "manifest.csv must start with a UTF-8 BOM"
    columns = csv_column_map(header)
    assert columns is not None, f"manifest.csv header is not issuance.md's columns: {header}"
    assert data and data[-1][0] == "合計", "manifest.csv must end with a 合計 row"
    body = data[:-1]
    rows = runs.one.rows
    assert len(body) == len(rows), f"CSV has {len(body)} container rows, JSON {len(rows)}"

    def cell(values: list[str], name: str) -> str:
        return values[columns[name]]

    problems: list[str] = []
    for i, (values, r) in enumerate(zip(body, rows, strict=True), start=1):
        expected = {
            "区画": str(r.partition),
            "容器番号": str(r.container),
            "容器数": str(r.containers),
            "記号": csv_text(r.symbol),
            "宛先": csv_text(r.recipient),
            "郵便番号": csv_text(r.postal_code),
            "住所": csv_text(r.address),
            "バーコード": csv_text(r.barcode),
            "通数": str(r.pieces),
            "枚数": str(r.sheets),
            "ファイル": csv_text(r.file),
        }
        if "通番" in columns:
            expected["通番"] = f"{r.first_piece}-{r.last_piece}"
        else:
            expected["通番(始)"], expected["通番(終)"] = str(r.first_piece), str(r.last_piece)
        if "頁" in columns:
            expected["頁"] = f"{r.page_first}-{r.page_last}"
        else:
            expected["頁(始)"], expected["頁(終)"] = str(r.page_first), str(r.page_last)
        for name, want in expected.items():
            if cell(values, name) != want:
                problems.append(f"row {i} {name}: CSV {cell(values, name)!r}, JSON {want!r}")
        kind = KIND_JA.get(cell(values, "種別"))
        if kind != r.kind:
            problems.append(f"row {i} 種別 {cell(values, '種別')!r} vs JSON kind {r.kind!r}")
    assert not problems, _problems(problems)


def _totals_from_rows(runs: Runs) -> dict[str, int | bool]:
    rows = runs.one.rows
    kinds = Counter(r.kind for r in rows)
    letters = [r for r in rows if r.kind in ("envelope", "letter")]
    barcoded = sum(1 for r in letters if r.barcode)
    last_page: dict[str, int] = {}
    for r in rows:
        last_page[r.file] = max(last_page.get(r.file, 0), r.page_last)
    return {
        "partitions": len({r.partition for r in rows}),
        "files": len(last_page),
        "containers": len(rows),
        "envelopes": kinds["envelope"],
        "boxes": kinds["box"],
        "letters": kinds["letter"],
        "pieces": sum(r.pieces for r in rows),
        "sheets": sum(r.sheets for r in rows),
        "pages": sum(last_page.values()),
        "barcode_letters": barcoded,
        "letters_without_barcode": len(letters) - barcoded,
        "barcode_discount": barcoded >= BARCODE_DISCOUNT_MIN_LETTERS,
    }


def test_json_totals_are_the_sums_of_the_rows(runs: Runs) -> None:
    data = runs.one.json
    assert data["run"] == "R000001" and data["extraction_date"] == EXTRACTION_DATE
    assert data["issued_on"] == ISSUED_ON
    assert data["barcode_discount_min_letters"] == BARCODE_DISCOUNT_MIN_LETTERS
    want = _totals_from_rows(runs)
    got = {name: data["totals"].get(name) for name in want}
    assert got == want, f"manifest.json totals {got} != sums over its rows {want}"
    assert want["envelopes"] + want["boxes"] + want["letters"] == want["containers"]
    assert set(Counter(r.kind for r in runs.one.rows)) <= {"envelope", "box", "letter"}
    files_on_disk = sum(1 for _ in runs.one.folder.rglob("*.pdf"))
    assert want["files"] == files_on_disk, (
        f"{files_on_disk} PDF files in the run folder, the manifest names {want['files']}"
    )


def test_csv_total_row(runs: Runs) -> None:
    _, header, data = read_csv_rows(runs.one.folder / "manifest.csv")
    columns = csv_column_map(header)
    assert columns is not None
    total = data[-1]
    want = _totals_from_rows(runs)
    page_column = columns.get("頁", columns.get("頁(終)"))
    assert page_column is not None
    got = {
        "pieces": total[columns["通数"]],
        "sheets": total[columns["枚数"]],
        "barcode_letters": total[columns["バーコード"]],
        "files": total[columns["ファイル"]],
        "pages": total[page_column],
    }
    expected = {name: str(want[name]) for name in got}
    assert got == expected, f"合計 row {total} gives {got}, the rows sum to {expected}"
    containers = {total[columns["容器番号"]], total[columns["容器数"]]}
    assert str(want["containers"]) in containers, (
        f"合計 row {total}: no cell under 容器番号/容器数 gives the {want['containers']} containers"
    )


# 3. Files and pages ----------------------------------------------------------------------


def test_files_exist_and_containers_tile_their_pages(runs: Runs) -> None:
    problems: list[str] = []
    by_file: dict[str, list[Row]] = {}
    for r in runs.one.rows:
        by_file.setdefault(r.file, []).append(r)
    for name, rows in by_file.items():
        path = runs.one.folder / name
        if not path.is_file():
            problems.append(f"{name}: named by the manifest, not in the run folder")
            continue
        pages = pdf_page_count(path)
        if pages != rows[-1].page_last:
            problems.append(
                f"{name}: {pages} pages, its last container ends at {rows[-1].page_last}"
            )
        expected_next = 1
        for r in rows:
            if r.page_first != expected_next or r.page_last < r.page_first:
                problems.append(
                    f"{name}: container {r.container} pages {r.page_first}-{r.page_last}, "
                    f"expected to start at {expected_next}"
                )
            expected_next = r.page_last + 1
        if len({r.partition for r in rows}) != 1:
            problems.append(
                f"{name}: holds several partitions {sorted({r.partition for r in rows})}"
            )
        if [r.container for r in rows] != list(range(1, len(rows) + 1)):
            problems.append(f"{name}: containers {[r.container for r in rows]} not 1..n in order")
        if len(runs.one.pages[name]) != pages:
            problems.append(
                f"{name}: pdftotext reads {len(runs.one.pages[name])} pages, pypdf {pages}"
            )
    assert not problems, _problems(problems)


# 4. Pieces ----------------------------------------------------------------------------------


def test_pieces_tile_each_partition(runs: Runs) -> None:
    problems: list[str] = []
    for partition, rows in runs.one.partitions().items():
        expected_next = 1
        for r in rows:
            if r.first_piece != expected_next:
                problems.append(
                    f"P{partition} container {r.container}: 通番 {r.first_piece}-{r.last_piece}, "
                    f"expected to start at {expected_next}"
                )
            if r.pieces != r.last_piece - r.first_piece + 1 or r.pieces < 1:
                problems.append(
                    f"P{partition} container {r.container}: 通数 {r.pieces} for 通番 "
                    f"{r.first_piece}-{r.last_piece}"
                )
            if r.containers != len(rows):
                problems.append(f"P{partition}: 容器数 {r.containers} but {len(rows)} rows")
            expected_next = r.last_piece + 1
    assert not problems, _problems(problems)


# 5. Packing and households ------------------------------------------------------------------


def _household_sizes(runs: Runs) -> dict[tuple[int, int], int]:
    """(partition, piece) -> size of the household starting at that piece (0 elsewhere)."""
    by_piece = {(n.partition, n.piece): (n.symbol, n.number) for n in runs.one.notices}
    starts: dict[tuple[int, int], int] = {}
    start = (0, 0)
    for (partition, piece), household in sorted(by_piece.items()):
        if by_piece.get((partition, piece - 1)) == household:
            starts[start] += 1
        else:
            start = (partition, piece)
            starts[start] = 1
    return starts


def test_packing_rules(runs: Runs) -> None:
    problems: list[str] = []
    starts = _household_sizes(runs)
    for partition, rows in runs.one.partitions().items():
        if rows[0].kind == "letter":
            if any(r.kind != "letter" or r.pieces != 1 for r in rows):
                problems.append(f"P{partition}: a mailing batch must be one 封書 per notice")
            continue
        total = sum(r.pieces for r in rows)
        if any(r.kind not in ("envelope", "box") for r in rows):
            problems.append(f"P{partition}: parcel with kinds {[r.kind for r in rows]}")
        if total <= ENVELOPE_CAPACITY and [r.kind for r in rows] != ["envelope"]:
            problems.append(f"P{partition}: {total} pieces must be one outer envelope")
        for r in rows:
            limit = ENVELOPE_CAPACITY if r.kind == "envelope" else BOX_CAPACITY
            if r.pieces > limit:
                problems.append(f"P{partition} {r.kind} {r.container}: {r.pieces} > {limit} pieces")
        for r in rows[:-1]:
            if r.kind != "box":
                problems.append(f"P{partition}: container {r.container} of {len(rows)} is {r.kind}")
            following = starts.get((partition, r.last_piece + 1), 0)
            if r.pieces + following <= BOX_CAPACITY:
                problems.append(
                    f"P{partition} box {r.container}: {r.pieces} pieces, the next household "
                    f"({following}) would still fit (CHOICE 6)"
                )
        last = rows[-1]
        want = "envelope" if last.pieces <= ENVELOPE_CAPACITY else "box"
        if last.kind != want:
            problems.append(f"P{partition}: last container of {last.pieces} pieces is {last.kind}")
    assert not problems, _problems(problems)
    kinds = Counter(r.kind for r in runs.one.rows)
    shapes = Counter(tuple(r.kind for r in rows) for rows in runs.one.partitions().values())
    assert kinds["box"] and kinds["envelope"] and kinds["letter"], (
        f"the settings should give boxes, envelopes and letters: {kinds}"
    )
    assert any(len(s) > 2 and s[0] == "box" for s in shapes), f"no parcel of 3+ boxes: {shapes}"
    assert any(s[-1] == "envelope" and len(s) > 1 for s in shapes), (
        f"no parcel of boxes plus an envelope: {shapes}"
    )


def test_households_are_never_split_and_in_order(runs: Runs) -> None:
    container = runs.one.container_of_piece()
    problems: list[str] = []
    where: dict[tuple[int, str, str], set[int]] = {}
    order: dict[int, list[tuple[int, str, int]]] = {}
    for n in runs.one.notices:
        row = container.get((n.partition, n.piece))
        if row is None:
            problems.append(f"{n.file} page {n.page}: piece {n.piece} in no container")
            continue
        if row.kind == "letter":
            continue
        where.setdefault((n.partition, n.symbol, n.number), set()).add(row.container)
        order.setdefault(n.partition, []).append((int(n.number), n.branch, n.piece))
    for (partition, symbol, number), containers in sorted(where.items()):
        if len(containers) > 1:
            problems.append(
                f"P{partition} household {symbol}-{number} split over {sorted(containers)}"
            )
    for partition, notices in order.items():
        by_piece = [(number, branch) for number, branch, _ in sorted(notices, key=lambda t: t[2])]
        if by_piece != sorted(by_piece):
            problems.append(f"P{partition}: notices not in 番号 (numeric), 枝番 order: {by_piece}")
    assert not problems, _problems(problems)
    people = Counter((n.partition, n.symbol, n.number) for n in runs.one.notices)
    assert any(c > 1 for c in people.values()), "no household of several people was read"


# 6. Control codes ---------------------------------------------------------------------------


def test_control_codes_are_the_manifest_pieces(runs: Runs) -> None:
    problems: list[str] = []
    run_number = int(runs.one.json["run"][1:])
    for name, pages in runs.one.pages.items():
        rows = [r for r in runs.one.rows if r.file == name]
        partition = rows[0].partition
        pieces: list[int] = []
        for page in pages:
            if page.kind == "notice":
                if len(page.controls) != 1:
                    problems.append(f"{name} page {page.number}: controls {page.controls}")
                    continue
                run, part, piece = page.controls[0]
                if run != run_number or part != partition:
                    problems.append(
                        f"{name} page {page.number}: control R{run:06d}-P{part:07d}, "
                        f"file is R{run_number:06d}-P{partition:07d}"
                    )
                pieces.append(piece)
                row = next((r for r in rows if r.page_first <= page.number <= r.page_last), None)
                if row is None or not row.first_piece <= piece <= row.last_piece:
                    problems.append(
                        f"{name} page {page.number}: piece {piece} outside its container's 通番"
                    )
        expected = [n for r in rows for n in range(r.first_piece, r.last_piece + 1)]
        if pieces != expected:
            problems.append(f"{name}: notices' pieces {pieces[:30]} != manifest {expected[:30]}")
    assert not problems, _problems(problems)
    assert len(runs.one.notices) == runs.one.json["totals"]["pieces"]


def test_print_order_and_sheets(runs: Runs) -> None:
    problems: list[str] = []
    for r in runs.one.rows:
        pages = runs.one.pages[r.file][r.page_first - 1 : r.page_last]
        kinds = [p.kind for p in pages]
        where = f"{r.file} container {r.container} (pages {r.page_first}-{r.page_last})"
        if "unknown" in kinds:
            problems.append(f"{where}: unrecognised page(s) {kinds}")
            continue
        rest = kinds
        if r.kind != "letter":
            if not rest or rest[0] != "label":
                problems.append(f"{where}: does not start with its label page: {kinds}")
                continue
            rest = rest[1:]
            if r.container == 1:
                n_list = 0
                if rest[:1] == ["cover"]:
                    rest = rest[1:]
                    while rest[:1] == ["list"]:
                        rest, n_list = rest[1:], n_list + 1
                if n_list == 0:
                    problems.append(f"{where}: container 1 lacks cover letter + list: {kinds}")
        body = [p for p in pages if p.kind in ("notice", "form")]
        if [p.kind for p in body] != rest:
            problems.append(f"{where}: after label/cover/list, only notices and forms: {kinds}")
        notices = [p for p in body if p.kind == "notice"]
        if len(notices) != r.pieces:
            problems.append(f"{where}: {len(notices)} notices for 通数 {r.pieces}")
        for i, page in enumerate(body):
            if page.kind == "form":
                before = body[i - 1] if i else None
                if before is None or before.kind != "notice":
                    problems.append(f"{where} page {page.number}: 申出書 not after a notice")
                elif page.controls != before.controls:
                    problems.append(
                        f"{where} page {page.number}: 申出書 control {page.controls} "
                        f"!= its notice's {before.controls}"
                    )
        sheets = len(pages) - (1 if r.kind != "letter" else 0)
        if r.sheets != sheets:
            problems.append(f"{where}: 枚数 {r.sheets}, pages less label {sheets} (CHOICE 4)")
    assert not problems, _problems(problems)


def test_labels_and_lists_agree_with_the_manifest(runs: Runs) -> None:
    problems: list[str] = []
    container = runs.one.container_of_piece()
    notice_at = {(n.partition, n.piece): n for n in runs.one.notices}
    for r in runs.one.rows:
        if r.kind == "letter":
            text = runs.one.pages[r.file][r.page_first - 1].text
            postal = f"〒{r.postal_code[:3]}-{r.postal_code[3:]}"
            if postal not in text:
                problems.append(f"{r.file} letter {r.container}: {postal} not in its window")
            continue
        label = runs.one.pages[r.file][r.page_first - 1].text
        contents = LABEL_CONTENTS_RE.search(label)
        span = LABEL_RANGE_RE.search(label)
        count = LABEL_COUNT_RE.search(label)
        where = f"{r.file} label of container {r.container}"
        if contents is None or span is None or count is None:
            problems.append(f"{where}: no contents, No. range or count")
            continue
        shown = (LABEL_KIND[contents.group(1)], int(contents.group(2)), int(contents.group(3)))
        if shown != (r.kind, r.container, r.containers):
            problems.append(
                f"{where}: shows {shown}, manifest {(r.kind, r.container, r.containers)}"
            )
        if (int(span.group(1)), int(span.group(2)), int(count.group(1))) != (
            r.first_piece,
            r.last_piece,
            r.pieces,
        ):
            problems.append(f"{where}: No. {span.group(0)} {count.group(0)}, manifest {r}")
        postal = f"〒{r.postal_code[:3]}-{r.postal_code[3:]}"
        if postal not in label:
            problems.append(f"{where}: {postal} not on the label")
    for name, pages in runs.one.pages.items():
        listed = [m for p in pages if p.kind == "list" for m in LIST_ROW_RE.finditer(p.text)]
        first = next(r for r in runs.one.rows if r.file == name)
        if first.kind == "letter":
            continue
        partition = first.partition
        numbers = [int(m.group(1)) for m in listed]
        pieces = sorted(n.piece for n in runs.one.notices if n.partition == partition)
        if numbers != pieces:
            problems.append(f"{name}: list No. {numbers[:20]}… != pieces {pieces[:20]}…")
            continue
        for m in listed:
            piece = int(m.group(1))
            n = notice_at[(partition, piece)]
            row = container[(partition, piece)]
            if (m.group(2), m.group(3), m.group(4)) != (n.symbol, n.number, n.branch):
                problems.append(f"{name}: list No. {piece} {m.group(2, 3, 4)} vs notice {n}")
            if (LABEL_KIND[m.group(6)], int(m.group(7))) != (row.kind, row.container):
                problems.append(
                    f"{name}: list No. {piece} in {m.group(6)}{m.group(7)}, manifest "
                    f"{row.kind} {row.container}"
                )
            if (m.group(5) == "本人") != (n.branch == "00"):
                problems.append(f"{name}: list No. {piece} {m.group(5)} with 枝番 {n.branch}")
    assert not problems, _problems(problems)


def test_every_parcel_page_shows_the_management_number(runs: Runs) -> None:
    """docs/console.md: the employer portal's 管理番号 (R000001-P0000001) is "for inquiries
    to the insurer"; the label, cover letter and list an employer holds must show the same
    number, which is also the start of its notices' control codes (CHOICE 10)."""
    problems: list[str] = []
    for name, pages in runs.one.pages.items():
        first = next(r for r in runs.one.rows if r.file == name)
        if first.kind == "letter":
            continue
        code = f"R000001-P{first.partition:07d}"
        for page in pages:
            if page.kind in ("label", "cover", "list") and code not in page.text:
                problems.append(f"{name} page {page.number} ({page.kind}): {code} not shown")
    assert not problems, _problems(problems)


# Partitions and deliveries -------------------------------------------------------------------


def test_partition_numbers_and_batches(runs: Runs) -> None:
    problems: list[str] = []
    ranks = {symbol: i for i, symbol in enumerate(sorted(runs.employers), start=1)}
    parts = runs.one.partitions()
    letters = sorted(p for p, rows in parts.items() if rows[0].kind == "letter")
    parcels = sorted(p for p, rows in parts.items() if rows[0].kind != "letter")
    for p in parcels:
        r = parts[p][0]
        if ranks.get(r.symbol) != p:
            problems.append(f"parcel of 記号 {r.symbol} is P{p}, its rank is {ranks.get(r.symbol)}")
        if runs.employers.get(r.symbol) != "事業所":
            problems.append(f"P{p}: parcel for 記号 {r.symbol} whose 送付先 is not 事業所")
        if any(row.file != f"parcels/P{p:07d}-{r.symbol}.pdf" for row in parts[p]):
            problems.append(f"P{p}: file {r.file} (CHOICE 9)")
        if any(row.symbol != r.symbol for row in parts[p]):
            problems.append(f"P{p}: several 記号")
    if letters != list(range(len(ranks) + 1, len(ranks) + 1 + len(letters))):
        problems.append(
            f"batches {letters} are not numbered right after the last rank {len(ranks)}"
        )
    areas: list[str] = []
    for p in letters:
        rows = parts[p]
        area = {r.postal_code[:POSTAL_AREA_DIGITS] for r in rows}
        if len(area) != 1:
            problems.append(f"B{p}: mixes postal areas {sorted(area)}")
        if len(rows) > BATCH_LETTERS:
            problems.append(f"B{p}: {len(rows)} letters > batch_letters {BATCH_LETTERS}")
        areas.append(min(area))
        if any(r.file != f"letters/B{p:07d}-{min(area)}.pdf" for r in rows):
            problems.append(f"B{p}: file {rows[0].file} (CHOICE 9)")
    if areas != sorted(areas):
        problems.append(f"batches not in postal-area order: {areas}")
    for n in runs.one.notices:
        if n.symbol != n.window_symbol or n.number != n.window_number:
            problems.append(f"{n.file} page {n.page}: window and table disagree")
        kind = parts[n.partition][0].kind
        delivery = runs.employers.get(n.symbol)
        if kind == "letter" and delivery != "自宅":
            problems.append(f"{n.file}: home letter for 記号 {n.symbol} (送付先 {delivery})")
        if kind != "letter" and n.symbol != parts[n.partition][0].symbol:
            problems.append(f"{n.file} page {n.page}: notice of 記号 {n.symbol} in another parcel")
    assert not problems, _problems(problems)
    assert any(len(parts[p]) > 1 for p in letters), "no batch holds several letters"


# 7. My Number and privacy --------------------------------------------------------------------


def test_each_person_one_notice_and_my_number_digits(runs: Runs) -> None:
    members = {(m.symbol, m.number, m.branch): m for m in runs.members}
    seen = Counter((n.symbol, n.number, n.branch) for n in runs.one.notices)
    twice = [k for k, c in seen.items() if c > 1]
    assert not twice, f"people with more than one notice: {twice[:10]}"
    problems: list[str] = []
    for n in runs.one.notices:
        m = members.get((n.symbol, n.number, n.branch))
        if m is None:
            problems.append(f"{n.file} page {n.page}: {n.symbol}-{n.number}-{n.branch} unknown")
            continue
        registered = m.my_number_status == "登録済"
        want = m.my_number[-4:] if registered else None
        if n.last4 != want:
            problems.append(
                f"{n.symbol}-{n.number}-{n.branch} ({m.my_number_status or '未登録'}): "
                f"shows {n.last4!r}, expected {want!r}"
            )
        if n.says_form_enclosed == registered:
            problems.append(
                f"{n.symbol}-{n.number}-{n.branch}: 申出書 note wrong for {registered=}"
            )
    assert not problems, _problems(problems)
    enclosed = Counter(n.says_form_enclosed for n in runs.one.notices)
    assert enclosed[True] and enclosed[False], f"both kinds of notices expected: {enclosed}"
    forms = sum(1 for pages in runs.one.pages.values() for p in pages if p.kind == "form")
    assert forms == enclosed[True], f"{forms} 申出書 pages for {enclosed[True]} notices saying so"
    no_digits = sum(1 for pages in runs.one.pages.values() for p in pages if NO_DIGITS in p.text)
    assert no_digits == enclosed[True]


def test_no_my_number_in_names_manifests_or_text(runs: Runs) -> None:
    numbers = {m.my_number for m in runs.members if m.my_number}
    assert len(numbers) > 100
    folder = runs.one.folder
    names = [p.relative_to(folder).as_posix() for p in folder.rglob("*")]
    found = [name for name in names if any(n in name for n in numbers)]
    assert not found, f"file names holding a My Number: {found}"
    assert not any(re.search(r"\d{12}", name) for name in names), "a 12-digit run in a file name"
    texts = [
        ("manifest.csv", (folder / "manifest.csv").read_text("utf-8-sig")),
        ("manifest.json", (folder / "manifest.json").read_text("utf-8")),
    ] + [(f"{f} p{p.number}", p.text) for f, pages in runs.one.pages.items() for p in pages]
    leaks: list[str] = []
    for where, text in texts:
        digits = re.sub(r"\s", "", text)
        for run in re.findall(r"\d{12,}", digits):
            if any(run[i : i + 12] in numbers for i in range(len(run) - 11)):
                leaks.append(where)
                break
    assert not leaks, f"a whole My Number appears in: {leaks[:10]}"


def test_run_folder_is_private(runs: Runs) -> None:
    problems: list[str] = []
    for run in (runs.one, runs.two):
        for path in [run.folder, *run.folder.rglob("*")]:
            mode = stat.S_IMODE(path.stat().st_mode)
            want = 0o700 if path.is_dir() else 0o600
            if mode != want:
                problems.append(f"{path}: mode {mode:o}, expected {want:o}")
    assert not problems, _problems(problems)
