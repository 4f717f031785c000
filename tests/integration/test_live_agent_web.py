"""A live chat in the web widget's channel, through the HTTP API and the WebSocket: the
agent's claim and messages reach the page through the outbox (on one worker, and with the
person and the dispatcher on two workers of one PostgreSQL database), what the person types
reaches the agent, a password typed to the agent is masked in the transcript, and the notice's
"End chat" button ends the chat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.channels.background import setup_notifications
from bot.channels.web.server import create_web_app
from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.settings import Settings
from core.db import Database
from core.handoff import FixedDesk, Sender, handoff_messages, open_handoff
from core.uow import UnitOfWorkFactory
from tests.conversation.handoff_support import Agent
from tests.fakes import FakeClock, FakeMailer
from tests.integration.webchat_support import ChatSession


@asynccontextmanager
async def worker(
    db: Database, clock: FakeClock, *, dispatch: bool
) -> AsyncIterator[TestClient[Any, Any]]:
    """One worker's web app, whose agent desk takes English chats at any time."""
    uow_factory = UnitOfWorkFactory(db, clock)
    app = App(settings=Settings(), db=db, uow_factory=uow_factory, clock=clock)
    desk = FixedDesk(languages={"en"}, hours=None)
    services = Services(uow_factory=uow_factory, mailer=FakeMailer(), clock=clock, agent_desk=desk)
    web_app: web.Application = create_web_app(app, engine=Engine(services, all_dialogs()))
    setup_notifications(web_app, app, dispatch=dispatch, interval=0.05)
    async with TestClient(TestServer(web_app)) as client:
        yield client


async def frame_saying(ws: Any, text: str) -> dict[str, Any]:
    """The next message on the socket that says ``text`` (the socket also carries the turns'
    own messages)."""
    while True:
        frame: dict[str, Any] = await asyncio.wait_for(ws.receive_json(), 10)
        if text in frame.get("text", ""):
            return frame


def labels(message: dict[str, Any]) -> list[str]:
    return [button["label"] for button in message["buttons"]]


async def live_chat(person: TestClient[Any, Any], uow_factory: UnitOfWorkFactory) -> None:
    """The whole live chat; ``person`` is the worker the page talks to."""
    session = await ChatSession.open(person, locale="en")
    ws = await person.ws_connect(f"/api/chat/sessions/{session.id}/ws?token={session.token}")
    await session.send("I want to talk to a real person")
    assert "You are number 1 in the line" in session.text
    assert labels(session.replies[-1])[-1] == "Leave the line"  # under the menu that follows
    maria = Agent(uow_factory, 7, "Maria")
    async with uow_factory() as uow:
        handoff = await open_handoff(uow, "webchat", session.id)
    assert handoff is not None
    handoff_id = await maria.claim_id(handoff.id)

    joined = await frame_saying(ws, "You are now chatting with Maria.")
    assert await session.send("Where is my card?") == []  # no answer: the buttons stay
    replayed = [m for m in await session.transcript() if m["from"] == "bot"]
    assert labels(replayed[-1]) == ["End chat"]  # what a reloaded page shows
    withheld = await session.send("Sunflower-42!")  # withheld, with the reminder
    assert "it was not sent" in withheld[-1]["text"]
    assert labels(withheld[-1]) == ["End chat"]
    await maria.write(handoff_id, "It was mailed on Monday.")
    said = await frame_saying(ws, "It was mailed")
    assert said["text"] == "Maria: It was mailed on Monday."
    assert said["from"] == "bot"

    ended = await session.post({"payload": joined["buttons"][0]["payload"]})
    assert ended.status == 200
    assert "The chat with Maria has ended" in (await ended.json())["replies"][0]["text"]
    transcript = "\n".join(m["text"] for m in await session.transcript())
    assert "Where is my card?" in transcript
    assert "Sunflower" not in transcript
    async with uow_factory() as uow:
        messages = await handoff_messages(uow, handoff_id)
    assert (Sender.PERSON, "Where is my card?") in [(m.sender, m.text) for m in messages]
    await ws.close()


async def test_a_live_chat_in_the_web_widget(db: Database, clock: FakeClock) -> None:
    async with worker(db, clock, dispatch=True) as client:
        await live_chat(client, UnitOfWorkFactory(db, clock))


@pytest.mark.postgres
async def test_a_live_chat_with_the_dispatcher_on_another_worker(
    postgres_db: Database, clock: FakeClock
) -> None:
    other_process = Database(postgres_db.url)
    try:
        async with (
            worker(postgres_db, clock, dispatch=False) as a,
            worker(other_process, clock, dispatch=True),
        ):
            await live_chat(a, UnitOfWorkFactory(postgres_db, clock))
    finally:
        await other_process.dispose()
