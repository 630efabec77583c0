"""`shikaku serve`'s factory: what each uvicorn process runs to build its app."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from shikaku.cli_serve import app_from_environment
from shikaku.registry.db import SchemaOutOfDate


def test_the_factory_opens_the_registry_from_the_environment(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIKAKU_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    db = tmp_path / "registry.db"
    db.write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("SHIKAKU_DATABASE_URL", f"sqlite:///{db}")
    assert isinstance(app_from_environment(), FastAPI)


def test_the_factory_refuses_a_registry_never_migrated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIKAKU_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    monkeypatch.setenv("SHIKAKU_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    with pytest.raises(SchemaOutOfDate, match="shikaku db upgrade"):
        app_from_environment()
