"""Console sign-in and sessions of staff, and the availability switch.

Signing in takes the email, the password and an authenticator code at once (the console has a
form, not a conversation). It follows the applicants' rules: an unknown email costs the same
Argon2 verification as a wrong password, five failures in a row lock the account
(``core.accounts.lockout``), and each authenticator code is accepted once.

A session is a random bearer token (256 bits) of which only the SHA-256 is stored, in its own
table: a chat token is never a console token, nor the other way round. It ends at sign-out,
after 8 idle hours, 12 hours after sign-in, or when its owner is disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, exists, select

from core.accounts.lockout import ensure_not_locked, record_failure, record_success
from core.accounts.otp import verify_totp
from core.accounts.passwords import DUMMY_HASH, verify_password_async
from core.accounts.policy import normalize_password, validate_email
from core.admin.audit import Outcome, record_action
from core.errors import AccountLocked, CodeReused, InvalidCode, InvalidCredentials, InvalidEmail
from core.staff.accounts import StaffView, staff_by_email
from core.staff.errors import StaffSessionExpired, StaffUnauthorized
from core.staff.models import StaffMember, StaffSession
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "ABSOLUTE_EXPIRY",
    "IDLE_EXPIRY",
    "StaffSignIn",
    "authenticate_staff",
    "available_staff",
    "purge_expired_staff_sessions",
    "set_availability",
    "sign_in_staff",
    "sign_out_staff",
]

IDLE_EXPIRY: Final = timedelta(hours=8)
ABSOLUTE_EXPIRY: Final = timedelta(hours=12)
# last_seen_at is written when older than this, not on every request.
SEEN_EVERY: Final = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class StaffSignIn:
    """A complete sign-in: who, and the console's bearer token (shown once)."""

    staff: StaffView
    token: str = field(repr=False)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _usable(member: StaffMember | None) -> bool:
    return (
        member is not None
        and member.disabled_at is None
        and member.password_hash is not None
        and member.totp_confirmed
        and member.sealed_totp_secret is not None
    )


async def sign_in_staff(
    uow_factory: UnitOfWorkFactory, email: str, password: str, code: str
) -> StaffSignIn:
    """Check email, password and authenticator code; open a console session.

    Raises:
        InvalidCredentials: unknown email, an account not set up or disabled, a wrong
            password, or a wrong or reused code (one error for all: nothing tells which).
        AccountLocked: the account is locked, or this failure was the fifth in a row.
    """
    try:
        normalized: str | None = validate_email(email)
    except InvalidEmail:
        normalized = None
    async with uow_factory() as uow:
        member = None if normalized is None else await staff_by_email(uow, normalized)
        if member is not None and _usable(member):
            ensure_not_locked(member, uow.clock.now())
            stored_hash = member.password_hash or DUMMY_HASH
        else:
            member, stored_hash = None, DUMMY_HASH
        staff_id = None if member is None else member.id
    # Argon2 outside any unit of work, for a known and an unknown email alike.
    matches = await verify_password_async(stored_hash, normalize_password(password))
    if staff_id is None:
        raise InvalidCredentials()
    async with uow_factory() as uow:
        member = (
            await uow.session.scalars(
                select(StaffMember).where(StaffMember.id == staff_id).with_for_update()
            )
        ).one_or_none()
        if member is None or not _usable(member) or member.sealed_totp_secret is None:
            raise InvalidCredentials()
        now = uow.clock.now()
        ensure_not_locked(member, now)
        step: int | None = None
        if matches:
            secret = uow.secret_box.open(member.sealed_totp_secret)
            try:
                step = verify_totp(secret, code, now, member.totp_last_step)
            except (InvalidCode, CodeReused):
                step = None
        if step is None:
            until = record_failure(member, now)
            await uow.commit()
            if until is not None:
                raise AccountLocked(until=until)
            raise InvalidCredentials()
        record_success(member)
        member.totp_last_step = step
        member.last_sign_in_at = now
        token = secrets.token_urlsafe(32)
        uow.session.add(
            StaffSession(staff_id=member.id, token_hash=_digest(token), created_at=now,
                         last_seen_at=now)
        )  # fmt: skip
        view = StaffView.of(member)
        await _audit(uow, view.id, "staff.sign_in")
        await uow.commit()
    return StaffSignIn(view, token)


async def _audit(uow: UnitOfWork, staff_id: int, action: str, **params: object) -> None:
    await record_action(
        uow,
        actor=f"staff:{staff_id}",
        action=action,
        target=f"staff:{staff_id}",
        params=params,
        outcome=Outcome.CHANGED,
    )


async def authenticate_staff(uow: UnitOfWork, token: str | None) -> StaffView:
    """The staff member a console token belongs to; marks the session seen.

    Raises:
        StaffUnauthorized: no token, an unknown or signed-out one, or a disabled member.
        StaffSessionExpired: idle longer than ``IDLE_EXPIRY`` or older than
            ``ABSOLUTE_EXPIRY`` (the session is deleted).
    """
    if not token or len(token) > 200:
        raise StaffUnauthorized()
    digest = _digest(token)
    row = (
        await uow.session.execute(
            select(StaffSession, StaffMember)
            .join(StaffMember, StaffMember.id == StaffSession.staff_id)
            .where(StaffSession.token_hash == digest)
        )
    ).one_or_none()
    if row is None:
        raise StaffUnauthorized()
    session, member = row
    if not hmac.compare_digest(session.token_hash, digest) or member.disabled_at is not None:
        raise StaffUnauthorized()
    now = uow.clock.now()
    if now - session.last_seen_at > IDLE_EXPIRY or now - session.created_at > ABSOLUTE_EXPIRY:
        await uow.session.delete(session)
        await uow.flush()
        raise StaffSessionExpired()
    if now - session.last_seen_at >= SEEN_EVERY:
        session.last_seen_at = now
        await uow.flush()
    return StaffView.of(member)


async def sign_out_staff(uow: UnitOfWork, token: str) -> None:
    """End the session of this token (authenticate it first). An agent who signs out of their
    last session is away: nobody would answer the people put through to them."""
    digest = _digest(token)
    session = (
        await uow.session.scalars(select(StaffSession).where(StaffSession.token_hash == digest))
    ).one_or_none()
    if session is None:
        return
    staff_id = session.staff_id
    await uow.session.execute(delete(StaffSession).where(StaffSession.id == session.id))
    remaining = (
        await uow.session.scalars(
            select(StaffSession.id).where(StaffSession.staff_id == staff_id).limit(1)
        )
    ).first()
    if remaining is None:
        member = await uow.session.get(StaffMember, staff_id)
        if member is not None:
            member.available = False
    await _audit(uow, staff_id, "staff.sign_out")


async def set_availability(uow: UnitOfWork, staff_id: int, available: bool) -> StaffView:
    """Turn the available/away switch (recorded in the audit log when it changes).

    Raises:
        StaffUnauthorized: the member is gone or disabled.
    """
    member = await uow.session.get(StaffMember, staff_id)
    if member is None or member.disabled_at is not None:
        raise StaffUnauthorized()
    if member.available != available:
        member.available = available
        await _audit(uow, staff_id, "staff.availability", available=available)
    await uow.flush()
    return StaffView.of(member)


async def available_staff(uow: UnitOfWork, language: str | None = None) -> list[StaffView]:
    """Staff who switched to available, are not disabled, have a console session in use (not
    idle longer than ``IDLE_EXPIRY``) and, with ``language``, speak it; by name."""
    live = exists().where(
        StaffSession.staff_id == StaffMember.id,
        StaffSession.last_seen_at > uow.clock.now() - IDLE_EXPIRY,
    )
    rows = await uow.session.scalars(
        select(StaffMember)
        .where(StaffMember.available.is_(True), StaffMember.disabled_at.is_(None), live)
        .order_by(StaffMember.display_name, StaffMember.id)
    )
    return [
        StaffView.of(member)
        for member in rows
        if language is None or language in (member.languages or [])
    ]


async def purge_expired_staff_sessions(uow: UnitOfWork, now: datetime, limit: int = 500) -> int:
    """Delete up to ``limit`` console sessions past their idle or absolute expiry (a console
    closed without signing out). Returns how many were deleted."""
    found = await uow.session.scalars(
        select(StaffSession.id)
        .where(
            (StaffSession.last_seen_at < now - IDLE_EXPIRY)
            | (StaffSession.created_at < now - ABSOLUTE_EXPIRY)
        )
        .order_by(StaffSession.id)
        .limit(limit)
    )
    ids = list(found)
    if ids:
        await uow.session.execute(delete(StaffSession).where(StaffSession.id.in_(ids)))
    return len(ids)
