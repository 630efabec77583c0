"""The `shikaku` command: one subcommand per task of an insurer's staff. Thin: it parses
options, calls the services and prints what happened, in Japanese first."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from shikaku import __version__
from shikaku.cli_anomalies import anomalies
from shikaku.cli_clinics import audit_app, clinics_app
from shikaku.cli_issuance import certificates_app, issue_app, runs_app
from shikaku.cli_serve import serve
from shikaku.cli_users import users_app
from shikaku.domain.errors import DomainError
from shikaku.domain.identifiers import (
    validate_institution_code,
    validate_insurer_number,
    validate_my_number,
)
from shikaku.registry.columns import FileKind
from shikaku.security.outputs import for_terminal, private_umask
from shikaku.terminal import DatabaseUrl, err, log, out
from shikaku.terminal import database as _engine
from shikaku.terminal import progress_bar as _progress
from shikaku.terminal import settings_from as _settings

if TYPE_CHECKING:
    from shikaku.settings import Settings

# Every command starts in a fraction of a second because this module and the cli_* modules
# import only Typer, Rich and light modules (the column spec, domain rules, output helpers);
# SQLAlchemy, Alembic, pydantic (settings), cryptography, Dask and the renderer are imported
# by the commands that use them. tests/test_cli_startup.py keeps it so.

# Errors that are the user's to fix (exit 2), by module and name: a command that raised one
# has imported its module, so main() need not import them all to recognise them.
_REFUSALS = (
    ("shikaku.settings", "SettingsError"),
    ("shikaku.registry.readers", "FileRefused"),
    ("shikaku.security.mynumber", "VaultKeyError"),
    ("shikaku.registry.db", "SchemaOutOfDate"),
)

app = typer.Typer(
    help="shikaku: 資格情報のお知らせ・資格確認書の発行と資格確認 (eligibility notices, certificates, checks).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    # A crash report must never print local variables: a parser's locals hold My Numbers.
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="データベースの管理 (database schema).", no_args_is_help=True)
keys_app = typer.Typer(help="個人番号の暗号鍵 (My Number key).", no_args_is_help=True)
validate_app = typer.Typer(help="番号の検証 (check digits).", no_args_is_help=True)
imports_app = typer.Typer(help="取込履歴 (import history).", no_args_is_help=True)
settings_app = typer.Typer(help="設定 (settings).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(validate_app, name="validate")
app.add_typer(imports_app, name="imports")
app.add_typer(settings_app, name="settings")
app.add_typer(issue_app, name="issue")
app.add_typer(runs_app, name="runs")
app.add_typer(certificates_app, name="certificates")
app.command("serve")(serve)
app.add_typer(clinics_app, name="clinics")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.command("anomalies")(anomalies)

# ------------------------------------------------------------------ validate


def _validate(kind_ja: str, check: Any, value: str) -> None:
    try:
        normalized = check(value)
    except DomainError as exc:
        err.print(f"[red]無効[/red] {kind_ja}: {exc.ja}\n  invalid: {exc.en}")
        raise typer.Exit(1) from None
    out.print(f"有効 {kind_ja}: {normalized}  (valid)")


@validate_app.command("insurer-number")
def validate_insurer(value: str) -> None:
    """保険者番号（8桁、国保は6桁）のチェックディジットを検証します。exit 0 有効, 1 無効."""
    _validate("保険者番号", validate_insurer_number, value)


@validate_app.command("institution-code")
def validate_institution(value: str) -> None:
    """医療機関コード（10桁）のチェックディジットを検証します。exit 0 有効, 1 無効."""
    _validate("医療機関コード", validate_institution_code, value)


@validate_app.command("my-number")
def validate_my_number_cmd(value: str) -> None:
    """個人番号（12桁）のチェックディジットを検証します。番号は下4桁しか表示しません。"""
    from shikaku.domain.identifiers import mask_my_number

    _validate("個人番号", lambda v: mask_my_number(validate_my_number(v)), value)


# ------------------------------------------------------------------ db, keys, settings


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """スキーマを最新に移行します (alembic upgrade head)."""
    from shikaku.registry.db import current_revision, upgrade

    settings = _settings(database_url)
    engine = _engine(settings, current=False)
    upgrade(engine)
    out.print(
        f"データベースを移行しました: revision {current_revision(engine)} ({engine.url.render_as_string()})"
    )


@db_app.command("current")
def db_current(database_url: DatabaseUrl = None) -> None:
    """現在のスキーマのリビジョンを表示します."""
    from shikaku.registry.db import current_revision, head_revision

    engine = _engine(_settings(database_url), current=False)
    current = current_revision(engine)
    out.print(f"current: {current or '(未作成 none)'}  head: {head_revision()}")


@keys_app.command("init")
def keys_init() -> None:
    """個人番号の暗号鍵ファイル（0600）を作成します。既存の鍵は上書きしません."""
    from shikaku.security.mynumber import generate_key_file

    settings = _settings()
    if settings.key_file.exists():
        err.print(
            f"鍵ファイルは既にあります: {settings.key_file} (key file exists, not overwritten)"
        )
        raise typer.Exit(2)
    generate_key_file(settings.key_file)
    out.print(
        f"暗号鍵を作成しました: {settings.key_file} (mode 0600). バックアップを安全な場所に保管してください。"
    )


@settings_app.command("show")
def settings_show() -> None:
    """有効な設定（ファイル＋環境変数）を TOML に近い形で表示します."""
    settings = _settings()
    data = settings.model_dump(mode="json", by_alias=True)
    for section, value in data.items():
        if isinstance(value, dict):
            out.print(f"\n[{section}]")
            for key, item in value.items():
                out.print(f"{key} = {item!r}")
        else:
            out.print(f"{section} = {value!r}")


# ------------------------------------------------------------------ import


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 / UTF-8 BOM / CP932) または XLSX")],
    kind: Annotated[
        FileKind | None, typer.Option(help="employers / members (既定: 見出しで判別)")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="文字コード (utf-8, utf-8-sig, cp932)")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(help="1トランザクションの行数")] = None,
    parser_process: Annotated[
        bool | None,
        typer.Option(
            "--parser-process/--in-process",
            help="解析を別プロセスで行う / 同一プロセスで行う (既定: 設定 import.parser_process)",
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """事業所または加入者のファイルを取り込みます。exit 0 全行登録, 3 エラー行あり, 2 ファイル拒否."""
    settings = _settings(database_url)
    summary = run_import(
        file, kind, encoding, batch_size, parser_process, settings, _engine(settings)
    )
    if summary.rejected:
        raise typer.Exit(3)


def run_import(
    file: Path,
    kind: FileKind | None,
    encoding: str | None,
    batch_size: int | None,
    parser_process: bool | None,
    settings: Settings,
    engine: Any,
) -> Any:
    from shikaku.registry.importer import ImportOptions, import_file
    from shikaku.security.mynumber import load_vault

    vault = load_vault(settings.key_file)
    cfg = settings.importer
    options = ImportOptions(
        insurer_number=settings.insurer.number,
        insured_branch=settings.policy.insured_branch,
        report_dir=cfg.report_dir,
        batch_size=batch_size or cfg.batch_size,
        parser_process=cfg.parser_process if parser_process is None else parser_process,
        kind=kind,
        encoding=encoding,
    )
    size = file.stat().st_size if file.is_file() else 0
    with _progress(f"取込中 {_echo(file.name)}", size or None) as progress:
        summary = import_file(engine, file, vault, options, progress)
    _print_summary(summary)
    log.info(
        "import %s %s: read=%d inserted=%d updated=%d unchanged=%d rejected=%d",
        summary.import_id,
        summary.kind,
        summary.read,
        summary.inserted,
        summary.updated,
        summary.unchanged,
        summary.rejected,
    )
    return summary


def _echo(text: str) -> str:
    """Text from a file (or its name) as the console shows it: no My Number, no terminal
    control, and no Rich markup (a stray `[/x]` in a header crashed the summary)."""
    return escape(for_terminal(text))


def _print_summary(s: Any) -> None:
    """What the clerk reads: file content (unknown headers, column names, reasons) and the
    file's name pass through _echo."""
    kind_ja = "加入者" if s.kind is FileKind.MEMBERS else "事業所"
    out.print(f"取込 #{s.import_id} {_echo(s.file_name)}（{kind_ja}, {s.encoding}）")
    out.print(
        f"  読込 {s.read:,} = 新規 {s.inserted:,} + 更新 {s.updated:,} + 変更なし {s.unchanged:,}"
        f" + エラー {s.rejected:,}"
    )
    out.print("  (read = inserted + updated + unchanged + rejected)")
    if not s.balanced:  # never expected: the counts are the import's promise
        err.print("[red]件数が一致しません (counts do not add up)[/red]")
    if s.ignored_columns:
        ignored = ", ".join(map(_echo, s.ignored_columns))
        out.print(f"  無視した列 (ignored columns): {ignored}")
    if s.report_path:
        out.print(f"  エラー行の一覧 (error report): {s.report_path}")
        for e in s.errors_sample[:5]:
            out.print(f"    {e.line}行 {_echo(f'{e.column}: {e.ja}')}")


@app.command("stats")
def stats(database_url: DatabaseUrl = None) -> None:
    """レジストリの件数（事業所・加入者・個人番号・マイナ保険証）を表示します."""
    _print_counts(_engine(_settings(database_url)))


def _print_counts(engine: Any) -> None:
    from shikaku.registry.queries import registry_counts

    with engine.connect() as conn:
        c = registry_counts(conn)
    mn = c.my_number
    out.print(f"  事業所 {c.employers:,}（うち任意継続など自宅送付 {c.home_delivery_employers:,}）")
    out.print(
        f"  加入者 {c.insured + c.dependents:,}（被保険者 {c.insured:,}・被扶養者 {c.dependents:,}）"
    )
    out.print(
        f"  個人番号 登録済 {mn.get('registered', 0):,}・要確認 {mn.get('needs_check', 0):,}"
        f"・未登録 {mn.get('none', 0):,}"
    )
    out.print(f"  マイナ保険証の利用登録あり {c.mynacard_registered:,}")


@imports_app.command("list")
def imports_list(
    limit: Annotated[int, typer.Option(help="表示件数")] = 20, database_url: DatabaseUrl = None
) -> None:
    """最近の取込（件数・状態・エラー一覧の場所）を表示します."""
    from sqlalchemy import select

    from shikaku.registry.tables import import_runs

    engine = _engine(_settings(database_url))
    table = Table(
        "#", "種類", "ファイル", "状態", "読込", "新規", "更新", "変更なし", "エラー", "開始"
    )
    with engine.connect() as conn:
        rows = conn.execute(select(import_runs).order_by(import_runs.c.id.desc()).limit(limit))
        for r in rows:
            table.add_row(
                str(r.id),
                r.kind,
                _echo(r.file_name),
                r.status,
                *(
                    f"{n:,}"
                    for n in (
                        r.rows_read,
                        r.rows_inserted,
                        r.rows_updated,
                        r.rows_unchanged,
                        r.rows_rejected,
                    )
                ),
                r.started_at.strftime("%Y-%m-%d %H:%M"),
            )
    out.print(table)


# ------------------------------------------------------------------ demo


def _write_demo(out_dir: Path, members: int, seed: int, settings: Settings) -> Any:
    from shikaku.demo import write_demo_files

    with _progress("合成データ作成中", members) as progress:
        return write_demo_files(
            out_dir,
            members=members,
            seed=seed,
            insurer_number=settings.insurer.number,
            progress=lambda n: progress(n, n),
        )


@app.command("demo-data")
def demo_data(
    members: Annotated[int, typer.Option(help="加入者数（被保険者＋被扶養者）")] = 10_000,
    seed: Annotated[int, typer.Option(help="乱数の種（同じ種なら同じバイト列）")] = 1,
    out_dir: Annotated[Path, typer.Option("--out", help="出力先ディレクトリ")] = Path("demo"),
) -> None:
    """取込用の合成データ（事業所 CP932・加入者 UTF-8）を作成します."""

    settings = _settings()
    files = _write_demo(out_dir, members, seed, settings)
    out.print(
        f"合成データを作成しました: 事業所 {files.employer_count:,} 件 → {files.employers}\n"
        f"  加入者 {files.member_count:,} 人（被保険者 {files.insured_count:,}・被扶養者 {files.dependent_count:,}）→ {files.members}"
    )


# The seed's 2024 timeline (DOMAIN.md §2), then the day after old cards stop (§1), when
# everyone who needs a 資格確認書 gets one.
DEMO_EXTRACTION = date(2024, 6, 7)  # 抽出日
DEMO_MAILED = date(2024, 9, 9)
DEMO_CUT_OFF = date(2024, 11, 29)
DEMO_FOLLOW_UP_MAILED = date(2025, 1, 22)
DEMO_CERTIFICATES = date(2025, 12, 2)


@app.command("demo")
def demo(
    members: Annotated[int, typer.Option(help="加入者数")] = 10_000,
    seed: Annotated[int, typer.Option(help="乱数の種")] = 1,
) -> None:
    """デモ一式: 暗号鍵・DB → 合成データの取込 → 全件発行 → 加入・変更の取込 → 追加発行 → 資格確認書."""
    from shikaku.cli_issuance import demo_run
    from shikaku.demo.changes import write_demo_changes
    from shikaku.registry.db import upgrade
    from shikaku.security.mynumber import generate_key_file

    settings = _settings()
    if not settings.key_file.exists():
        generate_key_file(settings.key_file)
        out.print(
            f"個人番号の暗号鍵を作成しました: {settings.key_file.resolve()} (mode 0600, DB の外に保管)"
        )
    engine = _engine(settings, current=False)
    upgrade(engine)
    out.print(f"データベース: {engine.url.render_as_string()}")
    demo_dir = settings.output_dir / "demo-input"
    files = _write_demo(demo_dir, members, seed, settings)
    out.print(f"合成データ: {files.employers} (CP932), {files.members} (UTF-8)")
    summaries = [
        run_import(files.employers, FileKind.EMPLOYERS, None, None, None, settings, engine),
        run_import(files.members, FileKind.MEMBERS, None, None, None, settings, engine),
    ]
    _print_counts(engine)
    out.print(f"\n[bold]全件発行 (full run, 抽出日 {DEMO_EXTRACTION})[/bold]")
    full = demo_run(settings, engine, "full", DEMO_EXTRACTION, DEMO_MAILED, None)
    changes = write_demo_changes(files.members, demo_dir / "changes.csv", seed, DEMO_EXTRACTION)
    out.print(
        f"\n加入・変更 (changes): 加入 {len(changes.joiners)}・氏名変更 {len(changes.renamed)}・"
        f"転勤（記号変更）{len(changes.transferred)}・喪失 {len(changes.left)} → {changes.path}"
    )
    summaries.append(run_import(changes.path, FileKind.MEMBERS, None, None, None, settings, engine))
    out.print(f"\n[bold]追加発行 (follow-up run, 締切 {DEMO_CUT_OFF})[/bold]")
    demo_run(settings, engine, "follow_up", DEMO_CUT_OFF, DEMO_FOLLOW_UP_MAILED, full)
    out.print(f"\n[bold]資格確認書の発行 (certificate run, 基準日 {DEMO_CERTIFICATES})[/bold]")
    demo_run(settings, engine, "certificates", DEMO_CERTIFICATES, DEMO_CERTIFICATES, None)
    out.print("\n[bold]完了 (done)[/bold]")
    out.print(
        f"  レジストリ (registry): {engine.url.database and Path(engine.url.database).resolve()}"
    )
    out.print(f"  取込ファイル (input files): {demo_dir.resolve()}")
    for s in summaries:
        if s.report_path:
            out.print(f"  エラー一覧 (error report): {s.report_path.resolve()}")
    out.print("  次に: shikaku runs list / shikaku runs verify R000001 / shikaku --help")


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="バージョンを表示")] = False,
) -> None:
    # Before any command creates a file: the registry, logs, reports and run folders hold
    # members' data, so they are 0600 (folders 0700) whatever umask we were started with.
    private_umask()
    if version:
        out.print(f"shikaku {__version__}")
        raise typer.Exit()


def _refused(exc: Exception) -> bool:
    for module, name in _REFUSALS:
        loaded = sys.modules.get(module)
        if loaded is not None and isinstance(exc, getattr(loaded, name)):
            return True
    return False


def main() -> None:
    try:
        app()
    except Exception as exc:
        if _refused(exc):
            err.print(f"[red]エラー:[/red] {_echo(str(exc))}")
        elif isinstance(exc, DomainError):
            err.print(f"[red]エラー:[/red] {_echo(exc.ja)}\n  ({_echo(exc.en)})")
        else:
            raise
        sys.exit(2)
