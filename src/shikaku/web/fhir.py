"""FHIR R4 with the JP Core identifiers (DOMAIN.md §4): the same check for clinic software.

`POST /fhir/CoverageEligibilityRequest` answers with a CoverageEligibilityResponse,
`GET /fhir/Coverage?identifier=…` with a searchset Bundle, `GET /fhir/metadata` with the
CapabilityStatement. Every error under /fhir, the framework's own included (401, 404, 405,
413, 415, 429, 503, a body that is not JSON), is an OperationOutcome naming the element at
fault where there is one (`problem_outcome`, installed for the prefix by web.app). Keys and
dates are checked with the same types as the JSON API's (web.api), so both refuse the same
input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from shikaku.domain.eligibility import Validity
from shikaku.domain.members import Relationship
from shikaku.service.eligibility import CheckQuery, CheckResult
from shikaku.web.api import Branch, InsurerNumber, Number, Symbol, in_range, not_before_birth
from shikaku.web.auth import KEY_REQUIRED, Authenticated
from shikaku.web.body import read_body, require_json
from shikaku.web.context import audited_check, context_of
from shikaku.web.problems import NO_STORE, Problem, safe_message

PREFIX = "/fhir"
router = APIRouter(prefix=PREFIX)

FHIR_JSON = "application/fhir+json"
FHIR_TYPES = frozenset({FHIR_JSON, "application/json"})
EXT = "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/"
SYMBOL_EXT = EXT + "JP_Coverage_InsuredPersonSymbol"
NUMBER_EXT = EXT + "JP_Coverage_InsuredPersonNumber"
SUBNUMBER_EXT = EXT + "JP_Coverage_InsuredPersonSubNumber"
INSURER_SYSTEM = "http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber"
MEMBER_SYSTEM = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID"
# JP Core JP_Coverage.relationship: 被保険者区分コード (MHLW 別表12, urn:oid:1.2.392.100495.20.2.62).
RELATIONSHIP_SYSTEM = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/InsuredPersonCategory"
RELATIONSHIP_DISPLAY = {Relationship.INSURED: "被保険者", Relationship.DEPENDENT: "被扶養者"}
BENEFIT_SYSTEM = "https://shikaku.dev/fhir/CodeSystem/benefit"
VALIDITY_SYSTEM = "https://shikaku.dev/fhir/CodeSystem/validity"
PURPOSES = frozenset({"auth-requirements", "benefits", "discovery", "validation"})
REQUEST = "CoverageEligibilityRequest"

# FHIR's id and date datatypes (a full date: a partial one cannot match a birth date).
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# An HTTP status → the OperationOutcome issue type that says it.
ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
    500: "exception",
    503: "transient",
}


class FhirError(Exception):
    def __init__(
        self, status: int, expression: str | None, message: str, code: str = "invalid"
    ) -> None:
        self.status = status
        self.expression = expression
        self.message = message
        self.code = code


def issue(
    code: str, message: str, expression: str | None, severity: str = "error"
) -> dict[str, Any]:
    item: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": message}
    if expression:
        item["expression"] = [expression]
    return item


def outcome(
    status: int,
    issues: list[dict[str, Any]],
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"resourceType": "OperationOutcome", "issue": issues}
    return JSONResponse(
        body, status_code=status, media_type=FHIR_JSON, headers={**NO_STORE, **(headers or {})}
    )


def error_outcome(exc: FhirError) -> JSONResponse:
    return outcome(exc.status, [issue(exc.code, exc.message, exc.expression)])


def problem_outcome(problem: Problem) -> JSONResponse:
    """Any error under /fhir as an OperationOutcome, with the problem's headers (Retry-After,
    WWW-Authenticate, Allow). A parameter the framework refused (its 422) is a 400, like
    every other input error here."""
    status = 400 if problem.status == 422 else problem.status
    code = ISSUE_TYPES.get(problem.status, "exception" if status >= 500 else "processing")
    issues = [issue(code, e["message"], e["field"]) for e in problem.errors]
    return outcome(status, issues or [issue(code, problem.detail, None)], problem.headers)


# ------------------------------------------------------------------ reading a request

_KEYS = {
    "保険者番号": TypeAdapter(InsurerNumber),
    "記号": TypeAdapter(Symbol),
    "番号": TypeAdapter(Number),
    "枝番": TypeAdapter(Branch),
}
Keys = tuple[str, str, str, str]


def _object(value: Any, where: str) -> dict[str, Any]:
    """`value` as a JSON object (required)."""
    if value is None:
        raise FhirError(400, where, f"{where} が必要です (required)", "required")
    if not isinstance(value, dict):
        raise FhirError(
            400, where, f"{where} はオブジェクトです (must be a JSON object)", "structure"
        )
    return value


def _array(value: Any, where: str) -> list[Any]:
    """`value` as a JSON array; [] when absent."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise FhirError(400, where, f"{where} は配列です (must be a JSON array)", "structure")
    return value


def _string(value: Any, where: str) -> str:
    if value is None:
        raise FhirError(400, where, f"{where} が必要です (required)", "required")
    if not isinstance(value, str):
        raise FhirError(400, where, f"{where} は文字列です (must be a string)", "structure")
    return value


def _key(what: str, value: Any, where: str) -> str:
    """One of 保険者番号・記号・番号・枝番, checked as the JSON API checks it."""
    text = _string(value, where)
    try:
        return str(_KEYS[what].validate_python(text))
    except ValidationError as exc:
        raise FhirError(400, where, f"{what}: {safe_message(exc.errors()[0])}", "value") from None


def fhir_date(value: Any, where: str) -> date:
    """A full FHIR date (YYYY-MM-DD) within the range the rules are made for."""
    text = _string(value, where)
    try:
        if not _DATE.fullmatch(text):
            raise ValueError("YYYY-MM-DD の日付ではありません (not a date YYYY-MM-DD)")
        return in_range(date.fromisoformat(text))
    except ValueError as exc:
        raise FhirError(400, where, f"{where}: {exc}", "value") from None


def parse_member_id(value: Any, where: str) -> Keys:
    """保険者番号:記号:番号:枝番 (JP_Insurance_memberID)."""
    text = _string(value, where)
    parts = text.split(":")
    if len(parts) != 4:
        raise FhirError(
            400,
            where,
            f"{where} は 保険者番号:記号:番号:枝番 です (JP_Insurance_memberID)",
            "value",
        )
    insurer, symbol, number, branch = (
        _key(what, part, where) for what, part in zip(_KEYS, parts, strict=True)
    )
    return insurer, symbol, number, branch


def member_id(insurer: str, symbol: str, number: str, branch: str) -> str:
    return f"{insurer}:{symbol}:{number}:{branch}"


def member_keys(coverage: dict[str, Any], where: str) -> Keys:
    """保険者番号, 記号, 番号, 枝番 from a JP Core Coverage: the member id, or the extensions
    plus the payor's 保険者番号."""
    for i, ident in enumerate(_array(coverage.get("identifier"), f"{where}.identifier")):
        if isinstance(ident, dict) and ident.get("system") == MEMBER_SYSTEM:
            return parse_member_id(ident.get("value"), f"{where}.identifier[{i}].value")
    extensions = {
        e.get("url"): (i, e)
        for i, e in enumerate(_array(coverage.get("extension"), f"{where}.extension"))
        if isinstance(e, dict)
    }
    if not extensions.keys() & {SYMBOL_EXT, NUMBER_EXT, SUBNUMBER_EXT}:
        raise FhirError(
            400,
            f"{where}.identifier",
            f"{MEMBER_SYSTEM} の identifier か、記号・番号・枝番の拡張が必要です "
            "(a JP_Insurance_memberID identifier, or the JP_Coverage extensions)",
            "required",
        )
    payors = _array(coverage.get("payor"), f"{where}.payor")
    insurer = None
    for i, payor in enumerate(payors):
        ident = payor.get("identifier") if isinstance(payor, dict) else None
        if isinstance(ident, dict) and ident.get("system") == INSURER_SYSTEM:
            insurer = _key("保険者番号", ident.get("value"), f"{where}.payor[{i}].identifier.value")
    if insurer is None:
        raise FhirError(
            400,
            f"{where}.payor",
            f"保険者番号の payor.identifier (system {INSURER_SYSTEM}) が必要です (required)",
            "required",
        )

    def extension(what: str, url: str) -> str:
        if url not in extensions:
            where_ext = f"{where}.extension('{url}')"
            raise FhirError(400, where_ext, f"{what}の拡張が必要です (required)", "required")
        i, ext = extensions[url]
        return _key(what, ext.get("valueString"), f"{where}.extension[{i}].valueString")

    return (
        insurer,
        extension("記号", SYMBOL_EXT),
        extension("番号", NUMBER_EXT),
        extension("枝番", SUBNUMBER_EXT),
    )


def _resolve(
    contained: list[Any], reference: dict[str, Any], kind: str, where: str
) -> tuple[int, dict[str, Any]]:
    """The contained resource a local reference (#id) names, with its index."""
    ref = _string(reference.get("reference"), f"{where}.reference")
    if not ref.startswith("#"):
        raise FhirError(
            400,
            f"{where}.reference",
            f"{kind} は contained の {kind} への参照 (#id) です (only local references)",
            "not-supported",
        )
    for i, item in enumerate(contained):
        if item.get("id") == ref[1:] and item.get("resourceType") == kind:
            return i, item
    raise FhirError(
        400,
        f"{where}.reference",
        f"contained に {kind} {ref} がありません (the reference does not resolve)",
        "not-found",
    )


@dataclass(frozen=True)
class EligibilityAsk:
    """What a CoverageEligibilityRequest asks, every part checked."""

    request_id: str | None
    purpose: list[str]
    patient_id: str
    birth: date
    served: date
    keys: Keys


def _fhir_id(value: Any, where: str) -> str:
    """A FHIR id: one the answer may repeat."""
    if not (isinstance(value, str) and _ID.fullmatch(value)):
        raise FhirError(400, where, f"{where} は FHIR の id です ([A-Za-z0-9-.]{{1,64}})", "value")
    return value


def _purpose(body: dict[str, Any]) -> list[str]:
    purpose = _array(body.get("purpose"), f"{REQUEST}.purpose") or ["validation"]
    for i, code in enumerate(purpose):
        if not isinstance(code, str) or code not in PURPOSES:
            raise FhirError(
                400,
                f"{REQUEST}.purpose[{i}]",
                f"purpose は {', '.join(sorted(PURPOSES))} のいずれかです",
                "code-invalid",
            )
    return purpose


def _coverage_keys(body: dict[str, Any], contained: list[Any]) -> Keys:
    """The member's keys from insurance[0].coverage: a contained Coverage, or a member id."""
    insurance = _array(body.get("insurance"), f"{REQUEST}.insurance")
    if not insurance:
        raise FhirError(400, f"{REQUEST}.insurance", "insurance が必要です (required)", "required")
    first = _object(insurance[0], f"{REQUEST}.insurance[0]")
    where = f"{REQUEST}.insurance[0].coverage"
    coverage = _object(first.get("coverage"), where)
    if "reference" in coverage:
        at, resource = _resolve(contained, coverage, "Coverage", where)
        return member_keys(resource, f"{REQUEST}.contained[{at}]")
    if "identifier" in coverage:
        ident = _object(coverage["identifier"], f"{where}.identifier")
        if ident.get("system") != MEMBER_SYSTEM:
            raise FhirError(
                400,
                f"{where}.identifier.system",
                f"identifier.system は {MEMBER_SYSTEM} です (JP_Insurance_memberID only)",
                "not-supported",
            )
        return parse_member_id(ident.get("value"), f"{where}.identifier.value")
    raise FhirError(
        400,
        where,
        "coverage は contained の Coverage への参照か JP_Insurance_memberID の identifier です "
        "(a local reference or a member id)",
        "required",
    )


def parse_request(raw: bytes) -> EligibilityAsk:
    """The request's body, or a FhirError naming the element at fault."""
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        message = f"JSON として読めません (not JSON: {exc.msg})"
        raise FhirError(400, None, message, "structure") from None
    body = _object(parsed, REQUEST)
    if body.get("resourceType") != REQUEST:
        raise FhirError(400, "resourceType", f"resourceType は {REQUEST} です")
    request_id = body.get("id")
    if request_id is not None:
        _fhir_id(request_id, f"{REQUEST}.id")
    purpose = _purpose(body)
    served = fhir_date(body.get("servicedDate"), f"{REQUEST}.servicedDate")
    contained = _array(body.get("contained"), f"{REQUEST}.contained")
    for i, item in enumerate(contained):
        where = f"{REQUEST}.contained[{i}]"
        _string(_object(item, where).get("resourceType"), f"{where}.resourceType")
    patient = _object(body.get("patient"), f"{REQUEST}.patient")
    at, resource = _resolve(contained, patient, "Patient", f"{REQUEST}.patient")
    patient_id = _fhir_id(resource.get("id"), f"{REQUEST}.contained[{at}].id")
    birth = fhir_date(resource.get("birthDate"), f"{REQUEST}.contained[{at}].birthDate")
    keys = _coverage_keys(body, contained)
    try:
        not_before_birth(birth, served)
    except ValueError as exc:
        raise FhirError(400, f"{REQUEST}.servicedDate", str(exc), "value") from None
    return EligibilityAsk(request_id, purpose, patient_id, birth, served, keys)


# ------------------------------------------------------------------ answers


def _coverage_resource(keys: Keys, r: CheckResult, rid: str) -> dict[str, Any]:
    insurer, symbol, number, branch = keys
    period: dict[str, str] = {}
    if r.eligible_from:
        period["start"] = r.eligible_from.isoformat()
    if r.lost_on:
        period["end"] = r.lost_on.isoformat()  # the first day not covered, as DOMAIN.md keeps it
    relationship = Relationship(r.relationship or Relationship.DEPENDENT)
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
                    "code": str(int(relationship)),
                    "display": RELATIONSHIP_DISPLAY[relationship],
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


def eligibility_response(ask: EligibilityAsk, r: CheckResult) -> dict[str, Any]:
    """The answer repeats only what was checked: the patient it names is the request's,
    contained again with the birth date it gave (never the registry's data)."""
    keys = ask.keys
    found = r.validity not in (Validity.NOT_FOUND, Validity.MULTIPLE)
    response: dict[str, Any] = {
        "resourceType": "CoverageEligibilityResponse",
        "contained": [
            {"resourceType": "Patient", "id": ask.patient_id, "birthDate": ask.birth.isoformat()}
        ],
        "status": "active",
        "purpose": ask.purpose,
        "patient": {"reference": f"#{ask.patient_id}"},
        "servicedDate": ask.served.isoformat(),
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "request": {"identifier": {"value": ask.request_id or "request"}},
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
    "resourceType": REQUEST,
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
_RESOURCE = {"type": "object", "required": ["resourceType"]}
_OUTCOME = {"description": "OperationOutcome", "content": {FHIR_JSON: {"schema": _RESOURCE}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: _OUTCOME for status in (400, 401, 413, 415, 429, 503)
}


@router.post(
    "/CoverageEligibilityRequest",
    summary="資格確認 FHIR (CoverageEligibilityRequest → Response)",
    description="JP Core の識別子（JP_Insurance_memberID、または記号・番号・枝番の拡張と保険者番号）"
    "と患者の生年月日で照会し、CoverageEligibilityResponse を返します。"
    "Answers a CoverageEligibilityRequest; errors are OperationOutcome.",
    response_class=JSONResponse,
    openapi_extra={
        **KEY_REQUIRED,
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": _RESOURCE, "example": _REQUEST_EXAMPLE} for media in FHIR_TYPES
            },
        },
    },
    responses={200: {"content": {FHIR_JSON: {"schema": _RESOURCE}}}, **_ERRORS},
)
async def coverage_eligibility(request: Request, who: Authenticated) -> JSONResponse:
    """The body is read here, not by FastAPI: its size is capped like the JSON API's, and
    any error in it is an OperationOutcome naming the element."""
    require_json(request.headers.get("content-type"), FHIR_TYPES)
    raw = await read_body(request.receive)
    try:
        ask = parse_request(raw)
    except FhirError as exc:
        return error_outcome(exc)
    query = CheckQuery(*ask.keys, ask.birth, ask.served, consent_cap_info="benefits" in ask.purpose)
    result = await audited_check(context_of(request), who, "fhir_eligibility", query)
    return JSONResponse(eligibility_response(ask, result), media_type=FHIR_JSON, headers=NO_STORE)


def _searchset(entries: list[dict[str, Any]], total: int) -> JSONResponse:
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": total, "entry": entries}
    if not entries:
        del bundle["entry"]
    return JSONResponse(bundle, media_type=FHIR_JSON, headers=NO_STORE)


@router.get(
    "/Coverage",
    summary="保険情報の検索 FHIR (Coverage search by JP_Insurance_memberID)",
    description="identifier=保険者番号:記号:番号:枝番（system 付きでも可）と birthdate（生年月日）が"
    "一致した加入者の Coverage を searchset Bundle で返します。Both must match. "
    "identifier の system が JP_Insurance_memberID 以外なら一致なし（0件）です。",
    response_class=JSONResponse,
    openapi_extra=KEY_REQUIRED,
    responses={200: {"content": {FHIR_JSON: {"schema": _RESOURCE}}}, **_ERRORS},
)
async def coverage_search(
    request: Request,
    who: Authenticated,
    identifier: Annotated[
        str | None, Query(description=f"[{MEMBER_SYSTEM}|]保険者番号:記号:番号:枝番 (required)")
    ] = None,
    birthdate: Annotated[str | None, Query(description="生年月日 YYYY-MM-DD (required)")] = None,
    date_: Annotated[str | None, Query(alias="date", description="基準日 (default: today)")] = None,
) -> JSONResponse:
    """FHIR token search: `system|value` matches only a Coverage identifier of that system,
    so any system but JP_Insurance_memberID (or `|value`, no system) matches nothing: an
    empty searchset saying why, with no lookup and so no audit row."""
    try:
        token = _string(identifier, "identifier")
        birth = fhir_date(birthdate, "birthdate")
        day = fhir_date(date_, "date") if date_ is not None else date.today()
        try:
            not_before_birth(birth, day)
        except ValueError as exc:
            raise FhirError(400, "date" if date_ else "birthdate", str(exc), "value") from None
        system, _bar, value = token.partition("|") if "|" in token else (MEMBER_SYSTEM, "", token)
        if system != MEMBER_SYSTEM:
            warning = issue(
                "not-supported",
                f"identifier の system は {MEMBER_SYSTEM} のみです: 一致なし "
                "(no Coverage has an identifier of that system)",
                "identifier",
                severity="warning",
            )
            resource = {"resourceType": "OperationOutcome", "issue": [warning]}
            return _searchset([{"resource": resource, "search": {"mode": "outcome"}}], 0)
        keys = parse_member_id(value, "identifier")
    except FhirError as exc:
        return error_outcome(exc)
    query = CheckQuery(*keys, birth, day)
    result = await audited_check(context_of(request), who, "fhir_coverage", query)
    if result.validity in (Validity.NOT_FOUND, Validity.MULTIPLE):
        return _searchset([], 0)
    resource = _coverage_resource(keys, result, f"c{result.person_id}")
    return _searchset([{"resource": resource, "search": {"mode": "match"}}], 1)


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
