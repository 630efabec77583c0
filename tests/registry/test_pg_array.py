"""registry.db.pg_array: one array literal per column, read back by PostgreSQL as the values."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from shikaku.registry.db import pg_array

COLUMNS: list[tuple[str, list[Any]]] = [
    ("bigint", [1, None, 2**62, None]),
    ("bigint", [None]),
    ("bytea", [b"\x00\x01\xff", bytes(32)]),
    ("bytea", [b"\x00", None]),
    ("text", ["記号", "a,b", "{x}", "NULL"]),
    ("text", ['{"user": "佐藤\\"}', None, 'q"uote', "back\\slash"]),
    ("date", [date(2024, 12, 2), date(1868, 1, 1)]),
    ("timestamp", [datetime(2026, 12, 6, 1, 2, 3, 4), datetime(2026, 12, 6)]),
    ("text", []),
]


@pytest.mark.parametrize(("sql_type", "values"), COLUMNS)
def test_postgresql_reads_back_the_values(
    pg_engine: Engine, sql_type: str, values: list[Any]
) -> None:
    with pg_engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        got = raw.execute(f"SELECT %s::{sql_type}[]", (pg_array(values),)).fetchone()[0]
    assert got == values
