"""`shikaku serve`: the clinic API under uvicorn."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from shikaku.terminal import DatabaseUrl, database, out, settings_from


def serve(
    host: Annotated[str | None, typer.Option(help="待ち受けアドレス (既定: 設定 api.host)")] = None,
    port: Annotated[int | None, typer.Option(help="ポート (既定: 設定 api.port)")] = None,
    processes: Annotated[
        int | None, typer.Option(min=1, help="uvicorn のプロセス数 (既定: 設定 api.processes)")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """資格確認 API (HTTP・FHIR) を起動します。OpenAPI: /openapi.json、説明: /docs."""
    import uvicorn

    settings = settings_from(database_url)
    api = settings.api
    database(settings)  # refused here, before uvicorn starts, if the schema is not current
    # Each worker process builds its own app from the environment: hand the overrides on.
    if database_url:
        os.environ["SHIKAKU_DATABASE_URL"] = database_url
    host, port, processes = host or api.host, port or api.port, processes or api.processes
    out.print(f"資格確認 API: http://{host}:{port}/docs （プロセス {processes}）")
    uvicorn.run(
        "shikaku.cli_serve:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=processes,
        log_level="warning",
        access_log=False,
    )


def app_from_environment() -> Any:
    """The factory `serve` hands to uvicorn: each worker process opens the registry from the
    settings (the environment carries `--database-url`), checks its schema, builds its app."""
    from shikaku.settings import load_settings
    from shikaku.web.app import create_app

    settings = load_settings()
    return create_app(settings, database(settings))
