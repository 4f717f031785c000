"""Benchmark of live agents (issue 19): 500 people waiting in line in the web chat, 20 agents
claiming and writing to them, on one ``casebot serve`` on SQLite and with ``--workers 2`` on
PostgreSQL.

Run ``.venv/bin/python -m benchmarks.bench_agents [--quick] [--waiting N] [--agents N]
[--no-postgres]`` (or ``make bench``).

For each database (a fresh SQLite file; a fresh PostgreSQL database created on the server of
``CASEBOT_TEST_POSTGRES_URL`` and dropped at the end), ``casebot serve`` is started with its
defaults. The people are web chat sessions opened over HTTP, each with its WebSocket open,
each having said "menu" once (those turns, one at a time, are the reference: a plain web chat
turn's latency, measured in the same run). The served agent desk has no staff yet, so this
process (the agents' side) puts each session in the line through the core services on the
same database (``request_agent``), as the console does; then 20 agents, each a task here with
its own units of work, claim the head of the line (``claim``: they race for it) and write to
the person (``post_agent_message``), a few messages per chat, then close it.

Measured: the relay latency of every agent message, from the commit of ``post_agent_message``
to the person's WebSocket receiving it (the outbox dispatcher of the server delivers it into
the transcript and pushes it); p50 and p99; every message must arrive exactly once (the run
fails otherwise and writes nothing). The memory of the server's processes (resident set,
``/proc``) before the sessions and with all of them waiting, per waiting conversation. Writes
the section "Live agents (issue 19)" of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import aiohttp
import asyncpg  # type: ignore[import-untyped]

from benchmarks.bench_web import ChatSession, open_session
from benchmarks.bench_workers import (
    POSTGRES_URL,
    Config,
    Server,
    start_server,
    stop_server,
)
from benchmarks.results import cores, cpu_model, record
from core.db import Database
from core.errors import AlreadyClaimed
from core.handoff import (
    Handoff,
    HandoffStatus,
    claim,
    close,
    post_agent_message,
    request_agent,
)
from core.uow import UnitOfWorkFactory

SECTION: Final = "Live agents (issue 19)"
GOAL_P99_MS: Final = 100.0
REFERENCE_TURNS: Final = 100


@dataclass
class Person:
    session: ChatSession
    ws: aiohttp.ClientWebSocketResponse
    received: dict[str, float] = field(default_factory=dict)  # message tag -> when it came
    doubled: int = 0


@dataclass
class Run:
    label: str
    waiting: int
    agents: int
    rss_before: int = 0
    rss_waiting: int = 0
    posted: dict[str, float] = field(default_factory=dict)  # tag -> when it was committed
    latencies: list[float] = field(default_factory=list)
    reference: list[float] = field(default_factory=list)
    lost: int = 0
    doubled: int = 0
    claims: int = 0
    races_lost: int = 0
    seconds: float = 0.0


def rss_of(pids: list[int]) -> int:
    """The resident memory of the processes, in bytes."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def percentile_ms(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


async def listen(person: Person) -> None:
    async for frame in person.ws:
        if frame.type != aiohttp.WSMsgType.TEXT:
            continue
        text = json.loads(frame.data).get("text") or ""
        if "[bench " in text:
            tag = text[text.index("[bench ") + 7 : text.index("]", text.index("[bench "))]
            if tag in person.received:
                person.doubled += 1
            else:
                person.received[tag] = time.perf_counter()


async def agent(
    staff_id: int, uow_factory: UnitOfWorkFactory, run: Run, chats: int, messages: int
) -> None:
    """Claim the head of the line ``chats`` times, write ``messages`` to each, close."""
    from sqlalchemy import select

    done = 0
    while done < chats:
        async with uow_factory() as uow:
            head = await uow.session.scalar(
                select(Handoff.id)
                .where(Handoff.status == HandoffStatus.WAITING)
                .order_by(Handoff.id)
                .limit(1)
            )
            if head is None:
                return
            try:
                await claim(uow, head, staff_id, f"Agent {staff_id}")
                await uow.commit()
            except AlreadyClaimed:
                run.races_lost += 1
                continue
        run.claims += 1
        for n in range(messages):
            tag = f"{head}-{n}"
            async with uow_factory() as uow:
                await post_agent_message(uow, head, staff_id, f"[bench {tag}] Hello, message {n}")
                await uow.commit()
            run.posted[tag] = time.perf_counter()
            await asyncio.sleep(0.05)  # an agent types: not every message at once
        async with uow_factory() as uow:
            await close(uow, head, "resolved", staff_id=staff_id)
            await uow.commit()
        done += 1


async def measure(config: Config, work: Path, database_url: str, args: argparse.Namespace) -> Run:
    run = Run(config.label, args.waiting, args.agents)
    server: Server = await start_server(config, work, {config.backend: database_url})
    db = Database(database_url.replace("postgresql://", "postgresql+asyncpg://"))
    uow_factory = UnitOfWorkFactory(db)
    people: list[Person] = []
    listeners: list[asyncio.Task[None]] = []
    connector = aiohttp.TCPConnector(limit=0)  # every WebSocket holds one
    try:
        async with aiohttp.ClientSession(connector=connector) as client:
            await asyncio.sleep(1.0)
            run.rss_before = rss_of(server.pids())
            for _ in range(args.waiting):
                session = await open_session(client, server.url)
                ws = await client.ws_connect(
                    f"{server.url}/api/chat/sessions/{session.id}/ws?token={session.token}"
                )
                people.append(Person(session, ws))
            for n, person in enumerate(people):  # the reference: one turn at a time
                started = time.perf_counter()
                async with client.post(
                    f"{server.url}/api/chat/sessions/{person.session.id}/messages",
                    json={"text": "menu"},
                    headers={"Authorization": f"Bearer {person.session.token}"},
                ) as reply:
                    await reply.read()
                    if reply.status != 200:
                        raise RuntimeError(f"a chat turn: HTTP {reply.status}")
                if n < REFERENCE_TURNS:
                    run.reference.append(time.perf_counter() - started)
            for person in people:
                async with uow_factory() as uow:
                    await request_agent(
                        uow, channel="webchat", chat_id=person.session.id, language="en"
                    )
                    await uow.commit()
            await asyncio.sleep(2.0)  # the line's notices settle
            run.rss_waiting = rss_of(server.pids())
            listeners = [asyncio.create_task(listen(person)) for person in people]
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    agent(1000 + n, uow_factory, run, args.chats, args.messages)
                    for n in range(args.agents)
                )
            )
            give_up = time.perf_counter() + 30
            while time.perf_counter() < give_up:
                if sum(len(p.received) for p in people) >= len(run.posted):
                    break
                await asyncio.sleep(0.1)
            run.seconds = time.perf_counter() - started
            received = {tag: at for person in people for tag, at in person.received.items()}
            run.latencies = [received[t] - at for t, at in run.posted.items() if t in received]
            run.lost = len(run.posted) - len(run.latencies)
            run.doubled = sum(person.doubled for person in people)
    finally:
        for task in listeners:
            task.cancel()
        for person in people:
            await person.ws.close()
        await db.dispose()
        stop_server(server)
    return run


def row(run: Run) -> str:
    ratio = run.rss_waiting - run.rss_before
    return (
        f"| {run.label} | {run.waiting} waiting, {run.agents} agents, {run.claims} claims "
        f"({run.races_lost} races lost), {len(run.posted)} messages | "
        f"**{percentile_ms(run.latencies, 0.5):.0f} ms** | "
        f"**{percentile_ms(run.latencies, 0.99):.0f} ms** | "
        f"{run.lost} lost, {run.doubled} doubled | "
        f"{ratio / max(1, run.waiting) / 1024:.0f} KiB | "
        f"turn p50 {percentile_ms(run.reference, 0.5):.1f} ms, "
        f"p99 {percentile_ms(run.reference, 0.99):.1f} ms |"
    )


async def main_async(args: argparse.Namespace) -> int:
    runs: list[Run] = []
    began = time.perf_counter()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="casebot-agents-") as tmp:
        work = Path(tmp)
        runs.append(
            await measure(
                Config("sqlite", 1),
                work,
                f"sqlite+aiosqlite:///{work / 'agents.sqlite3'}",
                args,
            )
        )
        if not args.no_postgres:
            name = f"casebot_agents_{uuid.uuid4().hex[:8]}"
            admin = await asyncpg.connect(POSTGRES_URL)
            try:
                await admin.execute(f'CREATE DATABASE "{name}"')
                url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
                runs.append(await measure(Config("postgres", 2), work, url, args))
            finally:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()
    table = "\n".join(
        [
            "| server | load | relay p50 | relay p99 | delivery | memory per waiting "
            "conversation | reference (same run) |",
            "|---|---|---|---|---|---|---|",
            *(row(run) for run in runs),
        ]
    )
    failures = [
        f"{r.label}: {r.lost} lost, {r.doubled} doubled" for r in runs if r.lost or r.doubled
    ]
    met = all(percentile_ms(r.latencies, 0.99) < GOAL_P99_MS for r in runs)
    body = "\n".join(
        [
            f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
            f"- machine: {cores()} cores (nproc), {cpu_model()}; Python "
            f"{sys.version.split()[0]}; load average {load:.2f} at the start (shared machine: "
            "compare with the reference of the same run)",
            f"- command: `python -m benchmarks.bench_agents{' --quick' if args.quick else ''}` "
            f"(whole run {time.perf_counter() - began:.0f} s); each agent claims {args.chats} "
            f"chats and writes {args.messages} messages to each, 50 ms apart",
            "",
            table,
            "",
            f"| goal | target | measured | |\n|---|---|---|---|\n| relay p99 agent -> person "
            f"| < {GOAL_P99_MS:.0f} ms | "
            + ", ".join(f"{percentile_ms(r.latencies, 0.99):.0f} ms" for r in runs)
            + f" | **{'MET' if met else 'MISSED'}** |",
            "",
            "How to read it:",
            "- Relay latency: from the commit of the agent's message (core services, in the "
            "benchmark's process, as the console would) to the frame on the person's WebSocket. "
            "The commit wakes the outbox dispatcher (`core/outbox/wake.py`): in the writing "
            "process through an event, in every worker through PostgreSQL's NOTIFY. On SQLite "
            "the benchmark's process is not the server's, and nothing crosses processes there: "
            "its messages wait for the dispatcher's next pass (`INTERVAL`, 1 s), as they do not "
            "when the console of the same server posts them.",
            "- Each claim moves the line: everyone behind is told the new place, one notice per "
            "person, coalesced while not sent (`core/handoff/service.py`); those notices go "
            "through the same dispatcher as the agents' messages, which are claimed first "
            "(`core/outbox/dispatch.py` `LIVE_CHAT_KINDS`) but still wait for the transaction "
            "under way (up to 10 rows, `TRANSACTION_ROWS`) to end.",
            "- Memory: resident set of the server's processes with every session open, its "
            "WebSocket connected and its chat in the line, minus before the sessions, divided "
            "by the sessions.",
            '- Reference: plain web chat turns ("menu"), one at a time, on the same server '
            "before the agents start.",
        ]
    )
    return record(SECTION, body, table, failures)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 waiting, 5 agents")
    parser.add_argument("--waiting", type=int, default=500)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--chats", type=int, default=3, help="chats each agent takes")
    parser.add_argument("--messages", type=int, default=5, help="messages to each chat")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.waiting, args.agents = min(args.waiting, 100), min(args.agents, 5)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
