"""The audit trail as hash chains: event.chain_seq and event.hash, and the chain heads.

An instance's chain has its head on the instance row (process_instance.audit_seq, audit_hash);
the chain of events without an instance has the audit_chain row 0. Existing events are linked
here, per instance and for events without an instance, in id order (the order they were
written). On PostgreSQL the append-only trigger is switched off for the backfill only, inside
this migration's transaction.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime
from app.models.event import canonical_details, link_hash

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000


def upgrade() -> None:
    op.create_table(
        'audit_chain',
        sa.Column('chain', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('chain', name=op.f('pk_audit_chain')),
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('audit_hash', sa.String(length=64), server_default='', nullable=False))
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE event DISABLE TRIGGER event_append_only")
    _link_existing()
    if postgres:
        op.execute("ALTER TABLE event ENABLE TRIGGER event_append_only")


def _link_existing() -> None:
    event = sa.table("event", sa.column("id", sa.Integer), sa.column("instance_id", sa.Integer),
                     sa.column("at", UTCDateTime()), sa.column("type", sa.String), sa.column("actor_id", sa.Integer),
                     sa.column("task_id", sa.Integer), sa.column("bpmn_id", sa.String), sa.column("details", sa.JSON),
                     sa.column("chain_seq", sa.Integer), sa.column("hash", sa.String))
    heads = sa.table("audit_chain", sa.column("chain", sa.Integer), sa.column("seq", sa.Integer),
                     sa.column("hash", sa.String))
    instances = sa.table("process_instance", sa.column("id", sa.Integer), sa.column("audit_seq", sa.Integer),
                         sa.column("audit_hash", sa.String))
    bind = op.get_bind()
    state: dict[int, tuple[int, str]] = {}
    last_id = 0
    while True:
        rows = bind.execute(sa.select(event).where(event.c.id > last_id).order_by(event.c.id).limit(BATCH)).all()
        if not rows:
            break
        links = []
        for row in rows:
            chain = row.instance_id or 0
            seq, prev = state.get(chain, (0, ""))
            seq += 1
            digest = link_hash(prev, chain, seq, row.at, row.type, row.actor_id, row.task_id, row.bpmn_id,
                               canonical_details(row.details))
            state[chain] = (seq, digest)
            links.append({"row_id": row.id, "seq": seq, "digest": digest})
        bind.execute(event.update().where(event.c.id == sa.bindparam("row_id"))
                     .values(chain_seq=sa.bindparam("seq"), hash=sa.bindparam("digest")), links)
        last_id = rows[-1].id
    if 0 in state:
        seq, digest = state.pop(0)
        bind.execute(heads.insert(), [{"chain": 0, "seq": seq, "hash": digest}])
    if state:
        bind.execute(instances.update().where(instances.c.id == sa.bindparam("row_id"))
                     .values(audit_seq=sa.bindparam("seq"), audit_hash=sa.bindparam("digest")),
                     [{"row_id": c, "seq": s, "digest": h} for c, (s, h) in state.items()])


def downgrade() -> None:
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_column('audit_hash')
        batch_op.drop_column('audit_seq')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('chain_seq')
    op.drop_table('audit_chain')
