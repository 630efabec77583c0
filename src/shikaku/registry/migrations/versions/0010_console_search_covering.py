"""staff console search: the name and フリガナ indexes cover a page's choice (id, 記号・番号・
枝番, 生年月日), so a common name's count and page read no table rows (issue 16)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SEARCH_INDEXES = {"ix_persons_search_name": "name", "ix_persons_search_kana": "name_kana"}
COVERS = "id, symbol, number, branch, birth_date"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, column in SEARCH_INDEXES.items():
        op.drop_index(name, table_name="persons")
        if postgres:  # the column itself too: the planner needs it for an index-only scan
            op.execute(
                f"CREATE INDEX {name} ON persons ((replace({column}, '\u3000', '') "
                f'COLLATE "C")) INCLUDE ({column}, {COVERS})'
            )
        else:  # SQLite has no INCLUDE; the rowid (id) is in every index
            op.execute(
                f"CREATE INDEX {name} ON persons (replace({column}, '\u3000', ''), "
                "symbol, number, branch, birth_date)"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    collate = ' COLLATE "C"' if postgres else ""
    for name, column in SEARCH_INDEXES.items():
        op.drop_index(name, table_name="persons")
        op.execute(f"CREATE INDEX {name} ON persons ((replace({column}, '\u3000', ''){collate}))")
