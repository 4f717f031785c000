"""The webhook's inbox: a chat's updates handled in update_id order whichever way they were
stored, none lost when the worker that stored them dies, none handled twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Update

import bot.channels.telegram.channel as channel_module
from bot.channels.telegram.inbox import TelegramInbox
from bot.channels.telegram.sender import TelegramSender
from bot.engine import Engine
from bot.notify.dispatcher import OutboxDispatcher
from bot.notify.reply_outbox import LEASE
from core.inbox import DUPLICATE, HANDLED, LATE, InboxUpdate, pending_count, store_update
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock
from tests.telegram.conftest import CHAT, Harness, running
from tests.telegram.fake_bot_api import FakeBotApi


def inbox_of(harness: Harness) -> TelegramInbox:
    inbox = harness.channel.inbox
    assert inbox is not None
    return inbox


async def store(uow_factory: UnitOfWorkFactory, *updates: dict[str, Any]) -> None:
    """What a worker does before it answers the webhook (and then, here, dies)."""
    async with uow_factory() as uow:
        for update in updates:
            chat = update.get("message", update.get("callback_query", {})).get("chat", {})
            assert await store_update(
                uow,
                channel="telegram",
                update_id=update["update_id"],
                chat_id=str(chat.get("id", CHAT)),
                payload=update,
            )
        await uow.commit()


async def outcomes(uow_factory: UnitOfWorkFactory) -> dict[int, str | None]:
    async with uow_factory() as uow:
        rows = await uow.session.scalars(select(InboxUpdate).order_by(InboxUpdate.update_id))
        return {row.update_id: row.outcome for row in rows}


def texts(harness: Harness) -> list[str]:
    return [c.text for c in harness.api.calls_of("sendMessage", CHAT) if c.ok]


async def test_a_chats_updates_are_handled_in_update_id_order_however_they_were_stored(
    webhook: Harness, uow_factory: UnitOfWorkFactory
) -> None:
    first = webhook.api.message(CHAT, "hi")
    second = webhook.api.message(CHAT, "Check a case status")
    third = webhook.api.message(CHAT, "WAC2212345678")
    await store(uow_factory, third, first, second)

    await inbox_of(webhook).drain(str(CHAT))

    replies = texts(webhook)
    assert len(replies) == 3
    assert "receipt number" in replies[1]
    assert "Case Was Approved" in replies[2]
    assert set((await outcomes(uow_factory)).values()) == {HANDLED}


async def test_updates_a_dead_worker_stored_are_handled_by_the_sweeper(
    webhook: Harness, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await store(uow_factory, webhook.api.message(CHAT, "WAC2212345678"))
    inbox = inbox_of(webhook)
    assert await inbox.sweep() == 0  # not stale yet: its worker may be at it
    clock.advance(inbox.stale_after + timedelta(seconds=1))

    assert await inbox.sweep() == 1

    assert "Case Was Approved" in "\n".join(texts(webhook))
    async with uow_factory() as uow:
        assert await pending_count(uow, "telegram") == 0


async def test_a_restarted_worker_handles_what_its_dead_predecessor_stored_at_once(
    api: FakeBotApi, engine: Engine, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    # Stored and answered 200 just before its worker died: Telegram will not send it again.
    # The server started in its place takes it up as it starts, not a sweep's wait later
    # (the clock does not move: the update is not stale yet).
    await store(uow_factory, api.message(CHAT, "WAC2212345678"))

    async with running(api, engine, "webhook") as harness:
        await inbox_of(harness).settled()

        assert "Case Was Approved" in "\n".join(texts(harness))
    async with uow_factory() as uow:
        assert await pending_count(uow, "telegram") == 0


async def test_an_update_sent_again_after_its_worker_died_before_answering_is_handled_now(
    webhook: Harness, uow_factory: UnitOfWorkFactory
) -> None:
    # Stored by a worker that died before its 200: Telegram sends it again, to a live worker,
    # which finds it stored and pending, and handles it (not only the sweeper, seconds later).
    update = webhook.api.message(CHAT, "WAC2212345678")
    await store(uow_factory, update)

    await webhook.deliver(update)

    assert "Case Was Approved" in "\n".join(texts(webhook))
    assert await outcomes(uow_factory) == {update["update_id"]: HANDLED}


async def test_an_update_handled_by_another_worker_after_it_was_stored_here_runs_no_turn(
    webhook: Harness, uow_factory: UnitOfWorkFactory
) -> None:
    # This worker stored it as the chat's next and parsed it; before it took the chat's lock,
    # another worker took the lock and handled it (and the chat's next one).
    first = webhook.api.message(CHAT, "WAC2212345678")
    second = webhook.api.message(CHAT, "hi")
    await store(uow_factory, first, second)
    await inbox_of(webhook).drain(str(CHAT))  # "the other worker"
    sent = len(texts(webhook))

    await inbox_of(webhook).drain(str(CHAT), Update.de_json(first, webhook.channel.application.bot))

    assert len(texts(webhook)) == sent
    assert await outcomes(uow_factory) == {
        first["update_id"]: HANDLED,
        second["update_id"]: HANDLED,
    }


async def test_a_turn_that_committed_before_its_worker_died_is_not_handled_again(
    webhook: Harness, uow_factory: UnitOfWorkFactory
) -> None:
    update = webhook.api.message(CHAT, "WAC2212345678")
    await store(uow_factory, update)
    # The worker ran the turn (committed, replies sent) and died before its drain went on.
    await webhook.channel.application.process_update(
        Update.de_json(update, webhook.channel.application.bot)
    )
    assert len(texts(webhook)) == 1

    await inbox_of(webhook).drain(str(CHAT))

    assert len(texts(webhook)) == 1
    assert await outcomes(uow_factory) == {update["update_id"]: HANDLED}  # with its turn


async def test_an_update_left_pending_after_its_turn_committed_is_recognised_as_handled(
    webhook: Harness, uow_factory: UnitOfWorkFactory
) -> None:
    """The engine's own guard: the conversation's last update id, in the turn's transaction."""
    update = webhook.api.message(CHAT, "WAC2212345678")
    await webhook.channel.application.process_update(  # a turn outside the inbox
        Update.de_json(update, webhook.channel.application.bot)
    )
    await store(uow_factory, update)

    await inbox_of(webhook).drain(str(CHAT))

    assert len(texts(webhook)) == 1
    assert await outcomes(uow_factory) == {update["update_id"]: DUPLICATE}


async def test_a_worker_killed_right_after_its_turn_committed_loses_and_repeats_nothing(
    webhook: Harness, uow_factory: UnitOfWorkFactory, clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The update is marked handled in the turn's own transaction, with the turn's replies
    kept in the outbox: killed before sending anything, the worker leaves no update to run
    again, and the replies go out once, by the dispatcher, when their lease runs out."""
    update = webhook.api.message(CHAT, "WAC2212345678")

    async def killed(*_args: object, **_kwargs: object) -> int:
        raise asyncio.CancelledError  # the process dies: nothing after the commit runs

    monkeypatch.setattr(channel_module, "send_kept", killed)
    await webhook.deliver(update, wait=False)
    inbox = inbox_of(webhook)
    await inbox.settled()
    monkeypatch.undo()
    assert texts(webhook) == []
    assert await outcomes(uow_factory) == {update["update_id"]: HANDLED}

    clock.advance(max(inbox.stale_after, LEASE) + timedelta(seconds=1))
    assert await inbox.sweep() == 0  # nothing pending: the turn does not run again
    dispatcher = OutboxDispatcher(uow_factory, clock, [TelegramSender(webhook.channel)])
    await dispatcher.run_once("telegram")
    await dispatcher.run_once("telegram")

    [reply] = texts(webhook)
    assert "Case Was Approved" in reply
    async with uow_factory() as uow:
        assert await pending_count(uow, "telegram") == 0


async def test_an_update_older_than_the_chats_last_is_recognised_not_handled(
    webhook: Harness, uow_factory: UnitOfWorkFactory
) -> None:
    older = webhook.api.message(CHAT, "menu")
    newer = webhook.api.message(CHAT, "WAC2212345678")
    await webhook.deliver(newer)
    assert len(texts(webhook)) == 1

    assert webhook.client is not None
    from tests.telegram.conftest import WEBHOOK_PATH, WEBHOOK_SECRET

    response = await webhook.client.post(
        WEBHOOK_PATH, json=older, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    )
    assert response.status == 200
    await inbox_of(webhook).settled()

    assert len(texts(webhook)) == 1
    assert (await outcomes(uow_factory))[older["update_id"]] == LATE


async def test_the_same_update_delivered_to_the_webhook_twice_is_stored_once(
    webhook: Harness, uow_factory: UnitOfWorkFactory
) -> None:
    update = webhook.api.message(CHAT, "WAC2212345678")

    await webhook.deliver(update)
    await webhook.deliver(update)

    assert len(texts(webhook)) == 1
    assert await outcomes(uow_factory) == {update["update_id"]: HANDLED}
