"""The Telegram webhook answers 400, never 500, to any body with the right secret (issue 21,
finding 9): an ``update_id`` past 64 bits, JSON nested thousands deep, a secret header that is
not ASCII."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.engine import Engine
from tests.telegram.conftest import CHAT, TOKEN, WEBHOOK_PATH, WEBHOOK_SECRET, Harness, running
from tests.telegram.fake_bot_api import FakeBotApi

pytestmark = pytest.mark.usefixtures("demo")

SECRET = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}


@pytest.fixture
async def webhook(engine: Engine) -> AsyncIterator[Harness]:
    api = FakeBotApi(TOKEN)
    await api.start()
    try:
        async with running(api, engine, "webhook") as harness:
            yield harness
    finally:
        await api.stop()


@pytest.mark.parametrize("update_id", [10**23, 2**63, -1, True, 1.5, "7"])
async def test_an_update_id_the_inbox_cannot_hold_is_a_400(
    webhook: Harness, update_id: object
) -> None:
    assert webhook.client is not None
    update = webhook.api.message(CHAT, "hi")
    update["update_id"] = update_id
    response = await webhook.client.post(WEBHOOK_PATH, json=update, headers=SECRET)
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "bad_update"


async def test_json_nested_thousands_deep_is_a_400(webhook: Harness) -> None:
    assert webhook.client is not None
    body = '{"update_id": 1, "message": ' + "[" * 3000 + "]" * 3000 + "}"
    response = await webhook.client.post(WEBHOOK_PATH, data=body.encode(), headers=SECRET)
    assert response.status == 400


async def test_the_largest_update_id_is_taken(webhook: Harness) -> None:
    assert webhook.client is not None
    update = webhook.api.message(CHAT, "hi")
    update["update_id"] = 2**63 - 1
    response = await webhook.client.post(WEBHOOK_PATH, json=update, headers=SECRET)
    assert response.status == 200
    for _ in range(50):
        if webhook.api.calls_of("sendMessage"):
            break
        await asyncio.sleep(0.1)
    assert webhook.api.calls_of("sendMessage")
