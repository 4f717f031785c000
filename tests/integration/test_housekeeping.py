"""Housekeeping (core/housekeeping.py, bot/ops/housekeeping.py): web chat sessions unused past their
expiry go with everything kept for their chat, old rate-limit windows go, live rows stay; in
short batches, by one worker at a time, on a schedule that survives a failed pass."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import build_app
from bot.channels.background import HOUSEKEEPER_KEY, setup_notifications
from bot.channels.web.api import HUB_KEY
from bot.channels.web.chat import WebChatConfig
from bot.channels.web.server import create_web_app
from bot.ops.housekeeping import (
    OUTBOX_KEPT,
    RATE_LIMITS_KEPT,
    UNCONFIRMED_KEPT,
    Housekeeper,
    Purged,
)
from bot.serve import build_server
from bot.settings import Settings
from core import ratelimit
from core.accounts.links import link_chat
from core.accounts.models import Account, ChannelLink
from core.cases.models import Subscription
from core.cases.subscriptions import subscribe
from core.contacts.models import ContactCode, ContactPoint
from core.contacts.service import Choice, confirm_contact, request_contact
from core.conversations import Conversation, open_conversation
from core.demo import DEMO_EMAIL
from core.housekeeping import purge_idle_web_sessions
from core.locks import HOUSEKEEPING_LOCKS, AdvisoryLock
from core.outbox.models import OutboxMessage, OutboxStatus, RateLimitWindow
from core.outbox.service import add_notification, pending_notifications
from core.uow import UnitOfWorkFactory
from core.web_sessions import (
    WEB_CHANNEL,
    StoredAttachment,
    WebAttachment,
    WebMessage,
    WebSession,
    WebSessionNotFound,
    add_message,
    authenticate_session,
    start_session,
)
from tests.fakes import FakeClock

EXPIRY = timedelta(hours=24)
RECEIPT = "WAC2212345678"  # a demo case


async def open_full_session(uow_factory: UnitOfWorkFactory) -> tuple[str, str]:
    """A signed-in web chat session with a transcript, a file, a conversation and a case
    subscription; returns its id and token."""
    async with uow_factory() as uow:
        session_id, token = await start_session(uow, locale="en")
        await add_message(uow, session_id, sender="user", text=RECEIPT)
        await add_message(
            uow,
            session_id,
            sender="bot",
            text="Your appointment",
            attachments=[StoredAttachment("ics", "a.ics", "text/calendar", b"BEGIN:VCALENDAR")],
        )
        await open_conversation(uow, WEB_CHANNEL, session_id)
        account = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
        assert account is not None
        await link_chat(uow, account, WEB_CHANNEL, session_id)
        await subscribe(uow, RECEIPT, channel=WEB_CHANNEL, chat_id=session_id)
        await uow.commit()
    return session_id, token


async def open_sessions(uow_factory: UnitOfWorkFactory, count: int) -> None:
    async with uow_factory() as uow:
        for _ in range(count):
            await start_session(uow)
        await uow.commit()


async def rows_of(uow_factory: UnitOfWorkFactory, session_id: str, channel: str) -> list[int]:
    """How many rows each table keeps for the chat: sessions, messages, files, conversations,
    sign-in links, subscriptions."""
    counts = []
    async with uow_factory() as uow:
        for statement in (
            select(func.count()).where(WebSession.id == session_id),
            select(func.count()).where(WebMessage.session_id == session_id),
            select(func.count()).where(WebAttachment.session_id == session_id),
        ):
            counts.append(int(await uow.session.scalar(statement) or 0))
        for table in (Conversation, ChannelLink, Subscription):
            mine = (table.channel == channel, table.chat_id == session_id)
            counts.append(int(await uow.session.scalar(select(func.count()).where(*mine)) or 0))
    return counts


@pytest.mark.usefixtures("demo")
async def test_an_idle_session_goes_with_everything_kept_for_its_chat(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    idle, idle_token = await open_full_session(uow_factory)
    # Another channel's chat that happens to have the same id keeps its rows.
    async with uow_factory() as uow:
        await open_conversation(uow, "telegram", idle)
        await subscribe(uow, RECEIPT, channel="telegram", chat_id=idle)
        await uow.commit()
    clock.advance(EXPIRY + timedelta(minutes=1))
    live, _ = await open_full_session(uow_factory)
    assert await rows_of(uow_factory, idle, WEB_CHANNEL) == [1, 2, 1, 1, 1, 1]

    async with uow_factory() as uow:
        gone = await purge_idle_web_sessions(uow, seen_before=clock.now() - EXPIRY)
        await uow.commit()

    assert gone == 1
    assert await rows_of(uow_factory, idle, WEB_CHANNEL) == [0, 0, 0, 0, 0, 0]
    assert await rows_of(uow_factory, live, WEB_CHANNEL) == [1, 2, 1, 1, 1, 1]
    assert (await rows_of(uow_factory, idle, "telegram"))[3:] == [1, 0, 1]
    async with uow_factory() as uow:
        with pytest.raises(WebSessionNotFound):
            await authenticate_session(uow, idle, idle_token)


async def test_a_session_seen_within_its_expiry_stays(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        session_id, _ = await start_session(uow)
        await uow.commit()
    clock.advance(EXPIRY - timedelta(minutes=1))
    async with uow_factory() as uow:
        assert await purge_idle_web_sessions(uow, seen_before=clock.now() - EXPIRY) == 0
        await uow.commit()
    assert (await rows_of(uow_factory, session_id, WEB_CHANNEL))[0] == 1


async def test_idle_sessions_go_in_batches_of_the_limit(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await open_sessions(uow_factory, 5)
    clock.advance(EXPIRY * 2)
    batches = []
    for _ in range(4):
        async with uow_factory() as uow:
            batches.append(
                await purge_idle_web_sessions(uow, seen_before=clock.now() - EXPIRY, limit=2)
            )
            await uow.commit()
    assert batches == [2, 2, 1, 0]


async def hit(uow_factory: UnitOfWorkFactory, *keys: str) -> None:
    async with uow_factory() as uow:
        for key in keys:
            await ratelimit.increment(uow, key, window=timedelta(hours=1))
        await uow.commit()


async def window_keys(uow_factory: UnitOfWorkFactory) -> set[str]:
    async with uow_factory() as uow:
        return set((await uow.session.scalars(select(RateLimitWindow.key))).all())


async def test_old_rate_limit_windows_go_and_live_ones_stay(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await hit(uow_factory, "old:1", "old:2", "old:3")
    clock.advance(RATE_LIMITS_KEPT + timedelta(hours=1))
    await hit(uow_factory, "new:1", "new:2")
    started_before = clock.now() - RATE_LIMITS_KEPT
    async with uow_factory() as uow:
        first = await ratelimit.purge_expired(uow, before=started_before, limit=2)
        await uow.commit()
    assert first == 2
    async with uow_factory() as uow:
        second = await ratelimit.purge_expired(uow, before=started_before, limit=2)
        await uow.commit()
    assert second == 1
    assert await window_keys(uow_factory) == {"new:1", "new:2"}


async def queue_notifications(uow_factory: UnitOfWorkFactory, *keys: str) -> None:
    async with uow_factory() as uow:
        for key in keys:
            await add_notification(
                uow, kind="case_status_changed", channel="telegram", address="42",
                payload={}, dedupe_key=key,
            )  # fmt: skip
        await uow.commit()


async def mark(uow_factory: UnitOfWorkFactory, status: OutboxStatus, *keys: str) -> None:
    async with uow_factory() as uow:
        for row in await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.in_(keys))
        ):
            row.status = status
            row.sent_at = uow.clock.now() if status is OutboxStatus.SENT else None
        await uow.commit()


async def notification_keys(uow_factory: UnitOfWorkFactory) -> set[str]:
    async with uow_factory() as uow:
        return set(await uow.session.scalars(select(OutboxMessage.dedupe_key)))


async def test_notifications_sent_long_ago_go_and_the_others_stay(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    """A sent notification is kept for a while (its dedupe key stops it being queued twice
    while its cause is fresh), then goes: without this, every reply the assistant ever sent
    stayed in the outbox. Pending and parked ones stay, however old."""
    await queue_notifications(uow_factory, "old:1", "old:2", "old:3", "pending", "parked")
    await mark(uow_factory, OutboxStatus.SENT, "old:1", "old:2", "old:3")
    await mark(uow_factory, OutboxStatus.PARKED, "parked")
    clock.advance(OUTBOX_KEPT + timedelta(hours=1))
    await queue_notifications(uow_factory, "new:1")
    await mark(uow_factory, OutboxStatus.SENT, "new:1")
    keeper = Housekeeper(uow_factory, EXPIRY, batch=2)

    assert (await keeper.run_once()).sent_notifications == 3
    assert await notification_keys(uow_factory) == {"pending", "parked", "new:1"}
    assert (await keeper.run_once()).sent_notifications == 0


async def test_a_pass_deletes_everything_expired_in_batches(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await open_sessions(uow_factory, 5)
    await hit(uow_factory, "old:1", "old:2", "old:3")
    clock.advance(RATE_LIMITS_KEPT * 2)
    async with uow_factory() as uow:
        live, _ = await start_session(uow)
        await uow.commit()
    await hit(uow_factory, "new:1")
    keeper = Housekeeper(uow_factory, EXPIRY, batch=2)

    assert await keeper.run_once() == Purged(web_sessions=5, rate_limit_windows=3)
    assert await keeper.run_once() == Purged(web_sessions=0, rate_limit_windows=0)
    assert (await rows_of(uow_factory, live, WEB_CHANNEL))[0] == 1
    assert await window_keys(uow_factory) == {"new:1"}


async def test_one_worker_at_a_time_does_it(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        await start_session(uow)
        await uow.commit()
    clock.advance(EXPIRY * 2)
    other = AdvisoryLock(uow_factory.db, HOUSEKEEPING_LOCKS, 0)
    assert await other.try_acquire()
    try:
        assert await Housekeeper(uow_factory, EXPIRY).run_once() is None
    finally:
        await other.release()
    assert await Housekeeper(uow_factory, EXPIRY).run_once() == Purged(1, 0)


async def test_the_schedule_goes_on_after_a_failed_pass(
    uow_factory: UnitOfWorkFactory,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with uow_factory() as uow:
        await start_session(uow)
        await uow.commit()
    clock.advance(EXPIRY * 2)
    keeper = Housekeeper(uow_factory, EXPIRY, every=0.01, first_after=0.01)
    passes: list[Purged | None] = []
    purged = asyncio.Event()
    run_once = keeper.run_once

    async def flaky() -> Purged | None:
        if not passes:
            passes.append(None)
            raise RuntimeError("a bug in a pass")
        passes.append(await run_once())
        if passes[-1] == Purged(1, 0):
            purged.set()
        return passes[-1]

    monkeypatch.setattr(keeper, "run_once", flaky)
    keeper.start()
    try:
        async with asyncio.timeout(10):
            await purged.wait()
    finally:
        await keeper.stop()
    assert "housekeeping failed" in caplog.text
    assert keeper._task is None


async def test_casebot_serve_runs_it_with_the_web_chats_expiry() -> None:
    app = build_app(Settings.from_env({"CASEBOT_DATABASE_URL": "sqlite:///:memory:"}))
    try:
        config = WebChatConfig(idle_expiry=timedelta(hours=3))
        web_app = create_web_app(app, chat_config=config)
        setup_notifications(web_app, app)
        keeper = web_app[HOUSEKEEPER_KEY]
        assert keeper.session_expiry == timedelta(hours=3)
        assert keeper.uow_factory is app.uow_factory
    finally:
        await app.close()


async def test_casebot_serve_itself_runs_it_on_its_database_with_the_web_chats_expiry() -> None:
    app = build_app(Settings.from_env({"CASEBOT_DATABASE_URL": "sqlite:///:memory:"}))
    try:
        web_app = build_server(app)
        keeper = web_app[HOUSEKEEPER_KEY]
        assert keeper.session_expiry == web_app[HUB_KEY].config.idle_expiry
        assert keeper.uow_factory is app.uow_factory
    finally:
        await app.close()


async def test_addresses_never_confirmed_go_after_a_day_and_confirmed_ones_stay(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        await request_contact(uow, "email", "never@example.com", locale="en")
        await request_contact(uow, "email", "kept@example.com", locale="en")
        await uow.commit()
        [code_row] = [
            m for m in await pending_notifications(uow) if m.address == "kept@example.com"
        ]
        await confirm_contact(
            uow, "email", "kept@example.com", code_row.payload["code"], Choice(locale="en")
        )
        await uow.commit()
    keeper = Housekeeper(uow_factory, EXPIRY)
    assert (await keeper.run_once()) == Purged(0, 0)  # not a day old yet
    clock.advance(UNCONFIRMED_KEPT + timedelta(minutes=1))
    assert (await keeper.run_once()) == Purged(0, 0, unconfirmed_contacts=1)
    async with uow_factory() as uow:
        left = list(await uow.session.scalars(select(ContactPoint.address)))
        codes = await uow.session.scalar(select(func.count()).select_from(ContactCode))
    assert left == ["kept@example.com"]
    assert codes == 1  # the confirmed one's (used) code
