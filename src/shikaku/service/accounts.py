"""Console users, their sessions and login throttling (docs/console.md).

A session is a random token in an HttpOnly cookie; the database keeps only its SHA-256, so a
copy of `console_sessions` opens no session. Each session has its own CSRF token for forms.
A login name with `login_max_failures` failures within `login_window_minutes` is refused
without checking the password until the window has passed; so is an address with ten times
as many (one address trying many names).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, exc, func, select

from shikaku.domain.errors import FieldError
from shikaku.registry.db import write_transaction
from shikaku.registry.tables import (
    console_form_keys,
    console_sessions,
    console_users,
    employers,
    login_attempts,
)
from shikaku.security.passwords import hash_password, password_problem, verify_password


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    AUDITOR = "auditor"
    EMPLOYER = "employer"


STAFF = (Role.ADMIN, Role.OPERATOR, Role.AUDITOR)
ACTORS = (Role.ADMIN, Role.OPERATOR)  # may change things; an auditor only reads
ROLE_JA = {"admin": "管理者", "operator": "担当者", "auditor": "監査担当", "employer": "事業所"}


class AccountError(FieldError):
    """A user cannot be created or changed as asked; `field` names the form field."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    employer_id: int | None
    csrf: str = ""

    @property
    def can_act(self) -> bool:
        return self.role in ACTORS

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def add_user(
    engine: Engine, name: str, password: str, role: str, employer_symbol: str | None = None
) -> int:
    name = name.strip()
    if not name or len(name) > 64:
        raise AccountError(
            "ログイン名は1〜64文字です", "login name must have 1-64 characters", "name"
        )
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(
            f"役割は {', '.join(r.value for r in Role)} のいずれかです", f"bad role {role}", "role"
        ) from None
    problem = password_problem(password)
    if problem:
        raise AccountError(problem, "password too short", "password")
    with write_transaction(engine) as conn:
        employer_id = None
        if role == Role.EMPLOYER:
            if not employer_symbol:
                raise AccountError(
                    "事業所の記号が必要です", "--employer SYMBOL is required", "employer"
                )
            employer_id = conn.execute(
                select(employers.c.id).where(employers.c.symbol == employer_symbol.strip())
            ).scalar()
            if employer_id is None:
                raise AccountError(
                    f"記号 {employer_symbol} の事業所はありません", "no such employer", "employer"
                )
        elif employer_symbol:
            raise AccountError(
                "事業所の記号は役割 employer のときだけ指定します",
                "--employer only for employer",
                "employer",
            )
        if conn.execute(select(console_users.c.id).where(console_users.c.name == name)).first():
            raise AccountError(f"ログイン名 {name} は使われています", "login name taken", "name")
        return int(
            conn.execute(
                console_users.insert()
                .values(
                    name=name,
                    password_hash=hash_password(password),
                    role=str(role),
                    employer_id=employer_id,
                    created_at=now(),
                )
                .returning(console_users.c.id)
            ).scalar_one()
        )


def list_users(engine: Engine) -> list[tuple[str, str, str | None, bool]]:
    u, e = console_users.c, employers.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(u.name, u.role, e.symbol, u.disabled_at)
            .select_from(console_users.outerjoin(employers, e.id == u.employer_id))
            .order_by(u.name)
        ).all()
    return [(r.name, r.role, r.symbol, r.disabled_at is None) for r in rows]


def disable_user(engine: Engine, name: str) -> bool:
    with write_transaction(engine) as conn:
        user_id = conn.execute(
            select(console_users.c.id).where(console_users.c.name == name)
        ).scalar()
        if user_id is None:
            return False
        conn.execute(
            console_users.update().where(console_users.c.id == user_id).values(disabled_at=now())
        )
        conn.execute(console_sessions.delete().where(console_sessions.c.user_id == user_id))
    return True


@dataclass(frozen=True)
class Account:
    """A user as the admins' page lists them (never the password hash)."""

    id: int
    name: str
    role: str
    employer_symbol: str | None
    employer_name: str | None
    created_at: datetime
    disabled_at: datetime | None
    last_login: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def accounts(engine: Engine) -> list[Account]:
    """Every user, staff first, with their last successful login; one statement."""
    u, e, a = console_users.c, employers.c, login_attempts.c
    last = (
        select(func.max(a.at))
        .where(a.name == u.name, a.success.is_(True))
        .correlate(console_users)
        .scalar_subquery()
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(u.id, u.name, u.role, e.symbol, e.name.label("employer_name"), u.created_at,
                   u.disabled_at, last.label("last_login"))
            .select_from(console_users.outerjoin(employers, e.id == u.employer_id))
            .order_by((u.role == "employer"), u.name)
        ).all()  # fmt: skip
    return [Account(*r) for r in rows]


def account(engine: Engine, user_id: int) -> Account | None:
    return next((a for a in accounts(engine) if a.id == user_id), None)


def _target(conn: Any, user_id: int) -> Any:
    row = conn.execute(select(console_users).where(console_users.c.id == user_id)).first()
    if row is None:
        raise AccountError("この利用者はいません", "no such user")
    return row


def set_role(engine: Engine, actor_id: int, user_id: int, role: str) -> str:
    """A staff user's new role (admin / operator / auditor); an employer user stays one.
    An admin does not demote themselves (someone must remain able to manage users).
    The user's name."""
    if role not in (r.value for r in STAFF):
        raise AccountError("役割を選んでください", "choose a staff role")
    with write_transaction(engine) as conn:
        row = _target(conn, user_id)
        if row.role == Role.EMPLOYER:
            raise AccountError(
                "事業所の利用者の役割は変えられません（職員は別に追加してください）",
                "an employer user stays an employer user",
            )
        if user_id == actor_id and role != Role.ADMIN:
            raise AccountError(
                "自分自身の管理者の役割は外せません（別の管理者が行います）", "not yourself"
            )
        conn.execute(console_users.update().where(console_users.c.id == user_id).values(role=role))
        conn.execute(console_sessions.delete().where(console_sessions.c.user_id == user_id))
    return str(row.name)


def set_active(engine: Engine, actor_id: int, user_id: int, active: bool) -> str:
    """Disable (their sessions end at once) or enable a user; not oneself. Their name."""
    if user_id == actor_id:
        raise AccountError("自分自身は無効にできません", "not yourself")
    with write_transaction(engine) as conn:
        row = _target(conn, user_id)
        conn.execute(
            console_users.update()
            .where(console_users.c.id == user_id)
            .values(disabled_at=None if active else now())
        )
        if not active:
            conn.execute(console_sessions.delete().where(console_sessions.c.user_id == user_id))
    return str(row.name)


def reset_password(engine: Engine, user_id: int, password: str) -> str:
    """A new password, set by an admin (to be handed over in person); the user's sessions
    end. Their name."""
    problem = password_problem(password)
    if problem:
        raise AccountError(problem, "password too short")
    with write_transaction(engine) as conn:
        row = _target(conn, user_id)
        conn.execute(
            console_users.update()
            .where(console_users.c.id == user_id)
            .values(password_hash=hash_password(password))
        )
        conn.execute(console_sessions.delete().where(console_sessions.c.user_id == user_id))
    return str(row.name)


class Throttled(Exception):
    """Too many failed logins recently."""


def login(
    engine: Engine,
    name: str,
    password: str,
    address: str,
    max_failures: int,
    window_minutes: int,
    session_minutes: int,
) -> tuple[User, str] | None:
    """(user, session token) or None; raises Throttled. Every attempt is recorded.

    The attempt is recorded as a failure before the password is checked, in the same
    transaction that counts the recent failures, one such transaction at a time per name and
    address: so however many requests arrive at once, at most `max_failures` passwords of a
    name are checked in a window (checking them first and recording after let ~24 of 30
    parallel guesses through). A right password then marks its attempt a success."""
    name = name.strip()[:64]
    address = address[:64]
    attempt = _reserve_attempt(engine, name, address, max_failures, window_minutes)
    with engine.connect() as conn:
        row = conn.execute(
            select(console_users).where(
                console_users.c.name == name, console_users.c.disabled_at.is_(None)
            )
        ).first()
    ok = verify_password(password, row.password_hash if row is not None else None)
    if not ok or row is None:
        return None
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with write_transaction(engine) as conn:
        conn.execute(
            login_attempts.update().where(login_attempts.c.id == attempt).values(success=True)
        )
        conn.execute(console_sessions.delete().where(console_sessions.c.expires_at < now()))
        conn.execute(
            console_sessions.insert().values(
                token_hash=_token_hash(token),
                user_id=row.id,
                csrf=csrf,
                created_at=now(),
                expires_at=now() + timedelta(minutes=session_minutes),
            )
        )
    return User(row.id, row.name, row.role, row.employer_id, csrf), token


def _lock_key(kind: str, value: str) -> int:
    """A PostgreSQL advisory lock key for one login name or address."""
    digest = hashlib.sha256(f"shikaku.login.{kind}:{value}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _reserve_attempt(
    engine: Engine, name: str, address: str, max_failures: int, window_minutes: int
) -> int:
    """Count the recent failures and record this attempt as one, atomically (SQLite: the
    write lock from BEGIN IMMEDIATE; PostgreSQL: advisory locks on the name and the address,
    taken in a fixed order); the attempt's id, or Throttled (the attempt stays recorded)."""
    since = now() - timedelta(minutes=window_minutes)
    a = login_attempts.c
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            for key in sorted({_lock_key("name", name), _lock_key("address", address)}):
                conn.execute(select(func.pg_advisory_xact_lock(key)))
        by_name = conn.execute(
            select(func.count()).where(a.name == name, a.at >= since, a.success.is_(False))
        ).scalar_one()
        by_address = conn.execute(
            select(func.count()).where(a.address == address, a.at >= since, a.success.is_(False))
        ).scalar_one()
        attempt = conn.execute(
            login_attempts.insert()
            .values(name=name, address=address, at=now(), success=False)
            .returning(a.id)
        ).scalar_one()
    if by_name >= max_failures or by_address >= max_failures * 10:
        raise Throttled
    return int(attempt)


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def session_user(engine: Engine, token: str | None) -> User | None:
    if not token or len(token) > 100:
        return None
    s, u = console_sessions.c, console_users.c
    with engine.connect() as conn:
        row = conn.execute(
            select(u.id, u.name, u.role, u.employer_id, s.csrf)
            .join_from(console_sessions, console_users, u.id == s.user_id)
            .where(
                s.token_hash == _token_hash(token), s.expires_at > now(), u.disabled_at.is_(None)
            )
        ).first()
    return None if row is None else User(row.id, row.name, row.role, row.employer_id, row.csrf)


def logout(engine: Engine, token: str | None) -> None:
    if token:
        with write_transaction(engine) as conn:
            conn.execute(
                console_sessions.delete().where(console_sessions.c.token_hash == _token_hash(token))
            )


# ------------------------------------------------------------------ one submission per form
# Every form the console and the portal show carries a fresh random key. The first
# submission claims it (a row; the primary key makes the claim atomic on both databases),
# a second submission of the same form (a double click, a reload, the back button) finds it
# taken and is shown the first one's outcome instead of acting again.

FORM_KEY_HOURS = 24  # a form older than this may be submitted again (its row is gone)


@dataclass(frozen=True)
class FormOutcome:
    url: str
    message: str
    level: str


def claim_form_key(engine: Engine, user_id: int, key: str) -> bool:
    """Claim a form's key for this submission; False if it was claimed before."""
    if not key or len(key) > 64:
        return False
    with write_transaction(engine) as conn:
        conn.execute(
            console_form_keys.delete().where(
                console_form_keys.c.created_at < now() - timedelta(hours=FORM_KEY_HOURS)
            )
        )
    try:
        with write_transaction(engine) as conn:
            conn.execute(
                console_form_keys.insert().values(key=key, user_id=user_id, created_at=now())
            )
    except exc.IntegrityError:
        return False
    return True


def finish_form_key(engine: Engine, key: str, outcome: FormOutcome) -> None:
    """Remember where the first submission led and what it said."""
    with write_transaction(engine) as conn:
        conn.execute(
            console_form_keys.update()
            .where(console_form_keys.c.key == key)
            .values(done_url=outcome.url, done_message=outcome.message, done_level=outcome.level)
        )


def release_form_key(engine: Engine, key: str) -> None:
    """The submission changed nothing (refused input): the same form may be sent again."""
    with write_transaction(engine) as conn:
        conn.execute(console_form_keys.delete().where(console_form_keys.c.key == key))


def form_key_outcome(engine: Engine, user_id: int, key: str) -> FormOutcome | bool | None:
    """The first submission's outcome; None while it is still at work; False when the key is
    free again (it was refused) or belongs to someone else."""
    k = console_form_keys.c
    with engine.connect() as conn:
        row = conn.execute(
            select(k.user_id, k.done_url, k.done_message, k.done_level).where(k.key == key)
        ).first()
    if row is None or row.user_id != user_id:
        return False
    if row.done_url is None:
        return None
    return FormOutcome(row.done_url, row.done_message or "", row.done_level or "ok")
