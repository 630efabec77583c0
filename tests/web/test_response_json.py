"""The check's answer is written without its models; the bytes must be the model's."""

from __future__ import annotations

from datetime import date
from itertools import product

from shikaku.domain.copay import CAP_CODES, CapCategory
from shikaku.domain.documents import Document
from shikaku.domain.eligibility import Validity
from shikaku.domain.members import LOSS_REASONS
from shikaku.service.eligibility import CheckResult
from shikaku.web.api import EligibilityResponse, response_json, to_response


def _results() -> list[CheckResult]:
    results = [CheckResult(v) for v in Validity]
    for relationship, reason, category in product(
        (1, 2),
        (None, *LOSS_REASONS, "77"),
        (None, *(CapCategory(code, label) for code, label in CAP_CODES.items())),
    ):
        results.append(
            CheckResult(
                Validity.VALID,
                person_id=7,
                relationship=relationship,
                name='山田 "太郎" <script>',
                name_kana="ヤマダ タロウ",
                eligible_from=date(2020, 4, 1),
                lost_on=date(2025, 12, 1) if reason else None,
                loss_reason=reason,
                copay_rate=30,
                cap_category=category,
                accepted_documents=tuple(Document),
            )
        )
    return results


def test_the_answer_is_the_models_json_byte_for_byte() -> None:
    for result in _results():
        fast = response_json(result)
        assert fast == to_response(result).model_dump_json().encode()
        assert EligibilityResponse.model_validate_json(fast) == to_response(result)
