"""Memory of a real ``casebot serve``, and the bytes stored per conversation (issue 8, part of
``bench_proofs``).

One server process per backend, on 127.0.0.1: on SQLite it is the default database of a
temporary working folder (demo data loaded by the server itself, ``--demo`` as in ``make run``);
on PostgreSQL a scratch database (migrated and given the demo data by this process first). The load
generator opens ``sessions`` web chat sessions and runs one typical flow in each, as the widget
does (an empty opener, then two messages), 64 sessions at once:

- case status: the receipt number of an approved demo case (the reply must say so), "menu";
- appointment: "book an appointment" (it asks who is booking, or to sign in), "menu";
- sign-in begun: "sign in", the demo email (the conversation waits for the password).

Measured: the server's resident memory (``VmRSS``) idle, after a warm-up of a few flows, with
the sessions, and with a WebSocket open on every session (each read by a task, as the widget
does; a sample of them must receive the reply of a later turn); the stored bytes of the
conversations and transcripts, and the database's growth per 1,000 conversations.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

import aiohttp
from sqlalchemy import text

from benchmarks.bench_core import Backends
from benchmarks.bench_web import ChatSession, clean_env, open_session, stop, wait_healthy
from benchmarks.proofs_common import Proofs, mib, rss_bytes
from benchmarks.proofs_startup import casebot_command
from benchmarks.results import free_port
from core.db import Base, Database
from core.demo import DEMO_EMAIL, load_demo
from core.schema import upgrade
from core.uow import UnitOfWorkFactory

__all__ = ["bench_server"]

RECEIPT: Final = "WAC2212345678"
EXPECTED: Final = "Case Was Approved"
FLOWS: Final = (
    ("case status", ("", RECEIPT, "menu")),
    ("appointment", ("", "book an appointment", "menu")),
    ("sign-in begun", ("", "sign in", DEMO_EMAIL)),
)
CONCURRENCY: Final = 64
WARM_UP: Final = 12  # sessions whose flows load every code path before the "warm" figure
WS_SAMPLE: Final = 20  # sessions that must get a later turn's reply on their WebSocket
WS_TIMEOUT: Final = 10.0
SETTLE: Final = 1.0  # seconds left to the server before its memory is read
LOAD_TIMEOUT: Final = 240.0

_SQLITE_TOTALS: Final = """
SELECT (SELECT count(*) FROM conversations),
       (SELECT coalesce(sum(length(CAST(state AS BLOB))), 0) FROM conversations),
       (SELECT coalesce(sum(length(CAST(state AS BLOB))), 0) FROM conversations),
       (SELECT count(*) FROM web_messages),
       (SELECT coalesce(sum(length(CAST(text AS BLOB)) + length(CAST(buttons AS BLOB))
                            + length(CAST(attachments AS BLOB))), 0) FROM web_messages)
"""
_PG_TOTALS: Final = """
SELECT (SELECT count(*) FROM conversations),
       (SELECT coalesce(sum(pg_column_size(c.*)), 0) FROM conversations c),
       (SELECT coalesce(sum(pg_column_size(state)), 0) FROM conversations),
       (SELECT count(*) FROM web_messages),
       (SELECT coalesce(sum(pg_column_size(m.*)), 0) FROM web_messages m)
"""


@dataclass(frozen=True)
class Stored:
    """What the database holds: conversations (count, row bytes, state bytes), transcript
    messages (count, bytes), and the whole database's footprint on disk."""

    conversations: int
    row_bytes: int
    state_bytes: int
    messages: int
    message_bytes: int
    footprint: int

    @classmethod
    def of(cls, totals: Sequence[object], footprint: int) -> Stored:
        """From the five totals of ``_SQLITE_TOTALS`` / ``_PG_TOTALS`` and the footprint."""
        c = [int(str(value)) for value in totals]
        return cls(c[0], c[1], c[2], c[3], c[4], footprint)

    def minus(self, other: Stored) -> Stored:
        d = [x - y for x, y in zip(self.values(), other.values(), strict=True)]
        return Stored(d[0], d[1], d[2], d[3], d[4], d[5])

    def values(self) -> tuple[int, ...]:
        return (self.conversations, self.row_bytes, self.state_bytes, self.messages,
                self.message_bytes, self.footprint)  # fmt: skip


def sqlite_stored(path: Path) -> Stored:
    """Read while the server is idle: the WAL checkpointed into the file first."""
    with sqlite3.connect(path, timeout=10) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        totals = conn.execute(_SQLITE_TOTALS).fetchone()
    return Stored.of(totals, path.stat().st_size)


async def postgres_stored(url: str) -> Stored:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            totals = (await conn.execute(text(_PG_TOTALS))).one()
            tables = [table.name for table in Base.metadata.sorted_tables]
            size = await conn.scalar(
                text(
                    "SELECT sum(pg_total_relation_size(quote_ident(t))) "
                    "FROM unnest(CAST(:t AS text[])) AS t"
                ),
                {"t": tables},
            )
    finally:
        await db.dispose()
    return Stored.of(totals, int(size or 0))


class Server:
    """One ``casebot serve`` process on a free loopback port."""

    def __init__(self, folder: Path, database_url: str | None) -> None:
        self.folder = folder
        self.url = f"http://127.0.0.1:{free_port()}"
        self.env = clean_env()
        if database_url is not None:
            self.env["CASEBOT_DATABASE_URL"] = database_url
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, log: IO[bytes]) -> subprocess.Popen[bytes]:
        port = self.url.rpartition(":")[2]
        self.process = subprocess.Popen(  # noqa: S603  (our own console script, fixed arguments)
            [*casebot_command(), "serve", "--demo", "--port", port],
            cwd=self.folder,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self.process

    async def rss(self) -> int:
        await asyncio.sleep(SETTLE)
        assert self.process is not None
        return rss_bytes(self.process.pid)


async def run_flows(
    client: aiohttp.ClientSession, url: str, count: int, failures: list[str]
) -> list[ChatSession]:
    """Open ``count`` sessions and run one flow in each, CONCURRENCY sessions at once."""
    sessions: list[ChatSession] = []
    numbers = iter(range(count))

    async def say(session: ChatSession, message: str) -> str:
        async with client.post(
            f"{url}/api/chat/sessions/{session.id}/messages",
            json={"text": message},
            headers={"Authorization": f"Bearer {session.token}"},
        ) as reply:
            body = await reply.text()
            if reply.status != 200:
                failures.append(f"HTTP {reply.status} on {message!r}: {body[:200]}")
        return body

    async def worker() -> None:
        for n in numbers:
            session = await open_session(client, url)
            sessions.append(session)
            name, texts = FLOWS[n % len(FLOWS)]
            for message in texts:
                body = await say(session, message)
                if message == RECEIPT and EXPECTED not in body:
                    failures.append(f"{name}: the status reply lacks {EXPECTED!r}")

    await asyncio.wait_for(
        asyncio.gather(*(worker() for _ in range(min(CONCURRENCY, count)))), LOAD_TIMEOUT
    )
    return sessions


async def open_sockets(
    url: str, sessions: list[ChatSession], failures: list[str]
) -> Callable[[], Awaitable[None]]:
    """A WebSocket on every session, each read by its own task; a sample must receive a reply
    posted afterwards. Returns the coroutine function that closes them all."""
    ws_client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    received: dict[str, asyncio.Event] = {s.id: asyncio.Event() for s in sessions}

    async def connect(session: ChatSession) -> None:
        ws = await ws_client.ws_connect(
            f"{url}/api/chat/sessions/{session.id}/ws", params={"token": session.token}
        )
        sockets.append(ws)
        readers.append(asyncio.create_task(read(session.id, ws)))

    async def read(session_id: str, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                received[session_id].set()

    readers: list[asyncio.Task[None]] = []
    for start in range(0, len(sessions), CONCURRENCY):
        await asyncio.gather(*(connect(s) for s in sessions[start : start + CONCURRENCY]))

    async def close() -> None:
        for ws in sockets:
            await ws.close()
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await ws_client.close()

    sample = sessions[:: max(1, len(sessions) // WS_SAMPLE)][:WS_SAMPLE]
    async with aiohttp.ClientSession() as client:
        for session in sample:
            received[session.id].clear()
            async with client.post(
                f"{url}/api/chat/sessions/{session.id}/messages",
                json={"text": "menu"},
                headers={"Authorization": f"Bearer {session.token}"},
            ) as reply:
                await reply.read()
    try:
        await asyncio.wait_for(asyncio.gather(*(received[s.id].wait() for s in sample)), WS_TIMEOUT)
    except TimeoutError:
        missing = sum(not received[s.id].is_set() for s in sample)
        failures.append(f"{missing} of {len(sample)} WebSockets got no pushed reply")
    open_now = sum(not ws.closed for ws in sockets)
    if open_now != len(sessions):
        failures.append(f"{open_now} of {len(sessions)} WebSockets open")
    return close


async def measure(
    proofs: Proofs,
    backend: str,
    server: Server,
    sessions: int,
    read_stored: Callable[[], Awaitable[Stored]],
    with_sockets: bool,
) -> None:
    failures: list[str] = []
    with (server.folder / f"serve-{backend}.log").open("wb") as log:
        process = server.start(log)
        try:
            async with aiohttp.ClientSession() as client:
                await wait_healthy(client, server.url, process)
                idle = await server.rss()
                await run_flows(client, server.url, WARM_UP, failures)
                warm, before = await server.rss(), await read_stored()
                started = time.perf_counter()
                opened = await run_flows(client, server.url, sessions, failures)
                elapsed = time.perf_counter() - started
                loaded, after = await server.rss(), await read_stored()
                with_ws = 0
                if with_sockets:
                    close = await open_sockets(server.url, opened, failures)
                    with_ws = await server.rss()
                    await close()
        finally:
            await asyncio.to_thread(stop, process)
    for failure in failures[:5]:
        proofs.check(False, f"server on {backend}: {failure}")
    stored = after.minus(before)
    n = stored.conversations
    proofs.check(n == sessions, f"{backend}: {n} conversations stored for {sessions} sessions")
    if n == 0:
        return
    turns = sessions * 3
    row = f"row {stored.row_bytes / n:,.0f} B, of which " if backend == "PostgreSQL" else ""
    measure_how = "pg_column_size" if backend == "PostgreSQL" else "length of the stored text"
    growth = "all tables with their indexes and TOAST" if backend == "PostgreSQL" else "file"
    proofs.add(
        "bytes stored per conversation (typical flows, 3 turns, web chat)",
        backend,
        f"conversation: {row}**state JSON {stored.state_bytes / n:,.0f} B**; transcript: "
        f"{stored.messages / n:.1f} messages, **{stored.message_bytes / n:,.0f} B**; database "
        f"growth **{mib(stored.footprint * 1000 / n)} per 1,000 conversations** ({growth})",
        f"{measure_how}; {sessions:,} sessions, {turns:,} turns in {elapsed:.1f} s "
        f"({turns / elapsed:,.0f} turns/s)",
    )
    if with_sockets:
        proofs.add(
            f"`casebot serve` memory (RSS): {sessions:,} web chat sessions, then a WebSocket "
            "on each",
            backend,
            f"{mib(loaded)} with the sessions (+{(loaded - warm) / sessions / 1024:,.1f} KiB "
            f"per session); **{mib(with_ws)}** with {sessions:,} WebSockets open "
            f"(+{(with_ws - loaded) / sessions / 1024:,.1f} KiB per socket)",
            f"the same server idle: {mib(idle)} after start, {mib(warm)} after {WARM_UP} "
            "warm-up flows",
        )


async def bench_server(proofs: Proofs, backends: Backends, folder: Path, sessions: int) -> None:
    """The SQLite server (memory, WebSockets, storage), then the PostgreSQL one (storage)."""
    print(f"casebot serve on SQLite: {sessions:,} sessions...", file=sys.stderr)
    work = folder / "server-sqlite"
    work.mkdir()
    server = Server(work, None)
    path = work / "var" / "casebot.sqlite3"
    await measure(
        proofs, "SQLite", server, sessions, lambda: asyncio.to_thread(sqlite_stored, path), True
    )
    if backends.pg_url is not None:
        print(f"casebot serve on PostgreSQL: {sessions:,} sessions...", file=sys.stderr)
        db = await backends.postgres()
        try:
            await upgrade(db)
            await load_demo(UnitOfWorkFactory(db))
        finally:
            await db.dispose()
        work = folder / "server-postgres"
        work.mkdir()
        url = backends.pg_url
        await measure(
            proofs, "PostgreSQL", Server(work, url), sessions, lambda: postgres_stored(url), False
        )
    proofs.note(
        f"Server memory and storage: a real `casebot serve` per backend (SQLite: the default "
        "database of a temporary folder, demo data loaded by the server; PostgreSQL: a scratch "
        "database). Each session runs one typical flow as the widget does, an empty opener and "
        "two messages, in rotation: a case status (the reply must name the status), the start "
        "of a booking, the start of a sign-in (up to the password step); 64 sessions at once. "
        f"The warm-up ({WARM_UP} flows) loads every code path, so the per-session figures count "
        "what each session adds. Stored bytes and growth are the difference between before and "
        "after the sessions: SQLite's file after a WAL checkpoint (page granularity, indexes "
        "included), PostgreSQL's `pg_total_relation_size` of every table (dead row versions "
        "of the updated conversation rows included until vacuum). Then a WebSocket is opened "
        f"on every session and read by a task, as the widget does; {WS_SAMPLE} of them must "
        "receive the reply of a later turn. The idle figure is that of a first start, which "
        "loads the demo data: its Argon2id hashes (password, backup code, answers) leave "
        "their 19 MiB blocks in the allocator's per-thread arenas; the start-up row shows the "
        "RSS of a server started on a database seeded beforehand."
    )
