"""The console API's rate limits, per client address (behind a trusted proxy) and per staff
member: password and code checks are limited tighter than the rest."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.settings import Settings
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock
from tests.integration.console_support import add_agent, set_up, sign_in


@pytest.fixture
def web_settings() -> Settings:
    return Settings(trusted_proxies=(ip_network("127.0.0.1/32"),))


async def test_sign_in_attempts_are_limited_per_client_address(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    proxy = {"X-Forwarded-For": "203.0.113.7"}
    agent = await set_up(client, clock, await add_agent(uow_factory), headers=proxy)
    attacker = {"X-Forwarded-For": "198.51.100.9"}
    statuses = []
    for number in range(12):
        response = await client.post(
            "/api/console/sessions",
            json={"email": f"guess{number}@agency.example", "password": "x", "code": "000000"},
            headers=attacker,
        )
        statuses.append(response.status)
    # The console's own limit is 10 checks a minute per address; the budget of password checks
    # shared with the chat (5 in 10 seconds per address, and the service's rate for repeated
    # attempts, as the fake clock stands still) refuses a flood sooner. Either way it is
    # refused before any Argon2 work.
    first_refusal = statuses.index(429)
    assert 1 <= first_refusal <= 10
    assert statuses == [401] * first_refusal + [429] * (12 - first_refusal)
    assert response.headers["Retry-After"].isdigit()
    assert (await response.json())["error"]["code"] == "rate_limited"
    # Another address is not held back (once the second of the service's rate for repeated
    # attempts, which the flood spent, has passed).
    clock.advance(seconds=1)
    assert (await sign_in(client, clock, agent, headers=proxy)).token
