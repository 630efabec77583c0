"""資格確認書 operations have one home (service.certificates): the CLI and the console call the
same functions and leave the same rows; the console's are audited (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from shikaku.cli import app as cli
from shikaku.domain.certificate import APPLICATION_REASONS, CertificateReason
from shikaku.registry.tables import audit_log, certificate_applications, certificates
from shikaku.service import certificates as service
from tests.console.conftest import NEW_NUMBER, SYMBOL_A, Desk, form, login, person_id
from tests.issuance.helpers import cert_run


def shikaku(desk: Desk, *args: str) -> tuple[int, str]:
    """A `shikaku` command on the desk's database, in process."""
    url = desk.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, [*args, "--database-url", url])
    return result.exit_code, result.output


def changes(desk: Desk, kind: str) -> list[dict[str, object]]:
    lg = audit_log.c
    with desk.engine.connect() as conn:
        rows = conn.execute(select(lg.detail).where(lg.kind == kind).order_by(lg.id)).scalars()
        return [json.loads(d) for d in rows]


def test_an_application_from_the_cli_and_from_the_console(desk: Desk) -> None:
    pid = person_id(desk.engine, SYMBOL_A, "1")
    code, out = shikaku(
        desk, "certificates", "apply", f"{SYMBOL_A}-1-0", "--reason", "needs-assistance",
        "--on", "2025-12-03",
    )  # fmt: skip
    assert code == 0, out
    assert "要配慮者" in out
    code, out = shikaku(desk, "certificates", "apply", f"{SYMBOL_A}-1-00", "--reason", "x")
    assert code == 2 and "申請の理由は" in out
    # the key read as the import file's (枝番 0 is 00); a My Number typed as 番号 is refused
    # and never echoed
    code, out = shikaku(
        desk, "certificates", "apply", f"{SYMBOL_A}-{NEW_NUMBER}-0", "--reason", "lost"
    )
    assert code == 2 and "番号は" in out and NEW_NUMBER not in out
    c = desk.client()
    token = login(c, "op1")
    r = c.post(
        f"/console/persons/{pid}/certificate",
        data=form(token, cert_reason="lost", cert_on="2025-12-04", cert_cap="1"),
    )
    assert r.status_code == 303
    a = certificate_applications.c
    with desk.engine.connect() as conn:
        rows = conn.execute(
            select(a.id, a.person_id, a.reason, a.applied_on, a.cap_requested).order_by(a.id)
        ).all()
    assert [tuple(row)[1:] for row in rows] == [
        (pid, "needs_assistance", date(2025, 12, 3), False),
        (pid, "lost", date(2025, 12, 4), True),
    ]
    # only the console's is audited, with who recorded it
    assert [(d["user"], d["application"], d["reason"]) for d in changes(desk, "console_application")] == [
        ("op1", rows[1].id, "lost")
    ]  # fmt: skip
    page = c.get(f"/console/persons/{pid}").text
    for reason in APPLICATION_REASONS:  # the form's choices: the domain's labels
        assert f'value="{reason.value}"' in page and reason.label in page
    assert "コマンドで記録" in page  # the CLI's application


def test_the_service_refuses_what_no_one_may_apply_for(desk: Desk) -> None:
    pid = person_id(desk.engine, SYMBOL_A, "1")
    with pytest.raises(service.CertificateError) as refused:
        service.apply(desk.engine, pid, CertificateReason.RENEWAL_EXPIRY, date(2025, 12, 1))
    assert refused.value.field == "reason"
    with pytest.raises(service.CertificateError) as refused:
        service.apply(desk.engine, 10**9, CertificateReason.LOST, date(2025, 12, 1))
    assert refused.value.field == "person"
    c = desk.client()
    token = login(c, "op1")
    r = c.post(
        f"/console/persons/{pid}/certificate", data=form(token, cert_reason="renewal_expiry")
    )
    assert r.status_code == 400 and 'id="e-cert_reason"' in r.text
    with desk.engine.connect() as conn:
        assert conn.execute(select(certificate_applications)).first() is None


def test_a_return_from_the_cli_and_from_the_console(desk: Desk) -> None:
    run_id = cert_run(desk.engine, desk.vault, desk.settings, day=date(2025, 12, 2))
    c_ = certificates.c
    with desk.engine.connect() as conn:
        issued = conn.execute(
            select(c_.id, c_.person_id).where(c_.run_id == run_id).order_by(c_.id)
        ).all()
    assert len(issued) >= 2
    (first, _), (second, holder) = issued[0], issued[1]
    code, out = shikaku(desk, "certificates", "returned", str(first), "--on", "2026-01-10")
    assert code == 0, out
    code, out = shikaku(desk, "certificates", "returned", str(first), "--on", "2026-01-11")
    assert code == 2 and "返却済み" in out
    c = desk.client()
    token = login(c, "op1")
    page = c.get(f"/console/persons/{holder}").text
    assert f">{second}（交付 " in page  # the form lists the holder's certificate
    r = c.post(
        f"/console/persons/{holder}/certificate-returned",
        data=form(token, returned_certificate=str(second), returned_on="2025-12-01"),
    )
    assert r.status_code == 400 and "交付年月日より前" in r.text and 'id="e-returned_on"' in r.text
    r = c.post(  # someone else's certificate, from this person's page
        f"/console/persons/{holder}/certificate-returned",
        data=form(token, returned_certificate=str(first), returned_on="2026-01-12"),
    )
    assert r.status_code == 400 and 'id="e-returned_certificate"' in r.text
    r = c.post(
        f"/console/persons/{holder}/certificate-returned",
        data=form(token, returned_certificate=str(second), returned_on="2026-01-12"),
    )
    assert r.status_code == 303
    with desk.engine.connect() as conn:
        back = dict(
            conn.execute(select(c_.id, c_.returned_on).where(c_.id.in_((first, second)))).all()
        )
    assert back == {first: date(2026, 1, 10), second: date(2026, 1, 12)}
    assert [(d["user"], d["certificate"]) for d in changes(desk, "console_certificate_returned")] == [
        ("op1", second)
    ]  # fmt: skip
    assert 'name="returned_certificate"' not in c.get(f"/console/persons/{holder}").text
    assert service.outstanding(desk.engine) == []
