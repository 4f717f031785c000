"""A client that stalls is cut off (issue 21, finding 10): a request whose headers never end is
closed, and one whose body stops after a byte gets a 408 and the connection closed, each after
the server's timeout, instead of holding a socket for minutes.

The server runs as ``casebot serve`` runs it (``create_web_app`` with ``runner_options``), with
timeouts shortened so the test does not wait; the socket's own timeout is only the bound after
which a server that never answers fails the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.app import App
from bot.channels.web.server import RequestTimeouts, create_web_app, runner_options
from bot.engine import Engine
from bot.settings import Settings
from core.db import Database
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock

TIMEOUTS = RequestTimeouts(header_seconds=0.5, body_seconds=0.5)
GIVE_UP = 20.0  # a server without timeouts keeps the socket open past this


@pytest.fixture
async def address(
    db: Database, uow_factory: UnitOfWorkFactory, engine: Engine, clock: FakeClock
) -> AsyncIterator[tuple[str, int]]:
    app = App(settings=Settings(), db=db, uow_factory=uow_factory, clock=clock)
    web_app = create_web_app(app, engine=engine, timeouts=TIMEOUTS)
    runner = web.AppRunner(web_app, **runner_options(TIMEOUTS))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield host, port
    finally:
        await runner.cleanup()


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.read(), GIVE_UP)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_a_body_that_stops_after_one_byte_gets_a_408_and_is_closed(
    address: tuple[str, int],
) -> None:
    reader, writer = await asyncio.open_connection(*address)
    writer.write(
        b"POST /api/chat/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    await writer.drain()
    answer = await read_until_closed(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"request_timeout"' in answer


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_headers_that_never_end_are_closed(address: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*address)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    await writer.drain()
    answer = await read_until_closed(reader)
    writer.close()
    assert b"200 OK" not in answer


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_a_connection_that_sends_nothing_is_closed(address: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*address)
    assert await read_until_closed(reader) == b""
    writer.close()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_a_prompt_request_is_answered_as_before(address: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*address)
    writer.write(
        b"POST /api/chat/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        b"Connection: close\r\n\r\n{}"
    )
    await writer.drain()
    answer = await read_until_closed(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
