"""Dated 負担割合 / 高額療養費 tables loaded as data (DOMAIN.md §6: "an insurer must be able to
load a new dated table (and new categories) as data, without a code change").

The 2027-08 table below is a FORMAT example: the official amounts and codes of the thirteen
brackets were not at hand (DOMAIN.md), so its figures only echo the examples DOMAIN.md gives
(98,100 + 1 %, 110,400 + 1 %, top 342,000 + 1 %) and its codes (A11…) are invented.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from shikaku.domain.copay import (
    CAP_TABLES,
    DEFAULT_BURDEN_TABLES,
    burden_tables_from_data,
    cap_category,
    monthly_cap,
)
from shikaku.domain.errors import DomainError
from shikaku.settings import SettingsError, load_settings

EXAMPLE_2027 = """
[[caps]]
effective_from = 2027-08-01
excess_percent = 1
general_outpatient_annual = 144000
exempt_ignored_from = 530000
under70_bands = [[1270000, "A11"], [830000, "A12"], [530000, "A13"], [280000, "A14"], [0, "A15"]]
active_bands = [[830000, "B01"], [530000, "B02"], [280000, "B03"]]
exempt = "A16"

[caps.rules.A11]
base = 342000
threshold = 1140000
label = "ア1"
[caps.rules.A12]
base = 252600
threshold = 842000
many_times = 140100
label = "ア2"
[caps.rules.A13]
base = 167400
threshold = 558000
label = "イ"
[caps.rules.A14]
base = 110400
threshold = 368000
label = "ウ1"
[caps.rules.A15]
base = 98100
threshold = 327000
label = "ウ2"
[caps.rules.A16]
base = 35400
label = "オ"
[caps.rules.B01]
base = 252600
threshold = 842000
[caps.rules.B02]
base = 167400
threshold = 558000
[caps.rules.B03]
base = 80100
threshold = 267000
[caps.rules.B04]
base = 57600
outpatient = 22000
[caps.rules.B05]
base = 24600
outpatient = 11000
[caps.rules.B06]
base = 15000
outpatient = 11000
"""

BIRTH = date(1980, 1, 1)


def category(day: date, pay: int, tables: object = DEFAULT_BURDEN_TABLES) -> tuple[str, str]:
    c = cap_category(
        BIRTH,
        day,
        insured_birth=BIRTH,
        insured_standard_monthly_pay=pay,
        is_insured=True,
        tables=tables,  # type: ignore[arg-type]
    )
    return c.code, c.label


def test_a_loaded_table_with_new_categories_applies_from_its_date() -> None:
    loaded = DEFAULT_BURDEN_TABLES.merged(burden_tables_from_data(tomllib.loads(EXAMPLE_2027)))
    assert category(date(2027, 7, 31), 1_300_000, loaded) == ("A01", "ア")
    assert category(date(2027, 8, 1), 1_300_000, loaded) == ("A11", "ア1")
    assert category(date(2027, 8, 1), 300_000, loaded) == ("A14", "ウ1")
    assert monthly_cap("A11", 1_240_000, many_times=False, day=date(2027, 8, 1), tables=loaded) == (
        343_000
    )
    assert category(date(2027, 8, 1), 1_300_000) == ("A01", "ア")  # built-ins untouched


def test_a_loaded_table_replaces_a_built_in_one_of_the_same_date() -> None:
    same_day = EXAMPLE_2027.replace("2027-08-01", "2018-08-01")
    loaded = DEFAULT_BURDEN_TABLES.merged(burden_tables_from_data(tomllib.loads(same_day)))
    assert len(loaded.caps) == len(CAP_TABLES)
    assert category(date(2020, 1, 1), 1_300_000, loaded) == ("A11", "ア1")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('[caps.rules.A16]\nbase = 35400\nlabel = "オ"\n', ""), "A16"),  # a code without rule
        (('label = "ア1"\n', ""), "A11"),  # a code unknown to OQSCD012 without a label
        (("base = 342000", "base = -1"), "base"),
        (("base = 342000", 'base = "342000"'), "base"),
        (("excess_percent = 1", "excess_percent = true"), "excess_percent"),
        (("effective_from = 2027-08-01", 'effective_from = "2027-08-01"'), "effective_from"),
        (('[0, "A15"]', '[10, "A15"]'), "0"),
        (("exempt = ", "exemption = "), "exemption"),
    ],
)
def test_a_wrong_table_is_refused_naming_the_field(change: tuple[str, str], message: str) -> None:
    text = EXAMPLE_2027.replace(*change)
    with pytest.raises(DomainError) as err:
        burden_tables_from_data(tomllib.loads(text), "caps-2027.toml")
    assert "caps-2027.toml" in err.value.ja and message in err.value.ja + err.value.en


def test_settings_load_the_files_and_refuse_a_wrong_one(tmp_path: Path) -> None:
    good = tmp_path / "caps-2027.toml"
    good.write_text(EXAMPLE_2027, encoding="utf-8")
    settings = load_settings({}, {"policy": {"burden_tables": [str(good)]}})
    assert settings.policy.burden_tables == (good,)
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE_2027.replace("base = 342000", "base = -1"), encoding="utf-8")
    with pytest.raises(SettingsError, match=r"bad\.toml"):
        load_settings({}, {"policy": {"burden_tables": [str(bad)]}})
    with pytest.raises(SettingsError, match=r"missing\.toml"):
        load_settings({}, {"policy": {"burden_tables": [str(tmp_path / "missing.toml")]}})
