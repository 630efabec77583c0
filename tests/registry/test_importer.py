"""The importer against real files and real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from shikaku.registry.columns import FileKind
from shikaku.registry.importer import ImportOptions, ImportSummary, import_file
from shikaku.registry.readers import FileRefused
from shikaku.registry.tables import (
    eligibility_periods,
    import_runs,
    mynacard_registrations,
    pay_periods,
    persons,
)
from shikaku.security.mynumber import MyNumberVault
from tests.registry.helpers import (
    EMPLOYER_HEADER,
    MEMBER_HEADER,
    MY_NUMBERS,
    employer,
    member,
    write,
)


def options(tmp_path: Path, **over: object) -> ImportOptions:
    base: dict[str, object] = {
        "insurer_number": "01130012",
        "insured_branch": "00",
        "report_dir": tmp_path / "reports",
        "batch_size": 3,
        "parser_process": False,
    }
    base.update(over)
    return ImportOptions(**base)  # type: ignore[arg-type]


def run(
    engine: Engine, path: Path, vault: MyNumberVault, tmp_path: Path, **over: object
) -> ImportSummary:
    summary = import_file(engine, path, vault, options(tmp_path, **over))
    assert summary.balanced, summary
    return summary


def report_rows(summary: ImportSummary) -> list[dict[str, str]]:
    assert summary.report_path is not None
    with summary.report_path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


@pytest.fixture
def with_employer(engine: Engine, vault: MyNumberVault, tmp_path: Path) -> Engine:
    path = write(tmp_path / "employers.csv", EMPLOYER_HEADER, [employer()], "cp932")
    summary = run(engine, path, vault, tmp_path)
    assert (summary.kind, summary.encoding, summary.inserted) == (FileKind.EMPLOYERS, "cp932", 1)
    return engine


FAMILY = [
    member(
        "1",
        "00",
        個人番号=MY_NUMBERS[0],
        標準報酬月額="300,000",
        標準報酬適用年月日="2023-09-01",
        マイナ保険証登録日="2022-05-01",
        電子証明書有効期限="2027-05-01",
    ),
    member("1", "01", 個人番号=MY_NUMBERS[1]),
    member(
        "1", "02", 氏名="協会　次郎", 氏名カナ="キョウカイ　ジロウ", 生年月日="H27.5.6", 性別="1"
    ),
    member(
        "2",
        "00",
        氏名="髙橋　一郎",
        氏名カナ="ﾀｶﾊｼ ｲﾁﾛｳ",
        生年月日="昭和45年1月2日",
        性別="1",
        個人番号=MY_NUMBERS[2],
        個人番号状態="要確認",
    ),
    member(
        "3",
        "00",
        氏名="𠮷田　花",
        氏名カナ="ヨシダ　ハナ",
        資格喪失年月日="2024-07-01",
        喪失事由="3",
    ),
]


def test_import_stores_every_table_and_is_idempotent(
    with_employer: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    engine = with_employer
    path = write(tmp_path / "members.csv", MEMBER_HEADER, FAMILY)
    first = run(engine, path, vault, tmp_path)
    assert (first.read, first.inserted, first.updated, first.unchanged, first.rejected) == (
        5,
        5,
        0,
        0,
        0,
    )
    assert first.report_path is None
    with engine.connect() as conn:
        rows = {(r.number, r.branch): r for r in conn.execute(select(persons))}
        assert rows[("2", "00")].name == "髙橋　一郎"
        assert rows[("2", "00")].name_kana == "タカハシ　イチロウ"
        assert rows[("2", "00")].birth_date == date(1970, 1, 2)
        assert rows[("2", "00")].my_number_status == "needs_check"
        assert rows[("3", "00")].name == "𠮷田　花"
        assert rows[("1", "02")].my_number_status == "none"
        assert rows[("1", "01")].insured_id == rows[("1", "00")].id
        assert vault.decrypt(rows[("1", "00")].my_number_ct) == MY_NUMBERS[0]
        assert rows[("1", "00")].my_number_bidx == vault.blind_index(MY_NUMBERS[0])
        lost = conn.execute(
            select(eligibility_periods).where(
                eligibility_periods.c.person_id == rows[("3", "00")].id
            )
        ).one()
        assert (lost.lost_on, lost.loss_reason) == (date(2024, 7, 1), "03")
        pay = conn.execute(select(pay_periods)).one()
        assert (pay.standard_monthly_pay, pay.tax_exempt, pay.effective_from) == (
            300000,
            False,
            date(2023, 9, 1),
        )
        myna = conn.execute(select(mynacard_registrations)).one()
        assert myna.ecert_expires_on == date(2027, 5, 1)

    again = run(engine, path, vault, tmp_path)
    assert (again.read, again.inserted, again.updated, again.unchanged, again.rejected) == (
        5,
        0,
        0,
        5,
        0,
    )
    assert count(engine, persons) == 5
    assert count(engine, eligibility_periods) == 5


def test_changed_rows_are_updated_and_new_periods_added(
    with_employer: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    engine = with_employer
    run(engine, write(tmp_path / "a.csv", MEMBER_HEADER, FAMILY), vault, tmp_path)
    changed = [dict(r) for r in FAMILY]
    changed[0]["住所"] = "東京都中野区中野4-10-2"
    changed[0]["郵便番号"] = "1648540"
    changed[0]["標準報酬月額"] = "320000"  # same effective date: the pay row is corrected
    changed[4]["資格喪失年月日"] = ""  # the leave was cancelled
    changed[4]["喪失事由"] = ""
    rejoin = member(
        "3", "00", 氏名="𠮷田　花", 氏名カナ="ヨシダ　ハナ", 資格取得年月日="2025-01-01"
    )
    summary = run(
        engine, write(tmp_path / "b.csv", MEMBER_HEADER, [*changed, rejoin]), vault, tmp_path
    )
    # the rejoin overlaps the now-open first period, so it is rejected; the rest is applied
    assert (summary.inserted, summary.updated, summary.unchanged, summary.rejected) == (0, 2, 3, 1)
    assert report_rows(summary)[0]["列"] == "資格取得年月日"
    with engine.connect() as conn:
        assert conn.execute(select(pay_periods.c.standard_monthly_pay)).scalar_one() == 320000
        assert (
            conn.execute(
                select(persons.c.address).where(persons.c.number == "1", persons.c.branch == "00")
            ).scalar_one()
            == "東京都中野区中野4-10-2"
        )
    # leaving again, then rejoining later, adds a second period to the same person
    changed[4]["資格喪失年月日"] = "2024-07-01"
    summary = run(
        engine, write(tmp_path / "c.csv", MEMBER_HEADER, [changed[4], rejoin]), vault, tmp_path
    )
    assert (summary.inserted, summary.updated, summary.rejected) == (1, 1, 0)
    assert count(engine, persons) == 5
    assert count(engine, eligibility_periods) == 6


REJECTIONS = [
    # (row, column, words in the Japanese reason)
    (member("9", "01"), "番号", "被保険者"),  # dependent whose insured person is unknown
    (
        member("1", "01", 氏名="別人　太郎", 生年月日="2001-01-01"),
        "枝番",
        "生年月日の異なる",
    ),  # 枝番 collision
    (
        member("1", "00", 資格取得年月日="2021-01-01"),
        "資格取得年月日",
        "重なります",
    ),  # overlapping period
    (
        member("4", "00", 個人番号="123456789012"),
        "個人番号",
        "チェックディジット",
    ),  # bad check digit
    (member("5", "00", 生年月日="平成31年5月1日"), "生年月日", "平成"),  # impossible era date
    (member("6", "00", 生年月日="2024-02-30"), "生年月日", "30日"),  # impossible date
    (
        member("7", "00", 資格喪失年月日="2019-01-01"),
        "資格喪失年月日",
        "以前",
    ),  # lost_on before eligible_from
    (member("8", "00", 記号="99999999"), "記号", "事業所"),  # unknown employer
    (
        member("10", "00", 個人番号=MY_NUMBERS[0]),
        "個人番号",
        "別の加入者",
    ),  # My Number held by another
    (
        member("11", "01", 続柄="本人"),
        "枝番",
        "被保険者本人の枝番",
    ),  # branch does not fit relationship
    (member("12", "00", 性別="3"), "性別", ""),
    (member("13", "00", 氏名カナ="きょうかい　Hanako"), "氏名カナ", ""),
    (member("14", "00", 氏名=""), "氏名", "必須"),
]


def test_a_second_row_for_the_same_period_is_a_duplicate(
    with_employer: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    rows = [member("1"), member("2"), member("1", 住所="東京都中野区中野4-10-2")]
    path = write(tmp_path / "dup.csv", MEMBER_HEADER, rows)
    for batch in (1, 10):  # in the same batch or a later one
        first = run(with_employer, path, vault, tmp_path, batch_size=batch)
        [error] = report_rows(first)
        assert (error["行"], error["列"]) == ("4", "資格取得年月日")
        assert "重複" in error["理由"]
    assert (first.unchanged, first.rejected) == (2, 1)


@pytest.mark.parametrize(
    ("row", "column", "words"), REJECTIONS, ids=[r[1] + ":" + r[2] for r in REJECTIONS]
)
def test_each_rejection_has_its_own_reason(
    with_employer: Engine,
    vault: MyNumberVault,
    tmp_path: Path,
    row: dict[str, str],
    column: str,
    words: str,
) -> None:
    engine = with_employer
    base = [member("1", "00", 個人番号=MY_NUMBERS[0]), member("1", "01")]
    run(engine, write(tmp_path / "base.csv", MEMBER_HEADER, base), vault, tmp_path)
    summary = run(engine, write(tmp_path / "bad.csv", MEMBER_HEADER, [row]), vault, tmp_path)
    assert (summary.read, summary.rejected) == (1, 1)
    [error] = report_rows(summary)
    assert error["行"] == "2"
    assert error["列"] == column
    assert words in error["理由"]
    assert error["reason"]
    assert MY_NUMBERS[0] not in summary.report_path.read_text(encoding="utf-8-sig")  # type: ignore[union-attr]
    assert count(engine, persons) == 2


def test_missing_required_column_refuses_the_whole_file(
    with_employer: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    header = [h for h in MEMBER_HEADER if h != "生年月日"]
    path = write(
        tmp_path / "m.csv", header, [{k: v for k, v in member().items() if k != "生年月日"}]
    )
    with pytest.raises(FileRefused) as info:
        import_file(with_employer, path, vault, options(tmp_path))
    assert "生年月日" in info.value.ja
    assert count(with_employer, persons) == 0
    assert count(with_employer, import_runs) == 1  # only the employers import


def test_cp932_bom_and_xlsx_are_read(
    with_employer: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    cp = run(
        with_employer,
        write(tmp_path / "cp.csv", MEMBER_HEADER, [member("1")], "cp932"),
        vault,
        tmp_path,
    )
    assert (cp.encoding, cp.inserted) == ("cp932", 1)
    bom = run(
        with_employer,
        write(tmp_path / "bom.csv", MEMBER_HEADER, [member("2")], "utf-8-sig"),
        vault,
        tmp_path,
    )
    assert (bom.encoding, bom.inserted) == ("utf-8-sig", 1)
    book = Workbook()
    sheet = book.active
    sheet.append(MEMBER_HEADER)  # type: ignore[union-attr]
    row = member("3")
    cells: list[object] = [row.get(h, "") for h in MEMBER_HEADER]
    cells[MEMBER_HEADER.index("生年月日")] = date(1980, 1, 2)  # Excel dates arrive as dates
    cells[MEMBER_HEADER.index("番号")] = 3  # and numbers as numbers
    sheet.append(cells)  # type: ignore[union-attr]
    book.save(tmp_path / "m.xlsx")
    xl = run(with_employer, tmp_path / "m.xlsx", vault, tmp_path)
    assert (xl.encoding, xl.inserted, xl.rejected) == ("xlsx", 1, 0)


def test_undecodable_bytes_reject_the_row_not_the_file(
    with_employer: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "m.csv", MEMBER_HEADER, [member("1"), member("2", 氏名="XX　花子")], "cp932"
    )
    data = path.read_bytes().replace(b"XX", b"\x81\xff")  # not a CP932 character
    path.write_bytes(data)
    summary = run(with_employer, path, vault, tmp_path, encoding="cp932")
    assert (summary.inserted, summary.rejected) == (1, 1)
    assert report_rows(summary)[0]["列"] == "氏名"


def test_statements_per_batch_do_not_grow_with_rows(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    """Zulip-style pin: a batch costs the same statements whether it holds 5 rows or 50."""
    from sqlalchemy import event

    from shikaku.registry import bulk

    run(engine, write(tmp_path / "e.csv", EMPLOYER_HEADER, [employer()]), vault, tmp_path)

    def statements(n: int, start: int) -> int:
        rows = []
        for i in range(start, start + n):
            rows.append(
                member(
                    str(i),
                    "00",
                    個人番号="",
                    標準報酬月額="300000",
                    マイナ保険証登録日="2022-01-01",
                )
            )
            rows.append(member(str(i), "01"))
        path = write(tmp_path / f"m{n}.csv", MEMBER_HEADER, rows)
        seen: list[str] = []

        def listen(_conn: object, _cur: object, sql: str, *_: object) -> None:
            if not sql.startswith("BEGIN"):
                seen.append(sql)

        copies = bulk.copy_statements
        event.listen(engine, "before_cursor_execute", listen)
        try:
            run(engine, path, vault, tmp_path, batch_size=10_000)
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        return len(seen) + bulk.copy_statements - copies

    small, large = statements(5, 1000), statements(50, 2000)
    assert small == large
    assert large <= 25


def test_tracked_memory_does_not_grow_with_the_file(
    sqlite_engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    import tracemalloc

    run(sqlite_engine, write(tmp_path / "e.csv", EMPLOYER_HEADER, [employer()]), vault, tmp_path)

    def peak(n: int, start: int) -> int:
        rows = [member(str(i), "00") for i in range(start, start + n)]
        path = write(tmp_path / f"m{n}.csv", MEMBER_HEADER, rows)
        tracemalloc.start()
        run(sqlite_engine, path, vault, tmp_path, batch_size=500)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    # after warm-up (bounded caches fill within ~10k rows) the peak must not move with size
    small, large = peak(12_000, 10_000), peak(36_000, 30_000)
    assert large < small * 1.15, (small, large)


def test_references_hold_after_import(
    with_employer: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    """The importer resolves foreign keys itself on SQLite; the database must agree."""
    run(with_employer, write(tmp_path / "m.csv", MEMBER_HEADER, FAMILY), vault, tmp_path)
    changed = [dict(r) for r in FAMILY]
    changed[0]["氏名"] = "協会　華子"
    run(with_employer, write(tmp_path / "m2.csv", MEMBER_HEADER, changed), vault, tmp_path)
    with with_employer.connect() as conn:
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1  # restored
        orphans = conn.exec_driver_sql(
            "SELECT count(*) FROM eligibility_periods e LEFT JOIN persons p ON p.id = e.person_id"
            " WHERE p.id IS NULL"
        ).scalar_one()
        assert orphans == 0


def test_a_transfer_in_one_file_moves_the_my_number(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    """The old record ends the day the new one starts; the My Number goes along. Two records
    holding it over the same days are refused."""
    emp = write(tmp_path / "e.csv", EMPLOYER_HEADER, [employer("01234567"), employer("07654321")])
    run(engine, emp, vault, tmp_path)
    first = write(tmp_path / "m1.csv", MEMBER_HEADER, [member("1", 個人番号=MY_NUMBERS[0])])
    run(engine, first, vault, tmp_path)
    moved = write(
        tmp_path / "m2.csv",
        MEMBER_HEADER,
        [
            member("1", 個人番号=MY_NUMBERS[0], 資格喪失年月日="2024-10-01", 喪失事由="99"),
            member("5", 記号="07654321", 個人番号=MY_NUMBERS[0], 資格取得年月日="2024-10-01"),
        ],
    )
    summary = run(engine, moved, vault, tmp_path)
    assert (summary.inserted, summary.updated, summary.rejected) == (1, 1, 0)
    clash = write(
        tmp_path / "m3.csv",
        MEMBER_HEADER,
        [member("6", 記号="07654321", 個人番号=MY_NUMBERS[0], 資格取得年月日="2024-11-01")],
    )
    assert run(engine, clash, vault, tmp_path).rejected == 1


@pytest.mark.postgres
def test_a_bulk_load_leaves_the_planner_statistics_on_postgresql(
    pg_engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    """A fresh import looked empty to PostgreSQL's planner until autovacuum came (if ever)."""
    from tests.issuance.helpers import demo_registry

    def analysed() -> dict[str, int]:
        with pg_engine.connect() as conn:
            rows = conn.execute(
                text("SELECT relname, analyze_count FROM pg_stat_user_tables")
            ).all()
        return {name: count for name, count in rows}

    before = analysed()
    demo_registry(pg_engine, vault, tmp_path, members=1200)  # ≥ ANALYZE_AFTER_ROWS changed
    after = analysed()
    for table in ("persons", "eligibility_periods", "pay_periods", "mynacard_registrations"):
        assert after[table] > before.get(table, 0), table
