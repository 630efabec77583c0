"""Every request of the hostile corpus (tests/corpus/api/requests.json) through the real app,
on SQLite and on PostgreSQL: the exact status, never a 5xx, errors in the format of their
path (problem+json under /v1, a FHIR OperationOutcome under /fhir) naming the field or
element at fault, and no answer a cache may keep."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.operationoutcome import OperationOutcome

from shikaku.registry.db import make_engine
from shikaku.security.mynumber import MyNumberVault
from shikaku.service.clinics import add_clinic
from shikaku.settings import load_settings
from shikaku.web.app import create_app
from tests.conftest import FIXED_KEY, _emptied_postgres
from tests.web.conftest import CLINIC_CODE, query, seed_registry
from tests.web.test_fhir import request as fhir_request

CORPUS = Path(__file__).parents[1] / "corpus" / "api" / "requests.json"
CASES: list[dict[str, Any]] = json.loads(CORPUS.read_text(encoding="utf-8"))["cases"]
BASES = {"eligibility": query, "fhir": fhir_request}


def build(value: Any) -> Any:
    """A corpus value with its {"$repeat": [text, n]} and {"$join": [...]} built."""
    if isinstance(value, dict):
        if "$repeat" in value:
            text, times = value["$repeat"]
            return text * times
        if "$join" in value:
            return "".join(build(v) for v in value["$join"])
        return {k: build(v) for k, v in value.items()}
    if isinstance(value, list):
        return [build(v) for v in value]
    return value


def _walk(body: Any, dotted: str) -> tuple[Any, str | int]:
    """The container holding the last part of `dotted`, and that part's key or index."""
    *parents, last = dotted.split(".")
    node = body
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, int(last) if isinstance(node, list) else last


def body_of(case: dict[str, Any]) -> bytes | None:
    if "raw" in case:
        return str(case["raw"]).encode()
    if "raw_hex" in case:
        return bytes.fromhex(case["raw_hex"])
    if "raw_repeat" in case:
        text, times = case["raw_repeat"]
        return (text * times).encode()
    if "json" in case:
        return json.dumps(case["json"]).encode()
    if "body" not in case:
        return None
    body = BASES[case["body"]]()
    for dotted, value in build(case.get("set", {})).items():
        node, key = _walk(body, dotted)
        node[key] = value
    for dotted in case.get("drop", []):
        node, key = _walk(body, dotted)
        del node[key]
    raws = build(case.get("raw_template", {}))
    for name in raws:
        body[name] = f"@@{name}@@"
    text = json.dumps(body, ensure_ascii=False)
    for name, raw in raws.items():
        text = text.replace(f'"@@{name}@@"', raw)
    return text.encode()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def app_client(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, str]]:
    """One seeded registry and app per database for the whole corpus (each case only reads)."""
    tmp = tmp_path_factory.mktemp("hostile")
    if request.param == "sqlite":
        path = tmp / "registry.db"
        path.write_bytes(sqlite_template.read_bytes())
        engine = make_engine(f"sqlite:///{path}")
    else:
        engine = _emptied_postgres(request.getfixturevalue("pg_url"))
    seed_registry(engine, MyNumberVault(FIXED_KEY), tmp)
    _clinic_id, key = add_clinic(engine, CLINIC_CODE, "しかく診療所")
    limits = {"api": {"rate_limit_per_second": 100_000, "rate_limit_burst": 100_000}}
    try:
        with TestClient(create_app(load_settings({}, limits), engine)) as client:
            yield client, key
    finally:
        engine.dispose()


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_hostile_request(app_client: tuple[TestClient, str], case: dict[str, Any]) -> None:
    client, key = app_client
    path: str = case["path"]
    fhir = path.startswith("/fhir")
    headers = build(case.get("headers", {}))
    if case.get("auth", True):
        headers["Authorization"] = f"Bearer {key}"
    content = body_of(case)
    content_type = case.get("content_type", "application/fhir+json" if fhir else "application/json")
    if content is not None and content_type is not None:
        headers["Content-Type"] = content_type
    params = build(case.get("query"))
    r = client.request(case["method"], path, content=content, headers=headers, params=params)

    assert r.status_code == case["status"], r.text[:500]
    assert r.status_code < 500
    if path != "/fhir/metadata":
        assert r.headers["cache-control"] == "no-store"
    if r.status_code < 400:
        return
    if fhir:
        assert r.headers["content-type"].startswith("application/fhir+json")
        issues = OperationOutcome.model_validate(r.json()).issue
        named = [e for i in issues for e in i.expression or []]
    else:
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["status"] == r.status_code
        named = [e["field"] for e in problem.get("errors", [])]
    if "names" in case:
        assert case["names"] in named, named
