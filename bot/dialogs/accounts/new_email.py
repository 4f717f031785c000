"""The email of a new account: mailing the code that proves it is the person's, and the ways on
when the email has an account already (sign in, reset the password, use another email)."""

from __future__ import annotations

import enum
from collections.abc import Collection
from typing import Final, TypeVar

from bot.dialogs.accounts.common import code_mail, code_sent_recently_text
from bot.dialogs.base import Button, Next, Prompt, Replace, Stay, Step, Transition
from bot.dialogs.context import Context
from bot.wording.errors import describe_error
from core.accounts.service import issue_verification_code
from core.errors import EmailTaken, RateLimited

__all__ = [
    "FORGOT",
    "OTHER_EMAIL",
    "SIGN_IN",
    "email_of",
    "send_code",
    "taken_starts",
    "taken_step",
    "taken_way_on",
]

S = TypeVar("S", bound=enum.Enum)

SIGN_IN: Final = "sign_in"
FORGOT: Final = "forgot"
OTHER_EMAIL: Final = "other_email"


def email_of(ctx: Context) -> str:
    """The email typed so far ("" before)."""
    email = ctx.data.get("email")
    return email if isinstance(email, str) else ""


def _taken_choices(ctx: Context, available: Collection[str]) -> list[Button]:
    choices = [Button(ctx._("Reset my password"), FORGOT)]
    if "link_account" in available:
        choices.insert(0, Button(ctx._("Sign in"), SIGN_IN))
    choices.append(Button(ctx._("Use another email"), OTHER_EMAIL))
    return choices


def taken_starts(available: Collection[str]) -> tuple[str, ...]:
    """The flows the ways on from a taken email may start."""
    if "link_account" in available:
        return ("forgot_password", "link_account")
    return ("forgot_password",)


def taken_way_on(ctx: Context, value: str, available: Collection[str]) -> Transition | None:
    """Sign in or reset the password for the taken email, when that is what ``value`` asks;
    None otherwise."""
    if value == SIGN_IN and "link_account" in available:
        return Replace("link_account")
    if value == FORGOT:
        email = email_of(ctx)
        return Replace("forgot_password", {"email": email} if email else {})
    return None


async def send_code(ctx: Context, email: str, available: Collection[str]) -> bool:
    """Mail a verification code. False when the email has an account (said, with a way on)."""
    try:
        issued = await issue_verification_code(ctx.uow, email)
    except EmailTaken as error:
        ctx.say(describe_error(ctx, error), _taken_choices(ctx, available))
        return False
    except RateLimited as limited:
        ctx.say(code_sent_recently_text(ctx, limited.retry_after_seconds))
        return True
    ctx.send_mail(code_mail(ctx, issued), code=issued)
    ctx.say(
        ctx._("We have sent a 6-digit code to {email}. It works for 10 minutes.").format(
            email=issued.email
        )
    )
    return True


def taken_step(available: Collection[str], *, email: S) -> Step[str]:
    """The email got an account while this one was being made (elsewhere, at the same time);
    another email goes back to ``email``."""

    def prompt(ctx: Context) -> Prompt:
        return Prompt(describe_error(ctx, EmailTaken()), _taken_choices(ctx, available))

    async def handle(ctx: Context, value: str) -> Transition:
        way_on = taken_way_on(ctx, value, available)
        if way_on is not None:
            return way_on
        if value == OTHER_EMAIL:
            return Next(email)
        return Stay()

    return Step(prompt=prompt, handle=handle, goes_to=(email,), starts=taken_starts(available))
