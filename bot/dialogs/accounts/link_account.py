"""Signing in ("link account"): email, password, then the second factor; or signing out.

The password is checked by ``start_sign_in`` and never kept: between steps the dialog keeps
only the email and, once the password was right, the challenge's account id and code method.
The second factor is the authenticator code or the mailed code (by the account's method) or
the backup code; ``complete_sign_in`` links this chat to the account. The dialog then shows
the person's cases and ends with ``{"account_id": id}``, so a flow that asked for a sign-in
continues where it was.

When the chat is signed in already, the first step says as whom and offers to sign out.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from bot.dialogs.accounts.signed_in import mask_email, welcome
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
from core.accounts.backup_codes import looks_like_backup_code
from core.accounts.links import get_account, unlink_chat
from core.accounts.models import OtpMethod
from core.accounts.otp import normalize_digits
from core.accounts.policy import MIN_PASSWORD_LENGTH, validate_email
from core.accounts.signin import SignInChallenge, complete_sign_in, start_sign_in
from core.errors import (
    AccountLocked,
    AccountNotFound,
    CodeExpired,
    CodeReused,
    InvalidCode,
    InvalidCredentials,
    InvalidEmail,
    TooManyAttempts,
)
from core.ports import OutgoingMail

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


@dataclass(frozen=True, slots=True)
class _Secret:
    """Typed secret input (a password or a code): kept apart from button values, and out of
    any repr that might reach a log."""

    text: str = field(repr=False)


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


def _parse_password(ctx: Context, text: str) -> _Secret:
    # No account has a shorter password (the policy's minimum), so a slip of the keyboard does
    # not cost a counted failure toward the lockout. It says nothing about any account.
    if len(text) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            ctx._("Passwords have at least {n} characters. Please type your password.").format(
                n=MIN_PASSWORD_LENGTH
            )
        )
    return _Secret(text)


async def _start_code_step(ctx: Context, challenge: SignInChallenge) -> Transition:
    ctx.data["account_id"] = challenge.account_id
    ctx.data["method"] = challenge.method.value
    if challenge.method is OtpMethod.EMAIL:
        issued = challenge.email_code
        if issued is not None:
            ctx.send_mail(
                OutgoingMail(
                    to=issued.email,
                    subject=ctx._("Your sign-in code"),
                    body=ctx._(
                        "Your code to sign in is {code}. It works for 10 minutes.\n\n"
                        "If you did not try to sign in, please change your password."
                    ).format(code=issued.code),
                ),
                code=issued,
            )
        else:
            ctx.say(ctx._("We sent you a code less than a minute ago. Please use that code."))
    return Next(State.CODE)


def _locked(ctx: Context, until: datetime) -> Transition:
    ctx.data.pop("account_id", None)
    ctx.data.pop("method", None)
    ctx.data["locked_until"] = until.isoformat()
    return Next(State.LOCKED)


def _password_step(available: Collection[str]) -> Step[_Secret]:
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

    async def handle(ctx: Context, value: _Secret | str) -> Transition:
        email = ctx.data.get("email")
        if value == OTHER_EMAIL or not isinstance(email, str):
            return Next(State.EMAIL)
        if value == FORGOT and offers_help:
            return Start(HELP_DIALOG, then=State.PASSWORD)
        if not isinstance(value, _Secret):
            return Stay()
        try:
            await ctx.spend_password_check()  # a refusal is said by the engine
            challenge = await start_sign_in(ctx.services.uow_factory, email, value.text)
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


# --- second factor ---------------------------------------------------------------------------


def _code_prompt(ctx: Context) -> str:
    if ctx.data.get("method") == OtpMethod.EMAIL.value:
        return ctx._(
            "We sent a 6-digit code to {email}. Please type that code, or your backup code."
        ).format(email=mask_email(str(ctx.data.get("email", ""))))
    return ctx._("Please type the 6-digit code from your authenticator app, or your backup code.")


def _parse_code(ctx: Context, text: str) -> _Secret:
    digits = normalize_digits(text)
    if (len(digits) == 6 and digits.isascii() and digits.isdigit()) or looks_like_backup_code(text):
        return _Secret(text)
    raise ValueError(
        ctx._(
            "That is not a code. A code has 6 digits. A backup code has 12 letters and "
            "numbers in 3 groups of 4."
        )
    )


async def _handle_code(ctx: Context, value: _Secret | str) -> Transition:
    account_id = ctx.data.get("account_id")
    if not isinstance(account_id, int):
        return Next(State.PASSWORD) if "email" in ctx.data else Next(State.EMAIL)
    if not isinstance(value, _Secret):
        return Stay()
    try:
        result = await complete_sign_in(
            ctx.services.uow_factory, account_id, value.text, ctx.channel, ctx.chat_id
        )
    except InvalidCode as wrong:
        left = wrong.attempts_left
        if left is None:
            ctx.say(ctx._("That code is not right. Please check it and try again."))
        else:
            ctx.say(
                ctx.ngettext(
                    "That code is not right. You can try {n} more time before your account "
                    "is locked for a while.",
                    "That code is not right. You can try {n} more times before your account "
                    "is locked for a while.",
                    left,
                ).format(n=left)
            )
        return Stay()
    except CodeReused:
        ctx.say(
            ctx._(
                "That code was already used. Please wait for the next code in your "
                "authenticator app, then type it."
            )
        )
        return Stay()
    except CodeExpired:
        ctx.data.pop("account_id", None)
        ctx.say(
            ctx._("That took too long and the sign-in expired. Please type your password again.")
        )
        return Next(State.PASSWORD)
    except TooManyAttempts:
        ctx.data.pop("account_id", None)
        ctx.say(
            ctx._(
                "That code was typed wrong too many times. Please type your password again, "
                "and we will send you a new code."
            )
        )
        return Next(State.PASSWORD)
    except AccountLocked as locked:
        return _locked(ctx, locked.until)
    except AccountNotFound:
        ctx.data.clear()
        ctx.say(ctx._("We could not find your account. Please sign in again."))
        return Next(State.EMAIL)
    ctx.forget_account()
    await welcome(ctx, result.account_id, result.new_backup_code)
    ctx.data.clear()
    return End(result={"account_id": result.account_id})


# --- locked ----------------------------------------------------------------------------------


def _locked_step(available: Collection[str]) -> Step[str]:
    offers_help = HELP_DIALOG in available

    def until(ctx: Context) -> datetime | None:
        raw = ctx.data.get("locked_until")
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None

    def prompt(ctx: Context) -> Prompt:
        end = until(ctx)
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
            ctx.data.pop("locked_until", None)
            return Start(HELP_DIALOG, then=State.PASSWORD)
        end = until(ctx)
        if value == RETRY and (end is None or end <= ctx.now()):
            ctx.data.pop("locked_until", None)
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
            State.CODE: Step(
                prompt=_code_prompt,
                parse=_parse_code,
                handle=_handle_code,
                secret=True,
                example=N_("123456"),
                goes_to=(State.PASSWORD, State.EMAIL, State.LOCKED),
                help=N_(
                    "Type the 6-digit code (from your authenticator app, or from the email we "
                    "sent), or the backup code you wrote down when you made your account."
                ),
            ),
            State.LOCKED: _locked_step(available),
        },
    )


FLOW: Final = Flow(NAME, link_account_dialog)
