#!/usr/bin/env python
"""Issuance benchmark (issue 3): end-to-end notices/s, render-only pages/s, peak RSS, baselines.

    .venv/bin/python bench/issue_bench.py            # 100k and 1M members, ~15 minutes
    .venv/bin/python bench/issue_bench.py --quick    # 10k and 50k, a smoke run
    .venv/bin/python bench/issue_bench.py --certificates-only [--quick]   # certificate rows

One table goes to stdout, progress to stderr. Everything runs on the same synthetic data
(demo generator, seed 42) imported into fresh SQLite databases:
- end-to-end: `shikaku issue notices` in a child process (extraction, rendering, recording,
  manifest) with a LocalCluster of 1 and of 2 workers; notices/s and per core;
- render-only: the 100k run's parcels rendered in this process into memory, one core;
- certificates: `shikaku issue certificates --as-of 2025-12-02` end to end on the small data
  (2 workers), and that run's files rendered again in this process (one core): cards/s;
- peak RSS of the whole process tree (driver + Dask workers) at 100k and 1M members;
- baselines on a 1,000-notice sample of the same run: (a) reportlab drawing the whole page
  every time, one PDF per person; (b) the notice as an HTML template through WeasyPrint.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import os
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
TARGET_RENDER_PER_CORE = 3000
TARGET_E2E_PER_CORE = 1000
TARGET_BASELINE_RATIO = 20.0
TARGET_RSS_GROWTH = 0.20


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def run_watched(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, str]:
    """Wall seconds, peak RSS of the process tree, stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    stop = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.2)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    stop.set()
    watcher.join()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out}\n{err}")
    return seconds, peak, out


def prepare(workdir: Path, members: int, env: dict[str, str]) -> Path:
    """Demo data of `members` members imported into a fresh SQLite database; its folder."""
    from shikaku.demo import write_demo_files

    folder = workdir / f"m{members}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    log(f"{label(members)}: writing demo data")
    files = write_demo_files(folder / "input", members=members, seed=SEED)
    subprocess.run([SHIKAKU, "db", "upgrade"], env=env, cwd=folder, check=True, capture_output=True)
    for path in (files.employers, files.members):
        log(f"{label(members)}: importing {path.name}")
        subprocess.run(
            [SHIKAKU, "import", str(path)], env=env, cwd=folder, check=True, capture_output=True
        )
    return folder


# What each end-to-end run issues: the command's arguments and the unit of its count.
ISSUE = {
    "notices": ["--extraction-date", "2024-06-07", "--issued-on", "2024-09-09"],
    "certificates": ["--as-of", "2025-12-02", "--issued-on", "2025-12-02"],
}


def e2e(folder: Path, env: dict[str, str], workers: int, what: str = "notices") -> dict[str, Any]:
    """`shikaku issue <what>` in a child process: run id, seconds, pieces issued, peak RSS."""
    log(f"{folder.name}: issue {what}, {workers} worker(s)")
    seconds, peak, out = run_watched(
        [SHIKAKU, "issue", what, *ISSUE[what], "--workers", str(workers)], env, folder
    )
    run_id = int(out.split("実行 R", 1)[1][:6])
    pieces = _targets(folder, run_id)
    log(f"  {pieces:,} {what} in {seconds:.1f} s, peak RSS {peak / MIB:.0f} MiB")
    return {"run_id": run_id, "seconds": seconds, "pieces": pieces, "peak": peak}


def certificate_rows(folder: Path, env: dict[str, str], small: int) -> list[tuple[Any, ...]]:
    cert = e2e(folder, env, 2, "certificates")
    log("certificates render-only, one core")
    c_seconds, c_cards, c_pages, _ = render_only(folder, cert["run_id"])
    e2e_rate = cert["pieces"] / cert["seconds"]
    return [
        ("certificates end-to-end, 2 workers", f"{label(small)} members",
         f"{e2e_rate:,.0f} cards/s", f"{cert['pieces']:,} cards, {cert['seconds']:.1f} s", "",
         None),
        ("certificates render-only, 1 core", f"{c_cards:,} cards",
         f"{c_cards / c_seconds:,.0f} cards/s", f"{c_pages / c_seconds:,.0f} pages/s", "", None),
    ]  # fmt: skip


def _targets(folder: Path, run_id: int) -> int:
    import sqlite3

    with sqlite3.connect(folder / "shikaku.db") as db:
        return int(db.execute("SELECT targets FROM runs WHERE id = ?", (run_id,)).fetchone()[0])


def render_only(folder: Path, run_id: int) -> tuple[float, int, int, list[Any]]:
    """Render the run's documents again in this process, into memory: (s, notices, pages, sample)."""
    from sqlalchemy import select

    from shikaku.issuance.jobs import load_partitions
    from shikaku.issuance.runs import load_config
    from shikaku.issuance.work import renderer_for
    from shikaku.registry.db import make_engine
    from shikaku.registry.tables import run_partitions
    from shikaku.render.model import MailingBatch, Parcel

    engine = make_engine(f"sqlite:///{folder / 'shikaku.db'}")
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
    from shikaku.registry.db import make_engine
    from shikaku.render.model import Container, Employer, Household, Parcel

    engine = make_engine(f"sqlite:///{folder / 'shikaku.db'}")
    _run, config = load_config(engine, run_id)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k and 50k members")
    parser.add_argument("--workdir", type=Path, help="keep the data here (default: a temp dir)")
    parser.add_argument(
        "--certificates-only", action="store_true", help="only the 資格確認書 rows (small data)"
    )
    args = parser.parse_args()
    small, large = (10_000, 50_000) if args.quick else (100_000, 1_000_000)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="shikaku-issue-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("SHIKAKU_MY_NUMBER_KEY", base64.b64encode(os.urandom(64)).decode())
    env["SHIKAKU_CONFIG"] = str(workdir / "none.toml")
    (workdir / "none.toml").write_text("", encoding="utf-8")
    cores = os.cpu_count() or 1

    folder = prepare(workdir, small, env)
    if args.certificates_only:
        _table(certificate_rows(folder, env, small), cores)
        return _done(args, workdir)
    one = e2e(folder, env, 1)
    two = e2e(folder, env, 2)
    log("render-only, one core")
    r_seconds, r_notices, r_pages, sample = render_only(folder, two["run_id"])
    ours_sample = ours_on_sample(folder, two["run_id"], sample)
    base_a, base_b = baselines(sample, workdir)
    cert_rows = certificate_rows(folder, env, small)
    big = prepare(workdir, large, env)
    large_run = e2e(big, env, 2)

    render_rate = r_notices / r_seconds
    e2e1 = one["pieces"] / one["seconds"]
    e2e2 = two["pieces"] / two["seconds"]
    growth = large_run["peak"] / two["peak"] - 1
    rows = [
        ("end-to-end, 1 worker", f"{label(small)} members", f"{e2e1:,.0f} notices/s", "",
         f"≥ {TARGET_E2E_PER_CORE:,}/s per core", e2e1 >= TARGET_E2E_PER_CORE),
        ("end-to-end, 2 workers", f"{label(small)} members", f"{e2e2:,.0f} notices/s",
         f"{e2e2 / 2:,.0f}/s per core", f"≥ {TARGET_E2E_PER_CORE:,}/s per core",
         e2e2 / 2 >= TARGET_E2E_PER_CORE),
        ("end-to-end, 2 workers", f"{label(large)} members",
         f"{large_run['pieces'] / large_run['seconds']:,.0f} notices/s",
         f"{large_run['seconds']:.0f} s", "", None),
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
        ("peak RSS (driver + workers)", f"{label(small)} members", f"{two['peak'] / MIB:,.0f} MiB",
         "", "", None),
        ("peak RSS (driver + workers)", f"{label(large)} members",
         f"{large_run['peak'] / MIB:,.0f} MiB", f"{growth:+.0%} vs {label(small)}",
         f"≤ +{TARGET_RSS_GROWTH:.0%}", growth <= TARGET_RSS_GROWTH),
        *cert_rows,
    ]  # fmt: skip
    _table(rows, cores)
    return _done(args, workdir)


def _table(rows: list[tuple[Any, ...]], cores: int) -> None:
    print(f"\nshikaku issue bench: {cores} cores, SQLite, LocalCluster, seed {SEED}\n")
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
