"""Several ``casebot serve`` processes on one PostgreSQL database behind one webhook URL.

Real worker processes (``python -m bot serve``), the fake Bot API in this test process as
Telegram, the local PostgreSQL server:

- interleaved webhook updates for the same chats, some delivered twice, give two workers the
  same transcripts as one worker;
- the worker sending Telegram notifications is killed (SIGKILL) with messages in flight; the
  other worker takes over and every notification arrives exactly once;
- a worker delivering web chat notifications is killed mid-batch and restarted; every
  notification is in its session's transcript exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Final

import aiohttp
import pytest
from sqlalchemy import func, select, text

from core.db import Base, Database
from core.demo import load_demo
from core.outbox.models import OutboxMessage, OutboxStatus
from core.uow import UnitOfWorkFactory
from tests.e2e.workers import Worker
from tests.outbox_support import change_statuses, pushed, seed_cases, web_sessions
from tests.telegram.conftest import TOKEN
from tests.telegram.fake_bot_api import FakeBotApi

pytestmark = pytest.mark.postgres

CHATS: Final = tuple(range(7001, 7007))
SCRIPT: Final = (
    "hi",
    "Check a case status",
    "WAC2212345678",
    "Check another case",
    "LIN2390001234",
    "help",
    "menu",
)
Transcript = list[tuple[str, str | None]]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Worker]]:
    """Started workers, stopped at the end (their logs are in tmp_path)."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


async def reset(db: Database) -> UnitOfWorkFactory:
    """An empty database with the demo data, as before each run."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    uow_factory = UnitOfWorkFactory(db)
    await load_demo(uow_factory)
    return uow_factory


async def wait_until(check: Any, what: str, within: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def quiet(api: FakeBotApi, *, seconds: float = 3, within: float = 90) -> None:
    """Wait until no message has reached the chats for ``seconds`` (every turn answered)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    seen, since = -1, loop.time()
    while loop.time() < deadline:
        count = len(api.calls)
        if count != seen:
            seen, since = count, loop.time()
        elif loop.time() - since >= seconds:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the bot kept sending")


def transcripts(api: FakeBotApi) -> dict[int, Transcript]:
    """What each chat saw: the texts and keyboards of the messages delivered to it."""
    return {
        chat: [(c.text, c.params.get("reply_markup")) for c in api.calls_of("sendMessage", chat)
               if c.ok]
        for chat in CHATS
    }  # fmt: skip


async def converse(
    api: FakeBotApi, http: aiohttp.ClientSession, targets: list[Worker]
) -> dict[int, Transcript]:
    """Every chat follows SCRIPT; update k of a chat goes to worker (k + chat) mod n, and every
    third one is delivered again to the next worker (a redelivery). Like Telegram, a chat's next
    update is sent once the previous one was answered; the chats run at the same time."""

    async def chat(chat_id: int) -> None:
        for k, said in enumerate(SCRIPT):
            update = api.message(chat_id, said)
            target = targets[(k + chat_id) % len(targets)]
            await target.post_update(http, update)
            if k % 3 == 2:
                await targets[(k + chat_id + 1) % len(targets)].post_update(http, update)

    await asyncio.gather(*(chat(c) for c in CHATS))
    await quiet(api)
    return transcripts(api)


async def test_two_workers_give_the_same_transcripts_as_one(
    postgres_db: Database, tmp_path: Path, http: aiohttp.ClientSession, workers: list[Worker]
) -> None:
    runs: list[dict[int, Transcript]] = []
    counted: list[tuple[list[float], list[float]]] = []  # (handled, duplicate) per worker
    for count in (1, 2):
        await reset(postgres_db)
        api = FakeBotApi(TOKEN)
        await api.start()
        try:
            started = [
                Worker(f"run{count}-w{n}", tmp_path, postgres_db.url,
                       telegram_api=api.url, token=TOKEN)
                for n in range(count)
            ]  # fmt: skip
            workers.extend(started)
            for worker in started:
                await worker.ready(http)
            runs.append(await converse(api, http, started))
            outcomes = 'casebot_telegram_updates_total{outcome="%s"}'
            counted.append(
                (
                    [await w.metric(http, outcomes % "handled") for w in started],
                    [await w.metric(http, outcomes % "duplicate") for w in started],
                )
            )
            for worker in started:
                worker.stop()
        finally:
            await api.stop()

    one, two = runs
    for chat in CHATS:
        assert len(one[chat]) >= len(SCRIPT)
        assert "Case Was Approved" in "\n".join(t for t, _ in one[chat])
        assert two[chat] == one[chat], f"chat {chat} differs"
    for handled, duplicates in counted:
        assert sum(handled) == len(CHATS) * len(SCRIPT)
        assert sum(duplicates) == len(CHATS) * (len(SCRIPT) // 3)  # redeliveries, recognised
    assert all(n > 0 for n in counted[1][0]), counted  # both workers took turns


async def sent_count(db: Database) -> int:
    async with db.engine.connect() as conn:
        count = await conn.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.SENT)
        )
    return int(count or 0)


async def test_a_killed_telegram_sender_is_replaced_and_every_notification_arrives_once(
    postgres_db: Database, tmp_path: Path, http: aiohttp.ClientSession, workers: list[Worker]
) -> None:
    uow_factory = await reset(postgres_db)
    chats = [str(8000 + n) for n in range(30)]
    numbers = await seed_cases(uow_factory, 2, channel="telegram", chats=chats)
    api = FakeBotApi(TOKEN)
    await api.start()
    try:
        first = Worker("sender", tmp_path, postgres_db.url, telegram_api=api.url, token=TOKEN)
        workers.append(first)
        await first.ready(http)
        lock = 'casebot_outbox_sender_lock{channel="telegram"}'

        async def first_sends() -> bool:
            return await first.metric(http, lock) == 1

        await wait_until(first_sends, "the first worker to take the sender lock")
        second = Worker("standby", tmp_path, postgres_db.url, telegram_api=api.url, token=TOKEN)
        workers.append(second)
        await second.ready(http)
        assert await second.metric(http, lock) == 0
        api.hold("sendMessage", after=20)
        await change_statuses(uow_factory, numbers, "approved")  # 60 notifications

        async def twenty_confirmed() -> bool:
            return api.held > 0 and await sent_count(postgres_db) == 20

        await wait_until(twenty_confirmed, "20 confirmed sends and more in flight")
        first.kill()  # mid-batch: messages in flight, leased rows not confirmed
        await asyncio.sleep(0.5)  # the fake API sees the connections drop
        # Taken after the kill: until it, the first worker may still put calls on hold. The
        # standby may have sent some too by now; those reach their chats on release.
        in_flight = [c for c in api.calls_of("sendMessage") if c.status == 0]
        api.release()

        async def all_sent() -> bool:
            return await sent_count(postgres_db) == 60

        await wait_until(all_sent, "the standby worker to send the rest")
        assert await second.metric(http, lock) == 1
    finally:
        await api.stop()

    delivered = [(c.chat_id, c.text) for c in api.calls_of("sendMessage") if c.ok]
    lost = [c for c in api.calls_of("sendMessage") if c.status == 499]
    assert lost, "no message was in flight when the sender died"
    assert all(any(c is held for held in in_flight) for c in lost)  # only those in flight
    assert len(delivered) == len(set(delivered)) == 60  # every one, and none twice
    for chat in chats:
        texts = [t for chat_id, t in delivered if str(chat_id) == chat]
        assert sorted(n for n in numbers if any(n in t for t in texts)) == sorted(numbers)


async def test_a_killed_web_dispatcher_delivers_every_notification_once_after_restart(
    postgres_db: Database, tmp_path: Path, http: aiohttp.ClientSession, workers: list[Worker]
) -> None:
    uow_factory = await reset(postgres_db)
    sessions = await web_sessions(uow_factory, 40)
    numbers = await seed_cases(uow_factory, 50, channel="webchat", chats=sessions)
    await change_statuses(uow_factory, numbers, "approved")  # 2,000 notifications
    total = len(sessions) * len(numbers)

    first = Worker("web1", tmp_path, postgres_db.url)
    workers.append(first)

    async def some_sent() -> bool:
        return await sent_count(postgres_db) >= 100

    await wait_until(some_sent, "the first deliveries")
    first.kill()
    at_kill = await sent_count(postgres_db)
    assert at_kill < total, "all were delivered before the kill; the test proves nothing"

    second = Worker("web2", tmp_path, postgres_db.url)
    workers.append(second)

    async def all_sent() -> bool:
        return await sent_count(postgres_db) == total

    await wait_until(all_sent, "the restarted worker to deliver the rest")
    counts = await pushed(uow_factory)
    assert len(counts) == total
    assert set(counts.values()) == {1}
