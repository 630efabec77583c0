"""My Number protection: AES-256-GCM at rest, an HMAC blind index for lookups, never plain text.

The key never lives in the database: it comes from a key file (0600) or from the
SHIKAKU_MY_NUMBER_KEY environment variable (base64 of 64 bytes). The first 32 bytes encrypt,
the last 32 key the blind index, so knowing the index key reveals nothing about ciphertexts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shikaku.domain.identifiers import my_number_last4

KEY_ENV = "SHIKAKU_MY_NUMBER_KEY"
KEY_BYTES = 64
_VERSION = b"\x01"
_AAD = b"shikaku:my_number:v1"
BLIND_INDEX_BYTES = 16


class VaultKeyError(Exception):
    """The key is missing or malformed; the message says how to provide one."""


class MyNumberVault:
    """Encrypts, decrypts and blind-indexes My Numbers with one key."""

    __slots__ = ("_aes", "_inner", "_key", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise VaultKeyError(
                f"鍵の長さが不正です: {KEY_BYTES} バイト必要 (key must be 64 bytes)"
            )
        self._key = key
        self._aes = AESGCM(key[:32])
        block = key[32:].ljust(64, b"\0")  # the HMAC key, padded to SHA-256's block size
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def worker_key(self) -> bytes:
        """The key, to hand to a parser process of this import (over a local pipe); nowhere else."""
        return self._key

    def __repr__(self) -> str:
        return "MyNumberVault(<key hidden>)"

    def encrypt(self, my_number: str) -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aes.encrypt(nonce, my_number.encode("ascii"), _AAD)

    def decrypt(self, blob: bytes) -> str:
        if blob[:1] != _VERSION:
            raise VaultKeyError("未知の暗号化形式です (unknown ciphertext version)")
        try:
            return self._aes.decrypt(blob[1:13], blob[13:], _AAD).decode("ascii")
        except InvalidTag:
            raise VaultKeyError(
                "個人番号を復号できません: 暗号鍵がこのデータベースの鍵と違います"
                " (the key does not match the one the My Numbers were stored with)"
            ) from None

    def blind_index(self, my_number: str) -> bytes:
        """HMAC-SHA256 (RFC 2104) from precomputed inner and outer states: the same bytes as
        hmac.digest, without re-keying a million times per import."""
        inner = self._inner.copy()
        inner.update(my_number.encode("ascii"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:BLIND_INDEX_BYTES]

    def last4(self, blob: bytes) -> str:
        """The only form in which a stored My Number is ever shown."""
        return my_number_last4(self.decrypt(blob))


def generate_key_file(path: Path) -> None:
    """Write a new random key, readable by its owner only; refuse to overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii") + "\n")


def _decode(text: str, origin: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise VaultKeyError(f"{origin}: base64 として読めません (not base64)") from None
    if len(key) != KEY_BYTES:
        raise VaultKeyError(f"{origin}: 鍵は {KEY_BYTES} バイト必要です (key must be 64 bytes)")
    return key


def load_vault(key_file: Path, environ: dict[str, str] | None = None) -> MyNumberVault:
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return MyNumberVault(_decode(env[KEY_ENV], KEY_ENV))
    if not key_file.is_file():
        raise VaultKeyError(
            f"個人番号の暗号鍵がありません: {key_file} "
            f"(no My Number key: run `shikaku keys init` or set {KEY_ENV})"
        )
    mode = stat.S_IMODE(key_file.stat().st_mode)
    if mode & 0o077:
        raise VaultKeyError(
            f"{key_file}: 鍵ファイルは所有者のみ読み取り可 (0600) にしてください "
            f"(key file must not be readable by others, mode is {mode:o})"
        )
    return MyNumberVault(_decode(key_file.read_text(encoding="ascii"), str(key_file)))
