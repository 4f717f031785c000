"""The line for a person as it moves, and what agents see of why the person asked: each
waiting person is told their new place and wait when someone ahead leaves the line (claimed,
left, passed to another language), one notice per move at most and only when the place
changed; and the topic of a handoff is the last thing the person asked the assistant about.
The agent's side is played by the core services (tests/conversation/handoff_support.py)."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from core.handoff import FixedDesk, transfer
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.conversation.handoff_support import Agent, agent_engine, received
from tests.fakes import FakeClock, FakeMailer

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def desk(uow_factory: UnitOfWorkFactory) -> FixedDesk:
    return FixedDesk(languages={"en", "es"}, hours=None, uow_factory=uow_factory)


@pytest.fixture
def live(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock, desk: FixedDesk
) -> Engine:
    return agent_engine(uow_factory, mailer, clock, desk)


@pytest.fixture
def maria(uow_factory: UnitOfWorkFactory) -> Agent:
    return Agent(uow_factory, 7, "Maria")


async def _line(live: Engine, n: int, *, lang: str = "en") -> list[FakeChat]:
    chats = [FakeChat(live, chat_id=f"p{i}", locale_hint=lang) for i in range(n)]
    for chat in chats:
        await chat.send("talk to a person")
    return chats


async def test_everyone_behind_is_told_their_new_place_and_wait(
    live: Engine, maria: Agent, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    first, second, third, fourth = await _line(live, 4)
    assert "number 4" in fourth.text
    clock.advance(minutes=4)
    await maria.claim(first)  # waited 4 minutes: the wait of each one ahead now
    assert [r.text for r in await received(uow_factory, second)] == [
        "You are next in line. An agent will be with you soon."
    ]
    [moved] = await received(uow_factory, third)
    assert "you are now number 2 in the line" in moved.text
    assert "about 8 minutes" in moved.text
    [moved] = await received(uow_factory, fourth)
    assert "number 3" in moved.text
    assert "about 12 minutes" in moved.text


async def test_moves_not_sent_yet_are_one_notice_with_the_newest_place(
    live: Engine, maria: Agent, uow_factory: UnitOfWorkFactory
) -> None:
    first, second, third, fourth = await _line(live, 4)
    await maria.claim(first)
    await second.send("end chat")  # leaves the line before the notices went out
    assert [r.text for r in await received(uow_factory, second)] == []
    [moved] = await received(uow_factory, fourth)  # one notice, not two
    assert "you are now number 2 in the line" in moved.text
    [moved] = await received(uow_factory, third)
    assert moved.text == "You are next in line. An agent will be with you soon."


async def test_only_people_whose_place_changed_are_told(
    live: Engine, maria: Agent, uow_factory: UnitOfWorkFactory
) -> None:
    first, second, third = await _line(live, 3)
    await third.send("end chat")  # the last one leaves: nobody moves
    await maria.claim(first)
    [joined] = await received(uow_factory, first)
    assert joined.text.startswith("You are now chatting with Maria")
    assert len(await received(uow_factory, second)) == 1
    assert await received(uow_factory, third) == []
    other = (await _line(live, 1, lang="es"))[0]
    await maria.claim(second)
    assert await received(uow_factory, other) == []  # another language's line did not move


async def test_a_chat_passed_to_another_language_moves_that_line(
    live: Engine, maria: Agent, uow_factory: UnitOfWorkFactory
) -> None:
    first, second = await _line(live, 2)
    spanish = FakeChat(live, chat_id="es1", locale_hint="es")
    await spanish.send("hablar con una persona")
    handoff_id = await maria.claim(first)
    await received(uow_factory, second)
    async with uow_factory() as uow:
        await transfer(uow, handoff_id, maria.staff_id, to_language="es")
        await uow.commit()
    # The chat passed on is older: it is ahead of the Spanish one, who is now second.
    [moved] = await received(uow_factory, spanish)
    assert "2" in moved.text
    assert await received(uow_factory, second) == []  # the English line did not move


async def test_the_topic_is_the_last_question_the_person_asked(live: Engine, maria: Agent) -> None:
    chat = FakeChat(live)
    await chat.send("can i reschedule my appointment")
    await chat.send("talk to a person")
    assert (await maria.handoff_of(chat)).topic == "reschedule_rules"


async def test_the_topic_is_the_last_intent_not_the_flow_name(live: Engine, maria: Agent) -> None:
    chat = FakeChat(live)
    await chat.send("I want to check my case status")
    await chat.send("menu")
    await chat.press("Talk to a person")
    assert (await maria.handoff_of(chat)).topic == "case_status"


async def test_no_topic_when_the_person_asked_nothing(live: Engine, maria: Agent) -> None:
    chat = FakeChat(live)
    await chat.send("hi")
    await chat.press("Talk to a person")
    assert (await maria.handoff_of(chat)).topic is None


async def test_the_news_of_the_line_carries_the_way_out_of_it(
    live: Engine, maria: Agent, uow_factory: UnitOfWorkFactory
) -> None:
    first, second, third = await _line(live, 3)
    handoff_id = await maria.claim(first)
    [next_in_line] = await received(uow_factory, second)
    [moved] = await received(uow_factory, third)
    for notice in (next_in_line, moved):
        assert [b.label for b in notice.buttons] == ["Leave the line"]
    await received(uow_factory, first)
    async with uow_factory() as uow:
        await transfer(uow, handoff_id, maria.staff_id, to_language="es")
        await uow.commit()
    [passed_on] = await received(uow_factory, first)
    assert "passed to another agent" in passed_on.text
    assert [b.label for b in passed_on.buttons] == ["Leave the line"]
    await first.press_payload(passed_on.buttons[0].payload)
    assert "You left the line." in first.text
