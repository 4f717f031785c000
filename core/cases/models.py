"""Tables of cases: the case, its dated history, and who follows its changes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.db import Base, UTCDateTime

__all__ = ["AccessCodeFailures", "Case", "CaseEvent", "Subscription"]


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_number: Mapped[str] = mapped_column(String(13), unique=True)
    form_type: Mapped[str] = mapped_column(String(20))
    status_code: Mapped[str] = mapped_column(String(60))
    # Where the status comes from: "local" (this system's record) or "uscis" (a copy of what
    # USCIS's Case Status API said, kept up to date by lookups and the poller).
    source: Mapped[str] = mapped_column(String(10), default="local", server_default="local")
    received_date: Mapped[date | None] = mapped_column(Date, default=None)
    # When the current status was set: the "last update" shown to the public.
    status_updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True, default=None
    )
    # The Online Access Code of a paper-filed case, hashed; usable once.
    access_code_hash: Mapped[str | None] = mapped_column(String(128), default=None)
    access_code_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="CaseEvent.occurred_at",
    )


class CaseEvent(Base):
    """One dated entry of a case's status history."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    status_code: Mapped[str] = mapped_column(String(60))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="events", lazy="raise")


class Subscription(Base):
    """A chat that wants to hear about a case's changes."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("case_id", "channel", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccessCodeFailures(Base):
    """One account's wrong access codes for one case, and until when they lock it out.

    Kept per (case, account), so a stranger's guesses never lock the owner out; a case is
    never locked for everyone (see :mod:`core.cases.access_code`).
    """

    __tablename__ = "access_code_failures"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # Wrong codes since the last lock ended (or since the first failure).
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
