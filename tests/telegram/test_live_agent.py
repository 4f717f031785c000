"""A live chat on Telegram, through the real Application and the fake Bot API: the agent's
claim and messages go out through the outbox dispatcher within the per-chat limits, what the
person types goes to the agent, a password typed to the agent is deleted from the chat and
withheld, and the notice's "End chat" button ends the chat. The newest message keeps the way
out: "Leave the line" under the menu while waiting, "End chat" under the bot's own answers.
While an agent has the chat, the bot shows no "typing" when the person writes (it is not the
bot that answers)."""

from __future__ import annotations

from bot.channels.telegram.sender import TelegramSender
from bot.notify.dispatcher import OutboxDispatcher
from core.handoff import FixedDesk, Sender, handoff_messages
from core.uow import UnitOfWorkFactory
from tests.conversation.handoff_support import Agent, agent_engine
from tests.fakes import FakeClock, FakeMailer
from tests.telegram.conftest import CHAT, running
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.test_channel import ScheduleRecorder

AGENT_MESSAGES = 4  # past the burst of 3 a chat may get at once


async def test_a_live_chat_on_telegram(
    api: FakeBotApi, uow_factory: UnitOfWorkFactory, clock: FakeClock, demo: None
) -> None:
    desk = FixedDesk(languages={"en"}, hours=None)
    engine = agent_engine(uow_factory, FakeMailer(), clock, desk)
    limiter = ScheduleRecorder()
    maria = Agent(uow_factory, 7, "Maria")
    async with running(api, engine, "polling", rate_limiter=limiter) as bot:
        dispatcher = OutboxDispatcher(uow_factory, clock, [TelegramSender(bot.channel)])
        person = bot.user()
        await person.send("I want to talk to a person")
        assert "You are number 1 in the line" in person.text
        assert "sendChatAction" in person.methods()  # the assistant answers: "typing"
        menu = api.calls_of("sendMessage", CHAT)[-1]
        assert menu.button_labels[-1] == "Leave the line"  # under the menu that follows
        handoff = await maria.handoff_of_chat("telegram", str(CHAT))
        await maria.claim_id(handoff)
        await dispatcher.run_once("telegram")
        joined = [c for c in api.calls_of("sendMessage", CHAT) if "now chatting" in c.text]
        assert [c.button_labels for c in joined] == [["End chat"]]

        await person.send("My card did not arrive")
        assert "sendMessage" not in person.methods()  # to Maria: nothing sent back
        assert "sendChatAction" not in person.methods()  # no "typing": the bot is not writing
        await person.send("Sunflower-42!")
        assert "deleteMessage" in person.methods()
        assert "it was not sent" in person.text
        assert api.calls_of("sendMessage", CHAT)[-1].button_labels == ["End chat"]

        limiter.delays.clear()
        for n in range(AGENT_MESSAGES):
            await maria.write(handoff, f"Message {n}")
        report = await dispatcher.run_once("telegram")
        assert report.sent == AGENT_MESSAGES
        sent = [c.text for c in api.calls_of("sendMessage", CHAT) if c.text.startswith("Maria:")]
        assert sent == [f"Maria: Message {n}" for n in range(AGENT_MESSAGES)]
        assert len(limiter.delays) == AGENT_MESSAGES
        assert limiter.delays[-1][1] > 0  # spaced by the chat's own limit, not sent at once

        await person.press("End chat")
        assert "The chat with Maria has ended" in person.text
    async with uow_factory() as uow:
        said = [(m.sender, m.text) for m in await handoff_messages(uow, handoff)]
    assert (Sender.PERSON, "My card did not arrive") in said
    assert all("Sunflower" not in text for _, text in said)
