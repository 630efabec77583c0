"""accepted_documents follows the 資格確認書 actually issued: valid from its issue, void once
returned (SQLite and PostgreSQL, through the real certificate run and the real app)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from shikaku.registry.tables import certificates, persons
from shikaku.security.mynumber import MyNumberVault
from shikaku.service.certificates import mark_returned
from shikaku.service.clinics import add_clinic
from shikaku.settings import load_settings
from shikaku.web.app import create_app
from tests.issuance.helpers import DAY, cert_run, settings
from tests.web.conftest import CLINIC_CODE, query, seed_registry

ELDER = {"number": "3", "birth_date": "1952-06-01"}  # no マイナ保険証: gets a certificate


def documents(client: TestClient, auth: dict[str, str], day: date, **keys: Any) -> set[str]:
    r = client.post(
        "/v1/eligibility", json=query(service_date=day.isoformat(), **keys), headers=auth
    )
    assert r.status_code == 200, r.text
    return {d["code"] for d in r.json()["accepted_documents"]}


def test_accepted_documents_follow_issued_certificates(
    engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    seed_registry(engine, vault, tmp_path)
    _id, key = add_clinic(engine, CLINIC_CODE, "しかく診療所")
    auth = {"Authorization": f"Bearer {key}"}
    limits = {"api": {"rate_limit_per_second": 1000, "rate_limit_burst": 1000}}
    with TestClient(create_app(load_settings({}, limits), engine)) as client:
        assert "certificate" not in documents(client, auth, DAY, **ELDER)  # none issued yet
        run_id = cert_run(engine, vault, settings(tmp_path, certificates={"delivery": "employer"}))
        with engine.connect() as conn:
            cert = conn.execute(
                select(certificates.c.id, certificates.c.valid_until)
                .join(persons, persons.c.id == certificates.c.person_id)
                .where(certificates.c.run_id == run_id, persons.c.number == "3")
            ).one()
        assert "certificate" in documents(client, auth, DAY, **ELDER)
        assert "certificate" not in documents(client, auth, date(2025, 12, 1), **ELDER)  # before
        assert "certificate" not in documents(
            client, auth, DAY, number="1", birth_date="1980-01-02"
        )
        mark_returned(engine, cert.id, date(2026, 1, 10))
        assert "certificate" in documents(client, auth, date(2026, 1, 9), **ELDER)
        assert "certificate" not in documents(client, auth, date(2026, 1, 10), **ELDER)
