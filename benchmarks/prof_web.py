"""Where a web chat turn's CPU goes (issue 5): a diagnostic beside ``bench_web``, not a benchmark.

Run ``.venv/bin/python -m benchmarks.prof_web [--turns N]``. It prints, as CPU time per turn:

- ``hub, warm``: ``WebChatHub.send`` called in this process with 64 turns in flight, no HTTP:
  the turn's own cost when its code and data stay in the CPU's caches;
- ``hub, cold``: the same with an unrelated job (JSON of a large document) run between sends,
  its own time measured alone and taken off: the turn when other work has evicted its caches,
  as in a server where HTTP work runs between turns;
- ``HTTP alone``: ``casebot serve`` (a real process, its defaults, access log on) whose web
  chat turn answers at once without running: the HTTP stack, routing, middleware, JSON and
  access log per request, measured like ``bench_web`` (64 in flight, the server's CPU time);
- ``floor``: ``benchmarks.floor_server``, the same database work written by hand with no
  dialog, translation, log or metrics, measured the same way: how little a turn could cost.

The turns are those of ``bench_web``: sessions alternate a receipt number (a case-status
lookup) and "menu", 20 messages at most per session. Nothing is written to RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Final

import aiohttp

from benchmarks.bench_web import (
    CONCURRENCY,
    ROOT,
    TEXTS,
    TURNS_PER_SESSION,
    chat_load,
    clean_env,
    stop,
    wait_healthy,
)
from benchmarks.results import free_port
from bot.app import build_app
from bot.channels.web.api import HUB_KEY
from bot.channels.web.chat import WebChatHub
from bot.channels.web.server import create_web_app
from bot.settings import Settings

Turn = tuple[tuple[str, str], str]  # ((session id, token), text)
_DOCUMENT: Final = [{f"k{i}": [i, str(i), {"x": i * 1.5}]} for i in range(300)]
# casebot serve, its web chat turn replaced by an immediate empty answer.
_HTTP_ALONE: Final = """
import sys
import bot.channels.web.chat as webchat

async def send(self, session_id, token, **_):
    return []

webchat.WebChatHub.send = send
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _evict() -> None:
    json.loads(json.dumps(_DOCUMENT))


@asynccontextmanager
async def hub_turns(
    turns: int,
) -> AsyncIterator[tuple[WebChatHub, list[Turn]]]:
    """A web chat hub on a fresh default SQLite database (demo data, ./var of the working
    folder), warmed up (lazy imports, compiled statements), and ``turns`` turns to send: the
    sessions of ``bench_web`` (``turns // 20`` of them, opened here) and their texts."""
    app = build_app(Settings.from_env({}))
    try:
        await app.prepare_database(demo_if_empty=True)
        hub = create_web_app(app)[HUB_KEY]
        sessions = [await hub.open_session("en") for _ in range(turns // TURNS_PER_SESSION)]
        for session_id, token in sessions[:4]:
            for text in TEXTS:
                await hub.send(session_id, token, text=text)
        yield hub, [(s, TEXTS[i % 2]) for i in range(TURNS_PER_SESSION) for s in sessions]
    finally:
        await app.close()


async def send_all(
    hub: WebChatHub,
    work: list[Turn],
    between: Callable[[], None] | None = None,
) -> None:
    """Send ``work`` (emptied) with 64 turns in flight, as ``bench_web``'s load keeps them."""

    async def worker() -> None:
        while work:
            (session_id, token), text = work.pop()
            if between is not None:
                between()
            await hub.send(session_id, token, text=text)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def hub_cpu(turns: int, between: Callable[[], None] | None) -> float:
    """CPU ms per ``WebChatHub.send`` in this process, on a fresh default SQLite database."""
    async with hub_turns(turns) as (hub, work):
        spent = 0.0
        if between is not None:
            started = time.process_time()
            for _ in work:
                between()
            spent = time.process_time() - started
        count = len(work)
        started = time.process_time()
        await send_all(hub, work, between)
        return (time.process_time() - started - spent) / count * 1000


def _start(args: list[str], folder: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603  (our own interpreter and scripts)
        [sys.executable, *args],
        cwd=folder,
        env={**clean_env(), "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def server_cpu(
    args: list[str], turns: int, folder: Path, *, answers: bool = True
) -> tuple[float, float]:
    """Server CPU ms per turn of ``python ARGS --port P`` under ``bench_web``'s chat load, and
    its turns/s; without ``answers``, only the replies' HTTP status is checked."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (folder / "serve.log").open("wb") as log:
        process = _start([*args, "--port", str(port)], folder, log)
        try:
            connector = aiohttp.TCPConnector(limit=CONCURRENCY)
            async with aiohttp.ClientSession(connector=connector) as client:
                await wait_healthy(client, url, process)
                load, _ = await chat_load(client, url, turns, process.pid)
        finally:
            stop(process)
    failures = {k: n for k, n in load.failures.items() if answers or k.startswith("HTTP")}
    if failures:
        raise RuntimeError(f"{args}: {failures}")
    if load.server_cpu is None:
        raise RuntimeError("the server's CPU time is not readable here (/proc)")
    return load.server_cpu / len(load.latencies) * 1000, load.rate


async def run(turns: int) -> None:
    home = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="casebot-prof-web-") as name:
        folder = Path(name)
        os.chdir(folder)  # the default database lives under ./var
        try:
            for label, between in (("hub, warm", None), ("hub, cold", _evict)):
                for old in (folder / "var").glob("*"):
                    old.unlink()
                print(f"{label}: {await hub_cpu(turns, between):.3f} ms CPU per turn")
            (folder / "http_alone.py").write_text(_HTTP_ALONE)
            alone = ["http_alone.py", "serve"]
            cpu, rate = await server_cpu(alone, turns, folder, answers=False)
            print(f"HTTP alone: {cpu:.3f} ms CPU per request ({rate:,.0f}/s)")
            floor = ["-m", "benchmarks.floor_server", "--database", str(folder / "floor.db")]
            cpu, rate = await server_cpu(floor, turns, folder)
            print(f"floor: {cpu:.3f} ms CPU per turn ({rate:,.0f} turns/s)")
        finally:
            os.chdir(home)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=6_000, help="turns per measure")
    args = parser.parse_args()
    if not 640 <= args.turns <= 20_000:
        parser.error("--turns must be between 640 and 20,000")
    asyncio.run(run(args.turns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
