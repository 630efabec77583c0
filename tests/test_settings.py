"""Settings: defaults with no file, TOML, SHIKAKU_* overrides, and errors that name the key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from shikaku.settings import SettingsError, load_settings, settings_keys


def test_no_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={})
    assert s.database_url == "sqlite:///shikaku.db"
    assert s.insurer.number == "01130012"
    assert s.policy.interim_relief_until == date(2026, 7, 31)
    assert s.policy.certificate_validity_years == 5
    assert s.policy.insured_branch == "00"
    assert s.policy.card_part_corner == "lower_left"


def test_file_then_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text(
        'database_url = "sqlite:///a.db"\n[insurer]\nname = "しかく健康保険組合"\nnumber = "06130017"\n'
        "[policy]\ninterim_relief_until = 2026-06-30\n",
        encoding="utf-8",
    )
    env = {
        "SHIKAKU_CONFIG": str(cfg),
        "SHIKAKU_POLICY__CERTIFICATE_VALIDITY_YEARS": "4",
        "SHIKAKU_DATABASE_URL": "sqlite:///b.db",
    }
    s = load_settings(environ=env)
    assert s.insurer.name == "しかく健康保険組合"
    assert s.policy.interim_relief_until == date(2026, 6, 30)
    assert s.policy.certificate_validity_years == 4
    assert s.database_url == "sqlite:///b.db"


@pytest.mark.parametrize(
    ("toml", "env", "named"),
    [
        ('[insurer]\nnumber = "01130013"\n', {}, "insurer.number"),  # bad check digit
        ("[policy]\ncertificate_validity_years = 6\n", {}, "policy.certificate_validity_years"),
        ("[polcy]\nx = 1\n", {}, "polcy"),  # typo: unknown key
        ("", {"SHIKAKU_IMPORT__BATCH_SIZE": "zero"}, "import.batch_size"),
        ("[policy]\ninterim_relief_until = 2026-02-30\n", {}, "TOML"),
        ("[mail.window]\nleft_mm = 150\n", {}, "mail.window"),  # window outside the envelope
        ("[api]\nworkers = 2\n", {}, "renamed to api.processes"),  # "workers" is Dask's only
        ("", {"SHIKAKU_IMPORT__WORKERS": "0"}, "renamed to import.parser_process"),
    ],
)
def test_bad_settings_name_the_key(
    tmp_path: Path, toml: str, env: dict[str, str], named: str
) -> None:
    cfg = tmp_path / "shikaku.toml"
    cfg.write_text(toml, encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        load_settings(environ={"SHIKAKU_CONFIG": str(cfg), **env})
    assert named in str(info.value)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="no such file"):
        load_settings(environ={"SHIKAKU_CONFIG": str(tmp_path / "nope.toml")})


def test_every_setting_is_documented() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = [k for k in settings_keys() if f"`{k}`" not in doc]
    assert not missing, f"undocumented settings: {missing}"


def test_glossary_is_documented() -> None:
    from shikaku.glossary import GLOSSARY

    doc = (Path(__file__).parents[1] / "docs" / "glossary.md").read_text(encoding="utf-8")
    for name, japanese in GLOSSARY.items():
        assert f"| `{name}` | {japanese} |" in doc, name
