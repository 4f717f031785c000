"""Processing times loaded by an operator (casebot admin import-processing-times)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 17:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('processing_times',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_type', sa.String(length=20), nullable=False),
    sa.Column('office', sa.String(length=120), nullable=False),
    sa.Column('time_range', sa.String(length=60), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_processing_times'))
    )
    with op.batch_alter_table('processing_times', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processing_times_form_type'), ['form_type'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('processing_times', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processing_times_form_type'))

    op.drop_table('processing_times')
