"""Signing in ("link account"): email, password, then the second factor; or signing out.

The password is checked by ``start_sign_in`` and never kept: between steps the dialog keeps
only the email and, once the password was right, the challenge's account id and code method.
The second factor is the authenticator code, the mailed or the texted code (by the account's
method) or the backup code (the step is in ``second_factor``); ``complete_sign_in`` links this
chat to the account. The dialog then shows the person's cases and ends with
``{"account_id": id}``, so a flow that asked for a sign-in continues where it was.

When the chat is signed in already, the first step says as whom and offers to sign out.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from datetime import datetime
from typing import Any, Final

from bot.dialogs.accounts.common import Secret
from bot.dialogs.accounts.second_factor import (
    clear_lock,
    code_step,
    locked_until,
    note_lock,
    open_code_step,
)
from bot.dialogs.accounts.signed_in import mask_email
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
from bot.wording.errors import minutes_text, minutes_until
from bot.wording.i18n import N_
from core.accounts.links import get_account, unlink_chat
from core.accounts.policy import MIN_PASSWORD_LENGTH, validate_email
from core.accounts.signin import SignInChallenge, start_sign_in
from core.errors import (
    AccountLocked,
    InvalidCredentials,
    InvalidEmail,
)

__all__ = ["FLOW", "NAME", "State", "link_account_dialog", "mask_email"]

NAME: Final = "link_account"

HELP_DIALOG: Final = "account_help"
# Button values (short: they travel in the button payload).
SIGN_OUT: Final = "sign_out"
KEEP: Final = "keep"
FORGOT: Final = "forgot"
OTHER_EMAIL: Final = "other_email"
RETRY: Final = "retry"


class State(enum.Enum):
    EMAIL = "email"
    PASSWORD = "password"  # noqa: S105  (a state, not a secret)
    CODE = "code"
    LOCKED = "locked"


# --- email (or: already signed in) -----------------------------------------------------------


async def _signed_in_email(ctx: Context) -> str | None:
    account_id = await ctx.account_id()
    if account_id is None:
        return None
    return (await get_account(ctx.uow, account_id)).email


async def _email_prompt(ctx: Context) -> Prompt:
    email = await _signed_in_email(ctx)
    if email is not None:
        text = ctx._("You are signed in as {email}. Do you want to sign out?").format(
            email=mask_email(email)
        )
        return Prompt(
            text,
            [Button(ctx._("Sign out"), SIGN_OUT), Button(ctx._("Keep me signed in"), KEEP)],
        )
    return Prompt(ctx._("To sign in, please type the email address of your USCIS online account."))


async def _parse_email(ctx: Context, text: str) -> str:
    if await ctx.account_id() is not None:
        raise ValueError(ctx._("Please choose one of the options below."))
    try:
        return validate_email(text)
    except InvalidEmail:
        # The engine adds the example; the general wording of InvalidEmail has one already.
        raise ValueError(ctx._("That does not look like an email address.")) from None


async def _handle_email(ctx: Context, value: str) -> Transition:
    if value == SIGN_OUT:
        if await unlink_chat(ctx.uow, ctx.channel, ctx.chat_id):
            ctx.forget_account()
            ctx.say(ctx._("You are signed out. This chat is no longer linked to your account."))
        return Stay()
    if value == KEEP:
        account_id = await ctx.account_id()
        if account_id is None:
            return Stay()
        ctx.say(ctx._("All right, you stay signed in."))
        return End(result={"account_id": account_id})
    if "@" not in value:  # a button of an older version; nothing to do
        return Stay()
    ctx.data.clear()
    ctx.data["email"] = value
    return Next(State.PASSWORD)


# --- password --------------------------------------------------------------------------------


def _parse_password(ctx: Context, text: str) -> Secret:
    # No account has a shorter password (the policy's minimum), so a slip of the keyboard does
    # not cost a counted failure toward the lockout. It says nothing about any account.
    if len(text) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            ctx._("Passwords have at least {n} characters. Please type your password.").format(
                n=MIN_PASSWORD_LENGTH
            )
        )
    return Secret(text)


async def _start_code_step(ctx: Context, challenge: SignInChallenge) -> Transition:
    await open_code_step(ctx, challenge)
    return Next(State.CODE)


def _locked(ctx: Context, until: datetime) -> Transition:
    note_lock(ctx, until)
    return Next(State.LOCKED)


def _password_step(available: Collection[str]) -> Step[Secret]:
    offers_help = HELP_DIALOG in available

    def prompt(ctx: Context) -> Prompt:
        email = ctx.data.get("email")
        text = (
            ctx._("Please type your password for {email}.").format(email=mask_email(email))
            if isinstance(email, str)
            else ctx._("Please type your password.")
        )
        choices = [Button(ctx._("Forgot password?"), FORGOT)] if offers_help else []
        choices.append(Button(ctx._("Use another email"), OTHER_EMAIL))
        return Prompt(text, choices)

    async def handle(ctx: Context, value: Secret | str) -> Transition:
        email = ctx.data.get("email")
        if value == OTHER_EMAIL or not isinstance(email, str):
            return Next(State.EMAIL)
        if value == FORGOT and offers_help:
            return Start(HELP_DIALOG, then=State.PASSWORD)
        if not isinstance(value, Secret):
            return Stay()
        try:
            await ctx.spend_password_check()  # a refusal is said by the engine
            challenge = await start_sign_in(
                ctx.services.uow_factory,
                email,
                value.text,
                ctx.channel,
                ctx.chat_id,
                locale=ctx.locale,
            )
        except InvalidCredentials:
            # The same words for an unknown email: the answer must not tell who has an account.
            ctx.say(ctx._("The email or password is not right. Please check them and try again."))
            return Stay()
        except AccountLocked as locked:
            return _locked(ctx, locked.until)
        return await _start_code_step(ctx, challenge)

    async def resume(ctx: Context, result: Any) -> Transition:
        # Back from the password help: signed in there already, or sign in with the new password.
        ctx.forget_account()
        account_id = await ctx.account_id()
        if (
            account_id is not None
            and isinstance(result, dict)
            and result.get("account_id") == account_id
        ):
            return End(result={"account_id": account_id})
        return Stay()

    return Step(
        prompt=prompt,
        parse=_parse_password,
        handle=handle,
        secret=True,
        goes_to=(State.EMAIL, State.CODE, State.LOCKED),
        starts=(HELP_DIALOG,) if offers_help else (),
        resume=resume if offers_help else None,
        help=N_(
            "Type the password of your USCIS online account. It is hidden and never kept "
            'in this chat. Type "menu" to stop.'
        ),
    )


# --- locked ----------------------------------------------------------------------------------


def _locked_step(available: Collection[str]) -> Step[str]:
    offers_help = HELP_DIALOG in available

    def prompt(ctx: Context) -> Prompt:
        end = locked_until(ctx)
        if end is None or end <= ctx.now():
            return Prompt(
                ctx._("Your account is not locked any more. You can try again now."),
                [Button(ctx._("Try again"), RETRY)],
            )
        text = ctx._(
            "Your account is locked for {time} after too many wrong tries. This keeps it safe."
        ).format(time=minutes_text(ctx, minutes_until(ctx, end)))
        if offers_help:
            text += "\n" + ctx._(
                "You can wait and sign in again later, or reset your password to unlock it now."
            )
            return Prompt(text, [Button(ctx._("Reset my password"), FORGOT)])
        text += "\n" + ctx._(
            "Please wait and sign in again later. If you need help now, call the USCIS Contact "
            "Center at {phone} (TTY {tty})."
        ).format(phone=ctx.services.contact_phone, tty=ctx.services.contact_tty)
        return Prompt(text)

    async def handle(ctx: Context, value: str) -> Transition:
        if value == FORGOT and offers_help:
            clear_lock(ctx)
            return Start(HELP_DIALOG, then=State.PASSWORD)
        end = locked_until(ctx)
        if value == RETRY and (end is None or end <= ctx.now()):
            clear_lock(ctx)
            return Next(State.PASSWORD)
        return Stay()

    return Step(
        prompt=prompt,
        handle=handle,
        goes_to=(State.PASSWORD,),
        starts=(HELP_DIALOG,) if offers_help else (),
    )


def link_account_dialog(available: Collection[str]) -> Dialog[State]:
    """The sign-in dialog; it offers the password help when ``account_help`` is in
    ``available`` (the names of the registered dialogs)."""
    return Dialog(
        name=NAME,
        topic_action="link_account",
        states=State,
        initial=State.EMAIL,
        sensitive=True,
        title=N_("Sign in"),
        purpose=N_("sign in to your account"),
        intent="link_account",
        signed_out_only=True,
        steps={
            State.EMAIL: Step(
                prompt=_email_prompt,
                parse=_parse_email,
                handle=_handle_email,
                example=N_("name@example.com"),
                goes_to=(State.PASSWORD,),
                help=N_(
                    "Type the email address you use for your USCIS online account. Next I will "
                    "ask for your password and a one-time code."
                ),
            ),
            State.PASSWORD: _password_step(available),
            State.CODE: code_step(password=State.PASSWORD, email=State.EMAIL, locked=State.LOCKED),
            State.LOCKED: _locked_step(available),
        },
    )


FLOW: Final = Flow(NAME, link_account_dialog)
