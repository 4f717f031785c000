"""Signing in through the chat: email, password, second factor; failures, and signing out."""

from __future__ import annotations

import enum
import json
import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.dialogs.accounts.link_account import link_account_dialog, mask_email
from bot.dialogs.base import Dialog, End, Prompt, Step, Transition
from bot.dialogs.context import Context, Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from core.accounts.links import account_for_chat, link_chat
from core.accounts.models import Account, OtpMethod
from core.accounts.otp import totp
from core.accounts.questions import RESET_QUESTION_IDS
from core.accounts.service import register_account
from core.conversations import Conversation
from core.demo import DEMO_BACKUP_CODE, DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock, FakeMailer

pytestmark = pytest.mark.usefixtures("demo")

WRONG_PASSWORD = "not-the-right-one-77"
BACKUP_CODE_RE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


def current_code(clock: FakeClock) -> str:
    return totp(DEMO_TOTP_SECRET, clock.now())


def wrong_code(clock: FakeClock) -> str:
    """A 6-digit code that matches none of the steps the server accepts now."""
    near = {totp(DEMO_TOTP_SECRET, clock.now() + timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


async def to_password(chat: FakeChat, email: str = DEMO_EMAIL) -> None:
    await chat.send("sign in")
    await chat.send(email)


async def to_code(chat: FakeChat, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
    await to_password(chat, email)
    await chat.send(password)


async def signed_in_account(uow_factory: UnitOfWorkFactory, chat: FakeChat) -> int | None:
    async with uow_factory() as uow:
        account = await account_for_chat(uow, chat.channel, chat.chat_id)
        return account.id if account is not None else None


async def demo_account(uow_factory: UnitOfWorkFactory) -> Account:
    async with uow_factory() as uow:
        account = await uow.session.scalar(select(Account).where(Account.email == DEMO_EMAIL))
        assert account is not None
        return account


# --- signing in ------------------------------------------------------------------------------


async def test_signs_in_with_the_authenticator_code_and_shows_the_cases(
    chat: FakeChat, clock: FakeClock, uow_factory: UnitOfWorkFactory
) -> None:
    await chat.send("sign in")
    assert "email address" in chat.text
    await chat.send(DEMO_EMAIL)
    assert "password for a***@example.com" in chat.text
    await chat.send(DEMO_PASSWORD)
    assert "authenticator app" in chat.text
    assert "backup code" in chat.text

    await chat.send(current_code(clock))

    assert "You are signed in as a***@example.com" in chat.text
    assert "IOE0912345678 (I-765): Case Was Received" in chat.text
    assert "IOE0912345679 (I-485): Fingerprint Fee Was Received" in chat.text
    assert "What else can I help with?" in chat.text  # back at the menu
    assert "Sign out" in chat.buttons
    assert await signed_in_account(uow_factory, chat) == (await demo_account(uow_factory)).id


async def test_signs_in_with_the_backup_code_and_shows_the_new_one_once(
    chat: FakeChat, clock: FakeClock, uow_factory: UnitOfWorkFactory
) -> None:
    await to_code(chat)
    await chat.send(DEMO_BACKUP_CODE.lower())

    assert "You are signed in" in chat.text
    assert "replaces the old one" in chat.text
    new_codes = [c for c in BACKUP_CODE_RE.findall(chat.text) if c != DEMO_BACKUP_CODE]
    assert len(new_codes) == 1
    new_code = new_codes[0]

    await chat.press("Sign out")
    await to_code(chat)
    await chat.send(DEMO_BACKUP_CODE)
    assert "That code is not right" in chat.text
    assert await signed_in_account(uow_factory, chat) is None

    await chat.send(new_code)
    assert "You are signed in" in chat.text
    assert new_code not in chat.text  # a new one again, shown once


async def email_method_account(uow_factory: UnitOfWorkFactory) -> int:
    registration = await register_account(
        uow_factory,
        email="maria.lopez@example.com",
        password="blue-river-lantern-58",
        reset_answers={RESET_QUESTION_IDS[0]: "maple"},
        email_code=None,
        otp_method=OtpMethod.EMAIL,
        skip_email_verification=True,
    )
    return registration.account_id


async def test_signs_in_an_email_method_account_with_the_mailed_code(
    chat: FakeChat, mailer: FakeMailer, uow_factory: UnitOfWorkFactory
) -> None:
    account_id = await email_method_account(uow_factory)
    await to_code(chat, "Maria.Lopez@example.com", "blue-river-lantern-58")

    assert "We sent a 6-digit code to m***@example.com" in chat.text
    assert chat.asks_secret
    mail = mailer.last_to("maria.lopez@example.com")
    assert mail.subject == "Your sign-in code"
    code = mailer.last_code("maria.lopez@example.com")
    assert code not in chat.text

    await chat.send(code)
    assert "You are signed in as m***@example.com" in chat.text
    assert "There are no cases in your account yet." in chat.text
    assert await signed_in_account(uow_factory, chat) == account_id


async def test_a_second_password_within_a_minute_does_not_mail_a_second_code(
    chat: FakeChat, mailer: FakeMailer, uow_factory: UnitOfWorkFactory
) -> None:
    await email_method_account(uow_factory)
    await to_code(chat, "maria.lopez@example.com", "blue-river-lantern-58")
    code = mailer.last_code("maria.lopez@example.com")
    await chat.press("Back")
    await chat.send("blue-river-lantern-58")

    assert len(mailer.sent) == 1
    assert "less than a minute ago" in chat.text
    await chat.send(code)
    assert "You are signed in" in chat.text


async def test_two_chats_signing_in_to_one_account_each_finish_their_own_sign_in(
    engine: Engine, clock: FakeClock, uow_factory: UnitOfWorkFactory
) -> None:
    # The second step belongs to the chat that typed the password: another chat signing in
    # to the same account in the meantime neither cancels it nor is told it took too long.
    phone, laptop = FakeChat(engine, chat_id="phone"), FakeChat(engine, chat_id="laptop")
    await to_code(phone)
    await to_code(laptop)

    await phone.send(current_code(clock))
    clock.advance(seconds=30)  # the next authenticator code (each code signs in once)
    await laptop.send(current_code(clock))

    for chat in (phone, laptop):
        assert "You are signed in as a***@example.com" in chat.text
        assert "took too long" not in chat.text
    demo = await demo_account(uow_factory)
    assert await signed_in_account(uow_factory, phone) == demo.id
    assert await signed_in_account(uow_factory, laptop) == demo.id


async def test_two_chats_signing_in_to_one_email_method_account_each_get_their_own_code(
    engine: Engine, mailer: FakeMailer, uow_factory: UnitOfWorkFactory
) -> None:
    account_id = await email_method_account(uow_factory)
    phone, laptop = FakeChat(engine, chat_id="phone"), FakeChat(engine, chat_id="laptop")
    await to_code(phone, "maria.lopez@example.com", "blue-river-lantern-58")
    phone_code = mailer.last_code("maria.lopez@example.com")
    await to_code(laptop, "maria.lopez@example.com", "blue-river-lantern-58")
    laptop_code = mailer.last_code("maria.lopez@example.com")

    assert "We sent a 6-digit code to m***@example.com" in laptop.text
    assert len(mailer.sent) == 2
    assert phone_code != laptop_code
    await laptop.send(laptop_code)
    await phone.send(phone_code)

    for chat in (phone, laptop):
        assert "You are signed in as m***@example.com" in chat.text
        assert await signed_in_account(uow_factory, chat) == account_id


async def test_a_code_mailed_to_one_chat_does_not_sign_in_another(
    engine: Engine, mailer: FakeMailer, uow_factory: UnitOfWorkFactory
) -> None:
    await email_method_account(uow_factory)
    phone, laptop = FakeChat(engine, chat_id="phone"), FakeChat(engine, chat_id="laptop")
    await to_code(phone, "maria.lopez@example.com", "blue-river-lantern-58")
    phone_code = mailer.last_code("maria.lopez@example.com")
    await to_code(laptop, "maria.lopez@example.com", "blue-river-lantern-58")

    await laptop.send(phone_code)

    assert "That code is not right" in laptop.text
    assert await signed_in_account(uow_factory, laptop) is None
    await phone.send(phone_code)
    assert "You are signed in" in phone.text


# --- wrong input -----------------------------------------------------------------------------


async def test_an_invalid_email_is_asked_again_with_an_example(chat: FakeChat) -> None:
    await chat.send("sign in")
    await chat.send("ana at example dot com")

    assert "That does not look like an email address." in chat.text
    assert "For example: name@example.com" in chat.text
    assert "email address" in chat.replies[-1].text
    assert not chat.asks_secret


async def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(
    chat: FakeChat, engine: Engine
) -> None:
    await to_code(chat, "nobody@example.com", WRONG_PASSWORD)
    unknown = chat.replies[0].text
    other = FakeChat(engine, chat_id="chat-2")
    await to_code(other, DEMO_EMAIL, WRONG_PASSWORD)
    wrong = other.replies[0].text

    assert (
        unknown == wrong == "The email or password is not right. Please check them and try again."
    )
    assert chat.asks_secret  # still at the password step
    assert other.asks_secret
    assert "Use another email" in other.buttons
    # "Forgot password?" is offered exactly when the password help flow is registered.
    assert ("Forgot password?" in other.buttons) == ("account_help" in engine.dialogs)


async def test_use_another_email_goes_back_to_the_email(chat: FakeChat) -> None:
    await to_code(chat, DEMO_EMAIL, WRONG_PASSWORD)
    await chat.press("Use another email")
    assert "email address" in chat.text
    assert not chat.asks_secret


async def test_five_wrong_passwords_lock_the_account_for_twenty_minutes(
    plain_chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    chat = plain_chat
    await to_password(chat)
    for _ in range(4):
        await chat.send(WRONG_PASSWORD)
        assert "not right" in chat.text
    await chat.send(WRONG_PASSWORD)

    assert "locked for 20 minutes" in chat.text
    assert "Forgot password?" not in chat.buttons  # no password help flow here
    assert "Contact Center" in chat.text
    assert (await demo_account(uow_factory)).locked_until is not None
    # Even the right password is refused now, with the same explanation.
    await chat.press("Menu")
    await to_code(chat)
    assert "locked for 20 minutes" in chat.text


async def test_a_wrong_code_says_how_many_tries_are_left(chat: FakeChat, clock: FakeClock) -> None:
    await to_code(chat)
    await chat.send(wrong_code(clock))

    assert "That code is not right. You can try 4 more times" in chat.text
    assert chat.asks_secret
    await chat.send(current_code(clock))
    assert "You are signed in" in chat.text


async def test_something_that_is_no_code_is_asked_again_without_counting(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await to_code(chat)
    await chat.send("12345")
    assert "A code has 6 digits" in chat.text
    assert (await demo_account(uow_factory)).failed_logins == 0


async def test_an_authenticator_code_is_accepted_only_once(
    chat: FakeChat, clock: FakeClock, uow_factory: UnitOfWorkFactory
) -> None:
    code = current_code(clock)
    await to_code(chat)
    await chat.send(code)
    assert "You are signed in" in chat.text
    await chat.press("Sign out")

    await to_code(chat)
    await chat.send(code)
    assert "That code was already used" in chat.text
    assert await signed_in_account(uow_factory, chat) is None
    clock.advance(seconds=30)
    await chat.send(current_code(clock))
    assert "You are signed in" in chat.text


async def test_an_expired_challenge_asks_for_the_password_again(
    chat: FakeChat, clock: FakeClock
) -> None:
    await to_code(chat)
    clock.advance(minutes=11)  # the challenge lasts 10 minutes; the flow 15 idle minutes
    await chat.send(current_code(clock))

    assert "Please type your password again" in chat.text
    assert chat.asks_secret
    await chat.send(DEMO_PASSWORD)
    await chat.send(current_code(clock))
    assert "You are signed in" in chat.text


# --- secrets ---------------------------------------------------------------------------------


async def test_password_and_code_steps_are_secret_and_never_stored_or_logged(
    chat: FakeChat,
    clock: FakeClock,
    uow_factory: UnitOfWorkFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await to_password(chat)
    assert chat.asks_secret
    password_turn = await chat.send(DEMO_PASSWORD)
    assert password_turn.input_was_secret
    assert chat.asks_secret

    async with uow_factory() as uow:
        states = [json.dumps(s) for s in await uow.session.scalars(select(Conversation.state))]
    assert states
    assert all(DEMO_PASSWORD not in state for state in states)

    code = current_code(clock)
    code_turn = await chat.send(code)
    assert code_turn.input_was_secret
    assert DEMO_PASSWORD not in caplog.text
    assert code not in caplog.text


# --- the engine's shared behaviour -----------------------------------------------------------


async def test_menu_at_the_password_step_leaves_the_flow(chat: FakeChat) -> None:
    await to_password(chat)
    turn = await chat.send("menu")
    assert "What else can I help with?" in chat.text
    assert not turn.input_was_secret


async def test_an_old_button_has_expired(chat: FakeChat) -> None:
    await to_password(chat)
    old = chat.button("Use another email")
    await chat.send(WRONG_PASSWORD)
    await chat.press_payload(old.payload)

    assert "This menu has expired" in chat.text
    assert "password for a***@example.com" in chat.text


async def test_the_flow_times_out_after_fifteen_idle_minutes(
    chat: FakeChat, clock: FakeClock
) -> None:
    await to_code(chat)
    clock.advance(minutes=16)
    await chat.send("hello")
    assert "timed out" in chat.text
    assert "What else can I help with?" in chat.text


async def test_a_password_typed_after_the_timeout_stays_secret(
    chat: FakeChat, clock: FakeClock
) -> None:
    await to_password(chat)
    clock.advance(minutes=16)
    turn = await chat.send(DEMO_PASSWORD)

    assert turn.input_was_secret  # deleted from the chat, masked in the transcript
    assert "timed out" in chat.text
    assert "did not understand" not in chat.text  # not read as an answer to the menu
    assert "What else can I help with?" in chat.text


async def test_a_restart_in_the_middle_resumes_at_the_same_step(
    chat: FakeChat, clock: FakeClock, mailer: FakeMailer, uow_factory: UnitOfWorkFactory
) -> None:
    await to_code(chat)
    services = Services(uow_factory=uow_factory, mailer=mailer, clock=clock)
    restarted = FakeChat(Engine(services, all_dialogs()), chat_id=chat.chat_id)

    await restarted.send(current_code(clock))
    assert "You are signed in" in restarted.text


async def test_language_change_at_the_email_step_comes_back_to_it(chat: FakeChat) -> None:
    await chat.send("sign in")
    await chat.send("language")
    await chat.press("English")
    assert "email address" in chat.text


# --- signed in already -----------------------------------------------------------------------


async def test_a_signed_in_chat_is_told_who_and_can_sign_out(
    chat: FakeChat, clock: FakeClock, uow_factory: UnitOfWorkFactory
) -> None:
    await to_code(chat)
    await chat.send(current_code(clock))

    await chat.send("sign in")
    assert "You are signed in as a***@example.com" in chat.text
    assert {"Sign out", "Keep me signed in"} <= set(chat.buttons)
    await chat.press("Sign out")

    assert "You are signed out" in chat.text
    assert "email address" in chat.text  # to sign in with another account
    assert await signed_in_account(uow_factory, chat) is None


async def test_a_signed_in_chat_can_stay_signed_in(
    chat: FakeChat, clock: FakeClock, uow_factory: UnitOfWorkFactory
) -> None:
    await to_code(chat)
    await chat.send(current_code(clock))
    await chat.send("log in")
    await chat.press("Keep me signed in")

    assert "you stay signed in" in chat.text
    assert await signed_in_account(uow_factory, chat) is not None


# --- with the password help flow -------------------------------------------------------------


class _Help(enum.Enum):
    START = "start"


def _help_stub() -> Dialog[_Help]:
    async def handle(ctx: Context, value: str) -> Transition:
        return End()

    return Dialog(
        name="account_help",
        states=_Help,
        initial=_Help.START,
        steps={
            _Help.START: Step(
                prompt=lambda ctx: Prompt("HELP STUB"), parse=lambda ctx, text: text, handle=handle
            )
        },
    )


def _engine_with(
    dialogs: dict[str, Dialog[Any]],
    uow_factory: UnitOfWorkFactory,
    mailer: FakeMailer,
    clock: FakeClock,
) -> Engine:
    return Engine(Services(uow_factory=uow_factory, mailer=mailer, clock=clock), dialogs)


@pytest.fixture
def plain_chat(uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock) -> FakeChat:
    """The sign-in flow built as if no password help flow were registered."""
    dialogs = all_dialogs()
    dialogs["link_account"] = link_account_dialog(())
    return FakeChat(_engine_with(dialogs, uow_factory, mailer, clock))


@pytest.fixture
def help_chat(uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock) -> FakeChat:
    dialogs = all_dialogs()
    dialogs["link_account"] = link_account_dialog({"account_help"})
    dialogs["account_help"] = _help_stub()
    return FakeChat(_engine_with(dialogs, uow_factory, mailer, clock))


async def test_forgot_password_opens_the_help_and_comes_back_to_the_password(
    help_chat: FakeChat,
) -> None:
    await to_password(help_chat)
    await help_chat.press("Forgot password?")
    assert "HELP STUB" in help_chat.text
    await help_chat.send("done")
    assert "password for a***@example.com" in help_chat.text
    assert help_chat.asks_secret


async def test_a_locked_account_is_offered_a_password_reset(help_chat: FakeChat) -> None:
    await to_password(help_chat)
    for _ in range(5):
        await help_chat.send(WRONG_PASSWORD)
    assert "locked for 20 minutes" in help_chat.text
    assert "reset your password" in help_chat.text
    await help_chat.press("Reset my password")
    assert "HELP STUB" in help_chat.text


async def test_masks_an_email_to_its_first_letter_and_domain() -> None:
    assert mask_email("ana.demo@example.com") == "a***@example.com"


async def test_the_menu_keeps_its_numbers_after_sign_in(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    """The terminal numbers the buttons: a person who learned "5" for password help, or "6"
    for the language, must find the same choice there once signed in. Sign out takes the
    place of Sign in."""
    await chat.send("menu")
    signed_out = list(chat.buttons)
    async with uow_factory() as uow:
        ana = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
        assert ana is not None
        await link_chat(uow, ana, chat.channel, chat.chat_id)
        await uow.commit()
    await chat.send("menu")
    signed_in = list(chat.buttons)
    assert "Sign out" in signed_in
    assert signed_in.index("Sign out") == signed_out.index("Sign in")
    for label in set(signed_out) & set(signed_in):
        assert signed_in.index(label) == signed_out.index(label), label
