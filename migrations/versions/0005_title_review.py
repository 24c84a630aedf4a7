"""Title review (评审程序): session applicants, public notices, objections, the integrity archive,
supervision flags, the message outbox, document numbering, and generated documents.

Existing documents become kind 'upload'. Generated documents and a public objector's evidence
have no uploading user, so document.uploaded_by_id becomes nullable.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:07:51.419464

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('doc_sequence',
    sa.Column('prefix', sa.String(length=80), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', 'year', name=op.f('pk_doc_sequence'))
    )
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_instance_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('correlation', sa.JSON(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('delivered_to', sa.JSON(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['source_instance_id'], ['process_instance.id'], name=op.f('fk_outbox_message_source_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_status_id', ['status', 'id'], unique=False)

    op.create_table('public_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('session_instance_id', sa.Integer(), nullable=False),
    sa.Column('committee', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=False),
    sa.Column('entry_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_instance_id'], ['process_instance.id'], name=op.f('fk_public_notice_session_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_notice'))
    )
    with op.batch_alter_table('public_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_notice_session_instance_id'), ['session_instance_id'], unique=False)

    op.create_table('session_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_instance_id', sa.Integer(), nullable=False),
    sa.Column('application_instance_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('employer', sa.String(length=200), nullable=False),
    sa.Column('employer_org_id', sa.Integer(), nullable=True),
    sa.Column('specialty', sa.String(length=100), nullable=False),
    sa.Column('target_title', sa.String(length=60), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('application_mode', sa.String(length=20), nullable=False),
    sa.Column('education', sa.String(length=20), nullable=False),
    sa.Column('recommended', sa.Boolean(), nullable=False),
    sa.Column('recommendation_target', sa.String(length=200), nullable=True),
    sa.Column('single_list', sa.Boolean(), nullable=False),
    sa.Column('m26_score', sa.Float(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('yes_votes', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['user_account.id'], name=op.f('fk_session_entry_applicant_id_user_account')),
    sa.ForeignKeyConstraint(['application_instance_id'], ['process_instance.id'], name=op.f('fk_session_entry_application_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['employer_org_id'], ['organisation.id'], name=op.f('fk_session_entry_employer_org_id_organisation')),
    sa.ForeignKeyConstraint(['session_instance_id'], ['process_instance.id'], name=op.f('fk_session_entry_session_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_entry')),
    sa.UniqueConstraint('application_instance_id', name=op.f('uq_session_entry_application_instance_id'))
    )
    with op.batch_alter_table('session_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_entry_applicant_id'), ['applicant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_session_entry_session_instance_id'), ['session_instance_id'], unique=False)

    op.create_table('supervision_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_supervision_flag_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_supervision_flag_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_flag'))
    )
    with op.batch_alter_table('supervision_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_flag_instance_id'), ['instance_id'], unique=False)

    op.create_table('objection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('application_instance_id', sa.Integer(), nullable=False),
    sa.Column('session_instance_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('objector_name', sa.String(length=80), nullable=False),
    sa.Column('objector_contact', sa.String(length=100), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('report_to', sa.String(length=200), nullable=False),
    sa.Column('conclusion', sa.String(length=20), nullable=True),
    sa.Column('finding_type', sa.String(length=40), nullable=True),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('concluded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('concluded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['application_instance_id'], ['process_instance.id'], name=op.f('fk_objection_application_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['concluded_by_id'], ['user_account.id'], name=op.f('fk_objection_concluded_by_id_user_account')),
    sa.ForeignKeyConstraint(['entry_id'], ['session_entry.id'], name=op.f('fk_objection_entry_id_session_entry')),
    sa.ForeignKeyConstraint(['notice_id'], ['public_notice.id'], name=op.f('fk_objection_notice_id_public_notice')),
    sa.ForeignKeyConstraint(['session_instance_id'], ['process_instance.id'], name=op.f('fk_objection_session_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objection'))
    )
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objection_application_instance_id'), ['application_instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objection_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objection_notice_id'), ['notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objection_report_to'), ['report_to'], unique=False)
        batch_op.create_index(batch_op.f('ix_objection_session_instance_id'), ['session_instance_id'], unique=False)

    op.create_table('integrity_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('finding_type', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('finding_date', sa.Date(), nullable=False),
    sa.Column('ban_until', sa.Date(), nullable=False),
    sa.Column('record_until', sa.Date(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('objection_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_integrity_record_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_integrity_record_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['objection_id'], ['objection.id'], name=op.f('fk_integrity_record_objection_id_objection')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_integrity_record_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrity_record'))
    )
    with op.batch_alter_table('integrity_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integrity_record_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=40), nullable=False, server_default='upload'))
        batch_op.add_column(sa.Column('doc_no', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('audience', sa.String(length=20), nullable=True))
        batch_op.alter_column('uploaded_by_id',
               existing_type=sa.INTEGER(),
               nullable=True)



def downgrade() -> None:
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.alter_column('uploaded_by_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('audience')
        batch_op.drop_column('doc_no')
        batch_op.drop_column('kind')

    with op.batch_alter_table('integrity_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integrity_record_user_id'))

    op.drop_table('integrity_record')
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objection_session_instance_id'))
        batch_op.drop_index(batch_op.f('ix_objection_report_to'))
        batch_op.drop_index(batch_op.f('ix_objection_notice_id'))
        batch_op.drop_index(batch_op.f('ix_objection_entry_id'))
        batch_op.drop_index(batch_op.f('ix_objection_application_instance_id'))

    op.drop_table('objection')
    with op.batch_alter_table('supervision_flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_flag_instance_id'))

    op.drop_table('supervision_flag')
    with op.batch_alter_table('session_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_entry_session_instance_id'))
        batch_op.drop_index(batch_op.f('ix_session_entry_applicant_id'))

    op.drop_table('session_entry')
    with op.batch_alter_table('public_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_notice_session_instance_id'))

    op.drop_table('public_notice')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_status_id')

    op.drop_table('outbox_message')
    op.drop_table('doc_sequence')
