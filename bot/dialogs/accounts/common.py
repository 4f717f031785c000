"""What the account-help flows share: secrets kept sealed between turns, the wording of the
reset questions, of waits and of mailed codes, and enrolling an authenticator app.

The flows themselves are account_help (the first choice, a locked account, a missing code),
forgot_password, lost_device and create_account.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from bot.dialogs.accounts.qr import qr_png
from bot.dialogs.accounts.sealed import open_sealed, seal
from bot.dialogs.base import Prompt
from bot.dialogs.context import Context
from bot.dialogs.model import Attachment
from bot.wording.i18n import N_
from core.accounts.email_codes import IssuedCode
from core.accounts.links import get_account
from core.accounts.models import CodePurpose
from core.accounts.otp import normalize_digits, provisioning_uri, verify_totp
from core.accounts.totp_store import totp_secret_of
from core.errors import CodeExpired, InvalidCode
from core.ports import OutgoingMail

__all__ = [
    "QUESTION_LABELS",
    "QUESTION_TEXTS",
    "SEALED_MAX_AGE",
    "Secret",
    "authenticator_retry_text",
    "backup_code_text",
    "code_mail",
    "code_sent_recently_text",
    "confirm_authenticator",
    "enrolment_prompt",
    "forget_secrets",
    "keep_secrets",
    "kept_secrets",
    "mailed_code_refused_text",
    "no_code_tips",
    "parse_six_digits",
    "say_backup_code",
    "secret_enrolment_prompt",
    "wait_text",
]

# Longer than a mailed code lives (10 minutes) and than a sensitive flow may idle (15): a seal
# outlives neither the flow nor the code it carries by much.
SEALED_MAX_AGE: Final = timedelta(minutes=30)
_SEALED: Final = "sealed"

# The reset questions of core.accounts.questions, worded (the core keeps only their ids).
QUESTION_TEXTS: Final = {
    "first_pet": N_("What was the name of your first pet?"),
    "birth_city": N_("In what city were you born?"),
    "first_school": N_("What was the name of your first school?"),
    "childhood_street": N_("What street did you live on as a child?"),
    "favorite_teacher": N_("What was the name of your favorite teacher?"),
}
# Short forms for buttons.
QUESTION_LABELS: Final = {
    "first_pet": N_("First pet"),
    "birth_city": N_("City of birth"),
    "first_school": N_("First school"),
    "childhood_street": N_("Childhood street"),
    "favorite_teacher": N_("Favorite teacher"),
}


@dataclass(frozen=True, slots=True)
class Secret:
    """Typed secret text (a code, a password, an answer), told apart from a pressed button's
    value; hidden from repr so that it cannot reach a log by accident."""

    text: str = field(repr=False)


# --- sealed secrets --------------------------------------------------------------------------


def kept_secrets(ctx: Context) -> dict[str, Any] | None:
    """The secrets this flow sealed earlier; {} when it kept none, None when they can no longer
    be opened (too old, or the key changed): the flow must ask for them again."""
    token = ctx.data.get(_SEALED)
    if not isinstance(token, str):
        return {}
    return open_sealed(ctx.services.secret_key, token, ctx.now(), SEALED_MAX_AGE)


def keep_secrets(ctx: Context, **values: Any) -> None:
    """Add secrets to the flow's sealed ones (a value of None removes that secret)."""
    kept = kept_secrets(ctx) or {}
    kept.update(values)
    kept = {name: value for name, value in kept.items() if value is not None}
    if kept:
        ctx.data[_SEALED] = seal(ctx.services.secret_key, kept, ctx.now())
    else:
        ctx.data.pop(_SEALED, None)


def forget_secrets(ctx: Context) -> None:
    ctx.data.pop(_SEALED, None)


# --- wording ---------------------------------------------------------------------------------


def wait_text(ctx: Context, seconds: int) -> str:
    """ "45 seconds", "2 minutes"."""
    if seconds < 60:
        n = max(1, seconds)
        return ctx.ngettext("{n} second", "{n} seconds", n).format(n=n)
    n = math.ceil(seconds / 60)
    return ctx.ngettext("{n} minute", "{n} minutes", n).format(n=n)


def code_sent_recently_text(ctx: Context, retry_after_seconds: int) -> str:
    """A new mailed code was asked for too soon after the last one."""
    return ctx._(
        "We sent a code a moment ago. Please use that one, or ask for a new code in {time}."
    ).format(time=wait_text(ctx, retry_after_seconds))


def mailed_code_refused_text(ctx: Context, error: Exception) -> str:
    """Why a mailed code was refused (wrong, with the tries left; expired; or spent), and what
    to do: type it again, or press "Send a new code"."""
    if isinstance(error, InvalidCode) and error.attempts_left:
        return ctx.ngettext(
            "That code is not right. You have {n} more try.",
            "That code is not right. You have {n} more tries.",
            error.attempts_left,
        ).format(n=error.attempts_left)
    if isinstance(error, CodeExpired):
        return ctx._('That code has expired: codes work for 10 minutes. Press "Send a new code".')
    return ctx._('That code cannot be used any more. Press "Send a new code".')


def no_code_tips(ctx: Context) -> str:
    return ctx._(
        "Some tips:\n"
        "- Look in your spam or junk folder.\n"
        "- Check that it is the email address you used for your account.\n"
        "- An email can take a minute or two to arrive.\n"
        "- Each new code replaces the one before: use the newest one."
    )


def code_mail(ctx: Context, issued: IssuedCode) -> OutgoingMail:
    """The email that carries a code, worded for its purpose."""
    minutes = 10
    if issued.purpose is CodePurpose.RESET:
        subject = ctx._("Your password reset code")
        body = ctx._(
            "Your code to reset your password is {code}. It works for {minutes} minutes.\n\n"
            "If you did not ask for it, you can ignore this email: your password stays the same."
        )
    elif issued.purpose is CodePurpose.VERIFY_EMAIL:
        subject = ctx._("Your email confirmation code")
        body = ctx._(
            "Your code to confirm this email address is {code}. It works for {minutes} "
            "minutes.\n\nIf you did not ask to create an account, you can ignore this email."
        )
    else:
        subject = ctx._("Your sign-in code")
        body = ctx._(
            "Your sign-in code is {code}. It works for {minutes} minutes.\n\n"
            "If you did not try to sign in, please change your password."
        )
    return OutgoingMail(
        to=issued.email, subject=subject, body=body.format(code=issued.code, minutes=minutes)
    )


def parse_six_digits(ctx: Context, text: str) -> Secret:
    """A 6-digit code as typed (spaces, dashes and any script's digits allowed).

    Raises:
        ValueError: not 6 digits.
    """
    digits = normalize_digits(text)
    if len(digits) != 6 or not digits.isascii() or not digits.isdigit():
        raise ValueError(ctx._("Please type the 6 digits of the code."))
    return Secret(digits)


def say_backup_code(ctx: Context, code: str, intro: str = "") -> None:
    """Show a new backup code once: transcripts keep the message with the code hidden."""
    ctx.say(
        intro + backup_code_text(ctx, code), kept_text=intro + backup_code_text(ctx, ctx.hidden())
    )


def backup_code_text(ctx: Context, code: str) -> str:
    return ctx._(
        "Your backup code is:\n{code}\n\n"
        "Write it down now and keep it in a safe place. It is shown only this once. If you "
        "lose your phone, you can sign in with it instead of the code from the app. Each "
        "backup code works once; then you get a new one."
    ).format(code=code)


# --- authenticator app -----------------------------------------------------------------------


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


async def enrolment_prompt(ctx: Context, account_id: int) -> Prompt:
    """Show the account's authenticator secret as a QR code and as text, and ask for a code."""
    account = await get_account(ctx.uow, account_id)
    return secret_enrolment_prompt(ctx, totp_secret_of(ctx.uow, account) or "", account.email)


def secret_enrolment_prompt(ctx: Context, secret: str, email: str) -> Prompt:
    """Show an authenticator secret (the account's, or one drawn for an account not yet made)
    as a QR code and as text, and ask for a code. An empty secret shows no image."""
    image = Attachment(
        kind="image",
        name="authenticator.png",
        content_type="image/png",
        data=qr_png(provisioning_uri(secret, email)) if secret else b"",
    )
    text = ctx._(
        "Now set up your authenticator app (for example Google Authenticator or Microsoft "
        "Authenticator): add an account in the app and scan this QR code.\n\n"
        "If you cannot scan it, choose to enter a key by hand and type this key:\n{key}\n\n"
        "Then type the 6-digit code that the app shows, so we know it works."
    )
    return Prompt(
        text.format(key=_grouped(secret)),
        attachments=(image,) if secret else (),
        kept_text=text.format(key=ctx.hidden()),
    )


async def confirm_authenticator(ctx: Context, account_id: int, code: str) -> None:
    """Check a code from the newly set-up app and record its time step (so the same code cannot
    sign in later).

    Raises:
        InvalidCode: the code is wrong. CodeReused: it was accepted once already.
    """
    account = await get_account(ctx.uow, account_id)
    secret = totp_secret_of(ctx.uow, account)
    if secret is None:
        raise InvalidCode()
    account.totp_last_step = verify_totp(secret, code, ctx.now(), account.totp_last_step)


def authenticator_retry_text(ctx: Context) -> str:
    return ctx._(
        "That code is not right. Check that you added the new key, and that the time on your "
        "phone is set automatically. Then type the code the app shows now."
    )
