"""A forgotten password: the mailed code, one reset question, a new password; the refusals,
the same answers for an unknown email, secrets never kept readable, idle expiry and restart."""

from __future__ import annotations

import logging

import pytest

from bot.engine import Engine
from core.accounts.links import chats_of_account
from core.accounts.signin import start_sign_in
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_RESET_ANSWER
from core.errors import InvalidCredentials
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.conversation.account_flows import (
    NEW_PASSWORD,
    ana_id,
    link_ana,
    other_code,
    reach_reset_code,
    readable,
    restarted,
    sealed_values,
    stored_state,
)
from tests.fakes import FakeClock, FakeMailer

pytestmark = pytest.mark.usefixtures("demo")


async def test_resets_the_password_and_signs_the_other_chats_out(
    chat: FakeChat, mailer: FakeMailer, uow_factory: UnitOfWorkFactory
) -> None:
    await link_ana(uow_factory, "other-chat")
    await link_ana(uow_factory, chat.chat_id)
    await reach_reset_code(chat)
    assert "we have sent a 6-digit code" in chat.text
    assert chat.asks_secret
    await chat.send(mailer.last_code(DEMO_EMAIL))
    assert "What was the name of your first pet?" in chat.text
    assert chat.asks_secret
    await chat.send("  Maple ")
    assert "new password" in chat.text
    assert chat.asks_secret
    await chat.send(NEW_PASSWORD)

    assert "Your password is changed" in chat.text
    assert "1 other chat was signed out" in chat.text
    assert "This chat stays signed in." in chat.text
    mail = mailer.last_to(DEMO_EMAIL)
    assert mail.subject == "Your password was changed"
    assert "1-800-375-5283" in mail.body
    with pytest.raises(InvalidCredentials):
        await start_sign_in(uow_factory, DEMO_EMAIL, DEMO_PASSWORD, "test", "chat-1")
    challenge = await start_sign_in(uow_factory, DEMO_EMAIL, NEW_PASSWORD, "test", "chat-1")
    assert challenge.account_id == await ana_id(uow_factory)
    async with uow_factory() as uow:
        chats = await chats_of_account(uow, challenge.account_id)
    assert [c.chat_id for c in chats] == [chat.chat_id]


async def test_a_wrong_code_says_how_many_tries_are_left(
    chat: FakeChat, mailer: FakeMailer
) -> None:
    await reach_reset_code(chat)
    code = mailer.last_code(DEMO_EMAIL)
    await chat.send(other_code(code))
    assert "That code is not right. You have 4 more tries." in chat.text
    assert chat.asks_secret
    await chat.send(code)
    assert "first pet" in chat.text


async def test_an_expired_code_is_refused_and_a_new_one_works(
    chat: FakeChat, mailer: FakeMailer, clock: FakeClock
) -> None:
    await reach_reset_code(chat)
    old = mailer.last_code(DEMO_EMAIL)
    clock.advance(minutes=11)
    await chat.send(old)
    assert "That code has expired" in chat.text
    await chat.press("Send a new code")
    new = mailer.last_code(DEMO_EMAIL)
    await chat.send(new)
    assert "first pet" in chat.text


async def test_a_wrong_answer_asks_the_question_again(chat: FakeChat, mailer: FakeMailer) -> None:
    await reach_reset_code(chat)
    await chat.send(mailer.last_code(DEMO_EMAIL))
    await chat.send("oak")
    await chat.send(NEW_PASSWORD)
    assert "That answer is not right. You have 4 more tries." in chat.text
    assert "first pet" in chat.text
    assert chat.asks_secret
    await chat.send(DEMO_RESET_ANSWER)
    await chat.send(NEW_PASSWORD)
    assert "Your password is changed" in chat.text


async def test_a_weak_or_common_password_is_refused_with_the_reason(
    chat: FakeChat, mailer: FakeMailer
) -> None:
    await reach_reset_code(chat)
    await chat.send(mailer.last_code(DEMO_EMAIL))
    await chat.send(DEMO_RESET_ANSWER)
    await chat.send("password")
    assert "too common" in chat.text
    assert chat.asks_secret
    await chat.send("short1")
    assert "too short: use at least 8 characters" in chat.text
    await chat.send(NEW_PASSWORD)
    assert "Your password is changed" in chat.text


async def test_an_unknown_email_gets_the_same_answers_as_a_known_one(
    chat: FakeChat, engine: Engine, mailer: FakeMailer
) -> None:
    stranger = FakeChat(engine, chat_id="chat-2")
    unknown = "nobody@example.com"
    await reach_reset_code(chat, DEMO_EMAIL)
    await reach_reset_code(stranger, unknown)
    assert chat.text.replace(DEMO_EMAIL, "<email>") == stranger.text.replace(unknown, "<email>")
    assert chat.buttons == stranger.buttons
    assert mailer.last_to(unknown).subject == mailer.last_to(DEMO_EMAIL).subject

    await chat.send(other_code(mailer.last_code(DEMO_EMAIL)))
    await stranger.send(mailer.last_code(unknown))  # never accepted: no account
    assert chat.text == stranger.text
    assert "4 more tries" in stranger.text


async def test_no_secret_is_kept_readable_or_logged(
    chat: FakeChat,
    mailer: FakeMailer,
    uow_factory: UnitOfWorkFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await reach_reset_code(chat)
    code = mailer.last_code(DEMO_EMAIL)
    states = []
    for secret in (code, DEMO_RESET_ANSWER, NEW_PASSWORD):
        await chat.send(secret)
        assert chat.turn.input_was_secret
        states.append(await stored_state(uow_factory, chat))
    assert "Your password is changed" in chat.text
    assert sealed_values(states[0])  # the code, kept only sealed
    assert sealed_values(states[1])  # the code and the answer
    for state in states:
        for secret in (code, DEMO_RESET_ANSWER, NEW_PASSWORD):
            assert secret not in readable(state)
        for sealed in sealed_values(state):
            assert DEMO_RESET_ANSWER not in sealed
    for secret in (code, DEMO_RESET_ANSWER, NEW_PASSWORD):
        assert secret not in caplog.text


async def test_an_idle_reset_times_out(
    chat: FakeChat, mailer: FakeMailer, clock: FakeClock
) -> None:
    await reach_reset_code(chat)
    await chat.send(mailer.last_code(DEMO_EMAIL))
    clock.advance(minutes=16)
    await chat.send("hello")
    assert "timed out" in chat.text
    assert "What else can I help with?" in chat.text


async def test_a_restart_in_the_middle_continues_the_reset(
    chat: FakeChat, mailer: FakeMailer, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await reach_reset_code(chat)
    await chat.send(mailer.last_code(DEMO_EMAIL))
    await chat.send(DEMO_RESET_ANSWER)
    again = restarted(uow_factory, mailer, clock, chat)
    await again.send(NEW_PASSWORD)
    assert "Your password is changed" in again.text
    await start_sign_in(uow_factory, DEMO_EMAIL, NEW_PASSWORD, "test", "chat-1")
