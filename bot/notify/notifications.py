"""Outbox messages as chat replies, worded in the recipient chat's language at send time.

The language is the one the chat chose (``Conversation.locale`` of its channel and chat), else
English. An ordinary button's payload must match the prompt its conversation is at (the engine
checks the prompt sequence), and a push arrives between turns, so such a button would be refused
as out of date: status changes and reminders say where to look instead. The one button a
notification carries is a link (``bot.dialogs.links``), which the engine accepts at any time: the
``office_closed`` notice's "Book a new appointment" starts the booking flow for the same case.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any, Final

from bot.dialogs.actions import G_END_CHAT
from bot.dialogs.appointments.calendar import ICS_CONTENT_TYPE, appointment_ics
from bot.dialogs.cases.uscis_view import UNLISTED_MEANING
from bot.dialogs.links import book_link
from bot.dialogs.model import Attachment, Button, Reply
from bot.notify.reply_outbox import REPLY, reply_from_payload
from bot.wording.i18n import DEFAULT_LOCALE, LOCALES, N_, Translator, normalize_locale, translator
from bot.wording.statuses import STATUS_WORDING, USCIS_ZONE
from core.appointments.closures import OFFICE_CLOSED
from core.appointments.models import AppointmentKind
from core.appointments.rules import CalendarEvent
from core.cases.service import STATUS_CHANGED
from core.cases.statuses import UNLISTED, get_status
from core.contacts.appointments import APPOINTMENT_MAIL
from core.contacts.service import CODE_EMAIL
from core.conversations import chat_locale
from core.errors import HandoffNotFound, UnknownStatus
from core.handoff import (
    AGENT_MESSAGE,
    AGENT_REPLY,
    HANDOFF_CLAIMED,
    HANDOFF_CLOSED,
    HANDOFF_NEXT,
    HANDOFF_PLACE,
    HANDOFF_TRANSFERRED,
    place_in_queue,
)
from core.outbox.reminders import REMINDER
from core.outbox.service import OutboxItem
from core.sms.rules import is_code
from core.sms.segments import compose
from core.sms.service import CHANNEL as SMS
from core.uow import UnitOfWork

__all__ = [
    "UnknownNotification",
    "recipient_locale",
    "render_message",
    "render_notification",
]

# What a live chat and a secure message tell the person (core/handoff).
HANDOFF_KINDS: Final = (
    HANDOFF_CLAIMED,
    AGENT_MESSAGE,
    HANDOFF_TRANSFERRED,
    HANDOFF_CLOSED,
    HANDOFF_NEXT,
    HANDOFF_PLACE,
    AGENT_REPLY,
)
OFF_CHAT_CHANNELS: Final = frozenset({"email", "sms"})  # core.contacts' channels
KINDS: Final = (
    STATUS_CHANGED,
    REMINDER,
    OFFICE_CLOSED,
    REPLY,
    CODE_EMAIL,
    APPOINTMENT_MAIL,
    *HANDOFF_KINDS,
)
SMS_FOOTER: Final = N_("Reply STOP to stop.")  # every text says how to stop
# A notification's "End chat" button: the engine reads it whatever prompt it was sent with.
END_CHAT_PAYLOAD: Final = f"0:{G_END_CHAT}"


class UnknownNotification(Exception):
    """An outbox message this version cannot word (an unknown kind, or a payload it does not
    understand): the dispatcher parks it with this as the reason."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"cannot render {kind!r}: {reason}")
        self.kind = kind
        self.reason = reason


async def recipient_locale(uow: UnitOfWork, channel: str, address: str) -> str:
    """The language of a chat: the one its conversation chose, else English."""
    return await chat_locale(uow, channel, address) or DEFAULT_LOCALE


def _status_text(t: Translator, payload: dict[str, Any], *, in_chat: bool = True) -> str:
    try:
        status = get_status(payload["status_code"])
    except UnknownStatus:
        raise UnknownNotification(STATUS_CHANGED, "unknown status") from None
    wording = STATUS_WORDING.get(status.code)
    title = t._(wording.title if wording is not None else status.title)
    meaning = t._(wording.meaning) if wording is not None else None
    # USCIS's own words, when the change came from its API: its Spanish for Spanish readers,
    # and a title the catalog lacks as USCIS wrote it (never the catalog's placeholder).
    uscis_en, uscis_es = payload.get("title_en"), payload.get("title_es")
    if t.locale == "es" and isinstance(uscis_es, str) and uscis_es:
        title = uscis_es
    elif status is UNLISTED and isinstance(uscis_en, str) and uscis_en:
        title, meaning = uscis_en, t._(UNLISTED_MEANING)
    lines = [
        t._("Update on your case {receipt}: {title}").format(
            receipt=payload["receipt_number"], title=title
        )
    ]
    if meaning:
        lines.append(meaning)
    changed_at = datetime.fromisoformat(payload["changed_at"])
    lines.append(
        t._("Changed on {day}.").format(day=t.date(changed_at.astimezone(USCIS_ZONE).date()))
    )
    if in_chat:  # an email or a text has no menu to open
        lines.append(t._("Open the menu and look up the case for the details and next steps."))
    return "\n\n".join(lines)


def _reminder_text(t: Translator, payload: dict[str, Any]) -> str:
    starts_at = datetime.fromisoformat(payload["starts_at"])
    when = t.datetime_in(starts_at, payload["timezone"])
    if payload["kind"] == AppointmentKind.BIOMETRICS:
        if payload["hours_before"] == 2:
            first = t._("Reminder: your biometrics appointment starts in about 2 hours: {when}.")
        else:
            first = t._("Reminder: you have a biometrics appointment on {when}.")
    elif payload["hours_before"] == 2:
        first = t._("Reminder: your appointment at a field office starts in about 2 hours: {when}.")
    else:
        first = t._("Reminder: you have an appointment at a field office on {when}.")
    return "\n".join(
        [
            first.format(when=when),
            t._("Office: {office}").format(
                office=f"{payload['office_name']}, {payload['office_address']}"
            ),
            t._("Confirmation code: {code}. Please bring a photo ID.").format(
                code=payload["confirmation_code"]
            ),
        ]
    )


def _office_closed(t: Translator, payload: dict[str, Any]) -> Reply:
    """The office closed the day of an appointment, which was cancelled: say so, and offer to
    book again (for the same case)."""
    starts_at = datetime.fromisoformat(payload["starts_at"])
    values = {
        "office": payload["office_name"],
        "day": t.date(date.fromisoformat(payload["day"])),
        "when": t.datetime_in(starts_at, payload["timezone"]),
    }
    if payload["kind"] == AppointmentKind.BIOMETRICS:
        first = t._(
            "{office} is closed on {day}, so your biometrics appointment on {when} was cancelled."
        )
    else:
        first = t._(
            "{office} is closed on {day}, so your appointment at the field office on {when} "
            "was cancelled."
        )
    text = "\n\n".join(
        [
            first.format(**values),
            t._("Cancelled appointment: confirmation code {code}.").format(
                code=payload["confirmation_code"]
            ),
            t._("We are sorry. You can book a new appointment now."),
        ]
    )
    link = book_link(payload["kind"], payload.get("receipt_number"))
    return Reply(text=text, buttons=(Button(t._("Book a new appointment"), link),))


def _handoff(kind: str, t: Translator, payload: dict[str, Any]) -> Reply:
    """A live chat's news for the person: an agent joined, wrote, passed the chat on, ended
    it; or staff answered a secure message."""
    if kind == HANDOFF_CLAIMED:
        text = "\n".join(
            [
                t._("You are now chatting with {name}.").format(name=payload["agent_name"]),
                t._('Type your message. Type "end chat" to go back to the assistant.'),
            ]
        )
        return Reply(text=text, buttons=(Button(t._("End chat"), END_CHAT_PAYLOAD),))
    if kind == AGENT_MESSAGE:
        # Translators: an agent's message in the chat; {name} is the agent, {text} as written.
        text = t._("{name}: {text}").format(name=payload["agent_name"], text=payload["text"])
        # The way back stays at hand under the newest message (the widget's quick replies).
        return Reply(text=text, buttons=(Button(t._("End chat"), END_CHAT_PAYLOAD),))
    # While waiting, the news of the line carries the way out of it (it becomes the newest
    # message, whose buttons are the ones the widget shows).
    leave = (Button(t._("Leave the line"), END_CHAT_PAYLOAD),)
    if kind == HANDOFF_NEXT or (kind == HANDOFF_PLACE and int(payload["position"]) <= 1):
        return Reply(
            text=t._("You are next in line. An agent will be with you soon."), buttons=leave
        )
    if kind == HANDOFF_PLACE:
        minutes = max(1, math.ceil(int(payload["wait_seconds"]) / 60))
        moved = t._(
            "The line moved: you are now number {n} in the line. Estimated wait: about {time}."
        )
        wait = t.ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)
        return Reply(text=moved.format(n=int(payload["position"]), time=wait), buttons=leave)
    if kind == HANDOFF_TRANSFERRED:
        return Reply(
            text=t._(
                "Your chat was passed to another agent. Please wait: we will tell you "
                "here when they join."
            ),
            buttons=leave,
        )
    if kind == HANDOFF_CLOSED:
        name = payload.get("agent_name")
        first = (
            t._("{name} ended the chat.").format(name=name)
            if name
            else t._("The chat with our team has ended.")
        )
        return Reply(text=f"{first} " + t._('You are back with the assistant. Type "menu" to '
                                            "see what I can do."))  # fmt: skip
    text = str(payload["text"])
    return Reply(text=t._("Our answer to your message:") + "\n\n" + text)


def _code_text(t: Translator, payload: dict[str, Any]) -> str:
    code = payload["code"]
    if not (isinstance(code, str) and code.isdigit()):
        raise ValueError("not a code")
    return "\n\n".join(
        [
            t._("Your confirmation code: {code}").format(code=code),
            t._("Type it in the chat to get updates by email. It works for 10 minutes."),
            t._("If you did not ask for this, ignore this email."),
        ]
    )


def _appointment_mail(t: Translator, payload: dict[str, Any]) -> Reply:
    """The mail of a booked, moved or cancelled appointment, its calendar file attached (a
    cancelled one's file removes the event from the calendar it was added to)."""
    starts_at = datetime.fromisoformat(payload["starts_at"])
    when = t.datetime_in(starts_at, payload["timezone"])
    event = payload["event"]
    if event == "booked":
        first = t._("Your appointment is booked: {when}")
    elif event == "rescheduled":
        first = t._("Your appointment was moved to {when}")
    elif event in ("cancelled", OFFICE_CLOSED):
        first = t._("Your appointment on {when} was cancelled")
    else:
        raise ValueError("unknown event")
    biometrics = payload["kind"] == AppointmentKind.BIOMETRICS
    if biometrics:
        summary = t._("USCIS biometrics appointment")
    else:
        summary = t._("USCIS appointment at a field office")
    office = f"{payload['office_name']}, {payload['office_address']}"
    code = payload["confirmation_code"]
    lines = [first.format(when=when), summary, t._("Office: {office}").format(office=office)]
    if event == OFFICE_CLOSED:
        lines.append(t._("The office is closed that day. We are sorry."))
    if payload["cancelled"]:
        lines.append(t._("Cancelled appointment: confirmation code {code}.").format(code=code))
        lines.append(t._("To book a new one, open the chat, sign in and choose Appointments."))
    else:
        lines.append(t._("Confirmation code: {code}. Please bring a photo ID.").format(code=code))
        lines.append(
            t._(
                "Bring your appointment notice and a photo ID, like a passport or a driver's "
                "license."
            )
            if biometrics
            else t._("Bring a photo ID and the documents your notice asks for.")
        )
        lines.append(
            t._(
                "To change or cancel it, open the chat, sign in and choose Appointments, then "
                "My appointments."
            )
        )
    lines.append(t._("The attached calendar file adds it to your calendar."))
    calendar = CalendarEvent(
        uid=payload["uid"],
        starts_at=starts_at,
        ends_at=datetime.fromisoformat(payload["ends_at"]),
        timezone=payload["timezone"],
        office_name=payload["office_name"],
        location=payload["office_address"],
        confirmation_code=code,
        kind=AppointmentKind(payload["kind"]),
        cancelled=bool(payload["cancelled"]),
        sequence=int(payload["sequence"]),
    )
    description = t._("Confirmation code: {code}. Please bring a photo ID.").format(code=code)
    data = appointment_ics(calendar, summary=summary, description=description)
    ics = Attachment(
        kind="file", name=f"appointment-{code}.ics", content_type=ICS_CONTENT_TYPE, data=data
    )
    return Reply(text="\n\n".join(lines), attachments=(ics,))


def render_notification(
    kind: str, payload: dict[str, Any], t: Translator, *, in_chat: bool = True
) -> Reply:
    """The reply that tells a chat about one outbox message, in ``t``'s language
    (``in_chat`` False: for an email or a text message, which have no menu to point to).

    Raises:
        UnknownNotification: a kind this version does not send, or a payload without what the
            kind needs.
    """
    try:
        if kind == STATUS_CHANGED:
            return Reply(text=_status_text(t, payload, in_chat=in_chat))
        if kind == REMINDER:
            return Reply(text=_reminder_text(t, payload))
        if kind == OFFICE_CLOSED:
            return _office_closed(t, payload)
        if kind == REPLY:  # a chat's reply, worded in its turn (bot/notify/reply_outbox.py)
            return reply_from_payload(payload)
        if kind == CODE_EMAIL:  # confirming an email address for updates (core/contacts)
            return Reply(text=_code_text(t, payload))
        if kind == APPOINTMENT_MAIL:  # a booking, a change, a cancellation (core/contacts)
            return _appointment_mail(t, payload)
        if is_code(kind):  # a one-time code by text message (exempt from quiet hours)
            code = payload["code"]
            if not isinstance(code, str) or not code:
                raise ValueError("no code")
            return Reply(
                text=t._("Your casebot code is {code}. Never share it with anyone.").format(
                    code=code
                )
            )
        if kind in HANDOFF_KINDS:
            return _handoff(kind, t, payload)
    except (KeyError, TypeError, ValueError) as exc:
        raise UnknownNotification(kind, f"bad payload ({type(exc).__name__})") from None
    raise UnknownNotification(kind, "unknown kind")


async def render_message(uow: UnitOfWork, message: OutboxItem) -> Reply:
    """An outbox message worded for its recipient: in the language its payload names
    (``locale``: an email or a text, where ``core.contacts`` writes the contact point's; an
    answer to a secure message whose chat is gone), else its chat's. A text message (``sms``)
    is plain text cut to at most three parts (``core.sms.segments``), ending with how to stop;
    it carries no buttons.

    A notice of a place in line (``HANDOFF_PLACE``) tells the place as it is now, read from the
    line (``core.handoff.place_in_queue``), not as it was when the notice was written.

    Raises:
        UnknownNotification: see ``render_notification``; and a place notice of a person no
            longer waiting (claimed or gone meanwhile): it has nothing left to tell.
    """
    named = normalize_locale(str(message.payload.get("locale") or ""))
    if named in LOCALES:
        locale = named
    else:
        locale = await recipient_locale(uow, message.channel, message.address)
    t = translator(locale)
    in_chat = message.channel not in OFF_CHAT_CHANNELS
    payload = message.payload
    if message.kind == HANDOFF_PLACE and "position" not in payload:
        payload = {**payload, **await _place_now(uow, payload)}
    reply = render_notification(message.kind, payload, t, in_chat=in_chat)
    if message.channel == SMS:
        return Reply(text=compose(reply.text, t._(SMS_FOOTER)))
    return reply


async def _place_now(uow: UnitOfWork, payload: dict[str, Any]) -> dict[str, int]:
    """The place and wait of the handoff a place notice names, as they are now.

    Raises:
        UnknownNotification: the handoff is gone, or not waiting any more.
    """
    try:
        place = await place_in_queue(uow, int(payload["handoff_id"]))
    except (HandoffNotFound, KeyError, TypeError, ValueError) as exc:
        raise UnknownNotification(HANDOFF_PLACE, "no such handoff") from exc
    if not place.position:
        raise UnknownNotification(HANDOFF_PLACE, "no longer waiting")
    return {"position": place.position, "wait_seconds": int(place.wait.total_seconds())}
