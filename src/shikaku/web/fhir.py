"""FHIR R4 with the JP Core identifiers (DOMAIN.md §4): the same check for clinic software.

`POST /fhir/CoverageEligibilityRequest` answers with a CoverageEligibilityResponse,
`GET /fhir/Coverage?identifier=…` with a searchset Bundle, `GET /fhir/metadata` with the
CapabilityStatement. Errors are OperationOutcome resources naming the element at fault.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse

from shikaku.domain.eligibility import Validity
from shikaku.domain.errors import DomainError
from shikaku.domain.identifiers import validate_insurer_number
from shikaku.domain.members import Relationship
from shikaku.registry.records import parse_branch, parse_number, parse_symbol
from shikaku.service.eligibility import CheckQuery, CheckResult
from shikaku.web.auth import KEY_REQUIRED, Authenticated
from shikaku.web.context import audited_check, context_of

router = APIRouter(prefix="/fhir")

FHIR_JSON = "application/fhir+json"
EXT = "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/"
SYMBOL_EXT = EXT + "JP_Coverage_InsuredPersonSymbol"
NUMBER_EXT = EXT + "JP_Coverage_InsuredPersonNumber"
SUBNUMBER_EXT = EXT + "JP_Coverage_InsuredPersonSubNumber"
INSURER_SYSTEM = "http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber"
MEMBER_SYSTEM = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID"
RELATIONSHIP_SYSTEM = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
BENEFIT_SYSTEM = "https://shikaku.dev/fhir/CodeSystem/benefit"
VALIDITY_SYSTEM = "https://shikaku.dev/fhir/CodeSystem/validity"


class FhirError(Exception):
    def __init__(self, status: int, expression: str, message: str, code: str = "invalid") -> None:
        self.status = status
        self.expression = expression
        self.message = message
        self.code = code


def outcome(status: int, expression: str, message: str, code: str = "invalid") -> JSONResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": code,
                "diagnostics": message,
                "expression": [expression],
            }
        ],
    }
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON)


def _get(obj: Any, path: str) -> Any:
    node = obj
    for part in path.split("."):
        if isinstance(node, list):
            node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _date(value: Any, where: str) -> date:
    if not isinstance(value, str):
        raise FhirError(400, where, f"{where} が必要です (required, YYYY-MM-DD)")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise FhirError(400, where, f"{where} は日付 YYYY-MM-DD です (not a date)") from None


def _contained(resource: dict[str, Any], reference: Any, kind: str) -> dict[str, Any] | None:
    ref = reference.get("reference") if isinstance(reference, dict) else None
    if isinstance(ref, str) and ref.startswith("#"):
        for item in resource.get("contained") or []:
            if (
                isinstance(item, dict)
                and item.get("id") == ref[1:]
                and item.get("resourceType") == kind
            ):
                return item
    return None


def _checked(rule: Any, value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FhirError(400, where, f"{where} が必要です (required)")
    try:
        return str(rule(value))
    except DomainError as exc:
        raise FhirError(400, where, f"{exc.ja} ({exc.en})") from None


def member_keys(coverage: dict[str, Any], where: str) -> tuple[str, str, str, str]:
    """保険者番号, 記号, 番号, 枝番 from a JP Core Coverage: the member id, or the extensions
    plus the payor's 保険者番号."""
    for i, ident in enumerate(coverage.get("identifier") or []):
        if isinstance(ident, dict) and ident.get("system") == MEMBER_SYSTEM:
            return parse_member_id(ident.get("value"), f"{where}.identifier[{i}].value")
    exts = {
        e.get("url"): e.get("valueString")
        for e in coverage.get("extension") or []
        if isinstance(e, dict)
    }
    insurer = None
    for payor in coverage.get("payor") or []:
        ident = payor.get("identifier") if isinstance(payor, dict) else None
        if isinstance(ident, dict) and ident.get("system") == INSURER_SYSTEM:
            insurer = ident.get("value")
    return (
        _checked(validate_insurer_number, insurer, f"{where}.payor.identifier"),
        _checked(parse_symbol, exts.get(SYMBOL_EXT), f"{where}.extension:InsuredPersonSymbol"),
        _checked(parse_number, exts.get(NUMBER_EXT), f"{where}.extension:InsuredPersonNumber"),
        _checked(
            parse_branch, exts.get(SUBNUMBER_EXT), f"{where}.extension:InsuredPersonSubNumber"
        ),
    )


def parse_member_id(value: Any, where: str) -> tuple[str, str, str, str]:
    if not isinstance(value, str) or value.count(":") != 3:
        raise FhirError(
            400, where, f"{where} は 保険者番号:記号:番号:枝番 です (JP_Insurance_memberID)"
        )
    insurer, symbol, number, branch = value.split(":")
    return (
        _checked(validate_insurer_number, insurer, where + " (保険者番号)"),
        _checked(parse_symbol, symbol, where + " (記号)"),
        _checked(parse_number, number, where + " (番号)"),
        _checked(parse_branch, branch, where + " (枝番)"),
    )


def member_id(insurer: str, symbol: str, number: str, branch: str) -> str:
    return f"{insurer}:{symbol}:{number}:{branch}"


def _coverage_resource(keys: tuple[str, str, str, str], r: CheckResult, rid: str) -> dict[str, Any]:
    insurer, symbol, number, branch = keys
    period: dict[str, str] = {}
    if r.eligible_from:
        period["start"] = r.eligible_from.isoformat()
    if r.lost_on:
        period["end"] = r.lost_on.isoformat()  # the first day not covered, as DOMAIN.md keeps it
    resource: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": rid,
        "extension": [
            {"url": SYMBOL_EXT, "valueString": symbol},
            {"url": NUMBER_EXT, "valueString": number},
            {"url": SUBNUMBER_EXT, "valueString": branch},
        ],
        "identifier": [{"system": MEMBER_SYSTEM, "value": member_id(*keys)}],
        "status": "active" if r.validity is Validity.VALID else "cancelled",
        "beneficiary": {"display": r.name or ""},
        "relationship": {
            "coding": [
                {
                    "system": RELATIONSHIP_SYSTEM,
                    "code": "self" if r.relationship == 1 else "other",
                    "display": Relationship(r.relationship or 2).label,
                }
            ]
        },
        "payor": [{"identifier": {"system": INSURER_SYSTEM, "value": insurer}}],
    }
    if period:
        resource["period"] = period
    return resource


def _benefits(r: CheckResult) -> list[dict[str, Any]]:
    benefits: list[dict[str, Any]] = []
    if r.copay_rate is not None:
        benefits.append(
            {
                "type": {
                    "coding": [
                        {"system": BENEFIT_SYSTEM, "code": "copay-rate", "display": "負担割合"}
                    ]
                },
                "allowedUnsignedInt": r.copay_rate,
            }
        )
    if r.cap_category is not None:
        benefits.append(
            {
                "type": {
                    "coding": [
                        {
                            "system": BENEFIT_SYSTEM,
                            "code": "cap-category",
                            "display": "限度額適用区分",
                        }
                    ]
                },
                "allowedString": f"{r.cap_category} {r.cap_category.label}",
            }
        )
    return benefits


def eligibility_response(
    request_body: dict[str, Any], keys: tuple[str, str, str, str], served: date, r: CheckResult
) -> dict[str, Any]:
    found = r.validity not in (Validity.NOT_FOUND, Validity.MULTIPLE)
    response: dict[str, Any] = {
        "resourceType": "CoverageEligibilityResponse",
        "status": "active",
        "purpose": request_body.get("purpose") or ["validation"],
        "patient": request_body.get("patient") or {"display": "unknown"},
        "servicedDate": served.isoformat(),
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "request": {"identifier": {"value": str(request_body.get("id") or "request")}},
        "outcome": "complete",
        "disposition": f"{int(r.validity)} {r.validity.label}",
        "insurer": {"identifier": {"system": INSURER_SYSTEM, "value": keys[0]}},
    }
    if not found:
        response["error"] = [
            {
                "code": {
                    "coding": [
                        {
                            "system": VALIDITY_SYSTEM,
                            "code": str(int(r.validity)),
                            "display": r.validity.label,
                        }
                    ]
                }
            }
        ]
        return response
    insurance: dict[str, Any] = {
        "coverage": {"identifier": {"system": MEMBER_SYSTEM, "value": member_id(*keys)}},
        "inforce": r.validity is Validity.VALID,
    }
    if r.eligible_from:
        insurance["benefitPeriod"] = {"start": r.eligible_from.isoformat()}
        if r.lost_on:
            insurance["benefitPeriod"]["end"] = r.lost_on.isoformat()
    benefits = _benefits(r)
    if benefits:
        insurance["item"] = [
            {
                "category": {
                    "coding": [{"system": BENEFIT_SYSTEM, "code": "medical", "display": "医療"}]
                },
                "benefit": benefits,
            }
        ]
    response["insurance"] = [insurance]
    return response


_REQUEST_EXAMPLE = {
    "resourceType": "CoverageEligibilityRequest",
    "status": "active",
    "purpose": ["validation", "benefits"],
    "patient": {"reference": "#p"},
    "servicedDate": "2024-12-02",
    "created": "2024-12-02T09:00:00+09:00",
    "insurer": {"identifier": {"system": INSURER_SYSTEM, "value": "01130012"}},
    "contained": [{"resourceType": "Patient", "id": "p", "birthDate": "1980-01-02"}],
    "insurance": [
        {"coverage": {"identifier": {"system": MEMBER_SYSTEM, "value": "01130012:01234567:1:00"}}}
    ],
}


@router.post(
    "/CoverageEligibilityRequest",
    summary="資格確認 FHIR (CoverageEligibilityRequest → Response)",
    description="JP Core の識別子（JP_Insurance_memberID、または記号・番号・枝番の拡張と保険者番号）"
    "と患者の生年月日で照会し、CoverageEligibilityResponse を返します。"
    "Answers a CoverageEligibilityRequest; errors are OperationOutcome.",
    response_class=JSONResponse,
    openapi_extra=KEY_REQUIRED,
)
async def coverage_eligibility(
    request: Request,
    who: Authenticated,
    body: Annotated[dict[str, Any], Body(examples=[_REQUEST_EXAMPLE])],
) -> JSONResponse:
    ctx = context_of(request)
    try:
        if body.get("resourceType") != "CoverageEligibilityRequest":
            raise FhirError(400, "resourceType", "resourceType は CoverageEligibilityRequest です")
        served = _date(body.get("servicedDate"), "CoverageEligibilityRequest.servicedDate")
        patient = _contained(body, body.get("patient"), "Patient")
        birth = _date(_get(patient, "birthDate"), "CoverageEligibilityRequest.patient.birthDate")
        coverage_ref = _get(body, "insurance.0.coverage")
        if not isinstance(coverage_ref, dict):
            raise FhirError(
                400,
                "CoverageEligibilityRequest.insurance[0].coverage",
                "insurance[0].coverage が必要です",
            )
        coverage = _contained(body, coverage_ref, "Coverage") or {
            "identifier": [coverage_ref["identifier"]]
            if isinstance(coverage_ref.get("identifier"), dict)
            else []
        }
        keys = member_keys(coverage, "CoverageEligibilityRequest.insurance[0].coverage")
    except FhirError as exc:
        return outcome(exc.status, exc.expression, exc.message, exc.code)
    purpose = body.get("purpose") or []
    query = CheckQuery(*keys, birth, served, consent_cap_info="benefits" in purpose)
    result = await audited_check(ctx, who, "fhir_eligibility", query)
    answer = eligibility_response(body, keys, served, result)
    return JSONResponse(answer, media_type=FHIR_JSON)


@router.get(
    "/Coverage",
    summary="保険情報の検索 FHIR (Coverage search by JP_Insurance_memberID)",
    description="identifier=保険者番号:記号:番号:枝番（system 付きでも可）と birthdate（生年月日）が"
    "一致した加入者の Coverage を searchset Bundle で返します。Both must match.",
    response_class=JSONResponse,
    openapi_extra=KEY_REQUIRED,
)
async def coverage_search(
    request: Request,
    who: Authenticated,
    identifier: Annotated[str, Query(description="[system|]保険者番号:記号:番号:枝番")],
    birthdate: Annotated[str, Query(description="生年月日 YYYY-MM-DD (must match)")],
    date_: Annotated[str | None, Query(alias="date", description="基準日 (default: today)")] = None,
) -> JSONResponse:
    ctx = context_of(request)
    try:
        value = identifier.split("|", 1)[1] if "|" in identifier else identifier
        keys = parse_member_id(value, "identifier")
        birth = _date(birthdate, "birthdate")
        day = _date(date_, "date") if date_ else date.today()
    except FhirError as exc:
        return outcome(exc.status, exc.expression, exc.message, exc.code)
    result = await audited_check(ctx, who, "fhir_coverage", CheckQuery(*keys, birth, day))
    found = result.validity not in (Validity.NOT_FOUND, Validity.MULTIPLE)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 1 if found else 0,
    }
    if found:
        bundle["entry"] = [
            {
                "resource": _coverage_resource(keys, result, f"c{result.person_id}"),
                "search": {"mode": "match"},
            }
        ]
    return JSONResponse(bundle, media_type=FHIR_JSON)


@router.get(
    "/metadata",
    summary="CapabilityStatement",
    description="このサーバが提供する FHIR の機能 (what this FHIR endpoint supports).",
    response_class=JSONResponse,
)
async def metadata() -> JSONResponse:
    body = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-27",
        "kind": "instance",
        "software": {"name": "shikaku"},
        "implementation": {"description": "shikaku clinic eligibility API"},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "resource": [
                    {
                        "type": "Coverage",
                        "interaction": [{"code": "search-type"}],
                        "searchParam": [
                            {"name": "identifier", "type": "token"},
                            {"name": "birthdate", "type": "date"},
                            {"name": "date", "type": "date"},
                        ],
                    },
                    {"type": "CoverageEligibilityRequest", "interaction": [{"code": "create"}]},
                ],
            }
        ],
    }
    return JSONResponse(body, media_type=FHIR_JSON)
