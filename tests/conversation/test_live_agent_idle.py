"""A signed-in web chat is not signed out for being idle while a live chat is open: waiting in
line or chatting with the agent, the person is not away. Every other idle chat still is."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.engine import Engine
from core.accounts.links import account_id_for_chat
from core.demo import DEMO_EMAIL
from core.handoff import FixedDesk
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.conversation.handoff_support import Agent, agent_engine, received, sign_in
from tests.fakes import FakeClock, FakeMailer

pytestmark = pytest.mark.usefixtures("demo")

SIGNED_OUT = "You were signed out after a while without activity"
AWAY = timedelta(minutes=20)  # past the 15 minutes a signed-in web chat may stay idle


@pytest.fixture
def live(uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock) -> Engine:
    desk = FixedDesk(languages={"en"}, hours=None, uow_factory=uow_factory)
    return agent_engine(uow_factory, mailer, clock, desk)


async def _signed_in(live: Engine, uow_factory: UnitOfWorkFactory) -> FakeChat:
    chat = FakeChat(live, channel="webchat", chat_id="session-1")
    await chat.send("hi")
    await sign_in(uow_factory, chat, DEMO_EMAIL)
    return chat


async def _still_signed_in(uow_factory: UnitOfWorkFactory, chat: FakeChat) -> bool:
    async with uow_factory() as uow:
        return await account_id_for_chat(uow, chat.channel, chat.chat_id) is not None


async def test_waiting_in_line_a_long_time_does_not_sign_out(
    live: Engine, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    chat = await _signed_in(live, uow_factory)
    await chat.send("talk to a person")
    assert "number 1" in chat.text
    clock.advance(AWAY)
    await chat.send("menu")
    assert SIGNED_OUT not in chat.text
    assert await _still_signed_in(uow_factory, chat)


async def test_a_long_live_chat_does_not_sign_out(
    live: Engine, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    chat = await _signed_in(live, uow_factory)
    await chat.send("talk to a person")
    maria = Agent(uow_factory, 7, "Maria")
    handoff_id = await maria.claim(chat)
    await received(uow_factory, chat)
    clock.advance(AWAY)
    await maria.write(handoff_id, "Let me check.")
    clock.advance(AWAY)
    await chat.send("Thank you")
    assert SIGNED_OUT not in chat.text
    assert await _still_signed_in(uow_factory, chat)


async def test_idle_after_the_live_chat_ended_signs_out_as_ever(
    live: Engine, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    chat = await _signed_in(live, uow_factory)
    await chat.send("talk to a person")
    await chat.send("end chat")
    clock.advance(AWAY)
    await chat.send("menu")
    assert SIGNED_OUT in chat.text
    assert not await _still_signed_in(uow_factory, chat)
