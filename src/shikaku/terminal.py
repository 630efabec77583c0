"""What every command shares: terminal output (Rich consoles), settings and database from options,
progress bars. ("Console" alone means the staff web console, shikaku.webconsole.)"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

if TYPE_CHECKING:
    from shikaku.settings import Settings

# Wide when piped, so paths and summaries are not folded in logs.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)
log = logging.getLogger("shikaku")

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="SQLAlchemy URL (既定: 設定 database_url)", show_default=False
    ),
]


def settings_from(database_url: str | None = None, **overrides: Any) -> Settings:
    from shikaku.settings import load_settings  # pydantic: only for commands that need settings

    settings = load_settings(overrides={"database_url": database_url, **overrides})
    configure_logging(settings)
    return settings


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger("shikaku")
    if root.handlers:
        return
    root.setLevel(logging.INFO)
    if settings.log_file is not None:
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(settings.log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
    else:
        root.addHandler(logging.NullHandler())


def database(settings: Settings, *, current: bool = True) -> Any:
    """The registry's engine, for every command: one whose schema is current (a database
    never migrated, or an older one, is refused with what to run, not a traceback); only
    the commands that migrate it or say its revision pass `current=False`."""
    from shikaku.registry.db import make_engine, require_current_schema

    engine = make_engine(settings.database_url)
    if current:
        require_current_schema(engine)
    return engine


@contextmanager
def progress_bar(description: str, total: int | None, unit: str = "行") -> Iterator[Any]:
    """A Rich bar on stderr (hidden when not a terminal); yields update(count, position)."""
    with progress_bars((description, total, unit)) as (update,):
        yield update


@contextmanager
def progress_bars(*bars: tuple[str, int | None, str]) -> Iterator[tuple[Any, ...]]:
    """Several bars in one live display (Rich allows one at a time), one update each."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:>10,} {task.fields[unit]}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        updates = []
        for description, total, unit in bars:
            task = progress.add_task(description, total=total, rows=0, unit=unit)

            def update(rows: int, position: int, task: Any = task) -> None:
                progress.update(task, completed=position or rows, rows=rows)

            updates.append(update)
        yield tuple(updates)
