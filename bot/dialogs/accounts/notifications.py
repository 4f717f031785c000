"""Notifications, for a signed-in person: the email addresses and mobile numbers that get
updates, what each gets (status changes, appointment confirmations and reminders, replies from
agents), adding one (confirmed with a code, by ``bot.dialogs.cases.updates``) and stopping one;
and getting the sign-in codes by text message (``bot.dialogs.accounts.sms_sign_in``).
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from typing import Final

from bot.dialogs.base import Button, Dialog, End, Flow, Next, Prompt, Start, Stay, Step, Transition
from bot.dialogs.context import Context
from bot.wording.i18n import N_
from core.contacts.service import ContactView, contacts_of_account, set_wants, stop_contact

__all__ = ["FLOW", "NAME", "notifications_dialog"]

NAME: Final = "notifications"
GET_UPDATES: Final = "get_updates"
ADD_EMAIL: Final = "add_email"
ADD_SMS: Final = "add_sms"
SMS_SIGN_IN: Final = "sms_sign_in"
BACK: Final = "back"
STOP: Final = "stop"
WHAT: Final = {
    "status": N_("Status changes"),
    "appointments": N_("Appointments and reminders"),
    "agent_replies": N_("Replies from agents"),
}


class State(enum.Enum):
    LIST = "list"
    CONTACT = "contact"


def _wants(contact: ContactView, what: str) -> bool:
    return bool(getattr(contact, f"wants_{what}")) and contact.active


async def _contacts(ctx: Context) -> list[ContactView] | None:
    account_id = await ctx.account_id()
    if account_id is None:
        return None
    return await contacts_of_account(ctx.uow, account_id)


def notifications_dialog(available: Collection[str] = ()) -> Dialog[State]:
    can_add = GET_UPDATES in available
    can_text_codes = SMS_SIGN_IN in available

    async def list_prompt(ctx: Context) -> Prompt:
        contacts = await _contacts(ctx)
        if contacts is None:
            return Prompt(ctx._("Please sign in first."))
        lines = [ctx._("Where we send your updates:")]
        choices = []
        for contact in contacts:
            state = ctx._("on") if contact.active else ctx._("off")
            lines.append(f"- {contact.address}: {state}")
            choices.append(Button(contact.address, f"c{contact.id}"))
        if not contacts:
            lines = [ctx._("You get updates only in this chat. You can add an email or a phone.")]
        if can_add:
            choices.append(Button(ctx._("Add an email"), ADD_EMAIL))
            choices.append(Button(ctx._("Add a mobile number"), ADD_SMS))
        if can_text_codes:
            choices.append(Button(ctx._("Sign-in codes by text"), SMS_SIGN_IN))
        return Prompt("\n".join(lines), choices)

    async def on_list(ctx: Context, value: str) -> Transition:
        if await ctx.account_id() is None:
            return End()
        if value == ADD_EMAIL and can_add:
            return Start(GET_UPDATES, {"channel": "email"})
        if value == ADD_SMS and can_add:
            return Start(GET_UPDATES, {"channel": "sms"})
        if value == SMS_SIGN_IN and can_text_codes:
            return Start(SMS_SIGN_IN)
        if value.startswith("c") and value[1:].isdigit():
            ctx.data["contact"] = int(value[1:])
            return Next(State.CONTACT)
        return Stay()

    async def chosen(ctx: Context) -> ContactView | None:
        contacts = await _contacts(ctx) or []
        return next((c for c in contacts if c.id == ctx.data.get("contact")), None)

    async def contact_prompt(ctx: Context) -> Prompt:
        contact = await chosen(ctx)
        if contact is None:
            return Prompt(ctx._("Please sign in first."), [Button(ctx._("Back"), BACK)])
        text = ctx._("What should {address} get? Press a line to turn it on or off.").format(
            address=contact.address
        )
        choices = [
            Button(("✓ " if _wants(contact, what) else "✗ ") + ctx._(label), what)
            for what, label in WHAT.items()
        ]
        if contact.active:
            choices.append(Button(ctx._("Stop everything"), STOP))
        choices.append(Button(ctx._("Back"), BACK))
        return Prompt(text, choices)

    async def on_contact(ctx: Context, value: str) -> Transition:
        account_id = await ctx.account_id()
        contact = await chosen(ctx)
        if value == BACK or account_id is None or contact is None:
            return Next(State.LIST)
        if value == STOP:
            await stop_contact(ctx.uow, account_id, contact.id)
            ctx.say(ctx._("Done. Nothing more will be sent to {address}.").format(
                address=contact.address
            ))  # fmt: skip
            return Next(State.LIST)
        if value in WHAT:
            await set_wants(ctx.uow, account_id, contact.id, value, not _wants(contact, value))
        return Stay()

    return Dialog(
        name=NAME,
        states=State,
        initial=State.LIST,
        sensitive=True,
        title=N_("Notifications"),
        purpose=N_("choose where and what updates you get"),
        signed_in_only=True,
        steps={
            State.LIST: Step(
                prompt=list_prompt,
                handle=on_list,
                goes_to=(State.CONTACT,),
                starts=((GET_UPDATES,) if can_add else ())
                + ((SMS_SIGN_IN,) if can_text_codes else ()),
            ),
            State.CONTACT: Step(prompt=contact_prompt, handle=on_contact, goes_to=(State.LIST,)),
        },
    )


FLOW: Final = Flow(NAME, notifications_dialog)
