"""Questions get answers, not flows: the topic's short answer with its official page and the
flow that helps as a button, in the person's language; a question in the middle of a flow is
answered and the flow goes on where it was; a scam question gets the warning in every
language; a password prompt takes a password as a password.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.engine import Engine
from bot.knowledge import knowledge_base
from bot.knowledge.base import LANGUAGES
from core.accounts.links import ChannelLink
from core.conversations import Conversation
from core.demo import DEMO_EMAIL, DEMO_PASSWORD
from core.processing_times import parse_processing_times, replace_processing_times
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.conversation.test_appointments import (
    READY,
    WEDNESDAY,
    at,
    sign_in,
    to_phoenix_times,
)
from tests.eval.topic_questions import load_questions

pytestmark = pytest.mark.usefixtures("demo")

SAFETY = ("scam_call", "scam_payment", "deportation_threat")


async def flows(uow_factory: UnitOfWorkFactory, chat: FakeChat) -> list[str]:
    async with uow_factory() as uow:
        conversation = await uow.session.scalar(
            select(Conversation).where(
                Conversation.channel == chat.channel, Conversation.chat_id == chat.chat_id
            )
        )
        assert conversation is not None
        return [frame["d"] for frame in conversation.state.get("stack", [])]


def answer(topic: str, locale: str = "en") -> str:
    return knowledge_base().wording(topic, locale).answer


async def test_a_question_at_the_menu_gets_the_answer_its_page_and_the_flow_as_a_button(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine)
    await chat.send("where do I find my receipt number?")
    assert answer("receipt_number") in chat.text
    assert "https://egov.uscis.gov/" in chat.text
    assert not chat.asks_secret
    assert await flows(uow_factory, chat) == ["menu"]  # no flow the person did not ask for
    await chat.press("Check my case now")
    assert await flows(uow_factory, chat) == ["menu", "case_status"]


@pytest.mark.parametrize(
    "text",
    [
        "where do I find my USCIS online account number",
        "is the account number the same as my A-number",
        "what is my infopass number",
        "how long does an I-765 take",
    ],
)
async def test_the_questions_that_started_flows_are_answered(
    engine: Engine, uow_factory: UnitOfWorkFactory, text: str
) -> None:
    chat = FakeChat(engine)
    await chat.send(text)
    assert await flows(uow_factory, chat) == ["menu"]
    assert "https://" in chat.text
    assert "email address" not in chat.text
    assert "receipt number." not in chat.text.split("\n")[-1]


async def test_a_spanish_question_is_answered_in_spanish(engine: Engine) -> None:
    chat = FakeChat(engine, locale_hint="es")
    await chat.send("donde esta mi numero de recibo??")
    assert answer("receipt_number", "es") in chat.text
    assert "Ver mi caso ahora" in chat.buttons


async def test_commands_still_start_their_flows(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine, chat_id="c1")
    await chat.send("check my case")
    assert await flows(uow_factory, chat) == ["menu", "case_status"]
    other = FakeChat(engine, chat_id="c2")
    await other.send("I forgot my password")
    assert "forgot_password" in await flows(uow_factory, other)


async def test_a_question_mid_booking_is_answered_and_the_booking_goes_on(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in(uow_factory)
    await to_phoenix_times(chat)
    before = await flows(uow_factory, chat)
    await chat.send("what do I need to take with me to the appointment?")
    assert answer("what_to_bring") in chat.text
    assert "Times are local time in Phoenix (MST)" in chat.text  # the same step again
    assert await flows(uow_factory, chat) == before
    await chat.press(at("7:30 AM"))
    assert f"When: {WEDNESDAY}, {at('7:30 AM')} (MST)" in chat.text
    assert f"Case: {READY}" in chat.text
    await chat.press("Confirm")
    assert "Your appointment is booked." in chat.text


async def test_a_question_at_a_typed_step_is_answered_and_the_step_asked_again(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine)
    await chat.send("check my case")
    await chat.send("where do i find the receipt number")
    assert answer("receipt_number") in chat.text
    assert await flows(uow_factory, chat) == ["menu", "case_status"]
    await chat.send("WAC2212345678")
    assert "Case Was Approved" in chat.text


async def test_a_question_at_the_password_prompt_is_answered_and_a_password_is_a_password(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine)
    await chat.send("sign in")
    await chat.send(DEMO_EMAIL)
    assert chat.asks_secret
    await chat.send("someone called me asking for my password, is that really USCIS?")
    assert answer("scam_call") in chat.text
    assert chat.asks_secret  # still the password prompt
    assert "someone called" not in chat.text  # never echoed
    await chat.send(DEMO_PASSWORD)
    assert "authenticator app" in chat.text  # the password was taken as the password
    assert answer("scam_call") not in chat.text


async def test_a_password_that_looks_like_words_is_still_the_password(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine)
    await chat.send("sign in")
    await chat.send(DEMO_EMAIL)
    await chat.send("receipt number")  # a wrong password, not a question
    assert answer("receipt_number") not in chat.text
    async with uow_factory() as uow:
        assert await uow.session.scalar(select(ChannelLink)) is None


async def test_a_question_no_topic_fits_says_so_and_offers_topics_and_a_person(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine)
    await chat.send("what is the best pizza in chicago?")
    assert "Sorry, I don't have an answer to that question." in chat.text
    assert knowledge_base().wording("contact_center", "en").title in chat.buttons
    assert await flows(uow_factory, chat) == ["menu"]
    await chat.press(knowledge_base().wording("contact_center", "en").title)
    assert "1-800-375-5283" in chat.text


def _scam_question(locale: str) -> tuple[str, str]:
    """The first scam question of the language's evaluation set."""
    for question in load_questions(locale):
        if question.topic in SAFETY:
            return question.topic, question.text
    raise AssertionError(f"{locale}: the evaluation set has no scam question")


# Every one of the eleven languages: a language without its files fails here.
@pytest.mark.parametrize("locale", LANGUAGES)
async def test_a_scam_question_gets_the_warning_in_every_language(
    engine: Engine, uow_factory: UnitOfWorkFactory, locale: str
) -> None:
    topic, text = _scam_question(locale)
    chat = FakeChat(engine, locale_hint=locale)
    await chat.send(text)
    assert answer(topic, locale) in chat.text
    assert knowledge_base().topics[topic].source in chat.text
    assert await flows(uow_factory, chat) == ["menu"]
    assert not chat.asks_secret


async def test_processing_times_loaded_for_the_form_are_shown_with_their_date(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    rows = parse_processing_times(
        b"form,office,range,date\n"
        b"I-765,National Benefits Center,3 to 7 months,2026-11-20\n"
        b"I-765,Potomac Service Center,5 to 9 months,2026-11-20\n"
    )
    async with uow_factory() as uow:
        await replace_processing_times(uow, rows)
        await uow.commit()
    chat = FakeChat(engine, chat_id="c1")
    await chat.send("how long does an i765 take?")
    assert "Processing times for I-765, as published on November 20, 2026:" in chat.text
    assert "National Benefits Center: 3 to 7 months" in chat.text
    assert "https://egov.uscis.gov/processing-times/" in chat.text
    other = FakeChat(engine, chat_id="c2")
    await other.send("how long does the N-400 take?")  # nothing loaded for it
    assert answer("processing_times") in other.text
    assert "as published on" not in other.text
