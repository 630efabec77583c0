"""The CLI as a user runs it: real subprocesses, real files, real exit codes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.registry.helpers import (
    EMPLOYER_HEADER,
    MEMBER_HEADER,
    MY_NUMBERS,
    employer,
    member,
    write,
)

ROOT = Path(__file__).parents[1]


def shikaku(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SHIKAKU_")}
    full_env.update(env or {})
    full_env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "shikaku", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("insurer-number", "01130012", "01130013"),
        ("insurer-number", "33120015", "3312001"),
        ("institution-code", "0110113719", "0110113718"),
        ("my-number", "123456789018", "123456789012"),
    ],
)
def test_validate_exit_codes(tmp_path: Path, kind: str, good: str, bad: str) -> None:
    ok = shikaku("validate", kind, good, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    ng = shikaku("validate", kind, bad, cwd=tmp_path)
    assert ng.returncode == 1
    assert "無効" in ng.stderr
    if kind == "my-number":
        for text in (ok.stdout, ok.stderr, ng.stdout, ng.stderr):
            assert good not in text and bad not in text
            assert not re.search(r"\d{5,}", text)
        assert "9018" in ok.stdout


def test_no_my_number_in_any_written_byte(tmp_path: Path) -> None:
    """Import known numbers through the CLI, then grep everything it wrote for them."""
    env = {"SHIKAKU_LOG_FILE": str(tmp_path / "logs" / "shikaku.log")}
    write(tmp_path / "employers.csv", EMPLOYER_HEADER, [employer()], "cp932")
    rows = [member(str(i + 1), "00", 個人番号=n) for i, n in enumerate(MY_NUMBERS)]
    rows.append(member("9", "00", 個人番号=MY_NUMBERS[0][:-1] + "0"))  # a bad check digit
    rows.append(member("10", "00", 個人番号=MY_NUMBERS[1]))  # a duplicate
    rows.append(member("11", "00", 番号=MY_NUMBERS[2]))  # a number typed into the wrong column
    write(tmp_path / "members.csv", MEMBER_HEADER, rows)
    inputs = {tmp_path / "members.csv", tmp_path / "employers.csv"}
    outputs = [
        shikaku("keys", "init", cwd=tmp_path, env=env),
        shikaku("db", "upgrade", cwd=tmp_path, env=env),
    ]
    outputs.append(shikaku("import", "employers.csv", cwd=tmp_path, env=env))
    outputs.append(shikaku("import", "members.csv", cwd=tmp_path, env=env))
    outputs.append(shikaku("imports", "list", cwd=tmp_path, env=env))
    run = ("--extraction-date", "2024-06-07", "--engine", "inline")
    outputs.append(shikaku("issue", "notices", *run, cwd=tmp_path, env=env))
    outputs.append(shikaku("runs", "show", "R000001", cwd=tmp_path, env=env))
    outputs.append(shikaku("runs", "verify", "R000001", "--deep", cwd=tmp_path, env=env))
    assert outputs[-1].returncode == 0, outputs[-1].stdout + outputs[-1].stderr
    assert outputs[3].returncode == 3, outputs[3].stderr  # some rows rejected
    assert "5" in outputs[3].stdout
    written = b"".join((o.stdout + o.stderr).encode() for o in outputs)
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p not in inputs]
    assert any(p.suffix == ".db" for p in files) and any("errors" in p.name for p in files)
    assert (tmp_path / "logs" / "shikaku.log").stat().st_size > 0
    pdfs = [p for p in files if p.suffix == ".pdf"]
    assert pdfs
    for path in files:
        written += path.read_bytes()
    texts = [subprocess.run(["pdftotext", str(p), "-"], capture_output=True).stdout for p in pdfs]
    printed = b"".join(texts)
    written += printed
    assert MY_NUMBERS[3][-4:].encode() in printed  # the last 4 digits are printed, only they
    for number in [*MY_NUMBERS, MY_NUMBERS[0][:-1] + "0"]:
        for form in (number.encode(), number.encode("utf-16-le")):
            assert form not in written, f"…{number[-4:]} leaked"


def test_import_refuses_a_file_without_required_columns(tmp_path: Path) -> None:
    write(tmp_path / "m.csv", ["記号", "番号"], [])
    shikaku("keys", "init", cwd=tmp_path)
    shikaku("db", "upgrade", cwd=tmp_path)
    result = shikaku("import", "m.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "見出し" in result.stderr or "必須" in result.stderr


def test_import_without_key_says_how_to_make_one(tmp_path: Path) -> None:
    write(tmp_path / "e.csv", EMPLOYER_HEADER, [employer()])
    shikaku("db", "upgrade", cwd=tmp_path)
    result = shikaku("import", "e.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "keys init" in result.stderr


def test_bad_setting_is_named_at_start(tmp_path: Path) -> None:
    (tmp_path / "shikaku.toml").write_text('[insurer]\nnumber = "01130013"\n', encoding="utf-8")
    result = shikaku("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 2
    assert "insurer.number" in result.stderr


def test_every_command_is_documented() -> None:
    import typer.main

    from shikaku.cli import app

    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)

    def walk(cmd: object, prefix: str) -> list[str]:
        subs = getattr(cmd, "commands", None)
        if not subs:
            return [prefix]
        return [name for n, c in sorted(subs.items()) for name in walk(c, f"{prefix} {n}".strip())]

    missing = [c for c in walk(group, "") if f"shikaku {c}" not in doc]
    assert not missing, f"undocumented commands: {missing}"


def test_blind_index_is_hmac_sha256() -> None:
    import hmac

    from shikaku.security.mynumber import MyNumberVault

    key = bytes(range(64))
    vault = MyNumberVault(key)
    for number in MY_NUMBERS:
        expected = hmac.digest(key[32:], number.encode(), "sha256")[:16]
        assert vault.blind_index(number) == expected
    assert vault.decrypt(vault.encrypt(MY_NUMBERS[0])) == MY_NUMBERS[0]
    assert vault.encrypt(MY_NUMBERS[0]) != vault.encrypt(MY_NUMBERS[0])  # random nonce
    assert vault.last4(vault.encrypt(MY_NUMBERS[0])) == MY_NUMBERS[0][-4:]


def test_stats_on_a_database_never_migrated_says_so(tmp_path: Path) -> None:
    """Not a traceback: the message says which command makes the schema current."""
    r = shikaku("stats", "--database-url", f"sqlite:///{tmp_path / 'new.db'}", cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "shikaku db upgrade" in r.stderr and "Traceback" not in r.stderr
