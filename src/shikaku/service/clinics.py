"""Clinics and their API keys (the key's format and hash: `security.apikeys`).

`authenticate` runs on every API request. It parses the key, hashes 32 bytes and compares;
the row behind a key_id is cached in this process for `KeyCache.ttl` seconds (5 by default),
so most requests cost no query at all. A revocation in another process (the CLI, another
uvicorn worker) therefore takes effect within ttl seconds; in this process, at once.
"""

from __future__ import annotations

import hmac
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
from shikaku.security.apikeys import hash_secret, new_api_key, parse_api_key

__all__ = [
    "Clinic",
    "ClinicError",
    "KeyCache",
    "add_clinic",
    "authenticate",
    "key_cache",
    "list_clinics",
    "revoke_clinic",
]

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
