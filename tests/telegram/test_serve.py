"""``casebot serve`` with TELEGRAM_BOT_TOKEN and CASEBOT_WEBHOOK_URL: the webhook lives on the
same aiohttp server as the web chat, at the URL's path, behind the derived secret."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.channels.telegram.webhook import SECRET_HEADER, setup_telegram, webhook_secret
from bot.channels.web.server import create_web_app
from bot.settings import Settings
from tests.telegram.conftest import CHAT, TOKEN
from tests.telegram.fake_bot_api import FakeBotApi

SECRET_KEY = "a-secret-key-of-at-least-32-characters!"


async def test_serves_the_webhook_next_to_the_web_chat(api: FakeBotApi, tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'casebot.sqlite3'}",
        secret_key=SECRET_KEY,
        telegram_token=TOKEN,
        telegram_api_url=api.url,
        webhook_url="https://bot.example.test/hooks/tg",
        var_dir=tmp_path,
    )
    app = build_app(settings)

    async def startup(_web_app: web.Application) -> None:
        await app.prepare_database(demo_if_empty=True)

    async def cleanup(_web_app: web.Application) -> None:
        await app.close()

    web_app = create_web_app(app)
    web_app.on_startup.append(startup)
    web_app.on_cleanup.append(cleanup)
    setup_telegram(web_app, app)
    async with TestClient(TestServer(web_app)) as client:
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
