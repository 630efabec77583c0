"""A My Number typed into a name or address column is refused, never stored in clear
(it would be printed on notices and written to manifests): issue 15, found while checking
what import echoes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from shikaku.registry.importer import ImportOptions, import_file
from shikaku.registry.tables import employers, persons
from shikaku.security.mynumber import MyNumberVault
from tests.registry.helpers import (
    EMPLOYER_HEADER,
    MEMBER_HEADER,
    MY_NUMBERS,
    employer,
    member,
    write,
)


def _import(engine: Engine, path: Path, vault: MyNumberVault, tmp_path: Path):  # type: ignore[no-untyped-def]
    options = ImportOptions(
        insurer_number="01130012", insured_branch="00", report_dir=tmp_path / "reports",
        batch_size=500, parser_process=False,
    )  # fmt: skip
    return import_file(engine, path, vault, options)


def test_twelve_digits_in_free_text_reject_the_row(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    full_width = MY_NUMBERS[1].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    emp = write(
        tmp_path / "e.csv",
        EMPLOYER_HEADER,
        [employer("01234567"), employer("07654321", 所在地=f"東京都千代田区1-1 {MY_NUMBERS[0]}")],
    )
    s = _import(engine, emp, vault, tmp_path)
    assert (s.inserted, s.rejected) == (1, 1) and s.errors_sample[0].column == "所在地"
    mem = write(
        tmp_path / "m.csv",
        MEMBER_HEADER,
        [member("1", 住所=f"東京都港区{full_width}"), member("2", 住所="東京都港区芝1-2-3 101号")],
    )
    s = _import(engine, mem, vault, tmp_path)
    assert (s.inserted, s.rejected) == (1, 1) and s.balanced
    assert "個人番号" in s.errors_sample[0].ja
    with engine.connect() as conn:
        stored = [*conn.execute(select(persons.c.address)).scalars(),
                  *conn.execute(select(employers.c.address)).scalars()]  # fmt: skip
    assert not any(MY_NUMBERS[0] in (a or "") or full_width in (a or "") for a in stored)
    for report in (tmp_path / "reports").iterdir():
        text = report.read_text(encoding="utf-8-sig")
        assert MY_NUMBERS[0] not in text and MY_NUMBERS[1] not in text and full_width not in text
