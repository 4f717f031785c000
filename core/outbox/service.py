"""Writing notifications into the outbox, inside the caller's unit of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.outbox.models import OutboxMessage
from core.uow import UnitOfWork

__all__ = ["add_notification", "pending_notifications"]


async def add_notification(
    uow: UnitOfWork,
    *,
    kind: str,
    channel: str,
    address: str,
    payload: dict[str, Any],
    dedupe_key: str,
) -> bool:
    """Queue one notification in the current transaction, once per ``dedupe_key``.

    Returns:
        True if it was queued, False if a notification with that key exists already.
    """
    exists = await uow.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    )
    if exists is not None:
        return False
    uow.session.add(
        OutboxMessage(
            kind=kind,
            channel=channel,
            address=address,
            payload=payload,
            dedupe_key=dedupe_key,
            next_attempt_at=uow.clock.now(),
            created_at=uow.clock.now(),
        )
    )
    await uow.flush()
    return True


async def pending_notifications(uow: UnitOfWork) -> list[OutboxMessage]:
    """Every notification not sent yet, oldest first (for tests and the admin tools)."""
    from core.outbox.models import OutboxStatus

    rows = await uow.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .order_by(OutboxMessage.id)
    )
    return list(rows)
