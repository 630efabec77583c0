"""`POST /v1/eligibility` without FastAPI's request machinery.

The check is the API's hot path. FastAPI's routing (exception middlewares, the dependency
solver, the Request object) cost a lookup about as much as the check itself (~0.1 ms: 2,650
against 3,600 lookups/s measured on one core); here the app hands the ASGI call straight to the same functions the declared route
uses (web.auth.authorize, web.api.answer_json), and errors become the same problem+json answers
(web.problems.answer_errors). The route stays declared in FastAPI: the OpenAPI document, the
docs page and the fuzzer see it, and every test request goes through this path.
"""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from shikaku.web import api
from shikaku.web.auth import authorize, key_from
from shikaku.web.context import AppContext
from shikaku.web.problems import Problem, answer_errors

PATH = "/v1/eligibility"
MAX_BODY = 64 * 1024  # a check is a few hundred bytes


def handles(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST"


async def eligibility(ctx: AppContext, scope: Scope, receive: Receive, send: Send) -> None:
    try:
        headers = {name: value for name, value in scope["headers"] if name in _WANTED}
        key = key_from(lambda name: _text(headers.get(name.encode("latin-1"))))
        who = authorize(ctx, key)
        body = await api.answer_json(ctx, who, await _body(receive))
    except Exception as exc:
        await answer_errors(exc)(scope, receive, send)
        return
    # What starlette's Response(body, media_type="application/json") sends, without building it.
    length = (b"content-length", str(len(body)).encode("latin-1"))
    await send({"type": "http.response.start", "status": 200, "headers": [_JSON_TYPE, length]})
    await send({"type": "http.response.body", "body": body})


_JSON_TYPE = (b"content-type", b"application/json")


_WANTED = frozenset({b"authorization", b"x-api-key"})


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Problem(400, "リクエストが途中で切れました (client disconnected)")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise Problem(413, f"リクエスト本文は {MAX_BODY} バイトまでです (body too large)")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
