"""Tables of staff: the agents and supervisors who answer people in the console.

Staff accounts are apart from applicants' (``accounts``): another table, other sessions, other
tokens. They share the applicants' rules for what they have in common: Argon2id password
hashes, authenticator (TOTP) codes whose secret is sealed at rest, and the lockout.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Final

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime, str_enum

__all__ = ["STAFF_LANGUAGES", "StaffMember", "StaffRole", "StaffSession"]

# The languages casebot speaks with people, hence those an agent may be listed for.
STAFF_LANGUAGES: Final = ("en", "es", "zh", "vi", "tl", "ko", "ar", "fr", "ht", "pt", "ru")


class StaffRole(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


class StaffMember(Base):
    """One agent or supervisor."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # normalised, lower case
    display_name: Mapped[str] = mapped_column(String(100))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)  # STAFF_LANGUAGES codes
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole), default=StaffRole.AGENT)
    # None until the staff member chose a password with the set-up code.
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    # The authenticator secret, sealed (``core.secret_box``); usable for signing in once
    # ``totp_confirmed`` (a code from the app proved it was enrolled).
    sealed_totp_secret: Mapped[str | None] = mapped_column("totp_secret", String(200), default=None)
    totp_confirmed: Mapped[bool] = mapped_column(default=False)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    failed_logins: Mapped[int] = mapped_column(default=0)
    lockouts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The one-time set-up code, SHA-256 (it carries 192 random bits), and when it expires.
    setup_code_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    setup_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    available: Mapped[bool] = mapped_column(default=False)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class StaffSession(Base):
    """A signed-in console: the SHA-256 of its bearer token, never the token."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
