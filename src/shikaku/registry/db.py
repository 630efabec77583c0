"""Engines for SQLite (embedded default, WAL) and PostgreSQL (production), and migrations."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from shikaku.security.outputs import create_private_file

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaOutOfDate(Exception):
    """The database is not at the newest migration; the message says what to run."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """SQLite gets WAL and explicit BEGINs (see write_transaction); PostgreSQL gets psycopg 3."""
    parsed = make_url(url)
    # Error messages must never carry members' data (names, ciphertexts) into logs.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        engine = create_engine(url, connect_args={"timeout": 60}, **kwargs)
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            _create_private(engine, Path(database))
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def libpq_conninfo(engine: Engine) -> str:
    """A PostgreSQL engine's database as libpq's URL, with its password: for psycopg's own
    connections, where SQLAlchemy's cost more than the statement (the checker process)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


SQLITE_BEGIN = "sqlite_begin"


@contextmanager
def write_transaction(engine: Engine, checked_references: bool = False) -> Iterator[Connection]:
    """A transaction that intends to write: on SQLite it owns the write lock from its start,
    so what it reads (max(id) for new keys) cannot change before it commits.

    `checked_references`: the caller resolved every foreign key itself inside this same
    transaction (the importer does, under the write lock), so SQLite need not look each one
    up again; that is a sixth of an import's time. PostgreSQL always checks.
    """
    with engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) as conn:
        raw = conn.connection.dbapi_connection if is_sqlite(conn) and checked_references else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # outside a transaction, or it is ignored
        try:
            with conn.begin():
                yield conn
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def _create_private(engine: Engine, path: Path) -> None:
    """The database file is made 0600 (just before SQLite would make it), whatever the umask
    of the process that first connects: SQLite gives its -wal, -shm and -journal files the
    database file's mode."""

    @event.listens_for(engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        create_private_file(path)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "temp_store=MEMORY",
            "cache_size=-65536",
            "busy_timeout=60000",
            # Checkpoint every ~200 MB of WAL rather than 4 MB: an index page changed by
            # many batches is copied back once, not once per batch (a third of an import's
            # commit time); the WAL file is cut back to 64 MB afterwards.
            "wal_autocheckpoint=50000",
            "journal_size_limit=67108864",
        ):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Readers never block writers (WAL); writers take the lock up front (see write_transaction).
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def is_sqlite(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "sqlite"


def shared_sqlite_file(engine: Engine) -> str | None:
    """The path of a SQLite database that other processes can open too; None for another
    database, an in-memory one (it lives in this process only) or a `file:` URI."""
    database = engine.url.database
    if not is_sqlite(engine) or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else database


_NUMBERS = frozenset({int, type(None)})
_BYTES = frozenset({bytes})


def pg_array(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal of `values` (str, int, date, datetime, bytes or None), for
    a `%s::type[]` parameter: psycopg dumps a list element by element in Python, which cost
    the API's event loop ~10 µs per lookup in a batch; one string is dumped in C."""
    if not values:
        return "{}"
    kinds = {value.__class__ for value in values}  # a column has one type, and None
    if kinds <= _NUMBERS:  # ids: no quoting, NULL as it is
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    if kinds == _BYTES:  # hashes: hex, nothing to escape
        return '{"\\\\x' + '","\\\\x'.join(v.hex() for v in values) + '"}'
    if None not in kinds:
        joined = '","'.join(map(str, values))
        if '"' not in joined and "\\" not in joined:
            return '{"' + joined + '"}'  # a lookup's keys, most columns of an audit batch
    parts: list[str] = []
    for value in values:
        if value is None:
            parts.append("NULL")
            continue
        text_ = "\\x" + value.hex() if isinstance(value, bytes) else str(value)
        parts.append('"' + text_.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


def placeholder(conn: Connection) -> str:
    """The DBAPI parameter mark for hand-written SQL: qmark (sqlite3) or format (psycopg)."""
    return "?" if is_sqlite(conn) else "%s"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def require_current_schema(engine: Engine) -> None:
    if current_revision(engine) != head_revision():
        raise SchemaOutOfDate(
            "データベースが最新のスキーマではありません。`shikaku db upgrade` を実行してください"
            " (the database schema is not current: run `shikaku db upgrade`)"
        )


def allocate_ids(conn: Connection, table: Table, count: int) -> Sequence[int]:
    """Primary keys for a bulk insert, chosen client-side so one statement inserts many rows.

    PostgreSQL draws them from the table's sequence (safe under concurrency). SQLite runs the
    batch in write_transaction (BEGIN IMMEDIATE), so max(id) cannot move until we commit.
    """
    if count == 0:
        return ()
    if is_sqlite(conn):
        top = conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {table.name}")).scalar_one()
        return range(top + 1, top + 1 + count)
    rows = conn.execute(
        text("SELECT nextval(:seq) FROM generate_series(1, :n)"),
        {"seq": f"{table.name}_id_seq", "n": count},
    )
    return [r[0] for r in rows]


# Fewer changed rows than this leave the planner's statistics to autovacuum.
ANALYZE_AFTER_ROWS = 1000


def analyze_after_load(engine: Engine, tables: Sequence[Table], changed_rows: int) -> None:
    """PostgreSQL: refresh the planner's statistics after a bulk load, as its documentation
    advises. Until autovacuum gets to it (if it runs at all), a fresh import looks empty to
    the planner: the API's batched lookups then chose bitmap scans and passed the JIT
    threshold (measured: 315 lookups/s on a fresh 1M import; analysed, a batch runs in half
    the time). SQLite keeps its plans without statistics, which the lookups are tuned for."""
    if is_sqlite(engine) or changed_rows < ANALYZE_AFTER_ROWS:
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE " + ", ".join(t.name for t in tables)))


@contextmanager
def read_once(engine: Engine) -> Iterator[Connection]:
    """A connection for reads that see each row once (an issuance driver's: employer ranges,
    job planning, the manifest, the held report). SQLite: with a page cache of 2 MiB instead
    of the engine's 64 MiB (meant for the importer and the API), which the manifest of a
    1M-member run alone filled with 26 MiB of pages it never reads again: the driver's memory
    must not grow with the run or the registry."""
    with engine.connect() as conn:
        if not is_sqlite(conn):
            yield conn
            return
        before = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
        conn.exec_driver_sql("PRAGMA cache_size = -2048")
        try:
            yield conn
        finally:
            conn.exec_driver_sql(f"PRAGMA cache_size = {before}")


def in_force_on(table: Table, dated: str, owner: Any, day: Any) -> Any:
    """The date of `owner`'s row of a dated table in force on `day`: the latest on or before
    it (a row applies from its date until the next one); NULL before the first. A scalar
    subquery to join the row by (person_id = owner, dated = this): one index probe. `owner`
    is a column of the enclosing statement, however deep this is nested; `day` a date or a
    bound parameter."""
    t = table.alias()
    return (
        select(func.max(t.c[dated]))
        .where(t.c.person_id == owner, t.c[dated] <= day)
        .correlate_except(t)
        .scalar_subquery()
    )
