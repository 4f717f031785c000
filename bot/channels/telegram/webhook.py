"""Telegram on the casebot HTTP server: the webhook route, and starting the bot with the server.

In webhook mode Telegram POSTs each update to the path of ``CASEBOT_WEBHOOK_URL`` with the
secret given to ``setWebhook`` in the ``X-Telegram-Bot-Api-Secret-Token`` header; anything else
gets a 403. An accepted update is stored in the inbox (``telegram_inbox.py``) and answered 200
as soon as it is stored, so Telegram never waits on a turn, and several workers behind one URL
handle each chat's updates in order. Notifications are the outbox dispatcher's
(``bot/channels/background.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from bot.app import App
from bot.channels.telegram.channel import TelegramChannel, default_rate_limiter
from bot.channels.web.json_budget import parse_json
from bot.engine import Engine
from bot.ops.health import add_ready_check
from bot.ops.metrics import CasebotMetrics

__all__ = [
    "SECRET_HEADER",
    "TELEGRAM_KEY",
    "add_webhook_route",
    "parse_update",
    "setup_telegram",
    "webhook_path",
    "webhook_secret",
]

logger = logging.getLogger(__name__)

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
DEFAULT_PATH: Final = "/telegram/webhook"
TELEGRAM_KEY: Final = web.AppKey("telegram_channel", TelegramChannel)
# Telegram's updates are a few KiB; the server's own body limit is lower still.
MAX_UPDATE_BYTES: Final = 1024 * 1024
# The inbox stores update ids in a signed 64-bit column.
MAX_UPDATE_ID: Final = 2**63 - 1


def parse_update(raw: bytes) -> dict[str, Any]:
    """The JSON object of a webhook body, with an ``update_id`` the inbox can store.

    Raises:
        ValueError: not JSON within the budget (``json_budget``), not an object, or no
            ``update_id`` that is a whole number from 0 to 2**63 - 1.
    """
    data = parse_json(raw, max_bytes=MAX_UPDATE_BYTES)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    update_id = data.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int):
        raise ValueError("no update_id")
    if not 0 <= update_id <= MAX_UPDATE_ID:
        raise ValueError("update_id out of range")
    return data


def webhook_path(url: str) -> str:
    """The route path of a webhook URL (``/telegram/webhook`` when it names none)."""
    path = urlsplit(url).path
    return path if path not in ("", "/") else DEFAULT_PATH


def webhook_url(url: str) -> str:
    """The URL given to ``setWebhook``: with the default path when it names none."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=webhook_path(url)))


def webhook_secret(secret_key: str | None) -> str:
    """The webhook's secret token: derived from ``CASEBOT_SECRET_KEY`` (so every process behind
    a load balancer agrees), or random for this start when there is none. Hex digits only, as
    Telegram allows ``A-Z a-z 0-9 _ -``."""
    if secret_key is None:
        return secrets.token_hex(32)
    digest = hmac.new(secret_key.encode(), b"casebot telegram webhook", hashlib.sha256)
    return digest.hexdigest()


def add_webhook_route(web_app: web.Application, path: str, secret: str) -> None:
    """POST ``path``: check the secret header, queue the update for ``web_app[TELEGRAM_KEY]``."""
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, expected):
            logger.warning("Telegram webhook: refused a request without the right secret")
            return web.json_response(
                {"error": {"code": "forbidden", "message": "wrong secret token"}}, status=403
            )
        try:
            data = parse_update(await request.read())
        except ValueError:
            return web.json_response(
                {"error": {"code": "bad_update", "message": "not a Telegram update"}}, status=400
            )
        try:
            fed = await request.app[TELEGRAM_KEY].feed(data)
        except ValueError:
            fed = None
        if fed is None:
            return web.json_response(
                {"error": {"code": "bad_update", "message": "not a Telegram update"}}, status=400
            )
        if not fed:
            return web.json_response(
                {"error": {"code": "not_ready", "message": "the bot is starting"}}, status=503
            )
        return web.Response(status=200)

    web_app.router.add_post(path, receive)


def setup_telegram(
    web_app: web.Application, app: App, engine: Engine, metrics: CasebotMetrics | None = None
) -> TelegramChannel | None:
    """Run Telegram with the HTTP server when ``TELEGRAM_BOT_TOKEN`` is set: polling, or the
    webhook route when ``CASEBOT_WEBHOOK_URL`` is. The channel starts and stops as a
    ``cleanup_ctx`` entry appended here: append it after the database's, so no update is
    handled before the schema is there, nor after the database closed.

    Args:
        web_app: the web application (``bot.channels.web.server``).
        app: the composed application (its settings).
        engine: the dialog engine the channel hands each update to.
        metrics: where the webhook inbox counts updates.

    Returns:
        The channel (also ``web_app[TELEGRAM_KEY]``), or None when there is no token.

    Raises:
        ValueError: webhook mode without a secret (see ``TelegramChannel``).
    """
    settings = app.settings
    token = settings.telegram_token
    if token is None:
        return None
    url = webhook_url(settings.webhook_url) if settings.webhook_url else None
    secret = webhook_secret(settings.secret_key) if url else None
    channel = TelegramChannel(
        engine,
        token,
        api_url=settings.telegram_api_url,
        webhook_url=url,
        webhook_secret=secret,
        rate_limiter=default_rate_limiter(),
        metrics=metrics,
    )
    web_app[TELEGRAM_KEY] = channel
    add_ready_check(web_app, "telegram", lambda: channel.connected)
    if url is not None and secret is not None:
        add_webhook_route(web_app, webhook_path(url), secret)

    async def telegram(_web_app: web.Application) -> AsyncIterator[None]:
        await channel.start()
        yield
        await channel.stop()

    web_app.cleanup_ctx.append(telegram)
    return channel
