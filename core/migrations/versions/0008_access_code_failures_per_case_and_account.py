"""Wrong access codes counted per case and account, with a time limit

The per-case count (``cases.access_code_attempts``) locked a case for everyone, its owner
included, until the help desk reset it. It is replaced by ``access_code_failures``, one row
per case and account. Cases locked under the old rule start unlocked: which account made the
wrong tries was never recorded.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 14:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import core.db


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('access_code_failures',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_access_code_failures_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_access_code_failures_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'account_id', name=op.f('pk_access_code_failures'))
    )
    with op.batch_alter_table('access_code_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_code_failures_account_id'), ['account_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('access_code_attempts')


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('access_code_attempts', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('access_code_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_code_failures_account_id'))

    op.drop_table('access_code_failures')
