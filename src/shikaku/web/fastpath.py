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
from shikaku.web.body import read_body, require_json
from shikaku.web.context import AppContext
from shikaku.web.problems import answer_errors

PATH = "/v1/eligibility"


def handles(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST"


async def eligibility(ctx: AppContext, scope: Scope, receive: Receive, send: Send) -> None:
    try:
        headers = {name: value for name, value in scope["headers"] if name in _WANTED}
        key = key_from(lambda name: _text(headers.get(name.encode("latin-1"))))
        who = authorize(ctx, key)
        require_json(_text(headers.get(b"content-type")))
        body = await api.answer_json(ctx, who, await read_body(receive))
    except Exception as exc:
        await answer_errors(exc)(scope, receive, send)
        return
    # What starlette's Response(body, media_type="application/json") sends, without building it.
    length = (b"content-length", str(len(body)).encode("latin-1"))
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [_JSON_TYPE, _NO_STORE, length],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})


_JSON_TYPE = (b"content-type", b"application/json")
_NO_STORE = (b"cache-control", b"no-store")  # problems.NO_STORE: an answer about a person


_WANTED = frozenset({b"authorization", b"x-api-key", b"content-type"})


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None
