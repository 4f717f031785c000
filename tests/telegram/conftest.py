"""The real python-telegram-bot Application, run by our TelegramChannel against the fake Bot API
server, in polling or webhook mode; a person in a chat is a ``TelegramUser``.

The engine is the `engine` fixture's (SQLite and PostgreSQL, FakeClock on Monday 2026-03-02).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from telegram import Update
from telegram.ext import BaseRateLimiter, ContextTypes, TypeHandler

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.webhook import SECRET_HEADER, TELEGRAM_KEY, add_webhook_route
from bot.engine import Engine
from core.db import Database
from tests.telegram.fake_bot_api import Call, FakeBotApi

TOKEN: Final = "123456789:AAF-fake-token-for-tests-0123456789ab"
WEBHOOK_URL: Final = "https://bot.example.test/telegram/webhook"
WEBHOOK_PATH: Final = "/telegram/webhook"
WEBHOOK_SECRET: Final = "s3cret-webhook-token"
CHAT: Final = 4242


class Harness:
    """Delivers updates (polled or POSTed) and waits until the bot has finished each."""

    def __init__(
        self, api: FakeBotApi, channel: TelegramChannel, client: TestClient[Any, Any] | None
    ) -> None:
        self.api = api
        self.channel = channel
        self.client = client
        self._done: Counter[int] = Counter()
        self._finished = asyncio.Condition()
        channel.application.add_handler(TypeHandler(Update, self._mark), group=1)

    async def _mark(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        async with self._finished:
            self._done[update.update_id] += 1
            self._finished.notify_all()

    async def deliver(self, *updates: dict[str, Any], wait: bool = True) -> list[Call]:
        """Hand updates to the bot and return the calls it made until it finished them."""
        start = len(self.api.calls)
        expected = Counter(self._done)
        for update in updates:
            # Each update once: in webhook mode a repeated one stops at the inbox, unhandled.
            expected[update["update_id"]] = self._done[update["update_id"]] or 1
            if self.client is None:
                self.api.push(update)
            else:
                response = await self.client.post(
                    WEBHOOK_PATH, json=update, headers={SECRET_HEADER: WEBHOOK_SECRET}
                )
                assert response.status == 200, await response.text()
        if wait:
            async with self._finished:
                await asyncio.wait_for(
                    self._finished.wait_for(
                        lambda: all(self._done[k] >= n for k, n in expected.items())
                    ),
                    timeout=15,
                )
        return self.api.calls[start:]

    def user(self, chat_id: int = CHAT, language_code: str | None = "en") -> TelegramUser:
        return TelegramUser(self, chat_id, language_code)


class TelegramUser:
    """One person in one private chat with the bot."""

    def __init__(self, harness: Harness, chat_id: int, language_code: str | None) -> None:
        self.harness = harness
        self.api = harness.api
        self.chat_id = chat_id
        self.language_code = language_code
        self.last: list[Call] = []
        self.last_update: dict[str, Any] = {}

    async def send(self, text: str) -> list[Call]:
        update = self.api.message(self.chat_id, text, language_code=self.language_code)
        return await self._deliver(update)

    async def press(self, label: str) -> list[Call]:
        """Press the newest button with this label in this chat."""
        for call in reversed(self.api.calls_of("sendMessage", self.chat_id)):
            markup = call.json("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if button["text"].casefold() == label.casefold():
                        update = self.api.callback(
                            self.chat_id,
                            button["callback_data"],
                            int(call.params["_message_id"]),
                            language_code=self.language_code,
                            text=call.text,
                            reply_markup=markup,
                        )
                        return await self._deliver(update)
        raise AssertionError(f"no button {label!r}; the last buttons are {self.buttons}")

    async def _deliver(self, update: dict[str, Any]) -> list[Call]:
        self.last_update = update
        self.last = await self.harness.deliver(update)
        return self.last

    @property
    def text(self) -> str:
        """The texts sent to this chat in the last exchange."""
        return "\n".join(
            c.text for c in self.last if c.method == "sendMessage" and c.chat_id == self.chat_id
        )

    @property
    def buttons(self) -> list[str]:
        return [
            label
            for c in self.last
            if c.method == "sendMessage" and c.chat_id == self.chat_id
            for label in c.button_labels
        ]

    def methods(self) -> list[str]:
        return [c.method for c in self.last if c.method != "getUpdates"]


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi(TOKEN)
    await server.start()
    yield server
    await server.stop()


@asynccontextmanager
async def running(
    api: FakeBotApi,
    engine: Engine,
    mode: str,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    typing_after: float = 0,
) -> AsyncIterator[Harness]:
    """The bot polling the fake server, or on our aiohttp server's webhook route. "Typing..."
    is shown at once unless ``typing_after`` says otherwise (tests read the calls in order)."""
    if mode == "polling":
        channel = TelegramChannel(
            engine,
            TOKEN,
            api_url=api.url,
            poll_timeout=1,
            rate_limiter=rate_limiter,
            typing_after=typing_after,
        )
        harness = Harness(api, channel, None)
        await channel.start()
        try:
            yield harness
        finally:
            await channel.stop()
        return
    channel = TelegramChannel(
        engine,
        TOKEN,
        api_url=api.url,
        webhook_url=WEBHOOK_URL,
        webhook_secret=WEBHOOK_SECRET,
        rate_limiter=rate_limiter,
        typing_after=typing_after,
    )
    web_app = web.Application()
    web_app[TELEGRAM_KEY] = channel
    add_webhook_route(web_app, WEBHOOK_PATH, WEBHOOK_SECRET)
    client: TestClient[Any, Any] = TestClient(TestServer(web_app))
    await client.start_server()
    await channel.start()
    assert channel.inbox is not None
    await channel.inbox.settled()  # its first look at what was pending: tests store after it
    try:
        yield Harness(api, channel, client)
    finally:
        await channel.stop()
        await client.close()


@pytest.fixture
async def polling(api: FakeBotApi, engine: Engine, demo: None) -> AsyncIterator[Harness]:
    async with running(api, engine, "polling") as harness:
        yield harness


@pytest.fixture
async def webhook(api: FakeBotApi, engine: Engine, demo: None) -> AsyncIterator[Harness]:
    async with running(api, engine, "webhook") as harness:
        yield harness


@pytest.fixture(params=["polling", "webhook"])
async def bot(
    request: pytest.FixtureRequest, api: FakeBotApi, engine: Engine, demo: None
) -> AsyncIterator[Harness]:
    """The bot in either mode: a test using it runs in both."""
    async with running(api, engine, request.param) as harness:
        yield harness


@pytest.fixture
def db(sqlite_db: Database) -> Database:
    """SQLite only: the adapter does not depend on the database, and the engine's own tests run
    on both; this keeps the Telegram suite fast."""
    return sqlite_db
