"""The email channel under a SIGKILL: a real ``casebot serve`` sends status-change mail to a real
SMTP server (aiosmtpd in this process) and is killed mid-batch, mails in flight; a second
worker takes over. Every mail arrives, and a mail the dying worker had handed over without
recording it is sent again as the same message (the same ``Message-ID``): none is lost, none
is doubled in a mail store."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any, Final

import aiohttp
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from core.cases.models import Case
from core.contacts.models import ContactFollow, ContactPoint
from core.db import Database
from core.outbox.models import OutboxMessage, OutboxStatus
from core.uow import UnitOfWorkFactory
from tests.e2e.test_workers import reset, wait_until
from tests.e2e.workers import Worker, free_port
from tests.outbox_support import change_statuses, seed_cases

pytestmark = pytest.mark.postgres

PEOPLE: Final = 30
CASES: Final = 2


@dataclass
class HoldingServer:
    """An aiosmtpd handler that keeps each message it accepts and, once ``hold_after`` have
    come, holds the next ones (the sender waits for the server's answer) until released."""

    hold_after: int
    received: list[tuple[str, str, str]] = field(default_factory=list)  # to, Message-ID, subject
    holding: int = 0
    # The server runs its own event loop in a thread of its own: a thread's event.
    released: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if len(self.received) >= self.hold_after:
            self.holding += 1
            await asyncio.to_thread(self.released.wait)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append(
            (envelope.rcpt_tos[0], str(message["Message-ID"]), str(message["Subject"]))
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def quiet_smtp_server() -> Iterator[None]:
    server_log = logging.getLogger("mail.log")  # the receiving side logs every line at DEBUG
    level = server_log.level
    server_log.setLevel(logging.INFO)
    yield
    server_log.setLevel(level)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


async def follow_by_email(uow_factory: UnitOfWorkFactory, numbers: list[str]) -> list[str]:
    """``PEOPLE`` confirmed email addresses, each following every case of ``numbers``."""
    addresses = [f"person{n}@example.com" for n in range(PEOPLE)]
    async with uow_factory() as uow:
        cases = list(
            await uow.session.scalars(select(Case).where(Case.receipt_number.in_(numbers)))
        )
        for address in addresses:
            contact = ContactPoint(
                channel="email", address=address, locale="en", verified_at=uow.clock.now()
            )
            uow.session.add(contact)
            await uow.flush()
            for case in cases:
                uow.session.add(ContactFollow(contact_id=contact.id, case_id=case.id))
        await uow.commit()
    return addresses


async def sent(db: Database) -> int:
    async with db.engine.connect() as conn:
        count = await conn.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.channel == "email", OutboxMessage.status == OutboxStatus.SENT)
        )
    return int(count or 0)


@pytest.mark.usefixtures("quiet_smtp_server")
async def test_a_killed_mail_sender_is_replaced_and_every_mail_arrives_as_one_message(
    postgres_db: Database, tmp_path: Path, http: aiohttp.ClientSession, workers: list[Worker]
) -> None:
    uow_factory = await reset(postgres_db)
    numbers = await seed_cases(uow_factory, CASES, channel="test", chats=[])
    addresses = await follow_by_email(uow_factory, numbers)
    total = PEOPLE * CASES
    handler = HoldingServer(hold_after=20)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp = {"CASEBOT_SMTP_URL": f"smtp://127.0.0.1:{port}"}
        first = Worker("mail1", tmp_path, postgres_db.url, settings=smtp)
        workers.append(first)
        await first.ready(http)
        await change_statuses(uow_factory, numbers, "approved")  # 60 mails

        async def held() -> bool:
            return handler.holding > 0 and await sent(postgres_db) >= 20

        await wait_until(held, "20 mails confirmed and more in flight")
        first.kill()  # mid-batch: mails handed over, not yet recorded
        at_kill = await sent(postgres_db)
        assert at_kill < total, "all were sent before the kill; the test proves nothing"
        handler.released.set()
        second = Worker("mail2", tmp_path, postgres_db.url, settings=smtp)
        workers.append(second)

        async def all_sent() -> bool:
            return await sent(postgres_db) == total

        await wait_until(all_sent, "the second worker to send the rest")
    finally:
        handler.released.set()
        controller.stop()

    by_message = {(to, message_id): subject for to, message_id, subject in handler.received}
    assert len(by_message) == total  # every mail, each one message however often it came
    for address in addresses:
        subjects = [s for (to, _id), s in by_message.items() if to == address]
        assert sorted(n for n in numbers if any(n in s for s in subjects)) == sorted(numbers)
    doubled = len(handler.received) - total
    assert doubled <= handler.holding  # only mails in flight at the kill came twice
