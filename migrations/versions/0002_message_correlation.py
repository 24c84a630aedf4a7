"""Message subscriptions keep the values a sender may correlate on.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("message_subscription") as batch:
        batch.add_column(sa.Column("correlation", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("message_subscription") as batch:
        batch.drop_column("correlation")
