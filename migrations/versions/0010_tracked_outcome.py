"""The outcome, title level and competent department of a case as typed columns.

process_instance.outcome, title_level and dept_org are copied from the case data on every save
(as plan_year and committee are since 0008), so the dashboard counts by them without reading
each case's JSON; filled from the case data here.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIELDS = (("outcome", 40), ("title_level", 40), ("dept_org", 200))
BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        for name, size in FIELDS:
            batch_op.add_column(sa.Column(name, sa.String(length=size), nullable=True))
    _backfill()


def _backfill() -> None:
    instances = sa.table("process_instance", sa.column("id", sa.Integer), sa.column("data", sa.JSON),
                         *(sa.column(name, sa.String) for name, _ in FIELDS))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.select(instances.c.id, instances.c.data).where(instances.c.id > last)
                            .order_by(instances.c.id).limit(BATCH)).all()
        if not rows:
            break
        for row in rows:
            data = row.data or {}
            values = {name: data[name][:size] for name, size in FIELDS
                      if isinstance(data.get(name), str) and data[name]}
            if values:
                bind.execute(instances.update().where(instances.c.id == row.id).values(**values))
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        for name, _ in reversed(FIELDS):
            batch_op.drop_column(name)
