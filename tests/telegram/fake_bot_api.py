"""A fake Telegram Bot API server for tests: an aiohttp app on 127.0.0.1.

It answers the methods python-telegram-bot calls, records every call (with its parameters and
uploaded files), hands out updates the test pushes through a long-polled ``getUpdates``, and
answers 429 (with ``parameters.retry_after``) or a 5xx on demand, for chosen methods and chats.

api = FakeBotApi(TOKEN)
await api.start()                 # api.url is the server's root, for base_url
api.push(api.message(42, "hi"))   # the next getUpdates returns it
api.fail("sendMessage", status=429, retry_after=2, chat_id=42, times=1)
api.hold("sendMessage", after=20)  # answer 20, then keep the next ones waiting
api.release()                     # let them go: those whose client is gone are not delivered
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["Call", "FakeBotApi"]

BOT_USER: dict[str, Any] = {
    "id": 777000111,
    "is_bot": True,
    "first_name": "casebot",
    "username": "casebot_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# Methods whose answer is a Message; the others answer True unless listed in _answer.
_SENDS_MESSAGE = {"sendMessage", "sendPhoto", "sendDocument"}
_EDITS_MESSAGE = {"editMessageReplyMarkup", "editMessageText"}


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, str]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # field -> (name, data)
    status: int = 200
    at: float = field(default_factory=time.monotonic)

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    def json(self, name: str) -> Any:
        value = self.params.get(name)
        return json.loads(value) if value is not None else None

    @property
    def text(self) -> str:
        return self.params.get("text", "")

    @property
    def button_labels(self) -> list[str]:
        markup = self.json("reply_markup") or {}
        return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class _Failure:
    method: str
    status: int
    retry_after: int | None
    chat_id: int | None
    times: int


class FakeBotApi:
    """The server; ``calls`` holds every request, in order of arrival."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.webhook: dict[str, str] | None = None
        self._updates: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self._failures: list[_Failure] = []
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""
        self._hold: tuple[str, int] | None = None  # (method, answered before holding)
        self._released = asyncio.Event()
        self.held = 0  # requests waiting now

    # --- running ----------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        # No access log: its paths carry the bot token (Telegram's logs are not the bot's).
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what the test does -----------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> None:
        """Make an update available to getUpdates."""
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        async with self._arrived:
            self._arrived.notify_all()

    def message(
        self, chat_id: int, text: str, *, language_code: str | None = "en", user_id: int = 0
    ) -> dict[str, Any]:
        """A new text-message update (not yet pushed)."""
        message_id = next(self._message_ids)
        return {
            "update_id": next(self._update_ids),
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": _chat(chat_id),
                "from": _user(user_id or chat_id, language_code),
                "text": text,
            },
        }

    def callback(
        self,
        chat_id: int,
        data: str,
        message_id: int,
        *,
        language_code: str | None = "en",
        text: str = "…",
        reply_markup: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A new button-press update on the bot's message ``message_id`` (as Telegram sends
        it: with that message's text and keyboard, when the test gives them)."""
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": BOT_USER,
            "text": text,
        }
        if reply_markup is not None:
            message["reply_markup"] = reply_markup
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": f"cq{next(self._update_ids)}",
                "from": _user(chat_id, language_code),
                "chat_instance": f"ci{chat_id}",
                "data": data,
                "message": message,
            },
        }

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id``, or any) with an error."""
        self._failures.append(_Failure(method, status, retry_after, chat_id, times))

    def hold(self, method: str, *, after: int) -> None:
        """Answer ``after`` more calls of ``method`` successfully, then keep the next ones
        waiting (a request in flight) until ``release``."""
        done = len([c for c in self.calls if c.method == method and c.ok])
        self._hold = (method, done + after)
        self._released.clear()

    def release(self) -> None:
        """Answer the held calls. A call whose client went away meanwhile is recorded with
        status 499 and counts as not delivered (it never reached the chat)."""
        self._hold = None
        self._released.set()

    def calls_of(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.chat_id == chat_id)
        ]

    # --- the API ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params: dict[str, str] = {}
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "multipart/form-data":
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files[name] = (value.filename, value.file.read())
                else:
                    params[name] = str(value)
        elif request.can_read_body:
            if request.content_type == "application/json":
                params = {k: _text(v) for k, v in (await request.json()).items()}
            else:
                params = {k: str(v) for k, v in (await request.post()).items()}
        call = Call(method, params, files)
        if self._must_hold(method):
            self.held += 1
            call.status = 0  # in flight
            self.calls.append(call)
            await self._released.wait()
            self.held -= 1
            if request.transport is None or request.transport.is_closing():
                call.status = 499  # the client is gone: no answer, no delivery
                return _error(499, "Client Closed Request")
            call.status = 200
        else:
            self.calls.append(call)
        failure = self._failure_for(call)
        if failure is not None:
            call.status = failure.status
            extra = {"retry_after": failure.retry_after} if failure.status == 429 else None
            text = "Too Many Requests: retry later" if failure.status == 429 else "Bad Gateway"
            return _error(failure.status, text, extra)
        if method == "getUpdates":
            return _ok(await self._get_updates(params))
        return _ok(self._answer(call))

    def _must_hold(self, method: str) -> bool:
        if self._hold is None or self._hold[0] != method:
            return False
        answered = len([c for c in self.calls if c.method == method and c.status == 200])
        return answered >= self._hold[1]

    def _failure_for(self, call: Call) -> _Failure | None:
        for failure in self._failures:
            if failure.times <= 0 or failure.method != call.method:
                continue
            if failure.chat_id is not None and failure.chat_id != call.chat_id:
                continue
            failure.times -= 1
            return failure
        return None

    async def _get_updates(self, params: dict[str, str]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", "0") or 0)
        timeout = min(float(params.get("timeout", "0") or 0), 2.0)
        # Updates below the offset are confirmed: Telegram forgets them.
        self._updates = [u for u in self._updates if u["update_id"] >= offset]

        def ready() -> bool:
            return bool(self._updates)

        if not ready() and timeout > 0:
            async with self._arrived:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait_for(ready), timeout)
        return list(self._updates)

    def _answer(self, call: Call) -> Any:
        method, params = call.method, call.params
        if method == "getMe":
            return BOT_USER
        if method == "getWebhookInfo":
            url = (self.webhook or {}).get("url", "")
            return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}
        if method == "setWebhook":
            self.webhook = dict(params)
            return True
        if method == "deleteWebhook":
            self.webhook = None
            return True
        if method in _SENDS_MESSAGE:
            return self._message_of(call)
        if method in _EDITS_MESSAGE:
            return {
                "message_id": int(params["message_id"]),
                "date": int(time.time()),
                "chat": _chat(int(params["chat_id"])),
                "from": BOT_USER,
                "text": params.get("text", "…"),
            }
        return True

    def _message_of(self, call: Call) -> dict[str, Any]:
        chat_id = int(call.params["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": BOT_USER,
        }
        if call.method == "sendMessage":
            message["text"] = call.params.get("text", "")
        elif call.method == "sendPhoto":
            message["photo"] = [
                {"file_id": "photo1", "file_unique_id": "p1", "width": 300, "height": 300}
            ]
        else:
            name = next(iter(call.files.values()), ("file", b""))[0]
            message["document"] = {"file_id": "doc1", "file_unique_id": "d1", "file_name": name}
        if "reply_markup" in call.params:
            message["reply_markup"] = call.json("reply_markup")
        call.params.setdefault("_message_id", str(message["message_id"]))
        return message


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id < 0:
        return {"id": chat_id, "type": "group", "title": "A group"}
    return {"id": chat_id, "type": "private", "first_name": "Ana"}


def _user(user_id: int, language_code: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": abs(user_id), "is_bot": False, "first_name": "Ana"}
    if language_code is not None:
        user["language_code"] = language_code
    return user


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)
