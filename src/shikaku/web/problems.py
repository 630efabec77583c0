"""Errors as problem+json (RFC 9457), naming the field at fault; never a 500 for bad input.

Paths that answer in another format (FHIR's OperationOutcome under /fhir) install a renderer
for their prefix: every error there, the framework's own included (401, 404, 405, 429, 503,
a body that does not parse), then comes back in that format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

PROBLEM = "application/problem+json"
# An answer about a person (and any error answering such a request) is never stored by a
# browser, a proxy or the clinic software's HTTP cache.
NO_STORE = {"Cache-Control": "no-store"}
API_PREFIX = "/v1"
_TITLES = {
    400: "Bad Request / リクエストが不正です",
    401: "Unauthorized / APIキーが無効です",
    404: "Not Found / 見つかりません",
    405: "Method Not Allowed / このメソッドは使えません",
    413: "Content Too Large / リクエストが大きすぎます",
    415: "Unsupported Media Type / この形式は受け付けません",
    422: "Unprocessable Content / 入力が不正です",
    429: "Too Many Requests / リクエストが多すぎます",
    500: "Internal Server Error / 内部エラー",
    503: "Service Unavailable / 一時的に回答できません",
}


class Problem(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


Renderer = Callable[[Problem], Response]
"""How the paths under one prefix answer an error."""


def problem_response(
    status: int,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM, headers={**NO_STORE, **(headers or {})}
    )


def as_problem_json(problem: Problem) -> JSONResponse:
    return problem_response(problem.status, problem.detail, problem.errors, problem.headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def safe_message(error: Mapping[str, Any]) -> str:
    """A validation error's message; the input value is never echoed (it may hold personal
    data)."""
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


def invalid(exc: RequestValidationError) -> Problem:
    """422, naming every field at fault (the values are never echoed)."""
    errors = [{"field": _field(tuple(e["loc"])), "message": safe_message(e)} for e in exc.errors()]
    names = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return Problem(422, f"入力が不正です (invalid input): {names}", errors)


def invalid_input(exc: RequestValidationError) -> JSONResponse:
    return as_problem_json(invalid(exc))


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def install(app: FastAPI, renderers: Mapping[str, Renderer] | None = None) -> None:
    """problem+json for every error, except under a prefix of `renderers`, whose renderer
    answers instead."""
    by_prefix = dict(renderers or {})

    def respond(request: Request, problem: Problem) -> Response:
        for prefix, render in by_prefix.items():
            if _under(request.url.path, prefix):
                return render(problem)
        return as_problem_json(problem)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return respond(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return respond(request, invalid(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        return respond(request, Problem(exc.status_code, str(exc.detail), headers=headers))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception) -> Response:
        """A bug: the API's paths still answer in their format (the server logs the error,
        which starlette raises again after this answer); other pages as starlette would."""
        if _under(request.url.path, API_PREFIX) or any(
            _under(request.url.path, p) for p in by_prefix
        ):
            return respond(request, Problem(500, "内部エラーが発生しました (internal error)"))
        return PlainTextResponse("Internal Server Error", status_code=500)
