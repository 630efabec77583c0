"""Typed records parsed from import rows: employers and members.

Parsing needs no database, so a parser process reads and parses the file while the main
process writes the previous batch. The My Number is encrypted here, at the earliest moment;
the plain number never leaves the parser.

Speed (a million rows a minute is the floor, not the goal) shapes two choices here:
- a batch is parsed column by column: each distinct cell value of a column is parsed once
  (dates, codes and names repeat), then mapped over the column in C;
- dates travel as ISO strings (YYYY-MM-DD), the form SQLite stores and PostgreSQL's COPY
  reads, which also compare correctly as strings. Records cross the process boundary as
  plain tuples, the cheapest thing to pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache, partial
from hashlib import blake2b
from operator import itemgetter
from typing import Any, NamedTuple

from shikaku.domain.errors import DomainError
from shikaku.domain.identifiers import validate_insurer_number, validate_my_number
from shikaku.domain.members import (
    DEPENDENT_WITH_PAY,
    ELIGIBLE_BEFORE_BIRTH,
    LOSS_REASON_WITHOUT_LOST_ON,
    LOST_ON_NOT_AFTER_START,
    MYNACARD_CANCELLED_BEFORE_REGISTERED,
    MYNACARD_DATES_WITHOUT_REGISTRATION,
    Delivery,
    Relationship,
    my_number_status,
    parse_branch,
    parse_delivery,
    parse_electronic_delivery,
    parse_loss_reason,
    parse_number,
    parse_relationship,
    parse_symbol,
    validate_branch,
)
from shikaku.domain.normalize import (
    EARLIEST_DATE,
    LATEST_DATE,
    DateRange,
    normalize_code,
    normalize_kana,
    normalize_name,
    normalize_postal_code,
    normalize_text,
    parse_flag,
    parse_sex,
    validate_length,
    validate_no_long_digit_run,
)
from shikaku.registry.columns import COLUMNS, REQUIRED_KEYS, FileKind
from shikaku.registry.rows import REQUIRED, HeaderMap, Parser, RowError, mask_value
from shikaku.security.mynumber import MyNumberVault

_SEP = "\x1f"


_BLAKE2B_16 = blake2b(digest_size=16)


def _hash(text: str) -> bytes:
    """16-byte BLAKE2b of the text; copying a prepared state is cheaper than making one."""
    h = _BLAKE2B_16.copy()
    h.update(text.encode("utf-8"))
    return h.digest()


def _digest(*parts: object) -> bytes:
    """Hash of the fields' text joined by U+001F; stored, so the form must never change."""
    return _hash(_SEP.join(map(str, parts)))


def _text(kind: FileKind, key: str) -> Parser:
    """The parser of a free-text column: names and kana by their rules, the rest as text
    with runs of whitespace made one space; longer than the column's limit is refused."""
    column = next(c for c in COLUMNS[kind] if c.key == key)
    ja, en, limit = column.header, column.key, column.max_length
    if kind is FileKind.MEMBERS and key in ("name", "name_kana"):
        normalize = normalize_name if key == "name" else normalize_kana
    else:
        normalize = partial(normalize_text, field_ja=ja, field_en=en)

    def parse(raw: str) -> str:
        value = normalize(raw)
        if limit is not None and len(value) > limit:
            validate_length(value, limit, ja, en)
        return validate_no_long_digit_run(value, ja, en)

    return parse


MAX_PAY_DIGITS = 8  # 10,000,000 yen: more digits are out of range before int() reads them


def _yen(raw: str) -> int:
    value = normalize_code(
        raw.replace(",", "").replace("円", ""), "標準報酬月額", "pay", digits=None
    )
    significant = value.lstrip("0") or "0"
    amount = int(significant) if len(significant) <= MAX_PAY_DIGITS else 0
    if not 1 <= amount <= 10_000_000:
        raise DomainError("標準報酬月額が範囲外です", "standard monthly pay out of range")
    return amount


JST = timedelta(hours=9)  # Japan has no daylight saving time


def japan_today() -> date:
    """The day in Japan, whatever the machine's time zone: the import day."""
    return (datetime.now(UTC) + JST).date()


@dataclass(frozen=True, slots=True)
class ParseContext:
    insurer_number: str
    insured_branch: str
    today: date = field(default_factory=japan_today)  # no one is born after the import day


# Any date of the registry: printable in 和暦 (from 明治元年) and far from overflowing
# (see domain.normalize.LATEST_DATE).
_date = DateRange(EARLIEST_DATE, LATEST_DATE)


def _birth_date(today: date) -> Parser:
    """A birth date: from 明治元年 (1868-01-01) to the import day."""
    name = (
        f"取込日（{today.year}年{today.month}月{today.day}日）",
        f"the import day ({today.isoformat()})",
    )
    return DateRange(EARLIEST_DATE, today, name)


class EmployerRecord(NamedTuple):
    line: int
    insurer_number: str
    symbol: str
    name: str
    name_kana: str
    postal_code: str
    address: str
    phone: str | None
    delivery: str
    category: str | None
    electronic_delivery: bool | None  # None: the setting console.electronic_delivery
    row_hash: bytes


class MemberRecord(NamedTuple):
    """One member row, ready to store. Dates are ISO strings (see the module docstring)."""

    line: int
    insurer_number: str
    symbol: str
    number: str
    branch: str
    relationship: int
    name: str
    name_kana: str
    birth_date: str
    sex: int
    eligible_from: str
    lost_on: str | None
    loss_reason: str | None
    my_number_ct: bytes | None
    my_number_bidx: bytes | None
    my_number_status: str
    postal_code: str | None
    address: str | None
    mynacard_registered_on: str | None
    mynacard_cancelled_on: str | None
    ecert_expires_on: str | None
    standard_monthly_pay: int | None
    pay_effective_from: str | None
    tax_exempt: bool | None
    old_card_expires_on: str | None
    person_hash: bytes
    row_hash: bytes

    @property
    def has_pay(self) -> bool:
        return self.standard_monthly_pay is not None or self.tax_exempt is not None


# Distinct values remembered per column: every date of a century fits.
MEMO_LIMIT = 1 << 14
Rows = Sequence[tuple[int, list[str]]]
# Columns whose values rarely repeat across batches: remembering them would only cost memory.
UNIQUE_PER_ROW = frozenset({"address", "phone"})


class _Columns:
    """Parses a batch column by column by a plan fixed once per file.

    Each distinct value of a column is parsed once; errors are collected per row and
    column, never stopping at the first. Good values are remembered across batches
    (bounded, so memory stays flat), so only values not seen before reach Python code;
    a bad value is parsed again each time, its error never cached.
    """

    def __init__(self, header: HeaderMap, plan: Sequence[tuple[str, Parser]]) -> None:
        self.width = max(header.index.values(), default=-1) + 1
        self.names = {key: header.names.get(key, key) for key, _p in plan}
        required = REQUIRED_KEYS[header.kind]  # the column spec says which values are required
        # (key, column, parser, required, memo: raw cell → parsed value (None for an allowed
        # blank), how many values the memo keeps across batches)
        self.plan: list[tuple[str, int | None, Parser, bool, dict[str, Any], int]] = [
            (
                key,
                header.index.get(key),
                parse,
                key in required,
                {},
                0 if key in UNIQUE_PER_ROW else MEMO_LIMIT,  # kept across batches up to this
            )
            for key, parse in plan
        ]

    def cells(self, rows: Rows) -> list[list[str]]:
        """The rows' cells, short rows padded so that the columns line up."""
        width = self.width
        cells = list(map(itemgetter(1), rows))
        if min(map(len, cells), default=width) >= width:
            return cells
        return [c if len(c) >= width else c + [""] * (width - len(c)) for c in cells]

    def parse(
        self, rows: Rows, cells: list[list[str]]
    ) -> tuple[list[list[Any]], dict[int, list[RowError]]]:
        """Parsed columns (one list per plan entry) and the errors by row position."""
        n = len(rows)
        columns = list(zip(*cells, strict=False)) if cells else []
        errors: dict[int, list[RowError]] = {}
        out: list[list[Any]] = []
        for key, index, parse, required, known, limit in self.plan:
            if index is None:  # an optional column the file lacks (map_header refused the rest)
                out.append([None] * n)
                continue
            column = columns[index]
            if len(known) > limit:
                known.clear()
            bad: dict[str, DomainError] = {}
            for raw in set(column).difference(known):
                if not raw or raw.isspace():
                    if required:
                        bad[raw] = REQUIRED
                    else:
                        known[raw] = None
                    continue
                try:
                    known[raw] = parse(raw)
                except DomainError as exc:
                    bad[raw] = exc
            out.append(list(map(known.get, column)))  # a bad value is None, as a blank
            if bad:
                for i, raw in enumerate(column):
                    if raw in bad:
                        errors.setdefault(i, []).append(self.error(rows[i][0], key, raw, bad[raw]))
        return out, errors

    def error(self, line: int, key: str, raw: str, exc: DomainError) -> RowError:
        return RowError(line, self.names.get(key, key), mask_value(raw), exc.ja, exc.en)


class EmployerParser:
    def __init__(self, header: HeaderMap, ctx: ParseContext) -> None:
        self.ctx = ctx
        self.columns = _Columns(
            header,
            [
                ("insurer_number", validate_insurer_number),
                ("symbol", parse_symbol),
                ("name", _text(FileKind.EMPLOYERS, "name")),
                ("name_kana", _text(FileKind.EMPLOYERS, "name_kana")),
                ("postal_code", normalize_postal_code),
                ("address", _text(FileKind.EMPLOYERS, "address")),
                ("phone", _text(FileKind.EMPLOYERS, "phone")),
                ("delivery", lambda raw: str(parse_delivery(raw))),
                ("category", _text(FileKind.EMPLOYERS, "category")),
                ("electronic_delivery", parse_electronic_delivery),
            ],
        )

    def __call__(self, rows: Rows) -> tuple[list[tuple[Any, ...]], list[RowError]]:
        cells = self.columns.cells(rows)
        columns, errors = self.columns.parse(rows, cells)
        records: list[tuple[Any, ...]] = []
        for i, values in enumerate(zip(*columns, strict=True)):
            if i in errors:
                continue
            insurer, symbol, name, kana, postal, address, phone, delivery, category, online = values
            insurer = insurer or self.ctx.insurer_number
            delivery = delivery or str(Delivery.EMPLOYER)
            # 電子交付 joins the hash only when given: rows without it hash as before.
            given = () if online is None else (online,)
            digest = _digest(
                insurer, symbol, name, kana, postal, address, phone, delivery, category, *given
            )
            records.append(
                (
                    rows[i][0], insurer, symbol, name, kana, postal, address, phone, delivery,
                    category, online, digest,
                )
            )  # fmt: skip
        return records, [e for i in sorted(errors) for e in errors[i]]


def _member_plan(ctx: ParseContext) -> tuple[tuple[str, Parser], ...]:
    """The member columns in the order MemberParser unpacks them, each with its parser."""
    return (
        ("insurer_number", validate_insurer_number),
        ("symbol", parse_symbol),
        ("number", parse_number),
        ("branch", parse_branch),
        ("relationship", lambda raw: int(parse_relationship(raw))),
        ("name", _text(FileKind.MEMBERS, "name")),
        ("name_kana", _text(FileKind.MEMBERS, "name_kana")),
        ("birth_date", _birth_date(ctx.today)),
        ("sex", parse_sex),
        ("eligible_from", _date),
        ("lost_on", _date),
        ("loss_reason", parse_loss_reason),
        ("postal_code", normalize_postal_code),
        ("address", _text(FileKind.MEMBERS, "address")),
        ("mynacard_registered_on", _date),
        ("mynacard_cancelled_on", _date),
        ("ecert_expires_on", _date),
        ("standard_monthly_pay", _yen),
        ("pay_effective_from", _date),
        ("tax_exempt", parse_flag),
        ("old_card_expires_on", _date),
        ("my_number_status", str.strip),
    )


_INSURED = int(Relationship.INSURED)
_DEPENDENT = int(Relationship.DEPENDENT)


def _checked_my_number(raw: str) -> str | DomainError | None:
    """validate_my_number as a value: None for a blank cell, the error for a bad number."""
    if not raw:
        return None
    try:
        return validate_my_number(raw)
    except DomainError as exc:
        return exc.with_traceback(None)  # its frames hold the plain number


@lru_cache(maxsize=256)
def _status(has_number: bool, stated: str) -> str | DomainError:
    """my_number_status as a value, cached: the column holds a handful of words."""
    try:
        return str(my_number_status(has_number, stated))
    except DomainError as exc:
        return exc.with_traceback(None)


@lru_cache(maxsize=1024)
def _branch_problem(relationship: int, branch: str, insured_branch: str) -> DomainError | None:
    """validate_branch as a value, cached: few relationship and branch pairs occur."""
    try:
        validate_branch(Relationship(relationship), branch, insured_branch)
    except DomainError as exc:
        return exc.with_traceback(None)
    return None


class MemberParser:
    """A batch of member rows → records (My Number already encrypted) and errors."""

    def __init__(self, header: HeaderMap, ctx: ParseContext, vault: MyNumberVault) -> None:
        self.ctx = ctx
        self.vault = vault
        plan = _member_plan(ctx)
        self.columns = _Columns(header, plan)
        self.my_number_index = header.index.get("my_number")
        self.names = self.columns.names | {"my_number": header.names.get("my_number", "個人番号")}
        self.index = {key: header.index.get(key) for key, _p in plan}
        self.index["my_number"] = self.my_number_index

    def __call__(self, rows: Rows) -> tuple[list[tuple[Any, ...]], list[RowError]]:
        cells = self.columns.cells(rows)
        columns, errors = self.columns.parse(rows, cells)
        records: list[tuple[Any, ...]] = []
        insured_branch, default_insurer = self.ctx.insured_branch, self.ctx.insurer_number
        mn = self.my_number_index
        if mn is not None:
            raw_numbers = list(map(str.strip, map(itemgetter(mn), cells)))
        else:
            raw_numbers = [""] * len(rows)
        # The vault's calls run back to back, a pass each: interleaved with the rest of a
        # row's work they took twice as long (measured; the crypto code leaves the CPU caches).
        numbers = list(map(_checked_my_number, raw_numbers))
        encrypt, blind_index = self.vault.encrypt, self.vault.blind_index
        cts = [encrypt(m) if isinstance(m, str) else None for m in numbers]
        bidxs = [blind_index(m) if isinstance(m, str) else None for m in numbers]
        problems: list[tuple[str, DomainError]] = []  # one row's cross-field faults, usually none
        lines = map(itemgetter(0), rows)
        for i, values in enumerate(
            zip(lines, raw_numbers, numbers, cts, bidxs, *columns, strict=True)
        ):
            (line, raw_number, my_number, ct, bidx, insurer, symbol, number, branch, relationship,
             name, kana, birth, sex, eligible_from, lost_on, loss_reason, postal, address,
             registered_on, cancelled_on, ecert, pay, pay_from, exempt, old_card,
             status_text) = values  # fmt: skip

            # Rules across fields, in report order.
            if isinstance(my_number, DomainError):
                problems.append(("my_number", my_number))
            status = _status(bool(raw_number), status_text or "")
            if isinstance(status, DomainError):
                problems.append(("my_number_status", status))
            if relationship is not None and branch is not None:
                wrong_branch = _branch_problem(relationship, branch, insured_branch)
                if wrong_branch is not None:
                    problems.append(("branch", wrong_branch))
            if eligible_from is not None:
                if lost_on is not None and lost_on <= eligible_from:
                    problems.append(("lost_on", LOST_ON_NOT_AFTER_START))
                if birth is not None and eligible_from < birth:
                    problems.append(("eligible_from", ELIGIBLE_BEFORE_BIRTH))
            # A value that failed to parse is None too: its own error says so, and a rule
            # about a blank value would only add a false second reason.
            if loss_reason is not None and lost_on is None and self._blank(cells[i], "lost_on"):
                problems.append(("loss_reason", LOSS_REASON_WITHOUT_LOST_ON))
            if relationship == _DEPENDENT and pay is not None:
                problems.append(("standard_monthly_pay", DEPENDENT_WITH_PAY))
            if (
                registered_on is None
                and (cancelled_on is not None or ecert is not None)
                and self._blank(cells[i], "mynacard_registered_on")
            ):
                problems.append(
                    (
                        "mynacard_cancelled_on" if cancelled_on else "ecert_expires_on",
                        MYNACARD_DATES_WITHOUT_REGISTRATION,
                    )
                )
            if registered_on and cancelled_on and cancelled_on < registered_on:
                problems.append(("mynacard_cancelled_on", MYNACARD_CANCELLED_BEFORE_REGISTERED))
            if problems:
                errors.setdefault(i, []).extend(
                    self._error(line, cells[i], key, exc) for key, exc in problems
                )
                problems.clear()
                continue
            if i in errors:
                continue

            if pay is not None or exempt is not None:
                pay_from = pay_from or eligible_from
            # _digest(*fields), with the text built in one go: str() of each field (!s).
            person_hash = _hash(
                f"{symbol!s}\x1f{relationship!s}\x1f{name!s}\x1f{kana!s}\x1f{birth!s}"
                f"\x1f{sex!s}\x1f{postal!s}\x1f{address!s}\x1f{bidx.hex() if bidx else None!s}"
                f"\x1f{status!s}\x1f{old_card!s}"
            )
            row_hash = _hash(
                f"{person_hash.hex()}\x1f{eligible_from!s}\x1f{lost_on!s}\x1f{loss_reason!s}"
                f"\x1f{registered_on!s}\x1f{cancelled_on!s}\x1f{ecert!s}\x1f{pay!s}"
                f"\x1f{pay_from!s}\x1f{exempt!s}"
            )
            records.append((
                line, insurer or default_insurer, symbol, number, branch, relationship, name,
                kana, birth, sex, eligible_from, lost_on, loss_reason, ct, bidx, status, postal,
                address, registered_on, cancelled_on, ecert, pay, pay_from, exempt, old_card,
                person_hash, row_hash,
            ))  # fmt: skip
        return records, [e for i in sorted(errors) for e in errors[i]]

    def _blank(self, cells: list[str], key: str) -> bool:
        """Whether the row leaves the column empty (or the file lacks it)."""
        idx = self.index.get(key)
        return idx is None or not cells[idx].strip()

    def _error(self, line: int, cells: list[str], key: str, exc: DomainError) -> RowError:
        idx = self.index.get(key)
        raw = cells[idx] if idx is not None else ""
        return RowError(line, self.names[key], mask_value(raw), exc.ja, exc.en)
