"""What the steps of the appointments flow share: its states, the words for an appointment,
its calendar file, the checks of a case, the office question and the free slots."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.dialogs.appointments.calendar import ICS_CONTENT_TYPE, appointment_ics
from bot.dialogs.appointments.inputs import to_minutes
from bot.dialogs.appointments.offices import OfficeSearch, office_line, search_offices
from bot.dialogs.base import Button, Next, Prompt, Stay, Transition
from bot.dialogs.context import Context
from bot.dialogs.model import Attachment
from bot.dialogs.numbers import OFFICE_ID_DIGITS, whole_number
from bot.wording.errors import describe_error
from core.appointments import (
    calendar_event,
    get_office,
    list_appointments,
    list_offices,
    list_slots,
)
from core.appointments.models import AppointmentKind
from core.appointments.service import SlotView
from core.appointments.views import AppointmentView, OfficeView
from core.cases.repository import find_case
from core.cases.service import PublicStatus, is_following, list_cases, list_client_cases
from core.errors import AccountNotFound, AlreadyBooked, NotBookable

__all__ = [
    "DAYS_SEARCHED",
    "DAYS_SHOWN",
    "KINDS",
    "SLOT_REASONS",
    "Appt",
    "account_of",
    "biometrics_rule",
    "bookable_cases",
    "case_problem",
    "choose_text",
    "contact_text",
    "details",
    "free_slots",
    "ics_attachment",
    "in_person_booked",
    "kind_label",
    "office_handle",
    "office_of",
    "office_parse",
    "office_prompt",
    "shown_at",
    "start_booking",
    "today_at",
]

DAYS_SHOWN: Final = 6
DAYS_SEARCHED: Final = 28
SLOT_REASONS: Final = frozenset({"past", "too_soon", "too_far", "closed", "not_a_slot"})
KINDS: Final = frozenset(kind.value for kind in AppointmentKind)


class Appt(enum.Enum):
    START = "start"
    KIND = "kind"
    CASE = "case"
    OFFICE = "office"
    DAY = "day"
    TIME = "time"
    CONFIRM = "confirm"
    LIST = "list"
    CANCEL = "cancel"


# --- shared pieces ---------------------------------------------------------------------------


async def account_of(ctx: Context) -> int:
    account_id = await ctx.account_id()
    if account_id is None:
        raise AccountNotFound()
    return account_id


def kind_label(ctx: Context, kind: str) -> str:
    if kind == AppointmentKind.BIOMETRICS:
        return ctx._("Biometrics (fingerprints and photo)")
    return ctx._("Help in person at a field office")


def shown_at(ctx: Context, moment: datetime, office: OfficeView) -> str:
    """A UTC moment as the office's local date and time, with the zone named."""
    return ctx.t.datetime_in(moment, office.timezone)


def choose_text(ctx: Context) -> str:
    return ctx._("Please choose one of the options below.")


def contact_text(ctx: Context) -> str:
    phone, tty = ctx.services.contact_phone, ctx.services.contact_tty
    return ctx._("USCIS Contact Center: {phone} (TTY {tty}).").format(phone=phone, tty=tty)


def ics_attachment(ctx: Context, appointment: AppointmentView) -> Attachment:
    """The calendar file of an appointment as it is now (booked, moved or cancelled)."""
    event = calendar_event(appointment, appointment.office)
    if appointment.kind is AppointmentKind.BIOMETRICS:
        summary = ctx._("USCIS biometrics appointment")
    else:
        summary = ctx._("USCIS appointment at a field office")
    description = ctx._("Confirmation code: {code}. Please bring a photo ID.").format(
        code=appointment.confirmation_code
    )
    data = appointment_ics(event, summary=summary, description=description, stamp=ctx.now())
    name = f"appointment-{appointment.confirmation_code}.ics"
    return Attachment(kind="file", name=name, content_type=ICS_CONTENT_TYPE, data=data)


def details(ctx: Context, appointment: AppointmentView) -> str:
    office = appointment.office
    return "\n".join(
        [
            kind_label(ctx, appointment.kind),
            shown_at(ctx, appointment.starts_at, office),
            office_line(office),
            ctx._("Confirmation code: {code}").format(code=appointment.confirmation_code),
        ]
    )


def start_booking(ctx: Context) -> None:
    ctx.data.clear()
    ctx.data["mode"] = "book"


# --- cases -----------------------------------------------------------------------------------


async def case_problem(ctx: Context, receipt: str) -> str | None:
    """Why this case cannot have a biometrics appointment booked now, in words; None if it can.

    The case must be the account's own or, for a representative, a client's (the ones
    ``book_appointment`` accepts). An existing appointment is told as ``AlreadyBooked`` and
    leaves ``data["booked"]`` set, so the caller can show the person their appointments.
    """
    account_id = await account_of(ctx)
    case = next(
        (c for c in await bookable_cases(ctx, account_id) if str(c.receipt) == receipt), None
    )
    if case is None:
        return ctx._("That case is not in your account. Please choose one of your cases.")
    if not case.status.allows_biometrics:
        lines = [
            describe_error(ctx, NotBookable(reason="biometrics_not_ready")),
            ctx._('Its status now is "{status}".').format(status=ctx._(case.status.title)),
            biometrics_rule(ctx),
        ]
        # Said only to a chat that asked to follow the case: others were promised nothing.
        if await is_following(ctx.uow, case.receipt, channel=ctx.channel, chat_id=ctx.chat_id):
            lines.append(ctx._("You get updates about this case here, so you will hear when "
                               "its status changes."))  # fmt: skip
        return "\n".join(lines)
    record = await find_case(ctx.uow, case.receipt)
    for appointment in await list_appointments(ctx.uow, account_id):
        same_case = record is not None and appointment.case_id == record.id
        if same_case and appointment.kind is AppointmentKind.BIOMETRICS:
            ctx.data["booked"] = True
            return describe_error(ctx, AlreadyBooked(existing_code=appointment.confirmation_code))
    return None


async def bookable_cases(ctx: Context, account_id: int) -> list[PublicStatus]:
    """The cases the account may book for: its own, then its clients' (a representative)."""
    own = await list_cases(ctx.uow, account_id)
    clients = [client.case for client in await list_client_cases(ctx.uow, account_id)]
    return own + clients


def biometrics_rule(ctx: Context) -> str:
    return ctx._(
        'Biometrics can be booked once your case shows "Fingerprint Fee Was Received" or '
        '"Biometrics Appointment Was Scheduled".'
    )


async def in_person_booked(ctx: Context) -> str | None:
    account_id = await account_of(ctx)
    for appointment in await list_appointments(ctx.uow, account_id):
        if appointment.kind is AppointmentKind.IN_PERSON and appointment.case_id is None:
            return appointment.confirmation_code
    return None


# --- offices ---------------------------------------------------------------------------------


async def office_prompt(ctx: Context) -> Prompt:
    kind = ctx.data["kind"]
    offices = await list_offices(ctx.uow, kind)
    found = ctx.data.get("found")
    place = ctx.data.get("place", "")
    if found:
        by_id = {office.id: office for office in offices}
        offices = [by_id[i] for i in found if i in by_id]
        if ctx.data.get("near"):
            text = ctx._("There is no office in {place}. These are the nearest:").format(
                place=place
            )
        else:
            text = ctx._("Offices for {place}, nearest first:").format(place=place)
    else:
        text = ctx._("Which office would you like to go to?")
    lines = [f"• {office_line(office)}" for office in offices]
    hint = ctx._("Choose one, or type your state (like Texas or TX) or your ZIP code.")
    parts = [text, "\n".join(lines), hint]
    choices = [Button(o.name, f"o{o.id}") for o in offices]
    return Prompt("\n\n".join(parts), choices)


async def office_parse(ctx: Context, text: str) -> str | OfficeSearch:
    found = await search_offices(ctx.uow, text, ctx.data["kind"])
    if len(found.office_ids) == 1 and found.exact:
        return f"o{found.office_ids[0]}"
    return found


async def office_handle(ctx: Context, value: Any) -> Transition:
    if isinstance(value, OfficeSearch):
        ctx.data.update(found=list(value.office_ids), place=value.place, near=not value.exact)
        return Stay()
    try:
        if not (isinstance(value, str) and value.startswith("o")):
            raise ValueError("not an office")
        office_id = whole_number(value[1:], max_digits=OFFICE_ID_DIGITS)
    except ValueError:
        ctx.say(choose_text(ctx))
        return Stay()
    office = await get_office(ctx.uow, office_id)
    for key in ("found", "place", "near", "day", "slot"):
        ctx.data.pop(key, None)
    ctx.data["office"] = office.id
    return Next(Appt.DAY)


# --- slots -----------------------------------------------------------------------------------


async def office_of(ctx: Context) -> OfficeView:
    return await get_office(ctx.uow, int(ctx.data["office"]))


def today_at(ctx: Context, office: OfficeView) -> date:
    return ctx.now().astimezone(ZoneInfo(office.timezone)).date()


async def free_slots(ctx: Context, office: OfficeView, first: date, last: date) -> list[SlotView]:
    """The free slots between two local days, leaving out the slot being moved away from."""
    slots = await list_slots(ctx.uow, office.id, (first, last), ctx.data["kind"])
    current = ctx.data.get("current")
    return [s for s in slots if to_minutes(s.starts_at) != current]
