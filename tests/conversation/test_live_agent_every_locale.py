"""Talking to a person in each of the 11 languages, with the real catalogs: the line, the
agent's claim, messages both ways, "end chat" typed in the language, back to the assistant;
and with no agent, a secure message whose answer reaches the chat (and a signed-in person's
email). Every reply comes from the locale's catalog (``assert_no_english``)."""

from __future__ import annotations

import pytest

from bot.dialogs.model import Reply
from bot.engine import Engine
from bot.wording.i18n import LOCALES, translator
from core.demo import DEMO_EMAIL
from core.handoff import FixedDesk
from core.outbox.service import pending_notifications
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.conversation.handoff_support import Agent, agent_engine, received, sign_in
from tests.conversation.test_every_locale import assert_no_english, translated
from tests.fakes import FakeClock, FakeMailer

pytestmark = pytest.mark.usefixtures("demo")

KEY_MSGIDS = (
    "Talk to a person",
    "You are now chatting with {name}.",
    "End chat",
    "Write a message",
    "Our answer to your message:",
    "You are next in line. An agent will be with you soon.",
)


def no_english_in(replies: list[Reply], locale: str) -> None:
    """The notifications, checked as the chat's turns are."""
    table = translated(locale)
    if locale == "en":
        return
    for reply in replies:
        for button in reply.buttons:
            assert button.label not in table, (locale, button.label)


@pytest.mark.parametrize("locale", LOCALES)
async def test_talking_to_a_person_in_each_language(
    locale: str,
    uow_factory: UnitOfWorkFactory,
    mailer: FakeMailer,
    clock: FakeClock,
) -> None:
    t = translator(locale)
    if locale != "en":
        for msgid in KEY_MSGIDS:
            assert msgid in translated(locale), f"{locale} does not translate {msgid!r}"
    desk = FixedDesk(languages={locale}, hours=None, uow_factory=uow_factory)
    engine: Engine = agent_engine(uow_factory, mailer, clock, desk)
    maria = Agent(uow_factory, 7, "Maria")

    # The line, the claim, both ways, the end, and the bot again.
    chat = FakeChat(engine, chat_id=f"live-{locale}", locale_hint=locale)
    await chat.send("")
    await chat.press(t._("Talk to a person"))
    assert t._("Leave the line") in chat.buttons
    handoff_id = await maria.claim(chat)
    joined = await received(uow_factory, chat)
    assert t._("You are now chatting with {name}.").format(name="Maria") in joined[0].text
    await chat.send("¿Hola? 你好? Xin chào?")
    assert chat.replies == []
    await maria.write(handoff_id, "Hello!")
    said = await received(uow_factory, chat)
    assert said[0].text == t._("{name}: {text}").format(name="Maria", text="Hello!")
    end_word = t._("end chat, leave chat, stop chat").split(",")[0].strip()
    await chat.send(end_word)
    assert (
        t._("The chat with {name} has ended. You are back with the assistant.").format(name="Maria")
        in chat.text
    )
    await chat.send("WAC2212345678")
    assert t._("Case Was Approved") in chat.text
    assert_no_english(chat, locale)
    no_english_in(joined + said, locale)

    # No agent: a secure message from a signed-in person, answered in the chat and by email.
    desk.available = False
    later = FakeChat(engine, chat_id=f"secure-{locale}", locale_hint=locale)
    await sign_in(uow_factory, later, DEMO_EMAIL)
    await later.send("")
    await later.press(t._("Talk to a person"))
    assert t._("Sorry, no agent who speaks your language is free right now.") in later.text
    await later.press(t._("Write a message"))
    assert t._("We will answer in this chat and by email.") in later.text
    await later.send("IOE0912345678 ?")
    assert t._("Thank you. Your message was sent. We will answer you here.") in later.text
    assert_no_english(later, locale)
    await maria.answer_secure_message("OK")
    [answer] = await received(uow_factory, later)
    assert answer.text == t._("Our answer to your message:") + "\n\nOK"
    async with uow_factory() as uow:
        emails = [n for n in await pending_notifications(uow) if n.channel == "email"]
    assert [(n.kind, n.address, n.payload["locale"]) for n in emails] == [
        ("agent_reply", DEMO_EMAIL, locale)
    ]
