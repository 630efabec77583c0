"""Clinics and their API keys: one-time issue, authentication, revocation, the cache."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text, update

from shikaku.registry.db import make_engine
from shikaku.registry.tables import clinics
from shikaku.security.apikeys import new_api_key, parse_api_key
from shikaku.service import clinics as service
from shikaku.service.clinics import (
    ClinicError,
    KeyCache,
    add_clinic,
    authenticate,
    list_clinics,
    revoke_clinic,
)

CODE = "0110113719"  # DOMAIN.md §4's example
OTHER = "1310000011"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    service.key_cache.clear()
    yield
    service.key_cache.clear()


def count_queries(engine: Engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen  # statements, not BEGIN (PostgreSQL's is not a statement)


def statements(seen: list[str]) -> list[str]:
    return [s for s in seen if not s.startswith("BEGIN")]


def test_add_then_authenticate(engine: Engine) -> None:
    clinic_id, key = add_clinic(engine, "０１１０１１３７１９", " 札幌しかく内科 ")  # full width
    clinic = authenticate(engine, key)
    assert clinic is not None
    assert (clinic.id, clinic.institution_code, clinic.name) == (clinic_id, CODE, "札幌しかく内科")
    assert clinic.active
    with engine.connect() as conn:
        row = conn.execute(text("SELECT key_id, key_hash FROM clinics")).one()
        assert authenticate(conn, key) == clinic  # a connection works as well as an engine
    key_id, secret = parse_api_key(key) or ("", b"")
    assert row.key_id == key_id and bytes(row.key_hash) == hashlib.sha256(secret).digest()
    assert key.split("_", 2)[2] not in str(list_clinics(engine))  # the secret is stored nowhere


def test_wrong_secret_and_unknown_key(engine: Engine) -> None:
    _, key = add_clinic(engine, CODE, "札幌しかく内科")
    key_id = parse_api_key(key)[0]  # type: ignore[index]
    forged, _, _ = new_api_key()
    assert authenticate(engine, f"sk_{key_id}_{forged.split('_', 2)[2]}") is None
    assert authenticate(engine, forged) is None  # unknown key_id
    assert authenticate(engine, "sk_nonsense") is None
    assert authenticate(engine, key) is not None


def test_revoked_key_is_refused_at_once_in_this_process(engine: Engine) -> None:
    _, key = add_clinic(engine, CODE, "札幌しかく内科")
    assert authenticate(engine, key) is not None  # now cached
    assert revoke_clinic(engine, CODE) is True
    assert authenticate(engine, key) is None
    assert revoke_clinic(engine, CODE) is False  # already revoked
    (clinic,) = list_clinics(engine)
    assert not clinic.active and clinic.revoked_at is not None
    with pytest.raises(ClinicError, match="登録されていません"):
        revoke_clinic(engine, OTHER)


def test_rotation_is_revoke_then_add(engine: Engine) -> None:
    clinic_id, old = add_clinic(engine, CODE, "札幌しかく内科")
    revoke_clinic(engine, CODE)
    same_id, new = add_clinic(engine, CODE, "札幌しかく内科クリニック")
    assert same_id == clinic_id  # the audit log's clinic_id keeps meaning the same clinic
    assert authenticate(engine, old) is None
    clinic = authenticate(engine, new)
    assert clinic is not None and clinic.name == "札幌しかく内科クリニック"
    assert [c.key_id for c in list_clinics(engine)] == [parse_api_key(new)[0]]  # type: ignore[index]


def test_duplicate_code_is_refused(engine: Engine) -> None:
    _, key = add_clinic(engine, CODE, "札幌しかく内科")
    with pytest.raises(ClinicError) as info:
        add_clinic(engine, CODE, "別の名前")
    assert "登録済み" in info.value.ja and "revoke" in info.value.ja
    assert "already registered" in info.value.en
    assert authenticate(engine, key) is not None  # the first key still works
    assert len(list_clinics(engine)) == 1


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("0110113718", "検証番号"),  # a wrong check digit
        ("011011371", "10桁"),
        ("0120113719", "点数表"),
        ("01101137x9", "数字ではありません"),
    ],
)
def test_bad_institution_code_is_refused(engine: Engine, code: str, words: str) -> None:
    with pytest.raises(ClinicError) as info:
        add_clinic(engine, code, "札幌しかく内科")
    assert words in info.value.ja
    assert info.value.en
    assert list_clinics(engine) == []


def test_empty_name_is_refused(engine: Engine) -> None:
    with pytest.raises(ClinicError, match="名称"):
        add_clinic(engine, CODE, "  ")


def test_list_clinics_by_code(engine: Engine) -> None:
    add_clinic(engine, OTHER, "東京しかく歯科")
    add_clinic(engine, CODE, "札幌しかく内科")
    revoke_clinic(engine, OTHER)
    listed = [(c.institution_code, c.active) for c in list_clinics(engine)]
    assert listed == [(CODE, True), (OTHER, False)]


def test_authenticate_costs_one_indexed_query_then_none(engine: Engine) -> None:
    _, key = add_clinic(engine, CODE, "札幌しかく内科")
    queries = count_queries(engine)
    for _ in range(50):
        assert authenticate(engine, key) is not None
    assert len(statements(queries)) == 1
    assert "WHERE clinics.key_id =" in statements(queries)[0]
    for _ in range(3):
        assert authenticate(engine, key, cache=None) is not None
    assert len(statements(queries)) == 4
    assert authenticate(engine, "sk_x") is None  # malformed: no query at all
    assert len(statements(queries)) == 4


def test_other_process_revocation_takes_effect_after_the_ttl(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, key = add_clinic(engine, CODE, "札幌しかく内科")
    clock = [1000.0]
    monkeypatch.setattr(service.time, "monotonic", lambda: clock[0])
    cache = KeyCache(ttl=5.0)
    assert authenticate(engine, key, cache=cache) is not None
    with engine.begin() as conn:  # as `shikaku clinics revoke` does, from another process
        conn.execute(update(clinics).values(revoked_at=text("CURRENT_TIMESTAMP")))
    clock[0] += 4.9
    assert authenticate(engine, key, cache=cache) is not None  # still within the ttl
    clock[0] += 0.2
    assert authenticate(engine, key, cache=cache) is None


def test_cache_is_bounded_and_per_database(
    engine: Engine, tmp_path: Path, sqlite_template: Path
) -> None:
    cache = KeyCache(ttl=60, max_entries=3)
    _, key = add_clinic(engine, CODE, "札幌しかく内科")
    assert authenticate(engine, key, cache=cache) is not None
    (tmp_path / "other").mkdir()
    other = tmp_path / "other" / "registry.db"
    other.write_bytes(sqlite_template.read_bytes())
    another = make_engine(f"sqlite:///{other}")
    assert authenticate(another, key, cache=cache) is None  # another database
    another.dispose()
    for _ in range(5):  # unknown key ids are cached too, the oldest entries leave
        assert authenticate(engine, new_api_key()[0], cache=cache) is None
    assert len(cache._entries) == 3
    assert authenticate(engine, key, cache=cache) is not None
    assert authenticate(engine, key, cache=KeyCache(ttl=0)) is not None


def test_a_key_id_already_in_use_is_drawn_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, first = add_clinic(engine, CODE, "札幌しかく内科")
    taken = parse_api_key(first)[0]  # type: ignore[index]
    fresh = new_api_key()
    draws = iter([(f"sk_{taken}_{'A' * 43}", taken, b"x" * 32), fresh])
    monkeypatch.setattr(service, "new_api_key", lambda: next(draws))
    _, second = add_clinic(engine, OTHER, "東京しかく歯科")
    assert second == fresh[0]
    assert authenticate(engine, first) is not None and authenticate(engine, second) is not None
