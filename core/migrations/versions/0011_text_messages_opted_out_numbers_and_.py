"""Text messages: opted-out numbers and delivery statuses

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:16:47.689602
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import core.db


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sms_deliveries',
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error_code', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sid', name=op.f('pk_sms_deliveries'))
    )
    with op.batch_alter_table('sms_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_deliveries_outbox_id'), ['outbox_id'], unique=False)

    op.create_table('sms_opt_outs',
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('opted_out_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('keyword', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_sms_opt_outs'))
    )


def downgrade() -> None:
    op.drop_table('sms_opt_outs')
    with op.batch_alter_table('sms_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_deliveries_outbox_id'))

    op.drop_table('sms_deliveries')
