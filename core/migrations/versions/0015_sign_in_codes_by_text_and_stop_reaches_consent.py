"""Sign-in codes by text message (the account's mobile number) and STOP reaching contact points

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 20:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms_number', sa.String(length=16), nullable=True))
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('stopped_by_keyword', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.drop_column('stopped_by_keyword')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('sms_number')
