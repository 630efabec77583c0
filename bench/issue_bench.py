#!/usr/bin/env python
"""Issuance benchmark (issues 3 and 18): notices/s per worker, driver-only time, driver memory,
render-only speed, the two baselines, and a model of a national run.

    .venv/bin/python bench/issue_bench.py                 # 100k and 1M members, ~45 minutes
    .venv/bin/python bench/issue_bench.py --quick         # 10k and 50k, a smoke run
    .venv/bin/python bench/issue_bench.py --skip-postgres # no PostgreSQL server at hand
    .venv/bin/python bench/issue_bench.py --certificates-only [--quick]   # certificate rows

One table goes to stdout, progress to stderr. Everything runs on the same synthetic data
(demo generator, seed 42) imported with the real importer (not timed); each registry is
imported once and every run of its size uses it (the run before is forgotten: ledger rows and
files deleted, so each run starts from the same registry):
- end-to-end: `shikaku issue notices` in a child process with a LocalCluster of 1 and of 2
  workers, at 100k (SQLite) and 1M members (SQLite and PostgreSQL); notices/s per worker,
  the seconds no task ran (driver-only: wall time minus the run's parallel phases, as the
  command prints them) and their share; the peak RSS of the driver process alone;
- `shikaku issue certificates` at 100k and 1M (SQLite, 2 workers): cards/s, driver RSS;
- render-only: the 100k run's parcels rendered again in this process into memory, one core;
- baselines on a 1,000-notice sample of the same run: (a) reportlab drawing the whole page
  every time, one PDF per person; (b) the notice as an HTML template through WeasyPrint;
- a model of 39.7M members on 16 cores and on 10 × 16, from the PostgreSQL 1M run's parts.
See bench/README.md for what each row measures.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
SHIKAKU = str(ROOT / ".venv" / "bin" / "shikaku")

SEED = 42
MIB = 1024 * 1024
SAMPLE = 1000
NATION = 39_700_000  # 協会けんぽ's members (DOMAIN.md)
NODE_CORES = 16
NODES = 10
DB_CORES = 16  # the model's PostgreSQL server, a machine of its own
TARGET_RENDER_PER_CORE = 3000
TARGET_PER_WORKER = 2500  # notices/s per worker, all-in (issue 18)
TARGET_DRIVER_SHARE = 0.03
TARGET_DRIVER_RSS = 0.10  # driver RSS at 1M within 10 % of 100k
TARGET_ONE_NODE_MIN = 15
TARGET_CLUSTER_MIN = 3
TARGET_BASELINE_RATIO = 20.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def _rss(pid: int, tree: bool) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)] if tree else [proc]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


class BackendCpu:
    """CPU seconds of the PostgreSQL backends serving one database, read from /proc while
    they live (each backend's last reading counts; polled every 0.5 s)."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.seen: dict[int, float] = {}

    def poll(self) -> None:
        if self.url is None:
            return
        with contextlib.suppress(Exception):
            for pid in self._conn.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            ).scalars():
                with contextlib.suppress(OSError):
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    self.seen[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK

    def __enter__(self) -> BackendCpu:
        if self.url is not None:
            from sqlalchemy import create_engine

            self._engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
            self._conn = self._engine.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.url is not None:
            self._conn.close()
            self._engine.dispose()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def run_watched(
    cmd: list[str], env: dict[str, str], cwd: Path, db_url: str | None = None
) -> dict[str, Any]:
    """Wall seconds, peak RSS of the driver and of the process tree, the PostgreSQL backends'
    CPU, stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = {"tree": 0, "driver": 0}
    stop = threading.Event()
    with BackendCpu(db_url) as backends:

        def poll() -> None:
            ticks = 0
            while not stop.is_set():
                peak["tree"] = max(peak["tree"], _rss(proc.pid, tree=True))
                peak["driver"] = max(peak["driver"], _rss(proc.pid, tree=False))
                if ticks % 3 == 0:
                    backends.poll()
                ticks += 1
                time.sleep(0.15)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        out, err = proc.communicate()
        stop.set()
        watcher.join()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out}\n{err}")
    return {"seconds": seconds, "peak": peak["tree"], "driver_peak": peak["driver"],
            "db_cpu": backends.seconds, "out": out}  # fmt: skip


def prepare(workdir: Path, members: int, env: dict[str, str]) -> Path:
    """Demo data of `members` members imported into a fresh SQLite database; its folder."""
    from shikaku.demo import write_demo_files

    folder = workdir / f"m{members}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    log(f"{label(members)}: writing demo data")
    write_demo_files(folder / "input", members=members, seed=SEED)
    import_into(folder, env, None)
    return folder


def import_into(folder: Path, env: dict[str, str], db_url: str | None) -> None:
    database = [] if db_url is None else ["--database-url", db_url]
    subprocess.run(
        [SHIKAKU, "db", "upgrade", *database], env=env, cwd=folder, check=True,
        capture_output=True,
    )  # fmt: skip
    for name in ("employers.csv", "members.csv"):
        log(f"{folder.name}: importing {name} into {'PostgreSQL' if db_url else 'SQLite'}")
        subprocess.run(
            [SHIKAKU, "import", str(folder / "input" / name), *database],
            env=env, cwd=folder, check=True, capture_output=True,
        )  # fmt: skip


# What each end-to-end run issues: the command's arguments and the unit of its count.
ISSUE = {
    "notices": ["--extraction-date", "2024-06-07", "--issued-on", "2024-09-09"],
    "certificates": ["--as-of", "2025-12-02", "--issued-on", "2025-12-02"],
}
_SECONDS = re.compile(r"並列 ([\d.]+)・ドライバのみ ([\d.]+)")


def e2e(
    folder: Path,
    env: dict[str, str],
    workers: int,
    what: str = "notices",
    db_url: str | None = None,
) -> dict[str, Any]:
    """`shikaku issue <what>` in a child process: run id, seconds, pieces, memory, where the
    time went (the command's own account of its parallel phases and driver work)."""
    where = "PostgreSQL" if db_url else "SQLite"
    log(f"{folder.name}: issue {what}, {workers} worker(s), {where}")
    database = [] if db_url is None else ["--database-url", db_url]
    r = run_watched(
        [SHIKAKU, "issue", what, *ISSUE[what], "--workers", str(workers), *database],
        env, folder, db_url,
    )  # fmt: skip
    out = r.pop("out")
    r["run_id"] = int(out.split("実行 R", 1)[1][:6])
    parallel, driver = map(float, _SECONDS.findall(out)[-1])
    r["parallel"], r["driver_work"] = parallel, driver
    r["driver_only"] = r["seconds"] - parallel  # process and cluster start/stop included
    r["pieces"] = _targets(folder, db_url, r["run_id"])
    r["workers"], r["db_url"], r["folder"] = workers, db_url, folder
    log(
        f"  {r['pieces']:,} {what} in {r['seconds']:.1f} s (parallel {parallel:.1f} s, "
        f"driver-only {r['driver_only']:.1f} s of which driver work {driver:.1f} s); driver "
        f"RSS {r['driver_peak'] / MIB:.0f} MiB, tree {r['peak'] / MIB:.0f} MiB"
        + (f"; PostgreSQL backends {r['db_cpu']:.1f} CPU-s" if db_url else "")
    )
    return r


def _engine(folder: Path, db_url: str | None) -> Any:
    from shikaku.registry.db import make_engine

    return make_engine(db_url or f"sqlite:///{folder / 'shikaku.db'}")


def _targets(folder: Path, db_url: str | None, run_id: int) -> int:
    from sqlalchemy import select

    from shikaku.registry.tables import runs

    engine = _engine(folder, db_url)
    with engine.connect() as conn:
        n = conn.execute(select(runs.c.targets).where(runs.c.id == run_id)).scalar_one()
    engine.dispose()
    return int(n)


def forget(run: dict[str, Any]) -> None:
    """Delete a measured run's ledger rows and files: the next run starts from the same
    registry (and the disk does not fill: a 1M run writes about 9 GB)."""
    from sqlalchemy import select

    from shikaku.registry.db import write_transaction
    from shikaku.registry.tables import (
        certificate_returns,
        certificates,
        run_containers,
        run_extract_tasks,
        run_letters,
        run_partitions,
        run_targets,
        runs,
    )

    engine = _engine(run["folder"], run["db_url"])
    run_id = run["run_id"]
    with engine.connect() as conn:
        output = conn.execute(select(runs.c.output_url).where(runs.c.id == run_id)).scalar_one()
    # checked_references: SQLite would look up each deleted certificate in the unindexed
    # superseded_by of every other (a few hours for 330k certificates); nothing refers to them
    with write_transaction(engine, checked_references=True) as conn:
        for table in (certificates, run_containers, run_targets, run_partitions, run_letters,
                      run_extract_tasks):  # fmt: skip
            conn.execute(table.delete().where(table.c.run_id == run_id))
        conn.execute(
            certificate_returns.delete().where(certificate_returns.c.notified_run_id == run_id)
        )
        conn.execute(runs.delete().where(runs.c.id == run_id))
    engine.dispose()
    shutil.rmtree(output, ignore_errors=True)


def render_only(folder: Path, run_id: int) -> tuple[float, int, int, list[Any]]:
    """Render the run's documents again in this process, into memory: (s, notices, pages, sample)."""
    from sqlalchemy import select

    from shikaku.issuance.jobs import load_partitions
    from shikaku.issuance.runs import load_config
    from shikaku.issuance.work import renderer_for
    from shikaku.registry.tables import run_partitions
    from shikaku.render.model import MailingBatch, Parcel

    engine = _engine(folder, None)
    _run, config = load_config(engine, run_id)
    with engine.connect() as conn:
        numbers = conn.execute(
            select(run_partitions.c.partition_no).where(run_partitions.c.run_id == run_id)
        ).scalars()
        docs = [w.document for w in load_partitions(conn, run_id, list(numbers), config)]
    renderer = renderer_for(config)
    sample: list[Any] = []
    for d in docs:
        if isinstance(d, Parcel):
            sample.extend(n for h in d.households for n in h.notices)
        if len(sample) >= SAMPLE:
            break
    warm = docs[0]  # parse fonts, draw templates
    if isinstance(warm, Parcel):
        renderer.render_parcel(warm, io.BytesIO())
    else:
        renderer.render_batch(warm, io.BytesIO())
    notices = pages = 0
    start = time.perf_counter()
    for d in docs:
        sink = io.BytesIO()
        if isinstance(d, MailingBatch):
            r = renderer.render_batch(d, sink)
            notices += len(d.notices)
        else:
            r = renderer.render_parcel(d, sink)
            notices += sum(len(h.notices) for h in d.households)
        pages += r.pages
    return time.perf_counter() - start, notices, pages, sample[:SAMPLE]


def ours_on_sample(folder: Path, run_id: int, sample: list[Any]) -> float:
    """The same 1,000 notices through our renderer, as parcels of 20: notices/s."""
    from shikaku.domain.packing import pack_households
    from shikaku.issuance.runs import load_config
    from shikaku.issuance.work import renderer_for
    from shikaku.render.model import Container, Employer, Household, Parcel

    _run, config = load_config(_engine(folder, None), run_id)
    renderer = renderer_for(config)
    start = time.perf_counter()
    for i in range(0, len(sample), 20):
        chunk = sample[i : i + 20]
        plan = pack_households([1] * len(chunk), 30, 500)
        parcel = Parcel(
            "R000000", i, date(2024, 9, 9), date(2024, 6, 7),
            Employer("00000000", "サンプル株式会社", "1000013", "東京都千代田区霞が関1丁目3-2", None),
            tuple(Household((n,)) for n in chunk),
            tuple(Container(c.kind, k, len(plan), c.first_piece, c.last_piece, None)
                  for k, c in enumerate(plan, 1)),
        )  # fmt: skip
        renderer.render_parcel(parcel, io.BytesIO())
    return len(sample) / (time.perf_counter() - start)


def baselines(sample: list[Any], workdir: Path) -> tuple[float, float]:
    from baselines import reportlab_files, weasyprint_file

    log(f"baseline (a): reportlab, {len(sample)} files")
    start = time.perf_counter()
    reportlab_files(sample, workdir / "baseline-reportlab", "全国健康保険協会 東京支部")
    a = len(sample) / (time.perf_counter() - start)
    log(f"baseline (b): WeasyPrint, {len(sample)} pages")
    start = time.perf_counter()
    weasyprint_file(sample, workdir / "baseline-weasyprint.pdf", "全国健康保険協会 東京支部")
    b = len(sample) / (time.perf_counter() - start)
    return a, b


Row = tuple[str, str, str, str, str, bool | None]


def certificate_rows(cert: dict[str, Any], c_render: tuple[float, int, int]) -> list[Row]:
    c_seconds, c_cards, c_pages = c_render
    size = label(cert["members"])
    return [
        ("certificates end-to-end, 2 workers", f"{size} members, SQLite",
         f"{cert['pieces'] / cert['seconds']:,.0f} cards/s",
         f"{cert['pieces']:,} cards, {cert['seconds']:.1f} s", "", None),
        ("certificates render-only, 1 core", f"{c_cards:,} cards",
         f"{c_cards / c_seconds:,.0f} cards/s", f"{c_pages / c_seconds:,.0f} pages/s", "", None),
    ]  # fmt: skip


def run_rows(r: dict[str, Any], size: str) -> list[Row]:
    """A 1M run: per-worker rate (target), driver-only seconds and share (target)."""
    where = "PostgreSQL" if r["db_url"] else "SQLite"
    w = r["workers"]
    per_worker = r["pieces"] / r["seconds"] / w
    share = r["driver_only"] / r["seconds"]
    fixed = r["driver_only"] - r["driver_work"]
    return [
        (f"end-to-end, {w} worker{'s' if w > 1 else ''}", f"{size} members, {where}",
         f"{per_worker:,.0f} notices/s per worker",
         f"{r['pieces']:,} notices in {r['seconds']:.0f} s", f"≥ {TARGET_PER_WORKER:,}/s",
         per_worker >= TARGET_PER_WORKER),
        (f"  driver-only, {w} worker{'s' if w > 1 else ''}", f"{size} members, {where}",
         f"{r['driver_only']:.1f} s = {share:.1%} of wall",
         f"driver work {r['driver_work']:.1f} s + start/stop {fixed:.1f} s",
         f"≤ {TARGET_DRIVER_SHARE:.0%}", share <= TARGET_DRIVER_SHARE),
    ]  # fmt: skip


def rss_row(kind: str, small: dict[str, Any], large: dict[str, Any]) -> Row:
    growth = large["driver_peak"] / small["driver_peak"] - 1
    return (
        f"driver peak RSS, {kind}", f"{label(small['members'])} → {label(large['members'])}",
        f"{small['driver_peak'] / MIB:,.0f} → {large['driver_peak'] / MIB:,.0f} MiB",
        f"{growth:+.1%}", f"within ±{TARGET_DRIVER_RSS:.0%}", abs(growth) <= TARGET_DRIVER_RSS,
    )  # fmt: skip


def model_rows(r: dict[str, Any], members: int) -> list[Row]:
    """39.7M members from the measured parts of one run (members in its registry):
    wall = start/stop (fixed) + driver work × scale + max(worker-seconds × scale / workers,
    database CPU × scale / DB_CORES)."""
    scale = NATION / members
    fixed = r["driver_only"] - r["driver_work"]
    serial = r["driver_work"] * scale
    worker_s = r["parallel"] * r["workers"] * scale
    db_s = r["db_cpu"] * scale
    rows: list[Row] = []
    for name, cores, target in (
        (f"{NODE_CORES} cores", NODE_CORES, TARGET_ONE_NODE_MIN),
        (f"{NODES} × {NODE_CORES} cores", NODES * NODE_CORES, TARGET_CLUSTER_MIN),
    ):
        parallel = max(worker_s / cores, db_s / DB_CORES)
        minutes = (fixed + serial + parallel) / 60
        bound = "database" if db_s / DB_CORES > worker_s / cores else "workers"
        rows.append(
            (f"model: 39.7M members, {name}", f"from {label(members)}, {r['workers']} workers",
             f"{minutes:,.1f} min",
             f"{fixed:.0f} s + {serial:.0f} s + {parallel:.0f} s ({bound})",
             f"≤ {target} min", minutes <= target)
        )  # fmt: skip
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k and 50k members")
    parser.add_argument("--workdir", type=Path, help="keep the data here (default: a temp dir)")
    parser.add_argument(
        "--certificates-only", action="store_true", help="only the 資格確認書 rows (small data)"
    )
    parser.add_argument("--skip-postgres", action="store_true", help="no PostgreSQL runs")
    parser.add_argument(
        "--postgres-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="where to create (and at the end drop) the benchmark's database",
    )  # fmt: skip
    args = parser.parse_args()
    small, large = (10_000, 50_000) if args.quick else (100_000, 1_000_000)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="shikaku-issue-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("SHIKAKU_MY_NUMBER_KEY", base64.b64encode(os.urandom(64)).decode())
    env["SHIKAKU_CONFIG"] = str(workdir / "none.toml")
    (workdir / "none.toml").write_text("", encoding="utf-8")
    from import_bench import Postgres, machine_facts

    pg = None if args.skip_postgres else Postgres(args.postgres_admin_url)
    facts = machine_facts(pg.version if pg else None)
    try:
        rows = measure(args, workdir, env, small, large, pg)
    finally:
        if pg is not None:
            pg.close()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    _table(rows, f"{facts}; load avg at the end {load}")
    return _done(args, workdir)


def measure(
    args: Any, workdir: Path, env: dict[str, str], small: int, large: int, pg: Any
) -> list[Row]:
    folder = prepare(workdir, small, env)
    cert = e2e(folder, env, 2, "certificates")
    cert["members"] = small
    log("certificates render-only, one core")
    c_seconds, c_cards, c_pages, _ = render_only(folder, cert["run_id"])
    cert_rows = certificate_rows(cert, (c_seconds, c_cards, c_pages))
    if args.certificates_only:
        return cert_rows
    one = e2e(folder, env, 1)
    two = e2e(folder, env, 2)
    two["members"] = small
    log("render-only, one core")
    r_seconds, r_notices, r_pages, sample = render_only(folder, two["run_id"])
    ours_sample = ours_on_sample(folder, two["run_id"], sample)
    base_a, base_b = baselines(sample, workdir)
    for run in (cert, one):
        forget(run)

    big = prepare(workdir, large, env)
    big_runs = []
    for workers in (1, 2):
        run = e2e(big, env, workers)
        big_runs.append(run)
        forget(run)
    big_runs[-1]["members"] = large
    big_cert = e2e(big, env, 2, "certificates")
    big_cert["members"] = large
    forget(big_cert)
    pg_runs = []
    if pg is not None:
        url = pg.create()
        import_into(big, env, url)
        for workers in (1, 2):
            run = e2e(big, env, workers, db_url=url)
            pg_runs.append(run)
            forget(run)

    render_rate = r_notices / r_seconds
    growth = big_runs[-1]["peak"] / two["peak"] - 1
    rows: list[Row] = [
        ("end-to-end, 1 worker", f"{label(small)} members, SQLite",
         f"{one['pieces'] / one['seconds']:,.0f} notices/s", "", "", None),
        ("end-to-end, 2 workers", f"{label(small)} members, SQLite",
         f"{two['pieces'] / two['seconds']:,.0f} notices/s",
         f"{two['pieces'] / two['seconds'] / 2:,.0f}/s per worker", "", None),
    ]  # fmt: skip
    for run in big_runs + pg_runs:
        rows.extend(run_rows(run, label(large)))
    for run in pg_runs:
        rows.append(
            (f"  PostgreSQL backends' CPU, {run['workers']} worker(s)", f"{label(large)} members",
             f"{run['db_cpu']:.0f} CPU-s",
             f"{run['db_cpu'] / run['pieces'] * 1e6:,.0f} µs/notice", "", None)
        )  # fmt: skip
    rows += [
        rss_row("notices", two, big_runs[-1]),
        rss_row("certificates", cert, big_cert),
        ("peak RSS (driver + workers)", f"{label(small)} → {label(large)}",
         f"{two['peak'] / MIB:,.0f} → {big_runs[-1]['peak'] / MIB:,.0f} MiB", f"{growth:+.0%}",
         "≤ +20%", growth <= 0.20),
        *model_rows(pg_runs[-1] if pg_runs else big_runs[-1], large),
        ("render-only, 1 core", f"{r_notices:,} notices", f"{render_rate:,.0f} notices/s",
         f"{r_pages / r_seconds:,.0f} pages/s", f"≥ {TARGET_RENDER_PER_CORE:,}/s per core",
         render_rate >= TARGET_RENDER_PER_CORE),
        ("ours on the sample", f"{len(sample):,} notices", f"{ours_sample:,.0f} notices/s",
         "", "", None),
        ("(a) reportlab, file per person", f"{len(sample):,} notices", f"{base_a:,.1f} notices/s",
         f"ours {ours_sample / base_a:,.1f}×", f"≥ {TARGET_BASELINE_RATIO:.0f}×",
         ours_sample / base_a >= TARGET_BASELINE_RATIO),
        ("(b) WeasyPrint, one file", f"{len(sample):,} notices", f"{base_b:,.1f} notices/s",
         f"ours {ours_sample / base_b:,.0f}×", "", None),
        *cert_rows,
    ]  # fmt: skip
    return rows


def _table(rows: list[Row], facts: str) -> None:
    print(f"\nshikaku issue bench: seed {SEED}, LocalCluster\n{facts}\n")
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    head = ("measure", "data", "ours", "also", "target")
    widths = [max(w, len(h)) for w, h in zip(widths, head, strict=True)]
    line = " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " | met"
    print(line)
    print("-" * len(line))
    for r in rows:
        met = "" if r[5] is None else ("yes" if r[5] else "NO")
        print(" | ".join(str(v).ljust(w) for v, w in zip(r[:5], widths, strict=True)) + f" | {met}")


def _done(args: Any, workdir: Path) -> int:
    print(f"\ndata and runs kept in {workdir}" if args.workdir else "")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
