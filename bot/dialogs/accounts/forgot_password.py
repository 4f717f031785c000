"""Forgotten password: the email, the mailed code, one reset question, a new password.

The answer is the same whether or not the email has an account: a code is issued and mailed
either way (for an unknown address it can never verify, see ``core.accounts.reset``), and a
wrong code reads the same for both. The code and the answer are needed again by the last step,
so they are kept sealed (``bot.dialogs.accounts.sealed``); the new password is never kept.

A reset does not sign this chat in: the mailed code and an answer prove the email, not the
second factor, so the person signs in afterwards with the new password and their code. A chat
signed in as the account already stays signed in; every other chat of the account is signed
out. The dialog may be data ``{"email": ...}`` to offer that address first; it ends with
``{"account_id": id}`` when this chat is signed in as the account.
"""

from __future__ import annotations

import enum
from typing import Final

from bot.dialogs.accounts.common import (
    QUESTION_TEXTS,
    Secret,
    code_mail,
    code_sent_recently_text,
    forget_secrets,
    keep_secrets,
    kept_secrets,
    mailed_code_refused_text,
    no_code_tips,
    parse_six_digits,
)
from bot.dialogs.base import Button, Dialog, End, Flow, Next, Prompt, Stay, Step, Transition
from bot.dialogs.context import Context
from bot.wording.i18n import N_
from bot.wording.local_input import YES
from core.accounts.policy import check_password, validate_email
from core.accounts.questions import MAX_ANSWER_LENGTH, normalize_answer
from core.accounts.reset import check_reset_code, issue_reset_code, reset_password
from core.errors import CodeExpired, CodeReused, InvalidCode, RateLimited, TooManyAttempts
from core.ports import OutgoingMail

__all__ = ["FLOW", "State", "forgot_password_dialog"]


SEND: Final = "send"
RESEND: Final = "resend"
OTHER_EMAIL: Final = "other_email"


class State(enum.Enum):
    EMAIL = "email"
    CODE = "code"
    ANSWER = "answer"
    PASSWORD = "password"  # noqa: S105  (a state, not a secret)


def _email(ctx: Context) -> str:
    email = ctx.data.get("email")
    return email if isinstance(email, str) else ""


async def _send_code(ctx: Context, email: str) -> None:
    """Issue and mail a reset code; the reply is the same whether the account exists or not."""
    try:
        issued = await issue_reset_code(ctx.uow, email)
    except RateLimited as limited:
        ctx.say(code_sent_recently_text(ctx, limited.retry_after_seconds))
        return
    ctx.send_mail(code_mail(ctx, issued), code=issued)
    ctx.say(
        ctx._(
            "If {email} belongs to an account, we have sent a 6-digit code to it. The code "
            "works for 10 minutes."
        ).format(email=issued.email)
    )


# --- email -----------------------------------------------------------------------------------


def _email_prompt(ctx: Context) -> Prompt:
    email = ctx.data.get("email")
    if isinstance(email, str):
        return Prompt(
            ctx._(
                "Shall we send a code to reset your password to {email}? Or type another "
                "email address."
            ).format(email=email),
            [Button(ctx._("Yes, send the code"), SEND, YES)],
        )
    return Prompt(ctx._("To reset your password, please type the email address of your account."))


def _parse_email(ctx: Context, text: str) -> str:
    return validate_email(text)


async def _handle_email(ctx: Context, value: str) -> Transition:
    email = _email(ctx) if value == SEND else value
    if not email:
        return Stay()
    ctx.data["email"] = email
    forget_secrets(ctx)
    await _send_code(ctx, email)
    return Next(State.CODE)


# --- code ------------------------------------------------------------------------------------


def _code_prompt(ctx: Context) -> Prompt:
    return Prompt(
        ctx._("Please type the 6-digit code from the email."),
        [Button(ctx._("Send a new code"), RESEND), Button(ctx._("Use another email"), OTHER_EMAIL)],
    )


async def _handle_code(ctx: Context, value: Secret | str) -> Transition:
    email = _email(ctx)
    if value == OTHER_EMAIL or not email:
        ctx.data.pop("email", None)
        return Next(State.EMAIL)
    if value == RESEND:
        ctx.say(no_code_tips(ctx))
        await _send_code(ctx, email)
        return Stay()
    if not isinstance(value, Secret):
        return Stay()
    try:
        questions = await check_reset_code(ctx.services.uow_factory, email, value.text)
    except (InvalidCode, CodeExpired, CodeReused, TooManyAttempts) as error:
        ctx.say(mailed_code_refused_text(ctx, error))
        return Stay()
    if not questions:
        ctx.say(
            ctx._(
                "Your account has no security questions, so the password cannot be reset "
                "here. Please call the USCIS Contact Center at {phone} (TTY {tty})."
            ).format(phone=ctx.services.contact_phone, tty=ctx.services.contact_tty)
        )
        return End()
    # Always the same question for an account: asking another one on each try would let
    # someone try again until a question they can answer comes up.
    ctx.data["question"] = questions[0]
    keep_secrets(ctx, code=value.text, answer=None)
    return Next(State.ANSWER)


# --- answer ----------------------------------------------------------------------------------


def _answer_prompt(ctx: Context) -> str:
    question = QUESTION_TEXTS.get(str(ctx.data.get("question")))
    if question is None:
        return ctx._("Please type the answer to your security question.")
    return ctx._("Please answer this security question:\n{question}").format(
        question=ctx._(question)
    )


def _parse_answer(ctx: Context, text: str) -> Secret:
    answer = normalize_answer(text)
    if not answer:
        raise ValueError(ctx._("Please type your answer to the question."))
    if len(answer) > MAX_ANSWER_LENGTH:
        raise ValueError(ctx._("That answer is too long. Please type a shorter one."))
    return Secret(text)


async def _start_again(ctx: Context) -> Transition:
    ctx.say(ctx._("Sorry, that took too long. Please ask for a new code."))
    forget_secrets(ctx)
    return Next(State.CODE)


async def _handle_answer(ctx: Context, value: Secret | str) -> Transition:
    if not isinstance(value, Secret):
        return Stay()
    if not (kept_secrets(ctx) or {}).get("code"):
        return await _start_again(ctx)
    keep_secrets(ctx, answer=value.text)
    return Next(State.PASSWORD)


# --- new password ----------------------------------------------------------------------------


def _password_prompt(ctx: Context) -> str:
    return ctx._(
        "Now choose a new password: at least 8 characters. A few words together make a "
        "password that is strong and easy to remember."
    )


def _parse_password(ctx: Context, text: str) -> Secret:
    check_password(text, _email(ctx))  # raises WeakPassword, which says why
    return Secret(text)


async def _handle_password(ctx: Context, value: Secret | str) -> Transition:
    if not isinstance(value, Secret):
        return Stay()
    kept = kept_secrets(ctx) or {}
    email, question = _email(ctx), str(ctx.data.get("question", ""))
    if not kept.get("code") or not kept.get("answer"):
        return await _start_again(ctx)
    try:
        done = await reset_password(
            ctx.services.uow_factory,
            email=email,
            code=kept["code"],
            question_id=question,
            answer=kept["answer"],
            new_password=value.text,
            channel=ctx.channel,
            chat_id=ctx.chat_id,
        )
    except InvalidCode as error:
        # The code was accepted a moment ago, so it is the answer that is wrong.
        keep_secrets(ctx, answer=None)
        if error.attempts_left:
            ctx.say(
                ctx.ngettext(
                    "That answer is not right. You have {n} more try.",
                    "That answer is not right. You have {n} more tries.",
                    error.attempts_left,
                ).format(n=error.attempts_left)
            )
            return Next(State.ANSWER)
        ctx.say(ctx._("That answer is not right, and there are no tries left for this code."))
        forget_secrets(ctx)
        return Next(State.CODE)
    except (CodeExpired, CodeReused, TooManyAttempts) as error:
        ctx.say(mailed_code_refused_text(ctx, error))
        forget_secrets(ctx)
        return Next(State.CODE)
    forget_secrets(ctx)
    ctx.send_mail(
        OutgoingMail(
            to=email,
            subject=ctx._("Your password was changed"),
            body=ctx._(
                "The password of your account {email} was changed on {when}.\n\n"
                "If you did not do this, call the USCIS Contact Center at {phone} "
                "(TTY {tty}) right away."
            ).format(
                email=email,
                when=ctx.t.datetime_in(ctx.now(), "UTC"),
                phone=ctx.services.contact_phone,
                tty=ctx.services.contact_tty,
            ),
        )
    )
    lines = [
        ctx._(
            "Your password is changed. If your account was locked, it is unlocked now. We "
            "sent you an email about the change."
        )
    ]
    if done.signed_out:
        n = len(done.signed_out)
        lines.append(
            ctx.ngettext(
                "For your safety, {n} other chat was signed out of your account.",
                "For your safety, {n} other chats were signed out of your account.",
                n,
            ).format(n=n)
        )
    ctx.forget_account()
    signed_in_here = await ctx.account_id() == done.account_id
    if signed_in_here:
        lines.append(ctx._("This chat stays signed in."))
    else:
        lines.append(
            ctx._(
                "To use your account here, please sign in with your new password and your "
                "one-time code."
            )
        )
    ctx.say("\n\n".join(lines))
    return End(result={"account_id": done.account_id} if signed_in_here else None)


forgot_password_dialog: Dialog[State] = Dialog(
    name="forgot_password",
    topic_action="password_reset",
    states=State,
    initial=State.EMAIL,
    sensitive=True,
    steps={
        State.EMAIL: Step(
            prompt=_email_prompt,
            parse=_parse_email,
            handle=_handle_email,
            example=N_("name@example.com"),
            goes_to=(State.CODE,),
            help=N_("Type the email address you use for your account. We will send a code to it."),
        ),
        State.CODE: Step(
            prompt=_code_prompt,
            parse=parse_six_digits,
            handle=_handle_code,
            secret=True,
            input_kind="digits",
            goes_to=(State.EMAIL, State.ANSWER),
            help=N_(
                "We sent a 6-digit code to your email. It works for 10 minutes. If it did not "
                'come, look in your spam folder or press "Send a new code".'
            ),
        ),
        State.ANSWER: Step(
            prompt=_answer_prompt,
            parse=_parse_answer,
            handle=_handle_answer,
            secret=True,
            input_kind="answer",
            goes_to=(State.PASSWORD, State.CODE),
            help=N_(
                "Type the answer you gave to this question when you created your account. "
                "Capital letters and accents do not matter."
            ),
        ),
        State.PASSWORD: Step(
            prompt=_password_prompt,
            parse=_parse_password,
            handle=_handle_password,
            secret=True,
            goes_to=(State.ANSWER, State.CODE),
            help=N_(
                "Choose a password of at least 8 characters that you do not use anywhere "
                "else. Very common passwords are refused."
            ),
        ),
    },
)


FLOW: Final = Flow.of(forgot_password_dialog)
