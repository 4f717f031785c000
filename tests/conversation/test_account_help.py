"""Password and sign-in help: the first choice, a locked account, a code that did not come, and
the way back to the flow that asked for help."""

from __future__ import annotations

import pytest

from core.accounts.links import account_for_chat
from core.accounts.signin import start_sign_in
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_RESET_ANSWER
from core.errors import AccountLocked, InvalidCredentials
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.conversation.account_flows import (
    NEW_PASSWORD,
    link_ana,
    open_help,
    reach_reset_code,
    stored_state,
)
from tests.fakes import FakeClock, FakeMailer

pytestmark = pytest.mark.usefixtures("demo")


async def test_offers_the_five_kinds_of_help(chat: FakeChat) -> None:
    await open_help(chat)
    assert chat.buttons[:5] == [
        "I forgot my password",
        "My account is locked",
        "I did not get my code",
        "I lost my phone / authenticator",
        "Create an account",
    ]


async def test_a_reset_unlocks_the_account_but_does_not_sign_the_chat_in(
    chat: FakeChat, mailer: FakeMailer, uow_factory: UnitOfWorkFactory
) -> None:
    for _ in range(5):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            await start_sign_in(uow_factory, DEMO_EMAIL, "not-the-password-1", "test", "chat-1")
    with pytest.raises(AccountLocked):
        await start_sign_in(uow_factory, DEMO_EMAIL, DEMO_PASSWORD, "test", "chat-1")

    await open_help(chat, "My account is locked")
    assert "locked for 20 minutes" in chat.text
    assert "Reset my password now" in chat.buttons
    await chat.press("Reset my password now")
    await chat.send(DEMO_EMAIL)
    await chat.send(mailer.last_code(DEMO_EMAIL))
    await chat.send(DEMO_RESET_ANSWER)
    await chat.send(NEW_PASSWORD)

    assert "it is unlocked now" in chat.text
    assert "please sign in with your new password" in chat.text
    assert "signed out" not in chat.text  # no other chat was signed in
    assert "What else can I help with?" in chat.text  # back at the menu
    await start_sign_in(
        uow_factory, DEMO_EMAIL, NEW_PASSWORD, "test", "chat-1"
    )  # not locked any more
    async with uow_factory() as uow:
        assert await account_for_chat(uow, chat.channel, chat.chat_id) is None


async def test_a_locked_chat_is_told_how_long_its_own_lock_lasts(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await link_ana(uow_factory, chat.chat_id)
    for _ in range(5):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            await start_sign_in(uow_factory, DEMO_EMAIL, "not-the-password-1", "test", "chat-1")
    await open_help(chat, "My account is locked")
    assert "Your account is locked for 20 more minutes." in chat.text
    await chat.press("I will wait")
    assert "When the lock ends" in chat.text


async def test_a_new_code_waits_for_the_cooldown(
    chat: FakeChat, mailer: FakeMailer, clock: FakeClock
) -> None:
    await open_help(chat, "I did not get my code")
    assert "spam" in chat.text
    await chat.press("The code to reset my password")
    await chat.send(DEMO_EMAIL)
    sent = len(mailer.sent)
    clock.advance(seconds=20)
    await chat.press("Send a new code")
    assert "ask for a new code in 40 seconds" in chat.text
    assert len(mailer.sent) == sent
    clock.advance(seconds=40)
    await chat.press("Send a new code")
    assert len(mailer.sent) == sent + 1
    await chat.send(mailer.last_code(DEMO_EMAIL))
    assert "first pet" in chat.text


async def test_menu_in_the_middle_leaves_the_flow(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await reach_reset_code(chat)
    await chat.send("menu")
    assert "What else can I help with?" in chat.text
    state = await stored_state(uow_factory, chat)
    assert [frame["d"] for frame in state["stack"]] == ["menu"]


async def test_the_sign_in_continues_after_a_reset_it_asked_for(
    chat: FakeChat, mailer: FakeMailer, uow_factory: UnitOfWorkFactory
) -> None:
    await chat.send("hi")
    await chat.press("Sign in")
    await chat.send(DEMO_EMAIL)
    await chat.press("Forgot password?")
    await chat.press("I forgot my password")
    await chat.send(DEMO_EMAIL)
    await chat.send(mailer.last_code(DEMO_EMAIL))
    await chat.send(DEMO_RESET_ANSWER)
    await chat.send(NEW_PASSWORD)
    assert "Your password is changed" in chat.text
    assert "Please type your password for" in chat.text  # the sign-in goes on
    assert chat.asks_secret
    await chat.send(NEW_PASSWORD)
    assert "authenticator" in chat.text


async def test_back_returns_to_the_step_before(chat: FakeChat, mailer: FakeMailer) -> None:
    await open_help(chat, "I forgot my password")
    await chat.send(DEMO_EMAIL)
    assert chat.asks_secret
    await chat.press("Back")
    assert "Or type another email address." in chat.text  # the email is remembered
    assert "Yes, send the code" in chat.buttons
    assert not chat.asks_secret
