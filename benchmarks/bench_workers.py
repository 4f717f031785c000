"""Benchmark of ``casebot serve --workers N`` on SQLite and on PostgreSQL (deployment issue).

Run ``.venv/bin/python -m benchmarks.bench_workers [--quick] [--seconds S] [--rounds R]
[--no-postgres]`` (or ``make bench``).

Six configurations are measured side by side in one run, each for a fixed time (10 s by
default) in every round, their order rotated from round to round (3 rounds by default): on a
shared machine one window alone can be far off, and alternating spreads the drift over all.

- ``casebot serve --workers 1`` and ``--workers 2`` on a fresh SQLite file;
- the same on a fresh PostgreSQL database (``CREATE DATABASE`` on the server named by
  ``CASEBOT_TEST_POSTGRES_URL``, dropped at the end);
- the references: one bare aiohttp JSON echo server (``benchmarks.echo_server``), and two of
  them sharing the port with ``SO_REUSEPORT`` as the workers do: what this machine and this
  load generator can do at all with one and with two server processes.

Each database gets the demo data once (``casebot demo``, untimed). In each window only one
server runs: it is started (``casebot serve --workers N``, defaults otherwise, access log on),
waited for until every worker serves, warmed up for 1.5 s, loaded for the window and stopped.
The load generator (this process: one ``aiohttp.ClientSession``, 64 connections, 64 requests in
flight) sends web chat turns, ``POST /api/chat/sessions/ID/messages``, alternating the receipt
number "WAC2212345678" (a case-status lookup: the reply must say "Case Was Approved", checked
on a sample) and "menu", over many sessions opened beforehand (at most 20 turns each: the API
allows 30 a minute). The echo servers get the same body.

Measured in every window: turns (requests) per second, p50 and p99 latency, the CPU time of
the server's processes (the supervisor and its workers, ``/proc/PID/stat``), of the PostgreSQL
backends serving the benchmark's database (``pg_stat_activity``, ``/proc``), of this load
generator (``time.process_time``), and of the whole machine (``/proc/stat``; the rest is other
people's work). From the CPU per turn, :func:`estimate` says what a 16-core host would serve
(the model is written out in the report). Any non-200 answer or wrong status reply fails the
run: exit status 1 and nothing recorded. Otherwise it writes the section "Workers (deployment)"
of ``benchmarks/RESULTS.md``. Loopback only; bounded in time; servers stopped in any case.
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
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import aiohttp
import asyncpg  # type: ignore[import-untyped]

from benchmarks.bench_web import (
    CONCURRENCY,
    EXPECTED,
    RECEIPT,
    SAMPLE_EVERY,
    TURNS_PER_SESSION,
    ChatSession,
    clean_env,
    cpu_seconds,
    open_session,
    status_reply_ok,
    stop,
    turn,
)
from benchmarks.results import cores, cpu_model, free_port, write_section

SECTION: Final = "Workers (deployment)"
ROOT: Final = Path(__file__).resolve().parent.parent
POSTGRES_URL: Final = os.environ.get(
    "CASEBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
).replace("postgresql+asyncpg://", "postgresql://")
START_TIMEOUT: Final = 120.0  # a worker's start-up (imports, catalogs) on a busy shared machine
WARM_UP: Final = 1.5  # seconds of untimed turns after start: every worker's lazy imports
FIRST_GUESS: Final = 800.0  # turns/s to open sessions for, before a configuration was measured
HOST_CORES: Final = 16
PG_MAX_CONNECTIONS: Final = 100  # PostgreSQL's default max_connections
CONNECTIONS_BESIDES_POOL: Final = 2  # a worker's push listener and its lock connection


@dataclass(frozen=True)
class Config:
    """One server to measure: ``backend`` is "echo", "sqlite" or "postgres"."""

    backend: str
    workers: int

    @property
    def label(self) -> str:
        if self.backend == "echo":
            return f"echo ×{self.workers} (reference)"
        name = "SQLite" if self.backend == "sqlite" else "PostgreSQL"
        return f"{name}, `--workers {self.workers}`"


@dataclass
class Window:
    """What one timed window measured (CPU figures in seconds, over the window)."""

    config: Config
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    checked: int = 0
    elapsed: float = 0.0
    server_cpu: float = 0.0
    worker_cpu: list[float] = field(default_factory=list)  # each worker's (supervisor aside)
    db_cpu: float | None = None  # the PostgreSQL backends of the benchmark's database
    client_cpu: float = 0.0
    machine_cpu: float = 0.0  # every process on the machine, all cores
    opened_inline: int = 0  # sessions opened inside the window when the prepared ran out

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
        return ordered[index] * 1000 if ordered else 0.0

    def per_request_ms(self, seconds: float | None) -> float | None:
        return None if seconds is None or not self.requests else seconds / self.requests * 1000

    @property
    def others_cpu(self) -> float:
        """CPU seconds of everything else on the machine (other people's work, the kernel's
        threads, PostgreSQL's background processes) during the window."""
        ours = self.server_cpu + (self.db_cpu or 0.0) + self.client_cpu
        return max(0.0, self.machine_cpu - ours)


# --- the 16-core model --------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """What a host of ``cores`` cores would serve, from the CPU one turn costs."""

    cores: int
    sqlite: float  # turns/s on SQLite, whatever the cores: one writer
    colocated: float  # turns/s on PostgreSQL, its workers and the database on the one host
    app_host: float  # turns/s of the casebot host when PostgreSQL has a host of its own
    db_cores: float  # cores PostgreSQL then needs for that rate
    pool_size: int  # connections per worker that keep every worker under max_connections
    connections: int  # what ``cores`` workers may then open, at most


def estimate(
    *,
    sqlite_ms: float,
    server_ms: float,
    db_ms: float,
    cores: int = HOST_CORES,
    max_connections: int = PG_MAX_CONNECTIONS,
) -> Estimate:
    """Turns/s of a ``cores``-core host, from the CPU a turn costs: ``sqlite_ms`` the one
    SQLite worker, ``server_ms`` and ``db_ms`` the PostgreSQL workers and the database (both
    measured with several workers).

    SQLite: every turn is one write transaction on the file's single writer, the dialog's
    Python work inside it, so the file serves what one worker with a core of its own serves,
    ``1 / sqlite_ms``; more workers wait for the lock instead of adding turns. PostgreSQL: one
    worker per core, the cost per turn what it was with several workers (turns of different
    sessions share no row, so workers do not wait on one another's locks), every core busy, the
    load generator elsewhere, and each worker's pool (overflow 0) cut so that ``cores`` workers
    stay under ``max_connections`` (at least one connection each).
    """
    app_host = cores / (server_ms / 1000)
    pool = max(1, max_connections // cores - CONNECTIONS_BESIDES_POOL)
    return Estimate(
        cores=cores,
        sqlite=1000 / sqlite_ms,
        colocated=cores / ((server_ms + db_ms) / 1000),
        app_host=app_host,
        db_cores=app_host * db_ms / 1000,
        pool_size=pool,
        connections=cores * (pool + CONNECTIONS_BESIDES_POOL),
    )


# --- CPU accounting -------------------------------------------------------------------------


def machine_cpu_seconds() -> float:
    """Busy CPU time of the whole machine so far, all cores (``/proc/stat``)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(value) for value in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle and iowait
    busy = sum(ticks[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The process ids of ``pid``'s children (Linux ``/proc``)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def cpu_of(pids: list[int]) -> dict[int, float]:
    found = {pid: cpu_seconds(pid) for pid in pids}
    return {pid: spent for pid, spent in found.items() if spent is not None}


class Backends:
    """The PostgreSQL backends serving one database, and the CPU they spent."""

    def __init__(self, admin: asyncpg.Connection | None, database: str) -> None:
        self.admin = admin
        self.database = database

    async def sample(self) -> dict[int, float] | None:
        if self.admin is None:
            return None
        rows = await self.admin.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1", self.database
        )
        return cpu_of([row["pid"] for row in rows])

    @staticmethod
    def spent(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
        """CPU spent between the samples; a backend started in between counts from zero."""
        if before is None or after is None:
            return None
        return sum(spent - before.get(pid, 0.0) for pid, spent in after.items())


# --- servers --------------------------------------------------------------------------------


@dataclass
class Server:
    """A running configuration: its processes (the first is the one started) and log."""

    config: Config
    url: str
    processes: list[subprocess.Popen[bytes]]
    log: Path

    def pids(self) -> list[int]:
        """The processes whose CPU is the server's: the started ones and their children."""
        found = [process.pid for process in self.processes]
        for process in self.processes:
            found += children(process.pid)
        return found

    def workers(self) -> list[int]:
        if self.config.backend == "echo" or self.config.workers == 1:
            return [process.pid for process in self.processes]
        return children(self.processes[0].pid)


def launch(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen(  # noqa: S603  (our own interpreter and fixed arguments)
            [sys.executable, *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def casebot_env(database_url: str) -> dict[str, str]:
    env = clean_env()
    env["PYTHONPATH"] = str(ROOT)
    env["CASEBOT_DATABASE_URL"] = database_url
    return env


async def start_server(
    config: Config,
    work: Path,
    database_urls: dict[str, str],
    extra: dict[str, str] | None = None,
) -> Server:
    """Start the server of ``config`` (casebot with ``extra`` in its environment, or the echo
    server) and wait until it serves."""
    port = free_port()
    log = work / f"{config.backend}-{config.workers}-{port}.log"
    if config.backend == "echo":
        command = ["-m", "benchmarks.echo_server", "--port", str(port)]
        if config.workers > 1:
            command.append("--reuse-port")
        env = clean_env()
        processes = [launch(command, ROOT, env, log) for _ in range(config.workers)]
    else:
        command = ["-m", "bot", "serve", "--port", str(port), "--workers", str(config.workers)]
        env = casebot_env(database_urls[config.backend]) | (extra or {})
        processes = [launch(command, work, env, log)]
    server = Server(config, f"http://127.0.0.1:{port}", processes, log)
    try:
        await wait_serving(server)
    except BaseException:
        stop_server(server)
        raise
    return server


async def wait_serving(server: Server) -> None:
    """Until every worker says it serves (casebot) or the port answers (echo)."""
    deadline = time.monotonic() + START_TIMEOUT
    async with aiohttp.ClientSession() as client:
        while time.monotonic() < deadline:
            for process in server.processes:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{server.config.label}: exited with status {process.returncode}: "
                        + server.log.read_text(errors="replace")[-2000:]
                    )
            ready = True
            if server.config.backend != "echo":
                serving = server.log.read_text(errors="replace").count("casebot is serving on")
                ready = serving >= server.config.workers
            if ready:
                try:
                    async with client.get(f"{server.url}/healthz") as reply:
                        if reply.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{server.config.label}: not serving within {START_TIMEOUT:.0f} s")


def stop_server(server: Server) -> None:
    for process in server.processes:
        stop(process)


# --- the load -------------------------------------------------------------------------------


@dataclass
class Traffic:
    """What one request of a window sends, and the sessions chat turns rotate over."""

    client: aiohttp.ClientSession
    url: str
    chat: bool
    sessions: deque[ChatSession] = field(default_factory=deque)
    opened_inline: int = 0
    checked: int = 0
    sent: int = 0

    async def prepare(self, count: int) -> None:
        if self.chat:
            opened = await asyncio.gather(
                *(open_session(self.client, self.url) for _ in range(count))
            )
            self.sessions.extend(opened)

    async def one(self, record: bool) -> tuple[float, str | None]:
        """One request; returns its latency and what went wrong, if anything."""
        if not self.chat:
            return await self._echo()
        if self.sessions:
            session = self.sessions.popleft()
        else:
            session = await open_session(self.client, self.url)
            self.opened_inline += record
        latency, status, body, text = await turn(self.client, self.url, session)
        if session.sent < TURNS_PER_SESSION:
            self.sessions.append(session)
        if status != 200:
            return latency, f"HTTP {status}"
        if text == RECEIPT:
            self.sent += 1
            if self.sent % SAMPLE_EVERY == 0:
                self.checked += 1
                if not status_reply_ok(body):
                    return latency, f"a status reply without {EXPECTED!r}"
        return latency, None

    async def _echo(self) -> tuple[float, str | None]:
        sent = {"text": RECEIPT}
        started = time.perf_counter()
        async with self.client.post(f"{self.url}/echo", json=sent) as reply:
            body = await reply.read()
        latency = time.perf_counter() - started
        if reply.status != 200:
            return latency, f"HTTP {reply.status}"
        self.sent += 1
        if self.sent % SAMPLE_EVERY == 0:
            self.checked += 1
            if json.loads(body) != sent:
                return latency, "echo differs from what was sent"
        return latency, None


async def drive(
    seconds: float, one: Callable[[], Awaitable[tuple[float, str | None]]], window: Window
) -> None:
    """CONCURRENCY requests in flight for ``seconds``; the window ends with the last answer."""
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < stop_at:
            latency, failure = await one()
            window.latencies.append(latency)
            if failure is not None:
                window.failures[failure] += 1

    started = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(*(worker() for _ in range(CONCURRENCY))), timeout=seconds + 60
    )
    window.elapsed = time.perf_counter() - started


async def measure(
    server: Server, seconds: float, expected_rate: float, backends: Backends | None
) -> Window:
    window = Window(server.config)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as client:
        traffic = Traffic(client, server.url, chat=server.config.backend != "echo")
        needed = math.ceil(expected_rate * 1.3 * (seconds + WARM_UP) / TURNS_PER_SESSION)
        await traffic.prepare(max(2 * CONCURRENCY, needed))
        warm = Window(server.config)
        await drive(WARM_UP, lambda: traffic.one(record=False), warm)
        if sum(warm.failures.values()):
            raise RuntimeError(f"{server.config.label}: warm-up failed: {dict(warm.failures)}")
        traffic.checked = 0
        pids = server.pids()
        workers = server.workers()
        server_before, db_before = cpu_of(pids), await backends.sample() if backends else None
        client_before, machine_before = time.process_time(), machine_cpu_seconds()
        await drive(seconds, lambda: traffic.one(record=True), window)
        client_after, machine_after = time.process_time(), machine_cpu_seconds()
        server_after, db_after = cpu_of(pids), await backends.sample() if backends else None
    window.client_cpu = client_after - client_before
    window.machine_cpu = machine_after - machine_before
    window.server_cpu = sum(server_after[pid] - server_before.get(pid, 0.0) for pid in server_after)
    window.worker_cpu = [
        server_after.get(pid, 0.0) - server_before.get(pid, 0.0) for pid in workers
    ]
    window.db_cpu = Backends.spent(db_before, db_after) if backends else None
    window.checked = traffic.checked
    window.opened_inline = traffic.opened_inline
    return window


# --- databases ------------------------------------------------------------------------------


def load_demo(work: Path, database_url: str) -> None:
    log = work / "demo.log"
    process = launch(["-m", "bot", "demo"], work, casebot_env(database_url), log)
    if process.wait(START_TIMEOUT) != 0:
        raise RuntimeError("casebot demo failed: " + log.read_text(errors="replace")[-2000:])


# --- the report -----------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f} ms"


@dataclass
class Results:
    """Every window, by configuration, in the order measured."""

    windows: dict[Config, list[Window]]
    rounds: list[list[Config]]

    def of(self, config: Config) -> list[Window]:
        return self.windows.get(config, [])

    def rate(self, config: Config) -> float:
        return median([w.rate for w in self.of(config)])

    def cpu(self, config: Config, part: Callable[[Window], float | None]) -> float | None:
        values = [w.per_request_ms(part(w)) for w in self.of(config)]
        known = [v for v in values if v is not None]
        return median(known) if known and len(known) == len(values) else None

    def reference(self, config: Config) -> Config:
        return Config("echo", config.workers)

    def ratio(self, config: Config) -> float:
        """Median over rounds of turns/s against the echo of as many processes, same round."""
        reference = self.of(self.reference(config))
        pairs = zip(self.of(config), reference, strict=False)
        return median([w.rate / e.rate for w, e in pairs if e.rate])

    def others(self) -> float:
        """Median over every window of the cores others' work took."""
        spans = [w for windows in self.windows.values() for w in windows if w.elapsed]
        return median([w.others_cpu / w.elapsed for w in spans])

    def scaling(self, backend: str) -> float:
        """Median over rounds of the 2-worker rate over the 1-worker rate."""
        pairs = zip(self.of(Config(backend, 2)), self.of(Config(backend, 1)), strict=False)
        return median([two.rate / one.rate for two, one in pairs if one.rate])


def row(results: Results, config: Config) -> str:
    windows = results.of(config)
    db = results.cpu(config, lambda w: w.db_cpu)
    db_text = ms(db) if config.backend == "postgres" else "(in the server)"
    if config.backend == "echo":
        db_text = "-"
    share = median([w.client_cpu / w.elapsed for w in windows if w.elapsed])
    ours = median([(w.machine_cpu - w.others_cpu) / w.elapsed for w in windows if w.elapsed])
    others = median([w.others_cpu / w.elapsed for w in windows if w.elapsed])
    reference = "-" if config.backend == "echo" else f"{results.ratio(config):.1%}"
    return (
        f"| {config.label} | {sum(w.requests for w in windows):,} | "
        f"**{results.rate(config):,.0f}** | {reference} | "
        f"{median([w.percentile_ms(0.5) for w in windows]):.1f} ms | "
        f"{median([w.percentile_ms(0.99) for w in windows]):.1f} ms | "
        f"{ms(results.cpu(config, lambda w: w.server_cpu))} | {db_text} | "
        f"{ms(results.cpu(config, lambda w: w.client_cpu))} ({share:.0%} of a core) | "
        f"{ours:.2f} / {others:.2f} | {sum(sum(w.failures.values()) for w in windows)} |"
    )


def per_round(results: Results, configs: list[Config]) -> str:
    lines = []
    for number, order in enumerate(results.rounds, 1):
        parts = []
        for config in order:
            window = results.of(config)[number - 1]
            others = window.others_cpu / window.elapsed if window.elapsed else 0.0
            parts.append(
                f"{config.label.split(' (')[0]} {window.rate:,.0f}/s "
                f"(p99 {window.percentile_ms(0.99):.0f} ms, server "
                f"{ms(window.per_request_ms(window.server_cpu))}, others {others:.2f} cores)"
            )
        lines.append(f"- round {number}: " + "; ".join(parts))
    balance = []
    for config in configs:
        if config.workers < 2 or config.backend == "echo":
            continue
        shares = []
        for window in results.of(config):
            total = sum(window.worker_cpu)
            if total:
                shares.append("/".join(f"{part / total:.0%}" for part in window.worker_cpu))
        balance.append(f"{config.label}: {', '.join(shares)}")
    if balance:
        lines.append(
            "- the workers' shares of the server CPU, round by round: " + "; ".join(balance)
        )
    return "\n".join(lines)


def model_text(results: Results, postgres: bool) -> str:
    one, two = Config("sqlite", 1), Config("sqlite", 2)
    pg1, pg2 = Config("postgres", 1), Config("postgres", 2)
    sqlite_ms = results.cpu(one, lambda w: w.server_cpu) or 0.0
    server_ms = results.cpu(pg2, lambda w: w.server_cpu) or 0.0
    db_ms = results.cpu(pg2, lambda w: w.db_cpu) or 0.0
    guess = estimate(sqlite_ms=sqlite_ms, server_ms=server_ms or 1.0, db_ms=db_ms)
    lines = [
        f"What a {HOST_CORES}-core host would get (a model, from the CPU per turn above; "
        "`benchmarks.bench_workers.estimate`, checked by `tests/unit/test_bench_workers.py`):",
        f"- SQLite: **about {guess.sqlite:,.0f} turns/s, whatever the cores**: what one worker "
        f"does with a core of its own, 1 / {sqlite_ms:.3f} ms of CPU per turn. Each turn is one "
        "write transaction (`BEGIN IMMEDIATE` ... `COMMIT`, the dialog's Python work inside it) "
        "and the file has one writer: another worker's turn waits for the lock (tried again "
        "after 1 ms, doubling to 50 ms), so workers add processes that wait, not turns. "
        f"Measured: 2 workers gave {results.scaling('sqlite'):.2f}× the turns of 1 (echo ×2 "
        f"gave {results.scaling('echo'):.2f}× echo ×1 in the same rounds), at "
        f"{ms(results.cpu(two, lambda w: w.server_cpu))} of server CPU per turn against "
        f"{sqlite_ms:.3f} ms. A faster core raises that ceiling; more cores do not.",
    ]
    if not postgres:
        lines.append("- PostgreSQL: not measured in this run (`--no-postgres`).")
        return "\n".join(lines)
    lines += [
        f"- PostgreSQL, {HOST_CORES} workers: a turn cost the workers {server_ms:.3f} ms and the "
        f"database {db_ms:.3f} ms of CPU here with 2 workers (1 worker: "
        f"{ms(results.cpu(pg1, lambda w: w.server_cpu))} and "
        f"{ms(results.cpu(pg1, lambda w: w.db_cpu))}), so {HOST_CORES} cores running both serve "
        f"{HOST_CORES} / ({server_ms:.3f} + {db_ms:.3f}) ms = **about {guess.colocated:,.0f} "
        f"turns/s**; with PostgreSQL on a host of its own, the {HOST_CORES}-core casebot host "
        f"serves {HOST_CORES} / {server_ms:.3f} ms = **about {guess.app_host:,.0f} turns/s**, "
        f"which needs about {guess.db_cores:.1f} cores of PostgreSQL. Measured here: 2 workers "
        f"gave {results.scaling('postgres'):.2f}× the turns of 1, on {cores()} cores that also "
        f"ran the database, this load generator and others' work ({results.others():.2f} "
        "cores, median).",
        f"- So PostgreSQL passes SQLite only with several cores: its turn costs the worker "
        f"{server_ms / sqlite_ms if sqlite_ms else 0:.1f}× the CPU of SQLite's (SQLite's hot "
        "statements run prepared on one shared connection in the event loop's thread; on "
        "PostgreSQL a web turn's units of work each take a pooled connection, and each "
        "statement goes through SQLAlchemy and asyncpg and a round trip: the engine benchmark "
        "(above) measures the same gap without HTTP, and an empty unit of work there costs "
        "about 1 ms of CPU on PostgreSQL against 0.01 ms on SQLite).",
        "- Why it scales on PostgreSQL: turns of different sessions write different rows (the "
        "session, its transcript, its rate-limit row), so workers do not wait on one another's "
        "locks, and each worker is one Python process on one core. Assumed: the CPU per turn "
        "stays what it is with 2 workers (the figure that includes what one worker costs the "
        "other), every core busy (no headroom: plan for about 70%), the load generator and TLS "
        "elsewhere, the disk keeps up with the commits (PostgreSQL groups them), and "
        "PostgreSQL's background processes (WAL writer, checkpointer), not counted here, small "
        "beside its backends.",
        f"- Connections: each worker may open pool + overflow + {CONNECTIONS_BESIDES_POOL} "
        f"(10 + 10 + {CONNECTIONS_BESIDES_POOL} by default, {HOST_CORES * 22} for "
        f"{HOST_CORES} workers), so {HOST_CORES} workers need "
        f"`CASEBOT_DB_POOL_SIZE={guess.pool_size}` and `CASEBOT_DB_MAX_OVERFLOW=0` "
        f"({guess.connections} connections) to stay under PostgreSQL's default "
        f"{PG_MAX_CONNECTIONS}, or a larger `max_connections`. A turn holds its connection "
        f"for its transaction only, so {guess.pool_size} per worker is more than one worker's "
        "single core keeps busy; this run used the defaults (not measured with a smaller pool).",
    ]
    return "\n".join(lines)


def crowded(results: Results) -> str:
    """A warning before the rounds when others' work took most of the machine."""
    others = results.others()
    if others < cores() / 2:
        return ""
    return (
        f"**Others' work took {others:.2f} of the {cores()} cores during the windows (median): "
        "each server got what share of the rest the scheduler gave it, so its turns/s say "
        "little about what it can do (see the echo references, which vary as much); the CPU "
        "per turn is the figure to carry over.**\n\n"
    )


def report(args: argparse.Namespace, results: Results, configs: list[Config], total: float) -> str:
    postgres = any(c.backend == "postgres" for c in configs)
    command = "python -m benchmarks.bench_workers"
    if args.quick:
        command += " --quick"
    if args.seconds_given:
        command += f" --seconds {args.seconds:g}"
    if args.rounds_given:
        command += f" --rounds {args.rounds}"
    if not postgres:
        command += " --no-postgres"
    rows = "\n".join(row(results, config) for config in configs)
    checked = sum(w.checked for c in configs if c.backend != "echo" for w in results.of(c))
    return f"""
- date: {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
- machine: {cores()} cores (nproc), {cpu_model()}; Python {platform.python_version()}; \
{args.pg_version}; load average {args.load:.2f} at the start (shared machine: compare each \
figure with the echo of the same round)
- command: `{command}` (whole run {total:.0f} s); {len(results.rounds)} rounds of \
{args.seconds:g} s per configuration, the order rotated each round; figures are medians over \
the rounds

| server ({CONCURRENCY} requests in flight) | requests, all rounds | turns/s (echo: \
requests/s) | of the echo with as many processes | p50 | p99 | server CPU per turn | \
PostgreSQL CPU per turn | load generator CPU per turn | cores: this benchmark's / others' | \
errors |
|---|---|---|---|---|---|---|---|---|---|---|
{rows}

{crowded(results)}Round by round (others: the CPU of everything else on the machine during the \
window, in cores):
{per_round(results, configs)}

{model_text(results, postgres)}

How to read it:
- One server runs at a time, started fresh for its window: `casebot serve --workers N` with \
its defaults (access log on, to a file), on a SQLite file or a PostgreSQL database made for \
this run and given the demo data once; the load generator is this process (one \
`aiohttp.ClientSession`, {CONCURRENCY} connections, {CONCURRENCY} requests in flight), so \
with 2 workers the kernel spreads its {CONCURRENCY} connections over them (`SO_REUSEPORT`). \
After {WARM_UP:g} s of untimed turns, the window lasts {args.seconds:g} s and ends with the \
last answer.
- A turn is one `POST /api/chat/sessions/ID/messages`, alternating "{RECEIPT}" (a case-status \
lookup; the reply says "{EXPECTED}", checked on {checked:,} replies) and "menu", over sessions \
opened before the window, {TURNS_PER_SESSION} turns at most each.
- CPU: the server's is its processes' (the supervisor's included) from `/proc/PID/stat`; \
PostgreSQL's is that of the backends `pg_stat_activity` lists for the benchmark's database; \
the load generator's is `time.process_time()` of this process; "others'" is the rest of the \
machine's busy time (`/proc/stat`) over the window, of its {cores()} cores: other people's \
work, interrupts, PostgreSQL's background processes. Server, database and load generator \
share those cores, so here two workers compete with PostgreSQL, the load generator and \
everyone else for the second core: the CPU per turn, not the turns/s, is what carries over \
to a larger host (and CPU per turn rises too when the cores are crowded: caches are shared).
"""


# --- the run --------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    args.load = os.getloadavg()[0]
    started = time.perf_counter()
    configs = [Config("echo", 1), Config("echo", 2), Config("sqlite", 1), Config("sqlite", 2)]
    database = f"casebot_bench_workers_{uuid.uuid4().hex[:10]}"
    admin: asyncpg.Connection | None = None
    args.pg_version = "PostgreSQL not measured"
    if not args.no_postgres:
        try:
            admin = await asyncpg.connect(POSTGRES_URL, timeout=10)
        except (OSError, TimeoutError, asyncpg.PostgresError) as error:
            print(f"PostgreSQL does not answer ({error}): SQLite only", file=sys.stderr)
        else:
            configs += [Config("postgres", 1), Config("postgres", 2)]
    windows: dict[Config, list[Window]] = {config: [] for config in configs}
    orders: list[list[Config]] = []
    with tempfile.TemporaryDirectory(prefix="casebot-bench-workers-") as folder:
        work = Path(folder)
        urls = {"sqlite": f"sqlite:///{work / 'casebot.sqlite3'}"}
        try:
            if admin is not None:
                version = await admin.fetchval("SHOW server_version")
                args.pg_version = f"PostgreSQL {version} (local, same machine)"
                await admin.execute(f'CREATE DATABASE "{database}"')
                urls["postgres"] = f"{POSTGRES_URL.rpartition('/')[0]}/{database}"
            for url in urls.values():
                load_demo(work, url)
            backends = Backends(admin, database)
            for number in range(args.rounds):
                shift = number % len(configs)
                order = configs[shift:] + configs[:shift]
                orders.append(order)
                for config in order:
                    print(f"round {number + 1}/{args.rounds}: {config.label}", file=sys.stderr)
                    seen = [w.rate for w in windows[config]]
                    expected = max(seen) if seen else FIRST_GUESS
                    server = await start_server(config, work, urls)
                    try:
                        windows[config].append(
                            await measure(
                                server,
                                args.seconds,
                                expected,
                                backends if config.backend == "postgres" else None,
                            )
                        )
                    finally:
                        stop_server(server)
        finally:
            if admin is not None:
                await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                await admin.close()
    total = time.perf_counter() - started
    results = Results(windows, orders)
    body = report(args, results, configs, total)
    print(body)
    failures = [
        f"{config.label}: {n} × {what}"
        for config in configs
        for window in windows[config]
        for what, n in window.failures.items()
    ]
    if failures:
        print("FAILED (nothing recorded): " + "; ".join(failures), file=sys.stderr)
        return 1
    write_section(SECTION, body)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 4 s per configuration")
    parser.add_argument("--seconds", type=float, help="seconds per window (default 10)")
    parser.add_argument("--rounds", type=int, help="rounds over every configuration (default 3)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite and the echo only")
    args = parser.parse_args()
    args.seconds_given, args.rounds_given = args.seconds is not None, args.rounds is not None
    if args.seconds is None:
        args.seconds = 4.0 if args.quick else 10.0
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if not 1 <= args.seconds <= 120:
        parser.error("--seconds must be between 1 and 120")
    if not 1 <= args.rounds <= 9:
        parser.error("--rounds must be between 1 and 9")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
