"""Performance archive (业绩档案): one archive per person, its achievements, the employer's audit.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "performance_archive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("audited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("audited_by_id", sa.Integer(), nullable=True),
        sa.Column("audit_opinion", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["audited_by_id"], ["user_account.id"],
                                name=op.f("fk_performance_archive_audited_by_id_user_account")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_performance_archive_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_archive")),
        sa.UniqueConstraint("user_id", name=op.f("uq_performance_archive_user_id")),
    )
    op.create_table(
        "achievement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("achieved_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_achievement_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_achievement")),
    )
    op.create_index(op.f("ix_achievement_user_id"), "achievement", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_achievement_user_id"), table_name="achievement")
    op.drop_table("achievement")
    op.drop_table("performance_archive")
