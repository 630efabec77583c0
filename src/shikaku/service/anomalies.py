"""Registry rows that contradict a rule, for staff to correct: one home for the CLI
(`shikaku anomalies`) and the console page (/console/anomalies)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TextIO

from sqlalchemy import Connection, Engine, select

from shikaku.domain.anomalies import Anomaly, AnomalyRule, household_anomalies
from shikaku.registry.anomalies import iter_households, overlapping_my_numbers
from shikaku.registry.tables import persons
from shikaku.security.outputs import csv_writer


@dataclass(frozen=True)
class Subject:
    """How staff recognise a record (never its My Number)."""

    person_id: int
    symbol: str
    number: str
    branch: str
    name: str
    birth_date: date

    @property
    def keys(self) -> str:
        return f"{self.symbol}-{self.number}-{self.branch}"


@dataclass(frozen=True)
class AnomalyRow:
    anomaly: Anomaly
    subject: Subject
    other: Subject | None  # the overlapping record

    @property
    def rule(self) -> AnomalyRule:
        return self.anomaly.rule


def find_anomalies(engine: Engine, as_of: date) -> list[AnomalyRow]:
    """Every rule the registry breaks as of `as_of`, in 記号・番号・枝番 order."""
    with engine.connect() as conn:
        found = [
            anomaly
            for household in iter_households(conn)
            for anomaly in household_anomalies(household.insured, household.dependents, as_of)
        ]
        for (person, other), since in overlapping_my_numbers(conn).items():
            found.append(Anomaly(person, AnomalyRule.OVERLAPPING_COVERAGE, since, other))
        ids = {a.person_id for a in found} | {a.other_person_id for a in found}
        subjects = _subjects(conn, ids)
    rows = [
        AnomalyRow(a, subjects[a.person_id], subjects.get(a.other_person_id or 0)) for a in found
    ]
    return sorted(rows, key=lambda r: (r.subject.symbol, r.subject.number, r.subject.branch,
                                       list(AnomalyRule).index(r.rule)))  # fmt: skip


def _subjects(conn: Connection, ids: set[int | None]) -> dict[int, Subject]:
    p = persons.c
    wanted = sorted(i for i in ids if i is not None)
    subjects: dict[int, Subject] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        for row in conn.execute(
            select(p.id, p.symbol, p.number, p.branch, p.name, p.birth_date).where(
                p.id.in_(wanted[start : start + 500])
            )
        ):
            subjects[row.id] = Subject(*row)
    return subjects


CSV_HEADER = ("記号", "番号", "枝番", "氏名", "生年月日", "規則", "規則の説明", "起算日",
              "相手の記号-番号-枝番")  # fmt: skip


def write_csv(rows: list[AnomalyRow], f: TextIO) -> None:
    """The list for Excel (open `f` as UTF-8 with BOM): formula-safe cells (security.outputs)."""
    w = csv_writer(f)
    w.writerow(CSV_HEADER)
    for r in rows:
        s = r.subject
        w.writerow(
            (s.symbol, s.number, s.branch, s.name, s.birth_date.isoformat(), str(r.rule),
             r.rule.label, r.anomaly.since.isoformat(), r.other.keys if r.other else "")
        )  # fmt: skip
