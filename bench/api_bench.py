#!/usr/bin/env python
"""Clinic API benchmark (issue 4): wrk against `shikaku serve`, 1M members, SQLite and PostgreSQL.

    .venv/bin/python bench/api_bench.py                 # 1M members, both databases
    .venv/bin/python bench/api_bench.py --members 100000 --skip-postgres --duration 10
    .venv/bin/python bench/api_bench.py --check-batch 8 1   # also the loop's batches of 1

For each database: import the demo registry, register a clinic, start `shikaku serve` (one
uvicorn worker: wrk takes the other core), then wrk (Debian package, installed if missing)
posts lookups of random existing members with a valid key, and, on the same server, GETs the
trivial `/v1/health` endpoint as the baseline, the two in alternating rounds (`--rounds`).
With several `--check-batch` values the server is started once per value on the same
registry (`api.check_batch`: the most checks the loop sends its checker process at once; the
child still takes every batch waiting together). One table to stdout: the mean rate of the
rounds, the median p50, the worst p99.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHIKAKU = str(ROOT / ".venv" / "bin" / "shikaku")
SEED = 42
SAMPLE = 20_000
WARM_UP = 6  # seconds of lookups before measuring: the 20,000 members of the sample once
TARGET_RATE = 2000
TARGET_P99_MS = 10.0  # issue 19
TARGET_BASELINE_SHARE = 0.55  # issue 19
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(*args: str, env: dict[str, str], cwd: Path) -> str:
    out = subprocess.run([SHIKAKU, *args], env=env, cwd=cwd, capture_output=True, text=True)
    if out.returncode not in (0, 3):
        raise SystemExit(f"shikaku {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def members_sample(url: str) -> list[dict[str, str]]:
    from sqlalchemy import select

    from shikaku.registry.db import make_engine
    from shikaku.registry.tables import persons

    engine = make_engine(url)
    p = persons.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(p.insurer_number, p.symbol, p.number, p.branch, p.birth_date)
            .order_by(p.id)
            .limit(SAMPLE * 5)
        ).all()
    random.Random(SEED).shuffle(rows)
    return [
        {
            "insurer_number": r.insurer_number,
            "symbol": r.symbol,
            "number": r.number,
            "branch": r.branch,
            "birth_date": r.birth_date.isoformat(),
            "service_date": "2024-12-02",
        }
        for r in rows[:SAMPLE]
    ]


LUA = r"""
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "/v1/eligibility",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(key)s"}, bodies[i])
end
"""


def cpu_seconds(group: int) -> float:
    """User + system CPU time so far of the processes of one process group (Linux /proc): the
    server with its children (the checker process, uvicorn's processes), whose CPU the serving
    process's own time would leave out. PostgreSQL's backends are not in it."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[2]) == group:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def settle_writes(admin: Any | None) -> None:
    """The import's writes reach the disk before the API is measured, so that the import's
    checkpoint (PostgreSQL: `admin`, any connection to the cluster) and writeback are not
    timed as the lookups' (the audit commits fsync). The time it took is logged: near 0 s,
    nothing was pending."""
    started = time.monotonic()
    if admin is not None:
        from sqlalchemy import text

        with admin.connect() as conn:
            conn.execute(text("CHECKPOINT"))
    os.sync()
    log(f"the import's writes on disk after {time.monotonic() - started:.1f} s")


def wrk(
    url: str, duration: int, connections: int, script: Path | None, server: int | None = None
) -> dict[str, float]:
    """One wrk run; with `server` (the server's process group), also its CPU time per request:
    steadier than the rate on a VM whose speed drifts, and it shows whether the server was
    busy or waiting (CPU per request × rate = the cores it used)."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    before = cpu_seconds(server) if server is not None else None
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(server) - before if server is not None and before is not None else None
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rate": rate,
        "p50": pct("50"),
        "p99": pct("99"),
        "non2xx": float(errors.group(1)) if errors else 0.0,
        "cpu_us": used / done * 1e6 if used is not None and done else float("nan"),
    }


def combine(runs: list[dict[str, float]]) -> dict[str, float]:
    """Rounds of equal length as one: the mean rate, the median p50, the worst p99."""
    p50s = sorted(r["p50"] for r in runs)
    return {
        "rate": sum(r["rate"] for r in runs) / len(runs),
        "p50": p50s[len(p50s) // 2],
        "p99": max(r["p99"] for r in runs),
        "non2xx": sum(r["non2xx"] for r in runs),
        "cpu_us": sum(r["cpu_us"] for r in runs) / len(runs),
    }


def lookup_script(env: dict[str, str], cwd: Path, url: str) -> Path:
    """wrk's script: a clinic's key and the sample's bodies."""
    out = run("clinics", "add", "0110113719", "ベンチ診療所", env=env, cwd=cwd)
    key = re.search(r"(sk_[A-Za-z0-9_\-]+)", out).group(1)  # type: ignore[union-attr]
    bodies = cwd / "bodies.jsonl"
    bodies.write_text(
        "\n".join(json.dumps(b) for b in members_sample(url)) + "\n", encoding="utf-8"
    )
    script = cwd / "lookup.lua"
    script.write_text(LUA % {"bodies": bodies, "key": key}, encoding="utf-8")
    return script


def serve_and_measure(
    name: str,
    env: dict[str, str],
    cwd: Path,
    script: Path,
    duration: int,
    connections: int,
    processes: int,
    rounds: int,
) -> list[tuple[Any, ...]]:
    port = free_port()
    server = subprocess.Popen(
        [SHIKAKU, "serve", "--port", str(port), "--processes", str(processes)],
        env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        time.sleep(1.0 * processes)
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        # Warm up both: the sample's pages into the caches (measured cold, right after the
        # import, a run read the disk: this VM reclaims page cache it judges idle).
        log(f"{name}: warm-up, {WARM_UP} s")
        wrk(base + "/v1/health", 2, connections, None)
        wrk(base + "/v1/eligibility", WARM_UP, connections, script)
        pid = server.pid  # the group's id: started in a session of its own
        # Lookups and baseline take turns, so a slow spell of the machine (a shared VM varies
        # by ±15 % over minutes) weighs on both alike.
        part = max(1, duration // rounds)
        runs: dict[str, list[dict[str, float]]] = {"lookups": [], "baseline": []}
        for i in range(rounds):
            log(f"{name}: round {i + 1}/{rounds}: wrk lookups {part} s, baseline {part} s")
            runs["lookups"].append(wrk(base + "/v1/eligibility", part, connections, script, pid))
            runs["baseline"].append(wrk(base + "/v1/health", part, connections, None, pid))
        lookups, baseline = combine(runs["lookups"]), combine(runs["baseline"])
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    share = lookups["rate"] / baseline["rate"]
    return [
        (name, "POST /v1/eligibility", lookups, share),
        (name, "GET /v1/health (baseline)", baseline, None),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--rounds", type=int, default=2, help="turns of lookups and baseline within --duration"
    )
    parser.add_argument("--processes", type=int, default=1, help="uvicorn processes")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--check-batch", type=int, nargs="+", default=[8], help="api.check_batch values to serve"
    )
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    subprocess.run([str(ROOT / "scripts" / "system-packages"), "wrk"], check=True)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="shikaku-api-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["SHIKAKU_MY_NUMBER_KEY"] = base64.b64encode(os.urandom(64)).decode()
    env["SHIKAKU_CONFIG"] = str(workdir / "none.toml")
    env["SHIKAKU_API__RATE_LIMIT_PER_SECOND"] = "1000000"
    env["SHIKAKU_API__RATE_LIMIT_BURST"] = "1000000"
    (workdir / "none.toml").write_text("", encoding="utf-8")
    from shikaku.demo import write_demo_files

    log(f"writing demo data: {args.members:,} members")
    files = write_demo_files(workdir / "input", members=args.members, seed=SEED)
    rows: list[tuple[Any, ...]] = []
    targets = [("SQLite", None)]
    if not args.skip_postgres:
        targets.append(("PostgreSQL", f"shikaku_api_bench_{os.getpid()}"))
    admin: Any = None  # PostgreSQL's administrative engine, once it is the target
    for name, pg_db in targets:
        cwd = workdir / name.lower()
        cwd.mkdir(exist_ok=True)
        db_env = dict(env)
        if pg_db is None:
            for stale in cwd.glob("shikaku.db*"):  # a reused --workdir starts afresh
                stale.unlink()
            url = f"sqlite:///{cwd / 'shikaku.db'}"
        else:
            from sqlalchemy import create_engine, text

            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {pg_db}"))
                conn.execute(text(f"CREATE DATABASE {pg_db}"))
            url = PG_ADMIN.rsplit("/", 1)[0] + "/" + pg_db
        db_env["SHIKAKU_DATABASE_URL"] = url
        run("db", "upgrade", env=db_env, cwd=cwd)
        for path in (files.employers, files.members):
            log(f"{name}: importing {path.name}")
            run("import", str(path), env=db_env, cwd=cwd)
        settle_writes(admin)
        script = lookup_script(db_env, cwd, url)
        for batch in args.check_batch:
            label = name if len(args.check_batch) == 1 else f"{name} b{batch}"
            serve_env = {**db_env, "SHIKAKU_API__CHECK_BATCH": str(batch)}
            rows += serve_and_measure(
                label, serve_env, cwd, script, args.duration, args.connections, args.processes,
                args.rounds,
            )  # fmt: skip
        if pg_db is not None:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"))
    print(f"\nshikaku api bench: {os.cpu_count()} cores, {args.members:,} members, wrk -t1 "
          f"-c{args.connections}, {args.duration} s per endpoint in {args.rounds} alternating "
          f"rounds, {args.processes} uvicorn process(es)\n")  # fmt: skip
    print(
        "database       | endpoint                  | req/s  | p50 ms | p99 ms | vs baseline "
        "| non-2xx | server CPU µs/req | met"
    )
    print("-" * 124)
    for name, endpoint, m, share in rows:
        met = ""
        if share is not None:
            ok = (
                m["rate"] >= TARGET_RATE
                and m["p99"] < TARGET_P99_MS
                and share >= TARGET_BASELINE_SHARE
            )
            met = "yes" if ok else "NO"
        share_text = f"{share:.0%}" if share is not None else ""
        print(
            f"{name:<14} | {endpoint:<25} | {m['rate']:>6,.0f} | {m['p50']:>6.2f} | {m['p99']:>6.2f} "
            f"| {share_text:>11} | {m['non2xx']:>7,.0f} | {m['cpu_us']:>17,.0f} | {met}"
        )
    print(f"\ntargets: ≥ {TARGET_RATE:,} lookups/s, p99 < {TARGET_P99_MS:.0f} ms, ≥ "
          f"{TARGET_BASELINE_SHARE:.0%} of the baseline's rate")  # fmt: skip
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
