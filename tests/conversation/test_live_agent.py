"""Talking to a person: the queue, a live chat with the agent who claims it, both ways, and
back to the assistant; a secure message when no agent can take the chat. The agent's side is
played by the core services (tests/conversation/handoff_support.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app import App
from bot.engine import Engine
from bot.settings import Settings
from core.db import Database
from core.demo import DEMO_EMAIL
from core.handoff import FixedDesk, HandoffStatus, get_handoff, handoff_messages
from core.handoff.models import Sender
from core.outbox.service import pending_notifications
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.conversation.handoff_support import Agent, agent_engine, received, sign_in
from tests.fakes import FakeClock, FakeMailer

pytestmark = pytest.mark.usefixtures("demo")

SATURDAY = datetime(2026, 3, 7, 17, 0, tzinfo=UTC)
ASK_RECEIPT = "receipt number"


@pytest.fixture
def desk(uow_factory: UnitOfWorkFactory) -> FixedDesk:
    """Agents of every language, always open (a test makes them unavailable)."""
    return FixedDesk(languages={"en", "es"}, hours=None, uow_factory=uow_factory)


@pytest.fixture
def live(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock, desk: FixedDesk
) -> Engine:
    return agent_engine(uow_factory, mailer, clock, desk)


@pytest.fixture
def maria(uow_factory: UnitOfWorkFactory) -> Agent:
    return Agent(uow_factory, 7, "Maria")


async def test_the_menu_offers_a_person_after_help(live: Engine) -> None:
    chat = FakeChat(live)
    await chat.send("hi")
    assert chat.buttons[6:8] == ["Help", "Talk to a person"]


async def test_asking_for_a_person_gives_the_place_in_line_and_the_wait(live: Engine) -> None:
    first, second = FakeChat(live, chat_id="first"), FakeChat(live, chat_id="second")
    await first.send("hi")
    await first.press("Talk to a person")
    assert "You are number 1 in the line for a person" in first.text
    assert "about 3 minutes" in first.text
    assert "Leave the line" in first.buttons
    await second.send("I want to talk to a real person")
    assert "You are number 2 in the line" in second.text
    assert "about 6 minutes" in second.text


async def test_while_waiting_the_assistant_still_answers_and_the_place_is_kept(
    live: Engine,
) -> None:
    ahead, chat = FakeChat(live, chat_id="ahead"), FakeChat(live)
    await ahead.send("talk to a person")
    await chat.send("hi")
    await chat.press("Talk to a person")
    assert "number 2" in chat.text
    await chat.send("WAC2212345678")
    assert "Case Was Approved" in chat.text
    await chat.send("menu")
    await chat.press("Talk to a person")
    assert "number 2" in chat.text  # the same place, not a new one at the end


async def test_a_live_chat_both_ways_then_back_to_the_bot_where_they_were(
    live: Engine, maria: Agent, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(live)
    await chat.send("hi")
    await chat.press("Check a case status")
    assert ASK_RECEIPT in chat.text
    await chat.send("help")
    await chat.press("Talk to a person")
    assert "number 1" in chat.text
    handoff_id = await maria.claim(chat)

    [joined] = await received(uow_factory, chat)
    assert "You are now chatting with Maria." in joined.text
    assert [b.label for b in joined.buttons] == ["End chat"]

    await chat.send("My card was approved but never came")
    assert chat.replies == []  # it went to Maria, not to the dialogs
    await maria.write(handoff_id, "I will check the address on file.")
    [answer] = await received(uow_factory, chat)
    assert answer.text == "Maria: I will check the address on file."
    assert [b.label for b in answer.buttons] == ["End chat"]

    await chat.send("end chat")
    assert "The chat with Maria has ended. You are back with the assistant." in chat.text
    assert ASK_RECEIPT in chat.text  # the step they were at
    await chat.send("WAC2212345678")
    assert "Case Was Approved" in chat.text
    async with uow_factory() as uow:
        handoff = await get_handoff(uow, handoff_id)
        said = [(m.sender, m.text) for m in await handoff_messages(uow, handoff_id)]
    assert handoff.status == HandoffStatus.CLOSED
    assert (Sender.PERSON, "My card was approved but never came") in said
    assert (Sender.AGENT, "I will check the address on file.") in said


async def test_the_end_button_of_the_notice_ends_the_chat(
    live: Engine, maria: Agent, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(live)
    await chat.send("talk to a person")
    await maria.claim(chat)
    [joined] = await received(uow_factory, chat)
    await chat.press_payload(joined.buttons[0].payload)
    assert "The chat with Maria has ended" in chat.text


async def test_a_password_typed_to_the_agent_is_withheld(
    live: Engine, maria: Agent, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(live)
    await chat.send("talk to a person")
    handoff_id = await maria.claim(chat)
    for secret in ("Sunflower-42!", "my code is 493 201"):
        await chat.send(secret)
        assert chat.turn.input_was_secret  # masked like any secret: transcript, Telegram
        assert "it was not sent" in chat.text
        assert "no one from USCIS will ever ask for your password" in chat.text
    async with uow_factory() as uow:
        messages = await handoff_messages(uow, handoff_id)
    assert [m.event for m in messages if m.sender == Sender.SYSTEM].count("withheld") == 2
    assert all("Sunflower" not in m.text and "493" not in m.text for m in messages)


async def test_when_the_agent_closes_the_chat_the_person_is_back_with_the_bot(
    live: Engine, maria: Agent, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(live)
    await chat.send("talk to a person")
    handoff_id = await maria.claim(chat)
    await maria.close(handoff_id)
    [_joined, ended] = await received(uow_factory, chat)
    assert ended.text.startswith("Maria ended the chat. You are back with the assistant.")
    await chat.send("WAC2212345678")
    assert "Case Was Approved" in chat.text


async def test_leaving_the_line(live: Engine, maria: Agent, uow_factory: UnitOfWorkFactory) -> None:
    chat = FakeChat(live)
    await chat.send("hi")
    await chat.press("Talk to a person")
    handoff = await maria.handoff_of(chat)
    await chat.press("Leave the line")
    assert "You left the line. You are back with the assistant." in chat.text
    async with uow_factory() as uow:
        assert (await get_handoff(uow, handoff.id)).status == HandoffStatus.ABANDONED


async def test_outside_hours_a_secure_message_is_answered_in_the_chat(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock, maria: Agent
) -> None:
    clock.set(SATURDAY)
    engine = agent_engine(uow_factory, mailer, clock, FixedDesk(languages={"en"}, clock=clock))
    chat = FakeChat(engine)
    await chat.send("hi")
    await chat.press("Talk to a person")
    assert "They are back on Monday, March 9, 2026, 8:00\u202fAM (EDT)" in chat.text
    assert "1-800-375-5283" in chat.text
    await chat.press("Write a message")
    assert "Never write a password or a code." in chat.text
    assert "We will answer in this chat." in chat.text
    await chat.send("When will my interview be scheduled? IOE0912345678")
    assert "Your message was sent." in chat.text
    await maria.answer_secure_message("Your interview notice goes out next week.")
    [answer] = await received(uow_factory, chat)
    assert answer.text == "Our answer to your message:\n\nYour interview notice goes out next week."
    async with uow_factory() as uow:
        assert [n.channel for n in await pending_notifications(uow)] == []  # no email


async def test_a_signed_in_person_also_gets_the_answer_by_email(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock, maria: Agent
) -> None:
    engine = agent_engine(uow_factory, mailer, clock, FixedDesk(languages=(), hours=None))
    chat = FakeChat(engine, locale_hint="es")
    await sign_in(uow_factory, chat, DEMO_EMAIL)
    await chat.send("quiero hablar con una persona")
    assert "ningún agente" in chat.text.lower() or "agente" in chat.text
    await chat.press("Escribir un mensaje")
    assert "por correo" in chat.text
    await chat.send("¿Dónde está mi tarjeta?")
    await maria.answer_secure_message("Su tarjeta fue enviada.")
    async with uow_factory() as uow:
        rows = [(n.kind, n.channel, n.address) for n in await pending_notifications(uow)]
    assert ("agent_reply", "email", DEMO_EMAIL) in rows
    [answer] = await received(uow_factory, chat)
    assert "Su tarjeta fue enviada." in answer.text


async def test_a_code_in_a_secure_message_is_not_kept(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock
) -> None:
    engine = agent_engine(uow_factory, mailer, clock, FixedDesk(languages=(), hours=None))
    chat = FakeChat(engine)
    await chat.send("talk to a person")
    await chat.press("Write a message")
    await chat.send("I cannot sign in, my code 123456 fails")
    assert chat.turn.input_was_secret
    assert "Please write your message again without it." in chat.text
    await chat.send("I cannot sign in, my code fails")
    assert "Your message was sent." in chat.text


async def test_a_long_live_chat_does_not_time_the_flow_out(
    live: Engine, maria: Agent, clock: FakeClock
) -> None:
    chat = FakeChat(live)
    await chat.send("hi")
    await chat.press("Check a case status")
    await chat.send("talk to a person")
    await maria.claim(chat)
    clock.advance(hours=2)
    await chat.send("Thank you, that helps")
    assert chat.replies == []  # no "timed out" in the middle of the chat
    await chat.send("end chat")
    assert ASK_RECEIPT in chat.text


async def test_after_three_failed_tries_a_person_is_one_tap_away(live: Engine) -> None:
    chat = FakeChat(live)
    await chat.send("hi")
    await chat.press("Check a case status")
    for typed in ("A123456789", "12345", "A12345678"):
        await chat.send(typed)
    assert "USCIS Contact Center at 1-800-375-5283" in chat.text  # the numbers stay
    await chat.press("Talk to a person")
    assert "You are number 1 in the line" in chat.text


async def test_a_full_line_offers_a_secure_message(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock
) -> None:
    desk = FixedDesk(languages={"en"}, hours=None, queue_limit=1, uow_factory=uow_factory)
    engine = agent_engine(uow_factory, mailer, clock, desk)
    first, second = FakeChat(engine, chat_id="first"), FakeChat(engine, chat_id="second")
    await first.send("talk to a person")
    assert "number 1" in first.text
    await second.send("talk to a person")
    assert "no agent who speaks your language is free right now" in second.text
    assert "Write a message" in second.buttons


async def test_moving_up_to_the_head_of_the_line_is_told(
    live: Engine, maria: Agent, uow_factory: UnitOfWorkFactory
) -> None:
    ahead, chat = FakeChat(live, chat_id="ahead"), FakeChat(live)
    await ahead.send("talk to a person")
    await chat.send("talk to a person")
    assert "number 2" in chat.text
    await maria.claim(ahead)
    [moved] = await received(uow_factory, chat)
    assert moved.text == "You are next in line. An agent will be with you soon."


async def test_the_default_composition_offers_a_secure_message_and_the_phone(
    db: Database, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    """No staff can take a chat yet: the way to a person is a secure message, or a call."""
    app = App(settings=Settings(), db=db, uow_factory=uow_factory, clock=clock)
    chat = FakeChat(app.build_engine())
    await chat.send("I want to talk to a real person")
    assert "Write a message" in chat.buttons
    assert "1-800-375-5283" in chat.text


def newest_buttons(chat: FakeChat) -> list[str]:
    """The buttons under the newest message of the last turn: all the web widget shows."""
    return [button.label for button in chat.replies[-1].buttons]


async def test_a_waiting_person_keeps_the_way_out_of_the_line_under_the_newest_message(
    live: Engine, maria: Agent, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(live)
    await chat.send("hi")
    await chat.press("Talk to a person")
    assert "Check a case status" in newest_buttons(chat)  # the menu, as before
    assert newest_buttons(chat)[-1] == "Leave the line"
    handoff = await maria.handoff_of(chat)
    await chat.press("Check a case status")
    assert newest_buttons(chat)[-1] == "Leave the line"
    await chat.send("WAC2212345678")
    assert "Case Was Approved" in chat.text
    assert newest_buttons(chat)[-1] == "Leave the line"
    assert (await maria.handoff_of(chat)).id == handoff.id  # still in the line
    await chat.send("leave the line")  # the button's label, typed
    assert "You left the line. You are back with the assistant." in chat.text
    assert "Leave the line" not in newest_buttons(chat)
    async with uow_factory() as uow:
        assert (await get_handoff(uow, handoff.id)).status == HandoffStatus.ABANDONED


async def test_with_an_agent_every_answer_keeps_the_end_chat_button(
    live: Engine, maria: Agent
) -> None:
    chat = FakeChat(live)
    await chat.send("talk to a person")
    await maria.claim(chat)
    await chat.send("Sunflower-42!")  # withheld, with the reminder
    assert "it was not sent" in chat.text
    assert newest_buttons(chat) == ["End chat"]
    await chat.send("1")  # a number typed to the agent is a message, not a button's number
    assert chat.replies == []
    assert (await maria.handoff_of(chat)).status == HandoffStatus.CLAIMED
