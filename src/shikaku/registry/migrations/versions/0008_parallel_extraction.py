"""parallel extraction (issue 18): run_extract_tasks (each task's summary, written with its
ledger rows: a task run twice writes nothing again) and run_letters (home letters between
the range tasks and the postal-area batching)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "run_extract_tasks",
        sa.Column("run_id", Id, nullable=False),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_extract_tasks_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "task", name=op.f("pk_run_extract_tasks")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "run_letters",
        sa.Column("run_id", Id, nullable=False),
        sa.Column("sort_key", sa.LargeBinary(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_run_letters_run_id_runs")),
        sa.PrimaryKeyConstraint("run_id", "sort_key", name=op.f("pk_run_letters")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("run_letters")
    op.drop_table("run_extract_tasks")
