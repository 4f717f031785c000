"""Contact points: asking for one (a code is sent to it), confirming it, what it wants,
unsubscribing, and who hears of a case's status change.

A person gives an email address or a US mobile number; a 6-digit code goes there through the
outbox (``code_email`` or ``code_sms``, the plain code in the payload, as the sender needs it),
and only once the person types it back is the contact point used (double opt-in). The codes
follow the rules of ``core.accounts.email_codes``: 10 minutes, 5 tries, single use, a new one
at most every 60 seconds. Asking for a code changes nothing else about an address that exists
already: what the person chose is applied when the code is confirmed, so a stranger who types
someone's address can neither confirm it nor change what it gets.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, delete, or_, select

from core import ratelimit
from core.accounts.email_codes import (
    CODE_TTL,
    check_code,
    generate_email_code,
    hash_email_code,
    resend_wait_seconds,
)
from core.accounts.policy import validate_email
from core.cases.models import Case
from core.cases.receipt import ReceiptNumber
from core.cases.repository import find_case
from core.contacts.models import ContactChannel, ContactCode, ContactFollow, ContactPoint
from core.contacts.phone import parse_us_mobile, zone_of_number
from core.errors import CaseNotFound, InvalidCode, RateLimited, UnsubscribeLinkInvalid
from core.outbox.service import add_notification
from core.uow import UnitOfWork

__all__ = [
    "CODES_PER_HOUR",
    "CODE_EMAIL",
    "CODE_SMS",
    "WANTS",
    "Choice",
    "ContactView",
    "account_recipients",
    "active_contact",
    "confirm_contact",
    "contact_by_token",
    "contacts_of_account",
    "normalize_address",
    "purge_unconfirmed",
    "request_contact",
    "set_wants",
    "status_recipients",
    "stop_contact",
    "token_hash",
    "unsubscribe",
    "unsubscribe_token",
]

logger = logging.getLogger(__name__)

CODE_EMAIL: Final = "code_email"  # outbox kinds of the confirmation codes
CODE_SMS: Final = "code_sms"
WANTS: Final = ("status", "appointments", "agent_replies")  # what a contact point may get
_TOKEN_BYTES: Final = 32
CODES_PER_HOUR: Final = 6  # confirmation codes one chat may have sent, to any addresses


@dataclass(frozen=True, slots=True)
class ContactView:
    """A contact point as the chat and the web pages show it."""

    id: int
    channel: str
    address: str
    locale: str
    active: bool
    stopped: bool
    wants_status: bool
    wants_appointments: bool
    wants_agent_replies: bool

    @classmethod
    def of(cls, contact: ContactPoint) -> ContactView:
        return cls(
            id=contact.id,
            channel=contact.channel,
            address=contact.address,
            locale=contact.locale,
            active=contact.active,
            stopped=contact.stopped_at is not None,
            wants_status=contact.wants_status,
            wants_appointments=contact.wants_appointments,
            wants_agent_replies=contact.wants_agent_replies,
        )

    @property
    def masked(self) -> str:
        """Enough of the address to recognise it, not to learn it from a forwarded link:
        ``s***@example.com``, ``(•••) •••-0123``."""
        if self.channel == ContactChannel.SMS:
            return f"(•••) •••-{self.address[-4:]}"
        local, _, domain = self.address.partition("@")
        return f"{local[:1]}***@{domain}"


@dataclass(frozen=True, slots=True)
class Choice:
    """What the person chose, applied when the code is confirmed.

    Attributes:
        locale: the language of what is sent there.
        time_zone: IANA name, or None (the office's or USCIS's zone is used).
        account_id: the signed-in person's account (their own cases), or None.
        chat_channel, chat_id: the chat the address was given in.
        receipt_number: a case to follow (someone not signed in), or None.
    """

    locale: str
    time_zone: str | None = None
    account_id: int | None = None
    chat_channel: str | None = None
    chat_id: str | None = None
    receipt_number: str | None = None


def normalize_address(channel: str, text: str) -> str:
    """The address as it is kept: a checked email address, or a US mobile number in E.164.

    Raises:
        InvalidEmail: not an email address (channel ``email``).
        InvalidPhoneNumber: not a US mobile number (channel ``sms``).
        ValueError: an unknown channel.
    """
    if channel == ContactChannel.EMAIL:
        return validate_email(text)
    if channel == ContactChannel.SMS:
        return parse_us_mobile(text)
    raise ValueError(f"unknown contact channel {channel!r}")


def token_hash(token: str) -> str:
    """How an unsubscribe token is looked up: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def _latest_code(uow: UnitOfWork, contact_id: int) -> ContactCode | None:
    row: ContactCode | None = await uow.session.scalar(
        select(ContactCode)
        .where(ContactCode.contact_id == contact_id)
        .order_by(ContactCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    return row


async def request_contact(
    uow: UnitOfWork, channel: str, address: str, *, locale: str, requester: str | None = None
) -> int:
    """Send a confirmation code to an address (created as an unconfirmed contact point if new),
    through the outbox, in this unit of work.

    Args:
        requester: who asks (``channel:chat_id``): at most :data:`CODES_PER_HOUR` codes an hour
            to any addresses, so that no chat turns the service into a sender of mail or texts
            to strangers.

    Returns:
        The contact point's id (to confirm it with).

    Raises:
        InvalidEmail, InvalidPhoneNumber: see ``normalize_address``.
        RateLimited: the last code to this address is less than 60 seconds old
            (``retry_after_seconds`` at most 60), or the requester asked for too many codes
            this hour.
    """
    address = normalize_address(channel, address)
    now = uow.clock.now()
    contact = await uow.session.scalar(
        select(ContactPoint).where(ContactPoint.channel == channel, ContactPoint.address == address)
    )
    if contact is None:
        contact = ContactPoint(channel=channel, address=address, locale=locale, created_at=now)
        uow.session.add(contact)
        await uow.flush()
    wait = resend_wait_seconds(await _latest_code(uow, contact.id), now)
    if wait:
        raise RateLimited(retry_after_seconds=wait)
    if requester is not None:
        await ratelimit.hit(
            uow, f"contact_code:h:{requester}", limit=CODES_PER_HOUR, window=timedelta(hours=1)
        )
    await uow.session.execute(delete(ContactCode).where(ContactCode.contact_id == contact.id))
    code = generate_email_code()
    row = ContactCode(
        contact_id=contact.id,
        code_hash=hash_email_code(code),
        expires_at=now + CODE_TTL,
        attempts=0,
        created_at=now,
    )
    uow.session.add(row)
    await uow.flush()
    kind = CODE_EMAIL if channel == ContactChannel.EMAIL else CODE_SMS
    await add_notification(
        uow,
        kind=kind,
        channel=channel,
        address=address,
        payload={"code": code, "locale": locale},
        # Not the code row's id: SQLite gives a deleted row's id to the next one.
        dedupe_key=f"{kind}:{contact.id}:{secrets.token_hex(8)}",
    )
    logger.info("sent a confirmation code to a contact point (%s)", channel)
    return contact.id


async def confirm_contact(
    uow: UnitOfWork, channel: str, address: str, code: str, choice: Choice
) -> ContactPoint:
    """Check the code typed for an address; right, its contact point is confirmed and
    gets what ``choice`` says (and a new unsubscribe token). A wrong code uses up a try: the
    caller commits even when this raises.

    Raises:
        InvalidEmail, InvalidPhoneNumber: see ``normalize_address``.
        InvalidCode, CodeReused, CodeExpired, TooManyAttempts: see
            ``core.accounts.email_codes.check_code`` (no code was sent there: InvalidCode).
        CaseNotFound: the case to follow is gone.
    """
    contact = await uow.session.scalar(
        select(ContactPoint).where(
            ContactPoint.channel == channel,
            ContactPoint.address == normalize_address(channel, address),
        )
    )
    if contact is None:
        raise InvalidCode()
    now = uow.clock.now()
    row = await _latest_code(uow, contact.id)
    check_code(row, code, now)
    assert row is not None  # check_code raised otherwise
    row.used_at = now
    if contact.verified_at is None:
        contact.verified_at = now
    contact.stopped_at = None
    contact.stopped_by_keyword = False
    contact.wants_status = True
    contact.locale = choice.locale
    contact.time_zone = choice.time_zone or contact.time_zone
    if contact.time_zone is None and contact.channel == ContactChannel.SMS:
        contact.time_zone = zone_of_number(contact.address)  # the area code's, as a default
    if choice.account_id is not None:
        contact.account_id = choice.account_id
    if choice.chat_channel is not None:
        contact.chat_channel, contact.chat_id = choice.chat_channel, choice.chat_id
    _new_token(uow, contact)
    if choice.receipt_number is not None:
        await _follow(uow, contact, choice.receipt_number)
    await uow.flush()
    logger.info("confirmed contact point %s (%s)", contact.id, contact.channel)
    return contact


def _new_token(uow: UnitOfWork, contact: ContactPoint) -> None:
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    contact.token_hash = token_hash(token)
    contact.token_sealed = uow.secret_box.seal(token)


async def _follow(uow: UnitOfWork, contact: ContactPoint, receipt_number: str) -> None:
    receipt = ReceiptNumber.parse(receipt_number)
    case = await find_case(uow, receipt)
    if case is None:
        raise CaseNotFound(receipt_number=str(receipt))
    exists = await uow.session.scalar(
        select(ContactFollow.id).where(
            ContactFollow.contact_id == contact.id, ContactFollow.case_id == case.id
        )
    )
    if exists is None:
        uow.session.add(
            ContactFollow(contact_id=contact.id, case_id=case.id, created_at=uow.clock.now())
        )


def unsubscribe_token(uow: UnitOfWork, contact: ContactPoint) -> str | None:
    """The plain unsubscribe token of a confirmed contact point, for its link (never log it)."""
    if contact.token_sealed is None:
        return None
    return uow.secret_box.open(contact.token_sealed)


async def _by_token(uow: UnitOfWork, token: str) -> ContactPoint | None:
    if not token or len(token) > 200:
        return None
    found: ContactPoint | None = await uow.session.scalar(
        select(ContactPoint).where(ContactPoint.token_hash == token_hash(token))
    )
    return found


async def contact_by_token(uow: UnitOfWork, token: str) -> ContactView | None:
    """The contact point an unsubscribe link names, or None (forged, mistyped)."""
    found = await _by_token(uow, token)
    return None if found is None else ContactView.of(found)


async def unsubscribe(uow: UnitOfWork, token: str) -> ContactView:
    """Turn off everything a contact point gets, from its unsubscribe link.

    Raises:
        UnsubscribeLinkInvalid: ``unknown`` (no contact point has this token: nothing changes)
            or ``used`` (it is off already: nothing changes).
    """
    contact = await _by_token(uow, token)
    if contact is None:
        raise UnsubscribeLinkInvalid(reason="unknown")
    if contact.stopped_at is not None:
        raise UnsubscribeLinkInvalid(reason="used")
    contact.stopped_at = uow.clock.now()
    contact.stopped_by_keyword = False  # the person's own choice: a START does not undo it
    await uow.flush()
    logger.info("contact point %s unsubscribed by its link", contact.id)
    return ContactView.of(contact)


async def active_contact(uow: UnitOfWork, channel: str, address: str) -> ContactPoint | None:
    """The confirmed, not stopped contact point of an address, if any."""
    found: ContactPoint | None = await uow.session.scalar(
        select(ContactPoint).where(
            ContactPoint.channel == channel,
            ContactPoint.address == address,
            ContactPoint.verified_at.is_not(None),
            ContactPoint.stopped_at.is_(None),
        )
    )
    return found


async def contacts_of_account(uow: UnitOfWork, account_id: int) -> list[ContactView]:
    """The confirmed contact points of an account, oldest first (stopped ones too)."""
    rows = await uow.session.scalars(
        select(ContactPoint)
        .where(ContactPoint.account_id == account_id, ContactPoint.verified_at.is_not(None))
        .order_by(ContactPoint.id)
    )
    return [ContactView.of(row) for row in rows]


async def account_recipients(uow: UnitOfWork, account_id: int, what: str) -> list[ContactView]:
    """The confirmed, not stopped contact points of an account that want ``what`` (one of
    ``WANTS``: a sender of agent replies asks for ``agent_replies``), oldest first.

    Raises:
        ValueError: ``what`` is not one of ``WANTS``.
    """
    if what not in WANTS:
        raise ValueError(f"unknown kind of message {what!r}")
    rows = await uow.session.scalars(
        select(ContactPoint)
        .where(
            ContactPoint.account_id == account_id,
            ContactPoint.verified_at.is_not(None),
            ContactPoint.stopped_at.is_(None),
            getattr(ContactPoint, f"wants_{what}").is_(True),
        )
        .order_by(ContactPoint.id)
    )
    return [ContactView.of(row) for row in rows]


async def set_wants(
    uow: UnitOfWork, account_id: int, contact_id: int, what: str, on: bool
) -> ContactPoint | None:
    """Turn one kind of message (``WANTS``) on or off for an account's contact point; turning
    something on starts a stopped contact point again. None: not this account's."""
    if what not in WANTS:
        raise ValueError(f"unknown kind of message {what!r}")
    contact = await uow.session.get(ContactPoint, contact_id)
    if contact is None or contact.account_id != account_id or contact.verified_at is None:
        return None
    setattr(contact, f"wants_{what}", on)
    if on:
        contact.stopped_at = None
        contact.stopped_by_keyword = False
    await uow.flush()
    return contact


async def stop_contact(uow: UnitOfWork, account_id: int, contact_id: int) -> bool:
    """Stop everything an account's contact point gets. False: not this account's."""
    contact = await uow.session.get(ContactPoint, contact_id)
    if contact is None or contact.account_id != account_id:
        return False
    contact.stopped_at = uow.clock.now()
    contact.stopped_by_keyword = False  # the person's own choice: a START does not undo it
    await uow.flush()
    return True


async def purge_unconfirmed(uow: UnitOfWork, *, created_before: datetime, limit: int) -> int:
    """Delete up to ``limit`` contact points never confirmed and asked for before
    ``created_before`` (an address someone typed and never proved), with their codes; returns
    how many. Confirmed ones stay, stopped or not (a stop must be remembered)."""
    found = await uow.session.scalars(
        select(ContactPoint.id)
        .where(ContactPoint.verified_at.is_(None), ContactPoint.created_at < created_before)
        .order_by(ContactPoint.created_at)
        .limit(limit)
    )
    ids = list(found)
    if ids:
        # Not left to ON DELETE CASCADE (a connection without SQLite's foreign_keys pragma).
        await uow.session.execute(delete(ContactCode).where(ContactCode.contact_id.in_(ids)))
        await uow.session.execute(delete(ContactFollow).where(ContactFollow.contact_id.in_(ids)))
        await uow.session.execute(delete(ContactPoint).where(ContactPoint.id.in_(ids)))
    return len(ids)


async def status_recipients(uow: UnitOfWork, case: Case) -> Sequence[ContactPoint]:
    """The contact points that hear of this case's status changes: confirmed, not stopped,
    wanting status changes, and either the owner's or following the case; each address once."""
    follows = select(ContactFollow.contact_id).where(ContactFollow.case_id == case.id)
    whose: list[ColumnElement[bool]] = [ContactPoint.id.in_(follows)]
    if case.owner_id is not None:
        whose.append(ContactPoint.account_id == case.owner_id)
    rows = await uow.session.scalars(
        select(ContactPoint)
        .where(
            ContactPoint.verified_at.is_not(None),
            ContactPoint.stopped_at.is_(None),
            ContactPoint.wants_status.is_(True),
            or_(*whose),
        )
        .order_by(ContactPoint.id)
    )
    return list(rows)
