"""Taking 資格確認書 back: return requests and the list a certificate run writes of them.

`request_returns` runs at the start of every certificate extraction (same transaction): a
certificate whose holder lost eligibility on or before its 有効期限 gets one return request;
idempotent (one request per certificate, ever). At the run's end `write_returns_list`
writes returns.csv from `return_rows`, which also feed the letters (return_letters).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

from sqlalchemy import Connection, and_, func, or_, select

from shikaku.domain.certificate import return_due
from shikaku.issuance.manifest import TextSink
from shikaku.issuance.runconfig import RunConfig
from shikaku.registry.bulk import IN_LIST, Bulk
from shikaku.registry.tables import (
    certificate_returns,
    certificates,
    eligibility_periods,
    employers,
    persons,
    run_targets,
    runs,
)
from shikaku.security.outputs import csv_writer


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
    ended_on = (  # when the holder's last period that ended by the run's day ended
        select(func.max(e.lost_on))
        .where(e.person_id == c.person_id, e.lost_on <= day)
        .correlate(certificates)
        .scalar_subquery()
    )
    # certificates in id order, each with one index probe per check: no GROUP BY, whose sort
    # SQLite holds in the driver's memory (temp_store=MEMORY) for every ended certificate
    ended = conn.execute(
        select(c.id, c.valid_until, ended_on)
        .where(
            c.superseded_by.is_(None),
            c.returned_on.is_(None),
            ~select(r.id).where(r.certificate_id == c.id).exists(),
            ended_on.is_not(None),
            ~still_eligible,
        )
        .order_by(c.id)
        .execution_options(yield_per=IN_LIST)  # streamed: flat memory
    )
    columns = ("certificate_id", "lost_on", "requested_on", "notified_run_id")
    bulk, rows, count = Bulk(conn), [], 0
    for cid, until, lost in ended:
        if return_due(until, lost):
            rows.append((cid, lost.isoformat(), run.issued_on.isoformat(), run.id))
        if len(rows) == IN_LIST:
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
    config_home = conn.execute(select(runs.c.settings_json).where(runs.c.id == run_id)).scalar_one()
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
