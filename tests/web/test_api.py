"""The clinic API through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from shikaku.registry.tables import audit_log
from shikaku.service.clinics import revoke_clinic
from shikaku.settings import load_settings
from shikaku.web.api import EligibilityRequest
from shikaku.web.app import create_app
from shikaku.web.problems import PROBLEM
from tests.registry.helpers import MY_NUMBERS
from tests.web.conftest import CLINIC_CODE, query

Api = tuple[TestClient, dict[str, str], Engine]


def _audit_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def test_a_covered_member(api: Api) -> None:
    client, auth, engine = api
    before = _audit_rows(engine)
    r = client.post("/v1/eligibility", json=query(consent_cap_info=True), headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["validity"] == {"code": "1", "label": "有効"}
    assert body["relationship"]["label"] == "本人"
    assert body["name"] == "協会　花子" and body["copay_rate"] == 30
    assert body["cap_category"]["code"] == "A03"  # ウ: 標準報酬月額 300,000
    assert {d["code"] for d in body["accepted_documents"]} >= {"myna_card"}
    assert not re.search(r"\d{12}", r.text) and MY_NUMBERS[0][-4:] not in r.text
    assert _audit_rows(engine) == before + 1  # durable before the answer


def test_cap_category_only_with_consent(api: Api) -> None:
    client, auth, _engine = api
    body = client.post("/v1/eligibility", json=query(), headers=auth).json()
    assert body["cap_category"] is None and body["copay_rate"] == 30


def test_children_and_the_elderly(api: Api) -> None:
    client, auth, _engine = api
    child = client.post(
        "/v1/eligibility", json=query(branch="01", birth_date="2020-04-02"), headers=auth
    ).json()
    assert child["copay_rate"] == 20 and child["relationship"]["label"] == "家族"
    elder = client.post(
        "/v1/eligibility", json=query(number="3", birth_date="1952-06-01"), headers=auth
    ).json()
    assert elder["copay_rate"] == 30  # 70-74 with 標準報酬月額 ≥ 280,000: 現役並み


def test_a_member_who_left(api: Api) -> None:
    client, auth, _engine = api
    body = client.post(
        "/v1/eligibility", json=query(number="2", birth_date="1970-05-06"), headers=auth
    ).json()
    assert body["validity"]["code"] == "2"
    assert body["lost_on"] == "2024-10-01" and body["loss_reason"]["code"] == "03"
    assert body["copay_rate"] is None and body["accepted_documents"] == []


def test_every_key_must_match_or_nothing_is_revealed(api: Api) -> None:
    client, auth, _engine = api
    for over in ({"birth_date": "1980-01-03"}, {"branch": "02"}, {"symbol": "07654321"}):
        body = client.post("/v1/eligibility", json=query(**over), headers=auth).json()
        assert body["validity"] == {"code": "4", "label": "該当資格なし"}
        assert body["name"] is None and body["eligible_from"] is None


def test_bad_input_is_a_problem_naming_the_field(api: Api) -> None:
    client, auth, _engine = api
    r = client.post("/v1/eligibility", json=query(insurer_number="01130013"), headers=auth)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 422 and problem["errors"][0]["field"] == "insurer_number"
    assert (
        "検証番号" in problem["errors"][0]["message"]
        or "check digit" in problem["errors"][0]["message"]
    )
    bad: dict[str, Any] = query(birth_date="2024-02-30")
    assert (
        client.post("/v1/eligibility", json=bad, headers=auth).json()["errors"][0]["field"]
        == "birth_date"
    )
    r = client.post("/v1/eligibility", content=b"{not json", headers=auth)
    assert r.status_code == 422


def test_keys_are_required_and_revocable(api: Api) -> None:
    client, auth, engine = api
    assert client.post("/v1/eligibility", json=query()).status_code == 401
    assert (
        client.post(
            "/v1/eligibility", json=query(), headers={"Authorization": "Bearer sk_x_y"}
        ).status_code
        == 401
    )
    revoke_clinic(engine, CLINIC_CODE)
    r = client.post("/v1/eligibility", json=query(), headers=auth)
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")


def test_rate_limit_answers_429_with_retry_after(api: Api) -> None:
    _client, auth, engine = api
    settings = load_settings({}, {"api": {"rate_limit_per_second": 0.01, "rate_limit_burst": 2}})
    with TestClient(create_app(settings, engine)) as client:
        codes = [
            client.post("/v1/eligibility", json=query(), headers=auth).status_code for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        r = client.post("/v1/eligibility", json=query(), headers=auth)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_openapi_and_docs(api: Api) -> None:
    client, _auth, _engine = api
    spec = client.get("/openapi.json").json()
    for path in (
        "/v1/eligibility",
        "/fhir/CoverageEligibilityRequest",
        "/fhir/Coverage",
        "/fhir/metadata",
    ):
        assert path in spec["paths"]
        for operation in spec["paths"][path].values():
            assert re.search(
                r"[ぁ-んァ-ヶ一-龠]", operation["summary"] + operation.get("description", "")
            )
    assert client.get("/docs").status_code == 200


def test_the_server_dropping_connections_costs_no_answer(api: Api) -> None:
    """Every connection the app holds is killed by the server between two requests (on
    SQLite the checker's child is killed): the lookup reconnects and the audit row is still
    written before the answer."""
    client, auth, engine = api
    assert client.post("/v1/eligibility", json=query(), headers=auth).status_code == 200
    if engine.dialect.name == "postgresql":
        kill = text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        with engine.connect() as conn:
            assert conn.execute(kill).scalar_one() >= 1
    else:
        os.kill(client.app.state.ctx.checker.pid, signal.SIGKILL)  # type: ignore[attr-defined]
    before = _audit_rows(engine)
    for _ in range(2):
        r = client.post("/v1/eligibility", json=query(), headers=auth)
        assert r.status_code == 200, r.text
    assert _audit_rows(engine) >= before + 2


def test_openapi_declares_the_keys_and_the_body(api: Api) -> None:
    client, _auth, _engine = api
    spec = client.get("/openapi.json").json()
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    post = spec["paths"]["/v1/eligibility"]["post"]
    assert post["security"] == [{"bearer": []}, {"apiKey": []}]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["required"]) >= {"insurer_number", "symbol", "number", "branch"}
    assert "health" not in str(spec["paths"]["/v1/health"]["get"].get("security", ""))


def test_an_oversized_body_is_refused_with_413(api: Api) -> None:
    client, auth, _engine = api
    r = client.post(
        "/v1/eligibility",
        content=b'{"symbol": "' + b"1" * 70_000 + b'"}',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json")


def _wrong_type(annotation: Any) -> Any:
    """A JSON value of the wrong type for a field: a string for a boolean, a number for a
    string or a date."""
    return "true" if annotation is bool else 20241202


def test_every_field_refuses_a_value_of_the_wrong_json_type(api: Api) -> None:
    """Strict input: "yes" is not a boolean, 1 is not a 番号, 20241202 is not a date."""
    client, auth, _engine = api
    fields = EligibilityRequest.model_fields
    assert {"consent_cap_info", "facility_has_online_check", "birth_date"} <= set(fields)
    for name, info in fields.items():
        for value in (_wrong_type(info.annotation), None, [], {}):
            r = client.post("/v1/eligibility", json=query(**{name: value}), headers=auth)
            assert r.status_code == 422, (name, value, r.text)
            assert [e["field"] for e in r.json()["errors"]] == [name], (name, value)
    r = client.post("/v1/eligibility", json=query(consent_cap_info="yes"), headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "consent_cap_info"


def test_dates_the_rules_cannot_compute_with_are_refused(api: Api) -> None:
    """service_date 9999-12-31 once overflowed in the rules (a 503); it never reaches them."""
    client, auth, _engine = api
    for field, value in (
        ("service_date", "9999-12-31"),
        ("service_date", "3000-01-01"),
        ("service_date", "1867-12-31"),
        ("birth_date", "9999-12-31"),
        ("birth_date", "0001-01-01"),
        ("service_date", "1980-01-01"),  # the day before the birth date
    ):
        r = client.post("/v1/eligibility", json=query(**{field: value}), headers=auth)
        assert r.status_code == 422, (field, value, r.text)
        assert [e["field"] for e in r.json()["errors"]] == [field]
    r = client.post("/v1/eligibility", json=query(service_date="2999-12-31"), headers=auth)
    assert r.status_code == 200, r.text


def test_answers_and_their_errors_are_never_cached(api: Api) -> None:
    client, auth, _engine = api
    for r in (
        client.post("/v1/eligibility", json=query(), headers=auth),
        client.post("/v1/eligibility", json=query(branch="x"), headers=auth),
        client.post("/v1/eligibility", json=query()),
        client.post("/v1/eligibility", content=b"{" * 70_000, headers=auth),
    ):
        assert r.headers["cache-control"] == "no-store", r.status_code


def test_a_body_that_is_not_json_is_refused_with_415(api: Api) -> None:
    client, auth, _engine = api
    body = orjson.dumps(query())
    for content_type in ("text/plain", "application/xml", "application/json; charset=Shift_JIS"):
        r = client.post(
            "/v1/eligibility", content=body, headers={**auth, "Content-Type": content_type}
        )
        assert r.status_code == 415 and r.headers["content-type"] == PROBLEM, content_type
    for content_type in ("application/json", "application/json; charset=utf-8"):
        r = client.post(
            "/v1/eligibility", content=body, headers={**auth, "Content-Type": content_type}
        )
        assert r.status_code == 200, content_type
