#!/usr/bin/env python
"""Import benchmark: rows/s into SQLite and PostgreSQL, peak RSS, and a naive ORM baseline.

    .venv/bin/python bench/import_bench.py            # 1M members, ~3 minutes on 2 cores
    .venv/bin/python bench/import_bench.py --quick    # 100k / 10k / 2k smoke run

Progress goes to stderr; one table goes to stdout. See bench/README.md for what each number
means. Every import runs in a fresh child process (this file with `--child`), so its peak RSS
is its own; the parent polls the child's process tree for the parser process's peak.

The importer's parser is a plain child process of the importer (registry.parserproc).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import gc
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEED = 42
INSURER = "01130012"  # the demo data's default 保険者番号
INSURED_BRANCH = "00"
BATCH_SIZE = 5000
KEY_ENV = "SHIKAKU_MY_NUMBER_KEY"
WORKERS_ENV = "IMPORT_BENCH_WORKERS"  # --import-workers, handed to the measuring children
POLL_SECONDS = 0.25
MIB = 1024 * 1024

TARGET_SQLITE_ROWS_S = 50_000
TARGET_RATIO = 10.0
TARGET_RSS_GROWTH_MIB = 100.0


# ----------------------------------------------------------------------------- small helpers


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def count_label(n: int) -> str:
    """1000000 → 1M, 100000 → 100k, 12345 → 12,345."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


def read_hwm_kib(pid: int) -> int | None:
    """Peak resident set (VmHWM) of a live process, in KiB; None when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    except OSError:
        pass
    try:  # no /proc (not Linux): current RSS; polling then only approximates the peak
        import psutil

        return int(psutil.Process(pid).memory_info().rss // 1024)
    except Exception:
        return None


def reset_hwm() -> bool:
    """Linux: writing 5 to clear_refs resets VmHWM to the current RSS."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def self_peak_kib() -> int:
    value = read_hwm_kib(os.getpid())
    if value is not None:
        return value
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def emit(**event: Any) -> None:
    """A child's message to the parent: one JSON line on stdout."""
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def prefix_file(src: Path, dst: Path, rows: int) -> Path:
    """The header and the first `rows` data rows (the demo files hold one row per line)."""
    if dst.is_file() and sum(1 for _ in dst.open("rb")) == rows + 1:
        return dst
    with src.open("rb") as fin, dst.open("wb") as fout:
        for i, line in enumerate(fin):
            if i > rows:
                break
            fout.write(line)
    return dst


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def make_schema(url: str) -> None:
    from shikaku.registry.db import make_engine, upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def vault_from_env() -> Any:
    from shikaku.security.mynumber import MyNumberVault

    return MyNumberVault(base64.b64decode(os.environ[KEY_ENV]))


def import_options(report_dir: Path) -> Any:
    from shikaku.registry.importer import ImportOptions

    return ImportOptions(
        insurer_number=INSURER,
        insured_branch=INSURED_BRANCH,
        report_dir=report_dir,
        batch_size=BATCH_SIZE,
        parser_process=os.environ.get(WORKERS_ENV, "1") != "0",
    )


# ----------------------------------------------------------------------------- child: ours


def child_import(args: argparse.Namespace) -> int:
    """Import employers (not timed), then members (timed); report rows, seconds, peak RSS."""
    from shikaku.registry.db import make_engine
    from shikaku.registry.importer import import_file

    engine = make_engine(args.database_url)
    vault = vault_from_env()
    options = import_options(Path(args.report_dir))
    emp = import_file(engine, Path(args.employers), vault, options)
    gc.collect()
    reset = reset_hwm()  # the peak below is the member import's, not the employers'
    emit(event="phase", phase="members", employers=emp.read, employers_rejected=emp.rejected)
    start = time.perf_counter()
    summary = import_file(engine, Path(args.members_file), vault, options)
    seconds = time.perf_counter() - start
    engine.dispose()
    emit(
        event="result",
        read=summary.read,
        inserted=summary.inserted,
        updated=summary.updated,
        unchanged=summary.unchanged,
        rejected=summary.rejected,
        seconds=seconds,
        main_peak_kib=self_peak_kib(),
        hwm_reset=reset,
    )
    return 0


# ----------------------------------------------------------------------------- child: naive


def _naive_date(raw: str) -> Any:
    from shikaku.domain.normalize import parse_date

    raw = raw.strip()
    return parse_date(raw) if raw else None


_STATUS = {"": "registered", "登録済": "registered", "要確認": "needs_check"}


def child_naive(args: argparse.Namespace) -> int:
    """The deliberately naive loader: csv.DictReader, SQLAlchemy ORM, a commit per row.

    It parses just enough to store the row (dates through shikaku's parse_date, since the
    demo data has 和暦 spellings; My Number encrypted and blind-indexed with the vault) and
    looks up the employer, and for a dependent the insured person, with an ORM query per row.
    It writes the same rows as ours: the person, the eligibility period, and the pay period
    and マイナ保険証 registration when the row has them. No upsert, no checks: a fresh DB.
    """
    from sqlalchemy.orm import Session, registry, relationship

    from shikaku.registry.db import make_engine
    from shikaku.registry.importer import import_file
    from shikaku.registry.tables import (
        eligibility_periods,
        employers,
        mynacard_registrations,
        pay_periods,
        persons,
    )

    class Row:
        def __init__(self, **kw: Any) -> None:
            for key, value in kw.items():
                setattr(self, key, value)

    class Employer(Row):
        pass

    class Person(Row):
        pass

    class Eligibility(Row):
        pass

    class Pay(Row):
        pass

    class Mynacard(Row):
        pass

    reg = registry()
    reg.map_imperatively(Employer, employers)
    reg.map_imperatively(Eligibility, eligibility_periods)
    reg.map_imperatively(Pay, pay_periods)
    reg.map_imperatively(Mynacard, mynacard_registrations)
    reg.map_imperatively(
        Person,
        persons,
        properties={
            "periods": relationship(Eligibility),
            "pays": relationship(Pay),
            "cards": relationship(Mynacard),
        },
    )

    # Same engine settings as ours (WAL, synchronous=NORMAL), so the ratio measures the
    # loading approach, not the pragmas. Employers go in with our importer, not timed.
    engine = make_engine(args.database_url)
    vault = vault_from_env()
    import_file(engine, Path(args.employers), vault, import_options(Path(args.report_dir)))
    emit(event="phase", phase="naive")

    nfkc = unicodedata.normalize
    read = inserted = rejected = 0
    start = time.perf_counter()
    with Path(args.members_file).open(encoding="utf-8", newline="") as f, Session(engine) as s:
        for row in csv.DictReader(f):
            read += 1
            try:
                symbol = nfkc("NFKC", row["記号"]).strip()
                number = nfkc("NFKC", row["番号"]).strip()
                branch = nfkc("NFKC", row["枝番"]).strip().zfill(2)
                relationship_code = 1 if row["続柄"].strip() == "本人" else 2
                employer = s.query(Employer).filter_by(insurer_number=INSURER, symbol=symbol).one()
                insured_id = None
                if relationship_code == 2:
                    insured_id = (
                        s.query(Person)
                        .filter_by(
                            insurer_number=INSURER,
                            symbol=symbol,
                            number=number,
                            branch=INSURED_BRANCH,
                        )
                        .one()
                        .id
                    )
                my_number = row["個人番号"].strip()
                person = Person(
                    employer_id=employer.id,
                    insurer_number=INSURER,
                    symbol=symbol,
                    number=number,
                    branch=branch,
                    relationship=relationship_code,
                    insured_id=insured_id,
                    name=row["氏名"].strip(),
                    name_kana=nfkc("NFKC", row["氏名カナ"]).strip(),
                    birth_date=_naive_date(row["生年月日"]),
                    sex=int(row["性別"]),
                    postal_code=row["郵便番号"].replace("-", "").strip() or None,
                    address=row["住所"].strip() or None,
                    my_number_ct=vault.encrypt(my_number) if my_number else None,
                    my_number_bidx=vault.blind_index(my_number) if my_number else None,
                    my_number_status=_STATUS[row["個人番号状態"].strip()] if my_number else "none",
                    old_card_expires_on=_naive_date(row["保険証有効期限"]),
                    row_hash=hashlib.blake2b(repr(row).encode(), digest_size=16).digest(),
                )
                eligible_from = _naive_date(row["資格取得年月日"])
                person.periods.append(
                    Eligibility(
                        eligible_from=eligible_from,
                        lost_on=_naive_date(row["資格喪失年月日"]),
                        loss_reason=row["喪失事由"].strip() or None,
                        row_hash=person.row_hash,
                    )
                )
                pay = row["標準報酬月額"].strip()
                exempt = row["住民税非課税"].strip()
                if pay or exempt:
                    person.pays.append(
                        Pay(
                            effective_from=_naive_date(row["標準報酬適用年月日"]) or eligible_from,
                            standard_monthly_pay=int(pay) if pay else None,
                            tax_exempt=exempt == "1",
                        )
                    )
                registered_on = _naive_date(row["マイナ保険証登録日"])
                if registered_on:
                    person.cards.append(
                        Mynacard(
                            registered_on=registered_on,
                            cancelled_on=_naive_date(row["マイナ保険証解除日"]),
                            ecert_expires_on=_naive_date(row["電子証明書有効期限"]),
                        )
                    )
                s.add(person)
                s.commit()
                inserted += 1
            except Exception as exc:  # the naive loader skips what it cannot store
                s.rollback()
                rejected += 1
                if rejected <= 3:
                    print(f"naive: line {read + 1}: {exc!r}"[:300], file=sys.stderr)
    seconds = time.perf_counter() - start
    engine.dispose()
    emit(
        event="result",
        read=read,
        inserted=inserted,
        rejected=rejected,
        seconds=seconds,
        main_peak_kib=self_peak_kib(),
    )
    return 0


# ----------------------------------------------------------------------------- parent


@dataclass
class Run:
    label: str
    read: int = 0
    inserted: int = 0
    rejected: int = 0
    seconds: float = 0.0
    main_peak_kib: int = 0
    parser_peak_kib: int = 0
    hwm_reset: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    @property
    def peak_kib(self) -> int:
        return self.main_peak_kib + self.parser_peak_kib


def run_child(
    mode: str, label: str, url: str, employers: Path, members: Path, workdir: Path
) -> Run:
    """Run one measurement in a fresh process; poll its tree for the parser's peak RSS."""
    import psutil

    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        mode,
        "--database-url",
        url,
        "--employers",
        str(employers),
        "--members-file",
        str(members),
        "--report-dir",
        str(workdir / "reports"),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, encoding="utf-8")
    state: dict[str, Any] = {"phase": "setup", "result": None, "phase_info": {}}

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                print(line, end="", file=sys.stderr)
                continue
            if event.get("event") == "phase":
                state["phase_info"] = event
                state["phase"] = event["phase"]
                log(f"  {label}: {event['phase']} started")
            elif event.get("event") == "result":
                state["result"] = event

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    # The child's children are parser processes. The employers' parser has ended before the
    # child announces the member phase, so a parser seen alive during that phase parses members.
    parser_peaks: dict[int, int] = {}
    try:
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            if state["phase"] == "members":
                with contextlib.suppress(psutil.Error):
                    for p in root.children(recursive=True):
                        hwm = read_hwm_kib(p.pid)
                        if hwm is not None:
                            parser_peaks[p.pid] = max(parser_peaks.get(p.pid, 0), hwm)
            time.sleep(POLL_SECONDS)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    thread.join()
    if proc.returncode != 0 or state["result"] is None:
        raise RuntimeError(f"{label}: child failed (exit {proc.returncode}): {' '.join(cmd)}")
    r = state["result"]
    run = Run(
        label,
        read=r["read"],
        inserted=r["inserted"],
        rejected=r["rejected"],
        seconds=r["seconds"],
        main_peak_kib=r["main_peak_kib"],
        parser_peak_kib=max(parser_peaks.values(), default=0),
        hwm_reset=r.get("hwm_reset", False),
        extra={**state["phase_info"], **r},
    )
    if mode == "import" and not parser_peaks:
        log(f"  {label}: WARNING: no parser process observed (import too short to poll?)")
    if run.rejected:
        log(f"  {label}: WARNING: {run.rejected:,} rows rejected")
    log(
        f"  {label}: {run.read:,} rows in {run.seconds:.1f} s = {run.rows_per_s:,.0f} rows/s"
        + (
            f"; peak RSS importer {run.main_peak_kib / 1024:.0f} MiB"
            f" + parser {run.parser_peak_kib / 1024:.0f} MiB"
            if mode == "import"
            else ""
        )
    )
    return run


class Postgres:
    """A throw-away database on the server, dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.name = f"shikaku_bench_{os.getpid()}"
        self.url = make_url(admin_url).set(database=self.name).render_as_string(hide_password=False)
        with self.admin.connect() as conn:
            self.version = conn.exec_driver_sql("SHOW server_version").scalar_one()
            self.major = conn.dialect.server_version_info[0]

    def create(self) -> str:
        self.drop()
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
        return self.url

    def drop(self) -> None:
        force = " WITH (FORCE)" if self.major >= 13 else ""
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}"{force}')

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.drop()
        self.admin.dispose()


def machine_facts(pg_version: str | None) -> str:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"CPUs {os.cpu_count()} (usable {usable}), load avg at start {load}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; "
        f"PostgreSQL {pg_version or 'skipped'}; {platform.system()} {platform.release()}"
    )


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


def fmt_mib(kib: float, sign: bool = False) -> str:
    return f"{kib / 1024:+,.0f} MiB" if sign else f"{kib / 1024:,.0f} MiB"


def render_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown pipe table, aligned so it also reads as plain text."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def met(ok: bool) -> str:
    return "yes" if ok else "NO"


def build_table(
    full: Run, small: Run, pg: Run | None, naive: Run, n_full: int, n_small: int, n_sample: int
) -> str:
    big, little, smp = count_label(n_full), count_label(n_small), count_label(n_sample)
    dash = "—"
    growth = full.peak_kib - small.peak_kib
    ratio = full.rows_per_s / naive.rows_per_s if naive.rows_per_s else float("inf")

    def timed(run: Run) -> str:
        return f"{fmt_rate(run.rows_per_s)} ({run.seconds:.1f} s)"

    def rss(run: Run) -> str:
        return (
            f"{fmt_mib(run.peak_kib)} (importer {fmt_mib(run.main_peak_kib)}"
            f" + parser {fmt_mib(run.parser_peak_kib)})"
        )

    rows = [
        [
            f"import rows/s, SQLite, {big}",
            timed(full),
            dash,
            dash,
            f"≥ {TARGET_SQLITE_ROWS_S:,}",
            met(full.rows_per_s >= TARGET_SQLITE_ROWS_S),
        ],
        [
            f"import rows/s, PostgreSQL, {big}",
            timed(pg) if pg else "skipped",
            dash,
            dash,
            dash,
            dash,
        ],
        [f"import rows/s, SQLite, {little}", timed(small), dash, dash, dash, dash],
        [f"peak RSS at {little} (SQLite)", rss(small), dash, dash, dash, dash],
        [f"peak RSS at {big} (SQLite)", rss(full), dash, dash, dash, dash],
        [
            f"RSS growth {little}→{big}",
            fmt_mib(growth, sign=True),
            dash,
            dash,
            f"< {TARGET_RSS_GROWTH_MIB:.0f} MiB",
            met(growth / 1024 < TARGET_RSS_GROWTH_MIB),
        ],
        [f"naive ORM rows/s ({smp} sample)", dash, timed(naive), dash, dash, dash],
        [
            "ours vs naive",
            fmt_rate(full.rows_per_s),
            fmt_rate(naive.rows_per_s),
            f"{ratio:,.1f}×",
            f"≥ {TARGET_RATIO:.0f}×",
            met(ratio >= TARGET_RATIO),
        ],
    ]
    return render_table(["measure", "ours", "baseline", "ratio", "target", "met?"], rows)


def bench(args: argparse.Namespace) -> int:
    quick = args.quick
    os.environ[WORKERS_ENV] = str(args.import_workers)
    n_full = args.members or (100_000 if quick else 1_000_000)
    n_small = min(args.small or (10_000 if quick else 100_000), n_full)
    n_sample = min(args.sample or (2_000 if quick else 20_000), n_full)
    t0 = time.perf_counter()

    pg: Postgres | None = None
    if not args.skip_postgres:
        try:
            pg = Postgres(args.postgres_admin_url)
        except Exception as exc:
            log(f"PostgreSQL unreachable at {args.postgres_admin_url}: {exc!r}")
            log("start the server or pass --skip-postgres")
            return 2
    facts = machine_facts(pg.version if pg else None)
    log(facts)

    own_workdir = args.workdir is None
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="shikaku-bench-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ[KEY_ENV] = base64.b64encode(os.urandom(64)).decode("ascii")  # for the children
    log(f"workdir {workdir}")
    try:
        from shikaku.demo import write_demo_files

        data = workdir / f"data-{n_full}-{args.seed}"
        members = data / "members.csv"
        employers = data / "employers.csv"
        if members.is_file() and employers.is_file():
            log(f"reusing demo files in {data}")
        else:
            log(f"generating {n_full:,} members (seed {args.seed}) …")
            t = time.perf_counter()
            write_demo_files(data, members=n_full, seed=args.seed)
            log(f"  generated in {time.perf_counter() - t:.1f} s")
        small_file = prefix_file(members, data / f"members-first-{n_small}.csv", n_small)
        sample_file = prefix_file(members, data / f"members-first-{n_sample}.csv", n_sample)

        runs: dict[str, Run] = {}
        for key, n, path in (("small", n_small, small_file), ("full", n_full, members)):
            db = workdir / f"sqlite-{key}.db"
            remove_sqlite(db)
            label = f"SQLite {count_label(n)}"
            log(f"{label}: schema, then employers (not timed) and members (timed)")
            make_schema(sqlite_url(db))
            runs[key] = run_child("import", label, sqlite_url(db), employers, path, workdir)
            remove_sqlite(db)

        if pg is not None:
            label = f"PostgreSQL {count_label(n_full)}"
            log(f"{label}: database {pg.name}, employers (not timed) and members (timed)")
            try:
                url = pg.create()
                make_schema(url)
                runs["pg"] = run_child("import", label, url, employers, members, workdir)
            finally:
                pg.drop()

        db = workdir / "sqlite-naive.db"
        remove_sqlite(db)
        label = f"naive ORM {count_label(n_sample)}"
        log(f"{label}: employers with our importer (not timed), members one commit per row")
        make_schema(sqlite_url(db))
        runs["naive"] = run_child("naive", label, sqlite_url(db), employers, sample_file, workdir)
        remove_sqlite(db)
        if not all(r.hwm_reset for k, r in runs.items() if k != "naive"):
            log("note: could not reset VmHWM; importer peaks include the employer import")
    finally:
        if pg is not None:
            pg.close()
        if own_workdir and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif own_workdir:
            log(f"kept {workdir}")

    log(f"done in {time.perf_counter() - t0:.0f} s")
    print(facts)
    print(
        build_table(
            runs["full"], runs["small"], runs.get("pg"), runs["naive"], n_full, n_small, n_sample
        )
    )
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--members", type=int, help="members in the big file (default 1,000,000)")
    p.add_argument("--small", type=int, help="rows of the small run (default 100,000)")
    p.add_argument("--sample", type=int, help="rows for the naive baseline (default 20,000)")
    p.add_argument("--seed", type=int, default=SEED, help=f"demo data seed (default {SEED})")
    p.add_argument("--skip-postgres", action="store_true", help="no PostgreSQL run")
    p.add_argument(
        "--postgres-admin-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="a database to connect to for CREATE/DROP DATABASE shikaku_bench_<pid>",
    )
    p.add_argument("--workdir", help="keep data and databases here (default: a temp dir)")
    p.add_argument("--keep", action="store_true", help="do not remove the temp workdir")
    p.add_argument("--quick", action="store_true", help="smoke run: 100k / 10k / 2k")
    p.add_argument(
        "--import-workers",
        type=int,
        choices=(0, 1),
        default=1,
        help="our importer: 1 a parser process (import.parser_process, the default), 0 in-process",
    )
    # internal: one measurement in a child process
    p.add_argument("--child", choices=("import", "naive"), help=argparse.SUPPRESS)
    p.add_argument("--database-url", help=argparse.SUPPRESS)
    p.add_argument("--employers", help=argparse.SUPPRESS)
    p.add_argument("--members-file", help=argparse.SUPPRESS)
    p.add_argument("--report-dir", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child == "import":
        return child_import(args)
    if args.child == "naive":
        return child_naive(args)
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
