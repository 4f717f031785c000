"""Booking, rescheduling and cancelling appointments, and listing the free slots.

No double booking and no overbooking, under any concurrency, on SQLite and on PostgreSQL:

- One active appointment per case and type (per account and type without a case) is the unique
  ``appointments.active_key``. The appointment row is inserted *first*, inside a savepoint; a
  unique violation is turned into ``AlreadyBooked`` after the savepoint is rolled back, so the
  caller's unit of work (and the conversation state it carries) stays usable.
- A seat is taken with ``UPDATE slot_usage SET taken = taken + 1 WHERE ... AND taken <
  capacity``; ``rowcount == 1`` means we got it, 0 means the slot is full (``SlotTaken``). The
  row is created beforehand, if missing, by ``INSERT ... ON CONFLICT DO NOTHING``, and a CHECK
  constraint keeps ``taken <= capacity`` whatever happens.
- On SQLite every unit of work is a ``BEGIN IMMEDIATE`` transaction queued behind the others of
  the process, so these statements never interleave. PostgreSQL runs them concurrently at READ
  COMMITTED, which is what makes the conditional UPDATE safe there: a second UPDATE of the same
  row waits for the first transaction's row lock and then re-evaluates its WHERE against the
  newly committed row (so it sees ``taken`` already raised), and a second INSERT of the same key
  waits for the first to commit and then does nothing (or, for ``active_key``, fails). Under
  REPEATABLE READ or SERIALIZABLE the same race would raise serialization failures instead.
- Every change touches rows in one order: the appointment first, then ``slot_usage`` rows in
  (starts_at, office) order, so two transactions never wait on each other in a circle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core.accounts.models import Account, RepresentativeGrant
from core.appointments.codes import new_confirmation_code, normalize_code
from core.appointments.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    SlotUsage,
)
from core.appointments.offices import get_office
from core.appointments.rules import (
    active_key,
    check_biometrics_ready,
    check_can_cancel,
    check_can_reschedule,
)
from core.appointments.seats import free_seat, take_seat
from core.appointments.slots import OfficeSchedule, Slot, check_slot, compute_slots
from core.cases.models import Case
from core.contacts.appointments import queue_appointment_mail
from core.errors import (
    AccountNotFound,
    AlreadyBooked,
    AppointmentNotFound,
    NotAuthorized,
    NotBookable,
)
from core.uow import UnitOfWork

__all__ = [
    "SlotView",
    "book_appointment",
    "cancel_appointment",
    "get_appointment",
    "list_appointments",
    "list_slots",
    "reschedule_appointment",
]

logger = logging.getLogger(__name__)

_CODE_ATTEMPTS: Final = 5


@dataclass(frozen=True, slots=True)
class SlotView:
    """A slot as offered to a person: when (UTC and local) and how many seats are left."""

    office_id: int
    starts_at: datetime
    ends_at: datetime
    local_start: datetime
    local_end: datetime
    capacity: int
    taken: int

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.taken, 0)


def _kind(kind: AppointmentKind | str) -> AppointmentKind:
    try:
        return AppointmentKind(str(kind))
    except ValueError:
        raise NotBookable(reason="service_not_offered") from None


async def list_slots(
    uow: UnitOfWork,
    office_id: int | str,
    day_or_range: date | tuple[date, date],
    kind: AppointmentKind | str,
    *,
    include_full: bool = False,
) -> list[SlotView]:
    """The slots a person may book now at an office on a local day or between two (included).

    Args:
        include_full: also list the slots with no seat left.

    Raises:
        OfficeNotFound: no such active office.
        NotBookable: ``service_not_offered``.
        InvalidDateRange: the range ends before it starts.
    """
    office = await get_office(uow, office_id, with_schedule=True)
    schedule = OfficeSchedule.from_office(office)
    if not schedule.offers(_kind(kind)):
        raise NotBookable(reason="service_not_offered")
    first, last = day_or_range if isinstance(day_or_range, tuple) else (day_or_range,) * 2
    slots = compute_slots(schedule, first, last, now=uow.clock.now())
    if not slots:
        return []
    rows = await uow.session.scalars(
        select(SlotUsage).where(
            SlotUsage.office_id == office.id,
            SlotUsage.starts_at >= slots[0].starts_at,
            SlotUsage.starts_at <= slots[-1].starts_at,
        )
    )
    usage = {row.starts_at: row for row in rows}
    views = []
    for slot in slots:
        row = usage.get(slot.starts_at)
        view = SlotView(
            office_id=office.id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            local_start=slot.local_start,
            local_end=slot.local_end,
            capacity=row.capacity if row is not None else office.capacity,
            taken=row.taken if row is not None else 0,
        )
        if include_full or view.remaining > 0:
            views.append(view)
    return views


async def _acting_for(uow: UnitOfWork, account_id: int) -> set[int]:
    """The accounts whose appointments this account may see and change: itself and, for a
    representative, its clients."""
    clients = await uow.session.scalars(
        select(RepresentativeGrant.client_id).where(
            RepresentativeGrant.representative_id == account_id
        )
    )
    return {account_id, *clients}


async def _visible_case(uow: UnitOfWork, account_id: int, case_id: int) -> Case:
    case = await uow.session.get(Case, case_id)
    if case is None or case.owner_id not in await _acting_for(uow, account_id):
        # The same answer for a case that does not exist and one of somebody else.
        raise NotAuthorized()
    return case


async def _active_code(uow: UnitOfWork, key: str) -> str | None:
    code: str | None = await uow.session.scalar(
        select(Appointment.confirmation_code).where(Appointment.active_key == key)
    )
    return code


async def book_appointment(
    uow: UnitOfWork,
    *,
    account_id: int,
    office_id: int | str,
    starts_at: datetime,
    kind: AppointmentKind | str,
    case_id: int | None = None,
    reason: str = "",
) -> Appointment:
    """Book a seat in a slot of an office.

    An appointment for a case belongs to the case's owner (a representative may book for a
    client); one without a case belongs to the booking account. On failure nothing is written,
    and the unit of work remains usable.

    Returns:
        The appointment, with its office loaded.

    Raises:
        AccountNotFound: no such account.
        OfficeNotFound: no such active office.
        NotAuthorized: the case does not exist or is neither the account's nor a client's.
        NotBookable: ``service_not_offered``, ``case_required`` (biometrics need a case),
            ``biometrics_not_ready`` (the case's status does not allow it yet), or one of
            ``check_slot``'s reasons (``past``, ``too_soon``, ``too_far``, ``closed``,
            ``not_a_slot``).
        AlreadyBooked: the case (or account) has an active appointment of this type.
        SlotTaken: the slot is full.
    """
    now = uow.clock.now()
    appointment_kind = _kind(kind)
    if await uow.session.get(Account, account_id) is None:
        raise AccountNotFound()
    office = await get_office(uow, office_id, with_schedule=True)
    schedule = OfficeSchedule.from_office(office)
    if not schedule.offers(appointment_kind):
        raise NotBookable(reason="service_not_offered")
    holder = account_id
    if case_id is not None:
        case = await _visible_case(uow, account_id, case_id)
        holder = cast(int, case.owner_id)
        if appointment_kind is AppointmentKind.BIOMETRICS:
            check_biometrics_ready(case.status_code)
    elif appointment_kind is AppointmentKind.BIOMETRICS:
        raise NotBookable(reason="case_required")
    slot = check_slot(schedule, starts_at, appointment_kind, now)
    key = active_key(appointment_kind, case_id=case_id, account_id=holder)
    for _ in range(_CODE_ATTEMPTS):
        code = new_confirmation_code()
        appointment = Appointment(
            confirmation_code=code,
            account_id=holder,
            case_id=case_id,
            office_id=office.id,
            kind=appointment_kind,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            status=AppointmentStatus.BOOKED,
            reschedule_count=0,
            active_key=key,
            reason=reason[:200],
            created_at=now,
            updated_at=now,
        )
        try:
            async with uow.session.begin_nested():
                uow.session.add(appointment)
                await uow.session.flush()
                await take_seat(uow, office, slot.starts_at)
        except IntegrityError:
            # Which unique key clashed? Ask the data, not the driver's message. Under READ
            # COMMITTED this new statement sees the row the other transaction committed.
            existing = await _active_code(uow, key)
            if existing is not None:
                raise AlreadyBooked(existing_code=existing) from None
            taken = await uow.session.scalar(
                select(Appointment.id).where(Appointment.confirmation_code == code)
            )
            if taken is None:
                raise
            logger.warning("confirmation code collision; drawing another")
            continue
        appointment.office = office
        logger.info("appointment %s booked at office %s", appointment.id, office.code)
        await queue_appointment_mail(uow, appointment, "booked")
        return appointment
    raise RuntimeError("could not draw an unused confirmation code")


async def _find_appointment(
    uow: UnitOfWork, account_id: int, code: str, *, lock: bool = False
) -> Appointment:
    query = (
        select(Appointment)
        .where(
            Appointment.confirmation_code == normalize_code(code),
            Appointment.account_id.in_(await _acting_for(uow, account_id)),
        )
        .options(selectinload(Appointment.office))
        .execution_options(populate_existing=True)
    )
    if lock:
        # Serialises changes of one appointment on PostgreSQL (SQLite's writers queue anyway).
        query = query.with_for_update(of=Appointment)
    found = await uow.session.scalar(query)
    if found is None:
        # Somebody else's code gets the same answer as an unknown one.
        raise AppointmentNotFound(code=normalize_code(code))
    return found


async def get_appointment(uow: UnitOfWork, *, account_id: int, code: str) -> Appointment:
    """The appointment with this confirmation code, if the account may see it.

    Raises:
        AppointmentNotFound: no such code, or not the account's (nor a client's).
    """
    return await _find_appointment(uow, account_id, code)


async def list_appointments(
    uow: UnitOfWork, account_id: int, include_past: bool = False
) -> list[Appointment]:
    """The account's appointments and, for a representative, its clients', earliest first.

    Args:
        include_past: also those that are over or cancelled; otherwise only the booked ones
            that have not ended.
    """
    query = (
        select(Appointment)
        .where(Appointment.account_id.in_(await _acting_for(uow, account_id)))
        .options(selectinload(Appointment.office))
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if not include_past:
        query = query.where(
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.ends_at > uow.clock.now(),
        )
    return list(await uow.session.scalars(query))


async def reschedule_appointment(
    uow: UnitOfWork,
    *,
    account_id: int,
    code: str,
    new_starts_at: datetime,
    new_office_id: int | str | None = None,
) -> Appointment:
    """Move an appointment to another slot (of the same office unless another is given).

    The old seat is freed and the new one taken in one step: if the new slot is full, the
    appointment keeps its old slot.

    Raises:
        AppointmentNotFound: no such code, or not the account's (nor a client's).
        OfficeNotFound: ``new_office_id`` names no active office.
        RescheduleNotAllowed: ``cancelled``, ``passed``, ``within_12_hours``,
            ``limit_reached`` or ``same_slot``.
        NotBookable: the new time is no slot the account may book now (see ``check_slot``).
        SlotTaken: the new slot is full.
    """
    now = uow.clock.now()
    appointment = await _find_appointment(uow, account_id, code, lock=True)
    target = await get_office(
        uow, appointment.office_id if new_office_id is None else new_office_id, with_schedule=True
    )
    check_can_reschedule(appointment, now, new_office_id=target.id, new_starts_at=new_starts_at)
    slot: Slot = check_slot(
        OfficeSchedule.from_office(target), new_starts_at, appointment.kind, now
    )
    old = (appointment.starts_at, appointment.office_id)
    new = (slot.starts_at, target.id)
    async with uow.session.begin_nested():
        for starts_at, office_id in sorted([old, new]):
            if (starts_at, office_id) == old:
                await free_seat(uow, office_id, starts_at)
            else:
                await take_seat(uow, target, starts_at)
        appointment.office_id = target.id
        appointment.office = target
        appointment.starts_at = slot.starts_at
        appointment.ends_at = slot.ends_at
        appointment.reschedule_count += 1
        appointment.updated_at = now
        await uow.session.flush()
    logger.info("appointment %s rescheduled", appointment.id)
    await queue_appointment_mail(uow, appointment, "rescheduled")
    return appointment


async def cancel_appointment(uow: UnitOfWork, *, account_id: int, code: str) -> Appointment:
    """Cancel an appointment: its seat is freed and its case may book again.

    Raises:
        AppointmentNotFound: no such code, or not the account's (nor a client's).
        CancelNotAllowed: ``cancelled`` already, or ``passed``.
    """
    now = uow.clock.now()
    appointment = await _find_appointment(uow, account_id, code, lock=True)
    check_can_cancel(appointment, now)
    await free_seat(uow, appointment.office_id, appointment.starts_at)
    appointment.status = AppointmentStatus.CANCELLED
    appointment.active_key = None
    appointment.updated_at = now
    await uow.flush()
    logger.info("appointment %s cancelled", appointment.id)
    await queue_appointment_mail(uow, appointment, "cancelled")
    return appointment
