"""Fixtures: a migrated registry on SQLite and on PostgreSQL, a key, and file helpers.

PostgreSQL tests use a database created for this run in the local server and dropped after.
In CI (CI=true) an unreachable server fails the run instead of skipping: those tests must run.
"""

from __future__ import annotations

import base64
import csv
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from shikaku.registry.db import make_engine, upgrade
from shikaku.registry.tables import metadata
from shikaku.security.mynumber import KEY_BYTES, MyNumberVault

PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FIXED_KEY = bytes(range(KEY_BYTES))


def _pg_admin() -> Engine | None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        if os.environ.get("CI"):
            raise RuntimeError(f"PostgreSQL is required in CI and is unreachable: {exc}") from exc
        return None
    return engine


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    admin = _pg_admin()
    if admin is None:
        yield None
        return
    name = f"shikaku_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    migrated = make_engine(url)
    upgrade(migrated)
    migrated.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "registry.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _truncate_all(engine: Engine) -> None:
    names = ", ".join(t.name for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Engine]:
    """A migrated, empty registry, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "registry.db"
        path.write_bytes(sqlite_template.read_bytes())
        eng = make_engine(f"sqlite:///{path}")
    else:
        eng = _emptied_postgres(request.getfixturevalue("pg_url"))
    yield eng
    eng.dispose()


@pytest.fixture
def pg_engine(pg_url: str | None) -> Iterator[Engine]:
    """A migrated, empty registry on PostgreSQL, for what only PostgreSQL does."""
    eng = _emptied_postgres(pg_url)
    yield eng
    eng.dispose()


def _emptied_postgres(url: str | None) -> Engine:
    if url is None:
        pytest.skip("PostgreSQL is not reachable (outside CI only)")
    eng = make_engine(url)
    _truncate_all(eng)
    return eng


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    path = tmp_path / "registry.db"
    path.write_bytes(sqlite_template.read_bytes())
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.fixture
def vault() -> MyNumberVault:
    return MyNumberVault(FIXED_KEY)


@pytest.fixture
def key_env() -> dict[str, str]:
    return {"SHIKAKU_MY_NUMBER_KEY": base64.b64encode(FIXED_KEY).decode()}


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)
    return path
