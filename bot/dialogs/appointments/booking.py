"""The booking steps of the appointments flow: type, case, day, time and confirmation (the
last three also move an appointment, when ``data["mode"] == "reschedule"``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Final

from bot.dialogs.appointments.common import (
    DAYS_SEARCHED,
    DAYS_SHOWN,
    KINDS,
    SLOT_REASONS,
    Appt,
    account_of,
    biometrics_rule,
    case_problem,
    details,
    free_slots,
    ics_attachment,
    in_person_booked,
    kind_label,
    office_of,
    shown_at,
    start_booking,
    today_at,
)
from bot.dialogs.appointments.inputs import from_minutes, to_minutes
from bot.dialogs.appointments.offices import office_line
from bot.dialogs.base import Button, End, Next, Prompt, Stay, Transition
from bot.dialogs.context import Context
from bot.dialogs.numbers import whole_number
from bot.wording.errors import describe_error
from bot.wording.i18n import N_
from bot.wording.local_input import NO, YES, date_order, local_day, local_time, weekday_name
from core.appointments import book_appointment, reschedule_appointment
from core.appointments.models import AppointmentKind
from core.appointments.service import SlotView
from core.appointments.slots import federal_holiday_name
from core.appointments.views import OfficeView
from core.cases.receipt import ReceiptNumber
from core.cases.repository import find_case
from core.cases.service import list_cases, list_client_cases
from core.errors import AlreadyBooked, NotBookable, RescheduleNotAllowed, SlotTaken

__all__ = [
    "book",
    "case_handle",
    "case_parse",
    "case_prompt",
    "confirm_handle",
    "confirm_prompt",
    "day_handle",
    "day_parse",
    "day_prompt",
    "day_slots",
    "kind_handle",
    "kind_prompt",
    "reschedule",
    "time_handle",
    "time_parse",
    "time_prompt",
]


# KIND and CASE


def kind_prompt(ctx: Context) -> Prompt:
    return Prompt(
        ctx._("What kind of appointment do you need?"),
        [
            Button(kind_label(ctx, AppointmentKind.BIOMETRICS), AppointmentKind.BIOMETRICS.value),
            Button(kind_label(ctx, AppointmentKind.IN_PERSON), AppointmentKind.IN_PERSON.value),
        ],
    )


async def kind_handle(ctx: Context, value: Any) -> Transition:
    if value not in KINDS:
        return Stay()
    start_booking(ctx)
    ctx.data["kind"] = value
    if value == AppointmentKind.BIOMETRICS:
        return Next(Appt.CASE)
    code = await in_person_booked(ctx)
    if code is not None:
        ctx.say(describe_error(ctx, AlreadyBooked(existing_code=code)))
        return Next(Appt.LIST)
    return Next(Appt.OFFICE)


async def case_prompt(ctx: Context) -> Prompt:
    account_id = await account_of(ctx)
    own = await list_cases(ctx.uow, account_id)
    clients = await list_client_cases(ctx.uow, account_id)
    if not own and not clients:
        return Prompt(
            ctx._(
                "There are no cases in your account yet, so there is nothing to book "
                "biometrics for. You can add a case under My cases."
            )
        )
    lines = [
        ctx._("{receipt} ({form}): {status}").format(
            receipt=c.receipt, form=c.form_type, status=ctx._(c.status.title)
        )
        for c in own
    ]
    # A representative books for clients too: their cases follow, after their email address.
    lines += [
        ctx._("{email}: {receipt} ({form}): {status}").format(
            email=client.client_email,
            receipt=client.case.receipt,
            form=client.case.form_type,
            status=ctx._(client.case.status.title),
        )
        for client in clients
    ]
    cases = own + [client.case for client in clients]
    text = ctx._("Which case is the biometrics appointment for?") + "\n\n" + "\n".join(lines)
    if not any(c.status.allows_biometrics for c in cases):
        text += "\n\n" + ctx._("None of your cases is ready yet.") + " " + biometrics_rule(ctx)
    # Only a case that can be booked gets a button (the others are listed, with their status).
    ready = [c for c in cases if c.status.allows_biometrics]
    return Prompt(text, [Button(str(c.receipt), str(c.receipt)) for c in ready])


def case_parse(ctx: Context, text: str) -> str:
    return str(ReceiptNumber.parse(text))


async def case_handle(ctx: Context, value: Any) -> Transition:
    """A case ready for biometrics goes on to the office; one already booked shows the
    appointments; any other problem is explained here."""
    receipt = str(value)
    ctx.data.pop("booked", None)
    problem = await case_problem(ctx, receipt)
    if problem is not None:
        ctx.say(problem)
        return Next(Appt.LIST) if ctx.data.pop("booked", None) else Stay()
    ctx.data["case"] = receipt
    return Next(Appt.OFFICE)


# DAY


LATER: Final = "later"  # the day step's button values: the next days, and the first ones
EARLIER: Final = "earlier"
# The US federal holidays as the holidays package names them, worded for the person.
HOLIDAYS: Final = {
    "New Year's Day": N_("New Year's Day"),
    "Martin Luther King Jr. Day": N_("Martin Luther King Jr. Day"),
    "Washington's Birthday": N_("Presidents' Day"),
    "Memorial Day": N_("Memorial Day"),
    "Juneteenth National Independence Day": N_("Juneteenth"),
    "Independence Day": N_("Independence Day"),
    "Labor Day": N_("Labor Day"),
    "Columbus Day": N_("Columbus Day"),
    "Veterans Day": N_("Veterans Day"),
    "Thanksgiving Day": N_("Thanksgiving Day"),
    "Christmas Day": N_("Christmas Day"),
}
FEDERAL_HOLIDAY: Final = N_("a federal holiday")  # one the table does not name


async def offered_days(ctx: Context, office: OfficeView) -> tuple[list[date], bool]:
    """The days with free times the day step shows now (after the ones the person paged
    past with "Later dates"), and whether later ones remain."""
    today = today_at(ctx, office)
    slots = await free_slots(ctx, office, today, today + timedelta(days=DAYS_SEARCHED))
    days = sorted({s.local_start.date() for s in slots})
    after = ctx.data.get("after")
    if after:
        days = [d for d in days if d.isoformat() > after] or days
    return days[:DAYS_SHOWN], len(days) > DAYS_SHOWN


def typed_day(ctx: Context, day: date) -> str:
    """A day as the person may type it, in their locale's short order ("3/4", "4/3")."""
    order = date_order(ctx.locale)
    return f"{day.day}/{day.month}" if order == "dmy" else f"{day.month}/{day.day}"


def day_example(ctx: Context, today: date, days: list[date]) -> str:
    """A date to type that has free times (the first one offered), and a weekday too when
    one of the next six days has them, in the person's language."""
    example = typed_day(ctx, days[0])
    soon = [d for d in days if today < d < today + timedelta(days=7)]
    if not soon:
        return example
    return ctx._("{date} or {weekday}").format(
        date=example, weekday=weekday_name(ctx.locale, soon[0])
    )


async def day_prompt(ctx: Context) -> Prompt:
    office = await office_of(ctx)
    days, more = await offered_days(ctx, office)
    heading = ""
    if ctx.data.get("mode") == "reschedule":
        heading = (
            ctx._("Let's find a new time for your appointment {code}.").format(
                code=ctx.data["code"]
            )
            + "\n\n"
        )
    if not days:
        return Prompt(
            heading
            + ctx._(
                "There are no free times at the {office} in the next four "
                "weeks. Please go back and choose another office."
            ).format(office=office.name)
        )
    text = heading + ctx._(
        "Which day would you like at the {office}? These days have free times. You can "
        "also type a date, like {example}."
    ).format(office=office.name, example=day_example(ctx, today_at(ctx, office), days))
    choices = [Button(ctx.t.date(d, "full"), d.isoformat()) for d in days]
    if more:
        choices.append(Button(ctx._("Later dates"), LATER))
    if ctx.data.get("after"):
        choices.append(Button(ctx._("Earlier dates"), EARLIER))
    return Prompt(text, choices)


async def day_parse(ctx: Context, text: str) -> str:
    """A day typed the person's way: their locale's date order and month and weekday names
    (see :func:`bot.wording.local_input.local_day`), or "today"/"tomorrow" in their language."""
    office = await office_of(ctx)
    today = today_at(ctx, office)
    relative = {"today": 0, "tomorrow": 1, ctx._("today"): 0, ctx._("tomorrow"): 1}
    try:
        day = local_day(text, today, ctx.locale, relative=relative)
    except ValueError as error:
        if str(error) == "past":
            raise ValueError(ctx._("That day has already passed.")) from None
        if str(error) == "too far":
            raise NotBookable(reason="too_far") from None
        days, _more = await offered_days(ctx, office)
        example = typed_day(ctx, days[0]) if days else typed_day(ctx, today)
        raise ValueError(
            ctx._("Please type a date like {example}, or choose a day below.").format(
                example=example
            )
        ) from None
    return day.isoformat()


async def day_handle(ctx: Context, value: Any) -> Transition:
    office = await office_of(ctx)
    if value in (LATER, EARLIER):
        days, _more = await offered_days(ctx, office)
        if value == LATER and days:
            ctx.data["after"] = days[-1].isoformat()
        else:
            ctx.data.pop("after", None)
        return Stay()
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return Stay()
    if not await free_slots(ctx, office, day, day):
        holiday = federal_holiday_name(day)
        shown = ctx.t.date(day, "full")
        if holiday is not None:
            ctx.say(
                ctx._(
                    "The office is closed on {date} for {holiday}. Please choose another day."
                ).format(date=shown, holiday=ctx._(HOLIDAYS.get(holiday, FEDERAL_HOLIDAY)))
            )
        else:
            ctx.say(
                ctx._("There are no free times on {date}. Please choose another day.").format(
                    date=shown
                )
            )
        return Stay()
    ctx.data["day"] = day.isoformat()
    ctx.data.pop("slot", None)
    return Next(Appt.TIME)


# TIME


async def day_slots(ctx: Context) -> tuple[OfficeView, date, list[SlotView]]:
    """The office, the chosen local day and its free slots now."""
    office = await office_of(ctx)
    day = date.fromisoformat(ctx.data["day"])
    return office, day, await free_slots(ctx, office, day, day)


async def time_prompt(ctx: Context) -> Prompt:
    office, day, slots = await day_slots(ctx)
    shown_day = ctx.t.date(day, "full")
    if not slots:
        return Prompt(
            ctx._("There are no free times left on {date}.").format(date=shown_day),
            [Button(ctx._("Choose another day"), "day")],
        )
    zone = ctx.t.zone_name(slots[0].starts_at, office.timezone)
    text = ctx._(
        "Free times on {date} at the {office}. Times are local time in {city} ({zone})."
    ).format(date=shown_day, office=office.name, city=office.city, zone=zone)
    choices = [
        Button(ctx.t.time_in(s.starts_at, office.timezone), str(to_minutes(s.starts_at)))
        for s in slots
    ]
    return Prompt(text, choices)


async def time_parse(ctx: Context, text: str) -> str:
    try:
        wanted = local_time(text)
    except ValueError:
        raise ValueError(ctx._("Please type a time like 9:30 AM, or choose one below.")) from None
    *_, slots = await day_slots(ctx)
    for slot in slots:
        if slot.local_start.time() == wanted:
            return str(to_minutes(slot.starts_at))
    raise ValueError(ctx._("That time is not free that day. Please choose one of the times below."))


async def time_handle(ctx: Context, value: Any) -> Transition:
    """A slot start (epoch minutes) that is still free goes to the confirmation."""
    if value == "day":
        return Next(Appt.DAY)
    try:
        minutes = whole_number(value)
    except ValueError:
        return Stay()
    *_, slots = await day_slots(ctx)
    if minutes not in {to_minutes(s.starts_at) for s in slots}:
        try:
            starts_at = from_minutes(minutes)
        except ValueError:  # no moment of any calendar: a forged payload
            return Stay()
        taken = SlotTaken(office_id=int(ctx.data["office"]), starts_at=starts_at)
        ctx.say(describe_error(ctx, taken))
        return Stay()
    ctx.data["slot"] = minutes
    return Next(Appt.CONFIRM)


# CONFIRM


async def confirm_prompt(ctx: Context) -> Prompt:
    office = await office_of(ctx)
    when = shown_at(ctx, from_minutes(int(ctx.data["slot"])), office)
    choices = [Button(ctx._("Confirm"), "confirm", YES), Button(ctx._("Change"), "change", NO)]
    if ctx.data.get("mode") == "reschedule":
        current = from_minutes(int(ctx.data["current"]))
        text = "\n".join(
            [
                ctx._("Please check the change of your appointment {code}:").format(
                    code=ctx.data["code"]
                ),
                "",
                ctx._("From: {when}").format(when=shown_at(ctx, current, office)),
                ctx._("To: {when}").format(when=when),
                ctx._("Office: {office}").format(office=office_line(office)),
            ]
        )
        return Prompt(text, choices)
    lines = [
        ctx._("Please check your appointment:"),
        "",
        ctx._("Type: {kind}").format(kind=kind_label(ctx, ctx.data["kind"])),
    ]
    if ctx.data.get("case"):
        lines.append(ctx._("Case: {case}").format(case=ctx.data["case"]))
    lines += [
        ctx._("Office: {office}").format(office=office.name),
        ctx._("Address: {address}").format(address=office_line(office, name=False)),
        ctx._("When: {when}").format(when=when),
    ]
    return Prompt("\n".join(lines), choices)


async def confirm_handle(ctx: Context, value: Any) -> Transition:
    if value == "change":
        return Next(Appt.DAY)
    if value != "confirm":
        return Stay()
    if ctx.data.get("mode") == "reschedule":
        return await reschedule(ctx)
    return await book(ctx)


async def book(ctx: Context) -> Transition:
    """Book what was chosen; a refusal is explained and leads where it can be mended (the
    day's remaining times when the seat was taken meanwhile)."""
    account_id = await account_of(ctx)
    case_id = None
    if ctx.data.get("case"):
        record = await find_case(ctx.uow, ReceiptNumber.parse(ctx.data["case"]))
        case_id = record.id if record is not None else None
    try:
        appointment = await book_appointment(
            ctx.uow,
            account_id=account_id,
            office_id=int(ctx.data["office"]),
            starts_at=from_minutes(int(ctx.data["slot"])),
            kind=ctx.data["kind"],
            case_id=case_id,
        )
    except SlotTaken as error:
        ctx.say(describe_error(ctx, error))
        return Next(Appt.TIME)
    except AlreadyBooked as error:
        ctx.say(describe_error(ctx, error))
        return Next(Appt.LIST)
    except NotBookable as error:
        ctx.say(describe_error(ctx, error))
        return Next(Appt.TIME) if error.reason in SLOT_REASONS else End()
    ctx.say(
        ctx._("Your appointment is booked.")
        + "\n\n"
        + details(ctx, appointment)
        + "\n\n"
        + ctx._(
            "Please bring a photo ID. The calendar file adds the appointment to your calendar."
        ),
        attachments=[ics_attachment(ctx, appointment)],
    )
    ctx.data.clear()
    return End()


async def reschedule(ctx: Context) -> Transition:
    """Move the appointment to the chosen slot; a refusal is explained, as in :func:`book`."""
    try:
        appointment = await reschedule_appointment(
            ctx.uow,
            account_id=await account_of(ctx),
            code=ctx.data["code"],
            new_starts_at=from_minutes(int(ctx.data["slot"])),
        )
    except (SlotTaken, NotBookable) as error:
        ctx.say(describe_error(ctx, error))
        return Next(Appt.TIME)
    except RescheduleNotAllowed as error:
        ctx.say(describe_error(ctx, error))
        return Next(Appt.TIME) if error.reason == "same_slot" else Next(Appt.LIST)
    ctx.say(
        ctx._("Your appointment is moved.") + "\n\n" + details(ctx, appointment),
        attachments=[ics_attachment(ctx, appointment)],
    )
    ctx.data.clear()
    return End()
