"""What a Telegram chat leaves in the database after a sign-in with a password and a backup code
(finding 1): the webhook's inbox drops the text of a secret step in the turn's own transaction,
and an outbox row keeps no text once it is sent (a new backup code included). Run with the real
python-telegram-bot Application on the webhook route, against the fake Bot API, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.engine import Engine
from core.demo import DEMO_BACKUP_CODE, DEMO_EMAIL, DEMO_PASSWORD
from core.inbox import InboxUpdate
from core.outbox.models import OutboxMessage, OutboxStatus
from core.uow import UnitOfWorkFactory
from tests.telegram.conftest import TOKEN, Harness, running
from tests.telegram.fake_bot_api import FakeBotApi

pytestmark = pytest.mark.usefixtures("demo")

BACKUP_CODE_RE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


@pytest.fixture
async def webhook(engine: Engine) -> AsyncIterator[Harness]:
    api = FakeBotApi(TOKEN)
    await api.start()
    try:
        async with running(api, engine, "webhook") as harness:
            yield harness
    finally:
        await api.stop()


async def inbox_text(uow_factory: UnitOfWorkFactory) -> str:
    async with uow_factory() as uow:
        rows = await uow.session.scalars(select(InboxUpdate).order_by(InboxUpdate.id))
        return json.dumps([row.payload for row in rows], ensure_ascii=False)


async def outbox_rows(uow_factory: UnitOfWorkFactory) -> list[OutboxMessage]:
    async with uow_factory() as uow:
        return list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_password_and_a_backup_code_typed_through_the_webhook_are_not_kept(
    webhook: Harness, uow_factory: UnitOfWorkFactory
) -> None:
    user = webhook.user()
    await user.send("sign in")
    await user.send(DEMO_EMAIL)
    await user.send(DEMO_PASSWORD)
    # Read as soon as the turn's reply went out, before the inbox marks the update handled.
    assert DEMO_PASSWORD not in await inbox_text(uow_factory)
    await user.send(DEMO_BACKUP_CODE)
    assert DEMO_BACKUP_CODE not in await inbox_text(uow_factory)
    assert "You are signed in" in user.text
    assert webhook.channel.inbox is not None
    await webhook.channel.inbox.settled()
    kept = await inbox_text(uow_factory)
    assert DEMO_PASSWORD not in kept
    assert DEMO_BACKUP_CODE not in kept
    assert DEMO_EMAIL not in kept  # a handled update keeps no content at all


async def test_a_sent_reply_keeps_no_text_and_the_new_backup_code_is_nowhere(
    webhook: Harness, uow_factory: UnitOfWorkFactory
) -> None:
    user = webhook.user()
    await user.send("sign in")
    await user.send(DEMO_EMAIL)
    await user.send(DEMO_PASSWORD)
    await user.send(DEMO_BACKUP_CODE)
    new_codes = [c for c in BACKUP_CODE_RE.findall(user.text) if c != DEMO_BACKUP_CODE]
    assert len(new_codes) == 1  # shown in the chat, once
    assert webhook.channel.inbox is not None
    await webhook.channel.inbox.settled()  # each reply is marked sent just after it went
    rows = await outbox_rows(uow_factory)
    assert rows
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert all(row.payload == {} for row in rows)  # kind, address and times are what is left
    assert all(row.kind == "reply" and row.sent_at is not None for row in rows)
    stored = json.dumps([row.payload for row in rows]) + await inbox_text(uow_factory)
    assert new_codes[0] not in stored
