#!/usr/bin/env python
"""Staff console search at scale (issue 16): a common-name search on a registry of 1M
members must answer in < 200 ms, on SQLite and PostgreSQL.

    .venv/bin/python bench/console_bench.py --sqlite-url sqlite:////path/registry.db \\
        --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/db
    .venv/bin/python bench/console_bench.py --prepare DIR [--members 1000000]

The registries must hold the demo data (`shikaku demo-data --members 1000000 --seed 42`,
imported with `shikaku import`); `--prepare DIR` makes them (demo files, an SQLite file and
a PostgreSQL database `console_bench`, which it drops first): several minutes on 2 cores.

Each case is the search page itself, GET /console?… through the real app in this process
(session, the count, the page of 50 with 事業所 and coverage, the audit row, the template),
as a logged-in operator (`bench_clerk`, added if missing), 3 warm-up requests then 15
timed; the table shows the median and the slowest. The last row is the search as it was
before issue 16 (`name LIKE '%…%'`, no index, no count), timed as one SQL statement.
Progress goes to stderr, one table to stdout.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, literal_column, select, text

ROOT = Path(__file__).resolve().parents[1]
SHIKAKU = str(ROOT / ".venv" / "bin" / "shikaku")
TARGET_MS = 200.0
WARM, RUNS = 3, 15
PASSWORD = "bench clerk password"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def prepare(workdir: Path, members: int, pg_admin: str) -> tuple[str, str]:
    """Demo files, then an SQLite file and a PostgreSQL database with them imported."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("SHIKAKU_MY_NUMBER_KEY", base64.b64encode(os.urandom(64)).decode())
    demo = workdir / "demo"
    if not (demo / "members.csv").exists():
        log(f"demo data: {members:,} members")
        subprocess.run(
            [SHIKAKU, "demo-data", "--members", str(members), "--seed", "42", "--out", str(demo)],
            check=True, env=env,
        )  # fmt: skip
    from sqlalchemy import create_engine

    admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "console_bench" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "console_bench"'))
    pg_url = admin.url.set(database="console_bench").render_as_string(hide_password=False)
    sqlite_path = workdir / "registry.db"
    sqlite_path.unlink(missing_ok=True)
    sqlite_url = f"sqlite:///{sqlite_path}"
    for url in (sqlite_url, pg_url):
        log(f"import into {url}")
        subprocess.run([SHIKAKU, "db", "upgrade", "--database-url", url], check=True, env=env)
        for name in ("employers.csv", "members.csv"):
            subprocess.run(
                [SHIKAKU, "import", str(demo / name), "--database-url", url], check=True, env=env
            )
    return sqlite_url, pg_url


def common_names(engine: Engine) -> dict[str, str]:
    """The most frequent family name (kanji and フリガナ) and full name of the registry."""
    from shikaku.registry.tables import persons

    p = persons.c
    if engine.dialect.name == "postgresql":
        family = func.split_part(p.name, literal_column("'\u3000'"), 1)
        family_kana = func.split_part(p.name_kana, literal_column("'\u3000'"), 1)
    else:
        family = func.substr(p.name, 1, func.instr(p.name, "\u3000") - 1)
        family_kana = func.substr(p.name_kana, 1, func.instr(p.name_kana, "\u3000") - 1)
    with engine.connect() as conn:
        top = conn.execute(
            select(family, family_kana, func.count().label("n"))
            .group_by(family, family_kana)
            .order_by(text("n DESC"))
            .limit(1)
        ).one()
        full = conn.execute(
            select(p.name, func.count().label("n"))
            .where(family == top[0])
            .group_by(p.name)
            .order_by(text("n DESC"))
            .limit(1)
        ).one()
        keys = conn.execute(
            select(p.symbol, p.number, p.birth_date).where(p.name == full[0]).limit(1)
        ).one()
    return {
        "family": str(top[0]),
        "family_kana": str(top[1]),
        "full": str(full[0]),
        "symbol": keys.symbol,
        "number": keys.number,
        "birth": keys.birth_date.isoformat(),
    }


def _hiragana(katakana: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in katakana)


def cases(names: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    spaceless = names["full"].replace("\u3000", "")
    family = names["family"]
    return [
        (f"family name (kanji) {family}, by name", {"name": family}),
        (f"family name (hiragana) {_hiragana(names['family_kana'])}", {"name": _hiragana(names["family_kana"])}),
        ("family name, by 記号・番号", {"name": family, "sort": "keys"}),
        ("family name, by 生年月日", {"name": family, "sort": "birth"}),
        ("family name, page 20", {"name": family, "page_no": "20"}),
        (f"full name without the space {spaceless}", {"name": spaceless}),
        ("full name + 生年月日", {"name": spaceless, "birth_date": names["birth"]}),
        ("記号 + 番号", {"symbol": names["symbol"], "number": names["number"]}),
        ("生年月日 alone (no index: a scan)", {"birth_date": names["birth"]}),
    ]  # fmt: skip


def _client(engine: Engine) -> Any:
    from fastapi.testclient import TestClient

    from shikaku.registry.tables import console_users
    from shikaku.service.accounts import add_user
    from shikaku.settings import load_settings
    from shikaku.web.app import create_app

    with engine.connect() as conn:
        known = conn.execute(
            select(console_users.c.id).where(console_users.c.name == "bench_clerk")
        ).first()
    if known is None:
        add_user(engine, "bench_clerk", PASSWORD, "operator")
    settings = load_settings({}, {"console": {"secure_cookies": False}})
    app = create_app(settings, engine)
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    page = client.get("/console/login")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = client.post(
        "/console/login", data={"name": "bench_clerk", "password": PASSWORD, "csrf": token}
    )
    assert r.status_code == 303, r.text[:300]
    return client


def time_search(client: Any, params: dict[str, str]) -> tuple[int, list[float]]:
    query = {"search": "1", **params}
    hits = 0
    for _ in range(WARM):
        page = client.get("/console", params=query)
        assert page.status_code == 200, page.text[:300]
        marker = page.text.split('<span class="count">', 1)
        hits = int(marker[1].split("件", 1)[0].replace(",", "")) if len(marker) > 1 else 0
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        client.get("/console", params=query)
        times.append((time.perf_counter() - start) * 1000)
    return hits, times


def time_before(engine: Engine, family: str) -> float:
    """The search before issue 16: name LIKE '%…%', first 50 by 記号・番号, no count."""
    from shikaku.registry.tables import persons

    p = persons.c
    query = (
        select(p.id, p.symbol, p.number, p.branch, p.name, p.name_kana, p.birth_date)
        .where(p.name.contains(family, autoescape=True))
        .order_by(p.symbol, p.number, p.branch)
        .limit(50)
    )
    with engine.connect() as conn:
        conn.execute(query).all()
        times = []
        for _ in range(5):
            start = time.perf_counter()
            conn.execute(query).all()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(url: str) -> tuple[dict[str, tuple[int, float, float]], float, dict[str, str], int]:
    from shikaku.registry.db import make_engine
    from shikaku.registry.tables import persons

    engine = make_engine(url)
    with engine.connect() as conn:
        members = int(conn.execute(select(func.count()).select_from(persons)).scalar_one())
    names = common_names(engine)
    log(f"{engine.dialect.name}: {members:,} members, common names {names}")
    client = _client(engine)
    out: dict[str, tuple[int, float, float]] = {}
    for label, params in cases(names):
        hits, times = time_search(client, params)
        out[label] = (hits, statistics.median(times), max(times))
        log(f"  {label}: {hits:,} hits, median {out[label][1]:.1f} ms, max {out[label][2]:.1f} ms")
    before = time_before(engine, names["family"])
    log(f"  before (LIKE '%…%'): {before:.0f} ms")
    client.__exit__(None, None, None)
    engine.dispose()
    return out, before, names, members


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite-url")
    parser.add_argument("--postgres-url")
    parser.add_argument("--prepare", type=Path, help="make the registries in this folder first")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    if args.prepare:
        args.sqlite_url, args.postgres_url = prepare(
            args.prepare, args.members, args.postgres_admin_url
        )
    results = {}
    for name, url in (("SQLite", args.sqlite_url), ("PostgreSQL", args.postgres_url)):
        if url:
            results[name] = measure(url)
    if not results:
        parser.error("give --sqlite-url and/or --postgres-url, or --prepare DIR")
    load = os.getloadavg()[0]
    dbs = list(results)
    counts = " · ".join(f"{db} {results[db][3]:,} members" for db in dbs)
    print(
        f"{os.cpu_count()} CPUs, load {load:.2f} at the end; {counts}; {WARM} warm-up + {RUNS} timed requests each"
    )
    header = ["search (GET /console)", "hits"] + [f"{db} median / max ms" for db in dbs]
    header += ["target ms", "met?"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    first = results[dbs[0]][0]
    for label in first:
        cells = [label, f"{first[label][0]:,}"]
        worst = 0.0
        for db in dbs:
            _hits, median, slowest = results[db][0][label]
            cells.append(f"{median:.0f} / {slowest:.0f}")
            worst = max(worst, median)
        if label.startswith("生年月日 alone"):  # not a name search: shown, not targeted
            cells += ["—", "—"]
        else:
            cells += [f"< {TARGET_MS:.0f}", "yes" if worst < TARGET_MS else "NO"]
        print("| " + " | ".join(cells) + " |")
    before = ["before issue 16: name LIKE '%…%', 50 rows, no count (SQL only)", "—"]
    before += [f"{results[db][1]:.0f}" for db in dbs] + ["", ""]
    print("| " + " | ".join(before) + " |")


if __name__ == "__main__":
    main()
