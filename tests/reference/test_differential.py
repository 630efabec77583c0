"""The real `POST /v1/eligibility` against the reference oracle (tests/reference/oracle.py).

Hypothesis builds households (an insured person and dependents, their periods, pay, マイナ保険証
registrations, old cards, 資格確認書, and transfers to another record with the same My Number),
imports them through the real importer into one registry per database (SQLite and PostgreSQL,
built once per module), asks the real app every boundary day of every record, and compares
each answer with the oracle's, field by field.

Certificates are written as rows of the real `certificates` table (as a certificate run records
them) rather than through a run: a run renders PDFs, far too slow for hundreds of examples, and
tests/web/test_certificates_api.py covers the run itself.

No My Number appears in an example or a message: a scenario names a person's number by a small
`identity` index, and the module turns it into a fresh, valid number at import time.
"""

from __future__ import annotations

import asyncio
import calendar
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, astuple, dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select

from shikaku.registry.db import make_engine
from shikaku.registry.tables import certificates, persons, runs
from shikaku.security.mynumber import MyNumberVault
from shikaku.service.clinics import add_clinic
from shikaku.settings import load_settings
from shikaku.web.app import create_app
from tests.conftest import FIXED_KEY, _emptied_postgres
from tests.issuance.helpers import import_path
from tests.reference import oracle
from tests.reference.oracle import (
    ONE_DAY,
    Certificate,
    Key,
    Pay,
    Period,
    Query,
    Record,
    Registration,
)
from tests.registry.helpers import EMPLOYER_HEADER, MEMBER_HEADER, employer, write
from tests.web.conftest import CLINIC_CODE

INSURER = "01130012"
EMPLOYERS = ("01234567", "07654321")  # a household's own employer; a transfer's new one
FIRST_DAY, LAST_DAY = date(2018, 8, 1), date(2031, 12, 31)  # days asked (§6: since 2018-08)
# Every day the rules turn on for everybody (DOMAIN.md §1, §5; the old relief end too).
POLICY_DAYS = (
    date(2024, 12, 1),
    date(2024, 12, 2),
    date(2025, 12, 1),
    date(2025, 12, 2),
    date(2026, 3, 31),
    date(2026, 4, 1),
    date(2026, 7, 31),
    date(2026, 8, 1),
)
LOSS_REASONS = ("01", "02", "03", "99")
# 標準報酬月額 grades around §6's brackets (エ|ウ at 260/280k, ウ|イ 500/530k, イ|ア 790/830k).
PAY_GRADES = (58_000, 98_000, 200_000, 260_000, 280_000, 300_000, 500_000, 530_000, 790_000,
              830_000, 1_390_000)  # fmt: skip
NAMES = ("試験　一郎", "試験　花子", "試験　次郎", "試験　三郎")
GRACE_MONTHS = oracle.Policy().ecert_grace_months
# (consent_cap_info, facility_has_online_check) asked on a day, alternating between days.
PAIRS = (((True, True), (False, False)), ((True, False), (False, True)))
MAX_EXAMPLES = 50  # per database: about 15-20 s each on this 2-core machine


# ---------------------------------------------------------------- what hypothesis draws


@dataclass(frozen=True)
class PersonSpec:
    """One member row of the registry, without its keys (assigned at import)."""

    birth_date: date
    periods: tuple[Period, ...]
    identity: int | None = None  # same index = same My Number; None = no My Number on file
    pay: tuple[Pay, ...] = ()  # insured persons only
    registrations: tuple[Registration, ...] = ()
    old_card_expires_on: date | None = None
    certificates: tuple[Certificate, ...] = ()


@dataclass(frozen=True)
class HouseholdSpec:
    employer: int  # index into EMPLOYERS
    insured: PersonSpec
    dependents: tuple[PersonSpec, ...] = ()


def _leap_days(first: int, last: int) -> list[date]:
    return [date(y, 2, 29) for y in range(first, last + 1) if calendar.isleap(y)]


def _births(first: int, last: int) -> st.SearchStrategy[date]:
    """Random days, and the days the rules turn on: born on the 1st or 2nd (高齢受給者 from
    the birthday month or the next), 1 and 2 April (未就学), 29 February, and 1943-1957 births
    (70 or 75 inside the days asked)."""
    kinds = [
        st.dates(date(first, 1, 1), date(last, 12, 31)),
        st.builds(date, st.integers(first, last), st.integers(1, 12), st.sampled_from([1, 2])),
        st.sampled_from(_leap_days(first, last)),
    ]
    if first <= 1957:
        kinds.append(st.dates(date(max(first, 1943), 1, 1), date(1957, 12, 31)))
    if last >= 2012:
        years = st.integers(max(first, 2012), min(last, 2022))
        kinds.append(st.builds(date, years, st.just(4), st.sampled_from([1, 2])))
    return st.one_of(kinds)


@st.composite
def _timeline(
    draw: st.DrawFn, birth: date, not_before: date, before: date, segments: int
) -> list[Period]:
    """One person's qualifications in time order, never overlapping (records of one My Number
    may not overlap), the first beginning in [not_before, before), none on or after the 75th
    birthday."""
    at_75 = oracle.leaves_at_75(birth)
    earliest = max(birth, not_before, date(2005, 1, 1))
    latest = min(date(2029, 12, 31), at_75 - ONE_DAY, before - ONE_DAY)
    specials = [d for d in (date(2024, 12, 1), date(2024, 12, 2), birth) if earliest <= d <= latest]
    start = draw(st.one_of(st.dates(earliest, latest), *(st.just(d) for d in specials)))
    out: list[Period] = []
    while True:
        last = len(out) + 1 >= segments
        kind = draw(st.sampled_from(("open", "closed", "at_75") if last else ("closed",)))
        lost: date | None = None
        if kind == "at_75":
            lost = at_75
        elif kind == "closed":
            lost = start + timedelta(days=draw(st.integers(1, 3000)))
        out.append(Period(start, lost, draw(st.sampled_from(LOSS_REASONS)) if lost else None))
        if lost is None or last:
            return out
        start = lost + timedelta(days=draw(st.integers(0, 800)))
        if start >= at_75 or start > date(2030, 12, 31):
            return out


def _can_join(birth: date, not_before: date, before: date) -> bool:
    """Whether someone born then can join in [not_before, before), before turning 75."""
    earliest = max(birth, not_before, date(2005, 1, 1))
    return earliest < min(oracle.leaves_at_75(birth), before, date(2030, 1, 1))


def _joinable(not_before: date, before: date) -> Callable[[date], bool]:
    return lambda birth: _can_join(birth, not_before, before)


@st.composite
def _registrations(draw: st.DrawFn) -> tuple[Registration, ...]:
    """Up to two マイナ保険証 registrations, the second only once the first is over
    (cancelled, or its e-certificate past its grace); an e-certificate never expired at
    registration."""
    out: list[Registration] = []
    on = draw(st.dates(date(2021, 10, 20), date(2027, 12, 31)))
    for _ in range(draw(st.integers(0, 2))):
        ecert_days = draw(st.none() | st.integers(1, 1826))
        ecert = on + timedelta(days=ecert_days) if ecert_days is not None else None
        cancel_days = draw(st.none() | st.integers(1, 1500))
        cancelled = on + timedelta(days=cancel_days) if cancel_days is not None else None
        out.append(Registration(on, cancelled, ecert))
        ends = [cancelled] if cancelled else []
        if ecert:
            ends.append(oracle.ecert_usable_until(ecert, GRACE_MONTHS) + ONE_DAY)
        if not ends:
            break
        on = min(ends) + timedelta(days=draw(st.integers(0, 400)))
    return tuple(out)


@st.composite
def _certificates(draw: st.DrawFn) -> tuple[Certificate, ...]:
    """Up to two 資格確認書: a newer one supersedes the older; the newest may come back."""
    out: list[Certificate] = []
    issued = draw(st.dates(date(2024, 12, 2), date(2028, 6, 30)))
    for _ in range(draw(st.integers(0, 2))):
        valid = issued + timedelta(days=draw(st.integers(30, 1826)))
        if out:
            out[-1] = replace(out[-1], superseded_on=issued)
        out.append(Certificate(issued, valid))
        issued += timedelta(days=draw(st.integers(1, 1800)))
    if len(out) > 0 and draw(st.booleans()):
        back = out[-1].issued_on + timedelta(days=draw(st.integers(1, 2000)))
        out[-1] = replace(out[-1], returned_on=back)
    return tuple(out)


_old_cards = st.none() | st.sampled_from(
    [date(2025, 3, 31), date(2025, 11, 30), date(2025, 12, 1), date(2025, 12, 2)]
) | st.dates(date(2024, 12, 1), date(2027, 3, 31))  # fmt: skip


@st.composite
def _pay(draw: st.DrawFn, periods: list[Period]) -> tuple[Pay, ...]:
    """A pay record from each period's start, and maybe a change (a later effective day)."""

    def one(on: date) -> Pay:
        monthly = draw(st.sampled_from(PAY_GRADES))
        exempt = monthly <= 260_000 and draw(st.booleans())  # 非課税 only with low pay
        return Pay(on, monthly, exempt)

    out = [one(p.eligible_from) for p in periods]
    if draw(st.booleans()):
        on = periods[0].eligible_from + timedelta(days=draw(st.integers(1, 3000)))
        if all(p.effective_from != on for p in out):
            out.append(one(on))
    return tuple(out)


@st.composite
def _person(
    draw: st.DrawFn,
    birth: date,
    periods: list[Period],
    identity: int | None,
    insured: bool,
) -> PersonSpec:
    return PersonSpec(
        birth_date=birth,
        periods=tuple(periods),
        identity=identity,
        pay=draw(_pay(periods)) if insured else (),
        registrations=draw(_registrations()) if identity is not None else (),
        old_card_expires_on=draw(_old_cards),
        certificates=draw(_certificates()),
    )


def _split(draw: st.DrawFn, periods: list[Period]) -> tuple[list[Period], list[Period]]:
    """Deal a timeline of two or more qualifications to two records, each getting one."""
    mask = draw(st.lists(st.booleans(), min_size=len(periods), max_size=len(periods)))
    mask[draw(st.integers(0, len(periods) - 1))] = True
    first = [p for p, m in zip(periods, mask, strict=True) if m]
    second = [p for p, m in zip(periods, mask, strict=True) if not m]
    if not second:
        first, second = first[:-1], first[-1:]
    return first, second


def _within(host: Period, limit: date, periods: list[Period]) -> tuple[list[Period], list[Period]]:
    """A dependent's qualifications inside the insured person's period `host` (those that
    begin before `limit`, ended with it as an employer reports a household's loss), and the
    rest (for a record of their own elsewhere)."""
    inside: list[Period] = []
    rest: list[Period] = []
    for p in periods:
        if p.eligible_from >= limit:
            rest.append(p)
        elif host.lost_on is not None and (p.lost_on is None or p.lost_on > host.lost_on):
            inside.append(Period(p.eligible_from, host.lost_on, "99"))
        else:
            inside.append(p)
    return inside, rest


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[HouseholdSpec, ...]:
    """A household, and maybe a second record (the insured person of a household at another
    employer) for one of its members: a transfer, with the same My Number. Dependents are
    covered inside one period of their insured person, as employers report them; only the
    75th birthday (which the registry may not have recorded) makes the two differ."""
    n_dependents = draw(st.integers(0, 3))
    mover = draw(st.none() | st.integers(0, n_dependents))  # 0: the insured person
    ids = [i if i == mover or draw(st.integers(0, 3)) else None for i in range(n_dependents + 1)]
    birth = draw(_births(1940, 2004))
    whole = draw(_timeline(birth, date(2005, 1, 1), date(2030, 1, 1), draw(st.integers(1, 3))))
    own, moved = _split(draw, whole) if mover == 0 and len(whole) > 1 else (whole, [])
    insured = draw(_person(birth, own, ids[0], True))
    moves: list[HouseholdSpec] = []
    if moved:
        moves.append(HouseholdSpec(1, draw(_person(birth, moved, ids[0], True))))
    insured_75 = oracle.leaves_at_75(birth)
    dependents = []
    for i in range(1, n_dependents + 1):
        host = draw(st.sampled_from(insured.periods))
        limit = min(host.lost_on or date.max, insured_75)
        born = draw(_births(1940, 2024).filter(_joinable(host.eligible_from, limit)))
        segments = draw(st.integers(2 if i == mover else 1, 3))
        inside, rest = _within(
            host, limit, draw(_timeline(born, host.eligible_from, limit, segments))
        )
        dependents.append(draw(_person(born, inside, ids[i], False)))
        if rest and i == mover:
            moves.append(HouseholdSpec(1, draw(_person(born, rest, ids[i], True))))
    return (HouseholdSpec(0, insured, tuple(dependents)), *moves)


# ---------------------------------------------------------------- the registry and the app


def my_number(serial: int) -> str:
    """A valid 個人番号 (DOMAIN.md §4's check digit) made from a serial number."""
    body = f"9{serial:010d}"
    r = sum(int(p) * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(body), 1)) % 11
    return body + str(0 if r <= 1 else 11 - r)


def _iso(d: date | None) -> str:
    return d.isoformat() if d else ""


@dataclass
class Registry:
    """One registry and one app for the module; each example adds its own households."""

    engine: Engine
    vault: MyNumberVault
    tmp: Path
    client: TestClient
    auth: dict[str, str]
    run_ids: tuple[int, ...]
    serial: Iterator[int]

    def load(self, households: tuple[HouseholdSpec, ...]) -> list[Record]:
        """Import the households (fresh 番号 and My Numbers) and return them as the oracle's."""
        numbers: dict[int | None, str] = {
            i: my_number(next(self.serial)) for h in households for i in _ids(h)
        }
        rows: list[dict[str, str]] = []
        later: list[dict[str, str]] = []  # a second file: what one row per period cannot carry
        records: list[Record] = []
        for h in households:
            number = str(next(self.serial))
            insured_key = Key(INSURER, EMPLOYERS[h.employer], number, "00")
            for branch, spec in enumerate((h.insured, *h.dependents)):
                key = replace(insured_key, branch=f"{branch:02d}")
                record = _record(key, insured_key, spec)
                records.append(record)
                first, second = _rows(record, numbers.get(spec.identity))
                rows.extend(first)
                if second is not None:
                    later.append(second)
        n = next(self.serial)
        import_path(
            self.engine, write(self.tmp / f"m{n}.csv", MEMBER_HEADER, rows), self.vault, self.tmp
        )
        if later:
            path = write(self.tmp / f"m{n}b.csv", MEMBER_HEADER, later)
            import_path(self.engine, path, self.vault, self.tmp)
        self._certify(records)
        return records

    def _certify(self, records: list[Record]) -> None:
        wanted = [r for r in records if r.certificates]
        if not wanted:
            return
        with self.engine.begin() as conn:
            for r in wanted:
                person_id = conn.execute(
                    select(persons.c.id).where(
                        persons.c.symbol == r.key.symbol,
                        persons.c.number == r.key.number,
                        persons.c.branch == r.key.branch,
                    )
                ).scalar_one()
                newer: int | None = None
                for run_id, c in reversed(list(zip(self.run_ids, r.certificates, strict=False))):
                    newer = conn.execute(
                        insert(certificates).values(
                            person_id=person_id,
                            run_id=run_id,
                            partition_no=1,
                            piece_no=1,
                            issued_on=c.issued_on,
                            valid_until=c.valid_until,
                            reason="not_registered",
                            cap_requested=False,
                            superseded_by=newer if c.superseded_on else None,
                            superseded_on=c.superseded_on,
                            returned_on=c.returned_on,
                        )
                    ).inserted_primary_key[0]  # type: ignore[index]

    def ask(self, queries: list[Query]) -> list[dict[str, Any]]:
        """Every query at once through the app's ASGI entry (its fast path), as under load."""
        bodies = [
            {
                "insurer_number": q.key.insurer_number,
                "symbol": q.key.symbol,
                "number": q.key.number,
                "branch": q.key.branch,
                "birth_date": q.birth_date.isoformat(),
                "service_date": q.service_date.isoformat(),
                "consent_cap_info": q.consent_cap_info,
                "facility_has_online_check": q.facility_has_online_check,
            }
            for q in queries
        ]

        async def run() -> list[httpx.Response]:
            transport = httpx.ASGITransport(app=self.client.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return list(
                    await asyncio.gather(
                        *(client.post("/v1/eligibility", json=b, headers=self.auth) for b in bodies)
                    )
                )

        replies = self.client.portal.call(run)  # type: ignore[union-attr]
        assert all(r.status_code == 200 for r in replies), [r.text for r in replies][:3]
        return [r.json() for r in replies]


def _ids(h: HouseholdSpec) -> set[int]:
    return {p.identity for p in (h.insured, *h.dependents) if p.identity is not None}


def _record(key: Key, insured: Key, spec: PersonSpec) -> Record:
    insured_person = key.branch == "00"
    return Record(
        key=key,
        relationship=oracle.INSURED if insured_person else oracle.DEPENDENT,
        name=NAMES[int(key.branch) % len(NAMES)],
        name_kana="シケン　イチロウ" if insured_person else "シケン　カゾク",
        birth_date=spec.birth_date,
        periods=spec.periods,
        insured=insured,
        identity=spec.identity,
        pay=spec.pay,
        registrations=spec.registrations,
        old_card_expires_on=spec.old_card_expires_on,
        certificates=spec.certificates,
    )


def _rows(record: Record, number: str | None) -> tuple[list[dict[str, str]], dict[str, str] | None]:
    """The record as member rows: one per period (each carrying one registration and its
    period's pay), then at most one more row for the second file (a pay change, a further
    registration), repeating the first period."""
    base = {
        "記号": record.key.symbol,
        "番号": record.key.number,
        "枝番": record.key.branch,
        "続柄": "本人" if record.relationship == oracle.INSURED else "家族",
        "氏名": record.name,
        "氏名カナ": record.name_kana,
        "生年月日": record.birth_date.isoformat(),
        "性別": "1",
        "個人番号": number or "",
        "保険証有効期限": _iso(record.old_card_expires_on),
    }
    regs = list(record.registrations)
    pays = {p.effective_from: p for p in record.pay}
    out: list[dict[str, str]] = []
    for i, p in enumerate(record.periods):
        row = {
            **base,
            "資格取得年月日": p.eligible_from.isoformat(),
            "資格喪失年月日": _iso(p.lost_on),
            "喪失事由": p.loss_reason or "",
        }
        if i < len(regs):
            row.update(_registration(regs[i]))
        pay = pays.pop(p.eligible_from, None)
        if pay is not None:
            row.update(_pay_columns(pay))
        out.append(row)
    extra = {**out[0]}
    for k in ("マイナ保険証登録日", "マイナ保険証解除日", "電子証明書有効期限", "標準報酬月額",
              "標準報酬適用年月日", "住民税非課税"):  # fmt: skip
        extra.pop(k, None)
    if len(regs) > len(out):
        extra.update(_registration(regs[len(out)]))
    for pay in pays.values():  # at most one change
        extra.update(_pay_columns(pay))
    if len(regs) > len(out) or pays:
        return out, extra
    return out, None


def _registration(r: Registration) -> dict[str, str]:
    return {
        "マイナ保険証登録日": r.registered_on.isoformat(),
        "マイナ保険証解除日": _iso(r.cancelled_on),
        "電子証明書有効期限": _iso(r.ecert_expires_on),
    }


def _pay_columns(p: Pay) -> dict[str, str]:
    return {
        "標準報酬月額": str(p.standard_monthly_pay or ""),
        "標準報酬適用年月日": p.effective_from.isoformat(),
        "住民税非課税": "1" if p.tax_exempt else "0",
    }


# ---------------------------------------------------------------- the days asked


def boundary_days(record: Record, records: list[Record]) -> set[date]:
    """Every day a rule turns on for this record: DOMAIN.md's dates, the person's and their
    insured person's age limits, every period of every record of the same person, pay, the
    マイナ保険証, the old card and the 資格確認書; each with the day before or after."""
    insured = next(r for r in records if r.key == record.insured)
    same = [
        r
        for r in records
        if r.key == record.key or (record.identity is not None and r.identity == record.identity)
    ]
    days: set[date] = set(POLICY_DAYS)
    for person in {record.birth_date, insured.birth_date}:
        days |= _around(oracle.preschool_until(person) + ONE_DAY)
        days |= _around(oracle.elderly_from(person))
        days |= _around(oracle.leaves_at_75(person))
    for r in same:
        for p in r.periods:
            days |= _around(p.eligible_from)
            if p.lost_on:
                days |= _around(p.lost_on)
    for pay in insured.pay:
        days |= _around(pay.effective_from)
    for reg in record.registrations:
        days |= _around(reg.registered_on)
        if reg.cancelled_on:
            days |= _around(reg.cancelled_on)
        if reg.ecert_expires_on:
            days |= _around(reg.ecert_expires_on + ONE_DAY)
            grace = oracle.ecert_usable_until(reg.ecert_expires_on, GRACE_MONTHS)
            days |= _around(grace + ONE_DAY)
    if record.old_card_expires_on:
        days |= _around(record.old_card_expires_on + ONE_DAY)
    for c in record.certificates:
        days |= _around(c.issued_on) | _around(c.valid_until + ONE_DAY)
        for void in (c.superseded_on, c.returned_on):
            if void:
                days |= _around(void)
    return {d for d in days if FIRST_DAY <= d <= LAST_DAY and d >= record.birth_date}


def _around(first: date) -> set[date]:
    """A day a rule starts on, and the day before."""
    return {first - ONE_DAY, first}


def queries_for(records: list[Record], extra_days: list[date]) -> list[Query]:
    """Each boundary day twice, every consent and online-checking flag once a day (the four
    pairings alternate from day to day); and two keys that must find nobody (4)."""
    out: list[Query] = []
    for r in records:
        days = sorted(d for d in boundary_days(r, records) | set(extra_days) if d >= r.birth_date)
        for i, day in enumerate(days):
            for consent, online in PAIRS[i % 2]:
                out.append(Query(r.key, r.birth_date, day, consent, online))
    first = records[0]
    day = extra_days[0] if extra_days else POLICY_DAYS[0]
    out.append(Query(first.key, first.birth_date + ONE_DAY, day, True, True))
    out.append(Query(replace(first.key, branch="99"), first.birth_date, day, True, True))
    return out


# ---------------------------------------------------------------- comparing


def from_api(body: dict[str, Any]) -> dict[str, Any]:
    """The API's JSON in the oracle's terms (codes only; documents as a set)."""

    def code(v: dict[str, str] | None) -> str | None:
        return v["code"] if v else None

    def day(v: str | None) -> date | None:
        return date.fromisoformat(v) if v else None

    relationship = code(body["relationship"])
    return {
        "validity": int(body["validity"]["code"]),
        "relationship": int(relationship) if relationship else None,
        "name": body["name"],
        "name_kana": body["name_kana"],
        "eligible_from": day(body["eligible_from"]),
        "lost_on": day(body["lost_on"]),
        "loss_reason": code(body["loss_reason"]),
        "copay_rate": body["copay_rate"],
        "cap_category": code(body["cap_category"]),
        "accepted_documents": frozenset(d["code"] for d in body["accepted_documents"]),
    }


def describe(record: Record | None, records: list[Record]) -> str:
    """A record (and a dependent's insured person) for a failure message: dates and codes,
    never a My Number."""
    if record is None:
        return "(no such record)"
    pays = [(str(p.effective_from), p.standard_monthly_pay, p.tax_exempt) for p in record.pay]
    text = (
        f"{'本人' if record.relationship == oracle.INSURED else '家族'} {record.key.symbol}-"
        f"{record.key.branch} born {record.birth_date}, identity {record.identity}, periods "
        f"{[(str(p.eligible_from), str(p.lost_on), p.loss_reason) for p in record.periods]}, "
        f"old card {record.old_card_expires_on}, pay {pays}, "
        f"registrations {[tuple(map(str, astuple(r))) for r in record.registrations]}, "
        f"certificates {[tuple(map(str, astuple(c))) for c in record.certificates]}"
    )
    insured = oracle.insured_of(record, records)
    if insured is not record:
        text += f"\n    of {describe(insured, records)}"
    for other in records:
        if other.identity is not None and other.identity == record.identity and other is not record:
            periods = [(str(p.eligible_from), str(p.lost_on), p.loss_reason) for p in other.periods]
            text += f"\n    same person at {other.key.symbol}-{other.key.branch}: periods {periods}"
    return text


@dataclass(frozen=True)
class Mismatch:
    kind: str  # the class of disagreement: validities and what else differs
    fields: frozenset[str]
    text: str


def _kind(got: dict[str, Any], expected: dict[str, Any], wrong: list[str]) -> str:
    parts = [f"validity API {got['validity']} oracle {expected['validity']}"]
    for k in wrong:
        if k == "accepted_documents":
            extra = sorted(got[k] - expected[k])
            missing = sorted(expected[k] - got[k])
            parts.append(f"documents API also {extra} API lacks {missing}")
        elif k not in ("validity", "name", "name_kana"):
            parts.append(k if got[k] is not None and expected[k] is not None else f"{k} (None)")
    return "; ".join(parts)


def mismatches(
    records: list[Record], queries: list[Query], replies: list[dict[str, Any]]
) -> list[Mismatch]:
    """Every answer that differs from the oracle's, with its class."""
    by_key = {r.key: r for r in records}
    out: list[Mismatch] = []
    for q, reply in zip(queries, replies, strict=True):
        expected = asdict(oracle.answer(records, q))
        got = from_api(reply)
        wrong = sorted(k for k in expected if expected[k] != got[k])
        if wrong:
            diff = "; ".join(f"{k}: API {got[k]!r}, oracle {expected[k]!r}" for k in wrong)
            text = (
                f"{describe(by_key.get(q.key), records)}\n  on {q.service_date}"
                f" consent={q.consent_cap_info} online={q.facility_has_online_check}: {diff}"
            )
            out.append(Mismatch(_kind(got, expected, wrong), frozenset(wrong), text))
    return out


def report(wrong: list[Mismatch], asked: int) -> str:
    """Each class of disagreement once, with how often it happened and one example."""
    counts = Counter(w.kind for w in wrong)
    first = {w.kind: w.text for w in reversed(wrong)}
    lines = [f"{len(wrong)} of {asked} answers differ from the oracle's, in {len(counts)} ways:"]
    for kind, n in counts.most_common():
        lines.append(f"- {n} × {kind}, e.g.\n  {first[kind]}")
    return "\n".join(lines)


# ---------------------------------------------------------------- the test


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def registry(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> Iterator[Registry]:
    """A migrated registry with two employers and a clinic, and the app with default policy."""
    tmp = tmp_path_factory.mktemp("reference")
    if request.param == "sqlite":
        path = tmp / "registry.db"
        path.write_bytes(sqlite_template.read_bytes())
        engine = make_engine(f"sqlite:///{path}")
    else:
        engine = _emptied_postgres(request.getfixturevalue("pg_url"))
    vault = MyNumberVault(FIXED_KEY)
    employers = [employer(EMPLOYERS[0]), employer(EMPLOYERS[1], 事業所名="株式会社てんしょく")]
    import_path(engine, write(tmp / "e.csv", EMPLOYER_HEADER, employers), vault, tmp)
    with engine.begin() as conn:
        run_ids = tuple(
            conn.execute(
                insert(runs).values(
                    kind="certificates",
                    extraction_date=date(2024, 12, 2),
                    issued_on=date(2024, 12, 2),
                    status="done",
                    output_url=str(tmp),
                    settings_json="{}",
                    created_at=datetime(2024, 12, 2),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            for _ in range(2)
        )
    _clinic_id, key = add_clinic(engine, CLINIC_CODE, "しかく診療所")
    app_settings = load_settings(
        {}, {"api": {"rate_limit_per_second": 10**6, "rate_limit_burst": 10**6}}
    )
    with TestClient(create_app(app_settings, engine)) as client:
        yield Registry(
            engine, vault, tmp, client, {"Authorization": f"Bearer {key}"}, run_ids,
            itertools.count(1),
        )  # fmt: skip
    engine.dispose()


def _household(birth: date, *dependents: PersonSpec, **over: Any) -> HouseholdSpec:
    """A hand-built household for the examples every run must include."""
    insured = PersonSpec(
        birth_date=birth,
        periods=(Period(date(2010, 4, 1)),),
        identity=0,
        pay=(Pay(date(2010, 4, 1), 300_000),),
        registrations=(Registration(date(2023, 1, 10)),),
    )
    return HouseholdSpec(0, replace(insured, **over), dependents)


def _dependent(birth: date, start: date = date(2010, 4, 1), **over: Any) -> PersonSpec:
    return replace(PersonSpec(birth, (Period(max(birth, start)),)), **over)


EXAMPLES: tuple[tuple[HouseholdSpec, ...], ...] = (
    # 70th birthdays on the 1st and 2nd of a month, 75 with nothing recorded, 現役並み; a
    # spouse of the same age; children born on 1 and 2 April (未就学 to 2025 or 2026-03-31).
    (
        _household(
            date(1955, 6, 1),
            _dependent(date(1955, 6, 2)),
            _dependent(date(2019, 4, 1), identity=2),
            _dependent(date(2019, 4, 2), old_card_expires_on=date(2025, 3, 31)),
        ),
    ),
    # 29 February births (70 and 75 always fall in a common year: on 1 March).
    (
        _household(
            date(1956, 2, 29),
            _dependent(date(1952, 2, 29)),
            _dependent(date(1948, 2, 29)),
            old_card_expires_on=date(2025, 12, 2),
        ),
    ),
    # A transfer: the newer record covers the day (3), and an older one that does not count.
    (
        _household(
            date(1980, 1, 2),
            periods=(Period(date(2010, 4, 1), date(2024, 12, 2), "03"),),
        ),
        HouseholdSpec(
            1,
            PersonSpec(
                date(1980, 1, 2),
                (Period(date(2024, 12, 2)),),
                identity=0,
                pay=(Pay(date(2024, 12, 2), 830_000),),
                old_card_expires_on=date(2026, 3, 31),
                certificates=(Certificate(date(2025, 12, 2), date(2030, 12, 1)),),
            ),
        ),
    ),  # The same person turns 75 while covered by a newer record elsewhere: that record is no
    # newer qualification from the 75th birthday (2, not 3).
    (
        _household(
            date(1949, 1, 1),
            periods=(Period(date(2005, 4, 1), date(2015, 4, 1), "03"),),
            pay=(Pay(date(2005, 4, 1), 500_000),),
        ),
        HouseholdSpec(
            1,
            PersonSpec(
                date(1949, 1, 1),
                (Period(date(2015, 4, 1)),),
                identity=0,
                pay=(Pay(date(2015, 4, 1), 280_000),),
            ),
        ),
    ),
)


def check(registry: Registry, households: tuple[HouseholdSpec, ...], days: list[date]) -> None:
    """Import, ask, compare. One assertion per field, most basic first, each on its own line:
    hypothesis tells failures apart by where they are raised, so it shrinks and reports a
    minimal example for each kind of disagreement instead of stopping at the first."""
    records = registry.load(households)
    queries = queries_for(records, days)
    wrong = mismatches(records, queries, registry.ask(queries))
    msg = report(wrong, len(queries))

    def on(*fields: str) -> bool:
        return any(w.fields & set(fields) for w in wrong)

    assert not on("validity"), msg
    assert not on("eligible_from", "lost_on"), msg
    assert not on("copay_rate"), msg
    assert not on("cap_category"), msg
    assert not on("accepted_documents"), msg
    assert not on("loss_reason"), msg
    assert not wrong, msg


@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    households=scenarios(),
    extra_days=st.lists(st.dates(FIRST_DAY, LAST_DAY), min_size=1, max_size=3),
)
def test_the_api_answers_what_domain_md_says(
    registry: Registry, households: tuple[HouseholdSpec, ...], extra_days: list[date]
) -> None:
    check(registry, households, extra_days)


@pytest.mark.parametrize(
    "households", EXAMPLES, ids=["ages", "february_29", "transfer", "transfer_at_75"]
)
def test_hand_built_households_at_the_boundaries(
    registry: Registry, households: tuple[HouseholdSpec, ...]
) -> None:
    """The boundaries every run must cover, whatever hypothesis draws."""
    check(registry, households, [date(2025, 6, 15)])
