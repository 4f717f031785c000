"""The inbox: updates received from a channel, kept until they are handled, in order per chat.

Telegram's webhook delivers one chat's updates one at a time: it sends the next only after the
previous one was answered (a queue per chat in the Bot API server). Several worker processes
behind one webhook URL keep that order by storing each update here *before* answering it, and
by handling a chat's stored updates lowest ``update_id`` first, one worker at a time per chat
(see ``bot/channels/telegram/inbox.py``). An update delivered again (the answer was lost, a
worker died) finds its row and is recognised as a duplicate: handled once, never twice. A
stored update is never lost: if the worker that stored it dies, another one finds the row
still pending and handles it.

Rows stay after they are handled (Telegram redelivers for up to a day), until ``purge_handled``,
but not what they said: a handled row keeps its ids, times and outcome, and its payload is
emptied when it is marked handled. The text a person typed at a secret step (a password, a code)
goes sooner, in the turn's own transaction (``forget_text``): once that turn is committed, the
secret is nowhere in the inbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime
from core.uow import UnitOfWork

__all__ = [
    "DUPLICATE",
    "HANDLED",
    "LATE",
    "InboxUpdate",
    "forget_text",
    "has_pending",
    "mark_handled",
    "next_pending",
    "pending_count",
    "purge_handled",
    "stale_chats",
    "store_update",
]

# How a stored update ended (InboxUpdate.outcome).
HANDLED: Final = "handled"
DUPLICATE: Final = "duplicate"  # its turn had committed already (a worker died before marking)
LATE: Final = "late"  # arrived after a newer update of its chat was handled (see the module)


class InboxUpdate(Base):
    """One update as received (``payload`` is the channel's JSON), pending until handled."""

    __tablename__ = "channel_inbox"
    __table_args__ = (
        UniqueConstraint("channel", "update_id"),
        Index("ix_channel_inbox_chat", "channel", "chat_id", "update_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    update_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)


async def store_update(
    uow: UnitOfWork, *, channel: str, update_id: int, chat_id: str, payload: dict[str, Any]
) -> bool:
    """Keep an update until it is handled; the caller commits before acknowledging it.

    One statement (``INSERT ... ON CONFLICT DO NOTHING``), so two workers receiving the same
    update at once store it once.

    Returns:
        True when it was stored now, False when it had been received before (a duplicate).
    """
    insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    result = await uow.session.execute(
        insert(InboxUpdate)
        .values(
            channel=channel,
            update_id=update_id,
            chat_id=chat_id,
            payload=payload,
            received_at=uow.clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["channel", "update_id"])
        .returning(InboxUpdate.id)
    )
    return result.first() is not None


def _pending(channel: str, chat_id: str) -> Any:
    return (
        InboxUpdate.channel == channel,
        InboxUpdate.chat_id == chat_id,
        InboxUpdate.handled_at.is_(None),
    )


async def next_pending(uow: UnitOfWork, channel: str, chat_id: str) -> InboxUpdate | None:
    """The chat's pending update with the lowest ``update_id``, or None."""
    row: InboxUpdate | None = await uow.session.scalar(
        select(InboxUpdate)
        .where(*_pending(channel, chat_id))
        .order_by(InboxUpdate.update_id)
        .limit(1)
    )
    return row


async def has_pending(uow: UnitOfWork, channel: str, chat_id: str) -> bool:
    """Whether the chat has an update not handled yet."""
    found = await uow.session.scalar(select(InboxUpdate.id).where(*_pending(channel, chat_id)))
    return found is not None


async def mark_handled(uow: UnitOfWork, row_id: int, *, outcome: str) -> None:
    """Record that a stored update was handled (``HANDLED``, ``DUPLICATE`` or ``LATE``) and
    forget what it said: only its ids, times and outcome are needed to recognise it again."""
    row = await uow.session.get(InboxUpdate, row_id)
    if row is not None and row.handled_at is None:
        row.handled_at = uow.clock.now()
        row.outcome = outcome
        row.payload = {}
        await uow.flush()


async def forget_text(uow: UnitOfWork, channel: str, update_id: int) -> bool:
    """Drop the typed text from a stored update (its message was a secret), in the caller's
    unit of work (the turn's). Returns whether a stored update had text to drop."""
    row: InboxUpdate | None = await uow.session.scalar(
        select(InboxUpdate).where(
            InboxUpdate.channel == channel, InboxUpdate.update_id == update_id
        )
    )
    if row is None:
        return False
    payload = dict(row.payload)
    found = False
    for key in ("message", "edited_message"):
        message = payload.get(key)
        if isinstance(message, dict) and "text" in message:
            payload[key] = {k: v for k, v in message.items() if k not in ("text", "entities")}
            found = True
    if found:
        row.payload = payload  # a new value: JSON columns do not see changes made in place
        await uow.flush()
    return found


async def stale_chats(
    uow: UnitOfWork, channel: str, *, received_before: datetime, limit: int = 100
) -> list[str]:
    """Chats with an update pending since before ``received_before`` (its worker died, or it
    lost a race with the end of another worker's turn), oldest first."""
    rows = await uow.session.execute(
        select(InboxUpdate.chat_id, func.min(InboxUpdate.received_at).label("first"))
        .where(
            InboxUpdate.channel == channel,
            InboxUpdate.handled_at.is_(None),
            InboxUpdate.received_at < received_before,
        )
        .group_by(InboxUpdate.chat_id)
        .order_by("first")
        .limit(limit)
    )
    return [chat_id for chat_id, _first in rows]


async def pending_count(uow: UnitOfWork, channel: str) -> int:
    """How many updates of the channel wait to be handled (for health checks and tests)."""
    count = await uow.session.scalar(
        select(func.count())
        .select_from(InboxUpdate)
        .where(InboxUpdate.channel == channel, InboxUpdate.handled_at.is_(None))
    )
    return int(count or 0)


async def purge_handled(uow: UnitOfWork, channel: str, *, handled_before: datetime) -> int:
    """Forget updates handled before ``handled_before``; returns how many."""
    result = await uow.session.execute(
        delete(InboxUpdate)
        .where(InboxUpdate.channel == channel, InboxUpdate.handled_at < handled_before)
        .returning(InboxUpdate.id)
    )
    return len(result.all())
