"""Creating an account: email, the mailed code, a password, reset questions, the account type,
then an authenticator app and the backup code; the chat ends signed in.

``register_account`` needs the code, the password and every answer at once, so they are kept
sealed (``bot.sealed``) until the account type is chosen; the account is created then. The new
app is confirmed with a code it shows, then the backup code is shown once and this chat is
signed in. It ends with ``{"account_id": id}``.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from typing import Any, Final

from bot.context import Context
from bot.dialogs.account_common import (
    QUESTION_LABELS,
    QUESTION_TEXTS,
    Secret,
    authenticator_retry_text,
    backup_code_text,
    code_mail,
    confirm_authenticator,
    enrolment_prompt,
    forget_secrets,
    keep_secrets,
    kept_secrets,
    no_code_tips,
    parse_six_digits,
    wait_text,
)
from bot.dialogs.base import Choice, Dialog, End, Next, Prompt, Replace, Stay, Step, Transition
from bot.errors import describe_error
from bot.i18n import N_
from core.accounts.email_codes import verify_email_code
from core.accounts.links import link_chat
from core.accounts.models import AccountKind, CodePurpose
from core.accounts.policy import check_password, validate_email
from core.accounts.questions import RESET_QUESTION_IDS, validate_answers
from core.accounts.service import issue_verification_code, register_account
from core.errors import (
    CodeExpired,
    CodeReused,
    EmailTaken,
    InvalidCode,
    RateLimited,
    TooManyAttempts,
)

__all__ = ["MIN_QUESTIONS", "State", "create_account_dialog"]

MIN_QUESTIONS: Final = 2
SIGN_IN: Final = "sign_in"
FORGOT: Final = "forgot"
RESEND: Final = "resend"
OTHER_EMAIL: Final = "other_email"
DONE: Final = "done"
QUESTION: Final = "q:"


class State(enum.Enum):
    EMAIL = "email"
    CODE = "code"
    PASSWORD = "password"  # noqa: S105  (a state, not a secret)
    QUESTIONS = "questions"
    ANSWER = "answer"
    KIND = "kind"
    AUTHENTICATOR = "authenticator"


def _email(ctx: Context) -> str:
    email = ctx.data.get("email")
    return email if isinstance(email, str) else ""


def _answered(ctx: Context) -> list[str]:
    answered = ctx.data.get("answered")
    return [q for q in answered if q in QUESTION_TEXTS] if isinstance(answered, list) else []


async def _send_code(ctx: Context, email: str, available: Collection[str]) -> bool:
    """Mail a verification code. False when the email has an account (said, with a way on)."""
    try:
        issued = await issue_verification_code(ctx.uow, email)
    except EmailTaken as error:
        choices = [Choice(ctx._("Reset my password"), FORGOT)]
        if "link_account" in available:
            choices.insert(0, Choice(ctx._("Sign in"), SIGN_IN))
        choices.append(Choice(ctx._("Use another email"), OTHER_EMAIL))
        ctx.say(describe_error(ctx, error), choices)
        return False
    except RateLimited as limited:
        ctx.say(
            ctx._(
                "We sent a code a moment ago. Please use that one, or ask for a new code in {time}."
            ).format(time=wait_text(ctx, limited.retry_after_seconds))
        )
        return True
    ctx.send_mail(code_mail(ctx, issued))
    ctx.say(
        ctx._("We have sent a 6-digit code to {email}. It works for 10 minutes.").format(
            email=issued.email
        )
    )
    return True


def _step_email(available: Collection[str]) -> Step:
    async def handle(ctx: Context, value: str) -> Transition:
        if value == SIGN_IN and "link_account" in available:
            return Replace("link_account")
        if value == FORGOT:
            return Replace("forgot_password", {"email": _email(ctx)} if _email(ctx) else {})
        if value == OTHER_EMAIL:
            return Stay()
        ctx.data["email"] = value
        forget_secrets(ctx)
        ctx.data.pop("answered", None)
        if await _send_code(ctx, value, available):
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
        starts=("forgot_password", "link_account")
        if "link_account" in available
        else ("forgot_password",),
    )


def _step_code(available: Collection[str]) -> Step:
    async def handle(ctx: Context, value: Secret | str) -> Transition:
        email = _email(ctx)
        if value == OTHER_EMAIL or not email:
            return Next(State.EMAIL)
        if value == RESEND:
            ctx.say(no_code_tips(ctx))
            await _send_code(ctx, email, available)
            return Stay()
        if not isinstance(value, Secret):
            return Stay()
        try:
            await verify_email_code(
                ctx.services.uow_factory, email, CodePurpose.VERIFY_EMAIL, value.text, consume=False
            )
        except InvalidCode as error:
            if error.attempts_left:
                ctx.say(
                    ctx.ngettext(
                        "That code is not right. You have {n} more try.",
                        "That code is not right. You have {n} more tries.",
                        error.attempts_left,
                    ).format(n=error.attempts_left)
                )
            else:
                ctx.say(ctx._('That code cannot be used any more. Press "Send a new code".'))
            return Stay()
        except (CodeExpired, CodeReused, TooManyAttempts):
            ctx.say(ctx._('That code cannot be used any more. Press "Send a new code".'))
            return Stay()
        keep_secrets(ctx, code=value.text)
        # Back here after the code expired at the last step: everything else is kept.
        kept = kept_secrets(ctx) or {}
        if kept.get("password") and len(kept.get("answers") or {}) >= MIN_QUESTIONS:
            return Next(State.KIND)
        return Next(State.PASSWORD)

    return Step(
        prompt=lambda ctx: Prompt(
            ctx._("Please type the 6-digit code from the email."),
            [
                Choice(ctx._("Send a new code"), RESEND),
                Choice(ctx._("Use another email"), OTHER_EMAIL),
            ],
        ),
        parse=parse_six_digits,
        handle=handle,
        secret=True,
        goes_to=(State.EMAIL, State.PASSWORD, State.KIND),
    )


async def _handle_password(ctx: Context, value: Secret | str) -> Transition:
    if not isinstance(value, Secret):
        return Stay()
    keep_secrets(ctx, password=value.text)
    return Next(State.QUESTIONS)


def _parse_password(ctx: Context, text: str) -> Secret:
    check_password(text, _email(ctx))  # raises WeakPassword, which says why
    return Secret(text)


# --- reset questions -------------------------------------------------------------------------


def _questions_prompt(ctx: Context) -> Prompt:
    answered = _answered(ctx)
    choices = [
        Choice(ctx._(QUESTION_LABELS[q]), QUESTION + q)
        for q in RESET_QUESTION_IDS
        if q not in answered
    ]
    if len(answered) >= MIN_QUESTIONS:
        choices.insert(0, Choice(ctx._("Done"), DONE))
        text = ctx.ngettext(
            "You have answered {n} security question. You can add another one, or press Done.",
            "You have answered {n} security questions. You can add another one, or press Done.",
            len(answered),
        ).format(n=len(answered))
    else:
        text = ctx._(
            "If you forget your password, we will ask you one of your security questions. "
            "Please choose a question to answer ({n} of {total}).",
        ).format(n=len(answered) + 1, total=MIN_QUESTIONS)
    return Prompt(text, choices)


async def _handle_questions(ctx: Context, value: str) -> Transition:
    if value == DONE and len(_answered(ctx)) >= MIN_QUESTIONS:
        return Next(State.KIND)
    question = value.removeprefix(QUESTION)
    if value.startswith(QUESTION) and question in QUESTION_TEXTS:
        ctx.data["question"] = question
        return Next(State.ANSWER)
    return Stay()


def _answer_prompt(ctx: Context) -> str:
    question = QUESTION_TEXTS.get(str(ctx.data.get("question")), QUESTION_TEXTS["first_pet"])
    return ctx._(
        "{question}\nPlease type your answer. Keep it simple: you will need it later."
    ).format(question=ctx._(question))


def _parse_answer(ctx: Context, text: str) -> Secret:
    validate_answers({str(ctx.data.get("question")): text})  # InvalidResetAnswer: empty or long
    return Secret(text)


async def _handle_answer(ctx: Context, value: Secret | str) -> Transition:
    question = str(ctx.data.get("question"))
    if not isinstance(value, Secret) or question not in QUESTION_TEXTS:
        return Next(State.QUESTIONS)
    answers: dict[str, Any] = dict((kept_secrets(ctx) or {}).get("answers") or {})
    answers[question] = value.text
    keep_secrets(ctx, answers=answers)
    ctx.data["answered"] = [*(q for q in _answered(ctx) if q != question), question]
    ctx.data.pop("question", None)
    return Next(State.QUESTIONS)


# --- account type, registration --------------------------------------------------------------


def _kind_prompt(ctx: Context) -> Prompt:
    return Prompt(
        ctx._("Last question: what kind of account is it?"),
        [
            Choice(ctx._("Applicant, petitioner or requestor"), AccountKind.APPLICANT.value),
            Choice(ctx._("Legal representative"), AccountKind.REPRESENTATIVE.value),
        ],
    )


def _step_kind(available: Collection[str]) -> Step:
    async def handle(ctx: Context, value: str) -> Transition:
        if isinstance(ctx.data.get("account_id"), int):
            return Next(State.AUTHENTICATOR)  # created already (came back here)
        try:
            kind = AccountKind(value)
        except ValueError:
            return Stay()
        kept = kept_secrets(ctx)
        answers = (kept or {}).get("answers") or {}
        if kept is None or not kept.get("password") or len(answers) < MIN_QUESTIONS:
            ctx.say(ctx._("Sorry, that took too long. Let's start again."))
            forget_secrets(ctx)
            ctx.data.pop("answered", None)
            return Next(State.EMAIL)
        try:
            registration = await register_account(
                ctx.services.uow_factory,
                email=_email(ctx),
                password=kept["password"],
                reset_answers=answers,
                email_code=str(kept.get("code", "")),
                kind=kind,
            )
        except (InvalidCode, CodeExpired, CodeReused, TooManyAttempts):
            keep_secrets(ctx, code=None)
            ctx.say(ctx._("The email code expired before we finished. Here is a new one."))
            await _send_code(ctx, _email(ctx), available)
            return Next(State.CODE)
        except EmailTaken as error:
            forget_secrets(ctx)
            ctx.say(describe_error(ctx, error))
            return End()
        ctx.data["account_id"] = registration.account_id
        keep_secrets(ctx, code=None, password=None, answers=None, backup=registration.backup_code)
        ctx.say(ctx._("Your account is created."))
        return Next(State.AUTHENTICATOR)

    return Step(
        prompt=_kind_prompt,
        handle=handle,
        goes_to=(State.AUTHENTICATOR, State.CODE, State.EMAIL),
    )


# --- authenticator app, backup code, signed in -----------------------------------------------


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
    backup = (kept_secrets(ctx) or {}).get("backup")
    forget_secrets(ctx)
    if isinstance(backup, str):
        ctx.say(backup_code_text(ctx, backup))
    await link_chat(ctx.uow, account_id, ctx.channel, ctx.chat_id)
    ctx.forget_account()
    ctx.say(ctx._("Your authenticator app is set up, and you are signed in. Welcome!"))
    return End(result={"account_id": account_id})


def create_account_dialog(available: Collection[str]) -> Dialog[State]:
    """The registration dialog; it offers to sign in when ``link_account`` is in ``available``
    (the names of the registered dialogs)."""
    return Dialog(
        name="create_account",
        states=State,
        initial=State.EMAIL,
        sensitive=True,
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
            State.QUESTIONS: Step(
                prompt=_questions_prompt,
                handle=_handle_questions,
                goes_to=(State.ANSWER, State.KIND),
            ),
            State.ANSWER: Step(
                prompt=_answer_prompt,
                parse=_parse_answer,
                handle=_handle_answer,
                secret=True,
                goes_to=(State.QUESTIONS,),
                help=N_("Capital letters, accents and extra spaces in answers do not matter."),
            ),
            State.KIND: _step_kind(available),
            State.AUTHENTICATOR: Step(
                prompt=_authenticator_prompt,
                parse=lambda ctx, text: Secret(text),
                handle=_handle_authenticator,
                secret=True,
            ),
        },
    )
