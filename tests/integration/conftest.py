"""Fixtures shared by the integration tests."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.engine import Engine
from bot.handlers.webchat import WebChatConfig
from core.db import Database
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock
from tests.integration.webchat_support import web_app_for


@pytest.fixture
def chat_config() -> WebChatConfig | None:
    """The web chat's limits for ``client`` (None: the defaults); a module overrides it."""
    return None


@pytest.fixture
async def client(
    aiohttp_client: Any,
    db: Database,
    uow_factory: UnitOfWorkFactory,
    engine: Engine,
    clock: FakeClock,
    chat_config: WebChatConfig | None,
) -> TestClient[Any, Any]:
    """A client of the web app (chat API, widget, admin API off) on the test's engine, with
    ``chat_config``; a test module that needs other settings defines its own ``client``."""
    client: TestClient[Any, Any] = await aiohttp_client(
        web_app_for(db, uow_factory, engine, clock, chat_config)
    )
    return client
