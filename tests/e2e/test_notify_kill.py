"""Both notification channels under one SIGKILL: a real ``casebot serve`` sends the status
changes of cases followed by people who confirmed an email address and a mobile number (the
domain's fan-out, ``core.contacts``), mail to a real SMTP server (aiosmtpd in this process) and
texts to the fake Twilio (its own process); it is killed while both channels have messages in
flight, and a restarted server sends the rest.

Every mail arrives, and one the dying server had handed over without recording it is sent
again as the same message (the same ``Message-ID``, the rule of ``test_email_kill``); every
text arrives exactly once (the fake drops the requests whose client died)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

import aiohttp
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from core.cases.models import Case
from core.contacts.models import ContactFollow, ContactPoint
from core.db import Database
from core.outbox.models import OutboxMessage, OutboxStatus
from core.uow import UnitOfWorkFactory
from tests.e2e.test_email_kill import HoldingServer, http, quiet_smtp_server, workers
from tests.e2e.test_sms_serve import fake, midday_zone
from tests.e2e.test_workers import reset, wait_until
from tests.e2e.workers import Worker, free_port
from tests.outbox_support import change_statuses, seed_cases
from tests.sms_fake import ACCOUNT, FROM, TOKEN, FakeTwilio

__all__ = ["fake", "http", "quiet_smtp_server", "workers"]  # the fixtures used here

pytestmark = pytest.mark.postgres

PEOPLE: Final = 12
CASES: Final = 2
HOLD_AFTER: Final = 6  # each server accepts this many, then holds the next ones


def email(n: int) -> str:
    return f"person{n}@example.com"


def mobile(n: int) -> str:
    return f"+1202555{n:04d}"


async def follow_by_email_and_text(uow_factory: UnitOfWorkFactory, numbers: list[str]) -> None:
    """``PEOPLE`` people, each with a confirmed address and number following every case."""
    async with uow_factory() as uow:
        cases = list(
            await uow.session.scalars(select(Case).where(Case.receipt_number.in_(numbers)))
        )
        for n in range(PEOPLE):
            for channel, address in (("email", email(n)), ("sms", mobile(n))):
                contact = ContactPoint(
                    channel=channel,
                    address=address,
                    locale="en",
                    time_zone=midday_zone(),  # quiet hours hold no text here
                    verified_at=uow.clock.now(),
                )
                uow.session.add(contact)
                await uow.flush()
                for case in cases:
                    uow.session.add(ContactFollow(contact_id=contact.id, case_id=case.id))
        await uow.commit()


async def sent(db: Database, channel: str) -> int:
    async with db.engine.connect() as conn:
        count = await conn.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.channel == channel, OutboxMessage.status == OutboxStatus.SENT)
        )
    return int(count or 0)


@pytest.mark.usefixtures("quiet_smtp_server")
async def test_a_server_killed_with_mail_and_texts_in_flight_loses_and_doubles_neither(
    postgres_db: Database,
    tmp_path: Path,
    http: aiohttp.ClientSession,
    workers: list[Worker],
    fake: FakeTwilio,
) -> None:
    uow_factory = await reset(postgres_db)
    numbers = await seed_cases(uow_factory, CASES, channel="test", chats=[])
    await follow_by_email_and_text(uow_factory, numbers)
    total = PEOPLE * CASES  # per channel
    handler = HoldingServer(hold_after=HOLD_AFTER)
    smtp_port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        settings = {
            "CASEBOT_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "CASEBOT_SMS_URL": fake.url,
            "CASEBOT_SMS_ACCOUNT": ACCOUNT,
            "CASEBOT_SMS_TOKEN": TOKEN,
            "CASEBOT_SMS_FROM": FROM,
        }
        first = Worker("notify1", tmp_path, postgres_db.url, settings=settings)
        workers.append(first)
        await first.ready(http)
        await fake.control(hold_after=HOLD_AFTER)
        await change_statuses(uow_factory, numbers, "approved")  # 24 mails and 24 texts

        async def both_in_flight() -> bool:
            return (
                handler.holding > 0
                and (await fake.state())["held"] > 0
                and await sent(postgres_db, "email") >= HOLD_AFTER
                and await sent(postgres_db, "sms") >= HOLD_AFTER
            )

        await wait_until(both_in_flight, "mail and texts confirmed, and more of each in flight")
        texts_in_flight = (await fake.state())["held"]
        first.kill()  # mid-batch on both channels: leased rows not confirmed
        assert await sent(postgres_db, "email") < total
        assert await sent(postgres_db, "sms") < total
        await asyncio.sleep(0.5)  # the fake sees the connections drop
        handler.released.set()
        await fake.control(release=True)

        async def released() -> bool:
            return (await fake.state())["held"] == 0

        await wait_until(released, "the held text requests to be answered")
        second = Worker("notify2", tmp_path, postgres_db.url, settings=settings)
        workers.append(second)

        async def all_sent() -> bool:
            mails, texts = await sent(postgres_db, "email"), await sent(postgres_db, "sms")
            return mails == texts == total

        await wait_until(all_sent, "the restarted server to send the rest")
    finally:
        handler.released.set()
        controller.stop()

    # Mail: each one message, however often it came; only those in flight at the kill twice.
    by_message = {(to, message_id): subject for to, message_id, subject in handler.received}
    assert len(by_message) == total
    assert {(to, n) for (to, _id), s in by_message.items() for n in numbers if n in s} == {
        (email(p), n) for p in range(PEOPLE) for n in numbers
    }
    assert len(handler.received) - total <= handler.holding
    # Texts: each exactly once; the requests in flight at the kill were never accepted.
    state = await fake.state()
    assert state["lost"] == texts_in_flight > 0
    texts = [(m["to"], n) for m in state["messages"] for n in numbers if n in m["body"]]
    assert len(texts) == len(set(texts)) == total
    assert set(texts) == {(mobile(p), n) for p in range(PEOPLE) for n in numbers}
