"""Clinic API keys: `sk_<key_id>_<secret>`, shown once, stored as SHA-256 of the secret.

key_id (12 hex digits, public) finds the clinic's row through a unique index; the secret is
32 random bytes (base64url, 43 characters). A key that random needs no slow password hash:
SHA-256 of the secret bytes is stored and compared with hmac.compare_digest. The clinics
that hold keys, and checking a request's key against them, are `service.clinics`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets

__all__ = ["KEY_PREFIX", "hash_secret", "new_api_key", "parse_api_key"]

KEY_PREFIX = "sk"
KEY_ID_BYTES = 6  # 12 hex digits (48 bits)
SECRET_BYTES = 32
_KEY_ID = re.compile(r"[0-9a-f]{12}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def new_api_key() -> tuple[str, str, bytes]:
    """(the full key, shown to the clinic once; its key_id; the hash to store)."""
    key_id = secrets.token_hex(KEY_ID_BYTES)
    secret = secrets.token_bytes(SECRET_BYTES)
    return f"{KEY_PREFIX}_{key_id}_{_b64(secret)}", key_id, hash_secret(secret)


def parse_api_key(key: str) -> tuple[str, bytes] | None:
    """(key_id, secret bytes), or None when `key` is not exactly a key's one canonical form."""
    parts = key.strip().split("_", 2)  # the secret may contain "_", the key_id cannot
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    _, key_id, text = parts
    if not (_KEY_ID.fullmatch(key_id) and _SECRET.fullmatch(text)):
        return None
    try:
        secret = base64.urlsafe_b64decode(text + "=")
    except (binascii.Error, ValueError):
        return None
    if _b64(secret) != text:  # unused low bits set: not a key we issued
        return None
    return key_id, secret


def hash_secret(secret: bytes) -> bytes:
    """SHA-256 of the 32 secret bytes: right for random keys (no password stretching needed)."""
    return hashlib.sha256(secret).digest()
