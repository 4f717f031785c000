"""The rules of one appointment, as plain functions of its fields and the time (no session)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from core.appointments.models import Appointment, AppointmentKind, AppointmentStatus
from core.appointments.views import AppointmentView, OfficeView
from core.cases.statuses import get_status
from core.errors import CancelNotAllowed, NotBookable, RescheduleNotAllowed, UnknownStatus

__all__ = [
    "RESCHEDULE_CUTOFF",
    "RESCHEDULE_LIMIT",
    "CalendarEvent",
    "active_key",
    "calendar_event",
    "check_biometrics_ready",
    "check_can_cancel",
    "check_can_reschedule",
]

# USCIS: no online rescheduling within 12 hours of the appointment, nor after two reschedules.
RESCHEDULE_CUTOFF: Final = timedelta(hours=12)
RESCHEDULE_LIMIT: Final = 2


def active_key(kind: AppointmentKind, *, case_id: int | None, account_id: int) -> str:
    """The unique key an active appointment holds: one per case and type, or per account and
    type when it is for no case."""
    if case_id is not None:
        return f"{kind.value}:case:{case_id}"
    return f"{kind.value}:account:{account_id}"


def check_biometrics_ready(status_code: str) -> None:
    """Check that a case in this status may have a biometrics appointment booked.

    Raises:
        NotBookable: ``biometrics_not_ready`` (also for a status the catalog does not know).
    """
    try:
        ready = get_status(status_code).allows_biometrics
    except UnknownStatus:
        ready = False
    if not ready:
        raise NotBookable(reason="biometrics_not_ready")


def check_can_reschedule(
    appointment: Appointment,
    now: datetime,
    *,
    new_office_id: int,
    new_starts_at: datetime,
) -> None:
    """Check that the appointment may move to another slot now.

    Raises:
        RescheduleNotAllowed: ``cancelled``; ``passed`` (it has started); ``within_12_hours``;
            ``limit_reached`` (rescheduled twice already); ``same_slot``.
    """
    if appointment.status is AppointmentStatus.CANCELLED:
        raise RescheduleNotAllowed(reason="cancelled")
    if appointment.starts_at <= now:
        raise RescheduleNotAllowed(reason="passed")
    if appointment.starts_at - now < RESCHEDULE_CUTOFF:
        raise RescheduleNotAllowed(reason="within_12_hours")
    if appointment.reschedule_count >= RESCHEDULE_LIMIT:
        raise RescheduleNotAllowed(reason="limit_reached")
    if appointment.office_id == new_office_id and appointment.starts_at == new_starts_at.astimezone(
        UTC
    ):
        raise RescheduleNotAllowed(reason="same_slot")


def check_can_cancel(appointment: Appointment, now: datetime) -> None:
    """Check that the appointment may be cancelled now.

    Raises:
        CancelNotAllowed: ``cancelled`` already, or ``passed`` (it has started).
    """
    if appointment.status is AppointmentStatus.CANCELLED:
        raise CancelNotAllowed(reason="cancelled")
    if appointment.starts_at <= now:
        raise CancelNotAllowed(reason="passed")


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """What a calendar file (.ics) of an appointment needs; the chat layer words and writes it.

    Attributes:
        uid: a stable, globally unique id (the same for every version of the appointment).
        starts_at: aware UTC.
        ends_at: aware UTC.
        timezone: the office's IANA zone, for showing local times.
        office_name: the office's name.
        location: the office's address on one line.
        confirmation_code: the appointment's code.
        kind: the appointment type.
        cancelled: the event is cancelled (a calendar should remove it).
        sequence: the revision number, raised by each reschedule.
    """

    uid: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    office_name: str
    location: str
    confirmation_code: str
    kind: AppointmentKind
    cancelled: bool
    sequence: int


def calendar_event(appointment: AppointmentView, office: OfficeView) -> CalendarEvent:
    """The calendar data of an appointment at its office."""
    return CalendarEvent(
        uid=f"appointment-{appointment.confirmation_code}@casebot",
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        timezone=office.timezone,
        office_name=office.name,
        location=f"{office.address}, {office.city}, {office.state} {office.zip_code}",
        confirmation_code=appointment.confirmation_code,
        kind=appointment.kind,
        cancelled=appointment.status is AppointmentStatus.CANCELLED,
        sequence=appointment.reschedule_count,
    )
