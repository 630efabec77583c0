"""Count the statements the database driver runs, whoever sends them.

SQLAlchemy's `before_cursor_execute` misses what runs on the driver's own cursor, as the
clinic lookup does (`registry.checks.find_records`), so the count is taken one level below:
sqlite3's trace callback (every statement SQLite starts) and, on psycopg, a cursor class that
notes each execute. Transaction control (BEGIN, COMMIT, savepoints) is not counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END", "--")


@contextmanager
def driver_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL of each statement run on a connection of `engine` checked out in the block."""
    seen: list[str] = []
    traced: dict[Any, Any] = {}  # DBAPI connection → what to restore (psycopg's cursor class)

    def note(sql: str) -> None:
        if not sql.lstrip().upper().startswith(_CONTROL):
            seen.append(sql)

    def trace(dbapi_conn: Any, *_: Any) -> None:
        if dbapi_conn in traced:
            return
        if hasattr(dbapi_conn, "set_trace_callback"):  # sqlite3
            dbapi_conn.set_trace_callback(note)
            traced[dbapi_conn] = None
        else:  # psycopg 3
            traced[dbapi_conn] = dbapi_conn.cursor_factory
            dbapi_conn.cursor_factory = _counting(dbapi_conn.cursor_factory, note)

    def untrace(dbapi_conn: Any, *_: Any) -> None:
        if dbapi_conn not in traced:
            return
        factory = traced.pop(dbapi_conn)
        if factory is None:
            dbapi_conn.set_trace_callback(None)
        else:
            dbapi_conn.cursor_factory = factory

    event.listen(engine, "checkout", trace)
    event.listen(engine, "checkin", untrace)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", trace)
        event.remove(engine, "checkin", untrace)
        for dbapi_conn in list(traced):
            untrace(dbapi_conn)


def _counting(base: type[Any], note: Any) -> type[Any]:
    def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        note(str(query))
        return base.execute(self, query, *args, **kwargs)

    def executemany(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        note(str(query))
        return base.executemany(self, query, *args, **kwargs)

    def copy(self: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
        note(str(statement))
        return base.copy(self, statement, *args, **kwargs)

    return type(
        f"Counting{base.__name__}",
        (base,),
        {"execute": execute, "executemany": executemany, "copy": copy},
    )
