"""Real ``casebot serve`` worker processes for the several-workers tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Final

import aiohttp

from bot.channels.telegram.webhook import SECRET_HEADER, webhook_secret

SECRET_KEY: Final = "several-workers-test-secret-key-0123456789"
WEBHOOK_URL: Final = "https://bot.example.test/telegram/webhook"
WEBHOOK_PATH: Final = "/telegram/webhook"
ROOT: Final = Path(__file__).resolve().parents[2]
METRICS_TOKEN: Final = "several-workers-test-metrics-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Worker:
    """One ``casebot serve`` process on ``database_url`` (Telegram in webhook mode when
    ``telegram_api`` is given), logging to a file under ``folder``; with ``workers`` above 1,
    the supervisor of that many processes on its port; ``settings`` adds ``CASEBOT_*``
    variables of its own; ``port`` its port (default: a free one)."""

    def __init__(
        self,
        name: str,
        folder: Path,
        database_url: str,
        *,
        telegram_api: str | None = None,
        token: str | None = None,
        workers: int = 1,
        settings: Mapping[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOT_")}
        env.pop("TELEGRAM_BOT_TOKEN", None)
        env.update(
            CASEBOT_DATABASE_URL=database_url,
            CASEBOT_SECRET_KEY=SECRET_KEY,
            CASEBOT_METRICS_TOKEN=METRICS_TOKEN,
            PYTHONPATH=str(ROOT),
        )
        if telegram_api is not None and token is not None:
            env.update(
                TELEGRAM_BOT_TOKEN=token,
                CASEBOT_TELEGRAM_API_URL=telegram_api,
                CASEBOT_WEBHOOK_URL=WEBHOOK_URL,
            )
        env.update(settings or {})
        self._log: IO[str] = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(self.port)]
            + (["--workers", str(workers)] if workers != 1 else []),
            cwd=folder,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def ready(self, session: aiohttp.ClientSession, within: float = 60) -> None:
        """Wait until it answers /healthz (and has started its channels)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log()}")
            try:
                async with session.get(f"{self.url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not start:\n{self.log()}")

    async def post_update(self, session: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        """POST one update to its webhook as Telegram does; it must answer 200."""
        headers = {SECRET_HEADER: webhook_secret(SECRET_KEY)}
        async with session.post(
            f"{self.url}{WEBHOOK_PATH}", json=update, headers=headers
        ) as response:
            assert response.status == 200, await response.text()

    async def metric(self, session: aiohttp.ClientSession, line_start: str) -> float:
        """The value of the first /metrics sample line that starts with ``line_start``."""
        scraper = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        async with session.get(f"{self.url}/metrics", headers=scraper) as response:
            page = await response.text()
        for line in page.splitlines():
            if line.startswith(line_start):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when a machine dies."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()

    def log(self) -> str:
        if not self._log.closed:  # stop() closes it, and a restart may still be starting
            self._log.flush()
        return self.log_path.read_text()[-6000:]
