"""The sign-in's second step, after a right password: the code (from the authenticator app,
the mailed code, the texted code, or the backup code), and what the person is told when it is
refused.

For the text-message method the step offers "Send a new code" (the 60-second wait of email
codes) and, when the number replied STOP, says so and offers the code by email instead.

Between turns the dialog's data keeps only the challenge's account id and code method (never a
code), the number's last 4 digits and whether its texts are stopped; after a lock, until when the
account is locked.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Final, TypeVar

from bot.dialogs.accounts.common import Secret, code_mail, code_sent_recently_text
from bot.dialogs.accounts.signed_in import mask_email, welcome
from bot.dialogs.base import Button, End, Next, Prompt, Stay, Step, Transition
from bot.dialogs.context import Context
from bot.wording.i18n import N_
from core.accounts.backup_codes import looks_like_backup_code
from core.accounts.models import OtpMethod
from core.accounts.otp import normalize_digits
from core.accounts.signin import SignInChallenge, complete_sign_in, send_sign_in_code
from core.errors import (
    AccountLocked,
    AccountNotFound,
    CodeExpired,
    CodeReused,
    InvalidCode,
    RateLimited,
    TextsStopped,
    TooManyAttempts,
)
from core.ports import OutgoingMail

__all__ = [
    "BY_EMAIL",
    "RESEND_TEXT",
    "clear_lock",
    "code_step",
    "locked_until",
    "mask_number",
    "note_lock",
    "open_code_step",
    "resend_code",
    "texts_stopped_text",
]

S = TypeVar("S", bound=enum.Enum)

RESEND_TEXT: Final = "resend_text"  # button values
BY_EMAIL: Final = "by_email"


def mask_number(number: str) -> str:
    """Enough of a number to recognise it: ``(•••) •••-0123``."""
    return f"(•••) •••-{number[-4:]}"


def texts_stopped_text(ctx: Context, number: str) -> str:
    return ctx._(
        "Texts to {number} are stopped: STOP was sent from that phone. Reply START from it to "
        "get texts again."
    ).format(number=number)


def _sms_code_text(ctx: Context) -> str:
    return ctx._(
        "We sent a 6-digit code by text message to {number}. Please type that code, or your "
        "backup code."
    ).format(number=ctx.data.get("number", ""))


def sms_choices(ctx: Context) -> list[Button]:
    """The buttons of a code step for the text method."""
    if ctx.data.get("texts_stopped"):
        return [Button(ctx._("Send the code by email"), BY_EMAIL)]
    return [Button(ctx._("Send a new code"), RESEND_TEXT)]


async def resend_code(ctx: Context, value: str) -> Transition | None:
    """Handle the text method's buttons (``RESEND_TEXT``, ``BY_EMAIL``): send the code again,
    by text or by email. None: not one of them, or no challenge (sign in again)."""
    account_id = ctx.data.get("account_id")
    if value not in (RESEND_TEXT, BY_EMAIL) or not isinstance(account_id, int):
        return None
    by_email = value == BY_EMAIL
    try:
        issued = await send_sign_in_code(
            ctx.services.uow_factory,
            account_id,
            ctx.channel,
            ctx.chat_id,
            locale=ctx.locale,
            by_email=by_email,
        )
    except RateLimited as limited:
        ctx.say(code_sent_recently_text(ctx, limited.retry_after_seconds))
        return Stay()
    except TextsStopped:
        ctx.data["texts_stopped"] = True
        ctx.say(texts_stopped_text(ctx, str(ctx.data.get("number", ""))))
        return Stay()
    except (CodeExpired, InvalidCode, AccountLocked):
        return None
    if by_email:
        ctx.data["texts_stopped"] = False
        ctx.data["method"] = OtpMethod.EMAIL.value  # the code is in the mail now
        ctx.send_mail(code_mail(ctx, issued), code=issued)
        ctx.say(ctx._("We have sent a new 6-digit code to {email}.").format(
            email=mask_email(issued.email)
        ))  # fmt: skip
    else:
        ctx.say(
            ctx._("We have sent a 6-digit code by text message to {number}.").format(
                number=ctx.data.get("number", "")
            )
        )
    return Stay()


async def open_code_step(ctx: Context, challenge: SignInChallenge) -> None:
    """Keep the challenge for the code step, and mail the code when the account gets codes by
    email (or say that the one mailed a moment ago still works). For the text method the code
    was queued already; when its number replied STOP, say so (the prompt offers email)."""
    ctx.data["account_id"] = challenge.account_id
    ctx.data["method"] = challenge.method.value
    if challenge.sms_number is not None:
        ctx.data["number"] = mask_number(challenge.sms_number)
        ctx.data["texts_stopped"] = challenge.texts_stopped
        if challenge.texts_stopped:
            ctx.say(texts_stopped_text(ctx, mask_number(challenge.sms_number)))
        return
    if challenge.method is not OtpMethod.EMAIL:
        return
    issued = challenge.email_code
    if issued is None:
        ctx.say(ctx._("We sent you a code less than a minute ago. Please use that code."))
        return
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


def note_lock(ctx: Context, until: datetime) -> None:
    """The account is locked: forget the challenge, keep until when."""
    ctx.data.pop("account_id", None)
    ctx.data.pop("method", None)
    ctx.data["locked_until"] = until.isoformat()


def locked_until(ctx: Context) -> datetime | None:
    raw = ctx.data.get("locked_until")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


def clear_lock(ctx: Context) -> None:
    ctx.data.pop("locked_until", None)


def _code_prompt(ctx: Context) -> Prompt:
    if ctx.data.get("method") == OtpMethod.SMS.value:
        if ctx.data.get("texts_stopped"):
            text = ctx._("We can email your code instead, or you can type your backup code.")
        else:
            text = _sms_code_text(ctx)
        return Prompt(text, sms_choices(ctx))
    return Prompt(_email_or_app_text(ctx))


def _email_or_app_text(ctx: Context) -> str:
    if ctx.data.get("method") == OtpMethod.EMAIL.value:
        return ctx._(
            "We sent a 6-digit code to {email}. Please type that code, or your backup code."
        ).format(email=mask_email(str(ctx.data.get("email", ""))))
    return ctx._("Please type the 6-digit code from your authenticator app, or your backup code.")


def _parse_code(ctx: Context, text: str) -> Secret:
    digits = normalize_digits(text)
    if (len(digits) == 6 and digits.isascii() and digits.isdigit()) or looks_like_backup_code(text):
        return Secret(text)
    raise ValueError(
        ctx._(
            "That is not a code. A code has 6 digits. A backup code has 12 letters and "
            "numbers in 3 groups of 4."
        )
    )


def _wrong_code_text(ctx: Context, left: int | None) -> str:
    if left is None:
        return ctx._("That code is not right. Please check it and try again.")
    return ctx.ngettext(
        "That code is not right. You can try {n} more time before your account "
        "is locked for a while.",
        "That code is not right. You can try {n} more times before your account "
        "is locked for a while.",
        left,
    ).format(n=left)


def code_step(*, password: S, email: S, locked: S) -> Step[Secret]:
    """The code step. A challenge that expired or ran out of tries goes back to ``password``, a
    lost one to ``email`` (or ``password`` when the email is known), a lock to ``locked``; a
    right code signs the chat in and ends the dialog with ``{"account_id": id}``."""

    async def handle(ctx: Context, value: Secret | str) -> Transition:
        account_id = ctx.data.get("account_id")
        if not isinstance(account_id, int):
            return Next(password) if "email" in ctx.data else Next(email)
        if not isinstance(value, Secret):
            resent = await resend_code(ctx, value)
            if resent is None and value in (RESEND_TEXT, BY_EMAIL):
                ctx.data.pop("account_id", None)
                ctx.say(
                    ctx._(
                        "That took too long and the sign-in expired. Please type your password "
                        "again."
                    )
                )
                return Next(password)
            return resent or Stay()
        try:
            result = await complete_sign_in(
                ctx.services.uow_factory, account_id, value.text, ctx.channel, ctx.chat_id
            )
        except InvalidCode as wrong:
            ctx.say(_wrong_code_text(ctx, wrong.attempts_left))
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
                ctx._(
                    "That took too long and the sign-in expired. Please type your password again."
                )
            )
            return Next(password)
        except TooManyAttempts:
            ctx.data.pop("account_id", None)
            ctx.say(
                ctx._(
                    "That code was typed wrong too many times. Please type your password again, "
                    "and we will send you a new code."
                )
            )
            return Next(password)
        except AccountLocked as lock:
            note_lock(ctx, lock.until)
            return Next(locked)
        except AccountNotFound:
            ctx.data.clear()
            ctx.say(ctx._("We could not find your account. Please sign in again."))
            return Next(email)
        ctx.forget_account()
        await welcome(ctx, result.account_id, result.new_backup_code)
        ctx.data.clear()
        return End(result={"account_id": result.account_id})

    return Step(
        prompt=_code_prompt,
        parse=_parse_code,
        handle=handle,
        secret=True,
        input_kind="code",
        example=N_("123456"),
        goes_to=(password, email, locked),
        help=N_(
            "Type the 6-digit code (from your authenticator app, or from the email or text "
            "message we sent), or the backup code you wrote down when you made your account."
        ),
    )
