"""``casebot serve --workers 2`` on PostgreSQL: workers killed at random points of
conversations are restarted by the supervisor, and nothing is lost or doubled.

The same people, scripts, killer and checks as ``test_kill_restart.py`` (web chat sessions and
Telegram chats through the webhook, each signing in, booking and looking up a case), against
one port served by two worker processes. The killer SIGKILLs one worker at a time; the other
goes on serving (a client cut by the kill sends again at once, to it), and the supervisor
starts a new worker, which answers before the next kill. At the end the supervisor gets
SIGTERM and exits 0.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import Database
from tests.e2e.kill_support import SupervisedServer
from tests.e2e.test_kill_restart import converse_through_kills, database, peek
from tests.telegram.conftest import TOKEN
from tests.telegram.fake_bot_api import FakeBotApi

__all__ = ["database", "peek"]  # the fixtures, shared with the single-process test


@pytest.mark.parametrize("database", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)  # fmt: skip
async def test_a_killed_worker_is_restarted_and_no_turn_is_lost_or_doubled(
    database: Database, peek: AsyncEngine, tmp_path: Path
) -> None:
    servers: list[SupervisedServer] = []

    def supervised(api: FakeBotApi, http: aiohttp.ClientSession) -> SupervisedServer:
        server = SupervisedServer(tmp_path, database.url, api, TOKEN, http, workers=2)
        servers.append(server)
        return server

    server = await converse_through_kills(database, peek, supervised)
    supervised_server = servers[0]
    assert server is supervised_server
    # Every kill was of a worker, each replaced by a new one; the supervisor never restarted.
    assert len(supervised_server.restarted) == len(server.kills)
    assert len(server.workers) == 1
    assert server.workers[0].process.returncode == 0, server.workers[0].log()
