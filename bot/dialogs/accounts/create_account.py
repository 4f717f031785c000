"""Creating an account: email, the mailed code, a password, reset questions, the account type,
then an authenticator app and the backup code; the chat ends signed in.

``register_account`` needs the code, the password and every answer at once, so they are kept
sealed (``bot.dialogs.accounts.sealed``) between turns. The account is created only once the
authenticator app works: choosing the account type draws the app's secret (kept sealed with the
rest, and kept when the person comes back to that step, so an app that scanned it keeps
working), the next step shows it as a QR code and a key, and a code from the app proves it. Only
then is the account created, already enrolled with that secret; the backup code is shown once
and this chat is signed in. Whoever stops earlier leaves no account behind: an account made
before the app worked could not be signed in to (its backup code never seen), and a password
reset does not restore a second factor. It ends with ``{"account_id": id}``. Mailing the
email's code, and the ways on from an email that has an account, are in ``new_email``.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from typing import Any, Final

from bot.dialogs.accounts.common import (
    Secret,
    authenticator_retry_text,
    forget_secrets,
    keep_secrets,
    kept_secrets,
    mailed_code_refused_text,
    no_code_tips,
    parse_six_digits,
    say_backup_code,
    secret_enrolment_prompt,
)
from bot.dialogs.accounts.new_email import (
    OTHER_EMAIL,
    email_of,
    send_code,
    taken_starts,
    taken_step,
    taken_way_on,
)
from bot.dialogs.accounts.reset_questions import MIN_QUESTIONS, question_steps
from bot.dialogs.base import (
    Button,
    Dialog,
    End,
    Flow,
    Next,
    Prompt,
    Stay,
    Step,
    Transition,
)
from bot.dialogs.context import Context
from bot.wording.i18n import N_
from core.accounts.email_codes import verify_email_code
from core.accounts.links import get_account, link_chat
from core.accounts.models import AccountKind, CodePurpose
from core.accounts.otp import generate_totp_secret, verify_totp
from core.accounts.policy import check_password, validate_email
from core.accounts.service import register_account
from core.errors import (
    CodeExpired,
    CodeReused,
    EmailTaken,
    InvalidCode,
    TooManyAttempts,
)

__all__ = ["FLOW", "MIN_QUESTIONS", "NAME", "State", "create_account_dialog"]

NAME: Final = "create_account"

RESEND: Final = "resend"


class State(enum.Enum):
    EMAIL = "email"
    CODE = "code"
    PASSWORD = "password"  # noqa: S105  (a state, not a secret)
    QUESTIONS = "questions"
    ANSWER = "answer"
    KIND = "kind"
    AUTHENTICATOR = "authenticator"
    TAKEN = "taken"


def _step_email(available: Collection[str]) -> Step[str]:
    async def handle(ctx: Context, value: str) -> Transition:
        way_on = taken_way_on(ctx, value, available)
        if way_on is not None:
            return way_on
        if value == OTHER_EMAIL:
            return Stay()
        ctx.data["email"] = value
        forget_secrets(ctx)
        ctx.data.pop("answered", None)
        ctx.data.pop("kind", None)
        if await send_code(ctx, value, available):
            return Next(State.CODE)
        return Stay(prompt=False)

    return Step(
        prompt=lambda ctx: ctx._(
            "Let's create your account. What email address do you want to use? We will send "
            "a code to it to check that it is yours."
        ),
        parse=lambda ctx, text: validate_email(text),
        handle=handle,
        example=N_("name@example.com"),
        goes_to=(State.CODE,),
        starts=taken_starts(available),
    )


def _step_code(available: Collection[str]) -> Step[Secret]:
    async def handle(ctx: Context, value: Secret | str) -> Transition:
        email = email_of(ctx)
        if value == OTHER_EMAIL or not email:
            return Next(State.EMAIL)
        if value == RESEND:
            ctx.say(no_code_tips(ctx))
            await send_code(ctx, email, available)
            return Stay()
        if not isinstance(value, Secret):
            return Stay()
        try:
            await verify_email_code(
                ctx.services.uow_factory, email, CodePurpose.VERIFY_EMAIL, value.text, consume=False
            )
        except (InvalidCode, CodeExpired, CodeReused, TooManyAttempts) as error:
            ctx.say(mailed_code_refused_text(ctx, error))
            return Stay()
        keep_secrets(ctx, code=value.text)
        # Back here after the code expired at the last step: everything else is kept, and an
        # app already proven is not asked for again.
        kept = kept_secrets(ctx) or {}
        if _ready(kept):
            if _app_proven(kept):
                return await _create(ctx, available, at_code=True)
            return Next(State.KIND)
        return Next(State.PASSWORD)

    return Step(
        prompt=lambda ctx: Prompt(
            ctx._("Please type the 6-digit code from the email."),
            [
                Button(ctx._("Send a new code"), RESEND),
                Button(ctx._("Use another email"), OTHER_EMAIL),
            ],
        ),
        parse=parse_six_digits,
        handle=handle,
        secret=True,
        input_kind="digits",
        goes_to=(State.EMAIL, State.PASSWORD, State.KIND, State.TAKEN),
    )


async def _handle_password(ctx: Context, value: Secret | str) -> Transition:
    if not isinstance(value, Secret):
        return Stay()
    keep_secrets(ctx, password=value.text)
    return Next(State.QUESTIONS)


def _parse_password(ctx: Context, text: str) -> Secret:
    check_password(text, email_of(ctx))  # raises WeakPassword, which says why
    return Secret(text)


# --- account type, authenticator app ---------------------------------------------------------


def _ready(kept: dict[str, Any] | None) -> bool:
    """Whether the password and enough answers are still kept (a seal too old opens to None)."""
    return (
        kept is not None
        and bool(kept.get("password"))
        and len(kept.get("answers") or {}) >= MIN_QUESTIONS
    )


def _app_proven(kept: dict[str, Any]) -> bool:
    return isinstance(kept.get("totp"), str) and isinstance(kept.get("totp_step"), int)


def _start_again(ctx: Context) -> Transition:
    ctx.say(ctx._("Sorry, that took too long. Let's start again."))
    forget_secrets(ctx)
    ctx.data.pop("answered", None)
    ctx.data.pop("kind", None)
    return Next(State.EMAIL)


def _kind_prompt(ctx: Context) -> Prompt:
    return Prompt(
        ctx._("Last question: what kind of account is it?"),
        [
            Button(ctx._("Applicant, petitioner or requestor"), AccountKind.APPLICANT.value),
            Button(ctx._("Legal representative"), AccountKind.REPRESENTATIVE.value),
        ],
    )


async def _handle_kind(ctx: Context, value: str) -> Transition:
    try:
        kind = AccountKind(value)
    except ValueError:
        return Stay()
    kept = kept_secrets(ctx)
    if not _ready(kept):
        return _start_again(ctx)
    ctx.data["kind"] = kind.value
    # Drawn here, not in the prompt (which may be shown again), and only once: someone who came
    # back to this step may have scanned the code already.
    if not isinstance((kept or {}).get("totp"), str):
        keep_secrets(ctx, totp=generate_totp_secret())
    return Next(State.AUTHENTICATOR)


def _authenticator_prompt(ctx: Context) -> Prompt:
    secret = (kept_secrets(ctx) or {}).get("totp")
    return secret_enrolment_prompt(ctx, secret if isinstance(secret, str) else "", email_of(ctx))


def _step_authenticator(available: Collection[str]) -> Step[Secret]:
    async def handle(ctx: Context, value: Secret | str) -> Transition:
        if not isinstance(value, Secret):
            return Stay()
        kept = kept_secrets(ctx)
        secret = (kept or {}).get("totp")
        if not _ready(kept) or not isinstance(secret, str):
            return _start_again(ctx)
        try:
            # No step was accepted for this secret yet, so a right code is never "reused".
            step = verify_totp(secret, value.text, ctx.now(), None)
        except (InvalidCode, CodeReused):
            ctx.say(authenticator_retry_text(ctx))
            return Stay()
        keep_secrets(ctx, totp_step=step)
        return await _create(ctx, available, at_code=False)

    return Step(
        prompt=_authenticator_prompt,
        parse=lambda ctx, text: Secret(text),
        handle=handle,
        secret=True,
        input_kind="digits",
        goes_to=(State.CODE, State.EMAIL, State.TAKEN),
    )


# --- registration, backup code, signed in ----------------------------------------------------


async def _create(ctx: Context, available: Collection[str], *, at_code: bool) -> Transition:
    """Create the account, already enrolled with the proven app, show the backup code once and
    sign this chat in. ``at_code``: called from the email code step (a refused code stays
    there)."""
    kept = kept_secrets(ctx)
    try:
        kind = AccountKind(str(ctx.data.get("kind")))
    except ValueError:
        return _start_again(ctx)
    if kept is None or not _ready(kept) or not _app_proven(kept):
        return _start_again(ctx)
    try:
        registration = await register_account(
            ctx.services.uow_factory,
            email=email_of(ctx),
            password=kept["password"],
            reset_answers=kept["answers"],
            email_code=str(kept.get("code", "")),
            kind=kind,
            totp_secret=kept["totp"],
        )
    except (InvalidCode, CodeExpired, CodeReused, TooManyAttempts):
        keep_secrets(ctx, code=None)
        ctx.say(ctx._("The email code expired before we finished. Here is a new one."))
        await send_code(ctx, email_of(ctx), available)
        return Stay() if at_code else Next(State.CODE)
    except EmailTaken:
        forget_secrets(ctx)
        ctx.data.pop("answered", None)
        ctx.data.pop("kind", None)
        return Next(State.TAKEN)
    account = await get_account(ctx.uow, registration.account_id)
    account.totp_last_step = kept["totp_step"]  # the code that proved the app cannot sign in
    forget_secrets(ctx)
    ctx.say(ctx._("Your account is created."))
    say_backup_code(ctx, registration.backup_code)
    await link_chat(ctx.uow, registration.account_id, ctx.channel, ctx.chat_id)
    ctx.forget_account()
    ctx.say(ctx._("Your authenticator app is set up, and you are signed in. Welcome!"))
    return End(result={"account_id": registration.account_id})


def create_account_dialog(available: Collection[str]) -> Dialog[State]:
    """The registration dialog; it offers to sign in when ``link_account`` is in ``available``
    (the names of the registered dialogs)."""
    return Dialog(
        name=NAME,
        topic_action="create_account",
        states=State,
        initial=State.EMAIL,
        sensitive=True,
        title=N_("Create an account"),
        purpose=N_("create an account"),
        signed_out_only=True,
        steps={
            State.EMAIL: _step_email(available),
            State.CODE: _step_code(available),
            State.PASSWORD: Step(
                prompt=lambda ctx: ctx._(
                    "Choose a password: at least 8 characters. A few words together make a "
                    "password that is strong and easy to remember."
                ),
                parse=_parse_password,
                handle=_handle_password,
                secret=True,
                goes_to=(State.QUESTIONS,),
            ),
            **question_steps(ask=State.QUESTIONS, answer=State.ANSWER, then=State.KIND),
            State.KIND: Step(
                prompt=_kind_prompt,
                handle=_handle_kind,
                goes_to=(State.AUTHENTICATOR, State.EMAIL),
            ),
            State.AUTHENTICATOR: _step_authenticator(available),
            State.TAKEN: taken_step(available, email=State.EMAIL),
        },
    )


FLOW: Final = Flow(NAME, create_account_dialog)
