"""Staff and employer passwords: scrypt (stdlib) with a random salt per user.

Stored as `scrypt$N$r$p$<salt base64>$<hash base64>`, so the cost can be raised later and old
hashes still verify. Checking an unknown user costs the same as checking a known one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1  # ~16 MiB and ~50 ms per check on this kind of machine
SALT_BYTES = 16
HASH_BYTES = 32
MIN_LENGTH = 10
_DUMMY = None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=N, r=R, p=P, dklen=HASH_BYTES, maxmem=64 << 20
    )
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when `password` matches; a missing or malformed hash still costs one scrypt."""
    global _DUMMY
    if stored is None:
        _DUMMY = _DUMMY or hash_password(secrets.token_urlsafe(16))
        stored, dummy = _DUMMY, True
    else:
        dummy = False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(digest)),
            maxmem=64 << 20,
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, base64.b64decode(digest)) and not dummy


def password_problem(password: str) -> str | None:
    """Why a new password is refused (Japanese), or None."""
    if len(password) < MIN_LENGTH:
        return f"パスワードは{MIN_LENGTH}文字以上にしてください"
    return None
