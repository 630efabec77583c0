"""資格確認書 runs: issue, verify, resume, renew, supersede, take back (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, func, select

from shikaku.domain.certificate import CertificateReason
from shikaku.issuance.engine import InlineEngine
from shikaku.issuance.jobs import Job
from shikaku.issuance.runconfig import RunConfig
from shikaku.issuance.runs import (
    create_run,
    database_url,
    execute,
    extract_run,
    load_config,
    write_returns,
)
from shikaku.issuance.verify import verify_run
from shikaku.issuance.work import render_partitions
from shikaku.registry.db import write_transaction
from shikaku.registry.tables import (
    certificate_applications,
    certificate_returns,
    certificates,
    eligibility_periods,
    employers,
    pay_periods,
    persons,
    run_partitions,
    run_targets,
)
from shikaku.security.mynumber import MyNumberVault
from shikaku.service.certificates import apply, find_person, mark_returned, outstanding
from shikaku.settings import Settings
from tests.issuance.helpers import DAY, cert_run, demo_registry, settings

J = TypeVar("J")
R = TypeVar("R")


def count(engine: Engine, query: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def issued(engine: Engine, run_id: int) -> int:
    c = certificates.c
    return count(engine, select(func.count()).where(c.run_id == run_id))


def ready(engine: Engine, run_id: int) -> int:
    t = run_targets.c
    return count(engine, select(func.count()).where(t.run_id == run_id, t.status == "ready"))


@pytest.fixture
def first(engine: Engine, vault: MyNumberVault, tmp_path: Path) -> tuple[Engine, Settings, int]:
    demo_registry(engine, vault, tmp_path, members=250)
    s = settings(tmp_path)
    return engine, s, cert_run(engine, vault, s)


def test_a_certificate_run_issues_once_and_verifies(
    first: tuple[Engine, Settings, int], vault: MyNumberVault
) -> None:
    engine, s, run_id = first
    report = verify_run(engine, run_id, deep=True)
    assert report.ok, report.problems
    n = ready(engine, run_id)
    assert n > 10 and issued(engine, run_id) == n == report.certificates == report.documents
    with engine.connect() as conn:
        t = run_targets.c
        reasons = set(
            conn.execute(
                select(t.cert_reason).where(t.run_id == run_id, t.status == "ready")
            ).scalars()
        )
        total = conn.execute(select(func.count()).select_from(persons)).scalar_one()
        last4 = conn.execute(
            select(func.count()).where(t.run_id == run_id, t.my_number_last4.is_not(None))
        ).scalar_one()
    assert reasons <= {"not_registered", "registration_cancelled", "ecert_expired"}
    assert last4 == 0  # a certificate never carries My Number digits
    assert n < total  # people with a usable マイナ保険証 get none
    # default delivery: home, so every file is a mailing batch
    out = Path(load_config(engine, run_id)[0].output_url)
    assert list(out.glob("letters/*.pdf"))  # no home address on file: via the employer
    # a second run the same day: everyone who needs one holds one
    again = cert_run(engine, vault, s)
    assert ready(engine, again) == 0 and verify_run(engine, again).ok


def test_re_rendering_a_partition_gives_identical_bytes(
    first: tuple[Engine, Settings, int],
) -> None:
    engine, _s, run_id = first
    run, config = load_config(engine, run_id)
    with engine.connect() as conn:
        p = run_partitions.c
        part = conn.execute(
            select(p.partition_no, p.file_name, p.sha256, p.targets)
            .where(p.run_id == run_id)
            .order_by(p.partition_no)
        ).first()
    assert part is not None
    path = Path(run.output_url) / part.file_name
    before = path.read_bytes()
    job = Job(
        run_id, database_url(engine), run.output_url, config, (part.partition_no,), part.targets
    )
    (done,) = render_partitions(job)
    assert path.read_bytes() == before and done.result.sha256 == part.sha256


def test_application_supersedes_and_renewal_run(
    first: tuple[Engine, Settings, int], vault: MyNumberVault
) -> None:
    engine, s, run_id = first
    c = certificates.c
    with engine.connect() as conn:
        holder = conn.execute(
            select(c.person_id, c.id, persons.c.symbol, persons.c.number, persons.c.branch)
            .join(persons, persons.c.id == c.person_id)
            .where(c.run_id == run_id)
            .order_by(c.id)
        ).first()
    assert holder is not None
    key = f"{holder.symbol}-{holder.number}-{holder.branch}"
    assert find_person(engine, key, "01130012") == holder.person_id
    apply(engine, holder.person_id, CertificateReason.LOST, DAY)
    later = date(2026, 1, 15)
    lost_run = cert_run(engine, vault, s, day=later)
    assert ready(engine, lost_run) == 1
    with engine.connect() as conn:
        old = conn.execute(select(certificates).where(c.id == holder.id)).one()
        new = conn.execute(select(certificates).where(c.run_id == lost_run)).one()
        app = conn.execute(select(certificate_applications)).one()
        supersedes = conn.execute(
            select(run_targets.c.supersedes).where(
                run_targets.c.run_id == lost_run, run_targets.c.status == "ready"
            )
        ).scalar_one()
    assert (old.superseded_by, old.superseded_on) == (new.id, later)
    assert new.reason == "lost" and app.closed_by == new.id and supersedes
    assert verify_run(engine, lost_run, deep=True).ok

    # renewals: everyone whose certificate ends before the date and who still needs one
    renew = cert_run(
        engine, vault, s, kind="renewals", day=date(2030, 10, 1),
        expiring_before=date(2031, 1, 1),
    )  # fmt: skip
    n = ready(engine, renew)
    assert n > 0 and issued(engine, renew) == n
    with engine.connect() as conn:
        reasons = set(conn.execute(select(c.reason).where(c.run_id == renew)).scalars())
        left = conn.execute(
            select(func.count()).where(
                c.run_id != renew, c.superseded_by.is_(None), c.valid_until < date(2031, 1, 1)
            )
        ).scalar_one()
    assert reasons == {"renewal_expiry"}
    # whoever was not renewed no longer needs one, left or was held (never silently lost)
    assert left >= 0
    assert verify_run(engine, renew).ok


def test_needs_assistance_is_renewed_without_a_new_application(
    first: tuple[Engine, Settings, int], vault: MyNumberVault
) -> None:
    engine, s, run_id = first
    with engine.connect() as conn:
        # someone with a usable マイナ保険証 (got none in the first run)
        t = run_targets.c
        pid = conn.execute(
            select(persons.c.id)
            .where(persons.c.id.not_in(select(t.person_id).where(t.run_id == run_id)))
            .order_by(persons.c.id)
        ).first()
    assert pid is not None
    apply(engine, pid[0], CertificateReason.NEEDS_ASSISTANCE, DAY)
    assisted = cert_run(engine, vault, s, day=date(2026, 1, 5))
    with engine.connect() as conn:
        got = conn.execute(
            select(certificates.c.person_id, certificates.c.reason).where(
                certificates.c.run_id == assisted
            )
        ).all()
    assert [(r.person_id, r.reason) for r in got if r.person_id == pid[0]] == [
        (pid[0], "needs_assistance")
    ]
    renew = cert_run(
        engine, vault, s, kind="renewals", day=date(2030, 12, 1),
        expiring_before=date(2031, 2, 1),
    )  # fmt: skip
    with engine.connect() as conn:
        renewed = set(
            conn.execute(
                select(certificates.c.person_id).where(certificates.c.run_id == renew)
            ).scalars()
        )
    assert pid[0] in renewed


def test_return_request_after_a_leave(
    first: tuple[Engine, Settings, int], vault: MyNumberVault
) -> None:
    engine, s, run_id = first
    c, e = certificates.c, eligibility_periods.c
    t = run_targets.c
    with engine.connect() as conn:
        cert = conn.execute(  # a certificate that was mailed home
            select(c.id, c.person_id)
            .join(
                run_targets,
                (t.run_id == c.run_id)
                & (t.partition_no == c.partition_no)
                & (t.piece_no == c.piece_no),
            )
            .where(c.run_id == run_id, t.delivery == "home")
            .order_by(c.id)
        ).first()
    assert cert is not None
    left_on = date(2026, 3, 1)
    with write_transaction(engine) as conn:
        conn.execute(
            eligibility_periods.update()
            .where(e.person_id == cert.person_id, e.lost_on.is_(None))
            .values(lost_on=left_on)
        )
    later = cert_run(engine, vault, s, day=date(2026, 4, 1))
    again = cert_run(engine, vault, s, day=date(2026, 4, 2))  # idempotent: no second request
    with engine.connect() as conn:
        requests = conn.execute(select(certificate_returns)).all()
    assert [(r.certificate_id, r.lost_on, r.notified_run_id) for r in requests] == [
        (cert.id, left_on, later)
    ]
    out = Path(load_config(engine, later)[0].output_url)
    with (out / "returns.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["返却依頼番号", "資格確認書番号", "送付"] and len(rows) == 2
    assert rows[1][1] == str(cert.id) and rows[1][2] == "自宅"
    assert verify_run(engine, later).ok and verify_run(engine, again).ok
    # the letter: mailed home, the address in the window
    pdf = out / "returns.pdf"
    text = pdf_text(pdf)
    assert len(PdfReader(pdf).pages) == 1
    name, postal_code, lost = rows[1][8], rows[1][12], "令和8年3月1日"
    assert nospace(name) in text and lost in text and "返却" in text
    assert f"〒{postal_code[:3]}-{postal_code[3:]}" in text
    assert not (Path(load_config(engine, again)[0].output_url) / "returns.pdf").exists()
    # same ledger, same bytes; verify sees a flipped byte
    before = pdf.read_bytes()
    write_returns(engine, later)
    assert pdf.read_bytes() == before
    data = bytearray(before)
    data[len(data) // 2] ^= 1
    pdf.write_bytes(bytes(data))
    report = verify_run(engine, later)
    assert not report.ok and any("returns.pdf" in p for p in report.problems)
    pdf.write_bytes(before)
    assert verify_run(engine, later).ok
    assert [o.certificate_id for o in outstanding(engine)] == [cert.id]
    mark_returned(engine, cert.id, date(2026, 4, 20))
    assert outstanding(engine) == []


def test_return_letter_to_an_employer_lists_its_former_members(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    demo_registry(engine, vault, tmp_path, members=150)
    s = settings(tmp_path, certificates={"delivery": "employer"})
    run_id = cert_run(engine, vault, s)
    c, p, e = certificates.c, persons.c, eligibility_periods.c
    with engine.connect() as conn:
        # two holders of one employer
        held = conn.execute(
            select(c.person_id, p.employer_id, p.name)
            .join(persons, p.id == c.person_id)
            .where(c.run_id == run_id)
            .order_by(p.employer_id, c.id)
        ).all()
    by_employer: dict[int, list[Any]] = {}
    for row in held:
        by_employer.setdefault(row.employer_id, []).append(row)
    employer_id, leavers = next((k, v[:2]) for k, v in by_employer.items() if len(v) >= 2)
    with write_transaction(engine) as conn:
        for row in leavers:
            conn.execute(
                eligibility_periods.update()
                .where(e.person_id == row.person_id, e.lost_on.is_(None))
                .values(lost_on=date(2026, 3, 1))
            )
        emp_name = conn.execute(
            select(employers.c.name).where(employers.c.id == employer_id)
        ).scalar_one()
    later = cert_run(engine, vault, s, day=date(2026, 4, 1))
    out = Path(load_config(engine, later)[0].output_url)
    pdf = out / "returns.pdf"
    assert len(PdfReader(pdf).pages) == 1  # one letter for the employer
    text = pdf_text(pdf)
    assert nospace(emp_name) in text and "事業主様・ご担当者様" in text
    assert all(nospace(row.name) in text for row in leavers)
    assert "令和8年3月1日" in text and "返却" in text and "計2名" in text
    with (out / "returns.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))[1:]
    assert [r[2] for r in rows] == ["事業所経由"] * 2
    assert verify_run(engine, later).ok


class FailingEngine:
    """Renders the first `n` jobs, then fails as a crashed worker would."""

    name = "failing"
    workers = 1

    def __init__(self, n: int) -> None:
        self.n = n

    def map_unordered(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[R]:
        for i, job in enumerate(jobs):
            if i == self.n:
                raise RuntimeError("worker lost")
            yield fn(job)

    def close(self) -> None:
        pass


def test_resume_after_a_failure_issues_each_certificate_once(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    demo_registry(engine, vault, tmp_path, members=250)
    s = settings(tmp_path)
    run_id = create_run(engine, RunConfig.from_settings(s), s.output_dir, "certificates", DAY, DAY)
    extract_run(engine, run_id, vault, s.issuance.report_dir)
    with pytest.raises(RuntimeError):
        execute(engine, run_id, FailingEngine(1), task_notices=10)
    half = issued(engine, run_id)
    assert 0 < half < ready(engine, run_id)
    execute(engine, run_id, InlineEngine(), task_notices=10)
    assert issued(engine, run_id) == ready(engine, run_id)
    assert verify_run(engine, run_id, deep=True).ok


def test_employer_delivery_and_card_sheets(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    demo_registry(engine, vault, tmp_path, members=150)
    s = settings(tmp_path, certificates={"delivery": "employer", "card_layout": "sheet",
                                         "cards_per_sheet": 8})  # fmt: skip
    run_id = cert_run(engine, vault, s)
    report = verify_run(engine, run_id, deep=True)
    assert report.ok, report.problems
    out = Path(load_config(engine, run_id)[0].output_url)
    parcels = sorted(out.glob("parcels/*-cards.pdf"))
    assert parcels and report.card_sheets == len(list(out.glob("*/*-cards.pdf")))
    assert len(PdfReader(parcels[0]).pages) >= 1
    # a changed card file fails verify
    data = bytearray(parcels[0].read_bytes())
    data[len(data) // 2] ^= 1
    parcels[0].write_bytes(bytes(data))
    assert not verify_run(engine, run_id).ok


def pdf_text(path: Path) -> str:
    """The PDF's text without whitespace (pdftotext)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) is not installed")
    out = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True)
    return nospace(out.stdout.decode("utf-8"))


def nospace(s: str) -> str:
    return "".join(s.split())


def test_cap_category_on_request_follows_pay_and_tax_status(
    first: tuple[Engine, Settings, int], vault: MyNumberVault
) -> None:
    """限度額適用区分 is printed only when asked for, from the insured person's pay record:
    a 住民税非課税 household under 70 with a pay of ウ or エ is 区分オ."""
    engine, s, run_id = first
    c, p, pp = certificates.c, persons.c, pay_periods.c
    with engine.connect() as conn:
        holder = conn.execute(
            select(c.person_id)
            .join(persons, p.id == c.person_id)
            .join(pay_periods, pp.person_id == p.id)
            .where(
                c.run_id == run_id,
                p.relationship == 1,
                p.birth_date > date(1960, 1, 1),
                pp.standard_monthly_pay < 500_000,  # ウ or エ by pay alone
            )
            .order_by(c.id)
        ).first()
    assert holder is not None
    with write_transaction(engine) as conn:
        conn.execute(
            pay_periods.update().where(pp.person_id == holder.person_id).values(tax_exempt=True)
        )
    apply(engine, holder.person_id, CertificateReason.LOST, DAY, cap_requested=True)
    later = cert_run(engine, vault, s, day=date(2026, 1, 15))
    t = run_targets.c
    with engine.connect() as conn:
        cap = conn.execute(
            select(t.cap_category).where(t.run_id == later, t.person_id == holder.person_id)
        ).scalar_one()
    assert cap == "区分オ"
