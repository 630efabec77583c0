"""`shikaku users …` and `shikaku audit list` through the real entry point."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.registry.conftest import Cli, cli  # noqa: F401  (the fixture)

PASSWORD = "correct horse battery"


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_new_password_in_the_environment_breaks_no_command(
    cli: Cli,  # noqa: F811
    sqlite_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SHIKAKU_NEW_PASSWORD (docs/cli.md) is a secret for `users add`, not a setting: with it
    set, `users add` reads it and every other command still runs (it was 未知の設定キー)."""
    url = _url(sqlite_engine)
    monkeypatch.setenv("SHIKAKU_NEW_PASSWORD", PASSWORD)
    ran = cli("users", "add", "clerk", "--role", "operator", "--database-url", url)
    assert ran.code == 0, ran.err
    assert "利用者を追加しました: clerk" in ran.out
    assert PASSWORD not in ran.out + ran.err
    ran = cli("users", "list", "--database-url", url)
    assert ran.code == 0, ran.err
    assert "clerk" in ran.out
    ran = cli("runs", "list", "--database-url", url)
    assert ran.code == 0, ran.err
