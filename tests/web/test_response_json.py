"""The check's answer is written without its models; it must still be what the OpenAPI
document's response model describes."""

from __future__ import annotations

from datetime import date
from itertools import product

from shikaku.domain.copay import CAP_CODES, CapCategory
from shikaku.domain.documents import Document
from shikaku.domain.eligibility import Validity
from shikaku.domain.members import LOSS_REASONS
from shikaku.service.eligibility import CheckResult
from shikaku.web.api import EligibilityResponse, response_json


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


def test_every_answer_is_a_valid_response_model() -> None:
    for result in _results():
        answer = EligibilityResponse.model_validate_json(response_json(result))
        assert answer.validity.code == str(int(result.validity))
        assert [d.code for d in answer.accepted_documents] == [
            str(d) for d in result.accepted_documents
        ]
