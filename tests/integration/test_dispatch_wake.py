"""The outbox dispatcher is woken when a row it sends is committed (in this process, and from
another process through PostgreSQL's NOTIFY), and it sends the live chat's messages before the
notices of a place in line or of a case."""

from __future__ import annotations

import asyncio

import pytest

from bot.dialogs.model import Reply
from bot.notify.dispatcher import OutboxDispatcher
from bot.notify.senders import TransactionalSender
from core.db import Database
from core.outbox.dispatch import ClaimedMessage, claim_due, mark_sent
from core.outbox.service import OutboxItem, add_notification
from core.outbox.wake import wake_of
from core.uow import UnitOfWork, UnitOfWorkFactory
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


async def test_the_live_lane_takes_a_chats_oldest_live_message_only_and_no_other_kind(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await queue(uow_factory, "handoff_place", "1", "place")
    await queue(uow_factory, "agent_message", "1", "first to 1")
    await queue(uow_factory, "agent_message", "1", "second to 1")
    await queue(uow_factory, "agent_message", "2", "first to 2")

    async with uow_factory() as uow:
        now = uow.clock.now()
        live = await claim_due(uow, channel="telegram", limit=10, now=now, live=True)
        rest = await claim_due(uow, channel="telegram", limit=10, now=now, live=False)
        assert [(m.address, m.payload["text"]) for m in live] == [
            ("1", "first to 1"),
            ("2", "first to 2"),
        ]
        assert [m.kind for m in rest] == ["handoff_place"]
        for message in live:
            await mark_sent(uow, message.id, now=now)
        await uow.commit()
    async with uow_factory() as uow:  # the next of chat 1 is due once the first is sent
        live = await claim_due(uow, channel="telegram", limit=10, now=now, live=True)
    assert [m.payload["text"] for m in live] == ["second to 1"]


@pytest.mark.postgres
async def test_a_live_lane_running_at_once_never_takes_a_chats_later_message(
    postgres_db: Database, clock: FakeClock
) -> None:
    uow_factory = UnitOfWorkFactory(postgres_db, clock)
    await queue(uow_factory, "agent_message", "1", "first")
    await queue(uow_factory, "agent_message", "1", "second")
    holding, done = asyncio.Event(), asyncio.Event()

    async def one_worker() -> list[ClaimedMessage]:  # holds the first, not committed yet
        async with uow_factory() as uow:
            held = await claim_due(uow, channel="telegram", limit=10, now=clock.now(), live=True)
            holding.set()
            await done.wait()
            return held

    async def another_worker() -> list[ClaimedMessage]:  # its lane at the same moment
        await holding.wait()
        try:
            async with uow_factory() as uow:
                return await claim_due(
                    uow, channel="telegram", limit=10, now=clock.now(), live=True
                )
        finally:
            done.set()

    held, taken = await asyncio.gather(one_worker(), another_worker())
    assert [m.payload["text"] for m in held] == ["first"]
    assert taken == []  # SKIP LOCKED passed over "first"; "second" must wait for it


class HeldWebSender(TransactionalSender):
    """A channel delivered in transactions whose "you are next" notices hold their transaction open
    until ``release`` is set (a slow batch); other kinds are delivered at once."""

    channel = "webchat"

    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def deliver(self, uow: UnitOfWork, message: OutboxItem, reply: Reply) -> None:
        if message.kind == "handoff_next":
            self.holding.set()
            await self.release.wait()
        self.delivered.append(message.kind)

    async def after_commit(self) -> None:
        return None


@pytest.mark.postgres
async def test_an_agents_message_is_delivered_while_a_batch_of_notices_is_still_going(
    postgres_db: Database, clock: FakeClock
) -> None:
    uow_factory = UnitOfWorkFactory(postgres_db, clock)
    sender = HeldWebSender()
    dispatcher = OutboxDispatcher(uow_factory, clock, [sender], interval=NEVER)
    async with uow_factory() as uow:
        await add_notification(
            uow,
            kind="handoff_next",
            channel="webchat",
            address="9",
            payload={"handoff_id": 1, "language": "en"},
            dedupe_key="next 9",
        )
        await add_notification(
            uow,
            kind="handoff_next",
            channel="webchat",
            address="8",
            payload={"handoff_id": 2, "language": "en"},
            dedupe_key="next 8",
        )
        await uow.commit()
    dispatcher.start()
    try:
        await asyncio.wait_for(sender.holding.wait(), 30)  # the notices' lane is held
        async with uow_factory() as uow:
            await add_notification(
                uow,
                kind="agent_message",
                channel="webchat",
                address="7",
                payload={"handoff_id": 1, "agent_name": "Ana", "text": "Hi", "language": "en"},
                dedupe_key="message",
            )
            await uow.commit()

        async def delivered() -> None:
            while "agent_message" not in sender.delivered:  # noqa: ASYNC110
                await asyncio.sleep(0.01)

        await asyncio.wait_for(delivered(), 30)  # not behind the held batch, never released
    finally:
        sender.release.set()
        await dispatcher.stop()
    assert sender.delivered[0] == "agent_message"  # before the held batch of notices
