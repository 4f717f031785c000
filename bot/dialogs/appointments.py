"""Appointments: book one (biometrics for a case, or help in person at a field office), see
the ones booked, move them to another time, cancel them.

Booking goes type -> case (biometrics only) -> office (a button, a state or a ZIP code) -> day
-> time -> confirmation, and ends with the confirmation code and a calendar file (.ics).
Rescheduling reuses the day, time and confirmation steps (``data["mode"] == "reschedule"``).
Every time is shown in the office's own time zone, with the zone named.

The first step is a gate: without a signed-in account it offers to sign in (``link_account``)
and comes back to itself; with ``{"kind": "biometrics", "case": receipt}`` from another flow,
it asks for the office straight away instead of asking what to do.

Button values stay short (Telegram allows 64 bytes): office ids (``o12``), ISO days, slot
starts in epoch minutes, confirmation codes (8 characters).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bot.context import Context
from bot.dialogs.appointment_booking import (
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
from bot.dialogs.appointment_common import (
    KINDS,
    Appt,
    case_problem,
    choose_text,
    contact_text,
    office_handle,
    office_parse,
    office_prompt,
    start_booking,
)
from bot.dialogs.appointment_manage import cancel_handle, cancel_prompt, list_handle, list_prompt
from bot.dialogs.appointment_offices import OfficeSearch
from bot.dialogs.base import Choice, Dialog, Next, Prompt, Start, Stay, Step, Transition
from bot.i18n import N_
from core.appointments.models import AppointmentKind

__all__ = ["Appt", "appointments_dialog"]


def appointments_dialog(available: Collection[str]) -> Dialog[Appt]:
    """The appointments flow; it offers to sign in when ``link_account`` is in ``available``."""
    can_sign_in = "link_account" in available

    # START: sign in, or what to do, or (given a kind and case) the office straight away.

    async def preset(ctx: Context) -> tuple[bool, str | None]:
        kind = ctx.data.get("kind")
        if ctx.data.get("mode") or kind not in KINDS:
            return False, None
        if kind == AppointmentKind.BIOMETRICS:
            receipt = str(ctx.data.get("case") or "")
            if not receipt:
                return False, None
            problem = await case_problem(ctx, receipt)
            if problem is not None:
                return False, problem
        return True, None

    async def start_prompt(ctx: Context) -> Prompt:
        if await ctx.account_id() is None:
            text = ctx._(
                "Your appointments are kept in your USCIS account, so please sign in first."
            )
            if can_sign_in:
                return Prompt(text, [Choice(ctx._("Sign in"), "signin")])
            return Prompt(f"{text}\n{contact_text(ctx)}")
        ready, problem = await preset(ctx)
        if ready:
            kind = ctx.data["kind"]
            heading = (
                ctx._("Let's book a biometrics appointment for case {case}.").format(
                    case=ctx.data["case"]
                )
                if kind == AppointmentKind.BIOMETRICS
                else None
            )
            return await office_prompt(ctx, heading)
        text = ctx._("What would you like to do?")
        choices = [
            Choice(ctx._("Book an appointment"), "book"),
            Choice(ctx._("My appointments"), "view"),
        ]
        return Prompt(f"{problem}\n\n{text}" if problem else text, choices)

    async def start_parse(ctx: Context, text: str) -> str | OfficeSearch:
        if await ctx.account_id() is not None and (await preset(ctx))[0]:
            return await office_parse(ctx, text)
        raise ValueError(choose_text(ctx))

    async def start_handle(ctx: Context, value: Any) -> Transition:
        signed_in = await ctx.account_id() is not None
        if value == "signin":
            if signed_in or not can_sign_in:
                return Stay()
            return Start("link_account", then=Appt.START)
        if not signed_in:
            return Stay()
        if value == "book":
            start_booking(ctx)
            return Next(Appt.KIND)
        if value == "view":
            return Next(Appt.LIST)
        if not (await preset(ctx))[0]:
            return Stay()
        return await office_handle(ctx, value)

    async def start_resume(ctx: Context, result: Any) -> Transition:
        ctx.forget_account()  # signed in just now
        return Stay()

    return Dialog(
        name="appointments",
        states=Appt,
        initial=Appt.START,
        sensitive=True,
        intent="appointment",
        steps={
            Appt.START: Step(
                prompt=start_prompt,
                parse=start_parse,
                handle=start_handle,
                goes_to=(Appt.KIND, Appt.LIST, Appt.DAY),
                starts=("link_account",) if can_sign_in else (),
                resume=start_resume,
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
                example=N_("3/4/2026, 3/4 or Wednesday"),
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
