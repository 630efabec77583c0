"""staff console at work (issue 16): name search indexes (spaceless name and フリガナ), the
audit log's staff rows indexed by person and time, form idempotency keys, background jobs,
a reason for reissues and for My Number decisions

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD_REASONS = "reason IN ('lost', 'my_number')"
NEW_REASONS = "reason IN ('lost', 'damaged', 'undelivered', 'other', 'my_number')"
# The console's name search compares these expressions as byte ranges: PostgreSQL builds
# them with COLLATE "C" whatever the database's collation (registry.tables.spaceless).
SEARCH_INDEXES = {"ix_persons_search_name": "name", "ix_persons_search_kana": "name_kana"}


def upgrade() -> None:
    # SQLite's batch mode reflects the tables the altered ones refer to (persons), whose
    # expression indexes SQLAlchemy cannot reflect: it says so, and they are kept as they are.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        _upgrade()


def _upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    collate = ' COLLATE "C"' if postgres else ""
    for name, column in SEARCH_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON persons ((replace({column}, '\u3000', ''){collate}))")
    op.create_index(
        "ix_audit_log_staff_person",
        "audit_log",
        ["person_id"],
        sqlite_where=sa.text("clinic_id IS NULL"),
        postgresql_where=sa.text("clinic_id IS NULL"),
    )
    op.create_index(
        "ix_audit_log_staff_at",
        "audit_log",
        ["at"],
        sqlite_where=sa.text("clinic_id IS NULL"),
        postgresql_where=sa.text("clinic_id IS NULL"),
    )
    with op.batch_alter_table("my_number_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_note", sa.Text(), nullable=True))
    with op.batch_alter_table("reissue_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f("ck_reissue_requests_reason"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reissue_requests_reason"), NEW_REASONS)
    op.create_table(
        "console_form_keys",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("done_url", sa.Text(), nullable=True),
        sa.Column("done_message", sa.Text(), nullable=True),
        sa.Column("done_level", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.id"],
            name=op.f("fk_console_form_keys_user_id_console_users"),
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_console_form_keys")),
    )
    op.create_table(
        "console_jobs",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("run_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('run', 'verify')", name=op.f("ck_console_jobs_kind")),
        sa.CheckConstraint(
            "status IN ('running', 'done', 'failed')", name=op.f("ck_console_jobs_status")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_console_jobs_run_id_runs")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["console_users.id"], name=op.f("fk_console_jobs_user_id_console_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_jobs")),
    )
    op.create_index("ix_console_jobs_run_id", "console_jobs", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_console_jobs_run_id", table_name="console_jobs")
    op.drop_table("console_jobs")
    op.drop_table("console_form_keys")
    with op.batch_alter_table("reissue_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reissue_requests_reason"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reissue_requests_reason"), OLD_REASONS)
        batch_op.drop_column("note")
    with op.batch_alter_table("my_number_reports", schema=None) as batch_op:
        batch_op.drop_column("decision_note")
    op.drop_index("ix_audit_log_staff_at", table_name="audit_log")
    op.drop_index("ix_audit_log_staff_person", table_name="audit_log")
    for name in SEARCH_INDEXES:
        op.drop_index(name, table_name="persons")
