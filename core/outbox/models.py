"""The outbox: notifications written in the same transaction as the change that caused them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime, str_enum

__all__ = ["OutboxMessage", "OutboxStatus", "RateLimitWindow"]


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    PARKED = "parked"  # gave up after too many failures; the reason is kept


class OutboxMessage(Base):
    """One notification to one recipient, rendered in the recipient's language at send time.

    ``kind`` names what happened (``case_status_changed``, ``appointment_booked``, ...) and
    ``payload`` carries its data, never prose. ``dedupe_key`` makes writing the same
    notification twice a no-op.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))  # telegram, webchat, console, email
    address: Mapped[str] = mapped_column(String(254))  # chat id, or an email address
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # A dispatcher that sends outside a transaction (Telegram) leases the rows it claimed:
    # nobody else takes them before ``claimed_until`` (see core/outbox/dispatch.py).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)


class RateLimitWindow(Base):
    """A fixed-window counter shared by every process (public lookups, resends, ...)."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(default=0)
