"""Signing in without the usual one-time code: with the backup code when the phone or the
authenticator app is lost, or with a new mailed code when the first one did not come.

Email, password (``start_sign_in``, never kept), then the code: the backup code (or, for the
resend case, the mailed code or the app's code); ``complete_sign_in`` signs this chat in. A used
backup code is replaced by a new one. After a lost phone the person may set up a new app
(``change_otp_method``), which issues yet another backup code: only the last one is shown, so
the question is asked before the sign-in. Data ``{"why": "resend"}`` is the missing-code case.
It ends with ``{"account_id": id}``.

An account that gets its codes by text message is offered "Send a code to my phone" (its number
was proved when it was enrolled): after a lost authenticator the phone may still get texts. Its
code is texted only when asked, or at once in the missing-code case.
"""

from __future__ import annotations

import enum
from typing import Final

from bot.dialogs.accounts.common import (
    Secret,
    authenticator_retry_text,
    code_mail,
    confirm_authenticator,
    enrolment_prompt,
    no_code_tips,
    say_backup_code,
)
from bot.dialogs.accounts.second_factor import (
    BY_EMAIL,
    RESEND_TEXT,
    mask_number,
    resend_code,
    sms_choices,
    texts_stopped_text,
)
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
from bot.wording.errors import describe_error
from bot.wording.i18n import N_
from bot.wording.local_input import NO, YES
from core.accounts.backup_codes import looks_like_backup_code
from core.accounts.models import OtpMethod
from core.accounts.otp import normalize_digits
from core.accounts.policy import validate_email
from core.accounts.service import change_otp_method
from core.accounts.signin import complete_sign_in, start_sign_in
from core.errors import (
    AccountLocked,
    CodeExpired,
    CodeReused,
    InvalidCode,
    InvalidCredentials,
    TooManyAttempts,
)

__all__ = ["FLOW", "State", "lost_device_dialog"]

FORGOT: Final = "forgot"
NEW_APP: Final = "new_app"
LATER: Final = "later"
RESEND: Final = "resend"
# Not anyone's code (the demo account's is 7K3Q-9WXM-2PLD): only its shape matters.
BACKUP_EXAMPLE: Final = "4F7K-2MQX-9WRT"


class State(enum.Enum):
    EMAIL = "email"
    PASSWORD = "password"  # noqa: S105  (a state, not a secret)
    NEW_APP = "new_app"
    CODE = "code"
    AUTHENTICATOR = "authenticator"


def _resend(ctx: Context) -> bool:
    return ctx.data.get("why") == RESEND


def _locked(ctx: Context, error: AccountLocked) -> Transition:
    ctx.say(describe_error(ctx, error), [Button(ctx._("Reset my password"), FORGOT)])
    return Stay()


def _forgot(ctx: Context) -> Transition:
    email = ctx.data.get("email")
    return Replace("forgot_password", {"email": email} if isinstance(email, str) else {})


# --- email and password ----------------------------------------------------------------------


def _email_prompt(ctx: Context) -> str:
    if _resend(ctx):
        return ctx._(
            "To get a new sign-in code, please sign in again: what is the email address of "
            "your account?"
        )
    return ctx._(
        "You can sign in with your backup code instead of the code from your phone. What is "
        "the email address of your account?"
    )


async def _handle_email(ctx: Context, value: str) -> Transition:
    ctx.data["email"] = value
    return Next(State.PASSWORD)


def _parse_secret(ctx: Context, text: str) -> Secret:
    return Secret(text)


async def _handle_password(ctx: Context, value: Secret | str) -> Transition:
    email = ctx.data.get("email")
    if value == FORGOT:
        return _forgot(ctx)
    if not isinstance(value, Secret) or not isinstance(email, str):
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
            send_text=_resend(ctx),
        )
    except InvalidCredentials:
        # The same words for an unknown email: the answer must not tell who has an account.
        ctx.say(ctx._("The email or password is not right. Please check them and try again."))
        return Stay()
    except AccountLocked as error:
        return _locked(ctx, error)
    ctx.data["account_id"] = challenge.account_id
    ctx.data["method"] = challenge.method.value
    if challenge.sms_number is not None:
        ctx.data["number"] = mask_number(challenge.sms_number)
        ctx.data["texts_stopped"] = challenge.texts_stopped
        if challenge.texts_stopped:
            ctx.say(texts_stopped_text(ctx, mask_number(challenge.sms_number)))
        elif _resend(ctx):
            ctx.say(
                ctx._("We have sent a 6-digit code by text message to {number}.").format(
                    number=ctx.data["number"]
                )
            )
    elif challenge.email_code is not None:
        ctx.send_mail(code_mail(ctx, challenge.email_code), code=challenge.email_code)
        ctx.say(ctx._("We have sent a new 6-digit code to {email}.").format(email=email))
    elif challenge.method is OtpMethod.EMAIL:
        ctx.say(ctx._("We sent you a code less than a minute ago. It still works."))
    return Next(State.CODE if _resend(ctx) else State.NEW_APP)


# --- a new app? ------------------------------------------------------------------------------


def _new_app_prompt(ctx: Context) -> Prompt:
    return Prompt(
        ctx._(
            "Your password is right. Once you are signed in, do you want to set up an "
            "authenticator app on your new phone? We recommend it."
        ),
        [
            Button(ctx._("Yes, set up a new app"), NEW_APP, YES),
            Button(ctx._("Not now"), LATER, NO),
        ],
    )


async def _handle_new_app(ctx: Context, value: str) -> Transition:
    ctx.data["new_app"] = value == NEW_APP
    return Next(State.CODE)


# --- the code --------------------------------------------------------------------------------


def _code_prompt(ctx: Context) -> Prompt:
    if ctx.data.get("method") == OtpMethod.SMS.value:
        choices = sms_choices(ctx)
        if not ctx.data.get("texts_stopped"):
            choices = [Button(ctx._("Send a code to my phone"), RESEND_TEXT)]
        return Prompt(
            ctx._(
                "Please type the 6-digit code from the text message, or your backup code (like "
                "{example})."
            ).format(example=BACKUP_EXAMPLE),
            choices,
        )
    if not _resend(ctx):
        return Prompt(
            ctx._("Please type your backup code. It looks like {example}.").format(
                example=BACKUP_EXAMPLE
            )
        )
    if ctx.data.get("method") == OtpMethod.EMAIL.value:
        return Prompt(
            ctx._(
                "Please type the 6-digit code from the email, or your backup code.\n\n{tips}"
            ).format(tips=no_code_tips(ctx)),
            [Button(ctx._("Send a new code"), RESEND)],
        )
    return Prompt(
        ctx._(
            "Your account gets its codes from an authenticator app, not by email. Please type "
            "the 6-digit code the app shows now, or your backup code if you lost your phone."
        )
    )


def _parse_code(ctx: Context, text: str) -> Secret:
    digits = normalize_digits(text)
    if looks_like_backup_code(text) or (len(digits) == 6 and digits.isdigit()):
        return Secret(text)
    if _resend(ctx) or ctx.data.get("method") == OtpMethod.SMS.value:
        raise ValueError(ctx._("Please type the 6-digit code, or your backup code."))
    raise ValueError(
        ctx._("A backup code has 12 letters and digits, like {example}.").format(
            example=BACKUP_EXAMPLE
        )
    )


async def _handle_code(ctx: Context, value: Secret | str) -> Transition:
    if value == FORGOT:
        return _forgot(ctx)
    if value == RESEND:
        ctx.say(ctx._("To send a new code, please type your password again."))
        return Next(State.PASSWORD)
    if value in (RESEND_TEXT, BY_EMAIL):
        sent = await resend_code(ctx, value)
        if sent is not None:
            return sent
        ctx.say(ctx._("That took too long. Please type your password again."))
        return Next(State.PASSWORD)
    account_id = ctx.data.get("account_id")
    if not isinstance(value, Secret) or not isinstance(account_id, int):
        return Stay()
    try:
        result = await complete_sign_in(
            ctx.services.uow_factory, account_id, value.text, ctx.channel, ctx.chat_id
        )
    except InvalidCode as error:
        left = error.attempts_left
        if left:
            ctx.say(
                ctx.ngettext(
                    "That code is not right. After {n} more wrong try, the account is locked.",
                    "That code is not right. After {n} more wrong tries, the account is locked.",
                    left,
                ).format(n=left)
            )
        else:
            ctx.say(describe_error(ctx, error))
        return Stay()
    except CodeReused as error:
        ctx.say(describe_error(ctx, error))
        return Stay()
    except (CodeExpired, TooManyAttempts):
        ctx.say(ctx._("That took too long. Please type your password again."))
        return Next(State.PASSWORD)
    except AccountLocked as error:
        return _locked(ctx, error)
    ctx.forget_account()
    ctx.say(ctx._("You are signed in."))
    if ctx.data.get("new_app"):
        enrolment = await change_otp_method(
            ctx.services.uow_factory, account_id, OtpMethod.AUTHENTICATOR
        )
        # Shown now, with the new key: this backup code replaces the one just used, and it
        # must not be lost if the person stops before the app is set up.
        say_backup_code(ctx, enrolment.backup_code)
        return Next(State.AUTHENTICATOR)
    if result.new_backup_code is not None:
        say_backup_code(
            ctx,
            result.new_backup_code,
            intro=ctx._("You used your backup code, so here is a new one.") + "\n\n",
        )
    return End(result={"account_id": account_id})


# --- the new app -----------------------------------------------------------------------------


async def _authenticator_prompt(ctx: Context) -> Prompt:
    account_id = ctx.data.get("account_id")
    return await enrolment_prompt(ctx, account_id if isinstance(account_id, int) else 0)


async def _handle_authenticator(ctx: Context, value: Secret | str) -> Transition:
    account_id = ctx.data.get("account_id")
    if not isinstance(value, Secret) or not isinstance(account_id, int):
        return Stay()
    try:
        await confirm_authenticator(ctx, account_id, value.text)
    except (InvalidCode, CodeReused):
        ctx.say(authenticator_retry_text(ctx))
        return Stay()
    ctx.say(ctx._("Your new authenticator app is set up. Use its codes from now on."))
    return End(result={"account_id": account_id})


lost_device_dialog: Dialog[State] = Dialog(
    name="lost_device",
    topic_action="lost_device",
    states=State,
    initial=State.EMAIL,
    sensitive=True,
    steps={
        State.EMAIL: Step(
            prompt=_email_prompt,
            parse=lambda ctx, text: validate_email(text),
            handle=_handle_email,
            example=N_("name@example.com"),
            goes_to=(State.PASSWORD,),
        ),
        State.PASSWORD: Step(
            prompt=lambda ctx: Prompt(
                ctx._("Please type your password."),
                [Button(ctx._("Forgot password?"), FORGOT)],
            ),
            parse=_parse_secret,
            handle=_handle_password,
            secret=True,
            goes_to=(State.NEW_APP, State.CODE),
            starts=("forgot_password",),
        ),
        State.NEW_APP: Step(prompt=_new_app_prompt, handle=_handle_new_app, goes_to=(State.CODE,)),
        State.CODE: Step(
            prompt=_code_prompt,
            parse=_parse_code,
            handle=_handle_code,
            secret=True,
            input_kind="code",
            goes_to=(State.PASSWORD, State.AUTHENTICATOR),
            starts=("forgot_password",),
            help=N_(
                "Your backup code was shown once when you set up your account, and it looks "
                "like 4F7K-2MQX-9WRT. If you cannot find it, call the USCIS Contact Center."
            ),
        ),
        State.AUTHENTICATOR: Step(
            prompt=_authenticator_prompt,
            parse=lambda ctx, text: Secret(text),
            handle=_handle_authenticator,
            secret=True,
            input_kind="digits",
        ),
    },
)


FLOW: Final = Flow.of(lost_device_dialog)
