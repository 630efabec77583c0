"""What the employer portal does, as plain functions on ids: an employer's mailings (the
parcels of a run, or every reissue together), their distribution lists, hand-outs (one
household at a time or many, by check box or by the numbers on the envelopes), undo,
leavers whose envelopes go back, CSV and the notices as a ZIP.

Every query is filtered by the caller's employer id: a parcel of another employer is None
or a DeskError that does not tell it exists. Every change is written to the audit log with
the acting user, after it is committed (docs/console.md).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any

from pypdf import PdfReader, PdfWriter
from sqlalchemy import Connection, Engine, and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ColumnElement

from shikaku.domain.errors import DomainError
from shikaku.domain.identifiers import control_code, partition_code, run_label
from shikaku.domain.normalize import format_wareki, parse_date, to_halfwidth_ascii
from shikaku.issuance.work import output_fs
from shikaku.registry.auditlog import AuditWriter
from shikaku.registry.db import write_transaction
from shikaku.registry.tables import (
    console_users,
    employers,
    envelope_returns,
    hand_outs,
    persons,
    run_partitions,
    run_targets,
    runs,
)
from shikaku.security.audit import AuditEntry
from shikaku.security.outputs import csv_writer
from shikaku.service.accounts import User, now
from shikaku.service.desk import DeskError

PORTAL_READ = "portal_read"
PORTAL_DOWNLOAD = "portal_download"
PORTAL_HAND_OUT = "portal_hand_out"
PORTAL_HAND_OUT_UNDO = "portal_hand_out_undo"
PORTAL_RETURN = "portal_return"
PORTAL_RETURN_UNDO = "portal_return_undo"
PORTAL_EXPORT = "portal_export"

REISSUE = "reissue"
NOTICE_KINDS = ("full", "follow_up", REISSUE)  # runs of 資格情報のお知らせ (not 資格確認書)
LEFT_REASON_JA = {
    "retired": "退職",
    "died": "死亡",
    "dependent": "被扶養者でなくなった",
    "other": "その他",
}
STATE_JA = {"todo": "未配付", "done": "配付済み", "returned": "返戻"}
SORTS = ("number", "kana", "state")
SHOWS = ("all", "todo", "done", "returned")
JST = timedelta(hours=9)


def mailing_title(kind: str, issued_on: date) -> str:
    """The name a clerk knows a mailing by (the leaflet: 令和6年9月に送付, 令和7年1月ごろ)."""
    month = f"{issued_on.year}年{issued_on.month}月"
    return {
        "full": f"{month}送付分",
        "follow_up": f"追加送付（{month}）",
        REISSUE: "再発行",
        "certificates": f"資格確認書（{month}送付分）",
        "renewals": f"資格確認書の更新（{month}送付分）",
    }.get(kind, f"{month}送付分")


def jst(at: datetime | None) -> str:
    """A stored (naive UTC) time in Japan's time, for a CSV cell: 2024-10-01 14:05."""
    return "" if at is None else f"{at + JST:%Y-%m-%d %H:%M}"


def jst_ja(at: datetime) -> str:
    """The same time in a sentence, dated as the documents are: 令和6年10月1日 14:05."""
    local = at + JST
    return f"{format_wareki(local.date())} {local:%H:%M}"


# ------------------------------------------------------------------ progress and mailings


@dataclass(frozen=True)
class Progress:
    """Envelopes of a parcel (or several): handed out, returned, and the rest to hand out."""

    envelopes: int = 0
    handed_out: int = 0
    returned: int = 0

    @property
    def to_hand_out(self) -> int:
        return self.envelopes - self.handed_out - self.returned

    @property
    def settled(self) -> int:
        return self.handed_out + self.returned

    def __add__(self, other: Progress) -> Progress:
        return Progress(
            self.envelopes + other.envelopes,
            self.handed_out + other.handed_out,
            self.returned + other.returned,
        )


@dataclass(frozen=True)
class Parcel:
    """One employer parcel of one run: what the page header shows."""

    run_id: int
    partition_no: int
    run_kind: str
    issued_on: date
    targets: int
    status: str
    progress: Progress = Progress()

    @property
    def control(self) -> str:
        return partition_code(run_label(self.run_id), self.partition_no)

    @property
    def title(self) -> str:
        return mailing_title(self.run_kind, self.issued_on)

    @property
    def url(self) -> str:
        return f"/portal/parcels/{self.run_id}/{self.partition_no}"

    @property
    def notices(self) -> bool:
        return self.run_kind in NOTICE_KINDS

    @property
    def rendered(self) -> bool:
        return self.status == "done"


@dataclass
class Mailing:
    """What the home page lists: a run's parcel, or every reissue as one."""

    title: str
    kind: str
    issued_on: date
    parcels: list[Parcel]
    url: str

    @property
    def progress(self) -> Progress:
        return sum((p.progress for p in self.parcels), Progress())


@dataclass(frozen=True)
class Scope:
    """The envelopes a page works on: one parcel of a run, or every reissue of the employer."""

    employer_id: int
    run_id: int | None = None  # None: the reissue group
    partition_no: int | None = None

    @property
    def reissues(self) -> bool:
        return self.run_id is None

    @property
    def url(self) -> str:
        if self.run_id is None:
            return "/portal/reissues"
        return f"/portal/parcels/{self.run_id}/{self.partition_no}"

    def where(self) -> list[ColumnElement[bool]]:
        """Conditions on run_partitions (joined to runs) that select the scope's parcels."""
        part = run_partitions.c
        found = employer_parcels(self.employer_id)
        if self.run_id is None:
            return [*found, runs.c.kind == REISSUE]
        return [*found, part.run_id == self.run_id, part.partition_no == self.partition_no]


def employer_parcels(employer_id: int) -> list[ColumnElement[bool]]:
    """Conditions on run_partitions that select every parcel mailed to the employer."""
    part = run_partitions.c
    return [part.employer_id == employer_id, part.kind == "parcel"]


def _insured_key() -> Any:
    """The insured person a target's envelope is handed to (a dependent's household head)."""
    t = run_targets.c
    return case(
        (t.relationship == 1, t.person_id),
        else_=func.coalesce(persons.c.insured_id, t.person_id),
    )


def _parcels(engine: Engine, where: Sequence[ColumnElement[bool]]) -> list[Parcel]:
    """The parcels matching `where`, each with its progress: one aggregate query."""
    part, t, r = run_partitions.c, run_targets.c, runs.c
    er, h = envelope_returns.c, hand_outs.c
    returned = er.id.is_not(None)
    handed = and_(h.person_id.is_not(None), er.id.is_(None))
    counts = (
        select(
            t.run_id,
            t.partition_no,
            func.count().label("envelopes"),
            func.sum(case((handed, 1), else_=0)).label("handed_out"),
            func.sum(case((returned, 1), else_=0)).label("returned"),
        )
        .join_from(run_targets, persons, persons.c.id == t.person_id)
        .join(
            envelope_returns,
            and_(er.run_id == t.run_id, er.person_id == t.person_id),
            isouter=True,
        )
        .join(hand_outs, and_(h.run_id == t.run_id, h.person_id == _insured_key()), isouter=True)
        .join(
            run_partitions,
            and_(part.run_id == t.run_id, part.partition_no == t.partition_no),
        )
        .join(runs, r.id == part.run_id)
        .where(*where)
        .group_by(t.run_id, t.partition_no)
        .subquery()
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                part.run_id,
                part.partition_no,
                r.kind,
                r.issued_on,
                part.targets,
                part.status,
                counts.c.envelopes,
                counts.c.handed_out,
                counts.c.returned,
            )
            .join_from(run_partitions, runs, r.id == part.run_id)
            .join(
                counts,
                and_(counts.c.run_id == part.run_id, counts.c.partition_no == part.partition_no),
                isouter=True,
            )
            .where(*where)
            .order_by(part.run_id.desc(), part.partition_no)
        ).all()
    return [
        Parcel(
            row.run_id,
            row.partition_no,
            row.kind,
            row.issued_on,
            row.targets,
            row.status,
            Progress(int(row.envelopes or 0), int(row.handed_out or 0), int(row.returned or 0)),
        )
        for row in rows
    ]


def employer_of(engine: Engine, employer_id: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(employers).where(employers.c.id == employer_id)).first()


def electronic(engine: Engine, employer_id: int, default: bool) -> bool:
    """電子交付 for this employer: its registry field, else the setting (`default`)."""
    with engine.connect() as conn:
        value = conn.execute(
            select(employers.c.electronic_delivery).where(employers.c.id == employer_id)
        ).scalar_one_or_none()
    return default if value is None else bool(value)


def mailings(engine: Engine, employer_id: int) -> list[Mailing]:
    """The employer's mailings, newest first: each run's parcel, and every reissue as one."""
    found: list[Mailing] = []
    reissues: Mailing | None = None
    for parcel in _parcels(engine, employer_parcels(employer_id)):
        if parcel.run_kind == REISSUE:
            if reissues is None:
                reissues = Mailing("再発行", REISSUE, parcel.issued_on, [], "/portal/reissues")
                found.append(reissues)
            reissues.parcels.append(parcel)
            continue
        found.append(Mailing(parcel.title, parcel.run_kind, parcel.issued_on, [parcel], parcel.url))
    return found


def scope_parcels(engine: Engine, scope: Scope) -> list[Parcel]:
    """The scope's parcels (none: not this employer's, or no reissue yet)."""
    return _parcels(engine, scope.where())


# ------------------------------------------------------------------ the distribution list


@dataclass(frozen=True)
class Return:
    reason: str
    left_on: date | None
    left_reason: str | None
    source: str
    recorded_at: datetime
    received_at: datetime | None

    @property
    def awaiting(self) -> bool:
        """The employer reported it; the envelope has not reached the insurer yet."""
        return self.source == "employer" and self.received_at is None


@dataclass
class Line:
    """One individual envelope."""

    run_id: int
    partition_no: int
    piece_no: int
    person_id: int
    insured_id: int
    symbol: str
    number: str
    branch: str
    name: str
    name_kana: str
    insured_name: str
    relationship: int
    handed_at: datetime | None
    handed_by: str | None
    returned: Return | None
    issued_on: date | None = None  # the run's 作成日 (a reissue's date in the reissue list)

    @property
    def control(self) -> str:
        return control_code(self.run_id, self.partition_no, self.piece_no)

    @property
    def state(self) -> str:
        if self.returned is not None:
            return "returned"
        return "done" if self.handed_at is not None else "todo"


@dataclass
class Household:
    """An insured person's envelopes (theirs and their dependents'), handed out together."""

    run_id: int
    insured_id: int
    lines: list[Line] = field(default_factory=list)

    @property
    def head(self) -> Line:
        return self.lines[0]

    @property
    def insured_name(self) -> str:
        return self.head.insured_name

    @property
    def key(self) -> str:
        """The form value naming the household: run:insured person."""
        return f"{self.run_id}:{self.insured_id}"

    @property
    def handed_at(self) -> datetime | None:
        return self.head.handed_at

    @property
    def handed_by(self) -> str | None:
        return self.head.handed_by

    @property
    def todo(self) -> int:
        return sum(1 for line in self.lines if line.state == "todo")

    @property
    def returned(self) -> int:
        return sum(1 for line in self.lines if line.state == "returned")

    @property
    def state(self) -> str:
        """todo while an envelope is still here; done once handed out; returned when every
        envelope went back."""
        if self.todo:
            return "todo"
        if self.returned == len(self.lines):
            return "returned"
        return "done"

    @property
    def can_hand_out(self) -> bool:
        return self.handed_at is None and self.returned < len(self.lines)

    @property
    def open_line(self) -> Line | None:
        """The envelope a leaver form starts from: the first one not returned."""
        return next((line for line in self.lines if line.returned is None), None)

    @property
    def undoable_returns(self) -> list[Line]:
        """Returns the employer may withdraw: the insured person's (with the household's), or
        else each dependent's; only while the envelope has not reached the insurer."""
        awaiting = [x for x in self.lines if x.returned is not None and x.returned.awaiting]
        heads = [x for x in awaiting if x.relationship == 1]
        return heads or awaiting

    @property
    def return_notes(self) -> list[tuple[list[str], Line]]:
        """The household's returns, those alike together: (names, one of their lines)."""
        groups: dict[tuple[Any, ...], list[Line]] = {}
        for line in self.lines:
            r = line.returned
            if r is not None:
                key = (r.reason, r.left_on, r.left_reason, envelope_ja(line))
                groups.setdefault(key, []).append(line)
        return [([x.name for x in lines], lines[0]) for lines in groups.values()]

    @property
    def sort_kana(self) -> str:
        heads = [line for line in self.lines if line.relationship == 1]
        return (heads or self.lines)[0].name_kana


def lines_of(engine: Engine | Connection, scope: Scope) -> list[Line]:
    """Every envelope of the scope in print order (a household's envelopes together)."""
    part, t, r = run_partitions.c, run_targets.c, runs.c
    er, h, u = envelope_returns.c, hand_outs.c, console_users.c
    key = _insured_key()
    query = (
        select(
            t.run_id,
            t.partition_no,
            t.piece_no,
            t.person_id,
            key.label("insured_id"),
            t.symbol,
            t.number,
            t.branch,
            t.name,
            t.name_kana,
            t.insured_name,
            t.relationship,
            h.handed_out_at,
            u.name.label("handed_by"),
            er.reason,
            er.left_on,
            er.left_reason,
            er.source,
            er.recorded_at,
            er.received_at,
            r.issued_on,
        )
        .join_from(run_targets, persons, persons.c.id == t.person_id)
        .join(run_partitions, and_(part.run_id == t.run_id, part.partition_no == t.partition_no))
        .join(runs, r.id == t.run_id)
        .join(hand_outs, and_(h.run_id == t.run_id, h.person_id == key), isouter=True)
        .join(console_users, u.id == h.user_id, isouter=True)
        .join(
            envelope_returns,
            and_(er.run_id == t.run_id, er.person_id == t.person_id),
            isouter=True,
        )
        .where(*scope.where())
        .order_by(t.run_id.desc(), t.partition_no, t.piece_no)
    )
    if isinstance(engine, Connection):
        rows = engine.execute(query).all()
    else:
        with engine.connect() as conn:
            rows = conn.execute(query).all()
    return [
        Line(
            row.run_id,
            row.partition_no,
            row.piece_no,
            row.person_id,
            row.insured_id,
            row.symbol,
            row.number,
            row.branch,
            row.name,
            row.name_kana,
            row.insured_name,
            row.relationship,
            row.handed_out_at,
            row.handed_by,
            None
            if row.reason is None
            else Return(
                row.reason,
                row.left_on,
                row.left_reason,
                row.source,
                row.recorded_at,
                row.received_at,
            ),
            row.issued_on,
        )
        for row in rows
    ]


def households(lines: Iterable[Line]) -> list[Household]:
    """Lines grouped by (run, insured person), in the order their first envelope comes."""
    found: dict[tuple[int, int], Household] = {}
    for line in lines:
        key = (line.run_id, line.insured_id)
        if key not in found:
            found[key] = Household(line.run_id, line.insured_id)
        found[key].lines.append(line)
    for household in found.values():  # the insured person's own envelope first
        household.lines.sort(key=lambda line: (line.relationship != 1, line.piece_no))
    return list(found.values())


_STATE_ORDER = {"todo": 0, "done": 1, "returned": 2}


def arrange(found: list[Household], show: str, sort: str) -> list[Household]:
    """The households a list shows (すべて / 未配付 / 配付済み / 返戻) in the order asked."""
    if show != "all":
        if show == "returned":
            found = [h for h in found if h.returned]
        else:
            found = [h for h in found if h.state == show]
    if sort == "kana":
        return sorted(found, key=lambda h: h.sort_kana)
    if sort == "state":
        return sorted(found, key=lambda h: _STATE_ORDER[h.state])
    return found


def progress_of(lines: Iterable[Line]) -> Progress:
    states = [line.state for line in lines]
    return Progress(len(states), states.count("done"), states.count("returned"))


# ------------------------------------------------------------------ audit


def _entry_for(
    user: User, kind: str, person_id: int | None, scope: Scope, **detail: Any
) -> AuditEntry:
    return AuditEntry(
        kind=kind,
        person_id=person_id,
        result=user.role,
        detail={"user": user.name, "user_id": user.id, **_where_detail(scope), **detail},
    )


def audit(
    engine: Engine,
    user: User,
    kind: str,
    person_ids: Sequence[int | None],
    scope: Scope,
    **detail: Any,
) -> None:
    """One audit row per person concerned (one without a person when none), with who acted
    and where; written after the change is committed, before the page answers."""
    AuditWriter(engine).append(
        [_entry_for(user, kind, p, scope, **detail) for p in (person_ids or [None])]
    )  # fmt: skip


def _where_detail(scope: Scope) -> dict[str, Any]:
    if scope.run_id is None:
        return {"parcels": "reissues"}
    return {"run": scope.run_id, "partition": scope.partition_no}


# ------------------------------------------------------------------ hand-outs


@dataclass(frozen=True)
class HandOutResult:
    households: int
    envelopes: int
    already: int  # households recorded before (nothing changed for them)


Key = tuple[int, int]  # a household (run, insured person) or an envelope (run, person)

_CODE = re.compile(r"R(\d{1,12})-P(\d{1,10})-(\d{1,6})")
_PIECE = re.compile(r"(?:NO\.?|#)(\d{1,6})")
_WINDOW = re.compile(r"[(（]?記号[)）]?\s*(\S+?)\s*[(（]?番号[)）]?\s*(\d+)")
_SEPARATORS = re.compile(r"[\s,、，;；]+")
_DASHES = str.maketrans({c: "-" for c in "ー－−‐‑‒–—―ｰ"})


def _digits(value: str) -> str:
    return value.lstrip("0") or "0"


def resolve_codes(found: Sequence[Household], text: str) -> tuple[list[Household], list[str]]:
    """The households named by what was typed or scanned, each token one envelope: the
    control code on the notice (R000001-P0000001-0003), the No. of the printed list (No.3),
    or 記号-番号(-枝番) / 番号(-枝番) as the envelope's window shows them.
    (households found, tokens that name nothing here)."""
    by_control: dict[str, Household] = {}
    by_piece: dict[int, list[Household]] = {}
    by_number: dict[tuple[str, str], list[Household]] = {}
    symbols: set[str] = set()
    for household in found:
        for line in household.lines:
            by_control[line.control] = household
            by_piece.setdefault(line.piece_no, []).append(household)
            for branch in (line.branch, ""):
                by_number.setdefault((_digits(line.number), branch), []).append(household)
            symbols.add(line.symbol)
    picked: dict[str, Household] = {}
    unknown: list[str] = []
    text = _WINDOW.sub(r"\1-\2", to_halfwidth_ascii(text))
    for raw in _SEPARATORS.split(text):
        token = raw.translate(_DASHES).strip("()（）").upper()
        if not token:
            continue
        matches: list[Household] = []
        if code := _CODE.fullmatch(token):
            key = control_code(int(code[1]), int(code[2]), int(code[3]))
            matches = [by_control[key]] if key in by_control else []
        elif piece := _PIECE.fullmatch(token):
            matches = by_piece.get(int(piece[1]), [])
        else:
            parts = token.split("-")
            if len(parts) >= 2 and parts[0] in symbols:
                parts = parts[1:]  # 記号 first: the employer's own
            if 1 <= len(parts) <= 2 and all(p.isdigit() for p in parts):
                branch = parts[1].zfill(2) if len(parts) == 2 else ""
                matches = by_number.get((_digits(parts[0]), branch), [])
        if not matches:
            unknown.append(raw.strip())
        for household in matches:
            picked[household.key] = household
    return list(picked.values()), unknown


def hand_out(
    engine: Engine, scope: Scope, keys: Sequence[Key], codes: str, user: User
) -> HandOutResult:
    """配付: the chosen households' envelopes reached their insured persons, chosen by check
    box (`keys`) or by the numbers typed or scanned (`codes`). All or nothing: a choice or
    code that names nothing in this list, or a household whose envelopes were all returned,
    refuses the lot (said why); households recorded before are left as they were."""
    for attempt in range(2):
        try:
            return _hand_out(engine, scope, keys, codes, user)
        except IntegrityError:  # the same household recorded meanwhile: read again
            if attempt:
                raise
    raise AssertionError("unreachable")


def _hand_out(
    engine: Engine, scope: Scope, keys: Sequence[Key], codes: str, user: User
) -> HandOutResult:
    with write_transaction(engine) as conn:
        found = households(lines_of(conn, scope))
        by_key = {(h.run_id, h.insured_id): h for h in found}
        chosen: dict[str, Household] = {}
        for key in keys:
            if key not in by_key:
                raise DeskError(
                    "この一覧にない方が選ばれています。一覧を開き直してください",
                    "not in this list",
                    "insured",
                )
            chosen[by_key[key].key] = by_key[key]
        if codes.strip():
            typed, unknown = resolve_codes(found, codes)
            if unknown:
                raise DeskError(
                    "この一覧にない番号です（何も記録していません）: " + "、".join(unknown[:10]),
                    "codes that name nothing here",
                    "codes",
                )
            chosen.update((h.key, h) for h in typed)
        if not chosen:
            raise DeskError(
                "お渡しした方に印を付けるか、封筒の番号を入力してください",
                "choose someone",
                "insured",
            )
        refused = [h for h in chosen.values() if h.returned == len(h.lines)]
        if refused:
            names = "、".join(f"{h.insured_name} 様" for h in refused[:5])
            raise DeskError(
                f"{names}の封筒は返戻として届け出済みのため、配付済みにできません"
                "（お渡しした場合は、先に返戻を取り消してください）",
                "every envelope of the household was returned",
                "insured",
            )
        new = [h for h in chosen.values() if h.handed_at is None]
        at = now()
        for household in new:
            conn.execute(
                hand_outs.insert().values(
                    run_id=household.run_id,
                    person_id=household.insured_id,
                    handed_out_at=at,
                    user_id=user.id,
                )
            )
    if new:
        AuditWriter(engine).append(
            [
                _entry_for(
                    user, PORTAL_HAND_OUT, h.insured_id, scope, run=h.run_id, envelopes=h.todo
                )
                for h in new
            ]
        )
    return HandOutResult(len(new), sum(h.todo for h in new), len(chosen) - len(new))


def household_of(engine: Engine, scope: Scope, key: Key) -> Household | None:
    for household in households(lines_of(engine, scope)):
        if (household.run_id, household.insured_id) == key:
            return household
    return None


def undo_hand_out(engine: Engine, scope: Scope, key: Key, user: User) -> Household:
    """取り消し: the household's envelopes are back to 未配付 (the audit log keeps who had
    recorded them, and when)."""
    household = household_of(engine, scope, key)
    if household is None:
        raise DeskError("この一覧にない方です", "not in this list", "insured")
    if household.handed_at is None:
        raise DeskError("この方はまだ配付済みではありません", "not handed out", "insured")
    h = hand_outs.c
    with write_transaction(engine) as conn:
        conn.execute(
            hand_outs.delete().where(
                h.run_id == household.run_id, h.person_id == household.insured_id
            )
        )
    audit(
        engine, user, PORTAL_HAND_OUT_UNDO, [household.insured_id], scope, run=household.run_id, recorded_at=jst(household.handed_at), recorded_by=household.handed_by,
    )  # fmt: skip
    return household


# ------------------------------------------------------------------ leavers


@dataclass(frozen=True)
class LeaverResult:
    names: list[str]  # whose envelopes are to go back


def find_line(engine: Engine, scope: Scope, key: Key | None) -> Line | None:
    """The scope's envelope of a person (run, person), or None."""
    for line in lines_of(engine, scope) if key is not None else []:
        if (line.run_id, line.person_id) == key:
            return line
    return None


def report_leaver(
    engine: Engine,
    scope: Scope,
    person: Key | None,
    left_on: str,
    left_reason: str,
    user: User,
    today: date | None = None,
) -> LeaverResult:
    """退職者の返戻: the person left, so their envelope goes back unopened; for an insured
    person, their dependents' envelopes in the same parcel go back with it (their coverage
    ends with the insured person's). Refused when the household was handed out (the envelope
    is no longer here) or the envelope was already reported. The next follow-up run leaves
    them out (issuance.extract.envelope_returns_for)."""
    line = find_line(engine, scope, person)
    errors: dict[str, str] = {}  # in the form's order
    if line is None:
        errors["person"] = "返戻する方を選んでください"
    day: date | None = None
    if not left_on.strip():
        errors["left_on"] = "退職日を入力してください（扶養から外れた方は、外れた日）"
    else:
        try:
            day = parse_date(left_on)
        except DomainError as exc:
            errors["left_on"] = exc.ja
        else:
            if day > (today or date.today()):
                errors["left_on"] = (
                    "未来の日付です。退職日までは加入者ですので、封筒をお渡しください"
                )
    if left_reason not in LEFT_REASON_JA:
        errors["left_reason"] = "理由を選んでください"
    if errors:
        raise LeaverErrors(errors)
    assert line is not None and day is not None
    if line.returned is not None:
        raise LeaverErrors({"person": f"{line.name} 様の返戻は届け出済みです"})
    found = [h for h in households(lines_of(engine, scope)) if h.run_id == line.run_id]
    household = next(h for h in found if h.insured_id == line.insured_id)
    if household.handed_at is not None:
        raise LeaverErrors(
            {
                "person": f"{household.insured_name} 様の封筒は {jst_ja(household.handed_at)} に"
                "配付済みとして記録されています。封筒がまだお手元にある場合は、先に配付を取り消して"
                "ください（お渡し済みなら返戻は不要です）"
            }
        )
    going = [line]
    if line.relationship == 1:
        going += [
            x for x in household.lines if x.person_id != line.person_id and x.returned is None
        ]
    at = now()
    with write_transaction(engine) as conn:
        for x in going:
            conn.execute(
                envelope_returns.insert().values(
                    run_id=x.run_id, person_id=x.person_id, reason="left", left_on=day,
                    left_reason=left_reason, source="employer", user_id=user.id, recorded_at=at,
                )
            )  # fmt: skip
    audit(
        engine, user, PORTAL_RETURN, [x.person_id for x in going], scope, run=line.run_id, left_on=day.isoformat(), left_reason=left_reason,
    )  # fmt: skip
    return LeaverResult([x.name for x in going])


class LeaverErrors(DeskError):
    """The leaver form's errors, each next to its field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        first = next(iter(errors))
        super().__init__(errors[first], "leaver form refused", first)
        self.errors = dict(errors)


def undo_return(engine: Engine, scope: Scope, person: Key | None, user: User) -> list[str]:
    """A leaver reported by mistake: the report is withdrawn (for an insured person, with
    the dependents' envelopes reported together) while the insurer has not received the
    envelope. The names whose envelopes are back on the list."""
    line = find_line(engine, scope, person)
    if line is None or line.returned is None:
        raise DeskError("取り消す返戻がありません", "no return to undo", "person")
    if not line.returned.awaiting:
        raise DeskError(
            "保険者が封筒を受け取った後は取り消せません。保険者へお問い合わせください",
            "the insurer has the envelope",
            "person",
        )
    undo = [line]
    if line.relationship == 1:
        household = [
            x for x in lines_of(engine, scope)
            if x.run_id == line.run_id and x.insured_id == line.insured_id
            and x.person_id != line.person_id
        ]  # fmt: skip
        undo += [
            x for x in household
            if x.returned is not None and x.returned.awaiting
            and x.returned.recorded_at == line.returned.recorded_at
        ]  # fmt: skip
    er = envelope_returns.c
    with write_transaction(engine) as conn:
        for x in undo:
            conn.execute(
                envelope_returns.delete().where(
                    er.run_id == x.run_id,
                    er.person_id == x.person_id,
                    er.source == "employer",
                    er.received_at.is_(None),
                )
            )
    audit(
        engine, user, PORTAL_RETURN_UNDO, [x.person_id for x in undo], scope, run=line.run_id,
    )  # fmt: skip
    return [x.name for x in undo]


# ------------------------------------------------------------------ exports


CSV_HEADER = [
    "送付", "管理番号", "記号", "番号", "枝番", "続柄", "対象者氏名", "フリガナ", "被保険者氏名",
    "状態", "配付日時", "配付の記録者", "退職日", "退職の理由", "封筒",
]  # fmt: skip


def state_ja(line: Line) -> str:
    return STATE_JA[line.state]


def envelope_ja(line: Line) -> str:
    """Where a returned envelope is: still with the employer, or received by the insurer."""
    if line.returned is None:
        return ""
    if line.returned.source == "insurer" or line.returned.received_at is not None:
        return "保険者が受領済み"
    return "保険者へ返送してください"


def csv_text(parcels: Sequence[Parcel], found: Sequence[Household]) -> str:
    """The list as CSV for Excel (formulas quoted), one line per envelope; times in Japan's
    time, dates ISO (Excel reads both)."""
    titles = {(p.run_id, p.partition_no): p.title for p in parcels}
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for household in found:
        for line in household.lines:
            r = line.returned
            writer.writerow(
                [
                    titles.get((line.run_id, line.partition_no), ""),
                    line.control,
                    line.symbol,
                    line.number,
                    line.branch,
                    "本人" if line.relationship == 1 else "家族",
                    line.name,
                    line.name_kana,
                    line.insured_name,
                    state_ja(line),
                    jst(line.handed_at) if line.state == "done" else "",
                    (line.handed_by or "") if line.state == "done" else "",
                    r.left_on.isoformat() if r and r.left_on else "",
                    LEFT_REASON_JA.get(r.left_reason or "", "") if r else "",
                    envelope_ja(line),
                ]
            )
    return out.getvalue()


def partition_pdf(engine: Engine, run_id: int, partition_no: int, employer_id: int) -> bytes:
    """An employer's whole parcel file (electronic delivery)."""
    part, r = run_partitions.c, runs.c
    with engine.connect() as conn:
        row = conn.execute(
            select(part.file_name, r.output_url)
            .join_from(run_partitions, runs, r.id == part.run_id)
            .where(
                part.run_id == run_id,
                part.partition_no == partition_no,
                part.employer_id == employer_id,
                part.status == "done",
            )
        ).first()
    if row is None:
        raise DeskError("この小包はありません", "no such parcel")
    fs, root = output_fs(row.output_url)
    with fs.open(f"{root}/{row.file_name}", "rb") as f:
        data: bytes = f.read()
    return data


_UNSAFE = re.compile(r"[^0-9A-Za-z\u3040-\u30ff\u4e00-\u9fff_-]")
ZIP_FILE_MODE = 0o600  # entries unpack readable by their owner only


def file_stem(symbol: str, number: str, branch: str) -> str:
    """A person's file name: 記号-番号-枝番 (never a My Number, nothing a path could misread)."""
    return _UNSAFE.sub("_", f"{symbol}-{number}-{branch}")


def notices_zip(engine: Engine, scope: Scope, out: IO[bytes]) -> int:
    """Each person's own notice of the scope's rendered notice parcels, one PDF per person
    named by 記号-番号-枝番 (never a My Number), and 一覧.csv naming each file: into `out`.
    Each parcel file is read once. The number of PDFs."""
    part, t, r = run_partitions.c, run_targets.c, runs.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                t.run_id,
                t.partition_no,
                t.person_id,
                t.symbol,
                t.number,
                t.branch,
                t.name,
                t.insured_name,
                t.page_first,
                t.page_last,
                part.file_name,
                r.output_url,
                r.issued_on,
            )
            .join_from(
                run_targets,
                run_partitions,
                and_(part.run_id == t.run_id, part.partition_no == t.partition_no),
            )
            .join(runs, r.id == t.run_id)
            .where(
                *scope.where(),
                r.kind.in_(NOTICE_KINDS),
                part.status == "done",
                t.status == "ready",
                t.page_first.is_not(None),
            )
            .order_by(t.run_id, t.partition_no, t.piece_no)
        ).all()
    names: set[str] = set()
    index = io.StringIO()
    writer = csv_writer(index, lineterminator="\r\n")
    writer.writerow(["ファイル名", "記号", "番号", "枝番", "対象者氏名", "被保険者氏名"])
    reader: PdfReader | None = None
    current: tuple[int, int] | None = None
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for row in rows:
            if current != (row.run_id, row.partition_no):
                fs, root = output_fs(row.output_url)
                with fs.open(f"{root}/{row.file_name}", "rb") as f:
                    reader = PdfReader(io.BytesIO(f.read()))
                current = (row.run_id, row.partition_no)
            assert reader is not None
            stem = file_stem(row.symbol, row.number, row.branch)
            name = f"{stem}.pdf"
            if name in names:  # the same person reissued again: each file kept
                name = f"{stem}_{run_label(row.run_id)}.pdf"
            names.add(name)
            writer.writerow([name, row.symbol, row.number, row.branch, row.name, row.insured_name])
            pdf = PdfWriter()
            for page in range(row.page_first - 1, row.page_last):
                pdf.add_page(reader.pages[page])
            data = io.BytesIO()
            pdf.write(data)
            archive.writestr(_entry(name, row.issued_on), data.getvalue())
        if rows:
            issued = max(row.issued_on for row in rows)
            archive.writestr(_entry("一覧.csv", issued), "\ufeff" + index.getvalue())
    return len(rows)


def _entry(name: str, day: date) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(day.year, day.month, day.day, 0, 0, 0))
    info.external_attr = (0o100000 | ZIP_FILE_MODE) << 16  # a regular file, rw-------
    info.compress_type = zipfile.ZIP_DEFLATED
    return info
