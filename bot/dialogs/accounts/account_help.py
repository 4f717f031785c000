"""Password and sign-in help: what went wrong, then the flow that fixes it.

The first step offers: a forgotten password (``forgot_password``), a locked account (explained
here, with a reset as the way out), a code that did not come (tips, then a new code from the
flow it belongs to), a lost phone or authenticator (``lost_device``) and a new account
(``create_account``). Each of those flows takes this one's place, so whatever started the help
(the menu, or the sign-in flow's "Forgot password?") continues when it ends.

The lock is explained in general: how long one lasts for a given email would tell whether that
email has an account. Only a chat signed in as the account is told its own lock's end.
"""

from __future__ import annotations

import enum
from typing import Final

from bot.dialogs.accounts.common import no_code_tips
from bot.dialogs.base import (
    Button,
    Dialog,
    End,
    Flow,
    Next,
    Prompt,
    Replace,
    Stay,
    Step,
    Transition,
)
from bot.dialogs.context import Context
from bot.understanding import account_help_topic
from bot.wording.errors import minutes_until
from bot.wording.i18n import N_
from core.accounts.links import get_account
from core.accounts.lockout import FIRST_LOCKOUT, MAX_FAILURES

__all__ = ["FLOW", "State", "account_help_dialog"]

FORGOT: Final = "forgot"
LOCKED: Final = "locked"
NO_CODE: Final = "no_code"
LOST: Final = "lost"
CREATE: Final = "create"
WAIT: Final = "wait"
SIGN_IN_CODE: Final = "sign_in_code"
RESET_CODE: Final = "reset_code"
NEW_ACCOUNT_CODE: Final = "new_account_code"
FLOWS: Final = ("forgot_password", "lost_device", "create_account")


class State(enum.Enum):
    CHOOSE = "choose"
    LOCKED = "locked"
    NO_CODE = "no_code"


def _choose_prompt(ctx: Context) -> Prompt:
    return Prompt(
        ctx._("What do you need help with?"),
        [
            Button(ctx._("I forgot my password"), FORGOT),
            Button(ctx._("My account is locked"), LOCKED),
            Button(ctx._("I did not get my code"), NO_CODE),
            Button(ctx._("I lost my phone / authenticator"), LOST),
            Button(ctx._("Create an account"), CREATE),
        ],
    )


async def _handle_choose(ctx: Context, value: str) -> Transition:
    if value == FORGOT:
        return Replace("forgot_password")
    if value == LOST:
        return Replace("lost_device")
    if value == CREATE:
        return Replace("create_account")
    if value == LOCKED:
        return Next(State.LOCKED)
    if value == NO_CODE:
        return Next(State.NO_CODE)
    return Stay()


async def _locked_prompt(ctx: Context) -> Prompt:
    first = int(FIRST_LOCKOUT.total_seconds() // 60)
    text = ctx._(
        "After {tries} wrong tries in a row, an account is locked for {minutes} minutes, to "
        "keep it safe. If it happens again, each lock lasts longer ({double} minutes, then "
        "more, up to 24 hours).\n\n"
        "You can wait and then sign in again, or reset your password now: a reset unlocks "
        "the account at once."
    ).format(tries=MAX_FAILURES, minutes=first, double=first * 2)
    account_id = await ctx.account_id()
    if account_id is not None:
        account = await get_account(ctx.uow, account_id)
        until = account.locked_until
        if until is not None and until > ctx.now():
            n = minutes_until(ctx, until)
            text += "\n\n" + ctx.ngettext(
                "Your account is locked for {n} more minute.",
                "Your account is locked for {n} more minutes.",
                n,
            ).format(n=n)
    return Prompt(
        text,
        [
            Button(ctx._("Reset my password now"), FORGOT),
            Button(ctx._("I will wait"), WAIT),
        ],
    )


async def _handle_locked(ctx: Context, value: str) -> Transition:
    if value == FORGOT:
        return Replace("forgot_password")
    if value == WAIT:
        ctx.say(ctx._("All right. When the lock ends, you can sign in again."))
        return End()
    return Stay()


def _no_code_prompt(ctx: Context) -> Prompt:
    return Prompt(
        ctx._("Sorry the code did not come.")
        + "\n\n"
        + no_code_tips(ctx)
        + "\n\n"
        + ctx._("Which code did you not get? We can send a new one."),
        [
            Button(ctx._("The code to sign in"), SIGN_IN_CODE),
            Button(ctx._("The code to reset my password"), RESET_CODE),
            Button(ctx._("The code to create an account"), NEW_ACCOUNT_CODE),
        ],
    )


async def _handle_no_code(ctx: Context, value: str) -> Transition:
    if value == SIGN_IN_CODE:
        return Replace("lost_device", {"why": "resend"})
    if value == RESET_CODE:
        return Replace("forgot_password")
    if value == NEW_ACCOUNT_CODE:
        return Replace("create_account")
    return Stay()


account_help_dialog: Dialog[State] = Dialog(
    name="account_help",
    states=State,
    initial=State.CHOOSE,
    sensitive=True,
    title=N_("Password and sign-in help"),
    purpose=N_("get help with your password or sign-in"),
    intent="password_reset",
    refine=account_help_topic,
    steps={
        State.CHOOSE: Step(
            prompt=_choose_prompt,
            handle=_handle_choose,
            goes_to=(State.LOCKED, State.NO_CODE),
            starts=FLOWS,
            help=N_(
                "Choose what happened, and I will help you get back into your account or "
                "create a new one."
            ),
        ),
        State.LOCKED: Step(prompt=_locked_prompt, handle=_handle_locked, starts=FLOWS),
        State.NO_CODE: Step(prompt=_no_code_prompt, handle=_handle_no_code, starts=FLOWS),
    },
)


FLOW: Final = Flow.of(account_help_dialog)
