"""What staff do about a member's 資格確認書, as plain functions on ids: the one home of each
operation, called alike by `shikaku certificates …` and the staff console.

- `apply`: record an application (紛失・更新中・要配慮者); the next certificate run answers it.
- `outstanding`: the certificates whose return was requested and which have not come back.
- `mark_returned`: a certificate came back (void from that day).

Given a console `user`, a change also writes its audit row (who made it); the CLI passes none
(the person page then says a command recorded it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from shikaku.domain.certificate import CertificateReason
from shikaku.domain.errors import DomainError, FieldError
from shikaku.domain.members import parse_branch, parse_number, parse_symbol
from shikaku.issuance.runconfig import RunConfig
from shikaku.registry.db import write_transaction
from shikaku.registry.tables import (
    certificate_applications,
    certificate_returns,
    certificates,
    employers,
    persons,
    runs,
)

if TYPE_CHECKING:
    from shikaku.service.accounts import User

# Audit kinds of the console's changes (the CLI's leave none).
CONSOLE_APPLICATION = "console_application"
CONSOLE_CERTIFICATE_RETURNED = "console_certificate_returned"


class CertificateError(FieldError):
    """An operation refused. `field` names what the message is about (`person`, `reason`,
    `on`, `certificate`), so a form can put it beside that input."""


def find_person(engine: Engine, key: str, insurer_number: str) -> int:
    """A member by 記号-番号-枝番 (as `runs show` prints them), each part read as the import
    file's (full-width digits, 枝番 0 → 00). What was typed is never echoed: it may be a
    My Number typed in the wrong place (番号 refuses 12 digits)."""
    parts = key.strip().split("-")
    if len(parts) != 3:
        raise CertificateError(
            "加入者は 記号-番号-枝番 の形で指定します",
            "a member is given as symbol-number-branch",
            "person",
        )
    try:
        symbol, number, branch = (
            parse_symbol(parts[0]), parse_number(parts[1]), parse_branch(parts[2])
        )  # fmt: skip
    except DomainError as exc:
        raise CertificateError(exc.ja, exc.en, "person") from None
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
        raise CertificateError(
            "その記号・番号・枝番の加入者はいません", "no member with that key", "person"
        )
    return int(pid)


def apply(
    engine: Engine,
    person_id: int,
    reason: CertificateReason,
    applied_on: date,
    cap_requested: bool = False,
    user: User | None = None,
) -> int:
    """Record an application (`reason`: one a member may apply for, as
    domain.certificate.application_reason reads it); the next `issue certificates` run
    answers it. Its id."""
    if not reason.on_application:
        raise CertificateError(
            f"{reason.label} は申請の理由ではありません", f"{reason} is no application", "reason"
        )
    with write_transaction(engine) as conn:
        if conn.execute(select(persons.c.id).where(persons.c.id == person_id)).first() is None:
            raise CertificateError("加入者が見つかりません", "no such person", "person")
        application = int(
            conn.execute(
                certificate_applications.insert()
                .values(
                    person_id=person_id,
                    reason=reason.value,
                    applied_on=applied_on,
                    cap_requested=cap_requested,
                )
                .returning(certificate_applications.c.id)
            ).scalar_one()
        )
    if user is not None:
        _audit(engine, user, CONSOLE_APPLICATION, person_id, application=application,
               reason=reason.value)  # fmt: skip
    return application


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


def mark_returned(
    engine: Engine,
    certificate_id: int,
    on: date,
    user: User | None = None,
    person_id: int | None = None,
) -> None:
    """The certificate came back on `on` (void from that day). Refused if unknown (or not
    `person_id`'s, when given: the console acts on the person shown), already recorded as
    returned, or before it was issued."""
    c = certificates.c
    query = select(c.returned_on, c.issued_on, c.person_id).where(c.id == certificate_id)
    if person_id is not None:
        query = query.where(c.person_id == person_id)
    with write_transaction(engine) as conn:
        row = conn.execute(query).one_or_none()
        if row is None:
            raise CertificateError(
                f"資格確認書 {certificate_id} はありません",
                f"no certificate {certificate_id}",
                "certificate",
            )
        if row.returned_on is not None:
            raise CertificateError(
                f"資格確認書 {certificate_id} は {row.returned_on} に返却済みです",
                f"certificate {certificate_id} was returned already",
                "certificate",
            )
        if on < row.issued_on:
            raise CertificateError("返却日が交付年月日より前です", "returned before issued", "on")
        conn.execute(certificates.update().where(c.id == certificate_id).values(returned_on=on))
    if user is not None:
        _audit(engine, user, CONSOLE_CERTIFICATE_RETURNED, int(row.person_id),
               certificate=certificate_id)  # fmt: skip


def _audit(engine: Engine, user: User, kind: str, person_id: int, **detail: object) -> None:
    """The console's audit row of a change (the desk's, imported here only when a console
    user acts: the CLI does not load the console's service)."""
    from shikaku.service.desk import audit_change

    audit_change(engine, user, kind, person_id, **detail)
