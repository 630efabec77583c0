"""What the staff console and the employer portal do, as plain functions on ids.

Handlers in shikaku.webconsole stay thin: they parse a form, call one of these, render. Every
function that reads a person's data for a screen is paired by the caller with an audit row
(`audit_view`). My Numbers: only their last 4 digits ever leave this module.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pypdf import PdfReader, PdfWriter
from sqlalchemy import Engine, and_, func, select

from shikaku.domain.errors import DomainError
from shikaku.domain.identifiers import validate_my_number
from shikaku.domain.members import LOSS_REASONS
from shikaku.domain.normalize import (
    normalize_kana,
    normalize_name,
    normalize_symbol,
    parse_date,
    to_halfwidth_ascii,
)
from shikaku.issuance.work import output_fs
from shikaku.registry.db import write_transaction
from shikaku.registry.tables import (
    certificates,
    console_users,
    eligibility_periods,
    employers,
    envelope_returns,
    my_number_reports,
    mynacard_registrations,
    persons,
    reissue_requests,
    run_partitions,
    run_targets,
    runs,
)
from shikaku.security.audit import AuditEntry, AuditWriter
from shikaku.security.mynumber import MyNumberVault
from shikaku.service.accounts import User, now

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


class DeskError(DomainError):
    """An action refused; `field` names the form field the message belongs next to."""

    def __init__(self, ja: str, en: str, field: str = "") -> None:
        super().__init__(ja, en)
        self.field = field


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


@dataclass
class SearchForm:
    symbol: str = ""
    number: str = ""
    name: str = ""
    kana: str = ""
    birth_date: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any((self.symbol, self.number, self.name, self.kana, self.birth_date))


def search_persons(engine: Engine, form: SearchForm, limit: int = 50) -> list[Any]:
    """People matching every given criterion (記号・番号 exact, 氏名・カナ partial, 生年月日)."""
    p = persons.c
    where: list[Any] = []
    if form.symbol.strip():
        try:
            where.append(p.symbol == normalize_symbol(form.symbol))
        except DomainError as exc:
            form.errors["symbol"] = exc.ja
    if form.number.strip():
        number = to_halfwidth_ascii(form.number).strip()
        if not number.isdigit():
            form.errors["number"] = "番号は数字で入力してください"
        else:
            where.append(p.number == number)
    if form.name.strip():
        try:
            name = normalize_name(form.name)
        except DomainError:
            name = form.name.strip()
        where.append(p.name.contains(name, autoescape=True))
    if form.kana.strip():
        try:
            kana = normalize_kana(form.kana)
            where.append(p.name_kana.contains(kana, autoescape=True))
        except DomainError as exc:
            form.errors["kana"] = exc.ja
    if form.birth_date.strip():
        try:
            where.append(p.birth_date == parse_date(form.birth_date))
        except DomainError as exc:
            form.errors["birth_date"] = exc.ja
    if form.errors:
        return []
    if not where:
        form.errors["symbol"] = "検索条件を1つ以上入力してください"
        return []
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(p.id, p.symbol, p.number, p.branch, p.name, p.name_kana, p.birth_date)
                .where(*where)
                .order_by(p.symbol, p.number, p.branch)
                .limit(limit)
            ).all()
        )


# ------------------------------------------------------------------ a person


@dataclass
class PersonView:
    person: Any
    employer: Any
    periods: list[Any]
    documents: list[Any]
    certificates: list[Any]
    mynacard: list[Any]
    reports: list[Any]
    returns: list[Any]
    my_number_last4: str | None


def person_view(engine: Engine, vault: MyNumberVault, person_id: int) -> PersonView | None:
    p = persons.c
    with engine.connect() as conn:
        person = conn.execute(select(persons).where(p.id == person_id)).first()
        if person is None:
            return None
        employer = conn.execute(
            select(employers).where(employers.c.id == person.employer_id)
        ).first()
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
        m = mynacard_registrations.c
        mynacard = conn.execute(
            select(m.registered_on, m.cancelled_on, m.ecert_expires_on)
            .where(m.person_id == person_id)
            .order_by(m.registered_on)
        ).all()
        mr = my_number_reports.c
        reports = conn.execute(
            select(mr.id, mr.new_last4, mr.old_last4, mr.status, mr.recorded_at, mr.reissue_run_id)
            .where(mr.person_id == person_id)
            .order_by(mr.id)
        ).all()
        er = envelope_returns.c
        returns = conn.execute(
            select(er.run_id, er.reason, er.left_on, er.source, er.recorded_at)
            .where(er.person_id == person_id)
            .order_by(er.id)
        ).all()
    last4 = None
    if person.my_number_ct is not None and person.my_number_status == "registered":
        last4 = vault.last4(bytes(person.my_number_ct))
    return PersonView(
        person, employer, list(periods), list(documents), list(certs), list(mynacard),
        list(reports), list(returns), last4,
    )  # fmt: skip


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


def request_reissue(
    engine: Engine,
    settings: Any,
    vault: MyNumberVault,
    person_id: int,
    user: User,
    reason: str,
    day: date,
) -> int:
    """Reissue the person's notice now (a run of kind reissue); its run id."""
    from shikaku.issuance.reissue import ReissueError, reissue_notice
    from shikaku.issuance.runconfig import RunConfig

    with write_transaction(engine) as conn:
        request_id = conn.execute(
            reissue_requests.insert()
            .values(person_id=person_id, reason=reason, requested_by=user.id, requested_at=now())
            .returning(reissue_requests.c.id)
        ).scalar_one()
    output = settings.issuance.output_url or settings.output_dir
    try:
        run_id = reissue_notice(
            engine, RunConfig.from_settings(settings), output, vault, person_id, day,
            settings.issuance.report_dir,
        )  # fmt: skip
    except ReissueError as exc:
        raise DeskError(exc.ja, exc.en, "reissue") from None
    with write_transaction(engine) as conn:
        conn.execute(
            reissue_requests.update()
            .where(reissue_requests.c.id == request_id)
            .values(run_id=run_id)
        )
    return run_id


def apply_certificate(engine: Engine, person_id: int, reason: str, on: str, cap: bool) -> int:
    from shikaku.issuance.certificates import CertificateError, apply

    if reason not in ("lost", "renewal", "needs_assistance"):
        raise DeskError("申請の理由を選んでください", "choose a reason", "cert_reason")
    try:
        day = parse_date(on) if on.strip() else date.today()
    except DomainError as exc:
        raise DeskError(exc.ja, exc.en, "cert_on") from None
    try:
        return apply(engine, person_id, reason, day, cap)
    except CertificateError as exc:
        raise DeskError(exc.ja, exc.en, "cert_reason") from None


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
        return int(
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


def pending_reports(engine: Engine) -> list[Any]:
    mr, p, u = my_number_reports.c, persons.c, console_users.c
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(
                    mr.id,
                    mr.person_id,
                    mr.new_last4,
                    mr.old_last4,
                    mr.recorded_at,
                    mr.recorded_by,
                    u.name.label("recorded_by_name"),
                    p.symbol,
                    p.number,
                    p.branch,
                )
                .join_from(my_number_reports, persons, p.id == mr.person_id)
                .join(console_users, u.id == mr.recorded_by)
                .where(mr.status == "pending")
                .order_by(mr.id)
            ).all()
        )


def decide_report(
    engine: Engine,
    settings: Any,
    vault: MyNumberVault,
    report_id: int,
    user: User,
    approve: bool,
    day: date,
) -> int | None:
    """Four eyes: someone other than who recorded it approves (the number replaces the one on
    file and the notice is reissued with the new last 4 digits) or rejects. The reissue run."""
    mr = my_number_reports.c
    with write_transaction(engine) as conn:
        report = conn.execute(select(my_number_reports).where(mr.id == report_id)).first()
        if report is None or report.status != "pending":
            raise DeskError("承認待ちの届出ではありません", "not pending", "report")
        if report.recorded_by == user.id:
            raise DeskError(
                "届出を記録した本人は承認できません（別の担当者が承認します）",
                "four eyes: the recorder cannot decide",
                "report",
            )
        conn.execute(
            my_number_reports.update()
            .where(mr.id == report_id)
            .values(
                status="approved" if approve else "rejected",
                decided_by=user.id,
                decided_at=now(),
            )
        )
        if approve:
            conn.execute(
                persons.update()
                .where(persons.c.id == report.person_id)
                .values(
                    my_number_ct=report.new_ct,
                    my_number_bidx=report.new_bidx,
                    my_number_status="registered",
                )
            )
    if not approve:
        return None
    run_id = request_reissue(engine, settings, vault, report.person_id, user, "my_number", day)
    with write_transaction(engine) as conn:
        conn.execute(
            my_number_reports.update().where(mr.id == report_id).values(reissue_run_id=run_id)
        )
    return run_id


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
        if conn.execute(
            select(er.id).where(er.run_id == run_id, er.person_id == person_id)
        ).first():
            raise DeskError("この封筒の返戻は記録済みです", "already recorded", "reason")
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


# ------------------------------------------------------------------ runs dashboard


def run_dashboard(engine: Engine) -> list[Any]:
    from shikaku.issuance.runs import list_runs

    return list_runs(engine)


@dataclass
class RunDetail:
    run: Any
    held: list[Any]
    glyph_held: list[Any]
    ready: int
    rendered: int
    pages: int
    partitions_done: int


def run_detail(engine: Engine, run_id: int) -> RunDetail | None:
    from shikaku.issuance.extract import UNPRINTABLE
    from shikaku.issuance.runs import held_targets, list_runs

    found = list_runs(engine, run_id)
    if not found:
        return None
    held = held_targets(engine, run_id)
    t, part = run_targets.c, run_partitions.c
    with engine.connect() as conn:
        ready, rendered = conn.execute(
            select(func.count(), func.count(t.page_first)).where(
                t.run_id == run_id, t.status == "ready"
            )
        ).one()
        pages, done = conn.execute(
            select(func.coalesce(func.sum(part.pages), 0), func.count(part.sha256)).where(
                part.run_id == run_id
            )
        ).one()
    glyph = [h for h in held if h.held_reason.startswith(UNPRINTABLE)]
    return RunDetail(found[0], held, glyph, int(ready), int(rendered), int(pages), int(done))
