"""FHIR R4 / JP Core endpoints; every response validates with fhir.resources (R4B models)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.coverageeligibilityresponse import CoverageEligibilityResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome
from sqlalchemy import Engine, func, select, text

from shikaku.registry.tables import audit_log
from shikaku.settings import load_settings
from shikaku.web.app import create_app
from shikaku.web.fhir import (
    FHIR_JSON,
    INSURER_SYSTEM,
    MEMBER_SYSTEM,
    NUMBER_EXT,
    RELATIONSHIP_SYSTEM,
    SUBNUMBER_EXT,
    SYMBOL_EXT,
)

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


def _search(client: TestClient, auth: dict[str, str], identifier: str, birth: str) -> Any:
    params = {"identifier": identifier, "birthdate": birth, "date": "2024-12-02"}
    return client.get("/fhir/Coverage", params=params, headers=auth)


def test_relationship_uses_jp_core_codes(api: Api) -> None:
    """JP_Coverage.relationship: 被保険者区分コード 1 被保険者, 2 被扶養者 (not HL7's self/other)."""
    client, auth, _engine = api
    for member, birth, code, display in (
        ("01130012:01234567:1:00", "1980-01-02", "1", "被保険者"),
        ("01130012:01234567:1:01", "2020-04-02", "2", "被扶養者"),
    ):
        r = _search(client, auth, f"{MEMBER_SYSTEM}|{member}", birth)
        coverage = Bundle.model_validate(r.json()).entry[0].resource
        (coding,) = coverage.relationship.coding
        assert (coding.system, coding.code, coding.display) == (RELATIONSHIP_SYSTEM, code, display)
    assert RELATIONSHIP_SYSTEM == JP + "core/mhlw/CodeSystem/InsuredPersonCategory"


def _audit_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def test_an_identifier_of_another_system_matches_nothing(api: Api) -> None:
    """FHIR token search: system|value matches only identifiers of that system; ours is
    JP_Insurance_memberID. The empty searchset says why; no lookup, so no audit row."""
    client, auth, engine = api
    before = _audit_rows(engine)
    for identifier in ("urn:oid:1.2.392.100495.20.3.61|01130012:01234567:1:00",
                       "|01130012:01234567:1:00"):  # fmt: skip
        r = _search(client, auth, identifier, "1980-01-02")
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        bundle = Bundle.model_validate(r.json())
        assert bundle.total == 0 and "花子" not in r.text
        (entry,) = bundle.entry
        assert entry.search.mode == "outcome"
        assert entry.resource.issue[0].severity == "warning"
        assert entry.resource.issue[0].expression == ["identifier"]
    assert _audit_rows(engine) == before
    r = _search(client, auth, f"{MEMBER_SYSTEM}|01130012:01234567:1:00", "1980-01-02")
    assert Bundle.model_validate(r.json()).total == 1


def _is_outcome(r: Any, status: int, expression: str | None = None) -> OperationOutcome:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    assert r.headers["cache-control"] == "no-store"
    resource = OperationOutcome.model_validate(r.json())
    if expression is not None:
        assert [i.expression for i in resource.issue] == [[expression]]
    return resource


def test_framework_errors_are_operation_outcomes_too(api: Api) -> None:
    """401, 404, 405, 413, 415 and a body that is not JSON: OperationOutcome, not problem+json."""
    client, auth, _engine = api
    post = "/fhir/CoverageEligibilityRequest"
    assert _is_outcome(client.post(post, json=request()), 401).issue[0].code == "login"
    r = client.get("/fhir/Coverage", params={"identifier": "x", "birthdate": "1980-01-02"})
    assert _is_outcome(r, 401).issue[0].code == "login" and r.headers["www-authenticate"]
    r = client.post(post, content=b"{not json", headers={**auth, "Content-Type": FHIR_JSON})
    assert _is_outcome(r, 400).issue[0].code == "structure"
    r = client.post(post, content=b"<x/>", headers={**auth, "Content-Type": "application/fhir+xml"})
    _is_outcome(r, 415)
    big = b'{"resourceType": "' + b"x" * 70_000 + b'"}'
    _is_outcome(client.post(post, content=big, headers={**auth, "Content-Type": FHIR_JSON}), 413)
    _is_outcome(client.get(post, headers=auth), 405)
    _is_outcome(client.get("/fhir/Patient", headers=auth), 404)
    r = client.get("/fhir/Coverage", params={"birthdate": "1980-01-02"}, headers=auth)
    assert _is_outcome(r, 400, "identifier").issue[0].code == "required"


def test_rate_limit_is_an_operation_outcome(api: Api) -> None:
    _client, auth, engine = api
    settings = load_settings({}, {"api": {"rate_limit_per_second": 0.01, "rate_limit_burst": 1}})
    with TestClient(create_app(settings, engine)) as client:
        post = "/fhir/CoverageEligibilityRequest"
        assert client.post(post, json=request(), headers=auth).status_code == 200
        r = client.post(post, json=request(), headers=auth)
        assert _is_outcome(r, 429).issue[0].code == "throttled"
        assert int(r.headers["Retry-After"]) >= 1


@contextmanager
def _audit_refused(engine: Engine) -> Iterator[None]:
    """Every insert into the audit log fails, as when its database cannot write."""
    if engine.dialect.name == "postgresql":
        create = [
            "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit refused'; END $$",
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
        ]
        drop = ["DROP TRIGGER refuse_audit ON audit_log", "DROP FUNCTION refuse_audit()"]
    else:
        create = [
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
        ]
        drop = ["DROP TRIGGER refuse_audit"]
    with engine.begin() as conn:
        for statement in create:
            conn.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))


def test_no_answer_without_its_audit_row_is_an_operation_outcome(api: Api) -> None:
    client, auth, engine = api
    with _audit_refused(engine):
        r = client.post("/fhir/CoverageEligibilityRequest", json=request(), headers=auth)
        assert _is_outcome(r, 503).issue[0].code == "transient"
        assert r.headers["Retry-After"] == "1" and "花子" not in r.text
        r = _search(client, auth, "01130012:01234567:1:00", "1980-01-02")
        assert _is_outcome(r, 503).issue[0].code == "transient"


def test_contained_that_is_not_a_list_is_reported_there(api: Api) -> None:
    client, auth, _engine = api
    body = request()
    body["contained"] = body["contained"][0]  # an object, not an array
    r = client.post("/fhir/CoverageEligibilityRequest", json=body, headers=auth)
    issue = _is_outcome(r, 400, "CoverageEligibilityRequest.contained").issue[0]
    assert issue.code == "structure" and "birthDate" not in (issue.diagnostics or "")
    body = request()
    del body["contained"][0]["birthDate"]
    r = client.post("/fhir/CoverageEligibilityRequest", json=body, headers=auth)
    _is_outcome(r, 400, "CoverageEligibilityRequest.contained[0].birthDate")


def test_answers_are_never_cached_and_repeat_only_what_was_checked(api: Api) -> None:
    client, auth, _engine = api
    body = request()
    body["patient"] = {"reference": "#p", "display": "x" * 500, "extension": [{"url": "u"}]}
    r = client.post("/fhir/CoverageEligibilityRequest", json=body, headers=auth)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    resource = CoverageEligibilityResponse.model_validate(r.json())
    assert resource.patient.reference == "#p" and "x" * 500 not in r.text
    (patient,) = resource.contained
    assert patient.id == "p" and str(patient.birthDate) == "1980-01-02"
    r = _search(client, auth, "01130012:01234567:1:00", "1980-01-02")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
