"""Benchmark of live agents (issue 19): 500 people waiting in line in the web chat, 20 agents
claiming and writing to them through the console API, on one ``casebot serve`` on SQLite and
with ``--workers 2`` on PostgreSQL.

Run ``.venv/bin/python -m benchmarks.bench_agents [--quick] [--waiting N] [--agents N]
[--no-postgres]`` (or ``make bench``).

For each database (a fresh SQLite file; a fresh PostgreSQL database created on the server of
``CASEBOT_TEST_POSTGRES_URL`` and dropped at the end), ``casebot serve`` is started with agents'
hours around the clock and a line long enough for everyone. The agents are staff members added
to the database as ``casebot admin staff add`` does, who then set up their password and
authenticator, sign in and switch to available through the console API, as the console page
does. The people are web chat sessions opened over HTTP, each with its WebSocket open, each
having said "menu" once (those turns, one at a time, are the reference: a plain web chat turn's
latency, measured in the same run), then "talk to a person": they wait in the line. Then the
agents, each a task here with its own console token, take people from their line
(``GET /api/console/queue``, ``POST .../claim``: they may race for one), write a few messages
to each (``POST .../messages``) and close the chat (``POST .../close``).

Measured: the relay latency of every agent message, from the moment the agent's request is
sent to the person's WebSocket receiving the message (the API commits it, the outbox dispatcher
of the server delivers it into the transcript and pushes it); p50 and p99; every message must
arrive exactly once (the run fails otherwise and writes nothing). The memory of the server's
processes (resident set, ``/proc``) before the sessions and with all of them waiting, per
waiting conversation. Writes the section "Live agents (issue 19)" of ``benchmarks/RESULTS.md``.
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
from datetime import UTC, datetime, timedelta
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
from core.accounts.otp import totp
from core.db import Database
from core.staff import add_staff
from core.uow import UnitOfWorkFactory

SECTION: Final = "Live agents (issue 19)"
GOAL_P99_MS: Final = 100.0
REFERENCE_TURNS: Final = 100
PASSWORD: Final = "bench-lantern-harbor-7"  # noqa: S105 (the benchmark's staff only)
ALWAYS_OPEN: Final = "UTC Mon-Sun 00:00-23:59; holidays open"  # the run never waits for hours


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
    pause: float  # seconds between an agent's messages to one person
    rss_before: int = 0
    rss_waiting: int = 0
    posted: dict[str, float] = field(default_factory=dict)  # tag -> when it was committed
    latencies: list[float] = field(default_factory=list)
    requests: list[float] = field(default_factory=list)  # the agents' message requests
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


@dataclass
class Agent:
    """An agent signed in to the console API."""

    staff_id: int
    auth: dict[str, str]


async def console(
    client: aiohttp.ClientSession,
    url: str,
    path: str,
    body: dict[str, object] | None = None,
    *,
    auth: dict[str, str] | None = None,
    get: bool = False,
) -> tuple[int, dict[str, object]]:
    """One console API request: its status and JSON body."""
    method = client.get if get else client.post
    async with method(f"{url}/api/console{path}", json=body, headers=auth) as reply:
        found = await reply.json() if reply.content_type == "application/json" else {}
        return reply.status, found


async def sign_in_agents(
    client: aiohttp.ClientSession, url: str, uow_factory: UnitOfWorkFactory, count: int
) -> list[Agent]:
    """``count`` agents of English, added as ``casebot admin staff add`` adds them, set up,
    signed in and available through the console API."""
    agents = []
    for n in range(count):
        email = f"agent{n}@bench.example"
        async with uow_factory() as uow:
            added = await add_staff(uow, email, f"Agent {n}", ["en"])
            await uow.commit()
        status, started = await console(
            client, url, "/setup", {"code": added.setup_code, "password": PASSWORD}
        )
        if status != 200:
            raise RuntimeError(f"console set-up: HTTP {status} {started}")
        secret = str(started["secret"])
        now = datetime.now(UTC)
        status, body = await console(
            client, url, "/setup/confirm", {"code": added.setup_code, "totp": totp(secret, now)}
        )
        if status != 200:
            raise RuntimeError(f"console set-up confirmation: HTTP {status} {body}")
        later = totp(secret, now + timedelta(seconds=30))  # a code not used yet
        status, body = await console(
            client, url, "/sessions", {"email": email, "password": PASSWORD, "code": later}
        )
        if status != 201:
            raise RuntimeError(f"console sign-in: HTTP {status} {body}")
        auth = {"Authorization": f"Bearer {body['token']}"}
        status, body = await console(
            client, url, "/me/availability", {"available": True}, auth=auth
        )
        if status != 200:
            raise RuntimeError(f"console availability: HTTP {status} {body}")
        agents.append(Agent(added.staff.id, auth))
    return agents


async def agent(
    client: aiohttp.ClientSession, url: str, me: Agent, run: Run, chats: int, messages: int
) -> None:
    """Take a person from the line ``chats`` times, write ``messages`` to each, close."""
    done = 0
    while done < chats:
        status, body = await console(client, url, "/queue", auth=me.auth, get=True)
        if status != 200:
            raise RuntimeError(f"console queue: HTTP {status} {body}")
        waiting = body["waiting"]
        assert isinstance(waiting, list)
        if not waiting:
            return
        # Agents look at the same line: each takes one of its first few, and some collide.
        pick = waiting[me.staff_id % min(len(waiting), run.agents)]
        head = int(pick["conversation_id"])
        status, body = await console(client, url, f"/conversations/{head}/claim", auth=me.auth)
        if status == 409:
            run.races_lost += 1
            continue
        if status != 200:
            raise RuntimeError(f"console claim: HTTP {status} {body}")
        run.claims += 1
        for n in range(messages):
            tag = f"{head}-{n}"
            sent = time.perf_counter()
            status, body = await console(
                client,
                url,
                f"/conversations/{head}/messages",
                {"text": f"[bench {tag}] Hello, message {n}"},
                auth=me.auth,
            )
            if status != 201:
                raise RuntimeError(f"console message: HTTP {status} {body}")
            run.requests.append(time.perf_counter() - sent)
            run.posted[tag] = sent
            await asyncio.sleep(run.pause)  # an agent types: not every message at once
        status, body = await console(
            client, url, f"/conversations/{head}/close", {"outcome": "resolved"}, auth=me.auth
        )
        if status != 200:
            raise RuntimeError(f"console close: HTTP {status} {body}")
        done += 1


async def ask_for_a_person(client: aiohttp.ClientSession, url: str, person: Person) -> None:
    async with client.post(
        f"{url}/api/chat/sessions/{person.session.id}/messages",
        json={"text": "talk to a person"},
        headers={"Authorization": f"Bearer {person.session.token}"},
    ) as reply:
        body = await reply.json()
    texts = " ".join(r.get("text") or "" for r in body.get("replies", []))
    if reply.status != 200 or "in the line" not in texts:
        raise RuntimeError(f"asking for a person: HTTP {reply.status}: {texts[:200]}")


async def measure(config: Config, work: Path, database_url: str, args: argparse.Namespace) -> Run:
    run = Run(config.label, args.waiting, args.agents, args.pause)
    server: Server = await start_server(
        config,
        work,
        {config.backend: database_url},
        extra={
            "CASEBOT_AGENT_HOURS": ALWAYS_OPEN,
            "CASEBOT_AGENT_QUEUE_LIMIT": str(args.waiting + 1),
            # The agents set up and sign in one after another, faster than people do: the
            # service's budget of password checks (its own tests) would refuse some.
            "CASEBOT_PASSWORD_CHECKS_PER_SECOND": "10000",
        },
    )
    db = Database(database_url.replace("postgresql://", "postgresql+asyncpg://"))
    uow_factory = UnitOfWorkFactory(db)
    people: list[Person] = []
    listeners: list[asyncio.Task[None]] = []
    connector = aiohttp.TCPConnector(limit=0)  # every WebSocket holds one
    try:
        async with aiohttp.ClientSession(connector=connector) as client:
            await asyncio.sleep(1.0)
            agents = await sign_in_agents(client, server.url, uow_factory, args.agents)
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
                await ask_for_a_person(client, server.url, person)
            await asyncio.sleep(2.0)  # the line's notices settle
            run.rss_waiting = rss_of(server.pids())
            listeners = [asyncio.create_task(listen(person)) for person in people]
            started = time.perf_counter()
            await asyncio.gather(
                *(agent(client, server.url, me, run, args.chats, args.messages) for me in agents)
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
        f"{percentile_ms(run.requests, 0.5):.0f} / {percentile_ms(run.requests, 0.99):.0f} ms | "
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
            "| server | load | relay p50 | relay p99 | of which the agent's request, p50 / p99 "
            "| delivery | memory per waiting conversation | reference (same run) |",
            "|---|---|---|---|---|---|---|---|",
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
            f"- command: `python -m benchmarks.bench_agents{' --quick' if args.quick else ''}"
            f" --pause {args.pause:g}` "
            f"(whole run {time.perf_counter() - began:.0f} s); each agent claims {args.chats} "
            f"chats and writes {args.messages} messages to each, {args.pause:g} s apart",
            "",
            table,
            "",
            f"| goal | target | measured | |\n|---|---|---|---|\n| relay p99 agent -> person "
            f"| < {GOAL_P99_MS:.0f} ms | "
            + ", ".join(f"{percentile_ms(r.latencies, 0.99):.0f} ms" for r in runs)
            + f" | **{'MET' if met else 'MISSED'}** |",
            "",
            "How to read it:",
            "- Relay latency: from the moment an agent's request is sent "
            "(`POST /api/console/conversations/{id}/messages`, as the console's Send button) to "
            "the frame on the person's WebSocket. The API commits the message with its outbox "
            "row; the commit wakes the outbox dispatcher (`core/outbox/wake.py`), in the "
            "process through an event and in every worker through PostgreSQL's NOTIFY; the "
            "web chat's dispatcher delivers the live chat in a lane of its own "
            "(`bot/notify/dispatcher.py`), so an agent's message never waits behind a "
            "transaction of other notices.",
            "- Each claim moves the line. A person waiting is told their place by one pending "
            "notice whose place is read when it is sent: within 2 s near the head of the line "
            "(place 3 or better), at most once a minute further back "
            "(`core/handoff/service.py`).",
            "- Agents work as in the console: each reads the line, takes one of its first "
            'people and may find that another agent took them first ("races lost", a 409).',
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
    parser.add_argument(
        "--pause",
        type=float,
        default=2.0,
        help="seconds between an agent's messages (2: a fast typist's short lines; 0.05 "
        "measures what the relay sustains when the agents outpace it)",
    )
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.waiting, args.agents = min(args.waiting, 100), min(args.agents, 5)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
