"""A local fake of USCIS's Case Status API (developer.uscis.gov), in its own process.

Built from the published shapes: ``POST /oauth/accesstoken`` (client credentials; ``expires_in``
as a string, as USCIS sends it) and ``GET /case-status/{receipt}`` with a bearer token. It
enforces the credentials and the tokens' lifetime (401), answers 404 for receipts it does not
hold and 422 for a malformed one, and a spike arrest: more than ``rate`` case-status requests
within one second get 429 (counted as ``over_limit``). On demand (``POST /_fake/control``) it
expires every token, answers the next requests (or all of them) with a given status, with or
without ``Retry-After``, slowly, or with a body that is not JSON or not the published shape.
``GET /_fake/stats`` counts what it received.

Run: ``python -m tests.uscis_fake --port 8099 [--rate 5] [--auto]``; tests use :class:`FakeUscis`.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import subprocess
import sys
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from aiohttp import ClientSession, web

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "FakeUscis", "case_body"]

CLIENT_ID: Final = "casebot-test-client"
CLIENT_SECRET: Final = "fake-secret-6c3f1a9e"
_RECEIPT: Final = re.compile(r"[A-Z]{3}\d{10}")
ROOT: Final = Path(__file__).resolve().parent.parent


def case_body(
    receipt: str,
    title_en: str = "Case Was Received",
    title_es: str = "Caso Fue Recibido",
    *,
    form: str = "I-130",
    desc_en: str = "We received your case and will review it.",
    desc_es: str = "Recibimos su caso y lo revisaremos.",
    modified: str = "02-20-2026 10:15:00",
    history: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A 200 body of the published shape."""
    return {
        "case_status": {
            "receiptNumber": receipt,
            "formType": form,
            "submittedDate": "01-05-2026 09:00:00",
            "modifiedDate": modified,
            "current_case_status_text_en": title_en,
            "current_case_status_desc_en": desc_en,
            "current_case_status_text_es": title_es,
            "current_case_status_desc_es": desc_es,
            "hist_case_status": history,
        },
        "message": "Query was successful",
    }


class _State:
    def __init__(self, rate: float, lifetime: int, auto: bool) -> None:
        self.rate = rate
        self.lifetime = lifetime
        self.auto = auto
        self.tokens: dict[str, float] = {}
        self.cases: dict[str, dict[str, Any]] = {}
        self.plan: deque[dict[str, Any]] = deque()  # forced answers of the next requests
        self.always: dict[str, Any] | None = None  # a forced answer for every request
        self.recent: deque[float] = deque()
        self.stats: dict[str, Any] = {
            "requests": 0,
            "token_requests": 0,
            "over_limit": 0,
            "max_per_second": 0,
            "statuses": {},
        }

    def count(self, status: int) -> None:
        key = str(status)
        self.stats["statuses"][key] = self.stats["statuses"].get(key, 0) + 1


STATE: web.AppKey[_State] = web.AppKey("state", _State)


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


async def token(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.stats["token_requests"] += 1
    form = await request.post()
    if (
        form.get("grant_type") != "client_credentials"
        or form.get("client_id") != CLIENT_ID
        or form.get("client_secret") != CLIENT_SECRET
    ):
        return _error(401, "invalid client credentials")
    value = secrets.token_urlsafe(24)
    state.tokens[value] = time.monotonic() + state.lifetime
    return web.json_response(
        {"access_token": value, "expires_in": str(state.lifetime), "token_type": "BearerToken"}
    )


async def case_status(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    state.stats["requests"] += 1
    now = time.monotonic()
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if state.tokens.get(bearer, 0.0) <= now:
        state.count(401)
        return _error(401, "invalid or expired token")
    while state.recent and state.recent[0] <= now - 1.0:
        state.recent.popleft()
    state.recent.append(now)
    state.stats["max_per_second"] = max(state.stats["max_per_second"], len(state.recent))
    if len(state.recent) > state.rate:
        state.stats["over_limit"] += 1
        state.count(429)
        return _error(429, "spike arrest violation", {"Retry-After": "1"})
    forced = state.plan.popleft() if state.plan else state.always
    if forced is not None:
        if forced.get("delay"):
            await asyncio.sleep(float(forced["delay"]))
        status = int(forced.get("status", 200))
        if status != 200:
            state.count(status)
            headers = (
                {"Retry-After": str(forced["retry_after"])} if "retry_after" in forced else None
            )
            return _error(status, "forced", headers)
        if forced.get("body") is not None:
            state.count(200)
            return web.Response(text=str(forced["body"]), content_type="application/json")
    receipt = request.match_info["receipt"]
    if not _RECEIPT.fullmatch(receipt):
        state.count(422)
        return _error(422, "receipt number has an invalid format")
    body = state.cases.get(receipt)
    if body is None and state.auto:
        body = case_body(receipt)
    if body is None:
        state.count(404)
        return _error(404, "case not found")
    state.count(200)
    return web.json_response(body)


async def control(request: web.Request) -> web.Response:
    state = request.app[STATE]
    order = await request.json()
    if order.get("reset"):
        fresh = _State(state.rate, state.lifetime, state.auto)
        request.app[STATE].__dict__.update(fresh.__dict__)
    if order.get("expire_tokens"):
        state.tokens.clear()
    if "cases" in order:
        state.cases.update(order["cases"])
    if "plan" in order:
        state.plan = deque(order["plan"])
    if "always" in order:
        state.always = order["always"]
    if "rate" in order:
        state.rate = float(order["rate"])
    if "lifetime" in order:
        state.lifetime = int(order["lifetime"])
    if order.get("reset_stats"):
        state.stats.update(requests=0, token_requests=0, over_limit=0, max_per_second=0)
        state.stats["statuses"] = {}
    return web.json_response({"ok": True})


async def stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].stats)


def make_app(rate: float, lifetime: int, auto: bool) -> web.Application:
    app = web.Application()
    app[STATE] = _State(rate, lifetime, auto)
    app.router.add_post("/oauth/accesstoken", token)
    app.router.add_get("/case-status/{receipt}", case_status)
    app.router.add_post("/_fake/control", control)
    app.router.add_get("/_fake/stats", stats)
    return app


class FakeUscis:
    """The fake in a child process on a free port; ``url`` is its base URL."""

    def __init__(self, port: int, *, rate: float = 5, lifetime: int = 1799, auto: bool = False):
        self.url = f"http://127.0.0.1:{port}"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.uscis_fake", "--port", str(port), "--rate", str(rate),
             "--lifetime", str(lifetime), *(["--auto"] if auto else [])],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )  # fmt: skip
        assert self._process.stdout is not None
        line = self._process.stdout.readline()  # "ready" once it listens
        if b"ready" not in line:
            self.stop()
            raise RuntimeError("the fake USCIS API did not start")

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)

    async def control(self, **order: Any) -> None:
        async with (
            ClientSession() as http,
            http.post(f"{self.url}/_fake/control", json=order) as response,
        ):
            assert response.status == 200

    async def stats(self) -> dict[str, Any]:
        async with ClientSession() as http, http.get(f"{self.url}/_fake/stats") as response:
            data: dict[str, Any] = await response.json()
            return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=5)
    parser.add_argument("--lifetime", type=int, default=1799)
    parser.add_argument("--auto", action="store_true", help="hold every well-formed receipt")
    args = parser.parse_args()

    async def serve() -> None:
        runner = web.AppRunner(make_app(args.rate, args.lifetime, args.auto), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", args.port).start()
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
