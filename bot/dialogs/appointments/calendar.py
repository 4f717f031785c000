"""Calendar files (iCalendar, RFC 5545) for appointments, to attach to a mail or a chat reply.

Times are written in UTC (``DTSTART:20260302T150000Z``): every calendar app reads them and shows
them in the user's own zone, whereas a ``TZID`` needs a ``VTIMEZONE`` block that some apps
ignore or misread. The office's zone is for the texts, which the caller words.

A booking is published (``METHOD:PUBLISH``); each reschedule raises ``SEQUENCE`` under the same
``UID``, so an app that imported the first file replaces the event instead of adding a second
one; a cancellation is sent as ``METHOD:CANCEL`` with ``STATUS:CANCELLED``, which removes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from icalendar import Calendar, Event

from core.appointments.rules import CalendarEvent
from core.clock import utcnow

__all__ = ["ICS_CONTENT_TYPE", "PRODID", "appointment_ics"]

PRODID: Final = "-//casebot//appointments//EN"
ICS_CONTENT_TYPE: Final = "text/calendar"


def appointment_ics(
    event: CalendarEvent,
    *,
    summary: str,
    description: str,
    location: str | None = None,
    stamp: datetime | None = None,
) -> bytes:
    """The ``.ics`` file of one appointment: a calendar with one event.

    Args:
        event: the appointment's calendar data (``core.appointments.rules.calendar_event``).
        summary: the event's title, already in the user's language.
        description: the event's notes, already in the user's language; they should carry the
            confirmation code, which the user shows at the office.
        location: the place as the user should read it; by default the office's name and
            address (``"USCIS New York ASC, 26 Federal Plaza, New York, NY 10278"``).
        stamp: when the file is made (``DTSTAMP``); now by default.

    Raises:
        ValueError: a time is naive, or the event ends before it starts.
    """
    starts_at, ends_at = _utc(event.starts_at), _utc(event.ends_at)
    if ends_at < starts_at:
        raise ValueError("the event ends before it starts")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if event.cancelled else "PUBLISH")

    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", _utc(stamp or utcnow()))
    vevent.add("dtstart", starts_at)
    vevent.add("dtend", ends_at)
    vevent.add("sequence", event.sequence)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("summary", summary)
    vevent.add("location", location or f"{event.office_name}, {event.location}")
    vevent.add("description", description)
    # Busy while it lasts, as a meeting would be (the default for a timed event, said openly).
    vevent.add("transp", "OPAQUE")
    calendar.add_component(vevent)
    data: bytes = calendar.to_ical()
    return data


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("calendar times must be aware datetimes")
    # Whole seconds: iCalendar has no fractions, and a truncated time would drift from the slot.
    return moment.astimezone(UTC).replace(microsecond=0)
