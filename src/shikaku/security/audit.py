"""The audit log: every read of a member's data, as a SHA-256 hash chain.

    row_hash = SHA-256(prev_hash || canonical(id, at, clinic_id, kind, person_id, result, detail))

The first row's prev_hash is 32 zero bytes; every other row's is its predecessor's row_hash.
`canonical` is the compact JSON array of the seven values (see `canonical`), so anyone can
recompute the chain from a database dump with a few lines of any language.

This module is the chain itself, pure: what an entry may hold, the hashed bytes, and
`check_chain`, which names every row that was edited, inserted or deleted. Rows removed from
the end (or a consistent rewrite of the newest rows) leave no trace inside the chain: compare
with a head hash recorded elsewhere (`anchor`). Writing and reading the `audit_log` table is
storage: registry.auditlog (`AuditWriter`, `verify_chain`).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditProblem",
    "AuditReport",
    "actor_of",
    "canonical",
    "chain_hash",
    "check_chain",
]

GENESIS = bytes(32)
"""prev_hash of the first row."""

# Kinds written by shikaku (others may be added: lower-case ASCII, at most 32 characters).
ELIGIBILITY = "eligibility"
FHIR_ELIGIBILITY = "fhir_eligibility"
FHIR_COVERAGE = "fhir_coverage"
CONSOLE_READ = "console_read"

MAX_RESULT = 32
MAX_DETAIL = 2000
_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")
# Twelve digits in a row, once spaces and dashes are taken out: possibly a My Number.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ー]")
_LONG_DIGITS = re.compile(r"\d{12}")

# Encoders built once (json.dumps with options builds a new encoder on every call).
_DETAIL_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_CANONICAL_JSON = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def _may_hold_my_number(value: str) -> bool:
    if len(value) < 12 and value.isascii():  # NFKC leaves ASCII as it is: too short
        return False
    return bool(_LONG_DIGITS.search(_SEPARATORS.sub("", unicodedata.normalize("NFKC", value))))


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited event, as the caller describes it; the writer adds id and hashes.

    `detail` is a small JSON object (stored as compact JSON with sorted keys). Nothing in
    `result` or `detail` may look like a My Number: twelve digits in a row are refused.
    `at` is UTC (naive, or aware and converted); default: when the batch is written.
    """

    kind: str
    clinic_id: int | None = None
    person_id: int | None = None
    result: str | None = None
    detail: Mapping[str, Any] | None = None
    at: datetime | None = None
    detail_json: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if not _KIND.fullmatch(self.kind):
            raise ValueError(f"audit kind must be lower-case ASCII, ≤ 32 chars: {self.kind!r}")
        if self.result is not None and len(self.result) > MAX_RESULT:
            raise ValueError(f"audit result longer than {MAX_RESULT} characters")
        text_ = None
        if self.detail is not None:
            text_ = _DETAIL_JSON.encode(self.detail)
            if len(text_) > MAX_DETAIL:
                raise ValueError(f"audit detail longer than {MAX_DETAIL} characters")
        # One scan over both (the JSON text holds every key and value of the detail).
        if _may_hold_my_number(f"{self.result or ''}\x00{text_ or ''}"):
            # Never echo the value: it may be a My Number.
            raise ValueError("audit result/detail must not contain 12 digits in a row")
        if self.at is not None and self.at.tzinfo is not None:
            object.__setattr__(self, "at", self.at.astimezone(UTC).replace(tzinfo=None))
        object.__setattr__(self, "detail_json", text_)


def canonical(
    id: int,
    at: datetime,
    clinic_id: int | None,
    kind: str,
    person_id: int | None,
    result: str | None,
    detail: str | None,
) -> bytes:
    """The bytes hashed for a row: a compact, ASCII-only JSON array, `at` as ISO 8601 with
    microseconds, e.g. `[1,"2026-11-27T01:02:03.000004",7,"eligibility",42,"1",null]`."""
    values = [id, at.isoformat(timespec="microseconds"), clinic_id, kind, person_id, result, detail]
    return _CANONICAL_JSON.encode(values).encode("ascii")


def chain_hash(
    prev_hash: bytes,
    id: int,
    at: datetime,
    clinic_id: int | None,
    kind: str,
    person_id: int | None,
    result: str | None,
    detail: str | None,
) -> bytes:
    h = hashlib.sha256(prev_hash)
    h.update(canonical(id, at, clinic_id, kind, person_id, result, detail))
    return h.digest()


def actor_of(detail: str | None) -> str | None:
    """Who acted, for a row written by the console or the portal (`detail`'s "user"); None
    for a clinic's row or a detail that names nobody."""
    if not detail or '"user"' not in detail:
        return None
    try:
        value = json.loads(detail).get("user")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


# ------------------------------------------------------------------ verifying


@dataclass(frozen=True, slots=True)
class AuditProblem:
    row_id: int
    kind: str  # edited / deleted / inserted / unlinked / anchor
    ja: str
    en: str


@dataclass
class AuditReport:
    rows: int = 0
    first_id: int | None = None
    last_id: int | None = None
    head_hash: bytes = GENESIS  # the last row's row_hash: record it elsewhere, as an anchor
    problems: list[AuditProblem] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)  # problems by kind, all of them
    max_problems: int = 1000  # problems kept in the list; counts count them all

    @property
    def ok(self) -> bool:
        return not self.counts

    @property
    def problem_count(self) -> int:
        return sum(self.counts.values())

    def _add(self, row_id: int, kind: str, ja: str, en: str) -> None:
        self.counts[kind] += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(AuditProblem(row_id, kind, ja, en))


_WINDOW = 1024  # recent row hashes kept to recognise what a broken link points to


def check_chain(
    rows: Iterable[Any], anchor: tuple[int, bytes] | None = None, max_problems: int = 1000
) -> AuditReport:
    """Recompute every hash of `rows` (in id order, with the audit_log columns as attributes);
    report every edited, inserted and deleted row.

    - edited: the row's hash does not match its content;
    - deleted: ids are missing (ids have no gaps by construction);
    - inserted: a row the chain skips (the next row is chained to the row before it), or a
      last row whose prev_hash is not its predecessor's hash;
    - unlinked: a row chained to a row that is not its predecessor (the predecessor was
      replaced or re-hashed, or rows were deleted and the rest renumbered);
    - anchor: `anchor` = (id, row_hash) recorded earlier does not match (rewritten or
      truncated log).

    One pass, a window of recent hashes: memory does not grow with the log (the report keeps
    `max_problems` problems; its counts count them all)."""
    report = AuditReport(max_problems=max_problems)
    _check(_lookahead(rows), report, anchor)
    return report


def _lookahead(rows: Any) -> Iterator[tuple[Any, Any]]:
    prev = None
    for row in rows:
        if prev is not None:
            yield prev, row
        prev = row
    if prev is not None:
        yield prev, None


def _check(pairs: Iterator[tuple[Any, Any]], report: AuditReport, anchor: Any) -> None:
    prev_id, prev_hash = 0, GENESIS  # the row the next one must be chained to
    seen_id = 0  # the previous row's id: ids have no gaps
    recent: OrderedDict[bytes, int] = OrderedDict({GENESIS: 0})
    for row, nxt in pairs:
        report.rows += 1
        if report.first_id is None:
            report.first_id = row.id
        report.last_id = row.id
        stored = bytes(row.row_hash)
        report.head_hash = stored
        chained_to = bytes(row.prev_hash)
        computed = chain_hash(
            chained_to,
            row.id,
            row.at,
            row.clinic_id,
            row.kind,
            row.person_id,
            row.result,
            row.detail,
        )
        skip = False  # the chain goes around this row: keep checking against prev
        if computed != stored:
            report._add(
                row.id,
                "edited",
                f"{row.id} 行目: 内容がハッシュと一致しません（書き込み後に変更されています）",
                f"row {row.id}: its hash does not match its content (edited after it was written)",
            )
        first, last = seen_id + 1, row.id - 1
        seen_id = row.id
        if first <= last:
            span = f"{first}" if first == last else f"{first}–{last}"
            report._add(
                first,
                "deleted",
                f"{span} 行目がありません（削除されています）",
                f"row(s) {span} missing (deleted)",
            )
        elif chained_to != prev_hash:
            older = recent.get(chained_to)
            if older is not None and older < prev_id:
                span = f"{older + 1}" if older + 1 == prev_id else f"{older + 1}–{prev_id}"
                report._add(
                    older + 1,
                    "inserted",
                    f"{span} 行目は連鎖の外にあります（後から挿入されています）: {row.id} 行目は"
                    f" {older} 行目に連鎖しています",
                    f"row(s) {span} are outside the chain (inserted): row {row.id} is chained "
                    f"to row {older}",
                )
            elif nxt is not None and bytes(nxt.prev_hash) == prev_hash:
                skip = True
                report._add(
                    row.id,
                    "inserted",
                    f"{row.id} 行目は連鎖の外にあります（後から挿入されています）: 次の行は"
                    f" {prev_id} 行目に連鎖しています",
                    f"row {row.id} is outside the chain (inserted): the next row is chained "
                    f"to row {prev_id}",
                )
            elif nxt is None:
                report._add(
                    row.id,
                    "inserted",
                    f"{row.id} 行目（最後の行）は {prev_id} 行目に連鎖していません（後から挿入"
                    f"されたか、{prev_id} 行目が置き換えられています）",
                    f"row {row.id} (the last) is not chained to row {prev_id}: inserted, or "
                    f"row {prev_id} was replaced",
                )
            else:
                report._add(
                    row.id,
                    "unlinked",
                    f"{row.id} 行目は {prev_id} 行目に連鎖していません: {prev_id} 行目が置き換え"
                    f"られたか（改ざん後にハッシュを再計算）、行が削除され番号が詰められています",
                    f"row {row.id} is not chained to row {prev_id}: row {prev_id} was replaced "
                    f"(edited and re-hashed), or rows were deleted and the ids renumbered",
                )
        if anchor is not None and row.id == anchor[0] and stored != anchor[1]:
            report._add(
                row.id,
                "anchor",
                f"{row.id} 行目のハッシュが記録済みの値と違います（書き換えられています）",
                f"row {row.id}: hash differs from the recorded anchor (rewritten)",
            )
        if not skip:
            prev_id, prev_hash = row.id, stored
            recent[stored] = row.id
            if len(recent) > _WINDOW:
                recent.popitem(last=False)
    if anchor is not None and (report.last_id or 0) < anchor[0]:
        report._add(
            anchor[0],
            "anchor",
            f"記録済みの {anchor[0]} 行目がありません（末尾が削除されています）",
            f"anchored row {anchor[0]} is missing (the log was truncated)",
        )
