"""Codes sent by email: 6 digits, 10 minutes, 5 tries, single use, bound to a purpose.

A code is stored as ``salt$hex(HMAC-SHA256(salt, code))`` with a random salt per row. A slow
hash would not help: a 6-digit code has a million values, so anyone holding a copy of the table
could try them all through Argon2 too. What protects a code is its short life and its 5 tries;
the hash only keeps live codes out of plain sight in dumps, backups and query logs, and the row
salt keeps one precomputed table from reading every row at once.

A new code for the same email and purpose supersedes the old one (the old row is deleted), but
not within 60 seconds of the last one (``RateLimited``), so a flood of requests cannot turn into
a flood of mail. The core never sends mail: the service returns the plain code in an
``IssuedCode`` and the chat layer mails it, through the Mailer port, after the commit.

A code may also have a ``holder`` besides its email (a sign-in challenge belongs to the chat
that typed the password): then it supersedes, waits for and is found only with codes of the
same holder.

A row may also be made unusable (its hash starts with ``!``): it behaves like any other code
(cooldown, tries, expiry) but no input ever matches it. Password reset uses that for an email
that has no account, so that asking for a reset looks the same whether the account exists or not.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Protocol

from sqlalchemy import ColumnElement, delete, select

from core.accounts.models import CodePurpose, EmailCode
from core.accounts.otp import normalize_digits
from core.accounts.policy import validate_email
from core.errors import CodeExpired, CodeReused, InvalidCode, RateLimited, TooManyAttempts
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "CODE_DIGITS",
    "CODE_TTL",
    "MAX_CODE_ATTEMPTS",
    "RESEND_COOLDOWN",
    "CodeRow",
    "IssuedCode",
    "check_code",
    "code_matches",
    "generate_email_code",
    "hash_email_code",
    "is_mailed",
    "is_pending",
    "issue_email_code",
    "latest_email_code",
    "resend_wait_seconds",
    "verify_email_code",
    "withdraw_email_code",
]

logger = logging.getLogger(__name__)

CODE_DIGITS: Final = 6
CODE_TTL: Final = timedelta(minutes=10)
MAX_CODE_ATTEMPTS: Final = 5
RESEND_COOLDOWN: Final = timedelta(seconds=60)
UNUSABLE_MARK: Final = "!"


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A code to mail. ``code`` is the plain code: mail it, never log it (hidden from repr).
    ``holder``: whose code it is besides the email (see the module docstring), or None."""

    email: str
    purpose: CodePurpose
    code: str = field(repr=False)
    expires_at: datetime
    holder: str | None = None


class CodeRow(Protocol):
    """What the rules read of a stored code: an ``EmailCode``, or another table's code row
    (a contact point's confirmation code, ``core.contacts``) held to the same rules."""

    code_hash: str
    expires_at: datetime
    attempts: int
    used_at: datetime | None
    created_at: datetime


# --- rules -----------------------------------------------------------------------------------


def generate_email_code() -> str:
    """Six random digits, leading zeros kept."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_email_code(code: str, salt: str | None = None) -> str:
    """``salt$hex digest`` of the code (see the module docstring for why HMAC-SHA256)."""
    salt = salt if salt is not None else secrets.token_hex(16)
    digest = hmac.new(salt.encode(), code.encode(), hashlib.sha256).hexdigest()
    return f"{salt}${digest}"


def _unusable_hash() -> str:
    return UNUSABLE_MARK + secrets.token_hex(40)


def code_matches(code_hash: str, code: str) -> bool:
    """Whether the typed code (read by ``normalize_digits``) matches the stored hash.

    An unusable hash never matches.
    """
    if code_hash.startswith(UNUSABLE_MARK) or "$" not in code_hash or not code_hash.isascii():
        return False
    typed = normalize_digits(code)
    if not typed.isascii():  # a code is ASCII digits: anything else (a lone surrogate) is wrong
        return False
    salt = code_hash.split("$", 1)[0]
    return hmac.compare_digest(hash_email_code(typed, salt), code_hash)


def resend_wait_seconds(latest: CodeRow | None, now: datetime) -> int:
    """Seconds to wait before another code may be issued (0: now)."""
    if latest is None:
        return 0
    remaining = (latest.created_at + RESEND_COOLDOWN - now).total_seconds()
    return max(0, math.ceil(remaining))


def is_mailed(row: EmailCode) -> bool:
    """Whether the row holds a real code (not an unusable one)."""
    return not row.code_hash.startswith(UNUSABLE_MARK)


def is_pending(row: EmailCode | None, now: datetime) -> bool:
    """Whether the row can still be used: not used, not expired, tries left."""
    return (
        row is not None
        and row.used_at is None
        and now < row.expires_at
        and row.attempts < MAX_CODE_ATTEMPTS
    )


def check_code(row: CodeRow | None, code: str, now: datetime) -> None:
    """Check a typed code against the current code row; a wrong code uses up one try.

    Raises:
        InvalidCode: no code was issued, or the code is wrong (``attempts_left`` then says how
            many tries remain).
        CodeReused: the code was used already.
        CodeExpired: it is more than 10 minutes old.
        TooManyAttempts: its 5 tries are spent.
    """
    if row is None:
        raise InvalidCode()
    if row.used_at is not None:
        raise CodeReused()
    if now >= row.expires_at:
        raise CodeExpired()
    if row.attempts >= MAX_CODE_ATTEMPTS:
        raise TooManyAttempts()
    if not code_matches(row.code_hash, code):
        row.attempts += 1
        raise InvalidCode(attempts_left=MAX_CODE_ATTEMPTS - row.attempts)


# --- services --------------------------------------------------------------------------------


def _of(email: str, purpose: CodePurpose, holder: str | None) -> tuple[ColumnElement[bool], ...]:
    """The rows of an email, purpose and holder."""
    return (
        EmailCode.email == email,
        EmailCode.purpose == purpose,
        EmailCode.holder.is_(None) if holder is None else EmailCode.holder == holder,
    )


async def latest_email_code(
    uow: UnitOfWork,
    email: str,
    purpose: CodePurpose,
    *,
    holder: str | None = None,
    for_update: bool = False,
) -> EmailCode | None:
    """The current (newest) code row of an email, purpose and holder, if any."""
    query = (
        select(EmailCode).where(*_of(email, purpose, holder)).order_by(EmailCode.id.desc()).limit(1)
    )
    if for_update:
        query = query.with_for_update()
    row: EmailCode | None = await uow.session.scalar(query)
    return row


async def issue_email_code(
    uow: UnitOfWork,
    email: str,
    purpose: CodePurpose,
    *,
    usable: bool = True,
    respect_cooldown: bool = True,
    holder: str | None = None,
) -> IssuedCode:
    """Make a new code for an email and purpose (and holder), superseding the previous one.

    The caller commits, then mails ``IssuedCode.code``.

    Args:
        usable: False makes a code that can never verify (see the module docstring).
        respect_cooldown: False skips the 60-second wait, for a caller that has limited the
            rate already (sign-in, after a verified password).
        holder: whose code it is besides the email (see the module docstring).

    Raises:
        InvalidEmail: the address is not valid.
        RateLimited: the last code for this email and purpose is less than 60 seconds old.
    """
    email = validate_email(email)
    now = uow.clock.now()
    latest = await latest_email_code(uow, email, purpose, holder=holder, for_update=True)
    wait = resend_wait_seconds(latest, now) if respect_cooldown else 0
    if wait:
        raise RateLimited(retry_after_seconds=wait)
    await uow.session.execute(delete(EmailCode).where(*_of(email, purpose, holder)))
    code = generate_email_code()
    expires_at = now + CODE_TTL
    uow.session.add(
        EmailCode(
            email=email,
            purpose=purpose,
            code_hash=hash_email_code(code) if usable else _unusable_hash(),
            expires_at=expires_at,
            attempts=0,
            created_at=now,
            holder=holder,
        )
    )
    await uow.flush()
    logger.info("issued an email code for purpose %s", purpose.value)
    return IssuedCode(email=email, purpose=purpose, code=code, expires_at=expires_at, holder=holder)


async def verify_email_code(
    uow_factory: UnitOfWorkFactory,
    email: str,
    purpose: CodePurpose,
    code: str,
    *,
    consume: bool = True,
) -> None:
    """Check a code in its own unit of work, so that a wrong try is recorded even though the
    caller's work fails.

    Args:
        consume: mark the code used (the default). False only checks it, for a dialog that
            confirms the code early and uses it up in a later step.

    Raises:
        InvalidCode, CodeReused, CodeExpired, TooManyAttempts: as ``check_code``.
    """
    email = validate_email(email)
    async with uow_factory() as uow:
        row = await latest_email_code(uow, email, purpose, for_update=True)
        try:
            check_code(row, code, uow.clock.now())
        except InvalidCode:
            await uow.commit()  # the spent try must count
            raise
        if consume and row is not None:
            row.used_at = uow.clock.now()
        await uow.commit()


async def withdraw_email_code(uow: UnitOfWork, issued: IssuedCode) -> bool:
    """Take back a code that could not be mailed: its row is deleted, so it can never verify,
    and asking for a new code is not refused as too soon (the 60 seconds count from a mail
    that was sent). A newer code of the same email, purpose and holder is left alone.

    Returns:
        True when the code was still the current one and is withdrawn now.
    """
    latest = await latest_email_code(
        uow, issued.email, issued.purpose, holder=issued.holder, for_update=True
    )
    if latest is None or latest.expires_at != issued.expires_at:
        return False
    await uow.session.delete(latest)
    await uow.flush()
    logger.info("withdrew an email code for purpose %s (not mailed)", issued.purpose.value)
    return True
