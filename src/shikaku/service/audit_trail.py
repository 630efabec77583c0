"""The audit log as auditors read it: who viewed or changed whose data, when.

Only staff and employer rows (clinic_id null: the console and the portal), by person, by
user and by day (JST), newest first; both filters by person and by day use the partial
indexes of migration 0007, so the clinic API's rows are never scanned for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TextIO

from sqlalchemy import Engine, and_, func, or_, select

from shikaku.domain.errors import DomainError
from shikaku.domain.identifiers import run_label
from shikaku.domain.normalize import normalize_code, parse_date
from shikaku.registry.tables import audit_log, console_users, persons
from shikaku.security.outputs import csv_writer
from shikaku.service.accounts import ROLE_JA

JST_OFFSET = timedelta(hours=9)
PER_PAGE = 100
CSV_MAX_ROWS = 100_000  # an export larger than this asks for a narrower filter

KIND_JA = {
    "console_read": "閲覧",
    "console_download": "書類の表示・保存",
    "console_reissue": "お知らせの再発行",
    "console_application": "資格確認書の交付申請",
    "console_certificate_returned": "資格確認書の返却",
    "console_report": "個人番号の届出",
    "console_decision": "個人番号の届出の判断",
    "console_return": "返戻の記録",
    "console_user": "利用者の管理",
    "console_run": "発行実行の操作",
    "portal_read": "閲覧（事業所）",
    "portal_download": "書類の保存（事業所）",
    "portal_export": "一覧の出力（事業所）",
    "portal_hand_out": "配付済みの記録（事業所）",
    "portal_hand_out_undo": "配付済みの取消（事業所）",
    "portal_return": "返戻の報告（事業所）",
    "portal_return_undo": "返戻の取消（事業所）",
}
READS = ("console_read", "console_download", "portal_read", "portal_download", "portal_export")
GROUPS = {"all": "すべて", "reads": "閲覧だけ", "changes": "変更だけ"}
VIEW_JA = {
    "person": "加入者ページ",
    "search": "加入者検索",
    "anomalies": "要確認データ",
    "anomalies_csv": "要確認データ（CSV）",
    "audit": "監査記録",
    "audit_csv": "監査記録（CSV）",
    "held": "保留一覧",
    "held_csv": "保留一覧（CSV）",
    "reissue": "再発行の確認",
    "show": "PDF を表示",
    "save": "PDF を保存",
}


@dataclass
class AuditFilter:
    person: str = ""  # a person id (from a link) or 記号-番号-枝番
    user: str = ""  # a login name
    since: str = ""  # a day, any spelling parse_date reads
    until: str = ""
    group: str = "all"
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    kind: str
    user: str
    role: str
    person_id: int | None
    person_keys: str
    person_name: str
    summary: str

    @property
    def kind_ja(self) -> str:
        return KIND_JA.get(self.kind, self.kind)

    @property
    def role_ja(self) -> str:
        return ROLE_JA.get(self.role, self.role)


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _summary(kind: str, detail: dict[str, Any]) -> str:
    """What the row says, in a few words (never a value that is not in the detail)."""
    parts: list[str] = []
    view = detail.get("view")
    if isinstance(view, str):
        parts.append(VIEW_JA.get(view, view))
    for key, label in (("run", "実行"), ("report", "届出"), ("application", "申請")):
        value = detail.get(key)
        if isinstance(value, int):
            parts.append(f"{label} {run_label(value)}" if key == "run" else f"{label} #{value}")
    if isinstance(detail.get("partition"), int):
        parts.append(f"区画 {detail['partition']}")
    for key, label in (("hits", "件"),):
        if isinstance(detail.get(key), int):
            parts.append(f"{detail[key]:,}{label}")
    words = {
        "approve": "承認",
        "reject": "却下",
        "lost": "紛失",
        "damaged": "汚損・破損",
        "undelivered": "届いていない",
        "other": "その他",
        "my_number": "個人番号の訂正",
        "left": "退職",
        "unknown_address": "宛先不明",
        "add": "追加",
        "disable": "無効化",
        "enable": "有効化",
        "password": "パスワード再設定",
        "role": "役割の変更",
        "create": "作成",
        "run": "実行・再開",
        "verify": "照合",
    }
    for key in ("decision", "reason", "action"):
        value = detail.get(key)
        if isinstance(value, str):
            parts.append(words.get(value, value))
    if isinstance(detail.get("target"), str):
        parts.append(f"対象 {detail['target']}")
    if isinstance(detail.get("role"), str):
        parts.append(ROLE_JA.get(detail["role"], detail["role"]))
    if detail.get("held") is True:
        parts.append("保留")
    return "・".join(parts)


def _day(text: str) -> date:
    return parse_date(text)


def _conditions(engine: Engine, f: AuditFilter) -> list[Any]:
    lg = audit_log.c
    where: list[Any] = [lg.clinic_id.is_(None)]
    if f.person.strip():
        person_id = _person_id(engine, f.person.strip())
        if person_id is None:
            f.errors["person"] = "加入者が見つかりません（記号-番号-枝番 で入力してください）"
        else:
            where.append(lg.person_id == person_id)
    if f.user.strip():
        with engine.connect() as conn:
            user_id = conn.execute(
                select(console_users.c.id).where(console_users.c.name == f.user.strip())
            ).scalar()
        if user_id is None:
            f.errors["user"] = "この利用者はいません"
        else:  # detail is JSON with sorted keys: "user_id":N, then another key or the end
            where.append(
                or_(
                    lg.detail.contains(f'"user_id":{int(user_id)},'),
                    lg.detail.contains(f'"user_id":{int(user_id)}}}'),
                )
            )
    for name, text, shift in (("since", f.since, 0), ("until", f.until, 1)):
        if text.strip():
            try:
                day = _day(text)
            except DomainError as exc:
                f.errors[name] = exc.ja
                continue
            bound = datetime.combine(day + timedelta(days=shift), datetime.min.time()) - JST_OFFSET
            where.append(lg.at >= bound if name == "since" else lg.at < bound)
    if f.group == "reads":
        where.append(lg.kind.in_(READS))
    elif f.group == "changes":
        where.append(lg.kind.not_in(READS))
    else:
        f.group = "all"
    return where


def _person_id(engine: Engine, text: str) -> int | None:
    """A person by id (a link from the person page) or 記号-番号-枝番."""
    p = persons.c
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    parts = [x for x in text.replace("ー", "-").replace("－", "-").split("-") if x]
    if len(parts) != 3:
        return None
    try:
        symbol, number, branch = (normalize_code(x, "記号", "code") for x in parts)
    except DomainError:
        return None
    with engine.connect() as conn:
        found = conn.execute(
            select(p.id).where(p.symbol == symbol, p.number == number, p.branch == branch)
        ).scalar()
    return None if found is None else int(found)


def _select(where: list[Any]) -> Any:
    lg, p = audit_log.c, persons.c
    return (
        select(
            lg.id,
            lg.at,
            lg.kind,
            lg.person_id,
            lg.result,
            lg.detail,
            p.symbol,
            p.number,
            p.branch,
            p.name,
        )
        .select_from(audit_log.outerjoin(persons, p.id == lg.person_id))
        .where(and_(*where))
        .order_by(lg.at.desc(), lg.id.desc())
    )


def _row(r: Any) -> AuditRow:
    try:
        detail = json.loads(r.detail) if r.detail else {}
    except ValueError:
        detail = {}
    if not isinstance(detail, dict):
        detail = {}
    keys = f"{r.symbol}-{r.number}-{r.branch}" if r.symbol is not None else ""
    return AuditRow(
        r.id, r.at, r.kind, str(detail.get("user", "")), r.result or "", r.person_id, keys,
        r.name or "", _summary(r.kind, detail),
    )  # fmt: skip


def search_audit(engine: Engine, f: AuditFilter, per_page: int = PER_PAGE) -> AuditPage | None:
    """One page of the staff rows matching the filter, newest first; None if refused."""
    where = _conditions(engine, f)
    if f.errors:
        return None
    with engine.connect() as conn:
        total = int(
            conn.execute(select(func.count()).select_from(audit_log).where(*where)).scalar_one()
        )
        pages = max(1, -(-total // per_page))
        f.page = min(max(1, f.page), pages)
        rows = conn.execute(_select(where).limit(per_page).offset((f.page - 1) * per_page)).all()
    return AuditPage([_row(r) for r in rows], total, f.page, per_page)


def export_rows(engine: Engine, f: AuditFilter) -> list[AuditRow] | None:
    """Every matching row (at most CSV_MAX_ROWS) for the CSV; None if refused."""
    where = _conditions(engine, f)
    if f.errors:
        return None
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(_select(where).limit(CSV_MAX_ROWS))]


CSV_HEADER = (
    "日時（日本時間）",
    "利用者",
    "役割",
    "操作",
    "記号-番号-枝番",
    "氏名",
    "内容",
    "監査ログ番号",
)


def write_csv(rows: Iterable[AuditRow], out: TextIO) -> None:
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        local = (r.at + JST_OFFSET).isoformat(sep=" ", timespec="seconds")
        writer.writerow(
            (local, r.user, r.role_ja, r.kind_ja, r.person_keys, r.person_name, r.summary, r.id)
        )
