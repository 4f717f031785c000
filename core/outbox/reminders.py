"""Appointment reminders: queued into the outbox 24 hours and 2 hours before an appointment.

``queue_reminders`` is idempotent and cheap to call often (the dispatchers call it on every
pass): each reminder has a dedupe key, and rows are written with ``INSERT ... ON CONFLICT DO
NOTHING``, so two processes queueing at once write each reminder once.

A reminder says when and where; it must never arrive after the appointment started, nor for an
appointment that was cancelled or moved since it was queued: ``reminder_stale_reason`` tells
the dispatcher to park such a row instead of sending it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from core.accounts.models import ChannelLink
from core.appointments.models import Appointment, AppointmentStatus
from core.contacts.models import ContactPoint
from core.outbox.models import OutboxMessage, OutboxStatus
from core.outbox.service import OutboxItem
from core.uow import UnitOfWork

__all__ = [
    "REMINDER",
    "REMINDER_HOURS",
    "queue_reminders",
    "reminder_due",
    "reminder_key",
    "reminder_stale_reason",
]

logger = logging.getLogger(__name__)

REMINDER: Final = "appointment_reminder"  # the outbox kind
REMINDER_HOURS: Final = (24, 2)


def reminder_due(starts_at: datetime, now: datetime) -> int | None:
    """Which reminder (24 or 2 hours before) an appointment starting at ``starts_at`` is due
    for at ``now``, or None (more than 24 hours ahead, or started already).

    The 24-hour reminder is due while more than 2 hours remain; after that only the 2-hour one:
    an appointment booked 90 minutes ahead gets one reminder, not two at once.
    """
    left = starts_at - now
    if left <= timedelta(0) or left > timedelta(hours=24):
        return None
    return 2 if left <= timedelta(hours=2) else 24


def reminder_key(appointment: Appointment, hours: int, channel: str, chat_id: str) -> str:
    """``reminder:<appointment id>:<hours>:<channel>:<chat_id>``, with ``:r<n>`` after the
    n-th reschedule, so that a moved appointment is reminded of its new time."""
    key = f"reminder:{appointment.id}:{hours}:{channel}:{chat_id}"
    if appointment.reschedule_count:
        key += f":r{appointment.reschedule_count}"
    return key


def _payload(appointment: Appointment, hours: int) -> dict[str, Any]:
    office = appointment.office
    return {
        "appointment_id": appointment.id,
        "confirmation_code": appointment.confirmation_code,
        "starts_at": appointment.starts_at.isoformat(),
        "timezone": office.timezone,
        "office_name": office.name,
        "office_address": f"{office.address}, {office.city}, {office.state} {office.zip_code}",
        "kind": str(appointment.kind),
        "hours_before": hours,
    }


async def _chats(uow: UnitOfWork, account_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    rows = await uow.session.execute(
        select(ChannelLink.account_id, ChannelLink.channel, ChannelLink.chat_id)
        .where(ChannelLink.account_id.in_(account_ids))
        .order_by(ChannelLink.id)
    )
    chats: dict[int, list[tuple[str, str]]] = {}
    for account_id, channel, chat_id in rows:
        chats.setdefault(account_id, []).append((channel, chat_id))
    return chats


async def _contacts(
    uow: UnitOfWork, account_ids: Sequence[int]
) -> dict[int, list[tuple[str, str, str, str | None]]]:
    """The confirmed email addresses and mobile numbers (``core.contacts``) of these accounts
    that want appointment reminders: (channel, address, locale, time zone) by account."""
    rows = await uow.session.execute(
        select(
            ContactPoint.account_id,
            ContactPoint.channel,
            ContactPoint.address,
            ContactPoint.locale,
            ContactPoint.time_zone,
        )
        .where(
            ContactPoint.account_id.in_(account_ids),
            ContactPoint.verified_at.is_not(None),
            ContactPoint.stopped_at.is_(None),
            ContactPoint.wants_appointments.is_(True),
        )
        .order_by(ContactPoint.id)
    )
    found: dict[int, list[tuple[str, str, str, str | None]]] = {}
    for account_id, channel, address, locale, time_zone in rows:
        if account_id is not None:  # the query asked for some: always
            found.setdefault(account_id, []).append((channel, address, locale, time_zone))
    return found


async def queue_reminders(uow: UnitOfWork, *, now: datetime) -> int:
    """Queue the reminders due at ``now`` for every chat linked to each appointment's account,
    and for each of its confirmed email addresses and mobile numbers that want them (with the
    address's language, and its time zone or else the office's, in the payload).

    Booked appointments starting within 24 hours get the 24-hour reminder (while more than two
    hours remain), those within 2 hours the 2-hour one; each (appointment, reminder, chat) once
    however often this runs. Runs in the caller's unit of work; the caller commits.

    Returns:
        How many outbox rows were written now.
    """
    appointments = list(
        await uow.session.scalars(
            select(Appointment)
            .options(selectinload(Appointment.office))
            .where(
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.starts_at > now,
                Appointment.starts_at <= now + timedelta(hours=24),
            )
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )
    if not appointments:
        return 0
    account_ids = sorted({a.account_id for a in appointments})
    chats = await _chats(uow, account_ids)
    contacts = await _contacts(uow, account_ids)
    rows: list[dict[str, Any]] = []
    for appointment in appointments:
        hours = reminder_due(appointment.starts_at, now)
        if hours is None:
            continue
        payload = _payload(appointment, hours)
        recipients = [
            (channel, chat_id, payload)
            for channel, chat_id in chats.get(appointment.account_id, [])
        ]
        recipients += [
            (
                channel,
                address,
                {**payload, "locale": locale, "time_zone": zone or payload["timezone"]},
            )
            for channel, address, locale, zone in contacts.get(appointment.account_id, [])
        ]
        for channel, chat_id, payload in recipients:
            rows.append(
                {
                    "kind": REMINDER,
                    "channel": channel,
                    "address": chat_id,
                    "payload": payload,
                    "dedupe_key": reminder_key(appointment, hours, channel, chat_id),
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    if not rows:
        return 0
    insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    written = 0
    for row in rows:
        result = await uow.session.execute(
            insert(OutboxMessage)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(OutboxMessage.id)
        )
        written += result.first() is not None
    if written:
        logger.info("queued %d appointment reminder(s)", written)
    return written


async def reminder_stale_reason(
    uow: UnitOfWork, message: OutboxItem, *, now: datetime
) -> str | None:
    """Why a queued reminder must not be sent any more, or None when it still holds.

    Returns:
        ``appointment_started`` (too late: a reminder is never sent after the start),
        ``appointment_gone``, ``appointment_cancelled`` or ``appointment_moved`` (its time or
        office changed since it was queued; the new time gets its own reminder).
    """
    payload = message.payload
    starts_at = datetime.fromisoformat(payload["starts_at"])
    if starts_at <= now:
        return "appointment_started"
    appointment_id = payload.get("appointment_id")
    if appointment_id is None:
        return None
    appointment = await uow.session.get(
        Appointment, appointment_id, options=[selectinload(Appointment.office)]
    )
    if appointment is None:
        return "appointment_gone"
    if appointment.status is AppointmentStatus.CANCELLED:
        return "appointment_cancelled"
    if appointment.starts_at != starts_at or appointment.office.name != payload["office_name"]:
        return "appointment_moved"
    return None
