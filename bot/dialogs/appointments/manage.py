"""The managing steps of the appointments flow: the list of appointments, with a reschedule and
a cancel button for each, and the cancellation."""

from __future__ import annotations

from typing import Any

from bot.dialogs.appointments.common import (
    Appt,
    account_of,
    contact_text,
    details,
    ics_attachment,
    start_booking,
)
from bot.dialogs.appointments.inputs import to_minutes
from bot.dialogs.base import Button, End, Next, Prompt, Stay, Transition
from bot.dialogs.context import Context
from bot.wording.errors import describe_error
from bot.wording.local_input import NO, YES
from core.appointments import cancel_appointment, get_appointment, list_appointments
from core.appointments.rules import check_can_cancel, check_can_reschedule
from core.errors import RescheduleNotAllowed

__all__ = [
    "cancel_handle",
    "cancel_prompt",
    "list_handle",
    "list_prompt",
]


# LIST and CANCEL


async def list_prompt(ctx: Context) -> Prompt:
    appointments = await list_appointments(ctx.uow, await account_of(ctx))
    book_choice = Button(ctx._("Book an appointment"), "book")
    if not appointments:
        return Prompt(ctx._("You have no upcoming appointments."), [book_choice])
    blocks = [details(ctx, a) for a in appointments]
    text = ctx._("Your appointments:") + "\n\n" + "\n\n".join(blocks)
    choices = []
    for a in appointments:
        code = a.confirmation_code
        choices.append(Button(ctx._("Reschedule {code}").format(code=code), f"r:{code}"))
        choices.append(Button(ctx._("Cancel {code}").format(code=code), f"c:{code}"))
    return Prompt(text, [*choices, book_choice])


async def list_handle(ctx: Context, value: Any) -> Transition:
    action, _, code = str(value).partition(":")
    if action == "book":
        start_booking(ctx)
        return Next(Appt.KIND)
    if action not in ("r", "c") or not code:
        return Stay()
    account_id = await account_of(ctx)
    appointment = await get_appointment(ctx.uow, account_id=account_id, code=code)
    if action == "c":
        check_can_cancel(appointment, ctx.now())
        ctx.data.clear()
        ctx.data["code"] = code
        return Next(Appt.CANCEL)
    try:
        # Every refusal but "same_slot" depends on the appointment alone: an office id no
        # office has keeps that one out of this early check.
        check_can_reschedule(
            appointment, ctx.now(), new_office_id=-1, new_starts_at=appointment.starts_at
        )
    except RescheduleNotAllowed as error:
        text = describe_error(ctx, error)
        if error.reason in ("within_12_hours", "limit_reached"):
            text += "\n" + contact_text(ctx)
        ctx.say(text)
        return Stay()
    ctx.data.clear()
    ctx.data.update(
        mode="reschedule",
        code=code,
        office=appointment.office_id,
        kind=appointment.kind.value,
        current=to_minutes(appointment.starts_at),
    )
    return Next(Appt.DAY)


async def cancel_prompt(ctx: Context) -> Prompt:
    account_id = await account_of(ctx)
    appointment = await get_appointment(ctx.uow, account_id=account_id, code=ctx.data["code"])
    text = ctx._("Do you want to cancel this appointment?") + "\n\n" + details(ctx, appointment)
    return Prompt(
        text,
        [Button(ctx._("Yes, cancel it"), "yes", YES), Button(ctx._("No, keep it"), "no", NO)],
    )


async def cancel_handle(ctx: Context, value: Any) -> Transition:
    if value == "no":
        return Next(Appt.LIST)
    if value != "yes":
        return Stay()
    appointment = await cancel_appointment(
        ctx.uow, account_id=await account_of(ctx), code=ctx.data["code"]
    )
    ctx.say(
        ctx._(
            "Your appointment {code} is cancelled. If you saved it in your calendar, open the "
            "attached file to remove it."
        ).format(code=appointment.confirmation_code),
        attachments=[ics_attachment(ctx, appointment)],
    )
    ctx.data.clear()
    return End()
