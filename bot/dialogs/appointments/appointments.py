"""Appointments: book one (biometrics for a case, or help in person at a field office), see
the ones booked, move them to another time, cancel them.

Booking goes type -> case (biometrics only) -> office (a button, a state or a ZIP code) -> day
-> time -> confirmation, and ends with the confirmation code and a calendar file (.ics).
Rescheduling reuses the day, time and confirmation steps (``data["mode"] == "reschedule"``).
Every time is shown in the office's own time zone, with the zone named.

The first step asks what to do, but its ``enter`` hook goes elsewhere when the flow starts: to
the sign-in flow (``link_account``) when the chat is not signed in, coming back here (or on)
once signed in; and with ``{"kind": "biometrics", "case": receipt}`` from another flow, to the
office question once the case is checked (ready for biometrics, the account's or a client's,
not booked yet), or to where a refusal can be mended, explained.

Button values stay short (Telegram allows 64 bytes): office ids (``o12``), ISO days, slot
starts in epoch minutes, confirmation codes (8 characters).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Final

from bot.dialogs.appointments.booking import (
    case_handle,
    case_parse,
    case_prompt,
    confirm_handle,
    confirm_prompt,
    day_handle,
    day_parse,
    day_prompt,
    kind_handle,
    kind_prompt,
    time_handle,
    time_parse,
    time_prompt,
)
from bot.dialogs.appointments.common import (
    KINDS,
    Appt,
    case_problem,
    contact_text,
    in_person_booked,
    office_handle,
    office_parse,
    office_prompt,
    start_booking,
)
from bot.dialogs.appointments.manage import cancel_handle, cancel_prompt, list_handle, list_prompt
from bot.dialogs.base import Button, Dialog, Flow, Next, Prompt, Start, Stay, Step, Transition
from bot.dialogs.context import Context
from bot.wording.errors import describe_error
from bot.wording.i18n import N_
from core.appointments.models import AppointmentKind
from core.errors import AlreadyBooked

__all__ = ["FLOW", "NAME", "Appt", "appointments_dialog"]

NAME: Final = "appointments"


def appointments_dialog(available: Collection[str]) -> Dialog[Appt]:
    """The appointments flow; it signs the chat in first when ``link_account`` is in
    ``available``."""
    can_sign_in = "link_account" in available

    # START: what to do. The flow begins with sign-in (the link_account flow) when the chat is
    # not signed in, and with the office question when another flow gave a kind and a case.

    async def preset(ctx: Context) -> Transition | None:
        """Act on ``{"kind": ..., "case": ...}`` given by another flow (signed in): the office
        question when the case may have biometrics booked, else the refusal explained and the
        step where it can be mended. None (no arguments): ask what to do."""
        kind, receipt = ctx.data.get("kind"), str(ctx.data.get("case") or "")
        ctx.data.clear()  # arguments are used once: "back" to START asks what to do
        if kind not in KINDS:
            return None
        start_booking(ctx)
        ctx.data["kind"] = kind
        if kind == AppointmentKind.IN_PERSON:
            code = await in_person_booked(ctx)
            if code is not None:
                ctx.say(describe_error(ctx, AlreadyBooked(existing_code=code)))
                return Next(Appt.LIST)
            return Next(Appt.OFFICE)
        if not receipt:
            return Next(Appt.CASE)
        problem = await case_problem(ctx, receipt)
        if problem is not None:
            ctx.say(problem)
            return Next(Appt.LIST) if ctx.data.pop("booked", None) else Next(Appt.CASE)
        ctx.data["case"] = receipt
        ctx.say(ctx._("Let's book a biometrics appointment for case {case}.").format(case=receipt))
        return Next(Appt.OFFICE)

    async def start_enter(ctx: Context) -> Transition | None:
        if await ctx.account_id() is None:
            # No "then": the flow is at START already, and a "then" would leave a second
            # START in the back history (one "back" that changes nothing). START's resume
            # hook goes on from here once signed in.
            if not can_sign_in:
                return None
            ctx.say(
                ctx._("Your appointments are kept in your USCIS account, so please sign in first.")
            )
            return Start("link_account")
        return await preset(ctx)

    async def start_resume(ctx: Context, result: Any) -> Transition:
        ctx.forget_account()  # the sign-in flow has just linked this chat
        if await ctx.account_id() is None:
            return Stay()  # never loop back into sign-in within a turn
        return await preset(ctx) or Stay()

    async def start_prompt(ctx: Context) -> Prompt:
        if await ctx.account_id() is None:
            # Only after "back" out of the sign-in flow (or without one): the way in again.
            text = ctx._(
                "Your appointments are kept in your USCIS account, so please sign in first."
            )
            if can_sign_in:
                return Prompt(text, [Button(ctx._("Sign in"), "signin")])
            return Prompt(f"{text}\n{contact_text(ctx)}")
        return Prompt(
            ctx._("What would you like to do?"),
            [
                Button(ctx._("Book an appointment"), "book"),
                Button(ctx._("My appointments"), "view"),
            ],
        )

    async def start_handle(ctx: Context, value: Any) -> Transition:
        signed_in = await ctx.account_id() is not None
        if value == "signin":
            return Start("link_account") if can_sign_in and not signed_in else Stay()
        if not signed_in:
            return Stay()
        if value == "book":
            start_booking(ctx)
            return Next(Appt.KIND)
        if value == "view":
            return Next(Appt.LIST)
        return Stay()

    return Dialog(
        name=NAME,
        topic_action="appointment",
        states=Appt,
        initial=Appt.START,
        sensitive=True,
        title=N_("Appointments"),
        purpose=N_("book or manage an appointment"),
        intent="appointment",
        steps={
            Appt.START: Step(
                prompt=start_prompt,
                handle=start_handle,
                goes_to=(Appt.KIND, Appt.LIST, Appt.CASE, Appt.OFFICE),
                starts=("link_account",) if can_sign_in else (),
                resume=start_resume,
                enter=start_enter,
                help=N_(
                    "Appointments are for biometrics (fingerprints and photo) or for help in "
                    "person at a field office. You need to be signed in."
                ),
            ),
            Appt.KIND: Step(
                prompt=kind_prompt,
                handle=kind_handle,
                goes_to=(Appt.CASE, Appt.OFFICE, Appt.LIST),
                help=N_(
                    "Biometrics: your fingerprints, photo and signature are taken for your "
                    "case. Help in person: you talk with an officer at a field office."
                ),
            ),
            Appt.CASE: Step(
                prompt=case_prompt,
                parse=case_parse,
                handle=case_handle,
                goes_to=(Appt.OFFICE, Appt.LIST),
                example=N_("IOE0912345679"),
                help=N_(
                    "Choose the case the biometrics appointment is for. It must show "
                    '"Fingerprint Fee Was Received" or "Biometrics Appointment Was '
                    'Scheduled".'
                ),
            ),
            Appt.OFFICE: Step(
                prompt=office_prompt,
                parse=office_parse,
                handle=office_handle,
                goes_to=(Appt.DAY,),
                help=N_(
                    "Choose an office from the list, or type your state or ZIP code to see "
                    "the offices nearest to you."
                ),
            ),
            Appt.DAY: Step(
                prompt=day_prompt,
                parse=day_parse,
                handle=day_handle,
                goes_to=(Appt.TIME,),
                help=N_(
                    "Choose a day with free times, or type a date. Offices are closed on "
                    "weekends and federal holidays."
                ),
            ),
            Appt.TIME: Step(
                prompt=time_prompt,
                parse=time_parse,
                handle=time_handle,
                goes_to=(Appt.CONFIRM, Appt.DAY),
                example=N_("9:30 AM"),
                help=N_("Times are the office's local time, shown with its time zone."),
            ),
            Appt.CONFIRM: Step(
                prompt=confirm_prompt,
                handle=confirm_handle,
                goes_to=(Appt.DAY, Appt.TIME, Appt.LIST),
                help=N_(
                    "Check the details. Confirm to book, or Change to pick another day or time."
                ),
            ),
            Appt.LIST: Step(
                prompt=list_prompt,
                handle=list_handle,
                goes_to=(Appt.KIND, Appt.DAY, Appt.CANCEL),
                help=N_(
                    "You can move an appointment to another time (up to two times, and not "
                    "within 12 hours of it) or cancel it."
                ),
            ),
            Appt.CANCEL: Step(
                prompt=cancel_prompt,
                handle=cancel_handle,
                goes_to=(Appt.LIST,),
            ),
        },
    )


FLOW: Final = Flow(NAME, appointments_dialog)
