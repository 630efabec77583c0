"""`shikaku clinics …` (API keys of clinics) and `shikaku audit …` (the access log's chain)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from shikaku.terminal import DatabaseUrl, database, err, out, settings_from

clinics_app = typer.Typer(
    help="医療機関と API キーの登録・失効・一覧 (clinics: API keys).", no_args_is_help=True
)
audit_app = typer.Typer(
    help="アクセス記録（監査ログ）の検証・一覧 (audit log: verify, list).", no_args_is_help=True
)


def _engine(database_url: str | None) -> Any:
    return database(settings_from(database_url))


def _refused(exc: Any) -> typer.Exit:
    err.print(f"[red]エラー:[/red] {exc.ja}\n  ({exc.en})")
    return typer.Exit(2)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


# ------------------------------------------------------------------ clinics


@clinics_app.command("add")
def clinics_add(
    code: Annotated[str, typer.Argument(help="医療機関コード（10桁）")],
    name: Annotated[str, typer.Argument(help="医療機関の名称")],
    database_url: DatabaseUrl = None,
) -> None:
    """医療機関を登録し API キーを発行します。キーは一度だけ表示されます。exit 2 拒否."""
    from shikaku.service.clinics import ClinicError, add_clinic

    engine = _engine(database_url)
    try:
        clinic_id, api_key = add_clinic(engine, code, name)
    except ClinicError as exc:
        raise _refused(exc) from None
    from shikaku.domain.identifiers import validate_institution_code

    code = validate_institution_code(code)  # valid: add_clinic checked it
    out.print(f"医療機関を登録しました: {code} {name.strip()} (clinic #{clinic_id})")
    out.print(f"API キー (API key): {api_key}", soft_wrap=True)
    err.print(
        "[bold yellow]注意:[/bold yellow] このキーは二度と表示できません。今すぐ医療機関へ安全な"
        "方法で渡してください。紛失したら失効させて再発行します"
        " (this key cannot be shown again: hand it over securely now; if lost, revoke and add"
        " again)."
    )


@clinics_app.command("revoke")
def clinics_revoke(
    code: Annotated[str, typer.Argument(help="医療機関コード（10桁）")],
    database_url: DatabaseUrl = None,
) -> None:
    """医療機関の API キーを失効させます（数秒以内に全プロセスで無効）。exit 2 未登録."""
    from shikaku.service.clinics import ClinicError, revoke_clinic

    engine = _engine(database_url)
    try:
        revoked = revoke_clinic(engine, code)
    except ClinicError as exc:
        raise _refused(exc) from None
    if revoked:
        out.print(f"API キーを失効させました: {code.strip()} (key revoked)")
    else:
        out.print(f"API キーは既に失効しています: {code.strip()} (already revoked)")


@clinics_app.command("list")
def clinics_list(database_url: DatabaseUrl = None) -> None:
    """登録済みの医療機関（キーの ID・発行日時・状態）を表示します."""
    from shikaku.service.clinics import list_clinics

    table = Table("医療機関コード", "名称", "キー ID", "発行 (UTC)", "状態")
    for c in list_clinics(_engine(database_url)):
        state = "有効 active" if c.active else f"失効 revoked {_when(c.revoked_at)}"
        table.add_row(c.institution_code, c.name, c.key_id, _when(c.created_at), state)
    out.print(table)


# ------------------------------------------------------------------ audit


def _anchor(value: str | None) -> tuple[int, bytes] | None:
    if value is None:
        return None
    row, _, digest = value.partition(":")
    try:
        anchor = (int(row), bytes.fromhex(digest))
    except ValueError:
        anchor = (0, b"")
    if anchor[0] < 1 or len(anchor[1]) != 32:
        raise typer.BadParameter(f"ID:HASH の形で指定してください（HASH は16進64桁）: {value!r}")
    return anchor


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        str | None,
        typer.Option(
            help="以前に記録した ID:HASH（その行が今も同じハッシュか、末尾の削除がないか検証）",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """監査ログのハッシュ連鎖を全行検証します。exit 0 正常, 1 改ざん・挿入・削除あり."""
    from shikaku.registry.auditlog import verify_chain

    expected = _anchor(anchor)
    report = verify_chain(_engine(database_url), anchor=expected)
    span = f"{report.first_id}–{report.last_id}" if report.rows else "-"
    if report.ok:
        out.print(f"監査ログは正常です: {report.rows:,} 行 ({span}) (audit chain intact)")
        if report.rows:
            out.print(f"  最終行のハッシュ (head): {report.last_id}:{report.head_hash.hex()}")
        return
    names = {
        "edited": "改ざん",
        "deleted": "削除",
        "inserted": "挿入",
        "unlinked": "連鎖切れ",
        "anchor": "記録値と不一致",
    }
    summary = "・".join(f"{names.get(k, k)} {n:,}" for k, n in sorted(report.counts.items()))
    err.print(
        f"[red]監査ログの連鎖が壊れています[/red]: {report.rows:,} 行 ({span}) のうち問題 "
        f"{report.problem_count:,} 件（{summary}） (audit chain broken)"
    )
    for p in report.problems:
        err.print(f"  #{p.row_id} [{names.get(p.kind, p.kind)}] {p.ja}\n      ({p.en})")
    if report.problem_count > len(report.problems):
        err.print(f"  ほか {report.problem_count - len(report.problems):,} 件 (more not shown)")
    raise typer.Exit(1)


@audit_app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option(min=1, help="表示件数")] = 20,
    database_url: DatabaseUrl = None,
) -> None:
    """最近のアクセス記録を新しい順に表示します（個人は person_id のみ、詳細は表示しません）。
    職員・事業所の記録は操作した利用者を示します."""
    from sqlalchemy import select

    from shikaku.registry.tables import audit_log, clinics
    from shikaku.security.audit import actor_of

    engine = _engine(database_url)
    table = Table("#", "日時 (UTC)", "医療機関コード", "利用者", "種類", "person_id", "結果")
    query = (
        select(
            audit_log.c.id,
            audit_log.c.at,
            clinics.c.institution_code,
            audit_log.c.kind,
            audit_log.c.person_id,
            audit_log.c.result,
            audit_log.c.detail,
        )
        .select_from(audit_log.outerjoin(clinics, clinics.c.id == audit_log.c.clinic_id))
        .order_by(audit_log.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        for r in conn.execute(query):
            table.add_row(
                str(r.id),
                _when(r.at),
                r.institution_code or "-",
                actor_of(r.detail) or "-",
                r.kind,
                "-" if r.person_id is None else str(r.person_id),
                r.result or "",
            )
    out.print(table)
