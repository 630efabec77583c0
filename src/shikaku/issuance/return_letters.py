"""returns.pdf: the letters 資格確認書の返却のお願い, built from the rows of returns.csv."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date
from itertools import groupby

from sqlalchemy import Connection, select

from shikaku.domain.identifiers import run_label
from shikaku.issuance.certificate_returns import ReturnRow, return_rows
from shikaku.registry.postal import barcode_for
from shikaku.registry.tables import runs
from shikaku.render.model import Employer, ReturnItem, ReturnLetter, return_letter_text


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
