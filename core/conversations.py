"""Where each chat's conversation state is kept between turns.

The chat layer owns what the state means; the core only stores it, keyed by (channel, chat_id),
and locks the row for the length of a turn so that turns of one chat never interleave, even
across worker processes on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import JSON, BigInteger, String, UniqueConstraint, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime
from core.uow import UnitOfWork

__all__ = ["Conversation", "open_conversation"]


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
        # First contact. Two workers may meet here for one new chat: the insert does nothing
        # for the second, which then reads (and waits for) the first one's row.
        now = uow.clock.now()
        insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
        await uow.session.execute(
            insert(Conversation)
            .values(
                channel=channel, chat_id=chat_id, state={}, prompt_seq=0, created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["channel", "chat_id"])
        )  # fmt: skip
        conversation = await uow.session.scalar(_LOCKED_CONVERSATION, key)
    assert conversation is not None
    return conversation
