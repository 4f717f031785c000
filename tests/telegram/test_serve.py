"""``casebot serve`` as ``bot/serve.py`` builds it: with TELEGRAM_BOT_TOKEN and
CASEBOT_WEBHOOK_URL the webhook lives on the same aiohttp server as the web chat, at the URL's
path, behind the derived secret; the world is built once; what starts with the server stops in
reverse order, after the web chat's sockets were told to reconnect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.channels.background import DISPATCHER_KEY, METRICS_KEY
from bot.channels.telegram.webhook import SECRET_HEADER, TELEGRAM_KEY, webhook_secret
from bot.channels.web.api import HUB_KEY
from bot.serve import build_server
from bot.settings import Settings
from tests.integration.webchat_support import ChatSession
from tests.telegram.conftest import CHAT, TOKEN
from tests.telegram.fake_bot_api import FakeBotApi

SECRET_KEY = "a-secret-key-of-at-least-32-characters!"


def _settings(api: FakeBotApi, tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'casebot.sqlite3'}",
        secret_key=SECRET_KEY,
        telegram_token=TOKEN,
        telegram_api_url=api.url,
        webhook_url="https://bot.example.test/hooks/tg",
        var_dir=tmp_path,
    )


async def test_serves_the_webhook_next_to_the_web_chat(api: FakeBotApi, tmp_path: Path) -> None:
    app = build_app(_settings(api, tmp_path))
    async with TestClient(TestServer(build_server(app, demo=True))) as client:
        assert api.webhook is not None
        assert api.webhook["url"] == "https://bot.example.test/hooks/tg"
        secret = webhook_secret(SECRET_KEY)
        assert api.webhook["secret_token"] == secret
        update = api.message(CHAT, "WAC2212345678")
        refused = await client.post("/hooks/tg", json=update, headers={SECRET_HEADER: "x"})
        assert refused.status == 403
        accepted = await client.post("/hooks/tg", json=update, headers={SECRET_HEADER: secret})
        assert accepted.status == 200
        for _ in range(100):
            if api.calls_of("sendMessage", CHAT):
                break
            await asyncio.sleep(0.05)
        texts = "\n".join(c.text for c in api.calls_of("sendMessage", CHAT))
        assert "Case Was Approved" in texts
        health = await client.get("/healthz")
        assert health.status == 200


async def test_the_web_chat_telegram_and_the_notifier_share_one_engine_and_its_metrics(
    api: FakeBotApi, tmp_path: Path
) -> None:
    app = build_app(_settings(api, tmp_path))
    try:
        web_app = build_server(app)
        hub, telegram, metrics = web_app[HUB_KEY], web_app[TELEGRAM_KEY], web_app[METRICS_KEY]
        assert telegram.engine is hub.engine
        # Told about every turn from the start, not patched on afterwards.
        assert hub.engine.observer is metrics
        assert telegram.inbox is not None
        assert telegram.inbox.metrics is metrics
        assert web_app[DISPATCHER_KEY].metrics is metrics
        assert metrics.registry is hub.metrics.registry  # the one /metrics serves
    finally:
        await app.close()


Context = Callable[[web.Application], AsyncIterator[None]]


def _recorded(context: Context, events: list[str]) -> Context:
    name = context.__name__

    async def recording(web_app: web.Application) -> AsyncIterator[None]:
        running = context(web_app)
        await anext(running)
        events.append(f"started {name}")
        yield
        async for _ in running:  # the rest of the generator: the stop
            pass
        events.append(f"stopped {name}")

    return recording


def _record(web_app: web.Application, events: list[str]) -> None:
    """Record each start, stop and shutdown step of ``web_app`` in ``events``, by name."""
    contexts = list(web_app.cleanup_ctx)
    web_app.cleanup_ctx.clear()
    web_app.cleanup_ctx.extend(_recorded(context, events) for context in contexts)

    def told(handler: Callable[[web.Application], object]) -> Callable[..., object]:
        async def telling(target: web.Application) -> None:
            await handler(target)  # type: ignore[misc]
            events.append(f"shut down {handler.__name__.lstrip('_')}")

        return telling

    handlers = list(web_app.on_shutdown)
    web_app.on_shutdown.clear()
    web_app.on_shutdown.extend(told(handler) for handler in handlers)


async def test_stops_in_reverse_order_of_start_after_telling_the_sockets_to_reconnect(
    api: FakeBotApi, tmp_path: Path
) -> None:
    app = build_app(_settings(api, tmp_path))
    web_app = build_server(app, demo=True)
    # Every start has its stop: nothing but aiohttp's runner of the cleanup contexts.
    assert len(web_app.on_startup) == 1
    assert len(web_app.on_cleanup) == 1
    events: list[str] = []
    _record(web_app, events)
    async with TestClient(TestServer(web_app)) as client:
        session = await ChatSession.open(client)
        ws = await client.ws_connect(f"/api/chat/sessions/{session.id}/ws?token={session.token}")
        closed = asyncio.create_task(ws.receive())
        assert events[-1] == "started uscis_poller"
        await client.server.close()  # as at SIGTERM, with the socket open
        message = await asyncio.wait_for(closed, 10)
        assert message.type is WSMsgType.CLOSE
        assert message.data == 1012  # service restart: the widget reconnects
    assert events == [
        "started database",
        "started web_chat",
        "started telegram",
        "started notifications",
        "started uscis_poller",
        "shut down close_sockets",
        "shut down stop_hub",  # the agent console's live events
        "stopped uscis_poller",
        "stopped notifications",
        "stopped telegram",
        "stopped web_chat",
        "stopped database",
    ]
