"""Web chat notifications pushed on the WebSocket by whichever worker holds it: two apps on one
PostgreSQL database (the socket on A, the dispatcher in B), and one app on SQLite."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.channels.background import PUSH_KEY, setup_notifications
from bot.channels.web.push import PushBus
from bot.channels.web.server import PathOnlyAccessLogger, create_web_app
from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.settings import Settings
from core.db import Database
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock, FakeMailer
from tests.integration.webchat_support import ChatSession
from tests.outbox_support import change_statuses, seed_cases


@asynccontextmanager
async def worker(
    db: Database, clock: FakeClock, *, dispatch: bool
) -> AsyncIterator[TestClient[Any, Any]]:
    """One worker's web app (its own engine, hub, push listener and dispatcher)."""
    uow_factory = UnitOfWorkFactory(db, clock)
    app = App(settings=Settings(), db=db, uow_factory=uow_factory, clock=clock)
    engine = Engine(
        Services(uow_factory=uow_factory, mailer=FakeMailer(), clock=clock), all_dialogs()
    )
    web_app: web.Application = create_web_app(app, engine=engine)
    setup_notifications(web_app, app, dispatch=dispatch, interval=0.05)
    server = TestServer(web_app)
    # The production access log: paths without their query strings (tokens).
    await server.start_server(access_log_class=PathOnlyAccessLogger)
    async with TestClient(server) as client:
        yield client


async def next_frame(ws: Any) -> dict[str, Any]:
    frame: dict[str, Any] = await asyncio.wait_for(ws.receive_json(), 10)
    return frame


async def follow_and_approve(uow_factory: UnitOfWorkFactory, session_id: str) -> str:
    (number,) = await seed_cases(uow_factory, 1, channel="webchat", chats=[session_id])
    await change_statuses(uow_factory, [number], "approved")
    return number


@pytest.mark.postgres
async def test_a_notification_reaches_the_socket_held_by_another_worker(
    postgres_db: Database, clock: FakeClock
) -> None:
    other_process = Database(postgres_db.url)  # worker B's own connections
    try:
        async with (
            worker(postgres_db, clock, dispatch=False) as a,
            worker(other_process, clock, dispatch=True) as b,
        ):
            session = await ChatSession.open(a)
            ws = await a.ws_connect(f"/api/chat/sessions/{session.id}/ws?token={session.token}")
            number = await follow_and_approve(UnitOfWorkFactory(postgres_db, clock), session.id)

            frame = await next_frame(ws)  # stored and announced by B, sent by A

            assert frame["from"] == "bot"
            assert f"Update on your case {number}: Case Was Approved" in frame["text"]
            # The same message on resume, through either worker.
            resumed = await ChatSession(b, session.id, session.token).transcript()
            assert [m["id"] for m in resumed] == [frame["id"]]
            assert a.app[PUSH_KEY].distributed
            await ws.close()
    finally:
        await other_process.dispose()


async def test_a_notification_reaches_the_socket_on_a_single_worker(
    db: Database, clock: FakeClock
) -> None:
    async with worker(db, clock, dispatch=True) as client:
        session = await ChatSession.open(client)
        ws = await client.ws_connect(f"/api/chat/sessions/{session.id}/ws?token={session.token}")
        number = await follow_and_approve(UnitOfWorkFactory(db, clock), session.id)

        frame = await next_frame(ws)

        assert f"Update on your case {number}: Case Was Approved" in frame["text"]
        assert [m["id"] for m in await session.transcript()] == [frame["id"]]
        await ws.close()


async def test_a_notification_waits_in_the_transcript_for_a_closed_page(
    db: Database, clock: FakeClock
) -> None:
    async with worker(db, clock, dispatch=True) as client:
        session = await ChatSession.open(client)
        await session.send("hi")
        before = await session.transcript()
        number = await follow_and_approve(UnitOfWorkFactory(db, clock), session.id)
        for _ in range(200):
            after = await session.transcript(after=before[-1]["id"])
            if after:
                break
            await asyncio.sleep(0.05)
        assert len(after) == 1
        assert f"Update on your case {number}" in after[0]["text"]


@pytest.mark.postgres
async def test_what_was_pushed_while_the_listener_reconnected_still_reaches_the_socket(
    postgres_db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.web.push")
    other_process = Database(postgres_db.url)
    try:
        async with (
            worker(postgres_db, clock, dispatch=False) as a,
            worker(other_process, clock, dispatch=True) as b,
        ):
            session = await ChatSession.open(a)
            ws = await a.ws_connect(f"/api/chat/sessions/{session.id}/ws?token={session.token}")
            bus = a.app[PUSH_KEY]
            listener_pid = bus._connection.get_server_pid()
            async with b.app[PUSH_KEY].db.engine.connect() as admin:
                await admin.exec_driver_sql(f"SELECT pg_terminate_backend({int(listener_pid)})")
            # Queued and delivered by B at once, while A waits to reconnect (half a second).
            number = await follow_and_approve(UnitOfWorkFactory(postgres_db, clock), session.id)

            frame = await next_frame(ws)

            assert f"Update on your case {number}" in frame["text"]
            assert bus._connection.get_server_pid() != listener_pid
            assert "listening again; 1 message(s) pushed meanwhile" in caplog.text
            await ws.close()
    finally:
        await other_process.dispose()


class RecordingHub:
    """Stands in for the hub's sockets: records what it is asked to send."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, list[int]]] = []

    async def deliver(self, session_id: str, message_ids: list[int]) -> int:
        self.delivered.append((session_id, list(message_ids)))
        return len(message_ids)


async def test_on_sqlite_a_flush_sends_only_what_was_committed(
    sqlite_db: Database, clock: FakeClock
) -> None:
    """Two transactions announce at once (the dispatcher's two lanes): the one that commits
    first and flushes must not send the other's message before it is committed (the socket
    would read nothing, and the message would never be pushed)."""
    hub = RecordingHub()
    bus = PushBus(hub, sqlite_db)  # type: ignore[arg-type]
    uow_factory = UnitOfWorkFactory(sqlite_db, clock)
    async with uow_factory() as uow:
        await bus.announce(uow, "s1", 1)
        await bus.flush()  # not committed yet: nothing to send
        assert hub.delivered == []
        await uow.commit()
    await bus.flush()
    async with uow_factory() as uow:
        await bus.announce(uow, "s1", 2)  # rolled back: never sent
    await bus.flush()
    assert hub.delivered == [("s1", [1])]
