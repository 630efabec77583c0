"""The clinic check: one interface, one checker process, one backend per database.

A checker answers `check(query, reader)` only once the read's audit row is durable, and
owns everything between: batching the requests in flight, the lookups, the rules
(service.eligibility) and the audit log's group commit. The web layer (web.api, web.fhir)
only parses, authorises, calls the checker and writes the answer.

The checks run in a checker process beside each API process (checkers.process), a batch of
checks per durable commit; its database's backend does the lookups and the commits:
- SQLite (checkers.sqlite): one statement per lookup on the audit writer's connection, the
  audit rows in one transaction;
- PostgreSQL (checkers.postgres): the lookups as one statement of arrays, the audit rows as
  one more, autocommitted.

It raises `NotAudited` when it cannot vouch for the audit row (the answer is then a 503).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine

from shikaku.service.eligibility import CheckQuery, CheckResult
from shikaku.settings import Settings

__all__ = ["Checker", "NotAudited", "Reader", "checker_for"]


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads, as the audit row records it: the clinic and the kind of read."""

    clinic_id: int
    kind: str  # security.audit's kinds: eligibility, fhir_eligibility, fhir_coverage


class NotAudited(RuntimeError):
    """The check's audit row could not be made durable: no answer may be sent. The text
    names the error's kind only (never a key: it may quote one)."""


class Checker(Protocol):
    async def check(self, query: CheckQuery, reader: Reader) -> CheckResult:
        """The result, once its audit row is durable; NotAudited otherwise."""
        ...

    async def close(self) -> None:
        """After the last request: what is queued is checked and written, then let go."""
        ...


def checker_for(settings: Settings, engine: Engine) -> Checker:
    """The API process's checker. A SQLite database no other process can open is refused
    (SettingsError)."""
    from shikaku.checkers.process import ProcessChecker

    return ProcessChecker(settings, engine)
