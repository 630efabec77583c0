"""Who is asking: a clinic's API key (hashed at rest), and how often it may ask.

`Authorization: Bearer <key>` or `X-API-Key: <key>`. No key, an unknown or a revoked one: 401.
Each key gets a token bucket (rate and burst are settings, per API process): 429 with
Retry-After when it is empty.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from shikaku.service.clinics import authenticate
from shikaku.web.problems import Problem


@dataclass(frozen=True)
class Caller:
    clinic_id: int
    institution_code: str


class RateLimiter:
    """Token buckets per key, in this process."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.rate = per_second
        self.burst = float(burst)
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: int) -> float:
        """0 when allowed, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


# The OpenAPI side: both ways of sending a key (web.app adds the schemes to the document).
SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "Authorization: Bearer <APIキー>",
    },
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "APIキー"},
}
KEY_REQUIRED: dict[str, Any] = {"security": [{"bearer": []}, {"apiKey": []}]}


def key_from(header: Callable[[str], str | None]) -> str | None:
    """The key of `X-API-Key`, else of `Authorization: Bearer`; `header` looks a lower-case
    header name up."""
    x_api_key = header("x-api-key")
    if x_api_key:
        return x_api_key.strip()
    authorization = header("authorization")
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


def authorize(ctx: Any, key: str | None) -> Caller:
    """The clinic behind `key`, within its rate: else 401 or 429 (as Problem)."""
    clinic = authenticate(ctx.engine, key) if key else None
    if clinic is None:
        raise Problem(
            401,
            "APIキーがないか無効です (missing, unknown or revoked API key)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    wait = ctx.limiter.take(clinic.id)
    if wait > 0:
        raise Problem(
            429,
            "リクエストが多すぎます。しばらく待ってから再試行してください (rate limit exceeded)",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    return Caller(clinic.id, clinic.institution_code)


async def caller(request: Request) -> Caller:
    """The headers are read here rather than declared as parameters: FastAPI's parameter
    machinery cost a lookup ~5% of its time; routes declare KEY_REQUIRED instead."""
    return authorize(request.app.state.ctx, key_from(request.headers.get))


Authenticated = Annotated[Caller, Depends(caller)]
