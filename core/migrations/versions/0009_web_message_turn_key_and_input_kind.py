"""Web chat messages keep their turn's idempotency key and the kind of input they ask for

``web_messages.turn_key``: the key the browser sent with the message (``Idempotency-Key``); a
message sent again with the same key gets the first turn's answer back and runs no turn.
``web_messages.input_kind``: what the next input is (a password, a code of digits, a code of
letters and digits, an answer), so a reloaded page shows the right field.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 17:00:00.000000
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
    with op.batch_alter_table('web_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('input_kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('turn_key', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_web_messages_session_id_turn_key', ['session_id', 'turn_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_web_messages_session_id_turn_key')
        batch_op.drop_column('turn_key')
        batch_op.drop_column('input_kind')
