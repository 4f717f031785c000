"""Staff accounts: added by an operator, set up by their owner with a one-time code.

``add_staff`` creates the account and a set-up code (192 random bits, kept as SHA-256, valid
72 hours). With the code its owner chooses a password (``begin_setup``, which also draws the
authenticator secret and returns its provisioning URI) and proves the authenticator app holds
the secret with one code (``confirm_setup``, which uses the code up). Only then can the account
sign in (``core.staff.sessions``).
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select

from core.accounts.lockout import ensure_not_locked, record_failure, record_success
from core.accounts.otp import generate_totp_secret, provisioning_uri, verify_totp
from core.accounts.passwords import hash_password_async
from core.accounts.policy import check_password, validate_email
from core.admin.audit import Outcome, record_action
from core.errors import AccountLocked, CodeReused, InvalidCode
from core.staff.errors import (
    InvalidStaffName,
    SetupCodeInvalid,
    SetupNotStarted,
    StaffExists,
    StaffNotFound,
    UnknownLanguage,
)
from core.staff.models import STAFF_LANGUAGES, StaffMember, StaffRole, StaffSession
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "SETUP_CODE_LIFETIME",
    "NewStaff",
    "SetupStarted",
    "StaffView",
    "add_staff",
    "begin_setup",
    "confirm_setup",
    "disable_staff",
    "get_staff",
    "list_staff",
    "parse_languages",
    "reissue_setup_code",
    "staff_by_email",
    "validate_display_name",
]

SETUP_CODE_LIFETIME: Final = timedelta(hours=72)
MAX_NAME_LENGTH: Final = 100
TOTP_ISSUER: Final = "casebot console"


@dataclass(frozen=True, slots=True)
class StaffView:
    """A staff member as the rest of the system sees them (no secret in it)."""

    id: int
    email: str
    display_name: str
    languages: tuple[str, ...]
    role: StaffRole
    available: bool
    set_up: bool
    disabled: bool
    created_at: datetime
    last_sign_in_at: datetime | None

    @classmethod
    def of(cls, member: StaffMember) -> StaffView:
        return cls(
            id=member.id,
            email=member.email,
            display_name=member.display_name,
            languages=tuple(member.languages),
            role=member.role,
            available=member.available,
            set_up=member.password_hash is not None and member.totp_confirmed,
            disabled=member.disabled_at is not None,
            created_at=member.created_at,
            last_sign_in_at=member.last_sign_in_at,
        )


@dataclass(frozen=True, slots=True)
class NewStaff:
    """A staff member just added, and the set-up code to hand them (shown once)."""

    staff: StaffView
    setup_code: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SetupStarted:
    """The password is chosen; the authenticator app must now scan ``uri`` (or be typed
    ``secret``) and give one code to ``confirm_setup``."""

    email: str
    secret: str = field(repr=False)
    uri: str = field(repr=False)


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def parse_languages(codes: Iterable[str]) -> tuple[str, ...]:
    """Language codes, lower case, duplicates dropped, in the order given.

    Raises:
        UnknownLanguage: a code is not one of the 11 languages (or none is given: code "").
    """
    languages: list[str] = []
    for raw in codes:
        code = raw.strip().lower()
        if code not in STAFF_LANGUAGES:
            raise UnknownLanguage(code=code)
        if code not in languages:
            languages.append(code)
    if not languages:
        raise UnknownLanguage(code="")
    return tuple(languages)


def validate_display_name(name: str) -> str:
    """The name as shown to people ("You are now chatting with Maria"), trimmed.

    Raises:
        InvalidStaffName: empty, longer than 100 characters, or holding control characters.
    """
    cleaned = " ".join(name.split())
    if (
        not cleaned
        or len(cleaned) > MAX_NAME_LENGTH
        or any(unicodedata.category(char).startswith("C") for char in cleaned)
    ):
        raise InvalidStaffName()
    return cleaned


async def get_staff(uow: UnitOfWork, staff_id: int) -> StaffView | None:
    """A staff member by ``staff_id`` (how the handoff names agents), or None."""
    member = await uow.session.get(StaffMember, staff_id)
    return None if member is None else StaffView.of(member)


async def staff_by_email(uow: UnitOfWork, email: str) -> StaffMember | None:
    return (
        await uow.session.scalars(select(StaffMember).where(StaffMember.email == email))
    ).one_or_none()


async def add_staff(
    uow: UnitOfWork,
    email: str,
    display_name: str,
    languages: Iterable[str],
    role: StaffRole = StaffRole.AGENT,
) -> NewStaff:
    """Add a staff member with a fresh set-up code (in the caller's unit of work).

    Raises:
        InvalidEmail, InvalidStaffName, UnknownLanguage: bad input.
        StaffExists: a staff member has this email already.
    """
    normalized = validate_email(email)
    name = validate_display_name(display_name)
    codes = parse_languages(languages)
    if await staff_by_email(uow, normalized) is not None:
        raise StaffExists(email=normalized)
    code = secrets.token_urlsafe(24)
    now = uow.clock.now()
    member = StaffMember(
        email=normalized,
        display_name=name,
        languages=list(codes),
        role=role,
        setup_code_hash=_digest(code),
        setup_expires_at=now + SETUP_CODE_LIFETIME,
        created_at=now,
    )
    uow.session.add(member)
    await uow.flush()
    return NewStaff(StaffView.of(member), code, now + SETUP_CODE_LIFETIME)


async def list_staff(uow: UnitOfWork) -> list[StaffView]:
    rows = await uow.session.scalars(select(StaffMember).order_by(StaffMember.email))
    return [StaffView.of(member) for member in rows]


async def disable_staff(uow: UnitOfWork, email: str) -> tuple[StaffView, bool]:
    """Disable a staff member: away, set-up code void, every console session ended.

    Returns:
        The member, and False when they were disabled already.

    Raises:
        StaffNotFound: no staff member has this email.
    """
    try:
        normalized = validate_email(email)
    except ValueError:
        raise StaffNotFound(email=email) from None
    member = await staff_by_email(uow, normalized)
    if member is None:
        raise StaffNotFound(email=normalized)
    changed = member.disabled_at is None
    if changed:
        member.disabled_at = uow.clock.now()
    member.available = False
    member.setup_code_hash = member.setup_expires_at = None
    await uow.session.execute(delete(StaffSession).where(StaffSession.staff_id == member.id))
    await uow.flush()
    return StaffView.of(member), changed


async def _by_setup_code(uow: UnitOfWork, code: str) -> StaffMember:
    member = (
        await uow.session.scalars(
            select(StaffMember)
            .where(StaffMember.setup_code_hash == _digest(code))
            .with_for_update()
        )
    ).one_or_none()
    if (
        member is None
        or member.disabled_at is not None
        or member.setup_expires_at is None
        or member.setup_expires_at <= uow.clock.now()
    ):
        raise SetupCodeInvalid()
    return member


async def begin_setup(uow_factory: UnitOfWorkFactory, code: str, password: str) -> SetupStarted:
    """Choose the password with the set-up code and draw a new authenticator secret (asked
    again, as after a reload, it draws another: only the last one is confirmed).

    Raises:
        SetupCodeInvalid: the code is unknown, used, expired, or its owner disabled.
        WeakPassword: the password breaks the applicants' policy.
    """
    async with uow_factory() as uow:
        member = await _by_setup_code(uow, code)
        email = member.email
    normalized = check_password(password, email)
    password_hash = await hash_password_async(normalized)
    secret = generate_totp_secret()
    async with uow_factory() as uow:
        member = await _by_setup_code(uow, code)
        member.password_hash = password_hash
        member.sealed_totp_secret = uow.secret_box.seal(secret)
        member.totp_confirmed = False
        member.totp_last_step = None
        await uow.commit()
    return SetupStarted(email, secret, provisioning_uri(secret, email, TOTP_ISSUER))


async def confirm_setup(uow: UnitOfWork, code: str, totp: str) -> StaffView:
    """Check one authenticator code against the secret drawn by ``begin_setup``; on success
    the set-up code is used up and the account can sign in. A wrong code counts towards the
    lockout, as at sign-in. The caller commits, also after a refusal.

    Raises:
        SetupCodeInvalid: the code is unknown, used, expired, or its owner disabled.
        SetupNotStarted: no password was chosen yet.
        AccountLocked: too many wrong codes.
        InvalidCode, CodeReused: the authenticator code is wrong or was used already.
    """
    member = await _by_setup_code(uow, code)
    now = uow.clock.now()
    ensure_not_locked(member, now)
    if member.password_hash is None or member.sealed_totp_secret is None:
        raise SetupNotStarted()
    secret = uow.secret_box.open(member.sealed_totp_secret)
    try:
        step = verify_totp(secret, totp, now, member.totp_last_step)
    except (InvalidCode, CodeReused):
        until = record_failure(member, now)
        await uow.flush()
        if until is not None:
            raise AccountLocked(until=until) from None
        raise
    record_success(member)
    member.totp_last_step = step
    member.totp_confirmed = True
    member.setup_code_hash = member.setup_expires_at = None
    await record_action(
        uow,
        actor=f"staff:{member.id}",
        action="staff.setup",
        target=f"staff:{member.id}",
        outcome=Outcome.CHANGED,
    )
    return StaffView.of(member)


async def reissue_setup_code(uow: UnitOfWork, email: str) -> NewStaff:
    """A new set-up code for a staff member who lost their password or authenticator: the
    old password and secret stop working, every console session ends, and the account is
    enabled again.

    Raises:
        StaffNotFound: no staff member has this email.
    """
    try:
        normalized = validate_email(email)
    except ValueError:
        raise StaffNotFound(email=email) from None
    member = await staff_by_email(uow, normalized)
    if member is None:
        raise StaffNotFound(email=normalized)
    code = secrets.token_urlsafe(24)
    now = uow.clock.now()
    member.password_hash = member.sealed_totp_secret = member.totp_last_step = None
    member.totp_confirmed = member.available = False
    member.disabled_at = None
    member.setup_code_hash, member.setup_expires_at = _digest(code), now + SETUP_CODE_LIFETIME
    record_success(member)
    await uow.session.execute(delete(StaffSession).where(StaffSession.staff_id == member.id))
    await uow.flush()
    return NewStaff(StaffView.of(member), code, now + SETUP_CODE_LIFETIME)
