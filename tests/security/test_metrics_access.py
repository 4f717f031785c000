"""``/metrics`` is not public (issue 21): without ``CASEBOT_METRICS_TOKEN`` it answers 404
``metrics_disabled``; with it, only ``Authorization: Bearer <token>`` reads the metrics, and
a missing or wrong token (a chat session's or the admin's included) gets 401."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.settings import ConfigError, Settings
from tests.integration.webchat_support import ChatSession

METRICS_TOKEN = "scraper-token-of-the-metrics-tests"
ADMIN_TOKEN = "operator-token-of-the-metrics-tests"


@pytest.fixture
def web_settings(request: pytest.FixtureRequest) -> Settings:
    if "disabled" in request.node.name:
        return Settings()
    return Settings(admin_token=ADMIN_TOKEN, metrics_token=METRICS_TOKEN)


@pytest.mark.usefixtures("demo")
async def test_metrics_are_disabled_without_a_token(client: TestClient[Any, Any]) -> None:
    response = await client.get("/metrics")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "metrics_disabled"
    assert "casebot_" not in await response.text()


@pytest.mark.usefixtures("demo")
async def test_metrics_need_their_own_token(client: TestClient[Any, Any]) -> None:
    chat = await ChatSession.open(client)
    for headers in (
        {},
        {"Authorization": f"Bearer {chat.token}"},
        {"Authorization": f"Bearer {ADMIN_TOKEN}"},
        {"Authorization": f"Basic {METRICS_TOKEN}"},
        {"Authorization": f"Bearer {METRICS_TOKEN}x"},
        {"Authorization": "Bearer caf\u00e9"},
    ):
        response = await client.get("/metrics", headers=headers)
        assert response.status == 401, headers
        assert "casebot_" not in await response.text()
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status == 200
    assert "casebot_" in await response.text()


def test_a_short_metrics_token_fails_at_start_up() -> None:
    with pytest.raises(ConfigError, match="CASEBOT_METRICS_TOKEN"):
        Settings.from_env({"CASEBOT_METRICS_TOKEN": "short"}, env_file="/nonexistent/.env")
    settings = Settings.from_env({"CASEBOT_METRICS_TOKEN": METRICS_TOKEN}, env_file="/none/.env")
    assert settings.metrics_token == METRICS_TOKEN
