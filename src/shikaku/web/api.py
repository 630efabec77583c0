"""`POST /v1/eligibility`: the clinic's check, as plain JSON.

Input and output are separate models. A person is found only when every key matches, birth
date included; otherwise the answer is 4 該当資格なし and nothing else. No digit of a My Number
is ever part of an answer (the model has no such field).

The input is strict: every field must have its JSON type (a string is never read as a
boolean, a number never as a date), and a date must lie in the range the rules are made for
(`DATE_MIN`..`DATE_MAX`); anything else is a 422 naming the field. The FHIR endpoints check
their keys and dates with the same types (web.fhir).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shikaku.domain.errors import DomainError
from shikaku.domain.identifiers import validate_insurer_number
from shikaku.domain.members import (
    LOSS_REASONS,
    Relationship,
    parse_branch,
    parse_number,
    parse_symbol,
)
from shikaku.service.eligibility import CheckQuery, CheckResult
from shikaku.web.auth import KEY_REQUIRED, authorize, key_from
from shikaku.web.body import body_schema, parse_json, read_body, require_json
from shikaku.web.context import audited_check, context_of
from shikaku.web.problems import NO_STORE


class RequestRoute(APIRoute):
    """A route whose endpoint takes the Request and returns the Response itself, called as it
    is: FastAPI's request handler (its dependency solver, a sub-response, the response's
    serialisation) cost a lookup ~40 µs of the event loop's CPU, as much as the rest of the
    web layer's work. The route is still routed, documented (OpenAPI, the docs page, the
    fuzzer) and wrapped by the app's middleware and exception handlers like any other."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return endpoint


def _rule(check: Callable[[str], str]) -> Callable[[str], str]:
    def run(value: str) -> str:
        try:
            return check(value)
        except DomainError as exc:
            raise ValueError(f"{exc.ja} ({exc.en})") from None

    return run


# 明治元年, the first era the rules know, to a year far enough ahead that no rule's
# arithmetic on a date (a 75th birthday, a certificate's five years) leaves the calendar.
DATE_MIN = date(1868, 1, 1)
DATE_MAX = date(2999, 12, 31)


def in_range(day: date) -> date:
    """A date the rules can compute with, or a ValueError saying the range."""
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValueError(
            f"日付は{DATE_MIN.isoformat()}から{DATE_MAX.isoformat()}までです "
            f"(date outside {DATE_MIN.isoformat()}..{DATE_MAX.isoformat()})"
        )
    return day


InsurerNumber = Annotated[
    str, Field(min_length=1, max_length=16), AfterValidator(_rule(validate_insurer_number))
]
Symbol = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_rule(parse_symbol))]
Number = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_rule(parse_number))]
Branch = Annotated[str, Field(min_length=1, max_length=4), AfterValidator(_rule(parse_branch))]
Day = Annotated[date, AfterValidator(in_range)]


class EligibilityRequest(BaseModel):
    """照会: 保険者番号・記号・番号・枝番・生年月日 (all must match) and the day of service."""

    model_config = ConfigDict(extra="forbid", strict=True)

    insurer_number: InsurerNumber = Field(description="保険者番号 (8 or 6 digits, check digit)")
    symbol: Symbol = Field(description="記号")
    number: Number = Field(description="番号")
    branch: Branch = Field(description="枝番 (2 digits)")
    birth_date: Day = Field(description="生年月日 (1868-01-01..2999-12-31)")
    service_date: Day = Field(
        description="受診日 (the day to check; 1868-01-01..2999-12-31, not before birth_date)"
    )
    consent_cap_info: bool = Field(False, description="限度額適用区分の提供に本人が同意")
    facility_has_online_check: bool = Field(
        True, description="オンライン資格確認を導入している医療機関か"
    )

    @field_validator("service_date")
    @classmethod
    def _not_before_birth(cls, day: date, info: ValidationInfo) -> date:
        return not_before_birth(info.data.get("birth_date"), day)


def not_before_birth(birth: date | None, day: date) -> date:
    """No age is defined before birth: a check for such a day is refused, not computed."""
    if birth is not None and day < birth:
        raise ValueError("受診日が生年月日より前です (service date before the birth date)")
    return day


class Code(BaseModel):
    code: str
    label: str


class EligibilityResponse(BaseModel):
    """回答. Fields other than `validity` are present only for a person who matched."""

    validity: Code = Field(
        description="1 有効, 2 無効, 3 無効(新しい資格あり), 4 該当資格なし, 5 複数該当"
    )
    relationship: Code | None = Field(None, description="1 本人 (被保険者), 2 家族 (被扶養者)")
    name: str | None = None
    name_kana: str | None = None
    eligible_from: date | None = Field(None, description="資格取得年月日")
    lost_on: date | None = Field(None, description="資格喪失年月日 (first day not covered)")
    loss_reason: Code | None = Field(
        None, description="喪失事由 01 死亡 02 生活保護 03 他の医療保険取得 99 その他"
    )
    copay_rate: int | None = Field(None, description="負担割合 (percent: 20 or 30)")
    cap_category: Code | None = Field(None, description="限度額適用区分 (only with consent)")
    accepted_documents: list[Code] = Field(default_factory=list, description="受診に使える書類")


def _code(code: str, label: str) -> dict[str, str]:
    return {"code": code, "label": label}


def response_json(r: CheckResult) -> bytes:
    """The answer as EligibilityResponse (the OpenAPI document's model) writes it, without
    building the models: the answer is written on every check (the models cost ~5% of a
    check's time, the standard library's json ~3%). orjson writes dates as ISO 8601, as
    pydantic does."""
    relationship = r.relationship
    return orjson.dumps(
        {
            "validity": _code(str(int(r.validity)), r.validity.label),
            "relationship": _code(str(relationship), Relationship(relationship).label)
            if relationship
            else None,
            "name": r.name,
            "name_kana": r.name_kana,
            "eligible_from": r.eligible_from,
            "lost_on": r.lost_on,
            "loss_reason": _code(r.loss_reason, LOSS_REASONS.get(r.loss_reason, ""))
            if r.loss_reason
            else None,
            "copay_rate": r.copay_rate,
            "cap_category": _code(str(r.cap_category), r.cap_category.label)
            if r.cap_category
            else None,
            "accepted_documents": [_code(str(d), d.label) for d in r.accepted_documents],
        }
    )


async def eligibility(request: Request) -> Response:
    """The check: authorise, parse, look up, audit (durable before the answer), answer. The
    key and the body are read here rather than declared as parameters: FastAPI's dependency
    solver and body handling cost a lookup a tenth of its time (the OpenAPI document gets
    them from KEY_REQUIRED and body_schema)."""
    ctx = context_of(request)
    who = authorize(ctx, key_from(request.headers.get))
    require_json(request.headers.get("content-type"))
    q = parse_json(await read_body(request.receive), EligibilityRequest)
    query = CheckQuery(
        q.insurer_number, q.symbol, q.number, q.branch, q.birth_date, q.service_date,
        q.consent_cap_info, q.facility_has_online_check,
    )  # fmt: skip
    result = await audited_check(ctx, who, "eligibility", query)
    return Response(response_json(result), media_type="application/json", headers=NO_STORE)


def install(app: FastAPI) -> None:
    """The route on the app's own router (FastAPI matches an included router's routes
    through a nested router: a cost on every request)."""
    app.router.add_api_route(
        "/v1/eligibility",
        eligibility,
        methods=["POST"],
        route_class_override=RequestRoute,
        response_model=EligibilityResponse,
        summary="資格確認 (eligibility check)",
        description="保険者番号・記号・番号・枝番・生年月日が全て一致した加入者の、受診日時点の資格・負担割合・"
        "限度額適用区分（同意時）・使える書類を返します。Every read is audited before the answer is sent.",
        openapi_extra={**body_schema(EligibilityRequest), **KEY_REQUIRED},
        responses={
            401: {"description": "APIキーが無効"},
            413: {"description": "本文が大きすぎる (over 64 KiB)"},
            415: {"description": "本文が JSON (UTF-8) ではない"},
            422: {"description": "入力が不正 (problem+json)"},
            429: {"description": "レート制限"},
        },
    )
