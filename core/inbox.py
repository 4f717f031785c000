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
emptied when it is marked handled. A turn marks its own update handled in its own transaction
(``mark_handled`` in the caller's unit of work), so the text a person typed at a secret step (a
password, a code) is nowhere in the inbox once that turn is committed.

The statements a webhook update runs (``store_update``, ``next_pending``, ``has_pending``,
``mark_handled``) are prepared ones (``core.statements``): no ORM unit of work per update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    String,
    UniqueConstraint,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime
from core.statements import Prepared
from core.uow import UnitOfWork

__all__ = [
    "DUPLICATE",
    "HANDLED",
    "LATE",
    "InboxUpdate",
    "PendingUpdate",
    "first_pending_ids",
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


_STORE_VALUES = {
    "channel": bindparam("b_channel"),
    "update_id": bindparam("b_update_id"),
    "chat_id": bindparam("b_chat_id"),
    "payload": bindparam("b_payload", type_=JSON),
    "received_at": bindparam("b_received_at"),
}
# One per dialect: ON CONFLICT is written by each dialect's own insert construct.
_STORE: Final = {
    dialect: Prepared(
        insert(InboxUpdate)
        .values(_STORE_VALUES)
        .on_conflict_do_nothing(index_elements=["channel", "update_id"])
        .returning(InboxUpdate.id)
    )
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_PENDING = (
    InboxUpdate.channel == bindparam("b_channel"),
    InboxUpdate.chat_id == bindparam("b_chat_id"),
    InboxUpdate.handled_at.is_(None),
)
_NEXT_PENDING: Final = Prepared(
    select(InboxUpdate.id, InboxUpdate.update_id, InboxUpdate.payload)
    .where(*_PENDING)
    .order_by(InboxUpdate.update_id)
    .limit(1)
)
_HAS_PENDING: Final = Prepared(select(InboxUpdate.id).where(*_PENDING).limit(1))
_FIRST_PENDING: Final = Prepared(
    select(InboxUpdate.update_id).where(*_PENDING).order_by(InboxUpdate.update_id).limit(2)
)
# The payload emptied as a bound value: the JSON type writes '{}' on either database.
_MARK_HANDLED: Final = Prepared(
    update(InboxUpdate)
    .where(
        InboxUpdate.channel == bindparam("b_channel"),
        InboxUpdate.update_id == bindparam("b_update_id"),
        InboxUpdate.handled_at.is_(None),
    )
    .values(
        handled_at=bindparam("now"),
        outcome=bindparam("b_outcome"),
        payload=bindparam("empty", type_=JSON),
    )
    .returning(InboxUpdate.id)
)


@dataclass(frozen=True, slots=True)
class PendingUpdate:
    """A stored update not handled yet: its ids and the channel's JSON as received."""

    id: int
    update_id: int
    payload: dict[str, Any]


async def store_update(
    uow: UnitOfWork, *, channel: str, update_id: int, chat_id: str, payload: dict[str, Any]
) -> bool:
    """Keep an update until it is handled; the caller commits before acknowledging it.

    One statement (``INSERT ... ON CONFLICT DO NOTHING``), so two workers receiving the same
    update at once store it once.

    Returns:
        True when it was stored now, False when it had been received before (a duplicate).
    """
    statement = _STORE["postgresql" if uow.dialect == "postgresql" else "sqlite"]
    row = await uow.fetch_one(
        statement,
        {
            "b_channel": channel,
            "b_update_id": update_id,
            "b_chat_id": chat_id,
            "b_payload": payload,
            "b_received_at": uow.clock.now(),
        },
    )
    return row is not None


async def next_pending(uow: UnitOfWork, channel: str, chat_id: str) -> PendingUpdate | None:
    """The chat's pending update with the lowest ``update_id``, or None."""
    row = await uow.fetch_one(_NEXT_PENDING, {"b_channel": channel, "b_chat_id": chat_id})
    return None if row is None else PendingUpdate(int(row[0]), int(row[1]), row[2] or {})


async def first_pending_ids(uow: UnitOfWork, channel: str, chat_id: str) -> list[int]:
    """The two lowest ``update_id``s of the chat's pending updates (fewer when fewer wait; their
    payloads are not read): whether an update is the chat's next, and whether it is alone."""
    rows = await uow.fetch_all(_FIRST_PENDING, {"b_channel": channel, "b_chat_id": chat_id})
    return [int(row[0]) for row in rows]


async def has_pending(uow: UnitOfWork, channel: str, chat_id: str) -> bool:
    """Whether the chat has an update not handled yet."""
    return (
        await uow.fetch_one(_HAS_PENDING, {"b_channel": channel, "b_chat_id": chat_id}) is not None
    )


async def mark_handled(uow: UnitOfWork, channel: str, update_id: int, *, outcome: str) -> bool:
    """Record that a stored update was handled (``HANDLED``, ``DUPLICATE`` or ``LATE``) and
    forget what it said: only its ids, times and outcome are needed to recognise it again.

    One ``UPDATE``, in the caller's unit of work: the webhook's turn marks its own update
    handled in the turn's transaction, so the update and its turn are committed together.

    Returns:
        True when a pending update was marked now; False when none was (not stored, or
        marked before).
    """
    row = await uow.fetch_one(
        _MARK_HANDLED,
        {
            "b_channel": channel,
            "b_update_id": update_id,
            "now": uow.clock.now(),
            "b_outcome": outcome,
            "empty": {},
        },
    )
    return row is not None


async def stale_chats(
    uow: UnitOfWork, channel: str, *, received_before: datetime | None, limit: int | None = 100
) -> list[str]:
    """Chats with an update pending since before ``received_before`` (its worker died, or it
    lost a race with the end of another worker's turn), oldest first; every chat with an
    update pending when ``received_before`` is None; at most ``limit`` (None: all)."""
    query = select(InboxUpdate.chat_id, func.min(InboxUpdate.received_at).label("first")).where(
        InboxUpdate.channel == channel, InboxUpdate.handled_at.is_(None)
    )
    if received_before is not None:
        query = query.where(InboxUpdate.received_at < received_before)
    rows = await uow.session.execute(
        query.group_by(InboxUpdate.chat_id).order_by("first").limit(limit)
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
