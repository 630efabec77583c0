"""A registry with a few members, a clinic with a key, and the app in-process."""

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
from tests.registry.helpers import (
    EMPLOYER_HEADER,
    MEMBER_HEADER,
    MY_NUMBERS,
    employer,
    member,
    write,
)

CLINIC_CODE = "0110113719"  # DOMAIN.md §4's example 医療機関コード


def seed_registry(engine: Engine, vault: MyNumberVault, tmp_path: Path) -> None:
    emp = write(tmp_path / "e.csv", EMPLOYER_HEADER, [employer("01234567")])
    rows = [
        member(
            "1",
            個人番号=MY_NUMBERS[0],
            標準報酬月額="300000",
            マイナ保険証登録日="2023-01-01",
            電子証明書有効期限="2029-01-01",
        ),
        member("1", "01", 生年月日="2020-04-02", 資格取得年月日="2020-04-02"),  # 未就学
        member(
            "2",
            氏名="退職　一郎",
            生年月日="1970-05-06",
            資格喪失年月日="2024-10-01",
            喪失事由="03",
        ),
        member(
            "3", 氏名="高齢　正", 生年月日="1952-06-01", 標準報酬月額="300000"
        ),  # 70-74, 現役並み
    ]
    mem = write(tmp_path / "m.csv", MEMBER_HEADER, rows)
    import_path(engine, emp, vault, tmp_path)
    import_path(engine, mem, vault, tmp_path)


@pytest.fixture
def api(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> Iterator[tuple[TestClient, dict[str, str], Engine]]:
    seed_registry(engine, vault, tmp_path)
    _clinic_id, key = add_clinic(engine, CLINIC_CODE, "しかく診療所")
    settings = load_settings({}, {"api": {"rate_limit_per_second": 1000, "rate_limit_burst": 1000}})
    with TestClient(create_app(settings, engine)) as client:
        yield client, {"Authorization": f"Bearer {key}"}, engine


def query(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "insurer_number": "01130012",
        "symbol": "01234567",
        "number": "1",
        "branch": "00",
        "birth_date": "1980-01-02",
        "service_date": "2024-12-02",
    }
    body.update(over)
    return body
