"""New web chat sessions are limited per client address (bot/channels/web/client_address.py): the
per-session limits cannot be dodged by opening session after session."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.channels.web.chat import WebChatConfig
from core.uow import UnitOfWorkFactory
from core.web_sessions import WebSession
from tests.fakes import FakeClock

LOCAL_PROXY = (ip_network("127.0.0.1/32"),)  # the test client connects from 127.0.0.1


@pytest.fixture
def chat_config() -> WebChatConfig:
    return WebChatConfig(new_sessions_per_client=3, trusted_proxies=LOCAL_PROXY)


async def open_from(client: TestClient[Any, Any], address: str) -> Any:
    return await client.post(
        "/api/chat/sessions", json={"locale": "en"}, headers={"X-Forwarded-For": address}
    )


async def sessions(uow_factory: UnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(WebSession)) or 0)


async def test_a_client_behind_the_proxy_opens_a_few_sessions_a_minute(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(clock.now().replace(second=0, microsecond=0))
    for _ in range(3):
        assert (await open_from(client, "198.51.100.7")).status == 201
    refused = await open_from(client, "198.51.100.7")
    assert refused.status == 429
    assert (await refused.json())["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert await sessions(uow_factory) == 3  # nothing was opened for the refused one
    # Another client behind the same proxy is not held back by the first.
    assert (await open_from(client, "203.0.113.9")).status == 201
    clock.advance(minutes=1)
    assert (await open_from(client, "198.51.100.7")).status == 201


# No trusted proxy: the test client's 127.0.0.1 is this machine, whatever the header says.
@pytest.mark.parametrize("chat_config", [WebChatConfig(new_sessions_per_client=3)])
async def test_a_forwarded_address_from_an_untrusted_peer_is_ignored(
    client: TestClient[Any, Any],
) -> None:
    for _ in range(5):
        assert (await open_from(client, "198.51.100.7")).status == 201


@pytest.mark.parametrize(
    "chat_config",
    [WebChatConfig(new_sessions_per_client=3, messages_per_client=4, trusted_proxies=LOCAL_PROXY)],
)
async def test_a_client_s_messages_are_limited_across_all_its_sessions(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    clock.set(clock.now().replace(second=0, microsecond=0))

    async def say(address: str, session: Any, text: str) -> int:
        reply = await client.post(
            f"/api/chat/sessions/{session['session_id']}/messages",
            json={"text": text},
            headers={"Authorization": f"Bearer {session['token']}", "X-Forwarded-For": address},
        )
        return reply.status

    flood = [await (await open_from(client, "198.51.100.7")).json() for _ in range(3)]
    statuses = [await say("198.51.100.7", flood[n % 3], "hello") for n in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]  # each session is far below its own 30
    other = await (await open_from(client, "203.0.113.9")).json()
    assert await say("203.0.113.9", other, "hello") == 200
    clock.advance(minutes=1)
    assert await say("198.51.100.7", flood[0], "hello") == 200
