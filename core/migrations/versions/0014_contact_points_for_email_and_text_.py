"""Contact points: confirmed email addresses and mobile numbers for updates (issue 22)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:13:55.230310
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import core.db


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contact_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=True),
    sa.Column('wants_status', sa.Boolean(), nullable=False),
    sa.Column('wants_appointments', sa.Boolean(), nullable=False),
    sa.Column('wants_agent_replies', sa.Boolean(), nullable=False),
    sa.Column('verified_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('chat_channel', sa.String(length=20), nullable=True),
    sa.Column('chat_id', sa.String(length=64), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_sealed', sa.String(length=400), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_contact_points_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_points')),
    sa.UniqueConstraint('channel', 'address', name=op.f('uq_contact_points_channel')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_contact_points_token_hash'))
    )
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_points_account_id'), ['account_id'], unique=False)

    op.create_table('contact_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=128), nullable=False),
    sa.Column('expires_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('used_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact_points.id'], name=op.f('fk_contact_codes_contact_id_contact_points'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_codes'))
    )
    with op.batch_alter_table('contact_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_codes_contact_id'), ['contact_id'], unique=False)

    op.create_table('contact_follows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_contact_follows_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact_points.id'], name=op.f('fk_contact_follows_contact_id_contact_points'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_follows')),
    sa.UniqueConstraint('contact_id', 'case_id', name=op.f('uq_contact_follows_contact_id'))
    )
    with op.batch_alter_table('contact_follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_follows_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_follows_contact_id'), ['contact_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('contact_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_follows_contact_id'))
        batch_op.drop_index(batch_op.f('ix_contact_follows_case_id'))

    op.drop_table('contact_follows')
    with op.batch_alter_table('contact_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_codes_contact_id'))

    op.drop_table('contact_codes')
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_points_account_id'))

    op.drop_table('contact_points')
