"""`shikaku issue …` and `shikaku runs …`: the issuance run, from extraction to manifest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shikaku.domain.certificate import APPLICATION_REASONS, application_reason
from shikaku.domain.errors import DomainError
from shikaku.domain.normalize import parse_date
from shikaku.terminal import (
    DatabaseUrl,
    database,
    err,
    out,
    progress_bar,
    progress_bars,
    settings_from,
)

if TYPE_CHECKING:
    from shikaku.settings import Settings

issue_app = typer.Typer(
    help="資格情報のお知らせ・資格確認書の発行 (issuance runs: notices and certificates).",
    no_args_is_help=True,
)
certificates_app = typer.Typer(
    help="資格確認書の申請・返却 (certificates: apply, outstanding returns, returned).",
    no_args_is_help=True,
)
_KIND_JA = {"full": "全件", "follow_up": "追加", "certificates": "資格確認書", "renewals": "更新"}
runs_app = typer.Typer(
    help="発行実行の一覧・詳細・再開・検証 (runs: list, show, resume, verify).",
    no_args_is_help=True,
)


def _date(value: str) -> date:
    try:
        return parse_date(value)
    except DomainError as exc:
        raise typer.BadParameter(f"{exc.ja} ({exc.en})") from None


def _run_id(value: str) -> int:
    text = value.strip().upper().lstrip("R")
    if not text.isdigit():
        raise typer.BadParameter(f"実行番号は R000001 か 1 の形です: {value!r}")
    return int(text)


RunArg = Annotated[str, typer.Argument(help="実行番号 (R000001 または 1)")]
Scheduler = Annotated[
    str | None,
    typer.Option(
        help="Dask スケジューラのアドレス (既定: 設定 issuance.scheduler, なければ LocalCluster)"
    ),
]
Workers = Annotated[int | None, typer.Option(min=0, help="LocalCluster のワーカー数 (0 = コア数)")]
EngineOpt = Annotated[
    str | None, typer.Option("--engine", help="dask または inline (既定: 設定 issuance.engine)")
]
IssuedOn = Annotated[
    str | None, typer.Option(help="作成日として印字する日 (既定: 今日)", show_default=False)
]


def _date_or_today(value: str | None) -> date:
    return _date(value) if value else date.today()


def _run_settings(
    database_url: str | None, engine: str | None, scheduler: str | None, workers: int | None
) -> Settings:
    """Settings with the command's engine options over the issuance section."""
    section = {"engine": engine, "scheduler": scheduler, "workers": workers}
    section = {k: v for k, v in section.items() if v is not None}
    return settings_from(database_url, **({"issuance": section} if section else {}))


def _running_total(update: Any) -> Callable[[int], None]:
    """A progress bar's update(count, position) fed with increments."""
    total = 0

    def step(n: int) -> None:
        nonlocal total
        total += n
        update(total, total)

    return step


@contextmanager
def _working(settings: Settings) -> Iterator[Any]:
    """The run's work engine, closed when the block ends. Made before anything else: a
    LocalCluster starts beside the driver's imports and the run's creation."""
    from shikaku.issuance.engine import make_engine

    cfg = settings.issuance
    work = make_engine(str(cfg.engine), cfg.scheduler, cfg.workers)
    try:
        yield work
    finally:
        work.close()


def start_and_execute(
    settings: Settings,
    kind: str,
    day: date,
    issued_on: date,
    after: int | None,
    expiring_before: date | None = None,
) -> int:
    """Create, extract and render a run; print where everything is. Returns the run id."""
    engine = database(settings)
    with _working(settings) as work:
        from shikaku.issuance.runconfig import RunConfig
        from shikaku.issuance.runs import create_run

        config = RunConfig.from_settings(settings)
        output = settings.issuance.output_url or settings.output_dir
        run_id = create_run(engine, config, output, kind, day, issued_on, after, expiring_before)
        out.print(f"実行 R{run_id:06d} を開始しました（{_KIND_JA[kind]}、基準日 {day}）")
        finish_run(settings, engine, run_id, work)
    return run_id


def finish_run(settings: Settings, engine: Any, run_id: int, work: Any) -> None:
    """Whatever is left of a run not yet done, on `work`: extraction, rendering, manifest."""
    from shikaku.issuance.runs import load_config

    run, _config = load_config(engine, run_id)
    seconds = [0.0, 0.0]  # while tasks ran, the driver alone
    if run.status == "extracting":
        _extract(settings, engine, run_id, work, seconds)
    _render(settings, engine, run_id, work, seconds)
    _print_where(engine, run_id)
    out.print(f"  所要時間 (seconds): 並列 {seconds[0]:.1f}・ドライバのみ {seconds[1]:.1f}")


def _extract(settings: Settings, engine: Any, run_id: int, work: Any, seconds: list[float]) -> None:
    from shikaku.issuance.runs import extract_run
    from shikaku.security.mynumber import load_vault

    vault = load_vault(settings.key_file)
    cfg = settings.issuance
    with progress_bar("抽出中", None) as update:
        summary = extract_run(
            engine, run_id, vault, cfg.report_dir, lambda n: update(n, n), work,
            settings.key_file, cfg.extract_employers, cfg.task_notices,
            lambda: out.print("  取込中のため、取込が終わるまで抽出を待ちます (waiting for an import)"),
        )  # fmt: skip
    seconds[0] += summary.parallel_seconds
    seconds[1] += summary.driver_seconds
    out.print(
        f"  抽出: 資格あり {summary.eligible:,} → 対象 {summary.targets:,}"
        f"（保留 {summary.held:,}・除外 {summary.excluded:,}・変更なし {summary.unchanged:,}）"
    )
    if summary.not_needed or summary.holding or summary.returns:
        out.print(
            f"  資格確認書: 不要 {summary.not_needed:,}・有効な確認書あり {summary.holding:,}・"
            f"返却依頼 {summary.returns:,}"
        )
    out.print(f"  区画: 事業所あて {summary.parcels:,}・自宅あて {summary.batches:,}")
    if summary.held_report:
        out.print(f"  保留一覧 (held report): {summary.held_report.resolve()}")


def _render(settings: Settings, engine: Any, run_id: int, work: Any, seconds: list[float]) -> None:
    from shikaku.issuance.runs import execute, load_config

    run, _config = load_config(engine, run_id)
    with progress_bars(("印刷データ作成中", run.targets or None, "通")) as (update,):
        result = execute(
            engine, run_id, work, settings.issuance.task_notices, _running_total(update)
        )
    seconds[0] += result.parallel_seconds
    seconds[1] += result.driver_seconds
    out.print(
        f"  作成: {result.partitions_rendered:,} ファイル・{result.notices_rendered:,} 通・"
        f"{result.pages:,} 頁（{work.name}）"
    )


def _print_where(engine: Any, run_id: int) -> None:
    from shikaku.issuance.extract import CERTIFICATE_KINDS
    from shikaku.issuance.runs import list_runs

    (info,) = list_runs(engine, run_id)
    out.print(f"[bold]実行 {info.label} 完了[/bold] (done)")
    out.print(f"  出力先 (parcels): {info.output_url}/parcels, {info.output_url}/letters")
    out.print(f"  マニフェスト (manifest): {info.output_url}/manifest.csv, manifest.json")
    if info.kind in CERTIFICATE_KINDS:
        out.print(
            f"  返却依頼 (return requests): {info.output_url}/returns.csv, returns.pdf（依頼がある場合）"
        )


@issue_app.command("notices")
def issue_notices(
    extraction_date: Annotated[str, typer.Option(help="抽出日: この日に資格のある全員が対象")],
    issued_on: IssuedOn = None,
    engine: EngineOpt = None,
    scheduler: Scheduler = None,
    workers: Workers = None,
    database_url: DatabaseUrl = None,
) -> None:
    """全件発行: 抽出日に資格のある全員の資格情報のお知らせを事業所ごとの小包に作成します."""
    settings = _run_settings(database_url, engine, scheduler, workers)
    start_and_execute(settings, "full", _date(extraction_date), _date_or_today(issued_on), None)


@issue_app.command("follow-up")
def issue_follow_up(
    after: Annotated[str, typer.Option(help="先行する実行 (R000001)")],
    until: Annotated[str, typer.Option(help="締切日: この日に資格のある人のうち未送付・変更あり")],
    issued_on: IssuedOn = None,
    engine: EngineOpt = None,
    scheduler: Scheduler = None,
    workers: Workers = None,
    database_url: DatabaseUrl = None,
) -> None:
    """追加発行: 先行実行の後に加入した人と、印字内容（記号・番号・氏名・住所など）が変わった人."""
    settings = _run_settings(database_url, engine, scheduler, workers)
    start_and_execute(
        settings, "follow_up", _date(until), _date_or_today(issued_on), _run_id(after)
    )


@issue_app.command("certificates")
def issue_certificates(
    as_of: Annotated[
        str, typer.Option(help="基準日: この日に資格があり、資格確認書が必要で有効なものがない人")
    ],
    issued_on: IssuedOn = None,
    engine: EngineOpt = None,
    scheduler: Scheduler = None,
    workers: Workers = None,
    database_url: DatabaseUrl = None,
) -> None:
    """資格確認書の発行: 基準日に資格確認書が必要（マイナ保険証なし・申請あり）で、有効な確認書を持たない人."""
    settings = _run_settings(database_url, engine, scheduler, workers)
    start_and_execute(settings, "certificates", _date(as_of), _date_or_today(issued_on), None)


@issue_app.command("renewals")
def issue_renewals(
    expiring_before: Annotated[str, typer.Option(help="この日より前に有効期限が来る確認書を更新")],
    as_of: Annotated[
        str | None, typer.Option(help="基準日（資格と必要性の判定日; 既定: 作成日）")
    ] = None,
    issued_on: IssuedOn = None,
    engine: EngineOpt = None,
    scheduler: Scheduler = None,
    workers: Workers = None,
    database_url: DatabaseUrl = None,
) -> None:
    """資格確認書の更新: 有効期限が近い確認書の持ち主のうち、なお必要な人（要配慮者は自動で）."""
    settings = _run_settings(database_url, engine, scheduler, workers)
    issued = _date_or_today(issued_on)
    day = _date(as_of) if as_of else issued
    start_and_execute(settings, "renewals", day, issued, None, _date(expiring_before))


_APPLY_REASONS = "・".join(f"{r.value.replace('_', '-')}（{r.label}）" for r in APPLICATION_REASONS)


@certificates_app.command("apply")
def certificates_apply(
    person: Annotated[str, typer.Argument(help="加入者: 記号-番号-枝番 (例 12345678-1234567-00)")],
    reason: Annotated[str, typer.Option(help=_APPLY_REASONS)],
    on: Annotated[str | None, typer.Option(help="申請日 (既定: 今日)")] = None,
    cap: Annotated[bool, typer.Option(help="限度額適用区分の記載を希望")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """資格確認書の申請を記録します。次の `issue certificates` で交付されます."""
    from shikaku.service.certificates import apply, find_person

    try:
        why = application_reason(reason)
    except DomainError as exc:
        raise typer.BadParameter(exc.ja) from None
    settings = settings_from(database_url)
    engine = database(settings)
    try:
        pid = find_person(engine, person, settings.insurer.number)
        app_id = apply(engine, pid, why, _date_or_today(on), cap)
    except DomainError as exc:
        err.print(f"[red]{exc.ja}[/red] ({exc.en})")
        raise typer.Exit(2) from None
    out.print(f"申請 {app_id} を記録しました: {person}（{why.label}）")


@certificates_app.command("outstanding")
def certificates_outstanding(
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV (UTF-8) で標準出力へ")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """返却を依頼し、まだ返却されていない資格確認書の一覧."""
    import sys

    from rich.table import Table

    from shikaku.security.outputs import csv_writer
    from shikaku.service.certificates import outstanding

    rows = outstanding(database(settings_from(database_url)))
    header = ("資格確認書番号", "記号", "番号", "枝番", "氏名", "有効期限", "資格喪失日",
              "返却依頼日", "依頼先")  # fmt: skip
    values = [
        (str(o.certificate_id), o.symbol, o.number, o.branch, o.name, str(o.valid_until),
         str(o.lost_on), str(o.requested_on), "自宅" if o.delivery == "home" else "事業所")
        for o in rows
    ]  # fmt: skip
    if as_csv:
        writer = csv_writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(values)
        return
    table = Table(*header)
    for v in values:
        table.add_row(*v)
    out.print(table)
    out.print(f"未返却 {len(rows):,} 件 (outstanding)")


@certificates_app.command("returned")
def certificates_returned(
    certificate_id: Annotated[int, typer.Argument(help="資格確認書番号 (outstanding の一覧)")],
    on: Annotated[str, typer.Option(help="返却を受けた日")],
    database_url: DatabaseUrl = None,
) -> None:
    """資格確認書の返却を記録します（その日から無効）."""
    from shikaku.service.certificates import mark_returned

    try:
        mark_returned(database(settings_from(database_url)), certificate_id, _date(on))
    except DomainError as exc:
        err.print(f"[red]{exc.ja}[/red] ({exc.en})")
        raise typer.Exit(2) from None
    out.print(f"資格確認書 {certificate_id} の返却を記録しました（{on}）")


@runs_app.command("list")
def runs_list(database_url: DatabaseUrl = None) -> None:
    """発行実行の一覧（新しい順）."""
    from rich.table import Table

    from shikaku.issuance.runs import list_runs

    table = Table("実行", "種別", "基準日", "状態", "対象", "保留", "区画 (済/全)", "作成")
    for r in list_runs(database(settings_from(database_url))):
        kind = _KIND_JA.get(r.kind, r.kind)
        if r.kind == "follow_up":
            kind = f"追加 (R{r.after_run_id:06d} の後)"
        elif r.kind == "renewals" and r.expiring_before:
            kind = f"更新 ({r.expiring_before} より前に期限)"
        table.add_row(
            r.label, kind, str(r.extraction_date), r.status, f"{r.targets:,}", f"{r.held:,}",
            f"{r.partitions_done:,}/{r.partitions:,}", r.created_at.strftime("%Y-%m-%d %H:%M"),
        )  # fmt: skip
    out.print(table)


@runs_app.command("show")
def runs_show(run: RunArg, database_url: DatabaseUrl = None) -> None:
    """実行の詳細: 件数、出力先、保留された対象者（記号・番号・枝番と理由）."""
    from shikaku.issuance.runs import held_targets, list_runs

    engine = database(settings_from(database_url))
    infos = list_runs(engine, _run_id(run))
    if not infos:
        err.print(f"[red]実行 {run} はありません[/red]")
        raise typer.Exit(1)
    r = infos[0]
    out.print(
        f"実行 {r.label}（{_KIND_JA.get(r.kind, r.kind)}）基準日 {r.extraction_date}・作成日 {r.issued_on}"
    )
    out.print(f"  状態 {r.status}・対象 {r.targets:,}・保留 {r.held:,}")
    out.print(f"  区画 {r.partitions_done:,}/{r.partitions:,} 完了・出力先 {r.output_url}")
    for symbol, number, branch, reason in held_targets(engine, r.id)[:50]:
        out.print(f"  保留 {symbol}-{number}-{branch}: {reason}")


@runs_app.command("resume")
def runs_resume(
    run: RunArg,
    engine: EngineOpt = None,
    scheduler: Scheduler = None,
    workers: Workers = None,
    database_url: DatabaseUrl = None,
) -> None:
    """中断した実行を続けます（kill -9 の後でも）: 済んだ区画はそのまま、残りだけ作成."""
    settings = _run_settings(database_url, engine, scheduler, workers)
    db = database(settings)
    from shikaku.issuance.runs import load_config

    run_id = _run_id(run)
    info, _config = load_config(db, run_id)
    if info.status == "done":
        out.print(f"実行 R{run_id:06d} は完了しています (already done)")
        return
    with _working(settings) as work:
        finish_run(settings, db, run_id, work)


@runs_app.command("verify")
def runs_verify(
    run: RunArg,
    deep: Annotated[bool, typer.Option(help="各文書の管理番号を PDF から読み戻して照合")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """照合: 対象者 = 文書 = 容器内の通数、ファイルのハッシュと頁数、マニフェスト。不一致は exit 1."""
    from shikaku.issuance.verify import verify_run

    engine = database(settings_from(database_url))
    with progress_bar("照合中", None, "通") as update:
        report = verify_run(engine, _run_id(run), deep, _running_total(update))
    out.print(
        f"対象者 {report.targets:,} = 文書 {report.documents:,} = 容器内の通数 "
        f"{report.pieces_in_containers:,}（容器 {report.containers:,}・ファイル {report.files:,}・"
        f"{report.pages:,} 頁・保留 {report.held:,}）"
    )
    if report.ok:
        out.print("[green]照合 OK[/green] (verified)")
        return
    for problem in report.problems:
        err.print(f"[red]不一致[/red] {problem}")
    err.print(f"[red]照合 NG: {report.problem_count:,} 件[/red] (verification failed)")
    raise typer.Exit(1)


def demo_run(
    settings: Settings, engine: Any, kind: str, day: date, issued_on: date, after: int | None
) -> int:
    """The demo's runs, idempotent: a done run of the same kind and date is shown, not redone;
    an unfinished one is resumed."""
    from shikaku.issuance.runs import latest_run

    existing = latest_run(engine, kind, day)
    if existing is None:
        return start_and_execute(settings, kind, day, issued_on, after)
    run_id = existing.id
    if existing.status == "done":
        out.print(f"実行 R{run_id:06d} は作成済みです (already done)")
        _print_where(engine, run_id)
    else:
        out.print(f"実行 R{run_id:06d} を再開します (resuming)")
        with _working(settings) as work:
            finish_run(settings, engine, run_id, work)
    return run_id
