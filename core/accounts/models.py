"""Tables of accounts: credentials, second factors, lockout, chat links, representatives."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.db import Base, UTCDateTime, str_enum

__all__ = [
    "Account",
    "AccountKind",
    "ChannelLink",
    "CodePurpose",
    "EmailCode",
    "OtpMethod",
    "RepresentativeGrant",
    "ResetAnswer",
]


class AccountKind(enum.StrEnum):
    APPLICANT = "applicant"
    REPRESENTATIVE = "representative"


class OtpMethod(enum.StrEnum):
    """How the account receives its one-time code at sign-in."""

    AUTHENTICATOR = "authenticator"
    EMAIL = "email"
    SMS = "sms"  # by text message to ``Account.sms_number``


class CodePurpose(enum.StrEnum):
    SIGN_IN = "sign_in"
    RESET = "reset"
    VERIFY_EMAIL = "verify_email"
    SMS_ENROL = "sms_enrol"  # confirming a mobile number for sign-in codes (holder: the number)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # normalised, lower case
    password_hash: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AccountKind] = mapped_column(str_enum(AccountKind), default=AccountKind.APPLICANT)
    otp_method: Mapped[OtpMethod] = mapped_column(
        str_enum(OtpMethod), default=OtpMethod.AUTHENTICATOR
    )
    # The authenticator secret, sealed (``core.secret_box``; a legacy row may hold it plain):
    # read and write it through ``core.accounts.totp_store``, never directly.
    sealed_totp_secret: Mapped[str | None] = mapped_column("totp_secret", String(200), default=None)
    # The last TOTP time step accepted: a code of that step or an earlier one is refused.
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    backup_code_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    # The verified US mobile number (E.164) that gets the sign-in codes of the ``sms`` method;
    # None for the other methods.
    sms_number: Mapped[str | None] = mapped_column(String(16), default=None)
    failed_logins: Mapped[int] = mapped_column(default=0)
    lockouts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    email_verified: Mapped[bool] = mapped_column(default=False)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reset_answers: Mapped[list[ResetAnswer]] = relationship(
        back_populates="account", lazy="raise", cascade="all, delete-orphan"
    )


class ResetAnswer(Base):
    """The hashed answer to one of the fixed password-reset questions."""

    __tablename__ = "reset_answers"
    __table_args__ = (UniqueConstraint("account_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(40))
    answer_hash: Mapped[str] = mapped_column(String(200))

    account: Mapped[Account] = relationship(back_populates="reset_answers", lazy="raise")


class EmailCode(Base):
    """A 6-digit code sent by email, stored hashed; short-lived, limited tries, single use."""

    __tablename__ = "email_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    purpose: Mapped[CodePurpose] = mapped_column(str_enum(CodePurpose))
    code_hash: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Whose code it is besides the email: for a sign-in challenge, the chat that typed the
    # password (``channel:chat_id``), so that two chats signing in to one account each keep
    # their own. None for every other purpose.
    holder: Mapped[str | None] = mapped_column(String(100), default=None)


class ChannelLink(Base):
    """Which chat is signed in as which account."""

    __tablename__ = "channel_links"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RepresentativeGrant(Base):
    """A legal representative may act for this client account."""

    __tablename__ = "representative_grants"

    representative_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
