"""Bulk writes that cost one statement per batch, not one per row, on SQLite and PostgreSQL.

Values arrive in storage form (dates as ISO strings, as SQLAlchemy's Date type stores them
on SQLite and as PostgreSQL reads them). SQLite gets executemany; PostgreSQL gets COPY for
inserts. Tests pin the number of round trips per batch: SQL statements through SQLAlchemy's
cursor events, COPY statements (which bypass them) through `copy_statements`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table

from shikaku.registry.db import is_sqlite, placeholder

copy_statements = 0  # COPY bypasses SQLAlchemy's events; tests add this to their count
IN_LIST = 500  # values per `IN (…)` list: far below SQLite's bound-parameter limit


def in_lists(values: Sequence[Any], size: int = IN_LIST) -> Iterator[Sequence[Any]]:
    """`values` cut into `IN (…)` lists of `size`, in order."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


class Bulk:
    __slots__ = ("conn", "mark", "sqlite")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = is_sqlite(conn)
        self.mark = placeholder(conn)

    def insert(self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        if self.sqlite:
            marks = ", ".join([self.mark] * len(columns))
            self.conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
            return
        raw = self.conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        global copy_statements
        copy_statements += 1

    def update(
        self,
        table: Table,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        keys: Sequence[str] = ("id",),
    ) -> None:
        """Each row holds the new values of `columns`, then the values of `keys`."""
        if not rows:
            return
        mark = self.mark
        sets = ", ".join(f"{c} = {mark}" for c in columns)
        where = " AND ".join(f"{k} = {mark}" for k in keys)
        sql = f"UPDATE {table.name} SET {sets} WHERE {where}"
        self.conn.exec_driver_sql(sql, rows)
