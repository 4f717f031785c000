"""The webhook inbox's and the reply outbox's statements on SQLite and PostgreSQL: an update
stored once and handled once, a chat's pending updates lowest id first; a turn's replies kept
leased, then each marked sent as it went, and only those still leased to the worker that sent
them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.dialogs.model import Reply
from bot.notify.reply_outbox import LEASE, keep_replies, send_kept
from core.inbox import (
    DUPLICATE,
    HANDLED,
    InboxUpdate,
    has_pending,
    mark_handled,
    next_pending,
    store_update,
)
from core.outbox.dispatch import claim_due
from core.outbox.models import OutboxMessage, OutboxStatus
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock

WORKER = "host:1:abc:replies"


async def test_an_update_is_stored_once_and_a_chats_pending_ones_come_lowest_id_first(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        for update_id in (12, 10, 11):
            payload = {"update_id": update_id, "message": {"text": "hi"}}
            assert await store_update(
                uow, channel="telegram", update_id=update_id, chat_id="7", payload=payload
            )
        assert not await store_update(
            uow, channel="telegram", update_id=10, chat_id="7", payload={"update_id": 10}
        )
        await uow.commit()

    async with uow_factory() as uow:
        first = await next_pending(uow, "telegram", "7")
        assert first is not None
        assert (first.update_id, first.payload["message"]) == (10, {"text": "hi"})
        assert await next_pending(uow, "telegram", "8") is None
        assert not await has_pending(uow, "telegram", "8")
        assert await mark_handled(uow, "telegram", 10, outcome=HANDLED)
        assert not await mark_handled(uow, "telegram", 10, outcome=DUPLICATE)  # marked before
        assert not await mark_handled(uow, "telegram", 99, outcome=HANDLED)  # never stored
        await uow.commit()

    async with uow_factory() as uow:
        following = await next_pending(uow, "telegram", "7")
        assert following is not None
        assert following.update_id == 11
        assert await has_pending(uow, "telegram", "7")
        row = await uow.session.scalar(select(InboxUpdate).where(InboxUpdate.update_id == 10))
        assert row is not None
        assert (row.outcome, row.payload, row.handled_at) == (HANDLED, {}, uow.clock.now())


async def test_a_mark_handled_in_a_turn_that_is_undone_is_undone_with_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await store_update(uow, channel="telegram", update_id=5, chat_id="7", payload={})
        await uow.commit()
    async with uow_factory() as uow:
        assert await mark_handled(uow, "telegram", 5, outcome=HANDLED)
        # no commit: the turn failed

    async with uow_factory() as uow:
        pending = await next_pending(uow, "telegram", "7")
        assert pending is not None
        assert pending.update_id == 5


async def test_a_turns_replies_are_kept_leased_then_marked_sent(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    replies = [Reply("one"), Reply("two"), Reply("three")]
    async with uow_factory() as uow:
        kept = await keep_replies(uow, "telegram", "7", replies, worker=WORKER)
        await uow.commit()
    assert len(kept) == 3
    assert kept == sorted(kept)
    async with uow_factory() as uow:
        leased = await claim_due(
            uow, channel="telegram", limit=10, now=clock.now(), lease=LEASE, worker="dispatcher"
        )
        assert leased == []
    sent: list[str] = []

    async def send(reply: Reply) -> None:
        sent.append(reply.text)

    delivered = await send_kept(
        uow_factory,
        list(zip(kept, replies, strict=True)),
        send,
        worker=WORKER,
        is_permanent=lambda _error: False,
    )

    assert (delivered, sent) == (3, ["one", "two", "three"])
    async with uow_factory() as uow:
        rows = list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(r.status, r.attempts, r.payload, r.claimed_by) for r in rows] == [
        (OutboxStatus.SENT, 1, {}, None)
    ] * 3
    assert {r.sent_at for r in rows} == {clock.now()}


async def test_a_reply_whose_lease_was_taken_over_is_left_to_its_new_owner(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    """The sender was too slow: the lease ran out and the dispatcher claimed the row. Its
    ``sent`` mark is the dispatcher's to write, not this worker's."""
    replies = [Reply("late")]
    async with uow_factory() as uow:
        kept = await keep_replies(uow, "telegram", "7", replies, worker=WORKER)
        await uow.commit()
    clock.advance(timedelta(minutes=5))
    async with uow_factory() as uow:
        claimed = await claim_due(
            uow, channel="telegram", limit=10, now=clock.now(), lease=LEASE, worker="dispatcher"
        )
        await uow.commit()
    assert [m.id for m in claimed] == kept

    async def send(_reply: Reply) -> None:
        pass

    await send_kept(
        uow_factory, list(zip(kept, replies, strict=True)), send, worker=WORKER,
        is_permanent=lambda _error: False,
    )  # fmt: skip

    async with uow_factory() as uow:
        row = await uow.session.get(OutboxMessage, kept[0])
        assert row is not None
        assert (row.status, row.claimed_by, row.payload["text"]) == (
            OutboxStatus.PENDING,
            "dispatcher",
            "late",
        )


async def test_a_reply_that_went_is_marked_sent_before_the_next_one_goes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """A worker killed while the turn's second reply waits for Telegram's per-chat pace must
    not leave the first unmarked: the dispatcher would send it again (a kill test saw "You
    are signed in" twice). Each reply is marked once it went, as it goes."""
    replies = [Reply("signed in"), Reply("menu")]
    async with uow_factory() as uow:
        kept = await keep_replies(uow, "telegram", "7", replies, worker=WORKER)
        await uow.commit()
    marked_before_second: list[OutboxStatus] = []

    async def send(reply: Reply) -> None:
        if reply.text == "menu":  # the first went: what does the database say now?
            async with uow_factory() as uow:
                first = await uow.session.get(OutboxMessage, kept[0])
                assert first is not None
                marked_before_second.append(first.status)

    await send_kept(
        uow_factory, list(zip(kept, replies, strict=True)), send, worker=WORKER,
        is_permanent=lambda _error: False,
    )  # fmt: skip

    assert marked_before_second == [OutboxStatus.SENT]
