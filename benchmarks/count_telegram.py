"""Machine instructions per Telegram update, polled and by webhook (issue 24): a figure this shared
machine's noise does not move, for comparing two versions of the Telegram path. A diagnostic
beside the peers benchmark (``benchmarks/peers``), as ``count_web`` is beside ``bench_web``.

Run ``.venv/bin/python -m benchmarks.count_telegram [--mode polling|webhook] [--chats N]``
(valgrind must be installed). It starts the peers benchmark's fake Bot API
(``benchmarks.peers.fake_api``) in a process of its own, not counted, and runs itself again
under callgrind, which:

1. builds casebot as ``casebot serve`` does (fresh default SQLite database with demo data, the
   engine, the Telegram channel with the outgoing limiter's pacing off, as the peers benchmark
   runs it), polling the fake or on an aiohttp webhook route the fake POSTs to;
2. runs N conversations to settle (what is made once, on first use, is made there);
3. runs N more conversations, the measure.

A conversation is the peers benchmark's case-status flow: ``/start`` (the menu), a press on
"Check a case status", a receipt number typed (its status). Every chat of a phase takes each
step at once, ``--in-flight`` chats at a time, and waits for its reply before the next step.
Each phase ends by calling ``os.getppid()``, on which callgrind dumps its counts
(``--dump-before``), so every phase is counted alone. It prints the instructions per update of
phases 2 and 3, and the Bot API calls per update the fake answered in the measure. Compare two
versions of the code on the same machine, never figures of other days: under callgrind a turn
runs some fifty times slower, so what waits on a timer (the typing indicator's delay) fires
more often than at full speed; the calls per update show it. Nothing is written to RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

import aiohttp
from aiohttp import web
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from benchmarks.bench_web import ROOT
from benchmarks.count_web import _MARK, phase_totals
from benchmarks.peers.fake_api import TOKEN
from benchmarks.peers.harness import Updates
from benchmarks.results import free_port
from bot.app import build_app
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.limiter import CasebotRateLimiter
from bot.channels.telegram.webhook import add_webhook_route
from bot.settings import Settings

STEPS: Final = 3  # updates per conversation
RECEIPT: Final = "WAC2212345678"
WEBHOOK_PATH: Final = "/telegram/webhook"
WEBHOOK_SECRET: Final = "count-telegram-webhook-secret"  # noqa: S105 (a local fake)


def _phase_end() -> None:
    os.getppid()


class Driver:
    """Pushes updates to the fake, waits until the bot finished each, reads its replies."""

    def __init__(self, client: aiohttp.ClientSession, api: str, channel: TelegramChannel) -> None:
        self.client = client
        self.api = api
        self.updates = Updates()
        self.read = 0
        self.done: set[int] = set()
        self.finished = asyncio.Condition()
        channel.application.add_handler(TypeHandler(Update, self._mark), group=1)

    async def _mark(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        async with self.finished:
            self.done.add(update.update_id)
            self.finished.notify_all()

    async def step(self, updates: list[dict[str, Any]]) -> None:
        async with self.client.post(f"{self.api}/control/push", json={"updates": updates}) as r:
            r.raise_for_status()
        ids = {update["update_id"] for update in updates}
        async with self.finished:
            await self.finished.wait_for(lambda: ids <= self.done)

    async def replies(self) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The replies since the last call, and the Bot API calls answered so far by method."""
        async with self.client.get(
            f"{self.api}/control/read", params={"replies": str(self.read)}
        ) as answer:
            body = await answer.json()
        self.read += len(body["replies"])
        return body["replies"], body["methods"]

    async def conversations(self, chats: list[int]) -> None:
        """The case-status flow in each of ``chats``, all at once, step by step."""
        text, press = self.updates.text, self.updates.press
        await self.step([text(chat, "/start") for chat in chats])
        menus: dict[int, dict[str, Any]] = {}
        for reply in (await self.replies())[0]:
            if reply["method"] == "sendMessage":
                menus[reply["chat"]] = reply
        presses = []
        for chat in chats:
            menu = menus[chat]
            data = next(d for label, d in menu["buttons"] if "check a case" in label.casefold())
            presses.append(press(chat, data, menu["message_id"]))
        await self.step(presses)
        await self.step([text(chat, RECEIPT) for chat in chats])
        await self.replies()


@asynccontextmanager
async def running(api: str, mode: str) -> AsyncIterator[tuple[TelegramChannel, Any]]:
    """casebot's Telegram channel on a fresh default SQLite database with demo data."""
    app = build_app(Settings.from_env({}))
    site_runner: web.AppRunner | None = None
    try:
        await app.prepare_database(demo_if_empty=True)
        engine = app.build_engine()
        webhook = mode == "webhook"
        channel = TelegramChannel(
            engine,
            TOKEN,
            api_url=api,
            webhook_url=f"https://bot.example.test{WEBHOOK_PATH}" if webhook else None,
            webhook_secret=WEBHOOK_SECRET if webhook else None,
            rate_limiter=CasebotRateLimiter(limits_enabled=False),
            poll_timeout=2,
        )
        target = None
        if webhook:
            from bot.channels.telegram.webhook import TELEGRAM_KEY

            web_app = web.Application()
            web_app[TELEGRAM_KEY] = channel
            add_webhook_route(web_app, WEBHOOK_PATH, WEBHOOK_SECRET)
            site_runner = web.AppRunner(web_app, handle_signals=False, access_log=None)
            await site_runner.setup()
            port = free_port()
            await web.TCPSite(site_runner, "127.0.0.1", port).start()
            target = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as client:
            async with client.post(
                f"{api}/control/mode", json={"webhook_target": target}
            ) as answer:
                answer.raise_for_status()
            await channel.start()
            try:
                yield channel, client
            finally:
                await channel.stop()
    finally:
        if site_runner is not None:
            await site_runner.cleanup()
        await app.close()


async def _phases(api: str, mode: str, chats: int, in_flight: int) -> dict[str, int]:
    async with running(api, mode) as (channel, client):
        driver = Driver(client, api, channel)

        async def phase(first: int) -> None:
            numbers = list(range(first, first + chats))
            for start in range(0, chats, in_flight):
                await driver.conversations(numbers[start : start + in_flight])

        await phase(10_000)  # warm-up: lazy imports, compiled statements
        _phase_end()  # 1: start-up and warm-up
        await phase(20_000)
        _phase_end()  # 2: settling
        before = (await driver.replies())[1]
        await phase(30_000)
        _phase_end()  # 3: the measure
        after = (await driver.replies())[1]
    return {m: n - before.get(m, 0) for m, n in after.items() if n - before.get(m, 0)}


def inside(api: str, mode: str, chats: int, in_flight: int, methods_file: Path) -> None:
    """Phase 1 to 3 in this process (under callgrind: ``--inside``)."""
    home = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="casebot-count-telegram-") as folder:
        os.chdir(folder)  # the default database lives under ./var
        try:
            methods = asyncio.run(_phases(api, mode, chats, in_flight))
        finally:
            os.chdir(home)
    methods_file.write_text(json.dumps(methods))


def _fake(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "benchmarks.peers.fake_api", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with __import__("socket").create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the fake Bot API did not start")


def count(mode: str, chats: int, in_flight: int) -> tuple[float, float, dict[str, int]]:
    """Instructions per update of the settling phase and of the measure, under callgrind, and
    the Bot API calls of the measure by method."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    port = free_port()
    fake = _fake(port)
    try:
        with tempfile.TemporaryDirectory(prefix="casebot-callgrind-") as name:
            out_file = Path(name) / "callgrind.out"
            methods_file = Path(name) / "methods.json"
            command = [
                valgrind,
                "--tool=callgrind",
                f"--dump-before={_MARK}",
                f"--callgrind-out-file={out_file}",
                sys.executable,
                "-m",
                "benchmarks.count_telegram",
                "--inside",
                f"--api=http://127.0.0.1:{port}",
                f"--mode={mode}",
                f"--chats={chats}",
                f"--in-flight={in_flight}",
                f"--methods-file={methods_file}",
            ]
            done = subprocess.run(  # noqa: S603  (valgrind and our own interpreter)
                command, cwd=ROOT, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise SystemExit(f"the run under callgrind failed:\n{done.stderr[-3000:]}")
            totals = phase_totals(out_file)
            methods = json.loads(methods_file.read_text())
    finally:
        fake.terminate()
        fake.wait(10)
    if len(totals) < 3:
        raise SystemExit(f"callgrind dumped {len(totals)} phases, not 3: is {_MARK} traced?")
    updates = chats * STEPS
    return totals[1] / updates, totals[2] / updates, methods


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--mode", choices=("polling", "webhook"), default="polling")
    parser.add_argument("--chats", type=int, default=40, help="conversations per phase")
    parser.add_argument("--in-flight", type=int, default=4, help="chats at once")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--methods-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 4 <= args.chats <= 2_000 or not 1 <= args.in_flight <= args.chats:
        parser.error("--chats 4-2,000, --in-flight 1 to --chats")
    if args.inside:
        inside(args.api, args.mode, args.chats, args.in_flight, args.methods_file)
        return 0
    settling, measured, methods = count(args.mode, args.chats, args.in_flight)
    updates = args.chats * STEPS
    print(f"{args.mode}: {args.chats} conversations ({updates} updates) a phase, callgrind")
    print(f"settling: {settling:,.0f} instructions per update")
    print(f"measure:  {measured:,.0f} instructions per update")
    calls = ", ".join(f"{m} {n / updates:.2f}" for m, n in sorted(methods.items()))
    print(f"Bot API calls per update in the measure: {calls}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
