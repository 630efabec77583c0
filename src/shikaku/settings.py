"""Settings: one TOML file plus SHIKAKU_* environment overrides, validated at start.

Every (policy) value of DOMAIN.md lives here with its default, so a law change or an insurer's
own choice is a settings change, never a code change. With no file at all everything works:
an SQLite database and a key file in the working directory.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from shikaku.domain.certificate import ECERT_GRACE_MONTHS, MAX_CERTIFICATE_YEARS, CertificateRule
from shikaku.domain.copay import DEFAULT_BURDEN_TABLES, BurdenTables, burden_tables_from_data
from shikaku.domain.documents import DEFAULT_DOCUMENT_POLICY
from shikaku.domain.errors import DomainError
from shikaku.domain.identifiers import validate_insurer_number
from shikaku.domain.members import Delivery
from shikaku.domain.window import Rect, window_on_sheet
from shikaku.security.mynumber import KEY_ENV

CONFIG_ENV = "SHIKAKU_CONFIG"
DEFAULT_CONFIG_FILE = "shikaku.toml"
ENV_PREFIX = "SHIKAKU_"
ENV_NESTING = "__"


class SettingsError(Exception):
    """A setting is wrong; the message names the key and where it came from."""


def _insurer_number(value: str) -> str:
    try:
        return validate_insurer_number(value)
    except DomainError as exc:
        raise ValueError(exc.en + " / " + exc.ja) from None


InsurerNumber = Annotated[str, AfterValidator(_insurer_number)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Insurer(_Section):
    """Who we are, as printed on every document and cover letter."""

    name: str = "全国健康保険協会 東京支部"
    short_name: str = "協会けんぽ"
    number: InsurerNumber = "01130012"
    contact_lines: tuple[str, ...] = (
        "全国健康保険協会 東京支部",
        "〒164-8540 東京都中野区中野4-10-2 中野セントラルパークサウス7階",
        "電話 03-6853-6111（平日 8:30〜17:15）",
    )
    my_number_dial: str = "0570-015-369"
    my_number_dial_label: str = "協会けんぽマイナンバー専用ダイヤル"


# The setting's values are the domain's rules, so the two can never drift apart.
CertificateValidityRule = CertificateRule


class CardCorner(StrEnum):
    LOWER_LEFT = "lower_left"
    LOWER_RIGHT = "lower_right"


class Policy(_Section):
    """DOMAIN.md (policy) values and dated legal deadlines, with DOMAIN.md's defaults."""

    # The transition dates' defaults are domain.documents.DocumentPolicy's (DOMAIN.md §1).
    card_abolished_on: date = DEFAULT_DOCUMENT_POLICY.card_abolished_on
    old_card_valid_until: date = DEFAULT_DOCUMENT_POLICY.old_card_valid_until
    interim_relief_until: date = DEFAULT_DOCUMENT_POLICY.interim_relief_until
    interim_relief: bool = DEFAULT_DOCUMENT_POLICY.interim_relief
    certificate_validity_rule: CertificateRule = CertificateRule.YEARS_CAPPED_AT_75
    certificate_validity_years: int = Field(MAX_CERTIFICATE_YEARS, ge=1, le=MAX_CERTIFICATE_YEARS)
    ecert_grace_months: int = Field(ECERT_GRACE_MONTHS, ge=0, le=12)
    insured_branch: str = Field("00", pattern=r"^\d{2}$")
    card_part_corner: CardCorner = CardCorner.LOWER_LEFT
    notice_shows_sex: bool = True  # some insurers omit 性別 on the notice
    excluded_categories: tuple[str, ...] = ("日雇特例",)
    # TOML files of dated 負担割合 / 高額療養費 tables (docs/settings.md), added to the built-in
    # ones: a revision such as 2026-08's or 2027-08's thirteen brackets is a file, not code.
    burden_tables: tuple[Path, ...] = ()

    @model_validator(mode="after")
    def _tables_load(self) -> Policy:
        load_burden_tables(self)  # a wrong file fails at start, naming the file and field
        return self


def load_burden_tables(policy: Policy) -> BurdenTables:
    """The built-in tables with those of `policy.burden_tables` merged in, in file order."""
    return load_burden_table_files(policy.burden_tables)


def load_burden_table_files(paths: Iterable[Path]) -> BurdenTables:
    """The built-in tables with those of the TOML files `paths` merged in, in order; a
    ValueError names the file and the field."""
    tables = DEFAULT_BURDEN_TABLES
    for path in paths:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"{path}: 読めません ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: TOML の構文エラー ({exc})") from None
        try:
            tables = tables.merged(burden_tables_from_data(data, str(path)))
        except DomainError as exc:
            raise ValueError(f"{exc.ja} ({exc.en})") from None
    return tables


class Window(_Section):
    """The 長3 window envelope and its window, in mm from the top-left corner of the envelope's
    face held so that the folded A4 reads upright (235 × 120 mm for a horizontal window).
    Window positions vary by maker (DOMAIN.md §7, policy). The window, shrunk by the shift
    tolerance, must fall on the folded sheet's top panel (domain.window)."""

    envelope_width_mm: float = Field(235.0, gt=0)
    envelope_height_mm: float = Field(120.0, gt=0)
    left_mm: float = Field(23.0, ge=0)
    top_mm: float = Field(13.0, ge=0)
    width_mm: float = Field(90.0, gt=0)
    height_mm: float = Field(45.0, gt=0)
    shift_tolerance_mm: float = Field(3.0, ge=0)  # how far a folded sheet may slide

    @model_validator(mode="after")
    def _inside_envelope(self) -> Window:
        if self.left_mm + self.width_mm > self.envelope_width_mm:
            raise ValueError(
                "窓が封筒の幅からはみ出しています (left_mm + width_mm > envelope_width_mm)"
            )
        if self.top_mm + self.height_mm > self.envelope_height_mm:
            raise ValueError(
                "窓が封筒の高さからはみ出しています (top_mm + height_mm > envelope_height_mm)"
            )
        try:
            self.on_sheet()
        except DomainError as exc:
            raise ValueError(exc.ja + f" ({exc.en})") from None
        return self

    def on_sheet(self) -> Rect:
        """The window area that stays visible on the folded A4 (domain.window)."""
        return window_on_sheet(
            self.envelope_width_mm,
            self.envelope_height_mm,
            Rect(self.left_mm, self.top_mm, self.width_mm, self.height_mm),
            self.shift_tolerance_mm,
        )


class Mail(_Section):
    window: Window = Window()
    barcode_discount_min_letters: int = Field(1000, ge=1)  # Japan Post カスタマバーコード割引


class ImportSettings(_Section):
    batch_size: int = Field(5000, ge=1, le=100_000)
    parser_process: bool = True  # parse in a child process while this one writes (docs/import.md)
    report_dir: Path = Path("reports")


class EngineKind(StrEnum):
    DASK = "dask"
    INLINE = "inline"


class IssuanceSettings(_Section):
    """How a run packs, batches and spreads its work (capacities are pieces per container)."""

    envelope_capacity: int = Field(30, ge=1)  # individual envelopes per outer envelope
    box_capacity: int = Field(500, ge=1)  # individual envelopes per box
    batch_letters: int = Field(500, ge=1)  # home-delivered letters per mailing-batch file
    postal_area_digits: int = Field(3, ge=1, le=7)  # a mailing batch never mixes areas
    engine: EngineKind = EngineKind.DASK
    scheduler: str | None = None  # a Dask scheduler address; none: a LocalCluster
    workers: int = Field(0, ge=0, le=256)  # LocalCluster worker processes; 0: one per core
    task_notices: int = Field(2000, ge=1)  # notices per engine task (partitions are whole)
    extract_employers: int = Field(1000, ge=1)  # employers per extraction task (a 記号 range)
    report_dir: Path = Path("reports")
    output_url: str | None = None  # an fsspec URL (s3://bucket/prefix) for run folders

    @model_validator(mode="after")
    def _box_holds_an_envelope(self) -> IssuanceSettings:
        if self.box_capacity < self.envelope_capacity:
            raise ValueError(
                "箱の容量は外封筒以上にしてください (box_capacity < envelope_capacity)"
            )
        return self


class CardLayout(StrEnum):
    CARRIER = "carrier"
    SHEET = "sheet"


class CertificateSettings(_Section):
    """資格確認書 runs (docs/certificates.md): how they travel and how the card is printed."""

    delivery: Delivery = Delivery.HOME  # the 2025 practice: mailed home
    card_layout: CardLayout = CardLayout.CARRIER  # card on its A4 letter, or n-up card sheets
    cards_per_sheet: int = Field(10, ge=1, le=10)  # sheet layout: cards per A4 sheet


class RenderSettings(_Section):
    """The fonts embedded in every document (Debian fonts-ipaexfont-*, fonts-ipamj-mincho)."""

    gothic_font: Path = Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")
    mincho_font: Path = Path("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf")
    fallback_font: Path = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")  # IPAmj明朝


class ApiSettings(_Section):
    """`shikaku serve`: the clinic API (docs/api.md)."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    processes: int = Field(1, ge=1, le=64)  # uvicorn processes serving the API
    rate_limit_per_second: float = Field(20.0, gt=0)  # per API key and API process
    rate_limit_burst: int = Field(40, ge=1)
    telemetry: bool = False  # FastAPI's OpenTelemetry spans and metrics (needs a provider)
    # Checks per batch (shikaku.checkers): they go to the checker process of each worker in
    # batches of at most this many.
    check_batch: int = Field(8, ge=1, le=256)


class ConsoleSettings(_Section):
    """The staff console and the employer portal (docs/console.md)."""

    session_minutes: int = Field(480, ge=5, le=7 * 24 * 60)  # a login lasts this long
    login_max_failures: int = Field(5, ge=1, le=100)  # failures per name before a pause
    login_window_minutes: int = Field(15, ge=1, le=24 * 60)  # how long failures count
    secure_cookies: bool = True  # cookies only over HTTPS (off only for local HTTP tests)
    electronic_delivery: bool = False  # employers may download their parcels' PDFs


class Settings(_Section):
    database_url: str = "sqlite:///shikaku.db"
    key_file: Path = Path("shikaku.key")
    output_dir: Path = Path("shikaku-out")
    log_file: Path | None = None
    insurer: Insurer = Insurer()
    policy: Policy = Policy()
    mail: Mail = Mail()
    importer: ImportSettings = Field(ImportSettings(), alias="import")
    issuance: IssuanceSettings = IssuanceSettings()
    certificates: CertificateSettings = CertificateSettings()
    render: RenderSettings = RenderSettings()
    api: ApiSettings = ApiSettings()
    console: ConsoleSettings = ConsoleSettings()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """SHIKAKU_INSURER__NUMBER=… becomes {"insurer": {"number": …}}."""
    tree: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        if name in _NOT_SETTINGS:
            continue
        path = name[len(ENV_PREFIX) :].lower().split(ENV_NESTING)
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SettingsError(f"環境変数 {name}: 設定キーの階層が不正です (bad nesting)")
        node[path[-1]] = _env_value(value)
    return tree


NEW_PASSWORD_ENV = "SHIKAKU_NEW_PASSWORD"
"""`shikaku users add` reads a new user's password from it (cli_users)."""

# Environment variables that carry secrets, not settings keys.
_NOT_SETTINGS = frozenset({KEY_ENV, NEW_PASSWORD_ENV})


def _env_value(value: str) -> Any:
    """Environment values are TOML scalars when they parse as one (lists, dates), else strings."""
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


# Keys renamed so that "workers" means Dask's only (issue 19): an old file gets the new name.
RENAMED = {"import.workers": "import.parser_process", "api.workers": "api.processes"}


def _describe(error: Mapping[str, Any]) -> str:
    key = ".".join(str(p) for p in error["loc"]) or "(root)"
    if error["type"] == "extra_forbidden":
        if key in RENAMED:
            return f"{key}: {RENAMED[key]} に改名されました (renamed to {RENAMED[key]})"
        return f"{key}: 未知の設定キーです (unknown setting)"
    return f"{key}: {error['msg']}"


def config_path(environ: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    if CONFIG_ENV in env:
        path = Path(env[CONFIG_ENV])
        if not path.is_file():
            raise SettingsError(f"{CONFIG_ENV}={path}: 設定ファイルがありません (no such file)")
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Read the file, apply the environment, then command-line overrides; validate once."""
    env = os.environ if environ is None else environ
    path = config_path(env)
    data: dict[str, Any] = {}
    source = "既定値 (defaults)"
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: TOML の構文エラー (syntax error): {exc}") from None
        source = str(path)
    env_tree = _env_overrides(env)
    if env_tree:
        source += " + 環境変数 SHIKAKU_* (environment)"
    data = _merge(data, env_tree)
    if overrides:
        data = _merge(data, {k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join("  " + _describe(e) for e in exc.errors())
        raise SettingsError(
            f"設定が不正です (invalid settings, from {source}):\n{problems}"
        ) from None


def settings_keys(model: type[BaseModel] = Settings, prefix: str = "") -> list[str]:
    """Every dotted settings key, for docs and the test that they are all documented."""
    keys: list[str] = []
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(settings_keys(annotation, key + "."))
        else:
            keys.append(key)
    return keys
