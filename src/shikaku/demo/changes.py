"""The demo's second members file: what happens between a full run and its follow-up.

From the first members file it derives, deterministically: new insured persons joining their
employers after the extraction date (one with a dependent), name changes, leavers (with their
dependents), and transfers to another office (a new 記号 and 番号: the old record ends the day
the new one starts, the My Number moves along). The follow-up run must target exactly the
joiners, the renamed and the transferred, and nobody who left.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from shikaku.registry.columns import MEMBER_COLUMNS

_H = {c.key: c.header for c in MEMBER_COLUMNS}


@dataclass
class DemoChanges:
    path: Path
    joiners: list[tuple[str, str, str]] = field(default_factory=list)  # (記号, 番号, 枝番)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)
    transferred: list[tuple[str, str, str]] = field(default_factory=list)  # the new keys
    left: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def expected_follow_up(self) -> set[tuple[str, str, str]]:
        return set(self.joiners) | set(self.renamed) | set(self.transferred)


def _key(row: dict[str, str]) -> tuple[str, str, str]:
    return (row[_H["symbol"]], row[_H["number"]], row[_H["branch"]])


def write_demo_changes(
    members_csv: Path,
    out_path: Path,
    seed: int = 1,
    extraction_date: date = date(2024, 6, 7),
    share: float = 0.01,
) -> DemoChanges:
    """Write the changes file (UTF-8, same columns) and say who changed how."""
    with members_csv.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    rng = random.Random(seed * 7919 + 17)
    households: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if not row[_H["lost_on"]]:
            households[(row[_H["symbol"]], row[_H["number"]])].append(row)
    left_on = extraction_date + timedelta(days=100)
    moved_on = extraction_date + timedelta(days=115)
    # Employer-delivered households (任意継続 記号 start with 9 in the demo data) whose insured
    # person is on file and who all joined before the changes take effect.
    keys = sorted(
        k
        for k, members in households.items()
        if not k[0].startswith("9")
        and any(m[_H["branch"]] == "00" for m in members)
        and all(m[_H["eligible_from"]] < left_on.isoformat() for m in members)
    )
    symbols = sorted({k[0] for k in keys})
    top_number: dict[str, int] = defaultdict(int)
    for row in rows:  # numbers of people who left are not reused either
        if row[_H["number"]].isdigit():
            top_number[row[_H["symbol"]]] = max(
                top_number[row[_H["symbol"]]], int(row[_H["number"]])
            )
    count = max(1, round(len(keys) * share))
    picked = rng.sample(keys, min(len(keys), 3 * count))
    renames, leavers, movers = picked[:count], picked[count : 2 * count], picked[2 * count :]
    changes = DemoChanges(out_path)
    out: list[dict[str, str]] = []
    names = [(r[_H["name"]], r[_H["name_kana"]]) for r in rows]

    for key in renames:
        row = dict(next(r for r in households[key] if r[_H["branch"]] == "00"))
        surname, kana = rng.choice(names)
        given = row[_H["name"]].split("　")[-1]
        given_kana = row[_H["name_kana"]].split("　")[-1]
        row[_H["name"]] = surname.split("　")[0] + "　" + given
        row[_H["name_kana"]] = kana.split("　")[0] + "　" + given_kana
        out.append(row)
        changes.renamed.append(_key(row))

    for key in leavers:
        for member in households[key]:
            row = dict(member)
            row[_H["lost_on"]] = left_on.isoformat()
            row[_H["loss_reason"]] = "99"
            out.append(row)
            changes.left.append(_key(row))

    for key in movers:
        target = rng.choice([s for s in symbols if s != key[0]] or symbols)
        top_number[target] += 1
        new_number = str(top_number[target])
        for member in households[key]:
            old = dict(member)
            old[_H["lost_on"]] = moved_on.isoformat()
            old[_H["loss_reason"]] = "99"
            out.append(old)
            new = dict(member)
            new[_H["symbol"]] = target
            new[_H["number"]] = new_number
            new[_H["eligible_from"]] = moved_on.isoformat()
            out.append(new)
            changes.transferred.append(_key(new))

    for i in range(count):
        symbol = symbols[rng.randrange(len(symbols))]
        top_number[symbol] += 1
        source = rows[rng.randrange(len(rows))]
        joined = extraction_date + timedelta(days=30 + i % 120)
        insured = {h: "" for h in header}
        insured.update(
            {
                _H["insurer_number"]: source[_H["insurer_number"]],
                _H["symbol"]: symbol,
                _H["number"]: str(top_number[symbol]),
                _H["branch"]: "00",
                _H["relationship"]: "本人",
                _H["name"]: source[_H["name"]],
                _H["name_kana"]: source[_H["name_kana"]],
                _H["birth_date"]: source[_H["birth_date"]],
                _H["sex"]: source[_H["sex"]],
                _H["eligible_from"]: joined.isoformat(),
                _H["standard_monthly_pay"]: "300000",
            }
        )
        out.append(insured)
        changes.joiners.append(_key(insured))
        if i == 0:  # one joiner brings a child
            child = dict(insured)
            child.update(
                {
                    _H["branch"]: "01",
                    _H["relationship"]: "家族",
                    _H["birth_date"]: (joined - timedelta(days=900)).isoformat(),
                    _H["standard_monthly_pay"]: "",
                }
            )
            out.append(child)
            changes.joiners.append(_key(child))

    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(out)
    return changes
