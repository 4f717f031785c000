"""What start-up does to a database (the schema always; the demo data only when asked), and a
health check that asks the database each time without running Alembic."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import App, Prepared, build_app
from bot.channels.web.server import create_web_app
from bot.settings import Settings
from core.accounts.models import Account
from core.schema import head_revision


def app_on(folder: Path, name: str = "casebot.sqlite3") -> App:
    url = f"sqlite+aiosqlite:///{folder / name}"
    return build_app(Settings(database_url=url, var_dir=folder))


async def accounts(app: App) -> int:
    async with app.uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Account)) or 0)


async def test_an_empty_database_gets_the_schema_and_no_account_unless_the_demo_is_asked(
    tmp_path: Path,
) -> None:
    app = app_on(tmp_path)
    try:
        assert await app.prepare_database(demo_if_empty=False) is Prepared.EMPTY
        assert await accounts(app) == 0
        # Still without records (a chat or a server ran without --demo): --demo loads it now.
        assert await app.prepare_database(demo_if_empty=True) is Prepared.DEMO
        assert await accounts(app) == 1
        assert await app.prepare_database(demo_if_empty=True) is Prepared.IN_USE
        assert await accounts(app) == 1
    finally:
        await app.close()


async def test_healthz_asks_the_database_each_time_and_runs_no_alembic(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_on(tmp_path)
    try:
        await app.prepare_database(demo_if_empty=False)
        caplog.set_level(logging.DEBUG, logger="alembic")
        caplog.clear()
        async with TestClient(TestServer(create_web_app(app))) as client:
            for _ in range(5):
                response = await client.get("/healthz")
                assert response.status == 200
                assert await response.json() == {
                    "status": "ok",
                    "schema": head_revision(),
                    "checks": {"database": "ok", "schema": "ok", "catalogs": "ok"},
                }
            assert not [r for r in caplog.records if r.name.startswith("alembic")]
            (tmp_path / "casebot.sqlite3").unlink()
            await app.db.dispose()  # the next check opens a new connection, on no schema
            response = await client.get("/healthz")
            assert response.status == 503
            assert (await response.json())["status"] == "unavailable"
    finally:
        await app.close()


async def test_healthz_answers_503_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    app = app_on(tmp_path / "no-such-folder")
    try:
        async with TestClient(TestServer(create_web_app(app))) as client:
            response = await client.get("/healthz")
            assert response.status == 503
            body = await response.json()
            assert body["status"] == "unavailable"
            assert body["checks"]["database"] == "down"
    finally:
        await app.close()
