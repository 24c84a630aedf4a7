"""Self-managed evaluation and supervision (评审监督): authority decisions and each committee's
authority state, supervision findings, random inspection draws, notifications (reminders), the
self-managed unit of a 自主评聘委员会 and the units a committee scope is limited to.

Existing committees start ACTIVE.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 21:20:32.970055

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('authority_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=False),
    sa.Column('to_state', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('doc_no', sa.String(length=80), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['committee_id'], ['committee.id'], name=op.f('fk_authority_decision_committee_id_committee')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_authority_decision_decided_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authority_decision'))
    )
    with op.batch_alter_table('authority_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authority_decision_committee_id'), ['committee_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=40), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_notification_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_notification_org_id_organisation')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_notification_org_role', ['org_id', 'role'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_user_id'), ['user_id'], unique=False)

    op.create_table('random_draw',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_year', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('eligible', sa.JSON(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('selected', sa.JSON(), nullable=False),
    sa.Column('drawn_by_id', sa.Integer(), nullable=True),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['user_account.id'], name=op.f('fk_random_draw_drawn_by_id_user_account')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_random_draw_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_random_draw'))
    )
    with op.batch_alter_table('random_draw', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_random_draw_plan_year'), ['plan_year'], unique=False)

    op.create_table('supervision_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('plan_year', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['committee_id'], ['committee.id'], name=op.f('fk_supervision_finding_committee_id_committee')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_supervision_finding_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_supervision_finding_org_id_organisation')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_supervision_finding_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_finding'))
    )
    with op.batch_alter_table('supervision_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_finding_committee_id'), ['committee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_finding_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_supervision_finding_year_kind', ['plan_year', 'kind'], unique=False)

    with op.batch_alter_table('committee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('authority_state', sa.String(length=20), nullable=False, server_default='ACTIVE'))
        batch_op.add_column(sa.Column('self_managed_org_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_committee_self_managed_org_id_organisation'), 'organisation', ['self_managed_org_id'], ['id'])

    with op.batch_alter_table('committee_scope', schema=None) as batch_op:
        batch_op.add_column(sa.Column('employers', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('committee_scope', schema=None) as batch_op:
        batch_op.drop_column('employers')

    with op.batch_alter_table('committee', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_committee_self_managed_org_id_organisation'), type_='foreignkey')
        batch_op.drop_column('self_managed_org_id')
        batch_op.drop_column('authority_state')

    with op.batch_alter_table('supervision_finding', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_finding_year_kind')
        batch_op.drop_index(batch_op.f('ix_supervision_finding_instance_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_finding_committee_id'))

    op.drop_table('supervision_finding')
    with op.batch_alter_table('random_draw', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_random_draw_plan_year'))

    op.drop_table('random_draw')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_user_id'))
        batch_op.drop_index('ix_notification_org_role')
        batch_op.drop_index(batch_op.f('ix_notification_instance_id'))

    op.drop_table('notification')
    with op.batch_alter_table('authority_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authority_decision_committee_id'))

    op.drop_table('authority_decision')
