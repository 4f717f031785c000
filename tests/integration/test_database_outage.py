"""The database out of reach for a while: a short localized answer, a 503 with Retry-After on
the HTTP API and the Telegram webhook, nothing crashes, nothing is lost, and the service comes
back by itself when the database does (no restart).

What "out of reach" is on each backend:

- PostgreSQL: a TCP proxy (``tests/tcp_proxy.py``) stands between casebot and the server; cut,
  every open connection is reset and new ones are refused, as when the server or the network
  goes down. The pool finds its connections dead (``pool_pre_ping``) and reconnects once the
  line is back.
- SQLite: another process holds the file's write lock (``BEGIN IMMEDIATE``, as a backup tool
  or an operator's ``sqlite3`` shell may) longer than the busy timeout; every casebot
  transaction starts with ``BEGIN IMMEDIATE``, so it cannot start. The busy timeout (10 s in
  production) is made 0.3 s here so the test does not sit out ten seconds per request.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

import core.db
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.webhook import SECRET_HEADER, TELEGRAM_KEY, add_webhook_route
from bot.channels.web.openapi import openapi_document
from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.wording.i18n import translator
from core.conversations import Conversation
from core.db import Database
from core.demo import load_demo
from core.inbox import InboxUpdate
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock, FakeMailer
from tests.integration.webchat_support import ChatSession, web_app_for
from tests.tcp_proxy import TcpProxy
from tests.telegram.fake_bot_api import FakeBotApi

TOKEN: Final = "987654321:AAH-fake-token-for-outage-tests-0123456"
SECRET: Final = "outage-webhook-secret"
WEBHOOK: Final = "/telegram/webhook"
CHAT: Final = 6161
UNAVAILABLE: Final = (
    "Sorry, we cannot reach our records right now. Please try again in a few minutes."
)
HOLD_THE_FILE: Final = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
"""


@dataclass
class Outage:
    """casebot's database (``db``), and a way to take it out of reach and back."""

    db: Database
    begin: Callable[[], Awaitable[None]]
    end: Callable[[], Awaitable[None]]


class FileLockHolder:
    """Another process holding the SQLite file's write lock."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.process: asyncio.subprocess.Process | None = None

    async def take(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            HOLD_THE_FILE,
            self.path,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        assert line.strip() == b"locked"

    async def release(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        assert process.stdin is not None
        process.stdin.write(b"\n")
        await process.stdin.drain()
        await asyncio.wait_for(process.wait(), 10)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> Database:
    """A migrated, empty database on each backend (as the ``db`` fixture)."""
    database: Database = request.getfixturevalue(f"{request.param}_db")
    return database


@pytest.fixture
async def outage(backend: Database, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Outage]:
    if backend.is_sqlite:
        monkeypatch.setattr(core.db, "SQLITE_BUSY_TIMEOUT_MS", 300)
        holder = FileLockHolder(backend.url.split(":///", 1)[1])
        yield Outage(backend, holder.take, holder.release)
        await holder.release()
        return
    direct = backend
    proxy = TcpProxy("127.0.0.1", direct.engine.url.port or 5432)
    await proxy.start()
    db = Database(direct.url.replace(f":{direct.engine.url.port or 5432}/", f":{proxy.port}/"))

    async def cut() -> None:
        proxy.cut()

    yield Outage(db, cut, proxy.restore)
    await proxy.stop()
    await db.dispose()


@pytest.fixture
def uow_factory(outage: Outage, clock: FakeClock) -> UnitOfWorkFactory:
    """casebot's units of work, on the database that goes away."""
    return UnitOfWorkFactory(outage.db, clock)


@pytest.fixture
def engine(uow_factory: UnitOfWorkFactory, clock: FakeClock) -> Engine:
    return Engine(Services(uow_factory, FakeMailer(), clock), all_dialogs())


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi(TOKEN)
    await server.start()
    yield server
    await server.stop()


@dataclass
class Served:
    client: TestClient[Any, Any]
    telegram: TelegramChannel


@pytest.fixture
async def served(
    outage: Outage, uow_factory: UnitOfWorkFactory, engine: Engine, clock: FakeClock,
    api: FakeBotApi,
) -> AsyncIterator[Served]:  # fmt: skip
    """The web app of ``casebot serve`` with the Telegram webhook on it, on the demo data."""
    await load_demo(uow_factory)
    web_app = web_app_for(outage.db, uow_factory, engine, clock)
    telegram = TelegramChannel(
        engine, TOKEN, api_url=api.url, webhook_url="https://x.test" + WEBHOOK,
        webhook_secret=SECRET, typing_after=0,  # a test holds the turn on its "typing..."
    )  # fmt: skip
    web_app[TELEGRAM_KEY] = telegram
    assert telegram.inbox is not None
    telegram.inbox.sweep_every = 3600  # the test sweeps itself, when it means to
    add_webhook_route(web_app, WEBHOOK, SECRET)
    client: TestClient[Any, Any] = TestClient(TestServer(web_app))
    await client.start_server()
    await telegram.start()
    try:
        yield Served(client, telegram)
    finally:
        await telegram.stop()
        await client.close()


async def post_update(client: TestClient[Any, Any], update: dict[str, Any]) -> Any:
    return await client.post(WEBHOOK, json=update, headers={SECRET_HEADER: SECRET})


def chat_texts(api: FakeBotApi) -> list[str]:
    return [c.text for c in api.calls_of("sendMessage", CHAT) if c.ok]


async def handled(uow_factory: UnitOfWorkFactory, update_id: int) -> bool:
    async with uow_factory() as uow:
        row = await uow.session.scalar(
            select(InboxUpdate).where(InboxUpdate.update_id == update_id)
        )
        return row is not None and row.handled_at is not None


# --- the web chat API ------------------------------------------------------------------------


async def test_the_web_api_answers_503_with_retry_after_then_recovers_without_a_restart(
    served: Served, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    chat = await ChatSession.open(served.client)
    await chat.send("hi")
    await outage.begin()

    response = await chat.post({"text": "WAC2212345678"})
    assert response.status == 503
    assert response.headers["Retry-After"] == "5"
    assert (await response.json())["error"]["code"] == "unavailable"
    opened = await served.client.post("/api/chat/sessions", json={})
    assert opened.status == 503
    assert (await served.client.get("/healthz")).status == 503
    assert (await served.client.get("/livez")).status == 200  # alive: no restart would help
    ready = await served.client.get("/readyz")
    assert (ready.status, (await ready.json())["checks"]["database"]) == (503, "down")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # an outage, no bug
    documented = openapi_document()["paths"]["/api/chat/sessions/{session_id}/messages"]
    assert "503" in documented["post"]["responses"]  # as the OpenAPI document says

    await outage.end()
    await chat.send("WAC2212345678")  # the same connection pool, the same process
    assert "Case Was Approved" in chat.text
    assert (await served.client.get("/healthz")).status == 200


# --- the engine ------------------------------------------------------------------------------


async def test_a_turn_during_an_outage_gets_a_short_answer_in_the_chats_language(
    outage: Outage, engine: Engine, uow_factory: UnitOfWorkFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    await load_demo(uow_factory)
    chat = FakeChat(engine, locale_hint="fr")
    await chat.send("bonjour")
    await chat.press(translator("fr")._("Check a case status"))
    await outage.begin()

    turn = await chat.send("WAC2212345678")

    assert turn.unavailable
    assert [r.text for r in turn.replies] == [translator("fr")._(UNAVAILABLE)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await outage.end()
    await chat.send("WAC2212345678")  # the step it was at: nothing moved
    assert translator("fr")._("Case Was Approved") in chat.text


# --- the Telegram webhook --------------------------------------------------------------------


async def test_a_webhook_update_refused_during_the_outage_is_handled_once_when_redelivered(
    served: Served, outage: Outage, api: FakeBotApi, uow_factory: UnitOfWorkFactory
) -> None:
    await outage.begin()
    update = api.message(CHAT, "WAC2212345678")
    response = await post_update(served.client, update)
    assert response.status == 503  # Telegram keeps the update and delivers it again
    assert response.headers["Retry-After"] == "5"

    await outage.end()
    for _ in range(2):  # Telegram's redelivery, and one more for good measure
        assert (await post_update(served.client, update)).status == 200
        assert served.telegram.inbox is not None
        await served.telegram.inbox.settled()
    assert sum("Case Was Approved" in t for t in chat_texts(api)) == 1
    assert await handled(uow_factory, update["update_id"])


async def test_an_update_whose_turn_meets_the_outage_is_kept_and_answered_when_it_ends(
    served: Served, outage: Outage, api: FakeBotApi, uow_factory: UnitOfWorkFactory,
    clock: FakeClock,
) -> None:  # fmt: skip
    inbox = served.telegram.inbox
    assert inbox is not None
    api.hold("sendChatAction", after=0)  # the turn waits on its typing indicator...
    update = api.message(CHAT, "WAC2212345678")
    assert (await post_update(served.client, update)).status == 200  # stored
    await until(lambda: [c.status for c in api.calls_of("sendChatAction")] == [0])
    await outage.begin()  # ...while the database goes away
    api.release()
    api.hold("sendMessage", after=0)  # the "unavailable" answer is on its way...
    await until(lambda: [c.status for c in api.calls_of("sendMessage")] == [0])  # in flight
    await outage.end()  # ...when the database comes back: the update must not pass as done
    api.release()
    await inbox.settled()
    assert chat_texts(api) == [UNAVAILABLE]  # told, in its language (en)
    assert not await handled(uow_factory, update["update_id"])

    clock.advance(minutes=1)
    assert await inbox.sweep() == 1  # what the sweeper does every few seconds
    texts = chat_texts(api)
    assert texts[0] == UNAVAILABLE
    assert sum("Case Was Approved" in t for t in texts) == 1
    assert await handled(uow_factory, update["update_id"])
    async with uow_factory() as uow:
        last = await uow.session.scalar(
            select(Conversation.last_update_id).where(Conversation.chat_id == str(CHAT))
        )
    assert last == update["update_id"]


async def test_a_chat_is_told_once_however_often_its_update_meets_the_outage(
    served: Served,
) -> None:
    inbox = served.telegram.inbox
    assert inbox is not None
    assert inbox.defer(4242)  # the first time: say it
    assert not inbox.defer(4242)  # the sweeper's later tries: quiet
    assert inbox.defer(4243)


async def until(condition: Callable[[], bool], within: float = 10) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


# --- a network that drops packets without a word (PostgreSQL) --------------------------------


@pytest.mark.postgres
async def test_a_database_that_stops_answering_is_an_outage_after_the_timeout_not_a_hang(
    postgres_db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing is refused, nothing comes back: without a statement timeout a turn would wait
    # until TCP gives up (hours), holding its chat. The timeouts (30 s and 10 s in production)
    # are a second here.
    monkeypatch.setattr(core.db, "PG_COMMAND_TIMEOUT_SECONDS", 1)
    monkeypatch.setattr(core.db, "PG_CONNECT_TIMEOUT_SECONDS", 1)
    proxy = TcpProxy("127.0.0.1", postgres_db.engine.url.port or 5432)
    await proxy.start()
    db = Database(postgres_db.engine.url.set(port=proxy.port).render_as_string(False))
    uow_factory = UnitOfWorkFactory(db, clock)
    engine = Engine(Services(uow_factory, FakeMailer(), clock), all_dialogs())
    client: TestClient[Any, Any] = TestClient(
        TestServer(web_app_for(db, uow_factory, engine, clock))
    )
    await client.start_server()
    try:
        await load_demo(uow_factory)
        chat = await ChatSession.open(client)
        await chat.send("hi")
        proxy.stall()
        started = asyncio.get_running_loop().time()
        response = await asyncio.wait_for(chat.post({"text": "WAC2212345678"}), 20)
        assert response.status == 503
        assert asyncio.get_running_loop().time() - started < 10
        proxy.flow()
        await chat.send("WAC2212345678")
        assert "Case Was Approved" in chat.text
    finally:
        await client.close()
        await proxy.stop()
        await db.dispose()
