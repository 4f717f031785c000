"""Appointment reminders and outbox claiming, on SQLite and PostgreSQL, with the fake clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.accounts.links import link_chat
from core.accounts.models import Account
from core.appointments.models import Appointment, AppointmentKind, AppointmentStatus, Office
from core.db import Database
from core.outbox.dispatch import backoff, claim_due, mark_failed, mark_sent, stale_reason
from core.outbox.models import OutboxMessage, OutboxStatus
from core.outbox.reminders import queue_reminders, reminder_due
from core.outbox.service import add_notification
from core.uow import UnitOfWork, UnitOfWorkFactory
from tests.fakes import FakeClock

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # the fake clock's start


async def seed(uow: UnitOfWork, starts_at: datetime, *, chats: int = 2) -> int:
    """An account with ``chats`` linked chats (telegram 1.., web w1..) and one booked
    appointment; returns the appointment's id."""
    account = Account(email="ana@example.com", password_hash="not-a-real-hash")
    office = Office(
        code="NYC", name="New York ASC", address="26 Federal Plaza", city="New York",
        state="NY", zip_code="10278", timezone="America/New_York", services=["biometrics"],
    )  # fmt: skip
    uow.session.add_all([account, office])
    await uow.flush()
    appointment = Appointment(
        confirmation_code="BIO-7K2QX9", account_id=account.id, office_id=office.id,
        kind=AppointmentKind.BIOMETRICS, starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
    )  # fmt: skip
    uow.session.add(appointment)
    await uow.flush()
    for n in range(chats):
        await link_chat(uow, account.id, "telegram" if n % 2 == 0 else "web", f"c{n}")
    return appointment.id


async def reminders(uow: UnitOfWork) -> list[OutboxMessage]:
    rows = await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    return list(rows)


# --- which reminder is due (no database) ---------------------------------------------------


@pytest.mark.parametrize(
    ("hours_left", "due"),
    [(30, None), (24, 24), (10, 24), (2.01, 24), (2, 2), (0.5, 2), (0, None), (-1, None)],
)
def test_a_reminder_is_due_24_hours_then_2_hours_before(hours_left: float, due: int | None) -> None:
    assert reminder_due(NOW + timedelta(hours=hours_left), NOW) == due


def test_the_backoff_doubles_up_to_a_cap() -> None:
    waits = [backoff(n).total_seconds() for n in range(1, 9)]
    assert waits == [30, 60, 120, 240, 480, 960, 1800, 1800]


# --- queueing reminders --------------------------------------------------------------------


async def test_queues_each_reminder_once_for_every_linked_chat(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    starts_at = NOW + timedelta(hours=30)
    async with uow_factory() as uow:
        appointment_id = await seed(uow, starts_at)
        assert await queue_reminders(uow, now=clock.now()) == 0  # more than 24 h ahead
        await uow.commit()
    clock.set(starts_at - timedelta(hours=24))
    for _ in range(2):
        async with uow_factory() as uow:
            written = await queue_reminders(uow, now=clock.now())
            await uow.commit()
        assert written in (2, 0)
    clock.set(starts_at - timedelta(hours=2))
    async with uow_factory() as uow:
        assert await queue_reminders(uow, now=clock.now()) == 2
        assert await queue_reminders(uow, now=clock.now()) == 0
        rows = await reminders(uow)
        await uow.commit()
    assert [(r.channel, r.address, r.payload["hours_before"]) for r in rows] == [
        ("telegram", "c0", 24),
        ("web", "c1", 24),
        ("telegram", "c0", 2),
        ("web", "c1", 2),
    ]
    assert rows[0].dedupe_key == f"reminder:{appointment_id}:24:telegram:c0"
    assert rows[0].payload == {
        "appointment_id": appointment_id,
        "confirmation_code": "BIO-7K2QX9",
        "starts_at": starts_at.isoformat(),
        "timezone": "America/New_York",
        "office_name": "New York ASC",
        "office_address": "26 Federal Plaza, New York, NY 10278",
        "kind": "biometrics",
        "hours_before": 24,
    }


async def test_no_reminder_for_a_cancelled_or_passed_appointment(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        appointment_id = await seed(uow, NOW + timedelta(hours=3))
        appointment = await uow.session.get(Appointment, appointment_id)
        assert appointment is not None
        appointment.status = AppointmentStatus.CANCELLED
        assert await queue_reminders(uow, now=clock.now()) == 0
        appointment.status = AppointmentStatus.BOOKED
        assert await queue_reminders(uow, now=NOW + timedelta(hours=3)) == 0  # starts now
        assert await queue_reminders(uow, now=NOW + timedelta(hours=4)) == 0
        assert await reminders(uow) == []


async def test_a_reminder_not_sent_before_the_appointment_is_stale(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    starts_at = NOW + timedelta(hours=1)
    async with uow_factory() as uow:
        appointment_id = await seed(uow, starts_at, chats=1)
        await queue_reminders(uow, now=clock.now())
        (row,) = await reminders(uow)
        assert await stale_reason(uow, row, now=clock.now()) is None
        assert await stale_reason(uow, row, now=starts_at) == "appointment_started"
        appointment = await uow.session.get(Appointment, appointment_id)
        assert appointment is not None
        appointment.starts_at += timedelta(days=1)
        await uow.flush()
        assert await stale_reason(uow, row, now=clock.now()) == "appointment_moved"
        appointment.status = AppointmentStatus.CANCELLED
        await uow.flush()
        assert await stale_reason(uow, row, now=clock.now()) == "appointment_cancelled"


# --- claiming --------------------------------------------------------------------------------


async def queue(uow: UnitOfWork, n: int, channel: str = "telegram") -> None:
    await add_notification(
        uow, kind="case_status_changed", channel=channel, address=str(n), payload={"n": n},
        dedupe_key=f"test:{channel}:{n}",
    )  # fmt: skip


async def test_claims_due_messages_of_one_channel_oldest_first(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        for n in range(3):
            await queue(uow, n)
            clock.advance(seconds=1)
        await queue(uow, 9, channel="web")
        await uow.commit()
    async with uow_factory() as uow:
        claimed = await claim_due(uow, channel="telegram", limit=2, now=clock.now())
        assert [m.address for m in claimed] == ["0", "1"]
        for message in claimed:
            await mark_sent(uow, message.id, now=clock.now())
        await uow.commit()
    async with uow_factory() as uow:
        claimed = await claim_due(uow, channel="telegram", limit=10, now=clock.now())
        assert [m.address for m in claimed] == ["2"]
        sent = await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT)
        )
        assert {(m.address, m.attempts, m.sent_at) for m in sent} == {
            ("0", 1, clock.now()),
            ("1", 1, clock.now()),
        }


async def test_a_failure_backs_off_then_parks_with_the_reason(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        await queue(uow, 1)
        await uow.commit()
    for attempt in range(1, 4):
        async with uow_factory() as uow:
            (message,) = await claim_due(uow, channel="telegram", limit=5, now=clock.now())
            parked = await mark_failed(
                uow, message.id, error="NetworkError: Bad Gateway", now=clock.now(), max_attempts=3
            )
            await uow.commit()
        assert parked is (attempt == 3)
        async with uow_factory() as uow:
            assert await claim_due(uow, channel="telegram", limit=5, now=clock.now()) == []
        clock.advance(backoff(attempt))
    async with uow_factory() as uow:
        assert await claim_due(uow, channel="telegram", limit=5, now=clock.now()) == []
        (message,) = await reminders(uow)
    assert message.status is OutboxStatus.PARKED
    assert message.attempts == 3
    assert message.last_error == "gave up after 3 attempts: NetworkError: Bad Gateway"


@pytest.mark.postgres
async def test_two_dispatchers_never_claim_the_same_row(
    postgres_db: Database, clock: FakeClock
) -> None:
    factory = UnitOfWorkFactory(postgres_db, clock)
    async with factory() as uow:
        for n in range(4):
            await queue(uow, n)
        await uow.commit()
    first_claimed = asyncio.Event()
    done = asyncio.Event()

    async def first() -> set[str]:
        async with factory() as uow:  # holds its rows locked until the second one claimed
            claimed = await claim_due(uow, channel="telegram", limit=2, now=clock.now())
            first_claimed.set()
            await done.wait()
            return {m.address for m in claimed}

    async def second() -> set[str]:
        await first_claimed.wait()
        async with factory() as uow:
            claimed = await claim_due(uow, channel="telegram", limit=10, now=clock.now())
            done.set()
            return {m.address for m in claimed}

    # Separate tasks: a unit of work opened inside another would share its transaction.
    a, b = await asyncio.gather(asyncio.create_task(first()), asyncio.create_task(second()))
    assert a == {"0", "1"}
    assert b == {"2", "3"}
