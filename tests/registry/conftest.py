"""`shikaku` as a user runs it, in this process: fast enough for a corpus of files."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


Cli = Callable[..., Ran]


@pytest.fixture
def cli(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    key_env: dict[str, str],
) -> Cli:
    """Runs `shikaku ARGS` through the real entry point (shikaku.cli.main: exit codes, the
    messages of a refused file) in `tmp_path`, with only the My Number key set in the
    environment, and returns its exit status and what it printed."""
    from shikaku.cli import main

    for name in list(os.environ):
        if name.startswith("SHIKAKU_"):
            monkeypatch.delenv(name)
    for name, value in key_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Ran:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["shikaku", *args])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run
