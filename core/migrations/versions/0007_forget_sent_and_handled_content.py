"""Forget the content of sent and parked outbox rows and of handled inbox updates

What a deployment kept before these were emptied at once (``core.outbox.dispatch.mark_sent``
and ``park``, ``core.inbox.mark_handled``): replies as sent to Telegram (a new backup code among
them) and updates as received (a password typed at a secret step). No schema change.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 14:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_outbox = sa.table('outbox', sa.column('status', sa.String()), sa.column('payload', sa.JSON()))
_inbox = sa.table(
    'channel_inbox', sa.column('handled_at', sa.DateTime()), sa.column('payload', sa.JSON())
)


def upgrade() -> None:
    op.execute(
        _outbox.update()
        .where(_outbox.c.status.in_(['sent', 'parked']))
        .values(payload=sa.literal({}, sa.JSON()))
    )
    op.execute(
        _inbox.update()
        .where(_inbox.c.handled_at.is_not(None))
        .values(payload=sa.literal({}, sa.JSON()))
    )


def downgrade() -> None:
    pass  # what was forgotten stays forgotten
