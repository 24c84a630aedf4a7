"""Reset checkpoints packed: deflated against the instance's previous checkpoint (issue 8, B5).

Existing rows keep their JSON state; new rows leave it empty and carry the packed bytes. The
copy of the case's result fields goes (nothing read it; the state holds the data).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 08:30:00

"""
import json
import zlib
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('instance_checkpoint', schema=None) as batch_op:
        batch_op.alter_column('state', existing_type=sa.JSON(), nullable=True)
        batch_op.add_column(sa.Column('packed', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('base_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('depth', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_column('data')
        batch_op.create_foreign_key(batch_op.f('fk_instance_checkpoint_base_id_instance_checkpoint'),
                                    'instance_checkpoint', ['base_id'], ['id'])


def _unpack_all() -> None:
    """Give every packed row its JSON state again (oldest first: a row's base is older)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, base_id, packed FROM instance_checkpoint "
                                "WHERE state IS NULL ORDER BY id")).all()
    texts: dict[int, bytes] = {}
    for row_id, base_id, packed in rows:
        if base_id is None:
            raw = zlib.decompress(packed)
        else:
            if base_id not in texts:  # a base that kept its JSON state
                base = bind.execute(sa.text("SELECT state FROM instance_checkpoint WHERE id = :id"),
                                    {"id": base_id}).scalar_one()
                base = json.loads(base) if isinstance(base, str) else base
                texts[base_id] = json.dumps(base, separators=(",", ":"), ensure_ascii=False).encode()
            inflater = zlib.decompressobj(zdict=texts[base_id])
            raw = inflater.decompress(packed) + inflater.flush()
        texts[row_id] = raw
        bind.execute(sa.text("UPDATE instance_checkpoint SET state = :state WHERE id = :id"),
                     {"state": raw.decode(), "id": row_id})


def downgrade() -> None:
    _unpack_all()
    with op.batch_alter_table('instance_checkpoint', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_instance_checkpoint_base_id_instance_checkpoint'), type_='foreignkey')
        batch_op.drop_column('depth')
        batch_op.add_column(sa.Column('data', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.drop_column('base_id')
        batch_op.drop_column('packed')
        batch_op.alter_column('state', existing_type=sa.JSON(), nullable=False)
