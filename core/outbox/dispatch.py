"""Sending the outbox, channel by channel: claiming due rows, recording success and failure.

A dispatcher (``bot/handlers/telegram_notify.py`` for Telegram) runs one unit of work per
batch: ``claim_due`` locks the batch, the channel sends each message, then ``mark_sent`` or
``mark_failed`` records the outcome and the unit of work commits. A message that fails is
retried with exponential backoff and parked after ``MAX_ATTEMPTS`` tries, the reason kept in
``last_error``; none is dropped silently. ``stale_reason`` names messages that must not be
sent any more (a reminder of an appointment that started, was cancelled or moved): they are
parked with that reason instead.

On PostgreSQL the claim is ``SELECT ... FOR UPDATE SKIP LOCKED``: two dispatchers never take
the same row, and neither waits for the other. On SQLite a unit of work is exclusive anyway.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select

from core.outbox.models import OutboxMessage, OutboxStatus
from core.outbox.reminders import REMINDER, reminder_stale_reason
from core.uow import UnitOfWork

__all__ = [
    "FIRST_BACKOFF",
    "MAX_ATTEMPTS",
    "MAX_BACKOFF",
    "backoff",
    "claim_due",
    "mark_failed",
    "mark_sent",
    "park",
    "stale_reason",
]

logger = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 8
"""Tries in all before a message is parked (with the backoff below: about an hour of trying)."""
FIRST_BACKOFF: Final = timedelta(seconds=30)
MAX_BACKOFF: Final = timedelta(minutes=30)
ERROR_LENGTH: Final = 500  # last_error is for an operator, not a log


def backoff(
    attempts: int, *, first: timedelta = FIRST_BACKOFF, cap: timedelta = MAX_BACKOFF
) -> timedelta:
    """The wait after the ``attempts``-th failed try: ``first``, doubled each try, at most
    ``cap``."""
    if attempts < 1:
        raise ValueError("attempts starts at 1")
    return min(cap, first * (1 << min(attempts - 1, 30)))


async def claim_due(
    uow: UnitOfWork, *, channel: str, limit: int, now: datetime
) -> list[OutboxMessage]:
    """Lock up to ``limit`` pending messages of a channel that are due at ``now``, oldest due
    first, for the rest of this unit of work.

    On PostgreSQL rows locked by another dispatcher are skipped (``FOR UPDATE SKIP LOCKED``).
    """
    statement = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.channel == channel,
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if uow.dialect == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return list(await uow.session.scalars(statement))


async def mark_sent(uow: UnitOfWork, message: OutboxMessage, *, now: datetime) -> None:
    """Record that a claimed message was delivered."""
    message.status = OutboxStatus.SENT
    message.attempts += 1
    message.sent_at = now
    message.last_error = None
    await uow.flush()


async def park(uow: UnitOfWork, message: OutboxMessage, *, reason: str, now: datetime) -> None:
    """Give up on a message for good, keeping why (a stale reminder, a chat that blocked the
    bot, too many failures)."""
    message.status = OutboxStatus.PARKED
    message.last_error = reason[:ERROR_LENGTH]
    message.next_attempt_at = now
    await uow.flush()
    logger.warning(
        "outbox %s (%s, %s) parked: %s", message.id, message.kind, message.channel, reason
    )


async def mark_failed(
    uow: UnitOfWork,
    message: OutboxMessage,
    *,
    error: str,
    now: datetime,
    max_attempts: int = MAX_ATTEMPTS,
) -> bool:
    """Record a failed try: the message stays pending and is due again after the backoff, or
    is parked once it has failed ``max_attempts`` times. ``error`` is kept in ``last_error``.

    Returns:
        True when the message was parked.
    """
    message.attempts += 1
    if message.attempts >= max_attempts:
        await park(
            uow,
            message,
            reason=f"gave up after {message.attempts} attempts: {error}",
            now=now,
        )
        return True
    message.last_error = error[:ERROR_LENGTH]
    message.next_attempt_at = now + backoff(message.attempts)
    await uow.flush()
    logger.info(
        "outbox %s failed (try %d of %d), next try at %s",
        message.id,
        message.attempts,
        max_attempts,
        message.next_attempt_at.isoformat(),
    )
    return False


async def stale_reason(uow: UnitOfWork, message: OutboxMessage, *, now: datetime) -> str | None:
    """Why a claimed message must not be sent any more (see ``reminder_stale_reason``), or
    None to send it."""
    if message.kind == REMINDER:
        return await reminder_stale_reason(uow, message, now=now)
    return None
