"""The outbox dispatcher is woken when a row it sends is committed (in this process, and from
another process through PostgreSQL's NOTIFY), and it sends the live chat's messages before the
notices of a place in line or of a case."""

from __future__ import annotations

import asyncio

import pytest

from bot.notify.dispatcher import OutboxDispatcher
from core.db import Database
from core.outbox.dispatch import claim_due
from core.outbox.service import add_notification
from core.outbox.wake import wake_of
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock
from tests.outbox_support import RecordingSender

NEVER = 3600.0  # a pass interval no test waits for: only a wake-up sends in time


async def queue(uow_factory: UnitOfWorkFactory, kind: str, address: str, key: str) -> None:
    async with uow_factory() as uow:
        await add_notification(
            uow,
            kind=kind,
            channel="telegram",
            address=address,
            payload={"handoff_id": 1, "agent_name": "Ana", "text": key, "language": "en"},
            dedupe_key=key,
        )
        await uow.commit()


async def sent_to(sender: RecordingSender, address: str) -> None:
    """Until the sender sent something to ``address`` (the test fails on its own timeout if
    nothing wakes the dispatcher, whose next pass is an hour away)."""
    while address not in {a for a, _ in sender.sent}:  # noqa: ASYNC110 (the sender has no event)
        await asyncio.sleep(0.01)


async def test_a_row_committed_after_the_pass_wakes_the_dispatcher(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    sender = RecordingSender(exclusive=False)
    dispatcher = OutboxDispatcher(uow_factory, clock, [sender], interval=NEVER)
    await queue(uow_factory, "agent_message", "1", "first")
    dispatcher.start()
    try:
        await asyncio.wait_for(sent_to(sender, "1"), 30)  # the first pass, at start
        await queue(uow_factory, "agent_message", "2", "second")  # now it sleeps for an hour

        await asyncio.wait_for(sent_to(sender, "2"), 30)
    finally:
        await dispatcher.stop()
    assert [a for a, _ in sender.sent] == ["1", "2"]


async def test_only_a_committed_row_wakes_the_channel(uow_factory: UnitOfWorkFactory) -> None:
    woken = wake_of(uow_factory.db).event("telegram")
    async with uow_factory() as uow:
        await add_notification(
            uow, kind="agent_message", channel="telegram", address="1",
            payload={"handoff_id": 1, "agent_name": "Ana", "text": "x"}, dedupe_key="x",
        )  # fmt: skip
    assert not woken.is_set()  # rolled back: nothing to send

    await queue(uow_factory, "agent_message", "2", "after")

    assert woken.is_set()


@pytest.mark.postgres
async def test_a_row_committed_by_another_process_wakes_the_dispatcher_through_notify(
    postgres_db: Database, clock: FakeClock
) -> None:
    sender = RecordingSender(exclusive=False)
    dispatcher = OutboxDispatcher(
        UnitOfWorkFactory(postgres_db, clock), clock, [sender], interval=NEVER
    )
    other = Database(postgres_db.url)  # another worker's connections: no in-process wake-up
    dispatcher.start()
    try:
        await dispatcher.listening()
        await queue(UnitOfWorkFactory(other, clock), "agent_message", "7", "elsewhere")

        await asyncio.wait_for(sent_to(sender, "7"), 30)
    finally:
        await dispatcher.stop()
        await other.dispose()


async def test_the_live_chat_is_claimed_before_place_and_case_notices(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await queue(uow_factory, "handoff_place", "1", "place")
    await queue(uow_factory, "case_status_changed", "2", "status")
    await queue(uow_factory, "handoff_claimed", "3", "claimed")
    await queue(uow_factory, "agent_message", "3", "message")
    await queue(uow_factory, "handoff_place", "4", "place later")
    await queue(uow_factory, "handoff_closed", "3", "closed")

    async with uow_factory() as uow:
        claimed = await claim_due(uow, channel="telegram", limit=10, now=uow.clock.now())

    assert [m.kind for m in claimed] == [
        "handoff_claimed",
        "agent_message",
        "handoff_closed",
        "handoff_place",
        "case_status_changed",
        "handoff_place",
    ]
