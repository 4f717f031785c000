"""Leaks the suite-wide watch (tests/secret_logs.py) found, each pinned by a test of its own:

- the access log of a server not run by ``casebot serve`` (a test server, another runner) wrote
  query strings, so web chat tokens (``/ws?token=...``), and whole receipt numbers in admin API
  paths;
- python-telegram-bot logged its URL, token inside, while the bot was built (before the token
  redaction is installed), and at DEBUG every update (a typed password with it) and every
  call's parameters (message texts, the webhook secret);
- ``casebot --verbose`` let the SQL drivers log statements with their parameters.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.web.server import AccessLogScrubber
from bot.engine import Engine
from core.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.integration.webchat_support import ChatSession

BOT_TOKEN = "987654321:AAH-bot-token-of-the-log-tests-0123456789"
FULL_RECEIPT = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{3}[0-9]{10}(?![0-9])")


def test_the_scrubber_drops_query_strings_and_masks_receipt_numbers() -> None:
    record = logging.LogRecord(
        "aiohttp.access",
        logging.INFO,
        __file__,
        1,
        '%s "%s" %s',
        ("127.0.0.1", "GET /api/admin/cases/wac2212345678/status?token=abc HTTP/1.1", 200),
        None,
    )
    assert AccessLogScrubber().filter(record)
    cleaned = '127.0.0.1 "GET /api/admin/cases/wac*******678/status HTTP/1.1" 200'
    assert record.getMessage() == cleaned


async def test_the_access_log_holds_no_token_and_no_whole_receipt_number(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    session = await ChatSession.open(client)
    await session.send("WAC2212345678")
    await session.transcript()
    async with client.ws_connect(f"/api/chat/sessions/{session.id}/ws?token={session.token}"):
        pass
    await client.put("/api/admin/cases/WAC2212345678/status", json={"status": "approved"})

    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any("/ws" in line for line in lines)
    assert any("WAC*******678" in line for line in lines)
    text = "\n".join(lines)
    assert session.token not in text
    assert "token=" not in text
    assert not FULL_RECEIPT.search(text)


async def test_building_the_telegram_bot_logs_no_token_and_its_debug_stays_quiet(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    TelegramChannel(engine, BOT_TOKEN)
    assert BOT_TOKEN not in caplog.text
    assert BOT_TOKEN.split(":")[1] not in caplog.text
    # Updates (a typed password) and call parameters (message texts) are logged at DEBUG.
    assert not logging.getLogger("telegram.ext.Application").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("telegram.ext.ExtBot").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("telegram.ext.Application").isEnabledFor(logging.INFO)


def test_verbose_mode_logs_no_sql_parameters_and_no_secret(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOT_")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--verbose", "demo"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert " DEBUG " in done.stderr or " INFO " in done.stderr  # verbose does log
    assert "INSERT INTO" not in done.stderr
    assert not FULL_RECEIPT.search(done.stderr)
    assert DEMO_PASSWORD not in done.stderr
    assert DEMO_TOTP_SECRET not in done.stderr
