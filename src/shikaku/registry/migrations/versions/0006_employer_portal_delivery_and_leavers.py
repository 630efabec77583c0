"""employer portal: electronic delivery per employer (employers.electronic_delivery), a
leaver's reason and the envelope's arrival at the insurer (envelope_returns.left_reason,
received_at)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LEFT_REASONS = "left_reason IS NULL OR left_reason IN ('retired', 'died', 'dependent', 'other')"


def upgrade() -> None:
    with op.batch_alter_table("employers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("electronic_delivery", sa.Boolean(), nullable=True))

    with op.batch_alter_table("envelope_returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_reason", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("received_at", sa.DateTime(), nullable=True))
        batch_op.create_check_constraint(op.f("ck_envelope_returns_left_reason"), LEFT_REASONS)


def downgrade() -> None:
    with op.batch_alter_table("envelope_returns", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_envelope_returns_left_reason"), type_="check")
        batch_op.drop_column("received_at")
        batch_op.drop_column("left_reason")

    with op.batch_alter_table("employers", schema=None) as batch_op:
        batch_op.drop_column("electronic_delivery")
