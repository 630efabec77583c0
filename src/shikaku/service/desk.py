"""What the staff console and the employer portal do, as plain functions on ids.

Handlers in shikaku.webconsole stay thin: they parse a form, call one of these, render. Every
function that reads a person's data for a screen is paired by the caller with an audit row
(`audit_view`). My Numbers: only their last 4 digits ever leave this module.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pypdf import PdfReader, PdfWriter
from sqlalchemy import Connection, Engine, and_, func, select

from shikaku.domain.ages import age_on
from shikaku.domain.coverage import Coverage, CoverageStatus, coverage_on
from shikaku.domain.errors import DomainError, FieldError
from shikaku.domain.identifiers import validate_my_number
from shikaku.domain.members import LOSS_REASONS, Period
from shikaku.domain.normalize import (
    normalize_kana,
    normalize_name,
    normalize_symbol,
    parse_date,
    to_halfwidth_ascii,
    validate_text,
)
from shikaku.issuance.work import output_fs
from shikaku.registry.auditlog import AuditWriter
from shikaku.registry.db import write_transaction
from shikaku.registry.tables import (
    audit_log,
    certificate_applications,
    certificates,
    console_users,
    eligibility_periods,
    employers,
    envelope_returns,
    hand_outs,
    my_number_reports,
    mynacard_registrations,
    persons,
    reissue_requests,
    run_partitions,
    run_targets,
    runs,
    spaceless,
)
from shikaku.security.audit import AuditEntry
from shikaku.security.mynumber import MyNumberVault
from shikaku.service.accounts import User, now
from shikaku.service.certificates import CONSOLE_APPLICATION

JST_OFFSET = timedelta(hours=9)  # Japan has no summer time: a JST day is a fixed UTC range
CONSOLE_DOWNLOAD = "console_download"
RUN_KIND_JA = {
    "full": "全件",
    "follow_up": "追加",
    "reissue": "再発行",
    "certificates": "資格確認書",
    "renewals": "資格確認書（更新）",
}
MY_NUMBER_STATUS_JA = {"none": "未登録", "registered": "登録済み", "needs_check": "要確認"}
RETURN_REASON_JA = {"left": "退職・転出（資格喪失）", "unknown_address": "宛先不明"}


class DeskError(FieldError):
    """An action refused; `field` names the form field the message belongs next to."""


def audit_view(engine: Engine, user: User, kind: str, person_id: int | None, **detail: Any) -> None:
    """One row per view of a person's data, with who looked (before the page is sent)."""
    entry = AuditEntry(
        kind=kind,
        person_id=person_id,
        result=user.role,
        detail={"user": user.name, "user_id": user.id, **detail},
    )
    AuditWriter(engine).append([entry])


# ------------------------------------------------------------------ search

SORTS = {"name": "氏名順", "keys": "記号・番号順", "birth": "生年月日順"}
PER_PAGE = 50


@dataclass
class SearchForm:
    """What the clerk typed. `name` is a name or its フリガナ, from its start, with or without
    the space (田中舞, 田中 舞, タナカマイ, たなかまい, ﾀﾅｶﾏｲ); `birth_date` any spelling
    people type (1982-07-03, 昭和57年7月3日, 昭57.7.3, S57.7.3)."""

    symbol: str = ""
    number: str = ""
    name: str = ""
    birth_date: str = ""
    sort: str = ""  # name / keys / birth; none given: by name when one is typed
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any((self.symbol, self.number, self.name, self.birth_date))


@dataclass(frozen=True)
class SearchRow:
    id: int
    symbol: str
    number: str
    branch: str
    relationship: int
    name: str
    name_kana: str
    birth_date: date
    sex: int
    employer_name: str
    coverage: CoverageStatus


@dataclass(frozen=True)
class SearchPage:
    rows: list[SearchRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        return 0 if not self.rows else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def _after_prefix(prefix: str) -> str:
    """The least string after every string that starts with `prefix` (a byte range in
    code-point order: SQLite's BINARY, PostgreSQL's COLLATE "C")."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def search_key(engine: Engine, column: Any) -> Any:
    """A name or フリガナ without its space, compared as ix_persons_search_* hold it
    (PostgreSQL: COLLATE "C", migrations 0007 and 0010)."""
    key = spaceless(column)
    return key.collate("C") if engine.dialect.name == "postgresql" else key


def name_condition(engine: Engine, typed: str) -> tuple[Any, Any]:
    """(condition, index key): persons whose name or フリガナ starts with what was typed,
    space or not. Kana typed in any form (hiragana, katakana, 半角カナ) is read as フリガナ,
    anything else as the name; each has its index, in whose order the key sorts."""
    try:
        kana = normalize_kana(typed).replace("\u3000", "")
    except DomainError:
        kana = ""
    if kana:
        column, prefix = persons.c.name_kana, kana
    else:
        try:
            name = normalize_name(typed)
        except DomainError:
            name = typed.strip()
        column, prefix = persons.c.name, "".join(name.split())
    key = search_key(engine, column)
    return and_(key >= prefix, key < _after_prefix(prefix)), key


def _search_conditions(engine: Engine, form: SearchForm) -> tuple[list[Any], Any]:
    """The conditions, and the index key of a typed name (None without one)."""
    p = persons.c
    where: list[Any] = []
    key = None
    if form.symbol.strip():
        try:
            symbol = normalize_symbol(form.symbol)
        except DomainError as exc:
            form.errors["symbol"] = exc.ja
        else:  # the insurer number too, so the unique index (insurer, 記号, 番号, 枝番) serves
            where.append(p.symbol == symbol)
            where.append(
                p.insurer_number.in_(
                    select(employers.c.insurer_number).where(employers.c.symbol == symbol)
                )
            )
    if form.number.strip():
        number = to_halfwidth_ascii(form.number).strip()
        if not number.isdigit() or len(number) > 16:
            form.errors["number"] = "番号は数字で入力してください"
        else:
            where.append(p.number == number)
    if form.name.strip():
        condition, key = name_condition(engine, form.name)
        where.append(condition)
    if form.birth_date.strip():
        try:
            where.append(p.birth_date == parse_date(form.birth_date))
        except DomainError as exc:
            form.errors["birth_date"] = exc.ja
    if form.sort not in SORTS:
        form.sort = "name" if key is not None else "keys"
    if not where and not form.errors:
        form.errors["symbol"] = "検索条件を1つ以上入力してください"
    return where, key


def search_persons(
    engine: Engine, form: SearchForm, today: date, per_page: int = PER_PAGE
) -> SearchPage | None:
    """One page of the people matching every criterion (記号・番号 exact, name or フリガナ
    from its start, 生年月日), with the total, each person's 事業所 and coverage today.
    Three statements whatever the page holds (the count; the page: its ids chosen on the
    index alone, then their rows with 事業所; the page's periods). None when the form is
    refused (`form.errors`)."""
    where, key = _search_conditions(engine, form)
    if form.errors:
        return None
    p, e = persons.c, employers.c
    insured = persons.alias("insured")
    order = {
        "name": (key if key is not None else search_key(engine, p.name_kana), p.symbol,
                 p.number, p.branch),
        "keys": (p.symbol, p.number, p.branch),
        "birth": (p.birth_date, p.symbol, p.number, p.branch),
    }[form.sort]  # fmt: skip
    with engine.connect() as conn:
        total = int(
            conn.execute(select(func.count()).select_from(persons).where(*where)).scalar_one()
        )
        pages = max(1, -(-total // per_page))
        form.page = min(max(1, form.page), pages)
        chosen = (
            select(p.id)
            .where(*where)
            .order_by(*order)
            .limit(per_page)
            .offset((form.page - 1) * per_page)
        )
        rows = conn.execute(
            select(
                p.id,
                p.symbol,
                p.number,
                p.branch,
                p.relationship,
                p.name,
                p.name_kana,
                p.birth_date,
                p.sex,
                e.name.label("employer_name"),
                func.coalesce(insured.c.birth_date, p.birth_date).label("insured_birth"),
            )
            .join_from(persons, employers, e.id == p.employer_id)
            .outerjoin(insured, insured.c.id == p.insured_id)
            .where(p.id.in_(chosen.scalar_subquery()))
            .order_by(*order)
        ).all()
        histories = _histories(conn, [r.id for r in rows])
    return SearchPage(
        [
            SearchRow(
                r.id,
                r.symbol,
                r.number,
                r.branch,
                r.relationship,
                r.name,
                r.name_kana,
                r.birth_date,
                r.sex,
                r.employer_name,
                coverage_on(histories.get(r.id, ()), r.birth_date, r.insured_birth, today),
            )
            for r in rows
        ],
        total,
        form.page,
        per_page,
    )


def _histories(
    conn: Connection, person_ids: list[int]
) -> dict[int, list[tuple[Period, str | None]]]:
    """Each person's eligibility periods with their 喪失事由, in one statement."""
    out: dict[int, list[tuple[Period, str | None]]] = {}
    if not person_ids:
        return out
    e = eligibility_periods.c
    for r in conn.execute(
        select(e.person_id, e.eligible_from, e.lost_on, e.loss_reason).where(
            e.person_id.in_(person_ids)
        )
    ):
        out.setdefault(r.person_id, []).append((Period(r.eligible_from, r.lost_on), r.loss_reason))
    return out


# ------------------------------------------------------------------ a person


@dataclass
class PersonView:
    """Everything a counter clerk needs with the member on the phone; who did what, when."""

    person: Any
    employer: Any
    coverage: CoverageStatus
    periods: list[Any]
    household: list[tuple[Any, CoverageStatus]]  # every member of the household, this one too
    documents: list[Any]
    certificates: list[Any]
    applications: list[Any]  # with .recorded_by / .recorded_at from the audit log
    mynacard: list[Any]
    reports: list[Any]
    returns: list[Any]
    hand_outs: list[Any]
    reissues: list[Any]
    my_number_last4: str | None
    age: int


USERS = console_users.alias("users")
DECIDERS = console_users.alias("deciders")


def person_view(
    engine: Engine, vault: MyNumberVault, person_id: int, today: date | None = None
) -> PersonView | None:
    """A fixed number of statements whatever the person's history (pinned by a test)."""
    today = today or date.today()
    p = persons.c
    with engine.connect() as conn:
        person = conn.execute(select(persons).where(p.id == person_id)).first()
        if person is None:
            return None
        employer = conn.execute(
            select(employers).where(employers.c.id == person.employer_id)
        ).first()
        household_rows = conn.execute(
            select(p.id, p.branch, p.relationship, p.name, p.name_kana, p.birth_date, p.sex)
            .where(
                p.insurer_number == person.insurer_number,
                p.symbol == person.symbol,
                p.number == person.number,
            )
            .order_by(p.branch)
        ).all()
        histories = _histories(conn, [r.id for r in household_rows])
        e = eligibility_periods.c
        periods = conn.execute(
            select(e.eligible_from, e.lost_on, e.loss_reason)
            .where(e.person_id == person_id)
            .order_by(e.eligible_from)
        ).all()
        t, r, part = run_targets.c, runs.c, run_partitions.c
        documents = conn.execute(
            select(
                t.run_id,
                r.kind,
                r.issued_on,
                t.status,
                t.held_reason,
                t.page_first,
                t.page_last,
                t.my_number_last4,
                t.valid_until,
                part.status.label("part_status"),
            )
            .join_from(run_targets, runs, r.id == t.run_id)
            .join(
                run_partitions,
                and_(part.run_id == t.run_id, part.partition_no == t.partition_no),
                isouter=True,
            )
            .where(t.person_id == person_id)
            .order_by(t.run_id)
        ).all()
        c = certificates.c
        certs = conn.execute(
            select(c.id, c.issued_on, c.valid_until, c.reason, c.superseded_on, c.returned_on)
            .where(c.person_id == person_id)
            .order_by(c.issued_on)
        ).all()
        a = certificate_applications.c
        applications = conn.execute(
            select(a.id, a.reason, a.applied_on, a.cap_requested, a.closed_by)
            .where(a.person_id == person_id)
            .order_by(a.id)
        ).all()
        m = mynacard_registrations.c
        mynacard = conn.execute(
            select(m.registered_on, m.cancelled_on, m.ecert_expires_on)
            .where(m.person_id == person_id)
            .order_by(m.registered_on)
        ).all()
        mr = my_number_reports.c
        reports = conn.execute(
            select(
                mr.id,
                mr.new_last4,
                mr.old_last4,
                mr.status,
                mr.recorded_at,
                mr.decided_at,
                mr.decision_note,
                mr.reissue_run_id,
                USERS.c.name.label("recorded_by_name"),
                DECIDERS.c.name.label("decided_by_name"),
            )
            .join_from(my_number_reports, USERS, USERS.c.id == mr.recorded_by)
            .outerjoin(DECIDERS, DECIDERS.c.id == mr.decided_by)
            .where(mr.person_id == person_id)
            .order_by(mr.id)
        ).all()
        er = envelope_returns.c
        returns = conn.execute(
            select(
                er.run_id,
                er.reason,
                er.left_on,
                er.left_reason,
                er.source,
                er.recorded_at,
                er.received_at,
                USERS.c.name.label("user_name"),
            )
            .join_from(envelope_returns, USERS, USERS.c.id == er.user_id)
            .where(er.person_id == person_id)
            .order_by(er.id)
        ).all()
        h = hand_outs.c
        insured_id = person.insured_id or person.id
        handed = conn.execute(
            select(h.run_id, h.handed_out_at, USERS.c.name.label("user_name"))
            .join_from(hand_outs, USERS, USERS.c.id == h.user_id)
            .where(h.person_id == insured_id)
            .order_by(h.run_id)
        ).all()
        rq = reissue_requests.c
        reissues = conn.execute(
            select(
                rq.id,
                rq.reason,
                rq.note,
                rq.requested_at,
                rq.run_id,
                USERS.c.name.label("user_name"),
            )
            .join_from(reissue_requests, USERS, USERS.c.id == rq.requested_by)
            .where(rq.person_id == person_id)
            .order_by(rq.id)
        ).all()
        who = _recorded_applications(conn, person_id)
    last4 = None
    if person.my_number_ct is not None and person.my_number_status == "registered":
        last4 = vault.last4(bytes(person.my_number_ct))
    insured_birth = next(
        (h.birth_date for h in household_rows if h.id == insured_id), person.birth_date
    )
    household = [
        (h, coverage_on(histories.get(h.id, ()), h.birth_date, insured_birth, today))
        for h in household_rows
    ]
    coverage = next((cov for h, cov in household if h.id == person_id), None)
    if coverage is None:  # not in its own household: the keys changed under us
        coverage = coverage_on(
            histories.get(person_id, ()), person.birth_date, insured_birth, today
        )
    return PersonView(
        person, employer, coverage, list(periods), household, list(documents), list(certs),
        [_Recorded(row, *who.get(row.id, (None, None))) for row in applications],
        list(mynacard), list(reports), list(returns), list(handed), list(reissues), last4,
        age_on(person.birth_date, today),
    )  # fmt: skip


@dataclass(frozen=True)
class _Recorded:
    """A row with who recorded it and when (from the audit log)."""

    row: Any
    recorded_by: str | None
    recorded_at: datetime | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)


def _recorded_applications(
    conn: Connection, person_id: int
) -> dict[int, tuple[str | None, datetime | None]]:
    """Who recorded each of the person's 資格確認書 applications, and when: the audit rows of
    the console (`shikaku certificates apply` leaves none; those show no user)."""
    lg = audit_log.c
    found: dict[int, tuple[str | None, datetime | None]] = {}
    for row in conn.execute(
        select(lg.at, lg.detail).where(
            lg.person_id == person_id, lg.clinic_id.is_(None), lg.kind == CONSOLE_APPLICATION
        )
    ):
        detail = json.loads(row.detail or "{}")
        if isinstance(detail.get("application"), int):
            found[detail["application"]] = (detail.get("user"), row.at)
    return found


def loss_reason_ja(code: str | None) -> str:
    return "" if code is None else LOSS_REASONS.get(code, code)


def cut_pages(engine: Engine, run_id: int, person_id: int, employer_id: int | None = None) -> bytes:
    """The person's page(s) of a run, cut from the run's file (page_first..page_last)."""
    t, part, r = run_targets.c, run_partitions.c, runs.c
    query = (
        select(t.page_first, t.page_last, part.file_name, r.output_url)
        .join_from(
            run_targets,
            run_partitions,
            and_(part.run_id == t.run_id, part.partition_no == t.partition_no),
        )
        .join(runs, r.id == t.run_id)
        .where(
            t.run_id == run_id,
            t.person_id == person_id,
            t.status == "ready",
            part.status == "done",
        )
    )
    if employer_id is not None:
        query = query.where(t.employer_id == employer_id, part.employer_id == employer_id)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None or row.page_first is None:
        raise DeskError("この書類はまだ作成されていません", "no rendered document")
    fs, root = output_fs(row.output_url)
    with fs.open(f"{root}/{row.file_name}", "rb") as f:
        reader = PdfReader(io.BytesIO(f.read()))
    writer = PdfWriter()
    for index in range(row.page_first - 1, row.page_last):
        writer.add_page(reader.pages[index])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# ------------------------------------------------------------------ actions
# Each change is written to the audit log with who made it (after it is committed, before
# the page answers): the kinds below, `result` = the user's role, `detail` = user and ids.
# Free text (a note) stays in its table, never in the log (it might hold anything).

CONSOLE_REISSUE = "console_reissue"
CONSOLE_REPORT = "console_report"
CONSOLE_DECISION = "console_decision"
CONSOLE_RETURN = "console_return"

REISSUE_REASON_JA = {
    "lost": "紛失",
    "damaged": "汚損・破損",
    "undelivered": "届いていない",
    "other": "その他",
    "my_number": "個人番号の訂正",
}
NOTE_MAX = 200  # characters of an operator's note


def audit_change(
    engine: Engine, user: User, kind: str, person_id: int | None, **detail: Any
) -> None:
    """One audit row for a change, with who made it."""
    audit_view(engine, user, kind, person_id, **detail)


def _note(note: str, required: bool, field_name: str) -> str:
    text = " ".join(note.split())
    if required and not text:
        raise DeskError("理由を入力してください", "a reason is required", field_name)
    if len(text) > NOTE_MAX:
        raise DeskError(
            f"理由は{NOTE_MAX}文字以内で入力してください（{len(text)}文字）",
            "reason too long",
            field_name,
        )
    try:
        validate_text(text, "理由", "reason")
    except DomainError as exc:
        raise DeskError(exc.ja, exc.en, field_name) from None
    return text


@dataclass(frozen=True)
class ReissueOutcome:
    run_id: int
    held_reason: str | None  # the notice was not printed: why


def reissues_on(engine: Engine, person_id: int, day: date) -> list[Any]:
    """The person's reissues requested on `day` (JST), to warn before another one."""
    rq = reissue_requests.c
    start = datetime.combine(day, datetime.min.time()) - JST_OFFSET
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(
                    rq.id, rq.reason, rq.requested_at, rq.run_id, USERS.c.name.label("user_name")
                )
                .join_from(reissue_requests, USERS, USERS.c.id == rq.requested_by)
                .where(
                    rq.person_id == person_id,
                    rq.requested_at >= start,
                    rq.requested_at < start + timedelta(days=1),
                )
                .order_by(rq.id)
            ).all()
        )


def request_reissue(
    engine: Engine,
    settings: Any,
    vault: MyNumberVault,
    person_id: int,
    user: User,
    reason: str,
    day: date,
    note: str = "",
) -> ReissueOutcome:
    """Reissue the person's notice now (a run of kind reissue, rendered at once); the run and,
    when the notice could not be printed (a character the fonts lack), why it is held."""
    from shikaku.issuance.reissue import ReissueError, reissue_notice
    from shikaku.issuance.runconfig import RunConfig

    if reason not in REISSUE_REASON_JA:
        raise DeskError("再発行の理由を選んでください", "choose a reason", "reason")
    note = _note(note, reason == "other", "note")
    coverage = coverage_today(engine, person_id, day)
    if coverage is None:
        raise DeskError("加入者が見つかりません", "no such person", "reason")
    if coverage.state != Coverage.COVERED:
        raise DeskError(
            f"{coverage.label}のため再発行できません（お知らせは資格のある方にだけ送ります）",
            "not covered today",
            "reason",
        )
    with write_transaction(engine) as conn:
        request_id = conn.execute(
            reissue_requests.insert()
            .values(
                person_id=person_id,
                reason=reason,
                note=note or None,
                requested_by=user.id,
                requested_at=now(),
            )
            .returning(reissue_requests.c.id)
        ).scalar_one()
    output = settings.issuance.output_url or settings.output_dir
    try:
        run_id = reissue_notice(
            engine, RunConfig.from_settings(settings), output, vault, person_id, day,
            settings.issuance.report_dir,
        )  # fmt: skip
    except ReissueError as exc:
        raise DeskError(exc.ja, exc.en, "reason") from None
    t = run_targets.c
    with write_transaction(engine) as conn:
        conn.execute(
            reissue_requests.update()
            .where(reissue_requests.c.id == request_id)
            .values(run_id=run_id)
        )
        target = conn.execute(
            select(t.status, t.held_reason).where(t.run_id == run_id, t.person_id == person_id)
        ).first()
    held = None
    if target is not None and target.status == "held":
        held = target.held_reason or "理由不明"
    audit_change(
        engine, user, CONSOLE_REISSUE, person_id, run=run_id, reason=reason,
        held=held is not None,
    )  # fmt: skip
    return ReissueOutcome(run_id, held)


def coverage_today(engine: Engine, person_id: int, day: date) -> CoverageStatus | None:
    """The person's coverage on `day` (None: no such person); two statements."""
    p = persons.c
    insured = persons.alias("insured")
    with engine.connect() as conn:
        row = conn.execute(
            select(p.birth_date, func.coalesce(insured.c.birth_date, p.birth_date).label("insured"))
            .select_from(persons.outerjoin(insured, insured.c.id == p.insured_id))
            .where(p.id == person_id)
        ).first()
        if row is None:
            return None
        history = _histories(conn, [person_id]).get(person_id, [])
    return coverage_on(history, row.birth_date, row.insured, day)


def record_my_number_report(
    engine: Engine, vault: MyNumberVault, person_id: int, new_number: str, user: User
) -> int:
    """A member said the printed last 4 digits are wrong and gave the right number."""
    try:
        number = validate_my_number(new_number)
    except DomainError as exc:
        raise DeskError(exc.ja, exc.en, "my_number") from None
    bidx = vault.blind_index(number)
    with write_transaction(engine) as conn:
        person = conn.execute(
            select(
                persons.c.my_number_ct, persons.c.my_number_bidx, persons.c.my_number_status
            ).where(persons.c.id == person_id)
        ).first()
        if person is None:
            raise DeskError("加入者が見つかりません", "no such person", "my_number")
        if person.my_number_bidx is not None and bytes(person.my_number_bidx) == bidx:
            raise DeskError(
                "登録済みの個人番号と同じです", "same as the number on file", "my_number"
            )
        other = conn.execute(
            select(persons.c.id).where(persons.c.my_number_bidx == bidx, persons.c.id != person_id)
        ).first()
        if other is not None:
            raise DeskError(
                "この個人番号は別の加入者に登録されています（確認してください）",
                "number on file for another person",
                "my_number",
            )
        pending = conn.execute(
            select(func.count()).where(
                my_number_reports.c.person_id == person_id,
                my_number_reports.c.status == "pending",
            )
        ).scalar_one()
        if pending:
            raise DeskError(
                "承認待ちの届出がすでにあります", "a report is already pending", "my_number"
            )
        old_last4 = (
            vault.last4(bytes(person.my_number_ct)) if person.my_number_ct is not None else None
        )
        report_id = int(
            conn.execute(
                my_number_reports.insert()
                .values(
                    person_id=person_id,
                    new_ct=vault.encrypt(number),
                    new_bidx=bidx,
                    new_last4=number[-4:],
                    old_last4=old_last4,
                    status="pending",
                    recorded_by=user.id,
                    recorded_at=now(),
                )
                .returning(my_number_reports.c.id)
            ).scalar_one()
        )
    audit_change(engine, user, CONSOLE_REPORT, person_id, report=report_id)
    return report_id


def _reports_query() -> Any:
    mr, p = my_number_reports.c, persons.c
    return (
        select(
            mr.id,
            mr.person_id,
            mr.new_last4,
            mr.old_last4,
            mr.status,
            mr.recorded_at,
            mr.recorded_by,
            mr.decided_at,
            mr.decided_by,
            mr.decision_note,
            mr.reissue_run_id,
            USERS.c.name.label("recorded_by_name"),
            DECIDERS.c.name.label("decided_by_name"),
            p.symbol,
            p.number,
            p.branch,
            p.name,
        )
        .join_from(my_number_reports, persons, p.id == mr.person_id)
        .join(USERS, USERS.c.id == mr.recorded_by)
        .outerjoin(DECIDERS, DECIDERS.c.id == mr.decided_by)
    )


def pending_reports(engine: Engine) -> list[Any]:
    mr = my_number_reports.c
    with engine.connect() as conn:
        return list(
            conn.execute(_reports_query().where(mr.status == "pending").order_by(mr.id)).all()
        )


def decided_reports(engine: Engine, limit: int = 50) -> list[Any]:
    """The latest decisions, newest first: who approved or rejected what, when, and why."""
    mr = my_number_reports.c
    with engine.connect() as conn:
        return list(
            conn.execute(
                _reports_query()
                .where(mr.status != "pending")
                .order_by(mr.decided_at.desc(), mr.id.desc())
                .limit(limit)
            ).all()
        )


def report(engine: Engine, report_id: int) -> Any | None:
    with engine.connect() as conn:
        return conn.execute(_reports_query().where(my_number_reports.c.id == report_id)).first()


def decide_report(
    engine: Engine,
    settings: Any,
    vault: MyNumberVault,
    report_id: int,
    user: User,
    approve: bool,
    day: date,
    note: str = "",
) -> ReissueOutcome | None:
    """Four eyes: someone other than who recorded it approves (the number replaces the one on
    file and the notice is reissued with the new last 4 digits) or rejects, saying why. The
    reissue, when approved."""
    note = _note(note, True, "note")
    mr = my_number_reports.c
    with write_transaction(engine) as conn:
        found = conn.execute(select(my_number_reports).where(mr.id == report_id)).first()
        if found is None or found.status != "pending":
            raise DeskError(
                "承認待ちの届出ではありません（すでに判断されています）", "not pending", "decision"
            )
        if found.recorded_by == user.id:
            raise DeskError(
                "届出を記録した本人は承認できません（別の担当者が承認します）",
                "four eyes: the recorder cannot decide",
                "decision",
            )
        conn.execute(
            my_number_reports.update()
            .where(mr.id == report_id)
            .values(
                status="approved" if approve else "rejected",
                decided_by=user.id,
                decided_at=now(),
                decision_note=note,
            )
        )
        if approve:
            conn.execute(
                persons.update()
                .where(persons.c.id == found.person_id)
                .values(
                    my_number_ct=found.new_ct,
                    my_number_bidx=found.new_bidx,
                    my_number_status="registered",
                )
            )
    audit_change(
        engine, user, CONSOLE_DECISION, found.person_id, report=report_id,
        decision="approve" if approve else "reject",
    )  # fmt: skip
    if not approve:
        return None
    outcome = request_reissue(
        engine, settings, vault, found.person_id, user, "my_number", day, note
    )
    with write_transaction(engine) as conn:
        conn.execute(
            my_number_reports.update()
            .where(mr.id == report_id)
            .values(reissue_run_id=outcome.run_id)
        )
    return outcome


def record_return(
    engine: Engine,
    run_id: int,
    person_id: int,
    reason: str,
    left_on: str,
    user: User,
    employer_id: int | None = None,
) -> None:
    """An envelope came back: the person left (on a day) or the address is unknown. With
    `employer_id` (the portal), only a person of that employer's parcels of the run."""
    if reason not in RETURN_REASON_JA:
        raise DeskError("返戻の理由を選んでください", "choose a reason", "reason")
    left_day = None
    if reason == "left":
        if not left_on.strip():
            raise DeskError("退職日を入力してください", "left_on is required", "left_on")
        try:
            left_day = parse_date(left_on)
        except DomainError as exc:
            raise DeskError(exc.ja, exc.en, "left_on") from None
    t = run_targets.c
    query = select(t.person_id).where(
        t.run_id == run_id, t.person_id == person_id, t.status == "ready"
    )
    if employer_id is not None:
        query = query.where(t.employer_id == employer_id, t.delivery == "employer")
    with write_transaction(engine) as conn:
        if conn.execute(query).first() is None:
            raise DeskError("この実行で送った書類がありません", "no such piece", "return_run")
        er = envelope_returns.c
        found = conn.execute(
            select(er.id, er.source, er.received_at).where(
                er.run_id == run_id, er.person_id == person_id
            )
        ).first()
        if found is not None and (
            employer_id is not None or found.source != "employer" or found.received_at
        ):
            raise DeskError("この封筒の返戻は記録済みです", "already recorded", "reason")
        if found is not None:  # the employer reported it (portal): now the envelope is here
            conn.execute(
                envelope_returns.update().where(er.id == found.id).values(received_at=now())
            )
        else:
            conn.execute(
                envelope_returns.insert().values(
                    run_id=run_id,
                    person_id=person_id,
                    reason=reason,
                    left_on=left_day,
                    source="insurer" if employer_id is None else "employer",
                    user_id=user.id,
                    recorded_at=now(),
                )
            )
    if found is not None:
        audit_change(engine, user, CONSOLE_RETURN, person_id, run=run_id, received=True)
        return
    kind = CONSOLE_RETURN if employer_id is None else "portal_return"
    audit_change(engine, user, kind, person_id, run=run_id, reason=reason)
