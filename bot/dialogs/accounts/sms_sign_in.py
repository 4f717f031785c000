"""Sign-in codes by text message, for a signed-in person: their US mobile number, then the code
texted to it (``core.accounts.sms_codes``); once it is typed back, the account's sign-in codes
come by text to that number. Opened from Notifications.
"""

from __future__ import annotations

import enum
from typing import Final

from bot.dialogs.accounts.common import (
    Secret,
    code_sent_recently_text,
    mailed_code_refused_text,
    parse_six_digits,
)
from bot.dialogs.accounts.second_factor import texts_stopped_text
from bot.dialogs.base import Button, Dialog, End, Flow, Next, Prompt, Stay, Step, Transition
from bot.dialogs.context import Context
from bot.wording.errors import PHONE_EXAMPLE, describe_error
from bot.wording.i18n import N_
from core.accounts.email_codes import RESEND_COOLDOWN
from core.accounts.sms_codes import confirm_sms_enrolment, request_sms_enrolment
from core.contacts.phone import parse_us_mobile
from core.errors import (
    CodeExpired,
    CodeReused,
    InvalidCode,
    RateLimited,
    TextsStopped,
    TooManyAttempts,
)

__all__ = ["FLOW", "NAME", "State", "sms_sign_in_dialog"]

NAME: Final = "sms_sign_in"
RESEND: Final = "resend"
OTHER: Final = "other"
RESEND_COOLDOWN_SECONDS: Final = int(RESEND_COOLDOWN.total_seconds())


class State(enum.Enum):
    NUMBER = "number"
    CODE = "code"


def _number_prompt(ctx: Context) -> Prompt:
    return Prompt(
        ctx._(
            "Please type the US mobile number for your sign-in codes, for example {example}. "
            "We will text you a code to confirm it."
        ).format(example=PHONE_EXAMPLE)
    )


async def _send_code(ctx: Context) -> bool:
    """Text a code to the number; False when it cannot go (the reason is said)."""
    account_id = await ctx.account_id()
    number = str(ctx.data.get("number", ""))
    if account_id is None or not number:
        return False
    try:
        await request_sms_enrolment(ctx.uow, account_id, number, locale=ctx.locale)
    except TextsStopped as stopped:
        ctx.say(texts_stopped_text(ctx, stopped.number))
        return False
    except RateLimited as limited:
        if limited.retry_after_seconds > RESEND_COOLDOWN_SECONDS:
            ctx.say(describe_error(ctx, limited))
            return False
        ctx.say(code_sent_recently_text(ctx, limited.retry_after_seconds))
        return True
    ctx.say(ctx._("We have sent a 6-digit code by text message to {number}.").format(number=number))
    return True


async def _got_number(ctx: Context, number: str) -> Transition:
    if await ctx.account_id() is None:
        return End()
    ctx.data["number"] = number
    return Next(State.CODE) if await _send_code(ctx) else Stay()


def _code_prompt(ctx: Context) -> Prompt:
    return Prompt(
        ctx._("Please type the 6-digit code we sent you."),
        [
            Button(ctx._("Send a new code"), RESEND),
            Button(ctx._("Use another number"), OTHER),
        ],
    )


async def _got_code(ctx: Context, value: Secret | str) -> Transition:
    if value == RESEND:
        await _send_code(ctx)
        return Stay()
    if value == OTHER:
        return Next(State.NUMBER)
    account_id = await ctx.account_id()
    number = str(ctx.data.get("number", ""))
    if not isinstance(value, Secret) or account_id is None or not number:
        return Stay()
    try:
        await confirm_sms_enrolment(ctx.services.uow_factory, account_id, number, value.text)
    except (InvalidCode, CodeExpired, CodeReused, TooManyAttempts) as error:
        ctx.say(mailed_code_refused_text(ctx, error))
        return Stay()
    ctx.say(
        ctx._("Done. Your sign-in codes will now come by text message to {number}.").format(
            number=number
        )
    )
    return End()


sms_sign_in_dialog: Dialog[State] = Dialog(
    name=NAME,
    states=State,
    initial=State.NUMBER,
    sensitive=True,
    purpose=N_("get your sign-in codes by text message"),
    signed_in_only=True,
    steps={
        State.NUMBER: Step(
            prompt=_number_prompt,
            parse=lambda ctx, text: parse_us_mobile(text),  # InvalidPhoneNumber
            handle=_got_number,
            goes_to=(State.CODE,),
        ),
        State.CODE: Step(
            prompt=_code_prompt,
            parse=parse_six_digits,
            handle=_got_code,
            secret=True,
            input_kind="digits",
            goes_to=(State.NUMBER,),
        ),
    },
)


FLOW: Final = Flow.of(sms_sign_in_dialog)
