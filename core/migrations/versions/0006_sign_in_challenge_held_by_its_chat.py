"""a sign-in challenge is held by the chat that typed the password (email_codes.holder)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 14:20:00.000000

Sign-in challenges open before the upgrade have no holder and are no longer found: a person
half-way through signing in types the password again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('email_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('email_codes', schema=None) as batch_op:
        batch_op.drop_column('holder')
