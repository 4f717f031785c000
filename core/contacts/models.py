"""Tables of contact points: the address and its consent, its confirmation code, the cases it
follows."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime

__all__ = ["ContactChannel", "ContactCode", "ContactFollow", "ContactPoint"]


class ContactChannel(enum.StrEnum):
    """How a contact point is reached; also its outbox channel."""

    EMAIL = "email"
    SMS = "sms"


class ContactPoint(Base):
    """A person's email address or US mobile number (E.164), and what they agreed to get there.

    It is used only once ``verified_at`` is set (the person typed the code sent to it: double
    opt-in) and while ``stopped_at`` is not (the unsubscribe link, or a change of mind in the
    chat). ``account_id`` ties it to a signed-in person (their own cases); otherwise it follows
    the cases listed in ``contact_follows``. ``chat_channel``/``chat_id`` say where it was given.

    The unsubscribe token is random; the table keeps its SHA-256 (``token_hash``, to find the
    contact point from a link) and a copy sealed under the secret key (``token_sealed``, see
    ``core.secret_box``), which only the mail sender opens to write the link. A new token is
    made at each confirmation, so a link used once stays used.
    """

    __tablename__ = "contact_points"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # ContactChannel
    address: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(10), default="en")
    time_zone: Mapped[str | None] = mapped_column(String(64), default=None)
    wants_status: Mapped[bool] = mapped_column(default=True)
    wants_appointments: Mapped[bool] = mapped_column(default=True)
    wants_agent_replies: Mapped[bool] = mapped_column(default=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Stopped by a STOP texted from the number (not by the person's choice here): a START from
    # the number turns it on again; any other stop or start clears it.
    stopped_by_keyword: Mapped[bool] = mapped_column(default=False)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, default=None
    )
    chat_channel: Mapped[str | None] = mapped_column(String(20), default=None)
    chat_id: Mapped[str | None] = mapped_column(String(64), default=None)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    token_sealed: Mapped[str | None] = mapped_column(String(400), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def active(self) -> bool:
        """Confirmed and not stopped: notifications may go to it."""
        return self.verified_at is not None and self.stopped_at is None


class ContactCode(Base):
    """The confirmation code sent to a contact point: 6 digits, 10 minutes, 5 tries, single use
    (the rules of ``core.accounts.email_codes``, which checks it)."""

    __tablename__ = "contact_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact_points.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContactFollow(Base):
    """A case a contact point hears about (a person who is not signed in chose it)."""

    __tablename__ = "contact_follows"
    __table_args__ = (UniqueConstraint("contact_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact_points.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
