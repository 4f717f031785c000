"""A web chat turn and its transcript (SQLite and PostgreSQL): written in the turn's own
transaction, mail only after it commits, a secret masked even when the turn fails."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.channels.web.chat import WebChatConfig
from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from core.db import Database
from core.demo import DEMO_EMAIL
from core.ports import OutgoingMail
from core.uow import UnitOfWorkFactory
from core.web_sessions import WebMessage
from tests.fakes import FakeClock, FakeMailer, break_every_flow
from tests.integration.webchat_support import ChatSession, web_app_for

pytestmark = pytest.mark.usefixtures("demo")

PASSWORD = "sunflower-passport-42"


class WatchingMailer(FakeMailer):
    """Records, as each mail goes out, how many transcript messages another connection sees:
    a mail sent while the turn's transaction is still open sees fewer (PostgreSQL) or waits
    for the write lock and gives up (SQLite: -1)."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        super().__init__()
        self.uow_factory = uow_factory
        self.visible: list[int] = []

    async def send(self, mail: OutgoingMail) -> None:
        async def count() -> int:
            async with self.uow_factory() as uow:
                return int(await uow.session.scalar(select(func.count(WebMessage.id))) or 0)

        # A fresh context: not inside the turn's unit of work, as another request would be.
        task = asyncio.create_task(count(), context=contextvars.Context())
        try:
            self.visible.append(await asyncio.wait_for(task, timeout=2))
        except TimeoutError:
            self.visible.append(-1)
        await super().send(mail)


async def _transcript_size(uow_factory: UnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count(WebMessage.id))) or 0)


async def test_a_turns_mail_goes_out_after_its_transcript_is_committed(
    aiohttp_client: Any, db: Database, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    mailer = WatchingMailer(uow_factory)
    engine = Engine(Services(uow_factory=uow_factory, mailer=mailer, clock=clock), all_dialogs())
    client: TestClient[Any, Any] = await aiohttp_client(web_app_for(db, uow_factory, engine, clock))
    chat = await ChatSession.open(client)
    await chat.send("hi")
    await chat.press("Password and sign-in help")
    await chat.press("I forgot my password")
    await chat.send(DEMO_EMAIL)
    assert "6-digit code" in chat.text
    assert len(mailer.sent) == 1
    # Everything of the mailing turn (the email typed, the replies) was already committed.
    assert mailer.visible == [await _transcript_size(uow_factory)]


async def test_a_secret_sent_to_a_failing_turn_is_masked_in_the_transcript(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = await ChatSession.open(client)
    await chat.send("sign in")
    await chat.send(DEMO_EMAIL)
    assert chat.replies[-1]["secret_input"] is True

    break_every_flow(monkeypatch)
    await chat.send(PASSWORD)
    assert "Sorry, something went wrong on our side" in chat.text
    said = [m["text"] for m in await chat.transcript() if m["from"] == "user"]
    assert said[-1] == "••••••"
    async with uow_factory() as uow:
        stored = list(await uow.session.scalars(select(WebMessage.text)))
    assert all(PASSWORD not in text for text in stored)


async def test_a_turn_that_fails_keeps_the_message_and_the_apology_once(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = await ChatSession.open(client)
    await chat.send("hi")
    before = await chat.transcript()

    original = Engine._finish_replies

    def finish_then_fail(self: Engine, turn: Any) -> Any:
        original(self, turn)
        raise RuntimeError("a bug after the replies were made")

    monkeypatch.setattr(Engine, "_finish_replies", finish_then_fail)
    await chat.send("menu")
    after = (await chat.transcript())[len(before) :]
    assert [(m["from"], m["text"][:5]) for m in after] == [("user", "menu"), ("bot", "Sorry")]


async def test_a_sessions_turn_lock_is_dropped_when_nobody_waits_for_it(
    client: TestClient[Any, Any],
) -> None:
    from bot.channels.web.api import HUB_KEY

    chats = [await ChatSession.open(client) for _ in range(3)]
    await asyncio.gather(*(chat.send("hi") for chat in chats), chats[0].send("menu"))
    hub = client.app[HUB_KEY]
    assert len(hub._locks) == 0  # one lock per session ever seen would grow without end
    assert hub._locks.waiting == 0


@pytest.mark.parametrize("chat_config", [WebChatConfig(rate_limit=3)])
async def test_a_failing_turn_still_counts_against_the_sessions_rate(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The count is made in the turn's own transaction, which a failing turn undoes: the
    # message must count all the same, or a turn that fails would be a way round the limit.
    chat = await ChatSession.open(client)

    break_every_flow(monkeypatch)
    for _ in range(3):
        await chat.send("hi")
        assert "Sorry, something went wrong on our side" in chat.text
    response = await chat.post({"text": "hi"})
    assert response.status == 429
