"""Review committees and their yearly scope (附件1 rows).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 11:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "committee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("short_name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=4), nullable=False),
        sa.Column("series", sa.String(length=60), nullable=False),
        sa.Column("location", sa.String(length=40), nullable=False),
        sa.Column("office", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name=op.f("fk_committee_org_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee")),
        sa.UniqueConstraint("org_id", name=op.f("uq_committee_org_id")),
    )
    op.create_table(
        "committee_scope",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("plan_year", sa.Integer(), nullable=False),
        sa.Column("titles_evaluated", sa.JSON(), nullable=False),
        sa.Column("titles_recommended", sa.JSON(), nullable=False),
        sa.Column("specialties", sa.JSON(), nullable=True),
        sa.Column("counties", sa.JSON(), nullable=True),
        sa.Column("unit_types", sa.JSON(), nullable=True),
        sa.Column("unit_types_by_title", sa.JSON(), nullable=True),
        sa.Column("exclude_self_managed", sa.Boolean(), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("recommendation_target", sa.String(length=40), nullable=True),
        sa.Column("start_month", sa.String(length=7), nullable=True),
        sa.Column("finish_month", sa.String(length=7), nullable=True),
        sa.Column("scope_text", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["committee_id"], ["committee.id"],
                                name=op.f("fk_committee_scope_committee_id_committee")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_scope")),
        sa.UniqueConstraint("committee_id", "plan_year", name="uq_committee_scope_committee_id"),
    )
    op.create_index(op.f("ix_committee_scope_committee_id"), "committee_scope", ["committee_id"])
    op.create_index(op.f("ix_committee_scope_plan_year"), "committee_scope", ["plan_year"])


def downgrade() -> None:
    op.drop_index(op.f("ix_committee_scope_plan_year"), table_name="committee_scope")
    op.drop_index(op.f("ix_committee_scope_committee_id"), table_name="committee_scope")
    op.drop_table("committee_scope")
    op.drop_table("committee")
