"""Clinic API keys: the format, parsing and hash of a key."""

from __future__ import annotations

import base64
import hashlib

import pytest

from shikaku.security.apikeys import hash_secret, new_api_key, parse_api_key


def test_key_format_hash_and_parse() -> None:
    key, key_id, key_hash = new_api_key()
    prefix, kid, secret_text = key.split("_", 2)
    assert (prefix, kid) == ("sk", key_id)
    assert len(key_id) == 12 and int(key_id, 16) >= 0
    secret = base64.urlsafe_b64decode(secret_text + "=")
    assert len(secret) == 32
    assert key_hash == hashlib.sha256(secret).digest() == hash_secret(secret)
    assert parse_api_key(key) == (key_id, secret)
    assert parse_api_key(f"  {key}\n") == (key_id, secret)
    assert new_api_key()[0] != key


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "sk_",
        "Bearer xyz",
        "pk_0123456789ab_" + "A" * 43,
        "sk_0123456789AB_" + "A" * 43,  # key ids are lower-case hex
        "sk_0123456789a_" + "A" * 43,
        "sk_0123456789ab_" + "A" * 42,
        "sk_0123456789ab_" + "A" * 44,
        "sk_0123456789ab_" + "A" * 42 + "B",  # unused low bits set: not canonical
        "sk_0123456789ab_" + "A" * 42 + "+",
    ],
)
def test_malformed_keys_are_refused(bad: str) -> None:
    assert parse_api_key(bad) is None
