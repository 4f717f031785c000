"""A local fake of Twilio's Messages API, in its own process.

Built from the published shapes: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` with
HTTP basic auth (the account SID and the auth token; else 401 with Twilio's code 20003) and a
form body ``To``, ``From``, ``Body``, optional ``StatusCallback``; a 201 answer with the
message's ``sid`` and ``status: queued``. Each message accepted is recorded; when it has a
``StatusCallback`` the fake then posts its delivery status there (``sent``, then ``delivered``
or the status ordered), signed with ``X-Twilio-Signature`` as Twilio signs.

Control (``POST /_fake/control``): ``plan`` (the next answers: ``{"status": 429}``,
``{"status": 400, "code": 21610}``, ...), ``final_status`` (the status callbacks end with),
``hold_after`` (once that many messages are accepted, requests wait, unanswered) and
``release`` (answer them: those whose client has gone meanwhile are counted as ``lost``, not
accepted), ``reset``. ``POST /_fake/inbound`` ``{"url", "from", "body", "forge"?}`` posts an
inbound text to the server as Twilio does (signed, or with a forged signature) and answers
with the HTTP status and the TwiML reply it got. ``GET /_fake/state`` tells what it received
and posted.

Run: ``python -m tests.sms_fake --port 8098``; tests use :class:`FakeTwilio`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import re
import secrets
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import Any, Final
from xml.etree import ElementTree

from aiohttp import ClientSession, web

__all__ = ["ACCOUNT", "FROM", "TOKEN", "FakeTwilio"]

ACCOUNT: Final = "AC" + "0123456789abcdef" * 2
TOKEN: Final = "fake-twilio-auth-token-5e1f"
FROM: Final = "+12025550100"
ROOT: Final = Path(__file__).resolve().parent.parent
_E164: Final = re.compile(r"\+[1-9]\d{6,14}")


def _sign(url: str, params: dict[str, str]) -> str:
    data = url + "".join(f"{k}{v}" for k, v in sorted(params.items()))
    return base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


class _State:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.plan: deque[dict[str, Any]] = deque()
        self.final_status = "delivered"
        self.requests = 0
        self.refused_auth = 0
        self.callbacks: list[dict[str, Any]] = []  # status callbacks posted, with the answer
        self.inbound: list[dict[str, Any]] = []  # inbound texts posted, with the reply
        self.tasks: set[asyncio.Task[None]] = set()
        self.hold_after: int | None = None  # accepted messages after which requests wait
        self.held = 0  # requests waiting now
        self.lost = 0  # held requests whose client had gone when released (not recorded)
        self.released = asyncio.Event()


STATE: web.AppKey[_State] = web.AppKey("state", _State)
HTTP: web.AppKey[ClientSession] = web.AppKey("http", ClientSession)


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        login, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except ValueError:
        return None
    return login, password


def _twilio_error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
         "status": status},
        status=status,
    )  # fmt: skip


async def create_message(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.requests += 1
    if (
        _basic_auth(request.headers.get("Authorization", "")) != (ACCOUNT, TOKEN)
        or request.match_info["account"] != ACCOUNT
    ):
        state.refused_auth += 1
        return _twilio_error(401, 20003, "Authenticate")
    form = await request.post()
    to, sender, body = form.get("To"), form.get("From"), form.get("Body")
    if state.plan:
        forced = state.plan.popleft()
        status = int(forced.get("status", 500))
        return _twilio_error(status, int(forced.get("code", 20500)), "forced")
    if state.hold_after is not None and len(state.messages) >= state.hold_after:
        state.held += 1
        try:
            await state.released.wait()
        finally:
            state.held -= 1
        if request.transport is None or request.transport.is_closing():
            state.lost += 1  # the sender died while it waited: never accepted
            return _twilio_error(499, 20499, "client gone")
    if not isinstance(to, str) or not _E164.fullmatch(to):
        return _twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if sender != FROM:
        return _twilio_error(400, 21606, "The 'From' phone number provided is not valid.")
    if not isinstance(body, str) or not body:
        return _twilio_error(400, 21602, "Message body is required.")
    sid = "SM" + secrets.token_hex(16)
    callback = form.get("StatusCallback")
    message = {"sid": sid, "to": to, "from": sender, "body": body, "status_callback": callback}
    state.messages.append(message)
    if isinstance(callback, str):
        task = asyncio.create_task(_report(request.app, sid, to, callback))
        state.tasks.add(task)
        task.add_done_callback(state.tasks.discard)
    return web.json_response(
        {"sid": sid, "account_sid": ACCOUNT, "to": to, "from": sender, "body": body,
         "status": "queued", "num_segments": "1", "error_code": None, "error_message": None,
         "api_version": "2010-04-01"},
        status=201,
    )  # fmt: skip


async def _post_signed(
    app: web.Application, url: str, params: dict[str, str], *, forge: bool = False
) -> tuple[int, str]:
    signed = _sign(url, params)
    if forge:
        signed = _sign(url, {**params, "Body": "something else"})
    try:
        async with app[HTTP].post(url, data=params, headers={"X-Twilio-Signature": signed}) as r:
            return r.status, await r.text()
    except OSError as exc:
        return 0, repr(exc)


async def _report(app: web.Application, sid: str, to: str, url: str) -> None:
    state = app[STATE]
    for status in ("sent", state.final_status):
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": ACCOUNT,
            "To": to,
            "From": FROM,
            "ApiVersion": "2010-04-01",
        }
        if status in ("failed", "undelivered"):
            params["ErrorCode"] = "30003"
        answer, _ = await _post_signed(app, url, params)
        state.callbacks.append({"sid": sid, "status": status, "answer": answer})


async def inbound(request: web.Request) -> web.Response:
    state = request.app[STATE]
    order = await request.json()
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": ACCOUNT,
        "From": order["from"],
        "To": FROM,
        "Body": order["body"],
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }
    status, text = await _post_signed(
        request.app, order["url"], params, forge=bool(order.get("forge"))
    )
    reply: list[str] = []
    if status == 200 and text.strip():
        try:
            # The server under test wrote it (a test fake, never fed foreign XML).
            tree = ElementTree.fromstring(text)  # noqa: S314
            reply = [m.text or "" for m in tree.iter("Message")]
        except ElementTree.ParseError:
            reply = ["<not TwiML>"]
    record = {"from": order["from"], "body": order["body"], "status": status, "reply": reply,
              "text": text}  # fmt: skip
    state.inbound.append(record)
    return web.json_response(record)


async def control(request: web.Request) -> web.Response:
    state = request.app[STATE]
    order = await request.json()
    if order.get("reset"):
        state.__dict__.update(_State().__dict__)
    if "plan" in order:
        state.plan = deque(order["plan"])
    if "final_status" in order:
        state.final_status = str(order["final_status"])
    if "hold_after" in order:
        state.hold_after = order["hold_after"]
        state.released.clear()
    if order.get("release"):
        state.hold_after = None
        state.released.set()
    return web.json_response({"ok": True})


async def read_state(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response(
        {"messages": state.messages, "requests": state.requests, "refused_auth":
         state.refused_auth, "callbacks": state.callbacks, "inbound": state.inbound,
         "plan_left": len(state.plan), "callbacks_pending": len(state.tasks),
         "held": state.held, "lost": state.lost}
    )  # fmt: skip


def make_app() -> web.Application:
    app = web.Application()
    app[STATE] = _State()

    async def http(app: web.Application) -> Any:
        app[HTTP] = ClientSession()
        yield
        await app[HTTP].close()

    app.cleanup_ctx.append(http)
    app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", create_message)
    app.router.add_post("/_fake/control", control)
    app.router.add_post("/_fake/inbound", inbound)
    app.router.add_get("/_fake/state", read_state)
    return app


class FakeTwilio:
    """The fake in a child process on ``port``; ``url`` is its base URL."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.sms_fake", "--port", str(port)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        assert self._process.stdout is not None
        if b"ready" not in self._process.stdout.readline():
            self.stop()
            raise RuntimeError("the fake Twilio API did not start")

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)

    async def control(self, **order: Any) -> None:
        async with (
            ClientSession() as http,
            http.post(f"{self.url}/_fake/control", json=order) as response,
        ):
            assert response.status == 200

    async def inbound(self, url: str, sender: str, body: str, *, forge: bool = False) -> Any:
        """Post an inbound text from ``sender`` to ``url``; what the server answered."""
        order = {"url": url, "from": sender, "body": body, "forge": forge}
        async with (
            ClientSession() as http,
            http.post(f"{self.url}/_fake/inbound", json=order) as response,
        ):
            return await response.json()

    async def state(self) -> dict[str, Any]:
        async with ClientSession() as http, http.get(f"{self.url}/_fake/state") as response:
            data: dict[str, Any] = await response.json()
            return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    async def serve() -> None:
        runner = web.AppRunner(make_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", args.port).start()
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
