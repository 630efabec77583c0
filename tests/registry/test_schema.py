"""Migrations produce exactly the tables in code, on both databases; columns are documented."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from shikaku.registry.columns import COLUMNS
from shikaku.registry.db import current_revision, head_revision
from shikaku.registry.tables import metadata


def test_migrations_match_the_tables(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    assert diff == []


def test_indexes_for_the_hot_paths(engine: Engine) -> None:
    insp = inspect(engine)
    # besides the staff console's name search (issue 16; expression indexes, which SQLite's
    # inspector does not list): a common name among 1M members needs them
    search = {"ix_persons_search_name", "ix_persons_search_kana"}
    persons_idx = {
        tuple(i["column_names"]) for i in insp.get_indexes("persons") if i["name"] not in search
    }
    persons_uq = {tuple(u["column_names"]) for u in insp.get_unique_constraints("persons")}
    # one index serves the importer, the clinic lookup, dependents and the extraction order
    assert ("insurer_number", "symbol", "number", "branch") in persons_uq
    assert ("my_number_bidx",) in persons_idx  # duplicate My Numbers
    pk = insp.get_pk_constraint("eligibility_periods")["constrained_columns"]
    assert pk == ["person_id", "eligible_from"]  # the join from persons, and the upsert key
    assert persons_idx - persons_uq == {("my_number_bidx",)}, "every index slows the import"


def test_every_import_column_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "import.md").read_text(encoding="utf-8")
    for columns in COLUMNS.values():
        for col in columns:
            assert f"| {col.header} |" in doc, col.header
            for alias in col.aliases:
                assert alias in doc, alias


def test_database_errors_never_carry_row_values(engine: Engine) -> None:
    """A failed statement's message must not echo names or ciphertexts into logs."""
    import pytest
    from sqlalchemy import exc, insert

    from shikaku.registry.tables import employers

    row = {
        "insurer_number": "01130012", "symbol": "1", "name": "秘密　太郎", "name_kana": "ヒミツ",
        "postal_code": "1000013", "address": "東京都", "delivery": "employer", "row_hash": b"x",
    }  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(employers).values(**row))
    with pytest.raises(exc.IntegrityError) as info, engine.begin() as conn:
        conn.execute(insert(employers).values(**row))
    assert "秘密" not in str(info.value)
    assert "hide_parameters" in str(info.value)
