"""FHIR R4 / JP Core endpoints; every response validates with fhir.resources (R4B models)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.coverageeligibilityresponse import CoverageEligibilityResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome
from sqlalchemy import Engine

from shikaku.web.fhir import INSURER_SYSTEM, MEMBER_SYSTEM, NUMBER_EXT, SUBNUMBER_EXT, SYMBOL_EXT

Api = tuple[TestClient, dict[str, str], Engine]
JP = "http://jpfhir.jp/fhir/"


def request(
    member_id: str = "01130012:01234567:1:00", birth: str = "1980-01-02", **over: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "CoverageEligibilityRequest",
        "id": "req1",
        "status": "active",
        "purpose": ["validation", "benefits"],
        "patient": {"reference": "#p"},
        "servicedDate": "2024-12-02",
        "created": "2024-12-02T09:00:00+09:00",
        "insurer": {"identifier": {"system": INSURER_SYSTEM, "value": "01130012"}},
        "contained": [{"resourceType": "Patient", "id": "p", "birthDate": birth}],
        "insurance": [{"coverage": {"identifier": {"system": MEMBER_SYSTEM, "value": member_id}}}],
    }
    body.update(over)
    return body


def test_eligibility_request_by_member_id(api: Api) -> None:
    client, auth, _engine = api
    r = client.post("/fhir/CoverageEligibilityRequest", json=request(), headers=auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    resource = CoverageEligibilityResponse.model_validate(r.json())
    assert resource.outcome == "complete"
    insurance = resource.insurance[0]
    assert insurance.inforce is True
    assert insurance.coverage.identifier.system == MEMBER_SYSTEM
    benefits = {b.type.coding[0].code: b for b in insurance.item[0].benefit}
    assert benefits["copay-rate"].allowedUnsignedInt == 30
    assert benefits["cap-category"].allowedString.startswith("A03")
    assert resource.insurer.identifier.system == INSURER_SYSTEM


def test_eligibility_request_by_jp_core_extensions(api: Api) -> None:
    client, auth, _engine = api
    coverage = {
        "resourceType": "Coverage",
        "id": "c",
        "status": "active",
        "extension": [
            {"url": SYMBOL_EXT, "valueString": "01234567"},
            {"url": NUMBER_EXT, "valueString": "1"},
            {"url": SUBNUMBER_EXT, "valueString": "01"},
        ],
        "beneficiary": {"reference": "#p"},
        "payor": [{"identifier": {"system": INSURER_SYSTEM, "value": "01130012"}}],
    }
    body = request(birth="2020-04-02", purpose=["validation"])
    body["contained"].append(coverage)
    body["insurance"] = [{"coverage": {"reference": "#c"}}]
    r = client.post("/fhir/CoverageEligibilityRequest", json=body, headers=auth)
    resource = CoverageEligibilityResponse.model_validate(r.json())
    benefits = {b.type.coding[0].code: b for b in resource.insurance[0].item[0].benefit}
    assert benefits["copay-rate"].allowedUnsignedInt == 20 and "cap-category" not in benefits
    for url in (SYMBOL_EXT, NUMBER_EXT, SUBNUMBER_EXT, INSURER_SYSTEM, MEMBER_SYSTEM):
        assert url.startswith(JP)


def test_not_found_reveals_nothing(api: Api) -> None:
    client, auth, _engine = api
    r = client.post(
        "/fhir/CoverageEligibilityRequest", json=request(birth="1999-09-09"), headers=auth
    )
    resource = CoverageEligibilityResponse.model_validate(r.json())
    assert resource.insurance is None and resource.error
    assert "該当資格なし" in resource.disposition and "花子" not in r.text


def test_errors_are_operation_outcomes(api: Api) -> None:
    client, auth, _engine = api
    r = client.post(
        "/fhir/CoverageEligibilityRequest",
        json=request(member_id="01130013:01234567:1:00"),
        headers=auth,
    )
    assert r.status_code == 400
    issue = OperationOutcome.model_validate(r.json()).issue[0]
    assert "保険者番号" in issue.expression[0] or "identifier" in issue.expression[0]
    r = client.post(
        "/fhir/CoverageEligibilityRequest", json=request(servicedDate="2024-13-01"), headers=auth
    )
    assert OperationOutcome.model_validate(r.json()).issue[0].expression == [
        "CoverageEligibilityRequest.servicedDate"
    ]


def test_coverage_search_and_metadata(api: Api) -> None:
    client, auth, _engine = api
    r = client.get(
        "/fhir/Coverage",
        params={
            "identifier": f"{MEMBER_SYSTEM}|01130012:01234567:1:00",
            "birthdate": "1980-01-02",
            "date": "2024-12-02",
        },
        headers=auth,
    )
    bundle = Bundle.model_validate(r.json())
    assert bundle.total == 1
    coverage = bundle.entry[0].resource
    assert coverage.status == "active" and coverage.identifier[0].value == "01130012:01234567:1:00"
    assert {e.url for e in coverage.extension} == {SYMBOL_EXT, NUMBER_EXT, SUBNUMBER_EXT}
    miss = client.get(
        "/fhir/Coverage",
        params={"identifier": "01130012:01234567:1:00", "birthdate": "1980-01-03"},
        headers=auth,
    )
    assert Bundle.model_validate(miss.json()).total == 0
    CapabilityStatement.model_validate(client.get("/fhir/metadata").json())
