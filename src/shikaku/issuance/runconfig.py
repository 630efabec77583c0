"""What shapes a run's documents, frozen with the run.

Resume and re-execution read this, never the current settings, so a settings edit between
a crash and its resume cannot change a byte of what the run prints.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from shikaku.domain.certificate import (
    ECERT_GRACE_MONTHS,
    MAX_CERTIFICATE_YEARS,
    CertificateRule,
)
from shikaku.domain.window import Rect
from shikaku.render.fonts import FontPaths
from shikaku.render.model import Issuer
from shikaku.settings import Settings


@dataclass(frozen=True, slots=True)
class RunConfig:
    insurer_number: str
    insurer_name: str
    insurer_short_name: str
    contact_lines: tuple[str, ...]
    my_number_dial: str
    my_number_dial_label: str
    card_corner: str
    notice_shows_sex: bool
    excluded_categories: tuple[str, ...]
    window: tuple[float, float, float, float]  # the visible window on the sheet, mm
    envelope_capacity: int
    box_capacity: int
    batch_letters: int
    postal_area_digits: int
    barcode_discount_min_letters: int
    gothic_font: str
    mincho_font: str
    fallback_font: str
    # 資格確認書 runs (defaults: what a run frozen before certificates existed would use)
    certificate_delivery: str = "home"
    card_layout: str = "carrier"
    cards_per_sheet: int = 10
    validity_rule: str = CertificateRule.YEARS_CAPPED_AT_75.value
    validity_years: int = MAX_CERTIFICATE_YEARS
    ecert_grace_months: int = ECERT_GRACE_MONTHS
    burden_tables: tuple[str, ...] = ()  # settings policy.burden_tables (the 区分's label)

    @classmethod
    def from_settings(cls, s: Settings) -> RunConfig:
        w = s.mail.window.on_sheet()
        return cls(
            insurer_number=s.insurer.number,
            insurer_name=s.insurer.name,
            insurer_short_name=s.insurer.short_name,
            contact_lines=tuple(s.insurer.contact_lines),
            my_number_dial=s.insurer.my_number_dial,
            my_number_dial_label=s.insurer.my_number_dial_label,
            card_corner=str(s.policy.card_part_corner),
            notice_shows_sex=s.policy.notice_shows_sex,
            excluded_categories=tuple(s.policy.excluded_categories),
            window=(w.left, w.top, w.width, w.height),
            envelope_capacity=s.issuance.envelope_capacity,
            box_capacity=s.issuance.box_capacity,
            batch_letters=s.issuance.batch_letters,
            postal_area_digits=s.issuance.postal_area_digits,
            barcode_discount_min_letters=s.mail.barcode_discount_min_letters,
            gothic_font=str(s.render.gothic_font),
            mincho_font=str(s.render.mincho_font),
            fallback_font=str(s.render.fallback_font),
            certificate_delivery=str(s.certificates.delivery),
            card_layout=str(s.certificates.card_layout),
            cards_per_sheet=s.certificates.cards_per_sheet,
            validity_rule=str(s.policy.certificate_validity_rule),
            validity_years=s.policy.certificate_validity_years,
            ecert_grace_months=s.policy.ecert_grace_months,
            burden_tables=tuple(str(p) for p in s.policy.burden_tables),
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        data = json.loads(text)
        data["contact_lines"] = tuple(data["contact_lines"])
        data["excluded_categories"] = tuple(data["excluded_categories"])
        data["window"] = tuple(data["window"])
        data["burden_tables"] = tuple(data.get("burden_tables", ()))
        return cls(**data)

    @property
    def window_rect(self) -> Rect:
        return Rect(*self.window)

    @property
    def issuer(self) -> Issuer:
        return Issuer(
            self.insurer_number,
            self.insurer_name,
            self.insurer_short_name,
            self.contact_lines,
            self.my_number_dial,
            self.my_number_dial_label,
        )

    @property
    def font_paths(self) -> FontPaths:
        return FontPaths(Path(self.gothic_font), Path(self.mincho_font), Path(self.fallback_font))
