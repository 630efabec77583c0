"""Property-based fuzzing of the OpenAPI document: no 5xx, no response outside its schema.

Bounded (a fixed number of derandomized examples per operation) so CI stays quick. The
operations are driven with hypothesis directly rather than through schemathesis' pytest
plugin, which does not load under this pytest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy import Engine

from shikaku.security.mynumber import MyNumberVault
from shikaku.service.clinics import add_clinic
from shikaku.settings import load_settings
from shikaku.web.app import create_app
from tests.web.conftest import CLINIC_CODE, seed_registry

EXAMPLES = 40


def test_no_server_errors_and_responses_match_the_schema(
    sqlite_engine: Engine, vault: MyNumberVault, tmp_path: Path
) -> None:
    seed_registry(sqlite_engine, vault, tmp_path)
    _id, key = add_clinic(sqlite_engine, CLINIC_CODE, "しかく診療所")
    limits = {"api": {"rate_limit_per_second": 10_000, "rate_limit_burst": 10_000}}
    app = create_app(load_settings({}, limits), sqlite_engine)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def fuzz(case: Any) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {key}"},
                checks=[not_a_server_error, response_schema_conformance],
            )

        fuzz()
