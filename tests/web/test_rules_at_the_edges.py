"""Issue 15's eligibility defects, each through the real app on SQLite and PostgreSQL.

Each case is what an independent reading of DOMAIN.md §1, §5-6 found the API getting wrong:
past the 75th birthday, old cards offered to people who never had one, 3 for an older
record, the interim relief's start and end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shikaku.security.mynumber import MyNumberVault
from shikaku.service.clinics import add_clinic
from shikaku.settings import load_settings
from shikaku.web.app import create_app
from tests.issuance.helpers import import_path
from tests.registry.helpers import EMPLOYER_HEADER, MEMBER_HEADER, MY_NUMBERS, employer, member
from tests.registry.helpers import write as write_rows
from tests.web.conftest import CLINIC_CODE, query

Client = tuple[TestClient, dict[str, str]]


@pytest.fixture
def clinic(engine: Engine, vault: MyNumberVault, tmp_path: Path) -> Iterator[Client]:
    emp = write_rows(tmp_path / "e.csv", EMPLOYER_HEADER, [employer("01234567")])
    rows = [
        member("1"),  # an ordinary member since 2020, with a 健康保険証 without printed expiry
        # 75 on 2025-06-15; the registry never recorded the loss.
        member("10", 氏名="後期　到達", 生年月日="1950-06-15", 標準報酬月額="300000"),
        # a dependent of 10, 72 years old: loses with the insured person.
        member("10", "01", 氏名="後期　配偶", 生年月日="1953-03-03"),
        # joined after the abolition: never had a 健康保険証.
        member("11", 氏名="新規　加入", 生年月日="1990-01-01", 資格取得年月日="2025-01-10"),
        # a transfer: record 12 ends on 2025-03-31 (lost 04-01), record 13 begins 2025-04-01.
        member(
            "12",
            氏名="転籍　太郎",
            生年月日="1985-05-05",
            資格喪失年月日="2025-04-01",
            喪失事由="03",
            個人番号=MY_NUMBERS[1],
        ),
        member(
            "13",
            氏名="転籍　太郎",
            生年月日="1985-05-05",
            資格取得年月日="2025-04-01",
            個人番号=MY_NUMBERS[1],
        ),
        # covered since 2000: asked about a day before the first dated burden table
        member("15", 氏名="古参　加入", 生年月日="1970-07-07", 資格取得年月日="2000-04-01"),
        # a 70-74 card printed to expire on 2025-07-31.
        member("14", 氏名="期限　七月", 生年月日="1953-01-10", 保険証有効期限="2025-07-31"),
    ]
    mem = write_rows(tmp_path / "m.csv", MEMBER_HEADER, rows)
    import_path(engine, emp, vault, tmp_path)
    import_path(engine, mem, vault, tmp_path)
    _id, key = add_clinic(engine, CLINIC_CODE, "しかく診療所")
    settings = load_settings({}, {"api": {"rate_limit_per_second": 1000, "rate_limit_burst": 1000}})
    with TestClient(create_app(settings, engine)) as client:
        yield client, {"Authorization": f"Bearer {key}"}


def ask(clinic: Client, **over: Any) -> dict[str, Any]:
    client, auth = clinic
    r = client.post("/v1/eligibility", json=query(**over), headers=auth)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def documents(body: dict[str, Any]) -> set[str]:
    return {d["code"] for d in body["accepted_documents"]}


def test_nobody_is_valid_from_the_75th_birthday(clinic: Client) -> None:
    before = ask(clinic, number="10", birth_date="1950-06-15", service_date="2025-06-14")
    assert before["validity"]["code"] == "1" and before["copay_rate"] == 30
    on = ask(clinic, number="10", birth_date="1950-06-15", service_date="2025-06-15")
    assert on["validity"]["code"] == "2"
    assert on["lost_on"] == "2025-06-15" and on["copay_rate"] is None
    assert on["loss_reason"]["code"] == "03"  # 後期高齢者医療: another medical insurance


def test_a_dependent_loses_coverage_with_the_insured_person_at_75(clinic: Client) -> None:
    before = ask(
        clinic, number="10", branch="01", birth_date="1953-03-03", service_date="2025-06-14"
    )
    assert before["validity"]["code"] == "1" and before["copay_rate"] == 30  # 現役並み
    on = ask(clinic, number="10", branch="01", birth_date="1953-03-03", service_date="2025-06-15")
    assert on["validity"]["code"] == "2" and on["lost_on"] == "2025-06-15"


def test_no_old_card_for_a_qualification_that_began_after_the_abolition(clinic: Client) -> None:
    body = ask(clinic, number="11", birth_date="1990-01-01", service_date="2025-03-01")
    assert body["validity"]["code"] == "1"
    assert "old_card" not in documents(body)
    relief = ask(clinic, number="11", birth_date="1990-01-01", service_date="2026-01-05")
    assert documents(relief) == {"notice_alone"}  # the relief, but no card to show


def test_3_only_when_a_record_that_began_later_covers_the_day(clinic: Client) -> None:
    new_before_start = ask(clinic, number="13", birth_date="1985-05-05", service_date="2025-03-31")
    assert new_before_start["validity"]["code"] == "2"  # only the OLDER record covers it
    old_after_end = ask(clinic, number="12", birth_date="1985-05-05", service_date="2025-04-01")
    assert old_after_end["validity"]["code"] == "3"
    assert old_after_end["lost_on"] == "2025-04-01"


def test_relief_starts_the_day_after_the_cards_own_expiry(clinic: Client) -> None:
    keys = {"number": "14", "birth_date": "1953-01-10"}
    last = ask(clinic, **keys, service_date="2025-07-31")
    assert "old_card" in documents(last) and "notice_alone" not in documents(last)
    first = ask(clinic, **keys, service_date="2025-08-01")
    assert {"old_card", "notice_alone"} <= documents(first)
    offline = ask(clinic, **keys, service_date="2025-08-01", facility_has_online_check=False)
    assert documents(offline) == set()


def test_relief_ends_on_2026_07_31_by_default(clinic: Client) -> None:
    keys = {"number": "1", "birth_date": "1980-01-02"}
    last = ask(clinic, **keys, service_date="2026-07-31")
    assert {"old_card", "notice_alone"} <= documents(last)
    after = ask(clinic, **keys, service_date="2026-08-01")
    assert not {"old_card", "notice_alone"} & documents(after)


def test_a_cap_table_loaded_as_data_reaches_the_answer(
    clinic: Client, engine: Engine, tmp_path: Path
) -> None:
    """policy.burden_tables: a 2027-08 table with new 区分 codes, no code change."""
    from tests.domain.test_burden_tables import EXAMPLE_2027

    table = tmp_path / "caps-2027.toml"
    table.write_text(EXAMPLE_2027, encoding="utf-8")
    _client, auth = clinic
    settings = load_settings(
        {},
        {
            "api": {"rate_limit_per_second": 1000, "rate_limit_burst": 1000},
            "policy": {"burden_tables": [str(table)]},
        },
    )
    with TestClient(create_app(settings, engine)) as client:
        keys = query(number="10", birth_date="1950-06-15", consent_cap_info=True)
        before = client.post(
            "/v1/eligibility", json=keys | {"service_date": "2025-01-06"}, headers=auth
        )
        assert before.json()["cap_category"] == {"code": "B03", "label": "現役並みⅠ"}
        keys = query(number="1", birth_date="1980-01-02", consent_cap_info=True)
        old = client.post(
            "/v1/eligibility", json=keys | {"service_date": "2027-07-31"}, headers=auth
        )
        new = client.post(
            "/v1/eligibility", json=keys | {"service_date": "2027-08-01"}, headers=auth
        )
    assert old.json()["cap_category"] == {"code": "A04", "label": "エ"}
    assert new.json()["cap_category"] == {"code": "A15", "label": "ウ2"}


def test_a_day_before_every_burden_table_is_refused_not_a_5xx(clinic: Client) -> None:
    client, auth = clinic
    keys = query(number="15", birth_date="1970-07-07")
    early = client.post("/v1/eligibility", json=keys | {"service_date": "2018-07-31"}, headers=auth)
    assert early.status_code == 422, early.text
    assert early.json()["errors"][0]["field"] == "service_date"
    first = ask(clinic, number="15", birth_date="1970-07-07", service_date="2018-08-01")
    assert first["validity"]["code"] == "1" and first["copay_rate"] == 30
