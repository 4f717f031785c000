"""The tables of the handoff: a person's request for a person, its messages, and the secure
messages left when no agent could take one."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime, str_enum

__all__ = ["Handoff", "HandoffMessage", "HandoffStatus", "SecureMessage", "Sender"]


class HandoffStatus(enum.StrEnum):
    WAITING = "waiting"  # in the queue of its language
    CLAIMED = "claimed"  # an agent has it: the person chats with them
    CLOSED = "closed"  # ended by the agent or by the person, with an outcome
    ABANDONED = "abandoned"  # the person left the queue before anyone took it


class Sender(enum.StrEnum):
    PERSON = "person"
    AGENT = "agent"
    SYSTEM = "system"  # what happened: claimed, transferred, withheld, closed


class Handoff(Base):
    """One person's request for a person, from one chat (``channel`` + ``chat_id``).

    ``staff_id`` names the staff member who has it (no foreign key: staff accounts live in
    their own module) and ``agent_name`` is the name shown to the person.
    """

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_status_language", "status", "language", "created_at"),
        Index("ix_handoffs_chat", "channel", "chat_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(10))
    topic: Mapped[str | None] = mapped_column(String(60), default=None)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[HandoffStatus] = mapped_column(
        str_enum(HandoffStatus), default=HandoffStatus.WAITING
    )
    staff_id: Mapped[int | None] = mapped_column(default=None)
    agent_name: Mapped[str | None] = mapped_column(String(80), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    outcome: Mapped[str | None] = mapped_column(String(40), default=None)


class HandoffMessage(Base):
    """One message of a handoff. A message withheld as a secret keeps no text (``withheld``)."""

    __tablename__ = "handoff_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(
        ForeignKey("handoffs.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[Sender] = mapped_column(str_enum(Sender))
    # The event of a system message (``claimed``, ``withheld``, ...), or None.
    event: Mapped[str | None] = mapped_column(String(40), default=None)
    text: Mapped[str] = mapped_column(Text, default="")
    staff_id: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SecureMessage(Base):
    """What a person wrote when no agent could take the chat, answered later by staff in the
    person's channel (and by email to a signed-in person's account)."""

    __tablename__ = "secure_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(10))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), default=None, index=True
    )
    topic: Mapped[str | None] = mapped_column(String(60), default=None)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reply_text: Mapped[str | None] = mapped_column(Text, default=None)
    replied_by: Mapped[int | None] = mapped_column(default=None)  # a staff id
