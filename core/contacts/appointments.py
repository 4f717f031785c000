"""Appointment mail: booking, rescheduling, cancelling and office closures, written into the
outbox for each confirmed email address of the appointment's holder that wants appointments.

One ``appointment_mail`` row per address and change, in the transaction of the change; the
payload holds everything the mail and its calendar file need (the office, its address and time
zone, the times, the calendar event's uid and sequence), so the mail is worded in the person's
language when it is sent and never reads an appointment that has changed since.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from sqlalchemy import select

from core.appointments.models import Appointment, AppointmentStatus, Office
from core.contacts.models import ContactChannel, ContactPoint
from core.outbox.service import add_notification
from core.uow import UnitOfWork

__all__ = ["APPOINTMENT_MAIL", "EVENTS", "queue_appointment_mail"]

logger = logging.getLogger(__name__)

APPOINTMENT_MAIL: Final = "appointment_mail"  # the outbox kind
EVENTS: Final = ("booked", "rescheduled", "cancelled", "office_closed")


def _payload(appointment: Appointment, office: Office, event: str) -> dict[str, Any]:
    return {
        "event": event,
        "appointment_id": appointment.id,
        "confirmation_code": appointment.confirmation_code,
        "kind": str(appointment.kind),
        "starts_at": appointment.starts_at.isoformat(),
        "ends_at": appointment.ends_at.isoformat(),
        "timezone": office.timezone,
        "office_name": office.name,
        "office_address": f"{office.address}, {office.city}, {office.state} {office.zip_code}",
        "uid": f"appointment-{appointment.confirmation_code}@casebot",
        "sequence": appointment.reschedule_count,
        "cancelled": appointment.status is AppointmentStatus.CANCELLED,
    }


async def queue_appointment_mail(uow: UnitOfWork, appointment: Appointment, event: str) -> int:
    """Queue the mail of one change of an appointment, in this unit of work.

    Returns:
        How many mails were queued (0: the holder has no confirmed address that wants them).

    Raises:
        ValueError: an unknown ``event`` (see ``EVENTS``).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown appointment event {event!r}")
    contacts = list(
        await uow.session.scalars(
            select(ContactPoint)
            .where(
                ContactPoint.account_id == appointment.account_id,
                ContactPoint.channel == ContactChannel.EMAIL,
                ContactPoint.verified_at.is_not(None),
                ContactPoint.stopped_at.is_(None),
                ContactPoint.wants_appointments.is_(True),
            )
            .order_by(ContactPoint.id)
        )
    )
    if not contacts:
        return 0
    office = await uow.session.get(Office, appointment.office_id)
    if office is None:  # the foreign key keeps it; nothing to say without it
        return 0
    payload = _payload(appointment, office, event)
    queued = 0
    for contact in contacts:
        queued += await add_notification(
            uow,
            kind=APPOINTMENT_MAIL,
            channel=contact.channel,
            address=contact.address,
            payload={**payload, "locale": contact.locale},
            dedupe_key=(
                f"{APPOINTMENT_MAIL}:{appointment.id}:{event}:{appointment.reschedule_count}:"
                f"{contact.address}"
            ),
        )
    logger.info("appointment %s %s: %d mails queued", appointment.id, event, queued)
    return queued
