"""The outbox dispatcher on SQLite and PostgreSQL: web chat notifications delivered into the
transcript exactly once, leases and the sender lock of a network channel, parking, metrics."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry
from sqlalchemy import select, update

from bot.channels.web.chat import WebChatHub
from bot.channels.web.push import PushBus, WebChatSender
from bot.dialogs.registry import all_dialogs
from bot.notify.dispatcher import LEASE, OutboxDispatcher
from bot.ops.metrics import CasebotMetrics
from core.db import Database
from core.locks import WORKER_LOCKS, AdvisoryLock, key_of
from core.outbox.dispatch import backoff, claim_due
from core.outbox.models import OutboxMessage, OutboxStatus
from core.uow import UnitOfWorkFactory
from core.web_sessions import WebMessage, WebSession
from tests.fakes import FakeClock
from tests.outbox_support import (
    RecordingSender,
    change_statuses,
    outbox_rows,
    pushed,
    seed_cases,
    web_sessions,
)


def web_dispatcher(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, hub: WebChatHub, **options: object
) -> OutboxDispatcher:
    sender = WebChatSender(PushBus(hub, uow_factory.db))
    return OutboxDispatcher(uow_factory, clock, [sender], **options)  # type: ignore[arg-type]


def sample(metrics: CasebotMetrics, channel: str, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "casebot_notifications_total", {"channel": channel, "outcome": outcome}
    )
    return value or 0.0


# --- the web chat: exactly once, in one transaction ----------------------------------------


async def test_a_web_notification_lands_in_the_transcript_once_with_its_outbox_id(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, engine: object
) -> None:
    sessions = await web_sessions(uow_factory, 2)
    numbers = await seed_cases(uow_factory, 3, channel="webchat", chats=sessions)
    await change_statuses(uow_factory, numbers, "approved")
    hub = WebChatHub(engine, uow_factory)  # type: ignore[arg-type]
    metrics = CasebotMetrics(CollectorRegistry(), all_dialogs())
    dispatcher = web_dispatcher(uow_factory, clock, hub, metrics=metrics)

    report = await dispatcher.run_once("webchat")

    assert (report.claimed, report.sent, report.parked) == (6, 6, 0)
    rows = await outbox_rows(uow_factory)
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert await pushed(uow_factory) == {row.id: 1 for row in rows}
    async with uow_factory() as uow:
        messages = list(await uow.session.scalars(select(WebMessage).order_by(WebMessage.id)))
    assert {m.session_id for m in messages} == set(sessions)
    assert all(m.sender == "bot" and "Case Was Approved" in m.text for m in messages)
    assert (await dispatcher.run_once("webchat")).claimed == 0
    assert sample(metrics, "webchat", "sent") == 6


async def test_a_web_notification_delivered_again_is_recognised_by_its_outbox_id(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, engine: object
) -> None:
    (session,) = await web_sessions(uow_factory, 1)
    numbers = await seed_cases(uow_factory, 1, channel="webchat", chats=[session])
    await change_statuses(uow_factory, numbers, "approved")
    dispatcher = web_dispatcher(uow_factory, clock, WebChatHub(engine, uow_factory))  # type: ignore[arg-type]
    (before,) = await outbox_rows(uow_factory)
    assert (await dispatcher.run_once("webchat")).sent == 1
    async with uow_factory() as uow:  # as if the sent mark (which empties it) had been lost
        await uow.session.execute(
            update(OutboxMessage).values(
                status=OutboxStatus.PENDING, sent_at=None, payload=before.payload
            )
        )
        await uow.commit()

    report = await dispatcher.run_once("webchat")

    assert report.sent == 1
    (row,) = await outbox_rows(uow_factory)
    assert row.status is OutboxStatus.SENT
    assert await pushed(uow_factory) == {row.id: 1}


async def test_a_notification_for_a_session_that_is_gone_is_parked_with_the_reason(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, engine: object
) -> None:
    sessions = await web_sessions(uow_factory, 2)
    numbers = await seed_cases(uow_factory, 1, channel="webchat", chats=sessions)
    await change_statuses(uow_factory, numbers, "approved")
    async with uow_factory() as uow:
        gone = await uow.session.get(WebSession, sessions[0])
        assert gone is not None
        await uow.session.delete(gone)
        await uow.commit()
    metrics = CasebotMetrics(CollectorRegistry(), all_dialogs())
    hub = WebChatHub(engine, uow_factory)  # type: ignore[arg-type]
    dispatcher = web_dispatcher(uow_factory, clock, hub, metrics=metrics)

    report = await dispatcher.run_once("webchat")

    assert (report.sent, report.parked) == (1, 1)
    by_address = {row.address: row for row in await outbox_rows(uow_factory)}
    parked = by_address[sessions[0]]
    assert (parked.status, parked.last_error) == (OutboxStatus.PARKED, "no such web chat session")
    assert by_address[sessions[1]].status is OutboxStatus.SENT
    assert sample(metrics, "webchat", "parked") == 1


async def test_a_notification_this_version_cannot_word_is_parked_not_retried(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, engine: object
) -> None:
    (session,) = await web_sessions(uow_factory, 1)
    async with uow_factory() as uow:
        uow.session.add(
            OutboxMessage(
                kind="from_the_future", channel="webchat", address=session, payload={},
                dedupe_key="future:1", next_attempt_at=clock.now(), created_at=clock.now(),
            )
        )  # fmt: skip
        await uow.commit()
    dispatcher = web_dispatcher(uow_factory, clock, WebChatHub(engine, uow_factory))  # type: ignore[arg-type]

    assert (await dispatcher.run_once("webchat")).parked == 1

    (row,) = await outbox_rows(uow_factory)
    assert row.status is OutboxStatus.PARKED
    assert row.last_error == "cannot render 'from_the_future': unknown kind"
    assert await pushed(uow_factory) == {}


# --- a network channel: leases, the sender lock, retries ------------------------------------


async def test_only_one_worker_sends_an_exclusive_channel_and_the_next_takes_over_its_claims(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    numbers = await seed_cases(uow_factory, 4, channel="telegram", chats=["11", "12", "13"])
    await change_statuses(uow_factory, numbers, "approved")
    first, second = RecordingSender(), RecordingSender()
    one = OutboxDispatcher(uow_factory, clock, [first], batch=5, worker="one")
    two = OutboxDispatcher(uow_factory, clock, [second], batch=100, worker="two")
    assert await one.holds_sender_lock("telegram")
    assert not await two.holds_sender_lock("telegram")
    assert (await one.run_once("telegram")).sent == 5
    async with uow_factory() as uow:  # "one" leases its next batch, then dies mid-batch
        claimed = await claim_due(
            uow, channel="telegram", limit=4, now=clock.now(), lease=LEASE, worker="one"
        )
        await uow.commit()
    assert len(claimed) == 4
    await one.stop()  # gives the lock up, as its connection closing would

    assert await two.holds_sender_lock("telegram")  # and releases what "one" had leased
    report = await two.run_once("telegram")

    assert report.sent == 12 - 5
    sent = first.sent + second.sent
    assert len(sent) == len(set(sent)) == 12  # every notification, once
    assert {row.status for row in await outbox_rows(uow_factory)} == {OutboxStatus.SENT}
    await two.stop()


async def test_a_new_sender_releases_the_leases_of_gone_workers_only(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, db: Database
) -> None:
    numbers = await seed_cases(uow_factory, 3, channel="telegram", chats=["11"])
    await change_statuses(uow_factory, numbers, "approved")
    for owner in ("killed", "alive:replies", "me"):  # one row each
        async with uow_factory() as uow:
            await claim_due(
                uow, channel="telegram", limit=1, now=clock.now(), lease=LEASE, worker=owner
            )
            await uow.commit()
    # Another worker (its own connections) is sending its turn's replies: it is present.
    other_worker = Database(db.url)
    presence = AdvisoryLock(other_worker, WORKER_LOCKS, key_of("alive:replies"))
    try:
        assert await presence.try_acquire()
        me = OutboxDispatcher(uow_factory, clock, [RecordingSender()], worker="me")

        assert await me.holds_sender_lock("telegram")

        leases = [row.claimed_by for row in await outbox_rows(uow_factory)]
        # The killed worker's row is free at once; the live one's and our own stay leased.
        assert leases == [None, "alive:replies", "me"]
        await me.stop()
    finally:
        await presence.release()
        await other_worker.dispose()


async def test_the_sender_frees_the_replies_of_a_worker_killed_while_it_holds_the_lock(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    """A worker whose turn leased its replies is killed after the sender took the lock: the
    sender sends them on its next pass, not a lease (a minute) later. Found by the supervisor
    test: a Telegram answer that never came while the surviving worker held the lock."""
    numbers = await seed_cases(uow_factory, 1, channel="telegram", chats=["11"])
    me = OutboxDispatcher(uow_factory, clock, [sender := RecordingSender()], worker="me")
    assert await me.holds_sender_lock("telegram")  # the sender since before the other died
    await change_statuses(uow_factory, numbers, "approved")
    async with uow_factory() as uow:  # leased by a worker's turn, which was then killed
        leased = await claim_due(
            uow, channel="telegram", limit=1, now=clock.now(), lease=LEASE, worker="killed:replies"
        )
        await uow.commit()
    assert len(leased) == 1

    assert await me.holds_sender_lock("telegram")
    assert (await me.run_once("telegram")).sent == 1  # on the next pass, the clock unmoved
    assert [address for address, _text in sender.sent] == ["11"]
    await me.stop()


async def test_a_lease_keeps_other_workers_off_until_it_runs_out(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    numbers = await seed_cases(uow_factory, 1, channel="sms", chats=["a", "b"])
    await change_statuses(uow_factory, numbers, "approved")
    sender = RecordingSender("sms", exclusive=False)
    dispatcher = OutboxDispatcher(uow_factory, clock, [sender], worker="two")
    async with uow_factory() as uow:
        await claim_due(uow, channel="sms", limit=10, now=clock.now(), lease=LEASE, worker="one")
        await uow.commit()

    assert (await dispatcher.run_once("sms")).claimed == 0
    clock.advance(LEASE)
    assert (await dispatcher.run_once("sms")).sent == 2
    assert sorted(address for address, _text in sender.sent) == ["a", "b"]


async def test_a_refusal_parks_at_once_and_a_failure_is_retried_after_the_backoff(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    numbers = await seed_cases(uow_factory, 1, channel="telegram", chats=["1", "2", "3"])
    await change_statuses(uow_factory, numbers, "approved")
    sender = RecordingSender()
    sender.refuse.add("1")
    sender.fail.add("2")
    metrics = CasebotMetrics(CollectorRegistry(), all_dialogs())
    dispatcher = OutboxDispatcher(uow_factory, clock, [sender], metrics=metrics)

    report = await dispatcher.run_once("telegram")

    assert (report.sent, report.failed, report.parked) == (1, 1, 1)
    rows = {row.address: row for row in await outbox_rows(uow_factory)}
    assert (rows["1"].status, rows["1"].last_error) == (
        OutboxStatus.PARKED,
        "the person blocked the bot",
    )
    assert (rows["2"].status, rows["2"].attempts, rows["2"].claimed_by) == (
        OutboxStatus.PENDING,
        1,
        None,
    )
    sender.fail.clear()
    clock.advance(backoff(1) - timedelta(seconds=1))
    assert (await dispatcher.run_once("telegram")).claimed == 0
    clock.advance(timedelta(seconds=1))
    assert (await dispatcher.run_once("telegram")).sent == 1
    assert sorted(address for address, _ in sender.sent) == ["2", "3"]
    assert [sample(metrics, "telegram", o) for o in ("sent", "failed", "parked")] == [2, 1, 1]


async def test_an_address_the_channel_cannot_use_is_parked_with_the_reason(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, engine: object
) -> None:
    from bot.channels.telegram.sender import TelegramSender

    numbers = await seed_cases(uow_factory, 1, channel="telegram", chats=["not-a-chat-id"])
    await change_statuses(uow_factory, numbers, "approved")
    sender = TelegramSender(telegram=None)  # type: ignore[arg-type]  # never reaches the bot
    dispatcher = OutboxDispatcher(uow_factory, clock, [sender])

    assert (await dispatcher.run_once("telegram")).parked == 1

    (row,) = await outbox_rows(uow_factory)
    assert (row.status, row.last_error) == (OutboxStatus.PARKED, "not a Telegram chat id")
