"""`shikaku anomalies`: registry rows that contradict a rule, for staff to correct."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from shikaku.terminal import DatabaseUrl, out
from shikaku.terminal import database as _engine
from shikaku.terminal import settings_from as _settings


def anomalies(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="この日付時点で判定 (YYYY-MM-DD; 既定: 今日)")
    ] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="一覧を CSV (UTF-8 BOM, Excel 向け) に書き出す")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """規則に反するレジストリの行（75歳以降も続く資格、同じ個人番号の重複など）を一覧にします.

    Lists every registry row that contradicts a rule, with the rule it breaks; exit 1 when
    there is any (so a nightly job can alert), 0 when the registry is clean.
    """
    from shikaku.registry.auditlog import AuditWriter
    from shikaku.security.audit import AuditEntry
    from shikaku.service.anomalies import find_anomalies, write_csv

    day = date.fromisoformat(as_of) if as_of else date.today()
    engine = _engine(_settings(database_url))
    rows = find_anomalies(engine, day)
    AuditWriter(engine).append(
        [AuditEntry(kind="cli_read", detail={"view": "anomalies", "hits": len(rows)})]
    )
    if csv_file is not None:
        with csv_file.open("w", encoding="utf-8-sig", newline="") as f:
            write_csv(rows, f)
    if not rows:
        out.print(f"{day.isoformat()} 時点で規則に反する行はありません (no anomalies)")
        return
    table = Table(title=f"規則に反する行 {len(rows):,} 件（{day.isoformat()} 時点）")
    for header in ("記号-番号-枝番", "氏名", "生年月日", "規則", "起算日", "相手の記録"):
        table.add_column(header)
    for r in rows:
        table.add_row(
            r.subject.keys, r.subject.name, r.subject.birth_date.isoformat(), r.rule.label,
            r.anomaly.since.isoformat(), r.other.keys if r.other else "",
        )  # fmt: skip
    out.print(table)
    if csv_file is not None:
        out.print(f"CSV: {csv_file}")
    raise typer.Exit(1)
