"""Appointment calendar files (.ics), read back with icalendar as a calendar app would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from icalendar import Calendar, Event

from bot.dialogs.appointments.calendar import PRODID, appointment_ics
from core.appointments.models import Appointment, AppointmentKind, AppointmentStatus, Office
from core.appointments.rules import CalendarEvent, calendar_event

STARTS = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)  # 10:30 in New York (daylight saving time)
STAMP = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _office() -> Office:
    return Office(
        code="NYC",
        name="USCIS New York ASC",
        address="26 Federal Plaza",
        city="New York",
        state="NY",
        zip_code="10278",
        timezone="America/New_York",
    )


def _event(
    *,
    starts_at: datetime = STARTS,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
    reschedule_count: int = 0,
) -> CalendarEvent:
    appointment = Appointment(
        confirmation_code="ABCD2345",
        account_id=1,
        case_id=7,
        office_id=1,
        kind=AppointmentKind.BIOMETRICS,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        status=status,
        reschedule_count=reschedule_count,
    )
    return calendar_event(appointment, _office())


def _parse(data: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(data)
    events = [part for part in calendar.walk() if part.name == "VEVENT"]
    assert len(events) == 1
    return calendar, events[0]


def _ics(
    event: CalendarEvent,
    *,
    description: str = "Código de confirmación: ABCD2345",
    location: str | None = None,
    stamp: datetime = STAMP,
) -> bytes:
    return appointment_ics(
        event,
        summary="Cita de datos biométricos",
        description=description,
        location=location,
        stamp=stamp,
    )


def test_a_booking_is_published_as_one_confirmed_event() -> None:
    calendar, event = _parse(_ics(_event()))

    assert str(calendar["PRODID"]) == PRODID
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["SEQUENCE"] == 0
    assert str(event["UID"]) == "appointment-ABCD2345@casebot"


def test_times_are_written_in_utc() -> None:
    data = _ics(_event())
    _, event = _parse(data)

    assert event.decoded("DTSTART") == STARTS
    assert event.decoded("DTEND") == STARTS + timedelta(minutes=30)
    assert event.decoded("DTSTAMP") == STAMP
    assert b"DTSTART:20260310T143000Z" in data
    assert b"TZID" not in data


def test_an_aware_time_in_another_zone_is_converted_to_utc() -> None:
    new_york = timezone(timedelta(hours=-4))
    _, event = _parse(_ics(_event(starts_at=datetime(2026, 3, 10, 10, 30, tzinfo=new_york))))

    assert event.decoded("DTSTART") == STARTS


def test_texts_are_the_callers_and_the_location_is_the_office_with_its_address() -> None:
    _, event = _parse(_ics(_event()))

    assert str(event["SUMMARY"]) == "Cita de datos biométricos"
    assert str(event["DESCRIPTION"]) == "Código de confirmación: ABCD2345"
    assert str(event["LOCATION"]) == ("USCIS New York ASC, 26 Federal Plaza, New York, NY 10278")


def test_the_caller_may_word_the_location() -> None:
    _, event = _parse(_ics(_event(), location="纽约 USCIS 申请支持中心"))

    assert str(event["LOCATION"]) == "纽约 USCIS 申请支持中心"


def test_texts_with_commas_semicolons_and_line_breaks_survive() -> None:
    description = "Код: ABCD2345;\nпринесите паспорт, письмо\\уведомление"
    _, event = _parse(_ics(_event(), description=description))

    assert str(event["DESCRIPTION"]) == description


def test_the_uid_stays_the_same_across_files_and_reschedules() -> None:
    first = _parse(_ics(_event()))[1]
    again = _parse(_ics(_event(), stamp=STAMP + timedelta(hours=1)))[1]
    moved = _parse(_ics(_event(starts_at=STARTS + timedelta(days=2), reschedule_count=1)))[1]

    assert str(first["UID"]) == str(again["UID"]) == str(moved["UID"])
    assert moved["SEQUENCE"] == 1
    assert moved.decoded("DTSTART") == STARTS + timedelta(days=2)


def test_a_cancelled_appointment_is_sent_as_a_cancellation() -> None:
    calendar, event = _parse(_ics(_event(status=AppointmentStatus.CANCELLED, reschedule_count=2)))

    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == 2
    assert str(event["UID"]) == "appointment-ABCD2345@casebot"


def test_lines_are_folded_and_end_with_crlf_as_rfc_5545_asks() -> None:
    data = _ics(_event(), description="x" * 300)

    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))


def test_the_stamp_defaults_to_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    _, event = _parse(appointment_ics(_event(), summary="s", description="d"))

    assert before <= event.decoded("DTSTAMP") <= datetime.now(UTC)


def test_naive_times_are_refused() -> None:
    naive = _event(starts_at=datetime(2026, 3, 10, 14, 30))

    with pytest.raises(ValueError, match="aware"):
        appointment_ics(naive, summary="s", description="d")
