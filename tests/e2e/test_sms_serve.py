"""Text messages end to end: a real ``casebot serve`` and the fake Twilio API, each in its own
process, on PostgreSQL.

A status change to a number that follows a case reaches the fake once and its delivery status
comes back; a 429 and then success loses and doubles nothing; STOP sent from the fake parks the
texts pending for the number and every later one, and is confirmed once; START turns texts on
again; a request with a forged signature is refused and changes nothing. A person who asks for
updates by text in the web chat gets the code at the fake, confirms it, gets a status change,
and after STOP from the phone nothing more is even queued for the number.

The person's time zone is one where it is midday now, so quiet hours never hold a text here
(they have their own tests on a fake clock).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from core.cases.service import update_status
from core.contacts.models import ContactPoint
from core.db import Database
from core.outbox.models import OutboxMessage, OutboxStatus
from core.sms.models import SmsDelivery
from core.uow import UnitOfWorkFactory
from tests.e2e.test_workers import reset
from tests.e2e.workers import Worker, free_port
from tests.outbox_support import outbox_rows, seed_cases
from tests.sms_fake import ACCOUNT, FROM, TOKEN, FakeTwilio

pytestmark = pytest.mark.postgres

NUMBER = "+12025550123"
OTHER = "+13105550188"


def midday_zone() -> str:
    """An IANA zone where it is about noon now (``Etc/GMT-5`` is UTC+5)."""
    offset = 12 - datetime.now(UTC).hour
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    server = FakeTwilio(free_port())
    yield server
    server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


@pytest.fixture
async def server(
    postgres_db: Database, tmp_path: Path, fake: FakeTwilio, http: aiohttp.ClientSession
) -> AsyncIterator[Worker]:
    port = free_port()
    settings = {
        "CASEBOT_SMS_URL": fake.url,
        "CASEBOT_SMS_ACCOUNT": ACCOUNT,
        "CASEBOT_SMS_TOKEN": TOKEN,
        "CASEBOT_SMS_FROM": FROM,
        "CASEBOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    worker = Worker("sms", tmp_path, postgres_db.url, settings=settings, port=port)
    try:
        await worker.ready(http)
        yield worker
    finally:
        worker.stop()


async def wait_until(check: Callable[[], Awaitable[bool]], what: str, within: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def change_status(uow_factory: UnitOfWorkFactory, receipt: str, status: str) -> None:
    """An operator's status change; the texts it queues name the person's zone (as the
    subscription that asked for them does)."""
    async with uow_factory() as uow:
        assert await update_status(uow, receipt, status)
        rows = await uow.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.channel == "sms", OutboxMessage.status == OutboxStatus.PENDING
            )
        )
        for row in rows:
            row.payload = {**row.payload, "time_zone": midday_zone()}
        await uow.commit()


async def texts_to(fake: FakeTwilio, number: str) -> list[dict[str, Any]]:
    return [m for m in (await fake.state())["messages"] if m["to"] == number]


async def test_a_status_change_arrives_once_and_its_delivery_is_recorded(
    postgres_db: Database, fake: FakeTwilio, server: Worker
) -> None:
    uow_factory = await reset(postgres_db)
    [receipt] = await seed_cases(uow_factory, 1, channel="sms", chats=[NUMBER])
    await change_status(uow_factory, receipt, "approved")

    async def delivered() -> bool:
        async with uow_factory() as uow:
            statuses = list(await uow.session.scalars(select(SmsDelivery.status)))
        return statuses == ["delivered"]

    await wait_until(delivered, "the text and its delivery status")
    [text] = await texts_to(fake, NUMBER)
    assert receipt in text["body"]
    assert text["body"].endswith("Reply STOP to stop.")
    assert text["status_callback"] == f"{server.url}/api/sms/status"
    callbacks = (await fake.state())["callbacks"]
    assert all(c["answer"] == 204 for c in callbacks), callbacks
    [row] = await outbox_rows(uow_factory)
    assert row.status is OutboxStatus.SENT


async def test_a_429_then_success_loses_and_doubles_nothing(
    postgres_db: Database, fake: FakeTwilio, server: Worker
) -> None:
    uow_factory = await reset(postgres_db)
    receipts = await seed_cases(uow_factory, 3, channel="sms", chats=[NUMBER, OTHER])
    await fake.control(plan=[{"status": 429, "code": 20429}, {"status": 503}])
    for receipt in receipts:
        await change_status(uow_factory, receipt, "approved")

    async def failed_twice() -> bool:
        rows = await outbox_rows(uow_factory)
        return sum(r.attempts for r in rows if r.status is OutboxStatus.PENDING) >= 2

    await wait_until(failed_twice, "the 429 and the 503 to be recorded")
    async with uow_factory() as uow:  # time passes: the backoff is over
        await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await uow.commit()

    async def all_sent() -> bool:
        return all(r.status is OutboxStatus.SENT for r in await outbox_rows(uow_factory))

    await wait_until(all_sent, "every text to be sent")
    state = await fake.state()
    assert state["plan_left"] == 0
    bodies = sorted((m["to"], r) for m in state["messages"] for r in receipts if r in m["body"])
    assert bodies == sorted((n, r) for n in (NUMBER, OTHER) for r in receipts)  # once each


async def test_stop_parks_pending_and_later_texts_once_confirmed_and_start_turns_them_on(
    postgres_db: Database, fake: FakeTwilio, server: Worker
) -> None:
    uow_factory = await reset(postgres_db)
    first, second, third = await seed_cases(uow_factory, 3, channel="sms", chats=[NUMBER])
    await change_status(uow_factory, first, "approved")
    async with uow_factory() as uow:  # waiting for the morning, say
        await uow.session.execute(
            update(OutboxMessage).values(next_attempt_at=datetime.now(UTC) + timedelta(hours=1))
        )
        await uow.commit()
    inbound = f"{server.url}/api/sms/inbound"

    forged = await fake.inbound(inbound, NUMBER, "STOP", forge=True)
    assert forged["status"] == 403
    assert [r.status for r in await outbox_rows(uow_factory)] == [OutboxStatus.PENDING]

    stop = await fake.inbound(inbound, NUMBER, "STOP")
    assert stop["status"] == 200
    assert len(stop["reply"]) == 1
    assert "no more texts" in stop["reply"][0]
    again = await fake.inbound(inbound, NUMBER, "quit")
    assert (again["status"], again["reply"]) == (200, [])  # confirmed once
    assert [r.status for r in await outbox_rows(uow_factory)] == [OutboxStatus.PARKED]

    await change_status(uow_factory, second, "approved")  # after STOP: never sent

    async def parked() -> bool:
        rows = await outbox_rows(uow_factory)
        return [r.status for r in rows] == [OutboxStatus.PARKED] * 2

    await wait_until(parked, "the later text to be parked")
    start = await fake.inbound(inbound, NUMBER, "START")
    assert start["status"] == 200
    assert "Reply STOP to stop." in start["reply"][0]
    await change_status(uow_factory, third, "approved")

    async def third_sent() -> bool:
        return len(await texts_to(fake, NUMBER)) == 1

    await wait_until(third_sent, "the text after START")
    [text] = await texts_to(fake, NUMBER)
    assert third in text["body"]
    help_ = await fake.inbound(inbound, NUMBER, "HELP")
    assert "Reply STOP" in help_["reply"][0]


async def sent_count(uow_factory: UnitOfWorkFactory) -> int:
    rows = await outbox_rows(uow_factory)
    return sum(r.status is OutboxStatus.SENT for r in rows)


async def test_a_sender_killed_mid_batch_loses_and_doubles_no_text_after_restart(
    postgres_db: Database, tmp_path: Path, fake: FakeTwilio, http: aiohttp.ClientSession
) -> None:
    uow_factory = await reset(postgres_db)
    numbers = [f"+1202555{n:04d}" for n in range(15)]
    receipts = await seed_cases(uow_factory, 2, channel="sms", chats=numbers)  # 30 texts
    settings = {
        "CASEBOT_SMS_URL": fake.url,
        "CASEBOT_SMS_ACCOUNT": ACCOUNT,
        "CASEBOT_SMS_TOKEN": TOKEN,
        "CASEBOT_SMS_FROM": FROM,
    }
    first = Worker("sms-first", tmp_path, postgres_db.url, settings=settings)
    second: Worker | None = None
    try:
        await first.ready(http)
        await fake.control(hold_after=10)
        for receipt in receipts:
            await change_status(uow_factory, receipt, "approved")

        async def ten_confirmed_more_in_flight() -> bool:
            held = (await fake.state())["held"]
            return held > 0 and await sent_count(uow_factory) == 10

        await wait_until(ten_confirmed_more_in_flight, "10 confirmed texts and more in flight")
        in_flight = (await fake.state())["held"]
        first.kill()  # mid-batch: texts in flight, leased rows not confirmed
        await asyncio.sleep(0.5)  # the fake sees the connections drop
        await fake.control(release=True)

        async def released() -> bool:
            return (await fake.state())["held"] == 0

        await wait_until(released, "the held requests to be answered")
        second = Worker("sms-second", tmp_path, postgres_db.url, settings=settings)
        await second.ready(http)

        async def all_sent() -> bool:
            return await sent_count(uow_factory) == 30

        await wait_until(all_sent, "the restarted server to send the rest")
    finally:
        first.stop()
        if second is not None:
            second.stop()
    state = await fake.state()
    assert state["lost"] == in_flight > 0  # only the requests in flight at the kill
    sent = [(m["to"], r) for m in state["messages"] for r in receipts if r in m["body"]]
    assert len(sent) == len(set(sent)) == 30  # every text, none twice
    assert set(sent) == {(n, r) for n in numbers for r in receipts}


class WebChat:
    """One person in the web chat, through the real server's HTTP API."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, url
        self.replies: list[dict[str, Any]] = []
        self.path = ""
        self.auth: dict[str, str] = {}

    async def open(self) -> None:
        async with self.http.post(f"{self.url}/api/chat/sessions", json={"locale": "en"}) as r:
            assert r.status == 201, await r.text()
            session = await r.json()
        self.path = f"{self.url}/api/chat/sessions/{session['session_id']}/messages"
        self.auth = {"Authorization": f"Bearer {session['token']}"}

    async def post(self, body: dict[str, Any]) -> str:
        async with self.http.post(self.path, json=body, headers=self.auth) as r:
            assert r.status == 200, await r.text()
            self.replies = (await r.json())["replies"]
        return "\n".join(reply["text"] for reply in self.replies)

    async def send(self, text: str) -> str:
        return await self.post({"text": text})

    async def press(self, label: str) -> str:
        for reply in reversed(self.replies):
            for button in reply["buttons"]:
                if button["label"] == label:
                    return await self.post({"payload": button["payload"]})
        raise AssertionError(f"no button {label!r} in {self.replies}")


async def test_updates_by_text_from_the_web_chat_end_with_stop_from_the_phone(
    postgres_db: Database, fake: FakeTwilio, server: Worker, http: aiohttp.ClientSession
) -> None:
    uow_factory = await reset(postgres_db)
    receipt = "WAC2212345678"  # a public demo case
    chat = WebChat(http, server.url)
    await chat.open()
    await chat.send(receipt)
    await chat.press("Get updates")
    await chat.press("By text message")
    await chat.send("(202) 555-0123")

    def texts(count: int) -> Callable[[], Awaitable[bool]]:
        async def arrived() -> bool:
            return len(await texts_to(fake, NUMBER)) >= count

        return arrived

    await wait_until(texts(1), "the confirmation code at the provider")
    [code_text] = await texts_to(fake, NUMBER)
    [code] = re.findall(r"(?<!\d)\d{6}(?!\d)", code_text["body"])
    assert NUMBER in await chat.send(code)

    await change_status(uow_factory, receipt, "card_mailed")
    await wait_until(texts(2), "the status change at the provider")
    status_text = (await texts_to(fake, NUMBER))[-1]
    assert receipt in status_text["body"]
    assert status_text["body"].endswith("Reply STOP to stop.")

    stop = await fake.inbound(f"{server.url}/api/sms/inbound", NUMBER, "STOP")
    assert stop["status"] == 200
    async with uow_factory() as uow:
        contact = await uow.session.scalar(
            select(ContactPoint).where(ContactPoint.address == NUMBER)
        )
        assert contact is not None
        assert contact.stopped_at is not None  # the consent itself, not only the number
    before = len(await outbox_rows(uow_factory))
    await change_status(uow_factory, receipt, "rfe_sent")
    assert len(await outbox_rows(uow_factory)) == before  # nothing queued for the number
    assert len(await texts_to(fake, NUMBER)) == 2
