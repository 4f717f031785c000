"""The Bot API unreachable for a while: replies are retried with backoff by the rate limiter,
then kept in the outbox and delivered by the dispatcher once Telegram answers again; none is
lost and none arrives twice.

Two kinds of outage: the fake Bot API answering 502 Bad Gateway (Telegram's front end up, its
back end not), and its port closed (a TCP proxy in front of it, cut: connection refused).
Notifications already wait in the outbox and are retried with backoff: that is proven in
``test_notifications.py`` (``test_a_5xx_leaves_the_row_pending_and_the_next_pass_delivers_it``,
``test_a_row_that_keeps_failing_is_parked_with_the_reason``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Final

import pytest
from sqlalchemy import select

from bot.channels.telegram.limiter import CasebotRateLimiter
from bot.channels.telegram.sender import TelegramSender
from bot.engine import Engine
from bot.notify.dispatcher import OutboxDispatcher
from core.demo import DEMO_EMAIL
from core.outbox.dispatch import backoff
from core.outbox.models import OutboxMessage, OutboxStatus
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock, FakeMailer, break_every_flow
from tests.tcp_proxy import TcpProxy
from tests.telegram.conftest import CHAT, Harness, running
from tests.telegram.fake_bot_api import FakeBotApi

pytestmark = pytest.mark.usefixtures("demo")

TRIES: Final = 3  # the limiter's attempts before it gives up on one request


def quick_limiter() -> CasebotRateLimiter:
    """The limiter of production with short retries and per-chat spacing, for a quick test."""
    return CasebotRateLimiter(
        network_tries=TRIES, first_backoff=0.01, max_backoff=0.05, chat_interval=0.05
    )


def texts(api: FakeBotApi, chat_id: int = CHAT) -> list[str]:
    return [c.text for c in api.calls_of("sendMessage", chat_id) if c.ok]


async def outbox(uow_factory: UnitOfWorkFactory) -> list[OutboxMessage]:
    async with uow_factory() as uow:
        return list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture(params=["polling", "webhook"])
async def bot(
    request: pytest.FixtureRequest, api: FakeBotApi, engine: Engine
) -> AsyncIterator[Harness]:
    async with running(api, engine, request.param, quick_limiter()) as harness:
        yield harness


async def pending(uow_factory: UnitOfWorkFactory) -> list[OutboxMessage]:
    return [m for m in await outbox(uow_factory) if m.status == OutboxStatus.PENDING]


async def test_every_reply_is_kept_with_its_turn_and_marked_sent_once_delivered(
    bot: Harness, uow_factory: UnitOfWorkFactory
) -> None:
    user = bot.user()
    await user.send("hi")
    await user.send("WAC2212345678")
    rows = await outbox(uow_factory)
    assert [(m.kind, m.address, m.status) for m in rows] == [("reply", str(CHAT), "sent")] * 2
    assert all(m.payload == {} for m in rows)  # a sent reply keeps no text
    assert any("Case Was Approved" in t for t in texts(bot.api))
    assert all(m.claimed_by is None for m in rows)


async def test_a_reply_the_bot_api_refused_through_every_retry_is_delivered_later_once(
    bot: Harness, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    user = bot.user()
    await user.send("hi")
    bot.api.fail("sendMessage", status=502, chat_id=CHAT, times=TRIES)  # every retry of one
    await user.send("WAC2212345678")
    assert not any("Case Was Approved" in t for t in texts(bot.api))  # not delivered yet
    (kept,) = await pending(uow_factory)
    assert (kept.channel, kept.address, kept.attempts) == ("telegram", str(CHAT), 1)
    assert "Bad Gateway" in (kept.last_error or "")

    dispatcher = OutboxDispatcher(uow_factory, clock, [TelegramSender(bot.channel)])
    assert (await dispatcher.run_once("telegram")).claimed == 0  # after the backoff only
    clock.advance(backoff(1))
    report = await dispatcher.run_once("telegram")

    assert report.sent == 1
    delivered = [t for t in texts(bot.api) if "Case Was Approved" in t]
    assert len(delivered) == 1
    assert await pending(uow_factory) == []
    clock.advance(backoff(8))
    assert (await dispatcher.run_once("telegram")).claimed == 0  # once, not twice


async def test_replies_wait_out_a_closed_port_and_arrive_in_order_when_it_opens(
    api: FakeBotApi, engine: Engine, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    host, port = api.url.removeprefix("http://").split(":")
    proxy = TcpProxy(host, int(port))
    await proxy.start()
    real_url = api.url
    api.url = f"http://127.0.0.1:{proxy.port}"  # the bot talks to Telegram through the proxy
    try:
        async with running(api, engine, "webhook", quick_limiter()) as bot:
            api.url = real_url
            user = bot.user()
            await user.send("hi")
            proxy.cut()
            await user.send("Check a case status")
            await user.send("LIN2390001234")
            assert not any("Request for Evidence" in t for t in texts(api))
            kept = await pending(uow_factory)
            assert len(kept) == 2  # the question, then the status

            dispatcher = OutboxDispatcher(uow_factory, clock, [TelegramSender(bot.channel)])
            clock.advance(backoff(1))
            report = await dispatcher.run_once("telegram")  # still closed: the first fails...
            assert (report.claimed, report.sent, report.failed) == (2, 0, 1)  # ...the 2nd waits
            await proxy.restore()
            assert (await dispatcher.run_once("telegram")).claimed == 0  # not before its time
            clock.advance(backoff(2))
            assert (await dispatcher.run_once("telegram")).sent == 2
    finally:
        await proxy.stop()

    after_cut = texts(api)[-2:]
    assert "receipt number" in after_cut[0]  # the question first, then the answer
    assert "Request for Evidence Was Sent" in after_cut[1]
    assert await pending(uow_factory) == []
    assert sum("Request for Evidence Was Sent" in t for t in texts(api)) == 1


async def test_polling_comes_back_by_itself_when_the_bot_api_does(
    api: FakeBotApi, engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    host, port = api.url.removeprefix("http://").split(":")
    proxy = TcpProxy(host, int(port))
    await proxy.start()
    real_url = api.url
    api.url = f"http://127.0.0.1:{proxy.port}"
    try:
        async with running(api, engine, "polling", quick_limiter()) as bot:
            api.url = real_url
            user = bot.user()
            await user.send("hi")
            proxy.cut()  # getUpdates fails: python-telegram-bot retries with its backoff
            await asyncio.sleep(2)
            await proxy.restore()
            await asyncio.wait_for(user.send("WAC2212345678"), 30)
            assert "Case Was Approved" in user.text
    finally:
        await proxy.stop()
    assert await pending(uow_factory) == []


async def test_a_turns_replies_are_in_the_outbox_as_soon_as_the_turn_is_committed(
    bot: Harness, uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A process killed right after the turn's commit must still find its replies in the
    # outbox (the kill test found one lost in the gap between the two): so they are written in
    # the turn's own transaction, not in one of their own after it.
    seen_at_commit: list[list[str]] = []
    handle = bot.channel.engine.handle

    async def handle_then_look(*args: Any, **kwargs: Any) -> Any:
        turn = await handle(*args, **kwargs)
        seen_at_commit.append([m.payload["text"] for m in await pending(uow_factory)])
        return turn

    monkeypatch.setattr(bot.channel.engine, "handle", handle_then_look)
    await bot.user().send("WAC2212345678")
    assert len(seen_at_commit) == 1
    assert any("Case Was Approved" in text for text in seen_at_commit[0])


async def test_a_turn_that_fails_keeps_its_apology_alone(
    bot: Harness, uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_every_flow(monkeypatch)
    await bot.user().send("WAC2212345678")
    rows = await outbox(uow_factory)
    assert [m.status for m in rows] == ["sent"]
    assert rows[0].payload == {}  # sent: its text is not kept
    assert any("something went wrong" in t for t in texts(bot.api))


async def test_an_answer_changed_after_the_commit_replaces_the_kept_one(
    bot: Harness, uow_factory: UnitOfWorkFactory, mailer: FakeMailer
) -> None:
    # The code mail cannot go: the turn's answer ("we sent you a code") is kept with the turn,
    # then replaced by "the email could not be sent"; only that one may reach the person.
    user = bot.user()
    await user.send("hi")
    await user.press("Password and sign-in help")
    await user.press("I forgot my password")
    mailer.fail = True
    await user.send(DEMO_EMAIL)
    assert any("could not send the email" in t for t in texts(bot.api))
    assert not any("6-digit code" in t for t in texts(bot.api))
    assert await pending(uow_factory) == []
