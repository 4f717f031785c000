"""Liveness and readiness: ``/livez`` says the process answers, ``/readyz`` (and ``/healthz``,
its old name) that it can serve: database, schema, catalogs, and each registered channel."""

from __future__ import annotations

import os
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import text

from bot.channels.web.openapi import openapi_document
from bot.engine import Engine
from bot.ops.health import add_ready_check
from core.db import Database
from core.schema import head_revision
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock
from tests.integration.webchat_support import web_app_for


async def test_livez_names_the_worker_that_answered(client: TestClient[Any, Any]) -> None:
    response = await client.get("/livez")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "pid": os.getpid()}


async def test_readyz_and_healthz_report_every_check_ok_at_the_current_schema(
    client: TestClient[Any, Any],
) -> None:
    for path in ("/readyz", "/healthz", "/readyz"):  # the second read skips the schema query
        response = await client.get(path)
        assert response.status == 200
        assert await response.json() == {
            "status": "ok",
            "schema": head_revision(),
            "checks": {"database": "ok", "schema": "ok", "catalogs": "ok"},
        }


async def test_readyz_is_503_while_the_schema_is_behind(
    client: TestClient[Any, Any], db: Database
) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        response = await client.get("/readyz")
        body = await response.json()
    finally:  # the PostgreSQL database is shared by the tests that follow
        async with db.engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()}
            )
    assert response.status == 503
    assert body["checks"]["schema"] == "behind"
    assert body["schema"] == "0001"


async def test_readyz_is_503_while_a_registered_channel_is_down(
    aiohttp_client: Any, db: Database, uow_factory: UnitOfWorkFactory, engine: Engine,
    clock: FakeClock,
) -> None:  # fmt: skip
    connected = False
    web_app = web_app_for(db, uow_factory, engine, clock)
    add_ready_check(web_app, "telegram", lambda: connected)
    client: TestClient[Any, Any] = await aiohttp_client(web_app)
    response = await client.get("/readyz")
    assert response.status == 503
    assert (await response.json())["checks"]["telegram"] == "down"
    connected = True
    assert (await client.get("/readyz")).status == 200


def test_the_openapi_document_describes_liveness_and_readiness() -> None:
    paths = openapi_document()["paths"]
    assert set(paths["/livez"]["get"]["responses"]) == {"200"}
    assert set(paths["/readyz"]["get"]["responses"]) == {"200", "503"}
    assert set(paths["/healthz"]["get"]["responses"]) == {"200", "503"}
