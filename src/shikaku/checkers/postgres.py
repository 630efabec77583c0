"""The PostgreSQL backend of the checker process (checkers.process): the batches waiting,
looked up in one statement and audited in one more.

On PostgreSQL every statement is a round trip and costs the server a parse, a plan and an
execution besides the query's own work, so a cycle of the child is two statements whatever
the number of checks waiting: the lookups as one statement of arrays
(registry.checks.find_many), and their audit rows as one autocommitted statement of arrays
(registry.auditlog.AuditWriter.append_autocommit), durable when it returns. The connection is
psycopg's own, in autocommit, held for the child's life.

A connection the server dropped (a restart, a terminated backend) fails its cycle's checks
(the loop tries each once more) and is replaced for the next.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy import Engine

from shikaku.checkers.process import Job
from shikaku.registry.auditlog import DURABLE_COMMITS, AuditWriter
from shikaku.registry.checks import find_many
from shikaku.registry.db import libpq_conninfo
from shikaku.service.eligibility import CheckResult, CheckRules, answer, audit_entry
from shikaku.settings import Settings

logger = logging.getLogger(__name__)

# The session's settings. The lookup is prepared once per connection; PostgreSQL would still
# plan it anew for each execution while it judges custom plans cheaper (~0.15 ms, as long as
# the query itself). Every parameter is an equality on a unique key or a date bound, so one
# generic plan serves. No JIT: a batch's estimated cost can pass jit_above_cost (tables not
# yet analysed after an import), and compiling then took 26 ms of a 0.5 ms lookup. The audit
# rows' commits are durable (DURABLE_COMMITS).
SESSION = ("SET plan_cache_mode = force_generic_plan", "SET jit = off", *DURABLE_COMMITS)


class PostgresBackend:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.rules = CheckRules.from_settings(settings)
        self.conninfo = libpq_conninfo(engine)
        self.writer = AuditWriter(engine)
        self._conn: psycopg.Connection[Any] | None = None

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            conn = psycopg.connect(self.conninfo, autocommit=True)
            for statement in SESSION:
                conn.execute(statement)
            self._conn = conn
        return self._conn

    def check(self, jobs: list[Job]) -> Sequence[CheckResult | str]:
        """Every job in two statements (lookups, audit rows); if either fails, every job gets
        the error's kind (never its text: it may quote the keys), and a broken connection is
        replaced for the next batches."""
        try:
            conn = self._connection()
            found = find_many(conn, [query.lookup_keys for query, _reader in jobs])
            checked = [
                answer(records, query, self.rules)
                for records, (query, _reader) in zip(found, jobs, strict=True)
            ]
            self.writer.append_autocommit(
                conn,
                [audit_entry(reader.clinic_id, reader.kind, result)
                 for result, (_query, reader) in zip(checked, jobs, strict=True)],
            )  # fmt: skip
        except Exception as exc:
            logger.exception("checks not done or not audited; no answers")
            if self._conn is not None and self._conn.broken:
                self.close()
            return [type(exc).__name__] * len(jobs)
        return checked

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
