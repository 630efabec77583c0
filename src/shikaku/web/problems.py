"""Errors as problem+json (RFC 9457), naming the field at fault; never a 500 for bad input."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM = "application/problem+json"
logger = logging.getLogger(__name__)
_TITLES = {
    400: "Bad Request / リクエストが不正です",
    401: "Unauthorized / APIキーが無効です",
    404: "Not Found / 見つかりません",
    405: "Method Not Allowed / このメソッドは使えません",
    413: "Content Too Large / リクエストが大きすぎます",
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
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _safe_message(error: dict[str, Any]) -> str:
    # The input value is never echoed: it may hold personal data.
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


def invalid_input(exc: RequestValidationError) -> JSONResponse:
    """422, naming every field at fault (the values are never echoed)."""
    errors = [{"field": _field(tuple(e["loc"])), "message": _safe_message(e)} for e in exc.errors()]
    names = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem_response(422, f"入力が不正です (invalid input): {names}", errors)


def answer_errors(exc: Exception) -> JSONResponse:
    """The response FastAPI's handlers give for these errors, for code outside its routing
    (web.fastpath); anything else is a 500 that names nothing."""
    if isinstance(exc, Problem):
        return problem_response(exc.status, exc.detail, exc.errors, exc.headers)
    if isinstance(exc, RequestValidationError):
        return invalid_input(exc)
    logger.error("unexpected error", exc_info=exc)
    return problem_response(500, "内部エラーが発生しました (internal error)")


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.detail, exc.errors, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_input(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail), headers=exc.headers)
