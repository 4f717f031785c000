"""Tables of the USCIS source: the cached answers, and the request budget all workers share."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

__all__ = ["UscisAnswer", "UscisQuota"]


class UscisAnswer(Base):
    """The last answer USCIS gave about one receipt number (found or not)."""

    __tablename__ = "uscis_answers"

    receipt_number: Mapped[str] = mapped_column(String(13), primary_key=True)
    found: Mapped[bool]
    # The case_status object as USCIS sent it (read back by core.cases.uscis.answer); None
    # when USCIS has no such case.
    body: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class UscisQuota(Base):
    """The requests sent to USCIS: today's count and the next free moment of the rate limit.

    One row (``name = "default"``, made by the migration), locked by every reservation.
    """

    __tablename__ = "uscis_quota"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date | None] = mapped_column(Date, default=None)
    used: Mapped[int] = mapped_column(default=0)
    # Seconds since the epoch (wall clock, the same on every worker of one host or an NTP farm).
    next_at: Mapped[float] = mapped_column(Float, default=0.0)
