"""`shikaku users …`: accounts of the staff console and the employer portal."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from shikaku.terminal import DatabaseUrl, database, err, out, settings_from

users_app = typer.Typer(
    help="職員コンソール・事業所ポータルの利用者 (console and portal users).", no_args_is_help=True
)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="ログイン名")],
    role: Annotated[str, typer.Option(help="admin / operator / auditor / employer")],
    employer: Annotated[
        str | None, typer.Option(help="事業所の記号（役割 employer のとき必須）")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="パスワードを標準入力から1行読む")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """利用者を追加します。パスワードは入力を求めるか、--password-stdin か環境変数
    SHIKAKU_NEW_PASSWORD から読みます（表示も保存もされず、scrypt のハッシュだけが残ります）。"""
    from shikaku.service.accounts import AccountError, add_user
    from shikaku.settings import NEW_PASSWORD_ENV as PASSWORD_ENV

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif os.environ.get(PASSWORD_ENV):
        password = os.environ[PASSWORD_ENV]
    else:
        password = typer.prompt("パスワード (password)", hide_input=True, confirmation_prompt=True)
    engine = database(settings_from(database_url))
    try:
        user_id = add_user(engine, name, password, role, employer)
    except AccountError as exc:
        err.print(f"[red]エラー:[/red] {exc.ja}\n  ({exc.en})")
        raise typer.Exit(2) from None
    out.print(f"利用者を追加しました: {name.strip()}（{role}、#{user_id}）")


@users_app.command("list")
def users_list(database_url: DatabaseUrl = None) -> None:
    """利用者の一覧（ログイン名・役割・事業所の記号・有効/無効）。パスワードは表示しません。"""
    from shikaku.service.accounts import list_users

    table = Table("ログイン名", "役割", "事業所記号", "状態")
    for name, role, symbol, active in list_users(database(settings_from(database_url))):
        table.add_row(name, role, symbol or "", "有効" if active else "無効")
    out.print(table)


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(help="ログイン名")], database_url: DatabaseUrl = None
) -> None:
    """利用者を無効にし、そのセッションを終了します。exit 2: そのような利用者はいません。"""
    from shikaku.service.accounts import disable_user

    if not disable_user(database(settings_from(database_url)), name):
        err.print(f"[red]エラー:[/red] 利用者 {name} はいません (no such user)")
        raise typer.Exit(2)
    out.print(f"利用者 {name} を無効にしました")
