"""Appointments: offices, their slots, and booking, rescheduling and cancelling."""

from __future__ import annotations

from core.appointments.offices import (
    BUSINESS_HOURS,
    add_office,
    close_day,
    find_offices,
    get_office,
    list_offices,
    reopen_day,
    set_hours,
)
from core.appointments.rules import CalendarEvent, calendar_event
from core.appointments.service import (
    SlotView,
    book_appointment,
    cancel_appointment,
    get_appointment,
    list_appointments,
    list_slots,
    reschedule_appointment,
)
from core.appointments.slots import Slot, compute_slots

__all__ = [
    "BUSINESS_HOURS",
    "CalendarEvent",
    "Slot",
    "SlotView",
    "add_office",
    "book_appointment",
    "calendar_event",
    "cancel_appointment",
    "close_day",
    "compute_slots",
    "find_offices",
    "get_appointment",
    "get_office",
    "list_appointments",
    "list_offices",
    "list_slots",
    "reopen_day",
    "reschedule_appointment",
    "set_hours",
]
