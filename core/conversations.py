"""Where each chat's conversation state is kept between turns.

The chat layer owns what the state means; the core only stores it, keyed by (channel, chat_id),
and locks the row for the length of a turn so that turns of one chat never interleave, even
across worker processes on PostgreSQL.

A turn works on a plain copy of the row (:class:`ConversationRecord`: :func:`load_conversation`
reads it, :func:`save_conversation` writes it back with one UPDATE), not on the ORM entity:
every turn does it, and loading an entity and flushing its changes cost more than the queries.
:func:`open_conversation` gives the entity, for code that changes a conversation now and then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import JSON, BigInteger, String, UniqueConstraint, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime
from core.statements import Prepared
from core.uow import UnitOfWork

__all__ = [
    "Conversation",
    "ConversationRecord",
    "chat_locale",
    "last_update_id",
    "load_conversation",
    "open_conversation",
    "save_conversation",
]


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(10), default=None)  # chosen explicitly
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prompt_seq: Mapped[int] = mapped_column(default=0)
    last_update_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Built once: every turn runs it, and building a statement costs more than running it here.
_LOCKED_CONVERSATION: Final = (
    select(Conversation)
    .where(
        Conversation.channel == bindparam("channel"), Conversation.chat_id == bindparam("chat_id")
    )
    .with_for_update()
    .execution_options(populate_existing=True)
)


async def open_conversation(uow: UnitOfWork, channel: str, chat_id: str) -> Conversation:
    """The conversation of a chat, created on first contact and locked until the turn ends.

    On PostgreSQL the row is locked with ``SELECT ... FOR UPDATE``: a second worker handling
    the same chat waits for this turn to commit. On SQLite the whole transaction is exclusive.
    """
    key = {"channel": channel, "chat_id": chat_id}
    conversation = await uow.session.scalar(_LOCKED_CONVERSATION, key)
    if conversation is None:
        await _first_contact(uow, channel, chat_id)
        conversation = await uow.session.scalar(_LOCKED_CONVERSATION, key)
    assert conversation is not None
    return conversation


def _first_contact_statement(insert: Any) -> Prepared:
    return Prepared(
        insert(Conversation)
        .values(
            channel=bindparam("channel"), chat_id=bindparam("chat_id"), state=bindparam("state"),
            prompt_seq=0, created_at=bindparam("now"), updated_at=bindparam("now"),
        )
        .on_conflict_do_nothing(index_elements=["channel", "chat_id"])
    )  # fmt: skip


# Prepared, like the turn's other statements: every new chat's first turn runs it.
_FIRST_CONTACT: Final = {
    "postgresql": _first_contact_statement(pg_insert),
    "sqlite": _first_contact_statement(sqlite_insert),
}


async def _first_contact(uow: UnitOfWork, channel: str, chat_id: str) -> None:
    # Two workers may meet here for one new chat: the insert does nothing for the second, which
    # then reads (and waits for) the first one's row.
    await uow.execute(
        _FIRST_CONTACT[uow.dialect],
        {"channel": channel, "chat_id": chat_id, "state": {}, "now": uow.clock.now()},
    )


@dataclass(slots=True)
class ConversationRecord:
    """A conversation row as a turn reads and changes it; saved by :func:`save_conversation`."""

    id: int
    locale: str | None
    state: dict[str, Any]
    prompt_seq: int
    last_update_id: int | None
    updated_at: datetime


# Built once, like _LOCKED_CONVERSATION: the columns a turn works on, and the write-back.
_LOCKED_RECORD: Final = Prepared(
    select(
        Conversation.id,
        Conversation.locale,
        Conversation.state,
        Conversation.prompt_seq,
        Conversation.last_update_id,
        Conversation.updated_at,
    )
    .where(
        Conversation.channel == bindparam("channel"), Conversation.chat_id == bindparam("chat_id")
    )
    .with_for_update()
)
_SAVE_RECORD: Final = Prepared(
    update(Conversation)
    .where(Conversation.id == bindparam("record_id"))
    .values(
        locale=bindparam("locale"),
        state=bindparam("state"),
        prompt_seq=bindparam("prompt_seq"),
        last_update_id=bindparam("last_update_id"),
        updated_at=bindparam("updated_at"),
    )
)


async def load_conversation(uow: UnitOfWork, channel: str, chat_id: str) -> ConversationRecord:
    """The conversation of a chat as plain data, created on first contact and locked until the
    unit of work ends (as :func:`open_conversation`)."""
    key = {"channel": channel, "chat_id": chat_id}
    row = await uow.fetch_one(_LOCKED_RECORD, key)
    if row is None:
        await _first_contact(uow, channel, chat_id)
        row = await uow.fetch_one(_LOCKED_RECORD, key)
    assert row is not None
    record_id, locale, state, prompt_seq, last_update_id, updated_at = row
    return ConversationRecord(
        record_id, locale, state or {}, prompt_seq, last_update_id, updated_at
    )


async def save_conversation(uow: UnitOfWork, record: ConversationRecord) -> None:
    """Write a record read by :func:`load_conversation` back, in the caller's unit of work."""
    await uow.execute(
        _SAVE_RECORD,
        {
            "record_id": record.id,
            "locale": record.locale,
            "state": record.state,
            "prompt_seq": record.prompt_seq,
            "last_update_id": record.last_update_id,
            "updated_at": record.updated_at,
        },
    )


async def chat_locale(uow: UnitOfWork, channel: str, chat_id: str) -> str | None:
    """The language a chat's conversation chose, or None (none chosen, or no conversation)."""
    locale: str | None = await uow.session.scalar(
        select(Conversation.locale).where(
            Conversation.channel == channel, Conversation.chat_id == chat_id
        )
    )
    return locale


_LAST_UPDATE_ID: Final = Prepared(
    select(Conversation.last_update_id).where(
        Conversation.channel == bindparam("channel"), Conversation.chat_id == bindparam("chat_id")
    )
)


async def last_update_id(uow: UnitOfWork, channel: str, chat_id: str) -> int | None:
    """The id of the newest channel update a chat's conversation handled, or None."""
    row = await uow.fetch_one(_LAST_UPDATE_ID, {"channel": channel, "chat_id": chat_id})
    return None if row is None or row[0] is None else int(row[0])
