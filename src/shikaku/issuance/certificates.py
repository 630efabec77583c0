"""資格確認書 runs on the issuance engine: who gets one, recording what was issued, taking back.

A certificate run (`certificates`: everyone eligible on the day who needs one and holds no
valid one; `renewals`: holders of a certificate expiring before a day who still need one)
is a run like the notices': the same extraction stream, partitions, engine, resume and
verify. What differs is decided here:

- `CertificatePlanner` turns each eligible person's target into a certificate target (reason,
  有効期限, 発効期日, 限度額適用区分 when asked for, whether it supersedes one) or drops it.
- `record_certificates` writes the `certificates` rows of partitions that are recorded done,
  in the same transaction as their status (issuance/record.py): issued exactly once; the
  earlier certificate of each person is superseded, their open applications are closed.
- `request_returns` runs at the start of every certificate extraction (same transaction):
  a certificate whose holder lost eligibility on or before its 有効期限 gets one return
  request; idempotent (one request per certificate, ever).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Connection, Engine, and_, func, or_, select

from shikaku.domain.certificate import (
    CertificateReason,
    certificate_due,
    certificate_effective_from,
    certificate_valid_until,
    return_due,
)
from shikaku.domain.copay import cap_category
from shikaku.domain.errors import DomainError
from shikaku.domain.members import Relationship
from shikaku.issuance.extract import symbol_range
from shikaku.issuance.jobs import run_label
from shikaku.issuance.manifest import TextSink
from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.targets import Target
from shikaku.registry.bulk import Bulk
from shikaku.registry.db import write_transaction
from shikaku.registry.postal import barcode_for
from shikaku.registry.tables import (
    certificate_applications,
    certificate_returns,
    certificates,
    eligibility_periods,
    employers,
    mynacard_registrations,
    pay_periods,
    persons,
    run_targets,
    runs,
)
from shikaku.render.model import Employer, ReturnItem, ReturnLetter, return_letter_text
from shikaku.security.outputs import csv_writer
from shikaku.settings import load_burden_table_files

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class _Current:
    """A person's latest certificate (not superseded, not returned)."""

    id: int
    valid_until: date
    cap_requested: bool


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _in_range(low: str | None, high: str | None) -> Any:
    """The people of a 記号 range (a join with persons)."""
    return symbol_range(persons.c.symbol, low, high)


def current_certificates(
    conn: Connection, insurer_number: str, low: str | None, high: str | None
) -> dict[int, _Current]:
    """The latest certificate of each person of the 記号 range who holds one."""
    c, p = certificates.c, persons.c
    rows = conn.execute(
        select(c.person_id, c.id, c.valid_until, c.cap_requested)
        .join(persons, p.id == c.person_id)
        .where(
            p.insurer_number == insurer_number,
            _in_range(low, high),
            c.superseded_by.is_(None),
            c.returned_on.is_(None),
        )
        .order_by(c.person_id, c.id)
    )
    return {pid: _Current(cid, until, bool(cap)) for pid, cid, until, cap in rows}


class CertificatePlanner:
    """Decides, person by person, whether a certificate run prints one and with what.

    Built per extraction task from the people of its 記号 range only (their registrations,
    applications and current certificates, three statements joined to persons by the range),
    so no process holds the whole registry's."""

    def __init__(
        self, conn: Connection, run: Any, config: RunConfig, low: str | None, high: str | None
    ) -> None:
        self.kind: str = run.kind
        self.day: date = run.extraction_date
        self.issued_on: date = run.issued_on
        self.expiring_before: date | None = run.expiring_before
        self.config = config
        self.tables = load_burden_table_files(Path(p) for p in config.burden_tables)
        p = persons.c
        mine = and_(p.insurer_number == config.insurer_number, _in_range(low, high))
        m = mynacard_registrations.c
        self.registration: dict[int, tuple[date, date | None, date | None]] = {}
        for pid, reg, cancelled, ecert in conn.execute(
            select(m.person_id, m.registered_on, m.cancelled_on, m.ecert_expires_on)
            .join(persons, p.id == m.person_id)
            .where(mine, m.registered_on <= self.day)
            .order_by(m.person_id, m.registered_on)
        ):
            self.registration[pid] = (reg, cancelled, ecert)  # the latest wins
        a = certificate_applications.c
        self.open_apps: dict[int, set[CertificateReason]] = {}
        self.assist: set[int] = set()
        self.cap_asked: set[int] = set()
        for pid, reason, closed, cap in conn.execute(
            select(a.person_id, a.reason, a.closed_by, a.cap_requested)
            .join(persons, p.id == a.person_id)
            .where(mine, a.applied_on <= self.day)
            .order_by(a.person_id, a.id)
        ):
            if reason == CertificateReason.NEEDS_ASSISTANCE:
                self.assist.add(pid)
            if closed is None:
                self.open_apps.setdefault(pid, set()).add(CertificateReason(reason))
                if cap:
                    self.cap_asked.add(pid)
        self.current = current_certificates(conn, config.insurer_number, low, high)
        asked = self.cap_asked | {pid for pid, cur in self.current.items() if cur.cap_requested}
        self.insured_of, self.pay_record = _cap_households(conn, asked, self.issued_on)

    def prepare(self, rows: list[Any]) -> list[Any]:
        """Certificates never print a My Number digit: nothing is decrypted. Delivered home
        unless the setting says via employer (任意継続 always home); a member with no home
        address on file (nor their insured person) goes through the employer instead."""
        addressed = {r.person_id for r in rows if r.postal_code and r.address}
        for r in rows:
            r.my_number_ct = None
            r.my_number_status = "none"
            home = r.person_id in addressed or r.insured_id in addressed
            if self.config.certificate_delivery == "home" and home:
                r.delivery = "home"
        return rows

    def reason_for(self, person_id: int) -> CertificateReason | None:
        reg, cancelled, ecert = self.registration.get(person_id, (None, None, None))
        return certificate_due(
            self.day,
            registered_on=reg,
            cancelled_on=cancelled,
            ecert_expires_on=ecert,
            grace_months=self.config.ecert_grace_months,
            applications=self.open_apps.get(person_id, ()),
            needs_assistance=person_id in self.assist,
        )

    def decide(
        self, target: Target, held: str | None, summary: Any
    ) -> tuple[Target, str | None] | None:
        pid = target.person_id
        try:
            reason = self.reason_for(pid)
        except DomainError as exc:
            return target, held or f"規則: {exc.ja}"
        current = self.current.get(pid)
        if reason is None:
            summary.not_needed += 1
            return None
        if self.kind == "renewals":
            assert self.expiring_before is not None
            if current is None or current.valid_until >= self.expiring_before:
                summary.not_needed += 1
                return None
            reason = CertificateReason.RENEWAL_EXPIRY
        elif (
            current is not None
            and current.valid_until >= self.day
            and not self.open_apps.get(pid)  # holds one; only an application replaces it
        ):
            summary.holding += 1
            return None
        try:
            until = certificate_valid_until(
                self.issued_on,
                target.birth_date,
                rule=self.config.validity_rule,
                years=self.config.validity_years,
            )
        except DomainError as exc:
            return target, held or f"規則: {exc.ja}"
        effective = certificate_effective_from(
            target.birth_date, target.eligible_from, self.issued_on
        )
        cap = None
        if pid in self.cap_asked or (current is not None and current.cap_requested):
            cap = self._cap_label(target)
        return (
            dataclasses.replace(
                target,
                my_number_state="none",
                my_number_last4=None,
                cert_reason=str(reason),
                valid_until=until,
                effective_from=effective,
                cap_category=cap,
                supersedes=current is not None and current.valid_until >= self.issued_on,
            ),
            held,
        )

    def _cap_label(self, target: Target) -> str | None:
        """限度額適用区分 on the issue day: the household's 標準報酬月額 and 住民税非課税 (the
        insured person's pay record in force that day), as the clinic API answers it."""
        if target.relationship == Relationship.INSURED:
            insured: int | None = target.person_id
        else:
            insured = self.insured_of.get(target.person_id)
        record = self.pay_record.get(insured) if insured is not None else None
        if record is None:
            return None
        birth, pay, tax_exempt = record
        try:
            category = cap_category(
                target.birth_date,
                self.issued_on,
                insured_birth=birth,
                insured_standard_monthly_pay=int(pay),
                is_insured=target.relationship == Relationship.INSURED,
                tax_exempt=bool(tax_exempt),
                tables=self.tables,
            )
        except DomainError:
            return None
        label = category.label
        return label if label.startswith(("現役", "一般", "低所得")) else f"区分{label}"


def _cap_households(
    conn: Connection, person_ids: set[int], day: date
) -> tuple[dict[int, int | None], dict[int, tuple[date, Any, Any]]]:
    """For the people who asked for their 限度額適用区分: their insured person, and each insured
    person's (birth date, 標準報酬月額, 住民税非課税) from the pay record in force on the day.
    Read once per run, not per certificate."""
    p, pp = persons.c, pay_periods.c
    insured_of: dict[int, int | None] = {}
    for chunk in _chunks(sorted(person_ids)):
        insured_of.update(conn.execute(select(p.id, p.insured_id).where(p.id.in_(chunk))).all())
    households = sorted(person_ids | {i for i in insured_of.values() if i is not None})
    records: dict[int, tuple[date, Any, Any]] = {}
    for chunk in _chunks(households):
        for pid, birth, pay, tax_exempt in conn.execute(
            select(pp.person_id, p.birth_date, pp.standard_monthly_pay, pp.tax_exempt)
            .join_from(pay_periods, persons, p.id == pp.person_id)
            .where(pp.person_id.in_(chunk), pp.effective_from <= day)
            .order_by(pp.person_id, pp.effective_from)
        ):
            records[pid] = (birth, pay, tax_exempt)  # the latest period wins
    return insured_of, records


# --------------------------------------------------------------------------- recording


def record_certificates(conn: Connection, run_id: int, partitions: Sequence[int]) -> int:
    """The certificates of these partitions (just recorded done) exist from now: insert them,
    supersede each person's earlier one, close their open applications. Same transaction as
    the partitions' status. Returns how many were issued."""
    run = conn.execute(select(runs).where(runs.c.id == run_id)).one()
    t = run_targets.c
    issued: list[tuple[Any, ...]] = []
    for chunk in _chunks(sorted(partitions)):
        for r in conn.execute(
            select(
                t.person_id, t.partition_no, t.piece_no, t.valid_until, t.effective_from,
                t.cert_reason, t.cap_category,
            )
            .where(t.run_id == run_id, t.partition_no.in_(chunk), t.status == "ready")
            .order_by(t.partition_no, t.piece_no)
        ):  # fmt: skip
            issued.append(
                (
                    r.person_id, run_id, r.partition_no, r.piece_no, run.issued_on.isoformat(),
                    r.valid_until.isoformat(), _iso(r.effective_from), r.cert_reason,
                    r.cap_category is not None,
                )
            )  # fmt: skip
    if not issued:
        return 0
    Bulk(conn).insert(
        certificates,
        ("person_id", "run_id", "partition_no", "piece_no", "issued_on", "valid_until",
         "effective_from", "reason", "cap_requested"),
        issued,
    )  # fmt: skip
    c, a = certificates.c, certificate_applications.c
    person_ids = sorted({row[0] for row in issued})
    new_ids: dict[int, int] = {}
    for chunk in _chunks(person_ids):
        for pid, cid in conn.execute(
            select(c.person_id, c.id).where(c.run_id == run_id, c.person_id.in_(chunk))
        ):
            new_ids[pid] = cid
    supersede: list[tuple[Any, ...]] = []
    close: list[tuple[Any, ...]] = []
    for chunk in _chunks(person_ids):
        for pid, old in conn.execute(
            select(c.person_id, c.id).where(
                c.person_id.in_(chunk), c.superseded_by.is_(None), c.run_id != run_id
            )
        ):
            supersede.append((new_ids[pid], run.issued_on.isoformat(), old))
        for pid, app in conn.execute(
            select(a.person_id, a.id).where(
                a.person_id.in_(chunk), a.closed_by.is_(None), a.applied_on <= run.issued_on
            )
        ):
            close.append((new_ids[pid], app))
    bulk = Bulk(conn)
    bulk.update(certificates, ("superseded_by", "superseded_on"), supersede, ("id",))
    bulk.update(certificate_applications, ("closed_by",), close, ("id",))
    return len(issued)


# --------------------------------------------------------------------------- taking back


def request_returns(conn: Connection, run: Any) -> int:
    """Record a return request for every certificate (latest, not returned, none requested
    yet) whose holder is not eligible on the run's day and lost eligibility on or before its
    有効期限. Idempotent: a certificate gets one request ever (unique)."""
    c, r, e = certificates.c, certificate_returns.c, eligibility_periods.c
    day: date = run.extraction_date
    covered = eligibility_periods.alias("covered")
    still_eligible = (
        select(covered.c.person_id)
        .where(
            covered.c.person_id == c.person_id,
            covered.c.eligible_from <= day,
            or_(covered.c.lost_on.is_(None), covered.c.lost_on > day),
        )
        .exists()
    )
    ended = conn.execute(  # holders no longer covered: when their last period ended
        select(c.id, c.valid_until, func.max(e.lost_on))
        .outerjoin(certificate_returns, r.certificate_id == c.id)
        .join(eligibility_periods, e.person_id == c.person_id)
        .where(
            c.superseded_by.is_(None),
            c.returned_on.is_(None),
            r.id.is_(None),
            e.lost_on <= day,
            ~still_eligible,
        )
        .group_by(c.id, c.valid_until)
        .order_by(c.id)
        .execution_options(yield_per=_CHUNK)  # streamed: flat memory
    )
    columns = ("certificate_id", "lost_on", "requested_on", "notified_run_id")
    bulk, rows, count = Bulk(conn), [], 0
    for cid, until, lost in ended:
        if return_due(until, lost):
            rows.append((cid, lost.isoformat(), run.issued_on.isoformat(), run.id))
        if len(rows) == _CHUNK:
            count += len(rows)
            bulk.insert(certificate_returns, columns, rows)
            rows = []
    bulk.insert(certificate_returns, columns, rows)
    return count + len(rows)


RETURNS_CSV = "returns.csv"
RETURNS_HEADER = (
    "返却依頼番号", "資格確認書番号", "送付", "事業所記号", "事業所名", "記号", "番号", "枝番",
    "氏名", "交付年月日", "有効期限", "資格喪失日", "郵便番号", "住所",
)  # fmt: skip


RETURNS_PDF = "returns.pdf"


@dataclass(frozen=True, slots=True)
class ReturnRow:
    """One return request as listed (returns.csv) and printed (returns.pdf)."""

    id: int  # 返却依頼番号
    cert_id: int
    home: bool  # mailed to the holder; else through the employer
    emp_symbol: str
    emp_name: str
    emp_postal_code: str
    emp_address: str
    symbol: str
    number: str
    branch: str
    name: str
    issued_on: date
    valid_until: date
    lost_on: date
    postal_code: str | None
    address: str | None


def return_rows(conn: Connection, run_id: int) -> list[ReturnRow]:
    """The run's return requests in list order: those going through an employer by 事業所記号,
    then the home ones by postal code (then 記号・番号・枝番). Home when the run delivers
    certificates home (or the employer's members are mailed home) and an address is known:
    the holder's own on file, else the one the certificate was mailed to (for a dependent,
    the insured person's); otherwise through the employer."""
    r, c, p, m, t = (certificate_returns.c, certificates.c, persons.c, employers.c,
                     run_targets.c)  # fmt: skip
    rows = conn.execute(
        select(
            r.id, c.id.label("cert_id"), m.delivery, m.symbol.label("emp_symbol"),
            m.name.label("emp_name"), m.postal_code.label("emp_postal_code"),
            m.address.label("emp_address"), p.symbol, p.number, p.branch, p.name, c.issued_on,
            c.valid_until, r.lost_on, p.postal_code, p.address,
            t.postal_code.label("sent_postal_code"), t.address.label("sent_address"),
        )
        .join_from(certificate_returns, certificates, c.id == r.certificate_id)
        .join(persons, p.id == c.person_id)
        .join(employers, m.id == p.employer_id)
        .outerjoin(
            run_targets,
            and_(t.run_id == c.run_id, t.partition_no == c.partition_no,
                 t.piece_no == c.piece_no),
        )
        .where(r.notified_run_id == run_id)
    ).all()  # fmt: skip
    config_home = conn.execute(select(runs.c.settings_json).where(runs.c.id == run_id)).scalar()
    home_all = RunConfig.from_json(config_home).certificate_delivery == "home"
    out = []
    for x in rows:
        postal, address = x.postal_code, x.address
        if not (postal and address):
            postal, address = x.sent_postal_code, x.sent_address
        out.append(
            ReturnRow(
                x.id, x.cert_id, bool((home_all or x.delivery == "home") and postal and address),
                x.emp_symbol, x.emp_name, x.emp_postal_code or "", x.emp_address or "",
                x.symbol, x.number, x.branch, x.name, x.issued_on, x.valid_until, x.lost_on,
                postal, address,
            )
        )  # fmt: skip
    out.sort(key=lambda x: (x.home, (x.postal_code or "") if x.home else x.emp_symbol,
                            x.symbol, x.number, x.branch))  # fmt: skip
    return out


def write_returns_list(conn: Connection, run_id: int, sink: BinaryIO) -> int:
    """The run's return requests (資格確認書の返却のお願い), for employers' parcels and home
    mail: employer-delivered members grouped by employer, then home ones by postal code.
    Deterministic (no timestamps), UTF-8 with BOM."""
    rows = return_rows(conn, run_id)
    text = TextSink(sink)
    text.write("\ufeff")
    writer = csv_writer(text, lineterminator="\r\n")
    writer.writerow(RETURNS_HEADER)
    for x in rows:
        h = x.home
        writer.writerow(
            (
                x.id, x.cert_id, "自宅" if h else "事業所経由", x.emp_symbol, x.emp_name,
                x.symbol, x.number, x.branch, x.name, x.issued_on, x.valid_until, x.lost_on,
                (x.postal_code or "") if h else "", (x.address or "") if h else "",
            )
        )  # fmt: skip
    text.flush()
    return len(rows)


def return_letters(
    rows: Sequence[ReturnRow], run_id: int, issued_on: date, unprintable: Callable[[str], str]
) -> list[ReturnLetter]:
    """returns.pdf's letters from the rows of returns.csv, in the same order: one per
    employer (every request going through it, in list order), then one per home request.

    What the run's fonts cannot print is left out (the request stays in returns.csv): an
    item whose name cannot be printed, an employer letter whose employer cannot, a home
    letter whose name or address cannot."""
    label = run_label(run_id)
    letters: list[ReturnLetter] = []

    def item(x: ReturnRow) -> ReturnItem:
        return ReturnItem(x.symbol, x.number, x.branch, x.name, x.issued_on, x.valid_until,
                          x.lost_on)  # fmt: skip

    employer_rows = [x for x in rows if not x.home]
    for symbol, group in groupby(employer_rows, key=lambda x: x.emp_symbol):
        members = list(group)
        first = members[0]
        employer = Employer(symbol, first.emp_name, first.emp_postal_code, first.emp_address,
                            None)  # fmt: skip
        letter = ReturnLetter(
            control=f"{label}-返却-事業所{symbol}",
            delivery="employer",
            issued_on=issued_on,
            items=tuple(item(x) for x in members),
            employer=employer,
            barcode=barcode_for(employer.postal_code, employer.address),
        )
        printable = tuple(
            i for i in letter.items if not unprintable(i.name + i.symbol + i.number + i.branch)
        )
        letter = dataclasses.replace(letter, items=printable)
        if printable and not unprintable("".join(return_letter_text(letter))):
            letters.append(letter)
    for x in rows:
        if not x.home:
            continue
        letter = ReturnLetter(
            control=f"{label}-返却-{x.id:06d}",
            delivery="home",
            issued_on=issued_on,
            items=(item(x),),
            postal_code=x.postal_code,
            address=x.address,
            addressee=x.name,
            barcode=barcode_for(x.postal_code, x.address),
        )
        if not unprintable("".join(return_letter_text(letter))):
            letters.append(letter)
    return letters


def build_return_letters(
    conn: Connection, run_id: int, unprintable: Callable[[str], str]
) -> list[ReturnLetter]:
    """The letters of returns.pdf, from the ledger (see `return_letters`)."""
    issued_on = conn.execute(select(runs.c.issued_on).where(runs.c.id == run_id)).scalar_one()
    return return_letters(return_rows(conn, run_id), run_id, issued_on, unprintable)


# --------------------------------------------------------------------------- operations


class CertificateError(DomainError):
    """A certificate operation cannot be done (unknown person or certificate, bad reason)."""


def find_person(engine: Engine, key: str, insurer_number: str) -> int:
    """A member by 記号-番号-枝番 (as `runs show` prints them)."""
    parts = key.strip().split("-")
    if len(parts) != 3 or not all(parts):
        raise CertificateError(
            f"加入者は 記号-番号-枝番 の形で指定します: {key!r}",
            "a member is given as symbol-number-branch",
        )
    symbol, number, branch = parts
    p = persons.c
    with engine.connect() as conn:
        pid = conn.execute(
            select(p.id).where(
                p.insurer_number == insurer_number,
                p.symbol == symbol,
                p.number == number,
                p.branch == branch,
            )
        ).scalar()
    if pid is None:
        raise CertificateError(f"加入者 {key} はいません", f"no member {key}")
    return int(pid)


def apply(
    engine: Engine, person_id: int, reason: str, applied_on: date, cap_requested: bool = False
) -> int:
    """Record an application; the next `issue certificates` run answers it."""
    try:
        why = CertificateReason(reason)
    except ValueError:
        why = None
    if why is None or not why.on_application:
        raise CertificateError(
            f"申請の理由は lost・renewal・needs-assistance のいずれかです: {reason}",
            f"bad application reason {reason}",
        )
    with write_transaction(engine) as conn:
        return int(
            conn.execute(
                certificate_applications.insert()
                .values(
                    person_id=person_id,
                    reason=str(why),
                    applied_on=applied_on,
                    cap_requested=cap_requested,
                )
                .returning(certificate_applications.c.id)
            ).scalar_one()
        )


@dataclass(frozen=True)
class Outstanding:
    certificate_id: int
    symbol: str
    number: str
    branch: str
    name: str
    valid_until: date
    lost_on: date
    requested_on: date
    delivery: str  # where the request went: employer / home


def outstanding(engine: Engine) -> list[Outstanding]:
    """Certificates whose return was requested and which have not come back yet."""
    r, c, p = certificate_returns.c, certificates.c, persons.c
    with engine.connect() as conn:
        home_runs = {
            rid
            for rid, text in conn.execute(select(runs.c.id, runs.c.settings_json))  # a few rows
            if RunConfig.from_json(text).certificate_delivery == "home"
        }
        rows = conn.execute(
            select(
                c.id,
                p.symbol,
                p.number,
                p.branch,
                p.name,
                c.valid_until,
                r.lost_on,
                r.requested_on,
                r.notified_run_id,
                employers.c.delivery,
            )
            .join_from(certificate_returns, certificates, c.id == r.certificate_id)
            .join(persons, p.id == c.person_id)
            .join(employers, employers.c.id == p.employer_id)
            .where(c.returned_on.is_(None))
            .order_by(p.symbol, p.number, p.branch, c.id)
        ).all()
    out = []
    for x in rows:
        home = x.delivery == "home" or x.notified_run_id in home_runs
        out.append(
            Outstanding(
                x.id, x.symbol, x.number, x.branch, x.name, x.valid_until, x.lost_on,
                x.requested_on, "home" if home else "employer",
            )
        )  # fmt: skip
    return out


def mark_returned(engine: Engine, certificate_id: int, on: date) -> None:
    """The certificate came back on `on` (void from that day). Refused if unknown or
    already recorded as returned."""
    c = certificates.c
    with write_transaction(engine) as conn:
        row = conn.execute(
            select(c.returned_on, c.issued_on).where(c.id == certificate_id)
        ).one_or_none()
        if row is None:
            raise CertificateError(
                f"資格確認書 {certificate_id} はありません", f"no certificate {certificate_id}"
            )
        if row.returned_on is not None:
            raise CertificateError(
                f"資格確認書 {certificate_id} は {row.returned_on} に返却済みです",
                f"certificate {certificate_id} was returned already",
            )
        if on < row.issued_on:
            raise CertificateError("返却日が交付年月日より前です", "returned before issued")
        conn.execute(certificates.update().where(c.id == certificate_id).values(returned_on=on))


def issued_count(conn: Connection, run_id: int) -> int:
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
