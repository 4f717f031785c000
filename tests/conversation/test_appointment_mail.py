"""Appointment mail, in every language: a signed-in person with a confirmed email address books
biometrics and gets a mail with the office, its address, the local time and zone, what to
bring, how to change it, and the calendar file attached; a cancellation mails a file that
removes the event."""

from __future__ import annotations

import mailbox
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from babel.dates import format_date
from icalendar import Calendar
from sqlalchemy import select

from bot.engine import Engine
from bot.notify.dispatcher import OutboxDispatcher
from bot.notify.email import EmailSender
from bot.notify.mail import MaildirMailer
from bot.wording.i18n import LOCALES, translator
from core.accounts.models import Account
from core.accounts.otp import totp
from core.appointments.service import cancel_appointment, list_appointments
from core.contacts.appointments import APPOINTMENT_MAIL
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET
from core.outbox.service import pending_notifications
from core.uow import UnitOfWork, UnitOfWorkFactory
from core.web_sessions import WEB_CHANNEL
from tests.chat import FakeChat
from tests.conversation.test_every_locale import (
    PHX_0730_WED,
    READY,
    WEDNESDAY,
    YES_WORD,
    translated,
)
from tests.fakes import FakeClock

pytestmark = pytest.mark.usefixtures("demo")

PHOENIX = "America/Phoenix"
KEY_MSGIDS = (
    "Your appointment is booked: {when}",
    "To change or cancel it, open the chat, sign in and choose Appointments, then My appointments.",
)


def mails_with_calendar(folder: Path) -> list[tuple[EmailMessage, Calendar]]:
    box = mailbox.Maildir(folder, create=True)
    found = []
    for key in box.iterkeys():
        message = message_from_bytes(box.get_bytes(key), policy=policy.default)
        assert isinstance(message, EmailMessage)
        for part in message.iter_attachments():
            if part.get_content_type() == "text/calendar":
                data = part.get_payload(decode=True)
                assert isinstance(data, bytes)
                assert part.get_content_charset() == "utf-8"
                found.append((message, Calendar.from_ical(data)))
    return found


def body_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    text: str = part.get_content()
    return text


async def signed_in_with_email(
    chat: FakeChat, locale: str, clock: FakeClock, uow_factory: UnitOfWorkFactory, address: str
) -> None:
    t = translator(locale)
    await chat.send("")
    await chat.press(t._("Sign in"))
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    await chat.send(totp(DEMO_TOTP_SECRET, clock.now()))
    await chat.send(t._("menu, cancel, stop, quit, exit").split(",")[0].strip())
    await chat.press(t._("Notifications"))
    await chat.press(t._("Add an email"))
    await chat.send(address)
    async with uow_factory() as uow:
        [row] = [m for m in await pending_notifications(uow) if m.address == address]
    await chat.send(row.payload["code"])


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_booking_is_mailed_with_the_calendar_file_attached(
    locale: str,
    engine: Engine,
    clock: FakeClock,
    uow_factory: UnitOfWorkFactory,
    tmp_path: Path,
) -> None:
    t = translator(locale)
    if locale != "en":
        for msgid in KEY_MSGIDS:
            assert msgid in translated(locale), f"{locale} does not translate {msgid!r}"
    chat = FakeChat(engine, channel=WEB_CHANNEL, chat_id=f"mail-{locale}", locale_hint=locale)
    address = f"ana.{locale}@example.com"
    await signed_in_with_email(chat, locale, clock, uow_factory, address)

    await chat.send(t._("menu, cancel, stop, quit, exit").split(",")[0].strip())
    await chat.press(t._("Appointments"))
    await chat.press(t._("Book an appointment"))
    await chat.press(t._("Biometrics (fingerprints and photo)"))
    await chat.press(READY)
    await chat.press("Phoenix Field Office")
    await chat.send(format_date(WEDNESDAY, "short", locale=t.babel_locale))
    await chat.send(t.time_in(PHX_0730_WED, PHOENIX))
    await chat.send(YES_WORD[locale])
    assert t._("Your appointment is booked.") in chat.text

    folder = tmp_path / "mail"
    sender = EmailSender(MaildirMailer(folder, clock=clock), uow_factory)
    dispatcher = OutboxDispatcher(uow_factory, clock, [sender])
    while (await dispatcher.run_once("email")).claimed:
        pass
    [(mail, calendar)] = mails_with_calendar(folder)
    assert mail["To"] == address
    when = t.datetime_in(PHX_0730_WED, PHOENIX)
    assert when in mail["Subject"] or when in body_of(mail)
    body = body_of(mail)
    assert "Phoenix" in body  # the office, with its address
    assert t._("USCIS biometrics appointment") in body
    assert t._(KEY_MSGIDS[1]) in body  # how to change it
    assert "List-Unsubscribe" in mail
    [event] = calendar.walk("VEVENT")
    assert event["DTSTART"].dt == PHX_0730_WED
    assert str(event["SUMMARY"]) == t._("USCIS biometrics appointment")


async def test_a_cancellation_is_mailed_with_a_file_that_removes_the_event(
    engine: Engine, clock: FakeClock, uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    chat = FakeChat(engine, channel=WEB_CHANNEL, chat_id="cancel")
    await signed_in_with_email(chat, "en", clock, uow_factory, "ana.mail@example.com")
    await chat.send("menu")
    await chat.press("Appointments")
    await chat.press("Book an appointment")
    await chat.press("Biometrics (fingerprints and photo)")
    await chat.press(READY)
    await chat.press("Phoenix Field Office")
    await chat.send("3/4/26")
    await chat.send(translator("en").time_in(PHX_0730_WED, PHOENIX))
    await chat.send("yes")
    async with uow_factory() as uow:
        [booked] = await list_appointments(uow, (await _demo_account(uow)))
        await cancel_appointment(uow, account_id=booked.account_id, code=booked.confirmation_code)
        await uow.commit()
        kinds = [m.kind for m in await pending_notifications(uow)]
    assert kinds.count(APPOINTMENT_MAIL) == 2
    folder = tmp_path / "mail"
    dispatcher = OutboxDispatcher(
        uow_factory, clock, [EmailSender(MaildirMailer(folder, clock=clock), uow_factory)]
    )
    while (await dispatcher.run_once("email")).claimed:
        pass
    calendars = [calendar for _mail, calendar in mails_with_calendar(folder)]
    assert sorted(str(c["METHOD"]) for c in calendars) == ["CANCEL", "PUBLISH"]
    cancelled = next(c for c in calendars if str(c["METHOD"]) == "CANCEL")
    [event] = cancelled.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"


async def _demo_account(uow: UnitOfWork) -> int:
    account_id = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
    assert isinstance(account_id, int)
    return account_id


async def test_reminders_go_to_the_chosen_addresses_in_their_language(
    engine: Engine, clock: FakeClock, uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    chat = FakeChat(engine, channel=WEB_CHANNEL, chat_id="reminders", locale_hint="es")
    await signed_in_with_email(chat, "es", clock, uow_factory, "ana.recordatorio@example.com")
    t = translator("es")
    await chat.send("menú")
    await chat.press(t._("Appointments"))
    await chat.press(t._("Book an appointment"))
    await chat.press(t._("Biometrics (fingerprints and photo)"))
    await chat.press(READY)
    await chat.press("Phoenix Field Office")
    await chat.send(format_date(WEDNESDAY, "short", locale=t.babel_locale))
    await chat.send(t.time_in(PHX_0730_WED, PHOENIX))
    await chat.send(YES_WORD["es"])
    folder = tmp_path / "mail"
    dispatcher = OutboxDispatcher(
        uow_factory, clock, [EmailSender(MaildirMailer(folder, clock=clock), uow_factory)]
    )
    while (await dispatcher.run_once("email")).claimed:
        pass
    before = len(list(mailbox.Maildir(folder).iterkeys()))
    clock.set(PHX_0730_WED - timedelta(hours=23))
    while (await dispatcher.run_once("email")).claimed:
        pass
    box = mailbox.Maildir(folder)
    assert len(list(box.iterkeys())) == before + 1
    subjects = [
        str(message_from_bytes(box.get_bytes(key), policy=policy.default)["Subject"])
        for key in box.iterkeys()
    ]
    reminder = t._("Reminder: you have a biometrics appointment on {when}.").format(
        when=t.datetime_in(PHX_0730_WED, PHOENIX)
    )
    assert any(subject.startswith(reminder[:100]) for subject in subjects)  # long: cut
