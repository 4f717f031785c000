"""Closing an office for a day, with its appointments, and opening the day again.

Closing a local day records the closure, cancels the appointments booked that day that have
not started (``cancel_reason = "office_closed"``, seats freed, so each case may book again) and
queues an ``office_closed`` notice for every chat signed in as each person, offering to book
again: all in the caller's transaction. Their reminders are then parked as cancelled by the
dispatcher.

No booking can slip into the closed day, even one that checked the schedule just before the
closure committed: the day's slots are frozen (``slot_usage.capacity = taken``) inside the same
transaction. On PostgreSQL the order of the steps keeps that true under concurrency, with no
deadlock against a booking, a cancellation or a move:

1. lock the day's booked appointments (``FOR UPDATE``), as a person's change would first;
2. freeze every slot of the day, creating the missing ``slot_usage`` rows: this waits for any
   booking in flight on those slots to commit, and a later one finds the slot full;
3. read the appointments again: those that committed between 1 and 2 are now visible;
4. cancel them all, then freeze again (freeing seats must not reopen them).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from core.accounts.models import ChannelLink
from core.appointments.models import (
    Appointment,
    AppointmentStatus,
    Office,
    OfficeClosure,
    SlotUsage,
)
from core.appointments.office_admin import freeze_day
from core.appointments.offices import get_office
from core.appointments.seats import free_seat
from core.appointments.slots import OfficeSchedule, Slot
from core.appointments.time import local_day_bounds, local_today
from core.cases.models import Case
from core.contacts.appointments import queue_appointment_mail
from core.errors import InvalidOfficeData
from core.outbox.service import add_notification
from core.uow import UnitOfWork

__all__ = [
    "CLOSURE_HORIZON",
    "OFFICE_CLOSED",
    "ClosureResult",
    "close_office_day",
    "reopen_office_day",
]

logger = logging.getLogger(__name__)

OFFICE_CLOSED: Final = "office_closed"  # the outbox kind, and the appointments' cancel_reason
CLOSURE_HORIZON: Final = timedelta(days=730)  # how far ahead a day may be closed
REASON_LENGTH: Final = 200


@dataclass(frozen=True, slots=True)
class ClosureResult:
    """What closing a day did.

    Attributes:
        newly_closed: False when the day was closed already (its reason may have changed).
        cancelled: the confirmation codes of the appointments cancelled now.
        notices: the notices queued (one per chat signed in as each person).
        changed: False when the day was closed already, for the same reason, and nothing was
            cancelled now.
    """

    office_code: str
    day: date
    newly_closed: bool
    cancelled: tuple[str, ...]
    notices: int
    changed: bool = True


def _check_day(day: date, now_day: date) -> None:
    if day < now_day or day > now_day + CLOSURE_HORIZON:
        raise InvalidOfficeData(field="day")


async def close_office_day(
    uow: UnitOfWork, office: int | str, day: date, reason: str = ""
) -> ClosureResult:
    """Close an office for a local day, cancel that day's appointments and tell the people.

    Closing a closed day again changes only its reason (appointments booked since cannot
    exist: the day was closed). Appointments of the day that have started are left alone.

    Raises:
        OfficeNotFound: no such active office.
        InvalidOfficeData: ``day`` is before the office's today or more than two years ahead;
            ``reason`` is longer than 200 characters.
    """
    reason = reason.strip()
    if len(reason) > REASON_LENGTH or any(ord(c) < 32 for c in reason):
        raise InvalidOfficeData(field="reason")
    found = await get_office(uow, office, with_schedule=True)
    # Read the schedule now: loading the day's appointments below refreshes the office row.
    slots = OfficeSchedule.from_office(found).slots_of_day(day)
    now = uow.clock.now()
    _check_day(day, local_today(now, found.timezone))
    closure = await uow.session.scalar(
        select(OfficeClosure).where(OfficeClosure.office_id == found.id, OfficeClosure.day == day)
    )
    same_reason = closure is not None and closure.reason == reason
    if closure is None:
        uow.session.add(OfficeClosure(office_id=found.id, day=day, reason=reason))
    else:
        closure.reason = reason
    await uow.flush()

    await _booked_that_day(uow, found, day)  # step 1: lock them
    await _create_missing_slot_rows(uow, found, slots)
    await freeze_day(uow, found, day)  # step 2
    appointments = await _booked_that_day(uow, found, day)  # step 3
    for appointment in appointments:  # step 4
        await free_seat(uow, appointment.office_id, appointment.starts_at)
        appointment.status = AppointmentStatus.CANCELLED
        appointment.active_key = None
        appointment.cancel_reason = OFFICE_CLOSED
        appointment.updated_at = now
    await uow.flush()
    await freeze_day(uow, found, day)
    notices = await _tell_people(uow, found, day, appointments)
    logger.info(
        "office %s closed on %s: %d appointments cancelled, %d notices queued",
        found.code,
        day,
        len(appointments),
        notices,
    )
    return ClosureResult(
        office_code=found.code,
        day=day,
        newly_closed=closure is None,
        cancelled=tuple(a.confirmation_code for a in appointments),
        notices=notices,
        changed=not same_reason or bool(appointments),
    )


async def reopen_office_day(uow: UnitOfWork, office: int | str, day: date) -> bool:
    """Open a closed day again: its slots may be booked again (within the office's capacity).

    Appointments cancelled by the closure stay cancelled: the people were told and offered to
    book again.

    Returns:
        True if the day was closed, False if it was open already.

    Raises:
        OfficeNotFound: no such active office.
    """
    found = await get_office(uow, office)
    removed = await uow.session.execute(
        delete(OfficeClosure)
        .where(OfficeClosure.office_id == found.id, OfficeClosure.day == day)
        .returning(OfficeClosure.id)
    )
    if removed.first() is None:
        return False
    start, end = local_day_bounds(day, found.timezone)
    await uow.session.execute(
        update(SlotUsage)
        .where(
            SlotUsage.office_id == found.id,
            SlotUsage.starts_at >= start,
            SlotUsage.starts_at < end,
        )
        .values(
            capacity=case((SlotUsage.taken > found.capacity, SlotUsage.taken), else_=found.capacity)
        )
        .execution_options(synchronize_session=False)
    )
    logger.info("office %s open again on %s", found.code, day)
    return True


async def _booked_that_day(uow: UnitOfWork, office: Office, day: date) -> list[Appointment]:
    """The booked appointments of a local day that have not started, locked, earliest first."""
    start, end = local_day_bounds(day, office.timezone)
    rows = await uow.session.scalars(
        select(Appointment)
        .where(
            Appointment.office_id == office.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at >= max(start, uow.clock.now()),
            Appointment.starts_at < end,
        )
        .options(selectinload(Appointment.office))
        .order_by(Appointment.starts_at, Appointment.id)
        .with_for_update(of=Appointment)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def _create_missing_slot_rows(uow: UnitOfWork, office: Office, slots: list[Slot]) -> None:
    """A ``slot_usage`` row (nobody, no seat) for every slot of the day that has none yet, so
    freezing covers the slots nobody has booked too."""
    if not slots:
        return
    insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    rows = [
        {"office_id": office.id, "starts_at": s.starts_at, "capacity": 0, "taken": 0} for s in slots
    ]
    await uow.session.execute(
        insert(SlotUsage)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[SlotUsage.office_id, SlotUsage.starts_at])
    )


async def _tell_people(
    uow: UnitOfWork, office: Office, day: date, appointments: Sequence[Appointment]
) -> int:
    """Queue an ``office_closed`` notice for each chat signed in as each person."""
    if not appointments:
        return 0
    accounts = sorted({a.account_id for a in appointments})
    links = await uow.session.execute(
        select(ChannelLink.account_id, ChannelLink.channel, ChannelLink.chat_id)
        .where(ChannelLink.account_id.in_(accounts))
        .order_by(ChannelLink.id)
    )
    chats: dict[int, list[tuple[str, str]]] = {}
    for account_id, channel, chat_id in links:
        chats.setdefault(account_id, []).append((channel, chat_id))
    case_ids = sorted({a.case_id for a in appointments if a.case_id is not None})
    receipts: dict[int, str] = {}
    if case_ids:
        found = await uow.session.execute(
            select(Case.id, Case.receipt_number).where(Case.id.in_(case_ids))
        )
        receipts = {case_id: receipt for case_id, receipt in found}
    queued = 0
    for appointment in appointments:
        await queue_appointment_mail(uow, appointment, OFFICE_CLOSED)
        payload = _payload(office, day, appointment, receipts.get(appointment.case_id or 0))
        for channel, chat_id in chats.get(appointment.account_id, []):
            queued += await add_notification(
                uow,
                kind=OFFICE_CLOSED,
                channel=channel,
                address=chat_id,
                payload=payload,
                dedupe_key=f"{OFFICE_CLOSED}:{appointment.id}:{channel}:{chat_id}",
            )
    return queued


def _payload(
    office: Office, day: date, appointment: Appointment, receipt: str | None
) -> dict[str, Any]:
    return {
        "appointment_id": appointment.id,
        "confirmation_code": appointment.confirmation_code,
        "kind": str(appointment.kind),
        "starts_at": appointment.starts_at.isoformat(),
        "timezone": office.timezone,
        "day": day.isoformat(),
        "office_code": office.code,
        "office_name": office.name,
        "office_address": f"{office.address}, {office.city}, {office.state} {office.zip_code}",
        "receipt_number": receipt,
    }
