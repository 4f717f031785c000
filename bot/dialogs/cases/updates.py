"""Getting a case's updates somewhere that lasts: by email or text message (confirmed with a
code sent there: double opt-in), by signing in, or in this chat while it stays open.

The web chat starts it from a case's "Get updates" button for a person who is not signed in
(``bot.dialogs.cases.case_view``): a web session ends when its tab closes and is deleted after a
day idle, so a promise to write "here" alone would be broken. The code goes through the outbox
(``core.contacts``); the address is confirmed only when the person types it back, with the
attempt limits and expiry of the email sign-in codes.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from typing import Any, Final

from bot.dialogs.accounts.common import (
    Secret,
    code_sent_recently_text,
    mailed_code_refused_text,
    parse_six_digits,
)
from bot.dialogs.base import (
    Button,
    Dialog,
    End,
    Flow,
    Next,
    Prompt,
    Start,
    Stay,
    Step,
    Transition,
)
from bot.dialogs.context import Context
from bot.wording.errors import PHONE_EXAMPLE, describe_error
from bot.wording.i18n import N_
from core.accounts.email_codes import RESEND_COOLDOWN
from core.cases.service import subscribe
from core.contacts.service import Choice, confirm_contact, normalize_address, request_contact
from core.errors import CodeExpired, CodeReused, InvalidCode, RateLimited, TooManyAttempts

__all__ = ["ARG_CHANNEL", "ARG_RECEIPT", "FLOW", "NAME", "State", "get_updates_dialog"]

NAME: Final = "get_updates"
ARG_RECEIPT: Final = "receipt"
ARG_CHANNEL: Final = "channel"  # "email" or "sms": ask for that address at once
SIGN_IN_FLOW: Final = "link_account"
EMAIL: Final = "email"
SMS: Final = "sms"
SIGN_IN: Final = "sign_in"
HERE: Final = "here"
RESEND: Final = "resend"
OTHER: Final = "other"
RESEND_COOLDOWN_SECONDS: Final = int(RESEND_COOLDOWN.total_seconds())


class State(enum.Enum):
    CHOOSE = "choose"
    ADDRESS = "address"
    CODE = "code"


def _receipt(ctx: Context) -> str:
    return str(ctx.data.get(ARG_RECEIPT) or "")


def _channel(ctx: Context) -> str:
    return SMS if ctx.data.get("channel") == SMS else EMAIL


async def _follow_here(ctx: Context) -> None:
    await subscribe(ctx.uow, _receipt(ctx), channel=ctx.channel, chat_id=ctx.chat_id)


def get_updates_dialog(available: Collection[str] = ()) -> Dialog[State]:
    """The flow; it offers to sign in when ``available`` holds the sign-in flow."""
    can_sign_in = SIGN_IN_FLOW in available

    def choose_prompt(ctx: Context) -> Prompt:
        choices = [Button(ctx._("By email"), EMAIL), Button(ctx._("By text message"), SMS)]
        if can_sign_in:
            choices.append(Button(ctx._("Sign in"), SIGN_IN))
        choices.append(Button(ctx._("Only in this chat"), HERE))
        text = ctx._(
            "How would you like to get updates about {receipt}? An email or a text message "
            "reaches you even after you close this chat."
        ).format(receipt=_receipt(ctx))
        return Prompt(text, choices)

    async def choose(ctx: Context, value: str) -> Transition:
        if value in (EMAIL, SMS):
            ctx.data["channel"] = value
            return Next(State.ADDRESS)
        if value == SIGN_IN and can_sign_in:
            return Start(SIGN_IN_FLOW)
        if value == HERE:
            await _follow_here(ctx)
            ctx.say(
                ctx._(
                    "Done. I will send you a message here when the status of {receipt} "
                    "changes, but only while this chat stays open."
                ).format(receipt=_receipt(ctx))
            )
            return End()
        return Stay()

    async def enter(ctx: Context) -> Transition | None:
        # From Notifications (signed in): the channel is chosen already, no case to follow.
        if ctx.data.get("channel") in (EMAIL, SMS):
            return Next(State.ADDRESS)
        return None

    async def signed_in(ctx: Context, _result: Any) -> Transition:
        if await ctx.account_id() is None:
            return Stay()
        await _follow_here(ctx)
        ctx.say(
            ctx._(
                "Done. While you are signed in, I will send you a message here when the status "
                "of {receipt} changes. To get emails or text messages too, choose "
                "Notifications in the menu."
            ).format(receipt=_receipt(ctx))
        )
        return End()

    def address_prompt(ctx: Context) -> Prompt:
        if _channel(ctx) == SMS:
            text = ctx._(
                "Please type your US mobile number, for example {example}. We will text you a "
                "code to confirm it."
            ).format(example=PHONE_EXAMPLE)
        else:
            text = ctx._("Please type your email address. We will send you a code to confirm it.")
        return Prompt(text)

    def parse_address(ctx: Context, text: str) -> str:
        return normalize_address(_channel(ctx), text)  # InvalidEmail, InvalidPhoneNumber

    async def send_code(ctx: Context) -> bool:
        """Have a code sent; False when this chat asked for too many codes this hour."""
        address = str(ctx.data["address"])
        requester = f"{ctx.channel}:{ctx.chat_id}"
        try:
            await request_contact(
                ctx.uow, _channel(ctx), address, locale=ctx.locale, requester=requester
            )
        except RateLimited as limited:
            if limited.retry_after_seconds > RESEND_COOLDOWN_SECONDS:
                ctx.say(describe_error(ctx, limited))
                return False
            ctx.say(code_sent_recently_text(ctx, limited.retry_after_seconds))
            return True
        if _channel(ctx) == SMS:
            ctx.say(
                ctx._("We have sent a 6-digit code by text message to {number}.").format(
                    number=address
                )
            )
        else:
            ctx.say(
                ctx._("We have sent a 6-digit code to {email}. It works for 10 minutes.").format(
                    email=address
                )
            )
        return True

    async def got_address(ctx: Context, address: str) -> Transition:
        ctx.data["address"] = address
        return Next(State.CODE) if await send_code(ctx) else Stay()

    def code_prompt(ctx: Context) -> Prompt:
        other = ctx._("Use another number") if _channel(ctx) == SMS else ctx._("Use another email")
        return Prompt(
            ctx._("Please type the 6-digit code we sent you."),
            [Button(ctx._("Send a new code"), RESEND), Button(other, OTHER)],
        )

    async def got_code(ctx: Context, value: Secret | str) -> Transition:
        if value == RESEND:
            await send_code(ctx)
            return Stay()
        if value == OTHER:
            return Next(State.ADDRESS)
        if not isinstance(value, Secret):
            return Stay()
        channel, address = _channel(ctx), str(ctx.data["address"])
        choice = Choice(
            locale=ctx.locale,
            account_id=await ctx.account_id(),
            chat_channel=ctx.channel,
            chat_id=ctx.chat_id,
            receipt_number=_receipt(ctx) or None,
        )
        try:
            await confirm_contact(ctx.uow, channel, address, value.text, choice)
        except (InvalidCode, CodeExpired, CodeReused, TooManyAttempts) as error:
            ctx.say(mailed_code_refused_text(ctx, error))
            return Stay()  # the turn is committed: a wrong try counts
        if not _receipt(ctx):
            done = ctx._("Done. {address} will get the updates you choose under Notifications.")
        elif channel == SMS:
            done = ctx._(
                "Done. We will text {address} when the status of {receipt} changes. Reply STOP "
                "to a text to stop them."
            )
        else:
            done = ctx._(
                "Done. We will email {address} when the status of {receipt} changes. Every "
                "email has a link to stop them."
            )
        ctx.say(done.format(address=address, receipt=_receipt(ctx)))
        return End()

    return Dialog(
        name=NAME,
        states=State,
        initial=State.CHOOSE,
        sensitive=True,
        purpose=N_("get updates about a case"),
        steps={
            State.CHOOSE: Step(
                prompt=choose_prompt,
                handle=choose,
                resume=signed_in,
                enter=enter,
                goes_to=(State.ADDRESS,),
                starts=(SIGN_IN_FLOW,) if can_sign_in else (),
            ),
            State.ADDRESS: Step(
                prompt=address_prompt,
                parse=parse_address,
                handle=got_address,
                goes_to=(State.CODE,),
                help=N_(
                    "We use your email address or mobile number only to tell you about the "
                    "cases you choose. You can stop at any time."
                ),
            ),
            State.CODE: Step(
                prompt=code_prompt,
                parse=parse_six_digits,
                handle=got_code,
                secret=True,
                input_kind="digits",
                goes_to=(State.ADDRESS,),
            ),
        },
    )


FLOW: Final = Flow(NAME, get_updates_dialog)
