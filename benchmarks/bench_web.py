"""Benchmark of the web chat API (issue 5): turns through HTTP against one ``casebot serve``.

Run ``.venv/bin/python -m benchmarks.bench_web [--quick] [--turns N] [--rounds R]`` (or
``make bench``).

Two servers run as subprocesses on 127.0.0.1, each on its own free port: ``casebot serve
--demo`` on its default SQLite database (demo data, in a temporary working folder, with no
``CASEBOT_*`` or ``TELEGRAM_*`` variable in its environment), and a bare aiohttp JSON echo server
(``benchmarks.echo_server``), the ceiling of aiohttp on this machine. The load generator in this
process keeps 64 requests in flight (one ``aiohttp.ClientSession``, connector limit 64):

1. Echo: N POSTs of the same JSON body a turn sends; requests/s, p50, p99.
2. Chat: N turns over ``ceil(N / 20)`` new chat sessions (at least 64) taken in rotation, so no
   session sends more than 20 messages (the API allows 30 a minute). A session alternates the
   receipt number "WAC2212345678" (looked up at the menu: a case-status turn) and "menu".
   Sessions are created beforehand and a few warm-up turns are sent, both untimed.

Both loads are run R times (3 by default), alternated, against the same two servers: on a
shared machine one load alone can be 15% off, and alternating spreads the drift over both.
The figures reported are each measure's median over the rounds. The ratio of turns/s to echo
requests/s is the figure of merit. Goal: at least 30% of the echo ceiling and a p99 under 25 ms.
Any non-200 answer, a status reply without "Case Was Approved" or an echo that differs from
what was sent fails the run: exit status 1 and nothing recorded. Otherwise it writes the
section "Web chat (issue 5)" of ``benchmarks/RESULTS.md``, saying whether each goal was met.
Loopback only; bounded in count and time; the servers are stopped in any case.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

import aiohttp

from benchmarks.results import cores, cpu_model, free_port, write_section

SECTION: Final = "Web chat (issue 5)"
ROOT: Final = Path(__file__).resolve().parent.parent
CONCURRENCY: Final = 64
# In the whole run: below the API's 30 messages a minute per session, and no more than the 10
# case lookups a minute that one chat may make (half the turns are lookups). With 24, a fast
# run met that throttle and its replies lacked the status: the run's 12 "errors".
TURNS_PER_SESSION: Final = 20
RECEIPT: Final = "WAC2212345678"  # a demo case, approved
EXPECTED: Final = "Case Was Approved"
TEXTS: Final = (RECEIPT, "menu")
SAMPLE_EVERY: Final = 25  # replies parsed and checked (parsing them all would load the client)
GOAL_RATIO: Final = 0.30
GOAL_P99_MS: Final = 25.0
START_TIMEOUT: Final = 30.0
LOAD_TIMEOUT: Final = 90.0  # per load; the whole run stays under 2 minutes at the defaults


@dataclass
class Load:
    """What one load measured: per-request latencies (s), failures by kind, the wall time."""

    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    checked: int = 0
    elapsed: float = 0.0
    server_cpu: float | None = None  # CPU seconds of the server process during the load

    def cpu_ms(self) -> str:
        """The server's CPU time per request, or "n/a" where /proc does not tell it."""
        if self.server_cpu is None or not self.latencies:
            return "n/a"
        return f"{self.server_cpu / len(self.latencies) * 1000:.3f} ms"

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
        return ordered[index] * 1000


@dataclass
class Rounds:
    """One kind of load measured in several rounds: each figure is its median over them."""

    loads: list[Load]

    def _median(self, values: list[float]) -> float:
        return statistics.median(values) if values else 0.0

    @property
    def requests(self) -> int:
        """Requests of one round."""
        return len(self.loads[0].latencies) if self.loads else 0

    @property
    def rate(self) -> float:
        return self._median([load.rate for load in self.loads])

    def percentile_ms(self, fraction: float) -> float:
        return self._median([load.percentile_ms(fraction) for load in self.loads])

    def cpu_ms(self) -> str:
        """The server's CPU time per request (median), or "n/a" where /proc does not tell it."""
        spent = [load.server_cpu / len(load.latencies) for load in self.loads if load.server_cpu]
        if len(spent) != len(self.loads) or not spent:
            return "n/a"
        return f"{self._median(spent) * 1000:.3f} ms"

    @property
    def errors(self) -> int:
        return sum(sum(load.failures.values()) for load in self.loads)

    @property
    def checked(self) -> int:
        return sum(load.checked for load in self.loads)

    def each(self, figure: Callable[[Load], str]) -> str:
        """A figure of every round, in order: "1,950, 1,870, 2,010"."""
        return ", ".join(figure(load) for load in self.loads)


def clean_env() -> dict[str, str]:
    """This process's environment without casebot's and Telegram's settings."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CASEBOT_", "TELEGRAM_"))
    }


def start(args: list[str], cwd: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
    # The log goes to a file: a pipe nobody reads would block the server once full.
    return subprocess.Popen(  # noqa: S603  (our own interpreter and fixed arguments)
        [sys.executable, *args],
        cwd=cwd,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


async def wait_healthy(
    client: aiohttp.ClientSession, url: str, process: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with status {process.returncode}")
        try:
            async with client.get(f"{url}/healthz") as reply:
                if reply.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url}: no healthy answer within {START_TIMEOUT:.0f} s")


def cpu_seconds(pid: int | None) -> float | None:
    """User and system CPU time of a process so far (Linux ``/proc``), or None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_load(
    count: int,
    one: Callable[[int], Awaitable[tuple[float, str | None]]],
    server: int | None = None,
) -> Load:
    """``count`` calls of ``one(i)`` by CONCURRENCY workers; each returns (latency, failure).
    With ``server`` (a pid), the CPU time that process spent meanwhile is measured too."""
    load = Load()
    cpu_before = cpu_seconds(server)
    numbers = iter(range(count))

    async def worker() -> None:
        for i in numbers:
            latency, failure = await one(i)
            load.latencies.append(latency)
            if failure is not None:
                load.failures[failure] += 1

    started = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(*(worker() for _ in range(CONCURRENCY))), timeout=LOAD_TIMEOUT
    )
    load.elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds(server)
    if cpu_before is not None and cpu_after is not None:
        load.server_cpu = cpu_after - cpu_before
    return load


async def echo_load(
    client: aiohttp.ClientSession, url: str, count: int, server: int | None = None
) -> Load:
    sent = {"text": RECEIPT}
    checked = [0]

    async def one(i: int) -> tuple[float, str | None]:
        started = time.perf_counter()
        async with client.post(f"{url}/echo", json=sent) as reply:
            body = await reply.read()
        latency = time.perf_counter() - started
        if reply.status != 200:
            return latency, f"HTTP {reply.status}"
        if i % SAMPLE_EVERY == 0:
            checked[0] += 1
            if json.loads(body) != sent:
                return latency, "echo differs from what was sent"
        return latency, None

    load = await run_load(count, one, server)
    load.checked = checked[0]
    return load


@dataclass
class ChatSession:
    id: str
    token: str
    sent: int = 0


async def open_session(client: aiohttp.ClientSession, url: str) -> ChatSession:
    async with client.post(f"{url}/api/chat/sessions", json={"locale": "en"}) as reply:
        if reply.status != 201:
            raise RuntimeError(f"opening a chat session: HTTP {reply.status}")
        body = await reply.json()
    return ChatSession(body["session_id"], body["token"])


async def turn(
    client: aiohttp.ClientSession, url: str, session: ChatSession
) -> tuple[float, int, bytes, str]:
    text = TEXTS[session.sent % len(TEXTS)]
    session.sent += 1
    started = time.perf_counter()
    async with client.post(
        f"{url}/api/chat/sessions/{session.id}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {session.token}"},
    ) as reply:
        body = await reply.read()
    return time.perf_counter() - started, reply.status, body, text


def status_reply_ok(body: bytes) -> bool:
    replies = json.loads(body)["replies"]
    return any(EXPECTED in (reply.get("text") or "") for reply in replies)


async def chat_load(
    client: aiohttp.ClientSession, url: str, count: int, server: int | None = None
) -> tuple[Load, int]:
    """``count`` turns over sessions in rotation; returns the load and the sessions used."""
    sessions = max(CONCURRENCY, math.ceil(count / TURNS_PER_SESSION))
    opened = await asyncio.gather(*(open_session(client, url) for _ in range(sessions)))
    # Warm-up, untimed, on sessions of its own: the first turns import and compile lazily.
    warm = await asyncio.gather(*(open_session(client, url) for _ in range(4)))
    for session in warm:
        for _ in TEXTS:
            _, status, _, _ = await turn(client, url, session)
            if status != 200:
                raise RuntimeError(f"warm-up turn: HTTP {status}")
    rotation: asyncio.Queue[ChatSession] = asyncio.Queue()
    for session in opened:
        rotation.put_nowait(session)
    checked = [0]

    async def one(i: int) -> tuple[float, str | None]:
        # The queue holds at least CONCURRENCY sessions of capacity for every turn still owed,
        # and a session is only in one worker's hands at a time (its turns stay in order).
        session = await rotation.get()
        latency, status, body, text = await turn(client, url, session)
        if session.sent < TURNS_PER_SESSION:
            rotation.put_nowait(session)
        if status != 200:
            return latency, f"HTTP {status}"
        if text == RECEIPT and (i // len(TEXTS)) % SAMPLE_EVERY == 0:
            checked[0] += 1
            if not status_reply_ok(body):
                return latency, f"a status reply without {EXPECTED!r}"
        return latency, None

    load = await run_load(count, one, server)
    load.checked = checked[0]
    return load, sessions


def verdict(met: bool) -> str:
    return "**met**" if met else "**MISSED**"


def report(
    args: argparse.Namespace, echo: Rounds, chat: Rounds, sessions: int, total: float
) -> str:
    pairs = zip(echo.loads, chat.loads, strict=True)
    ratios = [c.rate / e.rate if e.rate else 0.0 for e, c in pairs]
    ratio = statistics.median(ratios)
    p99 = chat.percentile_ms(0.99)
    command = "python -m benchmarks.bench_web" + (" --quick" if args.quick else "")
    if args.turns_given:
        command += f" --turns {args.turns}"
    if args.rounds != 3:
        command += f" --rounds {args.rounds}"
    rounds = len(chat.loads)
    return f"""
- date: {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
- machine: {cores()} cores (nproc), {cpu_model()}; Python {platform.python_version()}; load \
average {args.load:.2f} at the start (shared machine: compare the chat figures with the echo \
figures of the same run)
- command: `{command}` (whole run {total:.0f} s); {rounds} rounds, each an echo load then a chat \
load; every figure below is the median over the rounds

| load ({CONCURRENCY} requests in flight) | requests a round | requests/s | p50 | p99 | server \
CPU per request | errors |
|---|---|---|---|---|---|---|
| bare aiohttp JSON echo server (ceiling) | {echo.requests:,} | {echo.rate:,.0f} | \
{echo.percentile_ms(0.5):.1f} ms | {echo.percentile_ms(0.99):.1f} ms | {echo.cpu_ms()} | \
{echo.errors} |
| `casebot serve` on SQLite: turns over {sessions} sessions a round | {chat.requests:,} | \
**{chat.rate:,.0f} turns/s** | {chat.percentile_ms(0.5):.1f} ms | **{p99:.1f} ms** | \
{chat.cpu_ms()} | {chat.errors} |

| goal | target | measured | |
|---|---|---|---|
| turns/s against the echo ceiling | ≥ {GOAL_RATIO:.0%} | **{ratio:.1%}** | \
{verdict(ratio >= GOAL_RATIO)} |
| p99 turn latency | < {GOAL_P99_MS:.0f} ms | **{p99:.1f} ms** | {verdict(p99 < GOAL_P99_MS)} |

Round by round: echo {echo.each(lambda load: f"{load.rate:,.0f}")} requests/s; chat \
{chat.each(lambda load: f"{load.rate:,.0f}")} turns/s; ratio \
{", ".join(f"{r:.1%}" for r in ratios)}; chat p99 \
{chat.each(lambda load: f"{load.percentile_ms(0.99):.1f}")} ms.

How to read it:
- Both servers run as their own processes on 127.0.0.1; the load generator is this process \
(one `aiohttp.ClientSession`, connector limit {CONCURRENCY}, {CONCURRENCY} workers). Latency is \
from sending the request to having read the whole answer, so it includes queueing behind the \
other {CONCURRENCY - 1} requests in flight: with {CONCURRENCY} in flight, p50 is about \
{CONCURRENCY} / throughput. Client, server and database share the same {cores()} cores.
- A turn is one `POST /api/chat/sessions/ID/messages`: sessions alternate "{RECEIPT}" (at the \
menu a receipt number looks the case up: the reply says "{EXPECTED}", checked on a sample of \
{chat.checked} replies) and "menu". Every session sends at most {TURNS_PER_SESSION} messages \
(the API allows 30 a minute), so each round's turns rotate over {sessions} new sessions; \
opening them and {2 * 4} warm-up turns a round are not timed. The echo server gets the same \
body ({echo.checked} echoes compared) with the same concurrency and request count.
- `casebot serve` runs with its defaults, as `make run` would: SQLite under `./var` of a \
temporary folder, demo data, access log on (to a file).
- Little's law: with {CONCURRENCY} requests in flight, p99 < {GOAL_P99_MS:.0f} ms needs well \
over {CONCURRENCY} / {GOAL_P99_MS / 1000:.3f} s = {CONCURRENCY / (GOAL_P99_MS / 1000):,.0f} \
requests/s; the bare echo server itself has the p99 above at this concurrency.

Where the time goes (issue 5; figures of other days are from other machines of this \
workplace: compare the server's CPU per turn with the echo's of the same run, above; \
`python -m benchmarks.prof_web` gives the parts):
- On 2026-11-22 a turn cost `casebot serve` about 0.5 ms of CPU on an Intel Xeon (echo 0.077 \
ms), 0.75 to 0.95 ms on an AMD EPYC (echo 0.11 to 0.13 ms) and 1.4 ms on a busier Intel Xeon \
(echo 0.21 ms): the ratio was 16 to 20%. It was \
about 3 ms (280 turns/s) when this benchmark was written. The {CONCURRENCY} requests in flight \
mostly queue for that one process, so p50 is about {CONCURRENCY} / throughput, and the p99 goal \
needs over 2,560 turns/s before any jitter: about half the echo ceiling on the AMD machine.
- Where that CPU goes (`perf record` of the server under this load, AMD EPYC): the Python \
interpreter 70% (its evaluation loop a fifth, the rest object allocation, dictionary lookups, \
calls), SQLite's library 10%, the kernel 10% (sockets, WAL writes), the C library 6%. \
`WebChatHub.send` in a loop executes 1.75 million instructions a turn (callgrind), with no C \
function above 3% but the evaluation loop, and about 700 Python calls (cProfile) spread over \
the engine, the dialog, the translations, the unit of work, the column conversions and the \
transcript. A turn's system calls (strace): about 14 `pwrite` (7 WAL frames), 6 `fcntl` locks, \
one `fdatasync` every 50 turns.
- The parts (`prof_web`, 6,000 turns each; Intel / AMD): `WebChatHub.send` in a loop without \
HTTP 0.32 / 0.62 ms; the HTTP side alone (a `casebot serve` whose turn answers at once: \
aiohttp, routing, middleware, JSON, access log) 0.09 / 0.23 ms; the floor, \
`benchmarks/floor_server.py` (a case-status turn's 11 statements in one SQLite transaction, \
written by hand with aiohttp and nothing else) 0.155 / 0.337 ms a turn, about half the echo \
rate on both. So a server that small could meet the goal here; casebot's turn does three times \
the work, in Python.
- Phases grouped: the turns asked for in one pass of the event loop start back to back in the \
next (`bot/channels/web/batch.py`), and their answers are written back to back, instead of each \
request's HTTP work evicting the turn's code and data from the CPU's caches: server CPU per \
turn 0.61 -> 0.49 ms on the Intel machine.
- Garbage collection: `casebot serve` freezes what start-up made (`gc.freeze`, \
`bot.cli.settle_start_up`); a full collection that walked it paused the server for 74 ms, \
which was the p99.
- Each turn is one SQLite transaction (the token check and the rate count first, in the \
engine's own transaction, `Engine.handle(admit=...)`) of 11 to 13 prepared statements \
(`core/statements.py`) on the one connection the process's units of work share.
- Measured and not adopted: committing once every 8 turns (group commit; tried without the \
failure handling it would need): 0.74 to 0.85 ms CPU per turn against 0.72 to 0.84 ms, four \
alternated runs of 10,000 turns each, no difference beyond this machine's noise; uvloop (no \
gain, worse p99); orjson (about 6% less CPU, not worth a dependency); the access log off and \
larger garbage-collection thresholds (within the noise).
- Counted (`python -m benchmarks.count_web`: callgrind, 640 turns to settle, then 640 \
counted; the same code gives the same count whatever else the machine runs): \
`WebChatHub.send` executes 1.72 million instructions a turn (settling and measure within 0.3%).
- Compiled with mypyc (measured, not adopted): the 15 modules of the turn that mypyc compiles \
as they are written (the engine, unit of work, prepared statements, rate limits, batch, \
context, translations, statuses, clock, understanding, model, and the case service, views, \
statuses and receipt parser) bring a turn to 1.55 million instructions, 9.7% fewer (the first \
9 of them alone 9.1%). The rest of the turn cannot be compiled as written: SQLAlchemy's \
declarative models (`core/conversations.py`, `core/web_sessions.py`), the generic dialog \
classes (`bot/dialogs`), the async generators of `bot/channels/web/chat.py`. A tenth, for a C \
build step on every install, is far from what the goal needs.
- What 30% of the echo needs: about 40% less CPU per turn, which is about half of the \
interpreted work, spread over every layer of the turn. Tuning and compiling give a tenth \
(above); what would get there is a different turn path, a lean one for the web alone: a \
second dialog engine to keep in step with the first, not done. PostgreSQL with several \
workers is the way to scale out, once there are cores enough to pay for its dearer turn: \
`bench_workers` measures it (section "Workers (deployment)").
"""


async def run(args: argparse.Namespace) -> int:
    args.load = os.getloadavg()[0]
    started = time.perf_counter()
    chat_port, echo_port = free_port(), free_port()
    chat_url, echo_url = f"http://127.0.0.1:{chat_port}", f"http://127.0.0.1:{echo_port}"
    echoes: list[Load] = []
    chats: list[Load] = []
    with tempfile.TemporaryDirectory(prefix="casebot-bench-web-") as folder:
        work = Path(folder)
        processes: list[subprocess.Popen[bytes]] = []
        with (work / "serve.log").open("wb") as chat_log, (work / "echo.log").open("wb") as elog:
            try:
                processes.append(
                    start(
                        ["-m", "bot", "serve", "--demo", "--port", str(chat_port)], work, chat_log
                    )
                )
                processes.append(
                    start(["-m", "benchmarks.echo_server", "--port", str(echo_port)], ROOT, elog)
                )
                connector = aiohttp.TCPConnector(limit=CONCURRENCY)
                async with aiohttp.ClientSession(connector=connector) as client:
                    await wait_healthy(client, chat_url, processes[0])
                    await wait_healthy(client, echo_url, processes[1])
                    await echo_load(client, echo_url, CONCURRENCY)  # warm-up, untimed
                    for number in range(1, args.rounds + 1):
                        print(f"round {number}/{args.rounds}: echo, then chat", file=sys.stderr)
                        echoes.append(
                            await echo_load(client, echo_url, args.turns, processes[1].pid)
                        )
                        chat, sessions = await chat_load(
                            client, chat_url, args.turns, processes[0].pid
                        )
                        chats.append(chat)
            finally:
                for process in processes:
                    stop(process)
    total = time.perf_counter() - started
    body = report(args, Rounds(echoes), Rounds(chats), sessions, total)
    print(body)
    failures = [f"echo: {n} × {what}" for load in echoes for what, n in load.failures.items()]
    failures += [f"chat: {n} × {what}" for load in chats for what, n in load.failures.items()]
    if failures:
        print("FAILED (nothing recorded): " + "; ".join(failures), file=sys.stderr)
        return 1
    write_section(SECTION, body)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="600 turns instead of 3,000")
    parser.add_argument("--turns", type=int, help="turns (and echo requests) per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both loads (1 to 9)")
    parser.add_argument(
        "--no-postgres",
        action="store_true",
        help="accepted so that `make bench BENCH_ARGS=...` can be shared; SQLite only here",
    )
    args = parser.parse_args()
    args.turns_given = args.turns is not None
    if args.turns is None:
        args.turns = 600 if args.quick else 3_000
    if not CONCURRENCY <= args.turns <= 10_000:
        parser.error(f"--turns must be between {CONCURRENCY} and 10,000")
    if not 1 <= args.rounds <= 9:
        parser.error("--rounds must be between 1 and 9")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
