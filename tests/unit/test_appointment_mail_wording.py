"""Appointment mail as the email sender words it: each change, in every language, with its
calendar file (a cancelled appointment's file cancels the event)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from bot.notify.notifications import UnknownNotification, render_notification
from bot.wording.i18n import LOCALES, translator
from core.contacts.appointments import APPOINTMENT_MAIL, EVENTS

STARTS = datetime(2026, 3, 4, 14, 30, tzinfo=UTC)


def payload(event: str) -> dict[str, object]:
    cancelled = event in ("cancelled", "office_closed")
    return {
        "event": event,
        "appointment_id": 7,
        "confirmation_code": "BIO-7K3Q",
        "kind": "biometrics",
        "starts_at": STARTS.isoformat(),
        "ends_at": STARTS.replace(minute=45).isoformat(),
        "timezone": "America/Phoenix",
        "office_name": "Phoenix Field Office",
        "office_address": "1330 S 16th St, Phoenix, AZ 85034",
        "uid": "appointment-BIO-7K3Q@casebot",
        "sequence": 1 if event == "rescheduled" else 0,
        "cancelled": cancelled,
        "locale": "en",
    }


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("event", EVENTS)
def test_every_change_is_worded_with_its_calendar_file(locale: str, event: str) -> None:
    t = translator(locale)
    reply = render_notification(APPOINTMENT_MAIL, payload(event), t, in_chat=False)
    when = t.datetime_in(STARTS, "America/Phoenix")
    assert when in reply.text
    assert "1330 S 16th St, Phoenix, AZ 85034" in reply.text
    assert "BIO-7K3Q" in reply.text
    [ics] = reply.attachments
    assert ics.name == "appointment-BIO-7K3Q.ics"
    calendar = Calendar.from_ical(ics.data)
    cancelled = event in ("cancelled", "office_closed")
    assert str(calendar["METHOD"]) == ("CANCEL" if cancelled else "PUBLISH")
    [vevent] = calendar.walk("VEVENT")
    assert vevent["DTSTART"].dt == STARTS
    assert int(vevent["SEQUENCE"]) == (1 if event == "rescheduled" else 0)
    assert str(vevent["SUMMARY"]) == t._("USCIS biometrics appointment")


def test_an_unknown_change_is_parked_not_guessed() -> None:
    with pytest.raises(UnknownNotification):
        render_notification(APPOINTMENT_MAIL, payload("teleported"), translator("en"))
