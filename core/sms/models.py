"""Tables of text messages: the numbers that replied STOP, and delivery statuses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime

__all__ = ["SmsDelivery", "SmsOptOut"]


class SmsOptOut(Base):
    """A number that replied STOP (or STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT): no text goes
    to it until it replies START. The sender checks this table before every text."""

    __tablename__ = "sms_opt_outs"

    number: Mapped[str] = mapped_column(String(16), primary_key=True)  # E.164
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    keyword: Mapped[str] = mapped_column(String(20))


class SmsDelivery(Base):
    """What the provider last said of a text it accepted (its status callbacks): ``queued``,
    ``sent``, ``delivered``, ``undelivered`` or ``failed``, with its error code."""

    __tablename__ = "sms_deliveries"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)  # the provider's id
    outbox_id: Mapped[int | None] = mapped_column(default=None, index=True)
    number: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
