"""employer portal: run_partitions indexed by employer (an employer's parcels across runs
without reading every partition of every run)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_partitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_run_partitions_employer_id"), ["employer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("run_partitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_partitions_employer_id"))
