"""`shikaku --help` and `shikaku validate …` start fast because they import little.

Measured as the import graph, not the time: the command runs with `python -X importtime`,
which lists every module it imported, and none of the heavy libraries may be among them
(importing shikaku.cli took 1.3 s, SQLAlchemy and Alembic first; now about 0.15 s).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# What only some commands need: the database, migrations, the web app, Dask, the renderer,
# the settings (and their models), encryption, spreadsheets. Not pydantic itself: Typer
# imports it to convert the parameters of whatever command runs (and `issue --help`).
HEAVY = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "dask",
    "distributed",
    "cryptography",
    "psycopg",
    "openpyxl",
    "fsspec",
    "shikaku.render",
    "shikaku.registry.db",
    "shikaku.settings",
    "shikaku.issuance",
    "shikaku.service",
    "shikaku.web",
)


def imported(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `shikaku ARGS` and return what it printed and every module it imported."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "shikaku", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return run, modules


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("validate", "insurer-number", "01130012"),
        ("validate", "my-number", "123456789018"),
        ("issue", "--help"),
    ],
)
def test_light_commands_import_no_heavy_library(args: tuple[str, ...]) -> None:
    run, modules = imported(*args)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "shikaku.cli" in modules  # the graph was really read
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
    assert heavy == [], f"`shikaku {' '.join(args)}` imported {heavy}"


def test_an_invalid_number_is_still_refused() -> None:
    run, _ = imported("validate", "insurer-number", "01130013")
    assert run.returncode == 1 and "無効" in run.stdout + run.stderr
