"""The fake Bot API of the Telegram tests (``tests.telegram.fake_bot_api``) as a process of its
own, for the peers benchmark: ``python -m benchmarks.peers.fake_api --port P``.

On top of the tests' server it:
- stamps when each update is *delivered* (returned by ``getUpdates``, or POSTed to the webhook)
  and when each reply arrives (``sendMessage``, ``editMessageText``), on this process's
  monotonic clock, so a latency never mixes two processes' clocks;
- delivers every pushed update exactly once, even one whose ``update_id`` the bot has already
  confirmed: that is how the harness redelivers an update, as Telegram does when a bot did not
  confirm it (a crash, a restart, a webhook answer that timed out);
- in webhook mode POSTs updates to the bot the way Telegram does, with the ``secret_token`` the
  bot gave ``setWebhook``, at most ``MAX_CONNECTIONS`` requests in flight (Telegram's default)
  and one chat's next update only once its previous one was answered (Telegram's queue per
  chat);
- answers the harness on ``/control/...`` (push updates, read replies and deliveries, switch
  mode, reset).

Loopback only; it runs until terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections import Counter
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.telegram.fake_bot_api import Call, FakeBotApi

TOKEN: Final = "123456789:AAF-peers-benchmark-token-0123456789ab"  # noqa: S105 (fake)
MAX_CONNECTIONS: Final = 40
"""Webhook requests in flight at once: Telegram's default ``max_connections``."""
BATCH: Final = 100
"""Updates one ``getUpdates`` returns at most (Telegram's limit)."""
REPLIES: Final = {"sendMessage", "editMessageText"}


class BenchApi(FakeBotApi):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.pending: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []
        self.deliveries: list[tuple[int, float]] = []  # (update_id, delivered at)
        self.webhook_target: str | None = None  # http://127.0.0.1:PORT: where the URL's path goes
        self.webhook_failures = 0
        self.new_replies = asyncio.Event()
        self.webhook_queue: list[dict[str, Any]] = []
        self.webhook_busy: set[int | None] = set()  # chats with an update in flight
        self.webhook_ready = asyncio.Condition()
        self.session: aiohttp.ClientSession | None = None
        self.methods: Counter[str] = Counter()  # Bot API calls answered, by method

    # --- the Bot API side -----------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> None:
        if self.webhook_target is not None:
            self.webhook_queue.append(update)
            asyncio.get_running_loop().create_task(self._wake_senders())
            return
        self.pending.append(update)
        asyncio.get_running_loop().create_task(self._wake())

    async def _get_updates(self, params: dict[str, str]) -> list[dict[str, Any]]:
        timeout = min(float(params.get("timeout", "0") or 0), 2.0)
        if not self.pending and timeout > 0:
            async with self._arrived:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._arrived.wait_for(lambda: bool(self.pending)), timeout
                    )
        batch, self.pending = self.pending[:BATCH], self.pending[BATCH:]
        self.calls.clear()
        now = time.monotonic()
        self.deliveries.extend((update["update_id"], now) for update in batch)
        return batch

    def _answer(self, call: Call) -> Any:
        result = super()._answer(call)
        self.methods[call.method] += 1
        if call.method in REPLIES:
            markup = call.json("reply_markup") or {}
            self.replies.append(
                {
                    "chat": call.chat_id,
                    "method": call.method,
                    "text": call.params.get("text", ""),
                    "buttons": [
                        [button["text"], button.get("callback_data", "")]
                        for row in markup.get("inline_keyboard", [])
                        for button in row
                    ],
                    "message_id": result["message_id"],
                    "at": call.at,
                }
            )
            self.new_replies.set()
        # The tests read every call; the benchmark needs only the replies above.
        self.calls.clear()
        return result

    async def _wake_senders(self) -> None:
        async with self.webhook_ready:
            self.webhook_ready.notify_all()

    def _next_for_webhook(self) -> dict[str, Any] | None:
        for index, update in enumerate(self.webhook_queue):
            if _chat_of(update) not in self.webhook_busy:
                del self.webhook_queue[index]
                self.webhook_busy.add(_chat_of(update))
                return update
        return None

    async def webhook_sender(self) -> None:
        while True:
            async with self.webhook_ready:
                await self.webhook_ready.wait_for(lambda: self._ready_update() is not None)
                update = self._next_for_webhook()
            assert update is not None
            try:
                await self._post(update)
            finally:
                self.webhook_busy.discard(_chat_of(update))
                await self._wake_senders()

    def _ready_update(self) -> dict[str, Any] | None:
        return next((u for u in self.webhook_queue if _chat_of(u) not in self.webhook_busy), None)

    async def _post(self, update: dict[str, Any]) -> None:
        assert self.session is not None
        if self.webhook_target is None or self.webhook is None:
            self.webhook_failures += 1
            return
        path = urlsplit(self.webhook["url"]).path
        headers = {}
        if self.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        self.deliveries.append((update["update_id"], time.monotonic()))
        try:
            async with self.session.post(
                self.webhook_target + path, json=update, headers=headers
            ) as answer:
                await answer.read()
                if answer.status != 200:
                    self.webhook_failures += 1
        except aiohttp.ClientError:
            self.webhook_failures += 1

    # --- the harness side -----------------------------------------------------------------

    async def control_push(self, request: web.Request) -> web.Response:
        for update in (await request.json())["updates"]:
            self.push(update)
        return web.json_response({"ok": True})

    async def control_read(self, request: web.Request) -> web.Response:
        """Replies from index ``replies`` on and deliveries from index ``deliveries`` on;
        waits up to ``wait`` seconds for a new reply when there is none."""
        since = int(request.query.get("replies", "0"))
        since_delivered = int(request.query.get("deliveries", "0"))
        wait = min(float(request.query.get("wait", "0")), 5.0)
        if len(self.replies) <= since and wait > 0:
            self.new_replies.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.new_replies.wait(), wait)
        return web.json_response(
            {
                "replies": self.replies[since:],
                "deliveries": self.deliveries[since_delivered:],
                "pending": len(self.pending) + len(self.webhook_queue),
                "webhook_failures": self.webhook_failures,
                "webhook": self.webhook,
                "methods": dict(self.methods),
            }
        )

    async def control_mode(self, request: web.Request) -> web.Response:
        """Forget every reply, delivery and pending update; deliver by webhook to ``target``
        (the bot's ``http://127.0.0.1:PORT``), or by ``getUpdates`` when it is null."""
        body = await request.json()
        self.webhook_target = body.get("webhook_target")
        self.webhook = None
        self.pending.clear()
        self.webhook_queue.clear()
        self.replies.clear()
        self.deliveries.clear()
        self.webhook_failures = 0
        return web.json_response({"ok": True})


def _chat_of(update: dict[str, Any]) -> int | None:
    for kind in ("message", "callback_query"):
        if kind in update:
            body = update[kind]
            message = body.get("message", body)
            return int(message["chat"]["id"])
    return None


async def _serve(port: int) -> None:
    api = BenchApi(TOKEN)
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/bot{token}/{method}", api._handle)
    app.router.add_get("/bot{token}/{method}", api._handle)
    app.router.add_post("/control/push", api.control_push)
    app.router.add_get("/control/read", api.control_read)
    app.router.add_post("/control/mode", api.control_mode)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as api.session:
        senders = [asyncio.create_task(api.webhook_sender()) for _ in range(MAX_CONNECTIONS)]
        try:
            await asyncio.Event().wait()
        finally:
            for sender in senders:
                sender.cancel()
            await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port))


if __name__ == "__main__":
    main()
