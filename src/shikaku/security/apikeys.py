"""Clinic API keys: `sk_<key_id>_<secret>`, shown once, stored as SHA-256 of the secret.

key_id (12 hex digits, public) finds the clinic's row through a unique index; the secret is
32 random bytes (base64url, 43 characters). A key that random needs no slow password hash:
SHA-256 of the secret bytes is stored and compared with hmac.compare_digest.

`authenticate` runs on every API request. It parses the key, hashes 32 bytes and compares;
the row behind a key_id is cached in this process for `KeyCache.ttl` seconds (5 by default),
so most requests cost no query at all. A revocation in another process (the CLI, another
uvicorn worker) therefore takes effect within ttl seconds; in this process, at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, exc, insert, select, update
from sqlalchemy.engine import URL

from shikaku.domain.errors import DomainError
from shikaku.domain.identifiers import validate_institution_code
from shikaku.registry.db import write_transaction
from shikaku.registry.tables import clinics

__all__ = [
    "Clinic",
    "ClinicError",
    "KeyCache",
    "add_clinic",
    "authenticate",
    "hash_secret",
    "key_cache",
    "list_clinics",
    "new_api_key",
    "parse_api_key",
    "revoke_clinic",
]

KEY_PREFIX = "sk"
KEY_ID_BYTES = 6  # 12 hex digits (48 bits)
SECRET_BYTES = 32
_KEY_ID = re.compile(r"[0-9a-f]{12}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")
DEFAULT_CACHE_TTL = 5.0  # seconds
DEFAULT_CACHE_SIZE = 10_000


class ClinicError(ValueError):
    """A clinic operation was refused: `ja` for staff, `en` for developers and logs."""

    def __init__(self, ja: str, en: str) -> None:
        super().__init__(f"{ja} ({en})")
        self.ja = ja
        self.en = en


@dataclass(frozen=True, slots=True)
class Clinic:
    id: int
    institution_code: str  # 医療機関コード
    name: str
    key_id: str
    created_at: datetime  # UTC, when the current key was issued
    revoked_at: datetime | None  # UTC

    @property
    def active(self) -> bool:
        return self.revoked_at is None


# ------------------------------------------------------------------ the key itself


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


# ------------------------------------------------------------------ authentication


@dataclass(frozen=True, slots=True)
class _Entry:
    expires: float  # time.monotonic()
    key_hash: bytes | None  # None: no such key_id
    clinic: Clinic | None  # None: unknown or revoked


class KeyCache:
    """key_id → (key hash, clinic) per database, for `ttl` seconds; bounded, thread-safe.

    Unknown key_ids are cached too (bounded, oldest evicted first), so a flood of made-up
    keys costs at most one query per key_id per ttl. ttl=0 disables the cache.
    """

    def __init__(
        self, ttl: float = DEFAULT_CACHE_TTL, max_entries: int = DEFAULT_CACHE_SIZE
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[tuple[Any, ...], str], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: URL, key_id: str) -> _Entry | None:
        with self._lock:
            db = _database(url)
            entry = self._entries.get((db, key_id))
            if entry is None:
                return None
            if entry.expires <= time.monotonic():
                del self._entries[(db, key_id)]
                return None
            return entry

    def put(self, url: URL, key_id: str, entry: _Entry) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            db = _database(url)
            self._entries[(db, key_id)] = entry
            self._entries.move_to_end((db, key_id))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, url: URL, key_id: str) -> None:
        with self._lock:
            self._entries.pop((_database(url), key_id), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _database(url: URL) -> tuple[Any, ...]:
    """Which database a URL names, cheaply (a URL hashes its whole rendered text)."""
    return (url.drivername, url.username, url.host, url.port, url.database)


key_cache = KeyCache()
"""The process-wide cache `authenticate` uses by default; set `key_cache.ttl` from settings."""


def _clinic(row: Any) -> Clinic:
    return Clinic(
        id=row.id,
        institution_code=row.institution_code,
        name=row.name,
        key_id=row.key_id,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


_BY_KEY_ID = select(
    clinics.c.id,
    clinics.c.institution_code,
    clinics.c.name,
    clinics.c.key_id,
    clinics.c.key_hash,
    clinics.c.created_at,
    clinics.c.revoked_at,
).where(clinics.c.key_id == bindparam("key_id"))


def _lookup(conn: Connection, key_id: str) -> _Entry:
    row = conn.execute(_BY_KEY_ID, {"key_id": key_id}).first()
    if row is None:
        return _Entry(0.0, None, None)
    clinic = _clinic(row)
    return _Entry(0.0, bytes(row.key_hash), clinic if clinic.active else None)


def authenticate(
    conn_or_engine: Connection | Engine, api_key: str, *, cache: KeyCache | None = key_cache
) -> Clinic | None:
    """The active clinic holding `api_key`, or None (malformed, unknown, wrong or revoked).

    One indexed lookup by key_id when not cached, none when cached; the secret's hash is
    compared in constant time on every call.
    """
    parsed = parse_api_key(api_key)
    if parsed is None:
        return None
    key_id, secret = parsed
    url = conn_or_engine.engine.url
    entry = cache.get(url, key_id) if cache is not None else None
    if entry is None:
        if isinstance(conn_or_engine, Engine):
            with conn_or_engine.connect() as conn:
                found = _lookup(conn, key_id)
        else:
            found = _lookup(conn_or_engine, key_id)
        if cache is not None:
            entry = _Entry(time.monotonic() + cache.ttl, found.key_hash, found.clinic)
            cache.put(url, key_id, entry)
        else:
            entry = found
    if entry.key_hash is None or entry.clinic is None:
        return None
    if not hmac.compare_digest(hash_secret(secret), entry.key_hash):
        return None
    return entry.clinic


# ------------------------------------------------------------------ administration


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _institution_code(value: str) -> str:
    try:
        return validate_institution_code(value)
    except DomainError as e:
        raise ClinicError(e.ja, e.en) from None


def add_clinic(engine: Engine, institution_code: str, name: str) -> tuple[int, str]:
    """Register a clinic and issue its key: (clinic id, the full key, to be shown once).

    A clinic whose key was revoked gets a new key on its same row (rotation = revoke + add);
    an active one is refused, so a key is never replaced by mistake.
    """
    code = _institution_code(institution_code)
    name = name.strip()
    if not name:
        raise ClinicError("医療機関の名称が空です", "the clinic's name is empty")
    try:
        with write_transaction(engine) as conn:
            row = conn.execute(
                select(clinics.c.id, clinics.c.name, clinics.c.revoked_at).where(
                    clinics.c.institution_code == code
                )
            ).first()
            if row is not None and row.revoked_at is None:
                raise _duplicate(code, row.name)
            while True:  # key ids are unique; with 48 bits a redraw is almost never needed
                api_key, key_id, key_hash = new_api_key()
                taken = select(clinics.c.id).where(clinics.c.key_id == key_id)
                if conn.execute(taken).first() is None:
                    break
            values = {"name": name, "key_id": key_id, "key_hash": key_hash, "created_at": _now()}
            if row is None:
                result = conn.execute(insert(clinics).values(institution_code=code, **values))
                clinic_id: int = result.inserted_primary_key[0]  # type: ignore[index]
            else:
                reissued = conn.execute(
                    update(clinics)
                    .where(clinics.c.id == row.id, clinics.c.revoked_at.is_not(None))
                    .values(revoked_at=None, **values)
                )
                if reissued.rowcount != 1:  # PostgreSQL: another process re-added it meanwhile
                    raise _duplicate(code, row.name)
                clinic_id = row.id
    except exc.IntegrityError:  # PostgreSQL: another process added the same code meanwhile
        with engine.connect() as conn:
            other = conn.execute(
                select(clinics.c.name).where(clinics.c.institution_code == code)
            ).scalar()
        if other is None:
            raise
        raise _duplicate(code, other) from None
    return clinic_id, api_key


def _duplicate(code: str, name: str) -> ClinicError:
    return ClinicError(
        f"医療機関コード {code}（{name}）は登録済みで、キーは有効です。新しいキーを発行するには"
        f"先に `shikaku clinics revoke {code}` で失効させてください",
        f"institution code {code} ({name}) is already registered with an active key; "
        f"revoke it first to issue a new one",
    )


def revoke_clinic(engine: Engine, institution_code: str) -> bool:
    """Revoke the clinic's key: True if revoked now, False if it already was.

    Takes effect at once in this process and within the cache ttl in others.
    """
    code = _institution_code(institution_code)
    with write_transaction(engine) as conn:
        row = conn.execute(
            select(clinics.c.id, clinics.c.key_id, clinics.c.revoked_at).where(
                clinics.c.institution_code == code
            )
        ).first()
        if row is None:
            raise ClinicError(
                f"医療機関コード {code} は登録されていません",
                f"institution code {code} is not registered",
            )
        if row.revoked_at is not None:
            return False
        conn.execute(update(clinics).where(clinics.c.id == row.id).values(revoked_at=_now()))
    key_cache.forget(engine.url, row.key_id)
    return True


def list_clinics(engine: Engine) -> list[Clinic]:
    """Every clinic, active and revoked, by 医療機関コード."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                clinics.c.id,
                clinics.c.institution_code,
                clinics.c.name,
                clinics.c.key_id,
                clinics.c.created_at,
                clinics.c.revoked_at,
            ).order_by(clinics.c.institution_code)
        )
        return [_clinic(r) for r in rows]
