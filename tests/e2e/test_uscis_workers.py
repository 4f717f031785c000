"""Two ``casebot serve`` processes on one PostgreSQL database share USCIS's daily budget.

Real worker processes, the fake USCIS API in its own process, people at the web chat API of
either worker at once: however the lookups fall on the workers, no more requests reach USCIS
than the day allows, none is refused by its spike arrest, and the people past the budget are
told so in their language (never an error page, never the outage answer).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Final

import aiohttp
import pytest

from bot.wording.i18n import translator
from core.db import Database
from tests.e2e.workers import Worker, free_port
from tests.uscis_fake import CLIENT_ID, CLIENT_SECRET, FakeUscis

pytestmark = pytest.mark.postgres

QUOTA: Final = 7
PEOPLE: Final = 16  # more people than the day's budget, each with a receipt of their own
USED_UP: Final = (
    "We have used up today's case lookups at USCIS. Please try again tomorrow, or call the "
    "USCIS Contact Center at {phone} (TTY {tty})."
)
NOT_ANSWERING: Final = (
    "USCIS's system is not answering right now. Please try again later. You can also call the "
    "USCIS Contact Center at {phone} (TTY {tty})."
)


@pytest.fixture
def fake() -> Iterator[FakeUscis]:
    server = FakeUscis(free_port(), rate=5, auto=True)  # the sandbox's spike arrest
    yield server
    server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


@pytest.fixture
def workers(postgres_db: Database, tmp_path: Path, fake: FakeUscis) -> Iterator[list[Worker]]:
    settings = {
        "CASEBOT_CASE_SOURCE": "uscis",
        "CASEBOT_USCIS_API_URL": fake.url,
        "CASEBOT_USCIS_CLIENT_ID": CLIENT_ID,
        "CASEBOT_USCIS_CLIENT_SECRET": CLIENT_SECRET,
        "CASEBOT_USCIS_RATE": "4",
        "CASEBOT_USCIS_DAILY_QUOTA": str(QUOTA),
        # The people come from addresses of their own, through a reverse proxy.
        "CASEBOT_TRUSTED_PROXIES": "127.0.0.1",
    }
    started = [
        Worker(f"uscis-w{n}", tmp_path, postgres_db.url, settings=settings) for n in range(2)
    ]
    yield started
    for worker in started:
        worker.stop()


async def look_up(
    http: aiohttp.ClientSession, worker: Worker, person: int, locale: str
) -> tuple[int, str]:
    """One person opens a chat on ``worker`` and asks about their own case: the HTTP status
    of the answer and its text."""
    address = {"X-Forwarded-For": f"198.51.100.{person + 1}"}
    async with http.post(
        f"{worker.url}/api/chat/sessions", json={"locale": locale}, headers=address
    ) as response:
        assert response.status == 201, await response.text()
        session = await response.json()
    receipt = f"EAC22{person:08d}"
    async with http.post(
        f"{worker.url}/api/chat/sessions/{session['session_id']}/messages",
        json={"text": f"check my case {receipt}" if locale == "en" else f"mi caso {receipt}"},
        headers={**address, "Authorization": f"Bearer {session['token']}"},
    ) as response:
        if response.status != 200:
            return response.status, await response.text()
        replies = (await response.json())["replies"]
    return 200, "\n".join(reply["text"] for reply in replies)


async def test_two_worker_processes_never_exceed_the_daily_budget(
    fake: FakeUscis, http: aiohttp.ClientSession, workers: list[Worker]
) -> None:
    for worker in workers:
        await worker.ready(http)
    locales = ["en" if person % 2 else "es" for person in range(PEOPLE)]
    answers = await asyncio.gather(
        *(look_up(http, workers[p % 2], p, locales[p]) for p in range(PEOPLE))
    )

    stats = await fake.stats()
    assert stats["requests"] <= QUOTA, stats
    assert stats["over_limit"] == 0, stats
    assert [status for status, _ in answers] == [200] * PEOPLE, answers
    found = 0
    for (_, text), locale in zip(answers, locales, strict=True):
        _ = translator(locale)._
        used_up = _(USED_UP).split("{phone}")[0]
        assert _(NOT_ANSWERING).split("{phone}")[0] not in text, text
        if "Case Was Received" in text or "Caso Fue Recibido" in text:
            found += 1
        else:
            assert used_up in text, f"{locale}: {text!r}"
    assert found == stats["statuses"].get("200", 0) >= 1, (found, stats)
    assert PEOPLE - found >= PEOPLE - QUOTA
