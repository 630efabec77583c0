"""Reconciliation: prove that targets = documents = pieces in containers, from the files.

Every printed value is re-hashed against the ledger, every file is re-hashed and its pages
counted from the PDF itself, every container's pieces and pages are checked to tile the file
exactly once, and the manifest is rebuilt and compared byte for byte. `deep` also reads each
document's control code back from its first page with pdftotext.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, BinaryIO, cast

from pypdf import PdfReader
from sqlalchemy import Connection, Engine, and_, func, select

from shikaku.domain.identifiers import control_code
from shikaku.issuance.certificate_returns import RETURNS_CSV, RETURNS_PDF, write_returns_list
from shikaku.issuance.extract import CERTIFICATE_KINDS
from shikaku.issuance.manifest import MANIFEST_CSV, MANIFEST_JSON, write_manifest_files
from shikaku.issuance.return_letters import build_return_letters
from shikaku.issuance.runs import load_config
from shikaku.issuance.targets import Target
from shikaku.issuance.work import output_fs, renderer_for, sheet_file_name
from shikaku.registry.tables import certificates, run_containers, run_partitions, run_targets

Progress = Callable[[int], None]
_MAX_LISTED = 50


@dataclass
class VerifyReport:
    run_id: int
    targets: int = 0
    documents: int = 0
    pieces_in_containers: int = 0
    containers: int = 0
    files: int = 0
    pages: int = 0
    held: int = 0
    certificates: int = 0  # certificate runs: issued (certificates rows)
    card_sheets: int = 0  # certificate runs in sheet layout: n-up card files checked
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def fail(self, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < _MAX_LISTED:
            self.problems.append(message)


def _target_of(row: Any) -> Target:
    return Target(
        row.person_id, row.employer_id, row.symbol, row.number, row.branch, row.relationship,
        row.name, row.name_kana, row.birth_date, row.sex, row.eligible_from, row.copay_rate,
        row.my_number_state, row.my_number_last4, row.insured_name, row.delivery,
        row.postal_code, row.address, row.cert_reason, row.valid_until, row.effective_from,
        row.cap_category, row.supersedes,
    )  # fmt: skip


class _Digest:
    """A write-only sink that keeps a SHA-256 of what it is given."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        return len(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    @property
    def sink(self) -> BinaryIO:
        """Itself, as the writers' binary file (they only call `write`)."""
        return cast(BinaryIO, self)


def _digest(f: Any) -> tuple[str, int]:
    """SHA-256 and size of an open file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    while chunk := f.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _file_digest(fs: Any, path: str) -> str:
    with fs.open(path, "rb") as f:
        return _digest(f)[0]


def _file_pages(fs: Any, path: str) -> tuple[str, int, int]:
    with fs.open(path, "rb") as f:
        sha, size = _digest(f)
        f.seek(0)
        return sha, size, len(PdfReader(f).pages)


def _page_texts(fs: Any, path: str) -> list[str]:
    with fs.open(path, "rb") as f:
        data = f.read()
    out: str = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode("utf-8")
    return out.split("\f")


def verify_run(
    engine: Engine, run_id: int, deep: bool = False, progress: Progress | None = None
) -> VerifyReport:
    run, config = load_config(engine, run_id)
    report = VerifyReport(run_id)
    if run.status != "done":
        report.fail(f"実行の状態が {run.status} です（done ではありません）")
    fs, root = output_fs(run.output_url)
    t, p, c = run_targets.c, run_partitions.c, run_containers.c
    with engine.connect() as conn:
        partitions = {r.partition_no: r for r in conn.execute(
            select(run_partitions).where(p.run_id == run_id).order_by(p.partition_no)
        )}  # fmt: skip
        containers = {
            no: list(group)
            for no, group in groupby(
                conn.execute(
                    select(run_containers)
                    .where(c.run_id == run_id)
                    .order_by(c.partition_no, c.container_no)
                ),
                key=lambda r: r.partition_no,
            )
        }
        report.held = conn.execute(
            select(func.count()).where(t.run_id == run_id, t.partition_no <= 0)  # held
        ).scalar_one()
        targets = conn.execute(
            select(run_targets)
            .where(t.run_id == run_id, t.partition_no > 0)
            .order_by(t.partition_no, t.piece_no)
            .execution_options(yield_per=5000)
        )
        seen_partitions: set[int] = set()
        for partition_no, group in groupby(targets, key=lambda r: r.partition_no):
            rows = list(group)
            report.targets += len(rows)
            if partition_no is None or partition_no not in partitions:
                report.fail(f"区画のない対象者が {len(rows)} 人います")
                continue
            seen_partitions.add(partition_no)
            _check_partition(
                report, fs, root, run_id, partitions[partition_no], rows,
                containers.get(partition_no, []), deep,
            )  # fmt: skip
            if progress is not None:
                progress(len(rows))
        for missing in sorted(set(partitions) - seen_partitions):
            report.fail(f"区画 {missing}: 対象者がいません")
        expected = {MANIFEST_CSV: _Digest(), MANIFEST_JSON: _Digest()}
        write_manifest_files(
            conn, run, config.barcode_discount_min_letters,
            expected[MANIFEST_CSV].sink, expected[MANIFEST_JSON].sink,
        )  # fmt: skip
        if run.kind in CERTIFICATE_KINDS:
            expected[RETURNS_CSV] = _Digest()
            write_returns_list(conn, run_id, expected[RETURNS_CSV].sink)
            renderer = renderer_for(config)
            letters = build_return_letters(conn, run_id, renderer.fonts.unprintable)
            if letters:  # returns.pdf, rebuilt in memory with the run's frozen settings
                expected[RETURNS_PDF] = _Digest()
                renderer.render_return_letters(letters, expected[RETURNS_PDF].sink)
            elif fs.exists(f"{root}/{RETURNS_PDF}"):
                report.fail(f"{RETURNS_PDF} があります（返却のお願いはありません）")
            for problem in issued_mismatches(conn, run_id):
                report.fail(problem)
            report.certificates = issued_count(conn, run_id)
    for name, digest in expected.items():
        path = f"{root}/{name}"
        if not fs.exists(path):
            report.fail(f"{name} がありません")
        elif _file_digest(fs, path) != digest.hexdigest():
            report.fail(f"{name} が台帳と一致しません")
    if report.targets != report.documents or report.documents != report.pieces_in_containers:
        report.fail(
            f"件数が一致しません: 対象者 {report.targets}, 文書 {report.documents}, "
            f"容器内の通数 {report.pieces_in_containers}"
        )
    return report


def _check_partition(
    report: VerifyReport,
    fs: Any,
    root: str,
    run_id: int,
    part: Any,
    rows: list[Any],
    boxes: list[Any],
    deep: bool,
) -> None:
    name = f"区画 {part.partition_no} ({part.file_name})"
    if part.status != "done":
        report.fail(f"{name}: 未処理です")
        return
    pieces = [r.piece_no for r in rows]
    if pieces != list(range(1, len(rows) + 1)) or len(rows) != part.targets:
        report.fail(f"{name}: 通番が 1..{part.targets} になっていません")
    for r in rows:
        if r.status != "ready":
            report.fail(f"{name} 通番 {r.piece_no}: 保留の対象者が区画に入っています")
        if _target_of(r).content_hash() != bytes(r.content_hash):
            report.fail(f"{name} 通番 {r.piece_no}: 印字内容のハッシュが台帳と一致しません")
    path = f"{root}/{part.file_name}"
    if not fs.exists(path):
        report.fail(f"{name}: ファイルがありません")
        return
    report.files += 1
    sha, size, pages = _file_pages(fs, path)
    report.pages += pages
    if sha != part.sha256 or size != part.size:
        report.fail(f"{name}: ファイルのハッシュが台帳と一致しません")
    if pages != part.pages:
        report.fail(f"{name}: 頁数 {pages} が台帳の {part.pages} と一致しません")
    if part.sheet_sha256 is not None:
        sheet_path = f"{root}/{sheet_file_name(part.file_name)}"
        if not fs.exists(sheet_path):
            report.fail(f"{name}: カード面付けファイルがありません")
        else:
            report.card_sheets += 1
            s_sha, s_size, s_pages = _file_pages(fs, sheet_path)
            if (s_sha, s_size, s_pages) != (part.sheet_sha256, part.sheet_size, part.sheet_pages):
                report.fail(f"{name}: カード面付けファイルが台帳と一致しません")
    # Containers tile the pieces and the pages, in order, exactly once.
    next_piece, next_page = 1, 1
    by_container: dict[int, Any] = {}
    for box in boxes:
        report.containers += 1
        by_container[box.container_no] = box
        if box.first_piece != next_piece or box.page_first != next_page:
            report.fail(f"{name} 容器 {box.container_no}: 通番か頁が連続していません")
        next_piece, next_page = box.last_piece + 1, box.page_last + 1
        report.pieces_in_containers += box.last_piece - box.first_piece + 1
    if next_piece != len(rows) + 1 or next_page != pages + 1:
        report.fail(f"{name}: 容器が全通・全頁を覆っていません")
    texts = _page_texts(fs, path) if deep else []
    for r in rows:
        box = by_container.get(r.container_no)
        if r.page_first is None or box is None:
            report.fail(f"{name} 通番 {r.piece_no}: 文書が記録されていません")
            continue
        if not (box.first_piece <= r.piece_no <= box.last_piece) or not (
            box.page_first <= r.page_first <= r.page_last <= box.page_last
        ):
            report.fail(f"{name} 通番 {r.piece_no}: 文書が容器の範囲外です")
            continue
        report.documents += 1
        if deep:
            code = control_code(run_id, part.partition_no, r.piece_no)
            page = texts[r.page_first - 1] if r.page_first <= len(texts) else ""
            if code not in page:
                report.fail(f"{name} 通番 {r.piece_no}: {r.page_first} 頁に管理番号がありません")


def issued_count(conn: Connection, run_id: int) -> int:
    """How many certificates the run issued."""
    c = certificates.c
    return int(conn.execute(select(func.count()).where(c.run_id == run_id)).scalar_one())


def issued_mismatches(conn: Connection, run_id: int) -> list[str]:
    """verify: each ready target of a done partition is exactly one certificate with its
    printed 有効期限, and no certificate exists without its target."""
    c, t = certificates.c, run_targets.c
    problems = []
    joined = conn.execute(
        select(t.partition_no, t.piece_no, t.valid_until, c.id, c.valid_until.label("cv"))
        .outerjoin(
            certificates,
            and_(c.run_id == t.run_id, c.person_id == t.person_id),
        )
        .where(t.run_id == run_id, t.status == "ready")
    )
    for row in joined:
        if row.id is None:
            problems.append(f"区画 {row.partition_no} 通番 {row.piece_no}: 交付の記録がありません")
        elif row.cv != row.valid_until:
            problems.append(f"区画 {row.partition_no} 通番 {row.piece_no}: 有効期限が違います")
    stray = conn.execute(
        select(func.count())
        .select_from(certificates)
        .outerjoin(run_targets, and_(t.run_id == c.run_id, t.person_id == c.person_id))
        .where(c.run_id == run_id, t.person_id.is_(None))
    ).scalar_one()
    if stray:
        problems.append(f"対象者のいない交付記録が {stray} 件あります")
    return problems
