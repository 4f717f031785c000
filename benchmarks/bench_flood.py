"""A real sign-in's latency while strangers flood the web chat with wrong passwords (the budget
of password checks, ``core/accounts/password_budget.py``).

One ``casebot serve --demo`` runs as a subprocess on 127.0.0.1, its SQLite database in a fresh
folder, with ``CASEBOT_TRUSTED_PROXIES=127.0.0.1`` so that the ``X-Forwarded-For`` this client
writes names the client, as behind a reverse proxy. In one run:

1. quiet: SAMPLES real sign-ins one after another, each from its own address: a new session,
   "sign in", the demo account's email (untimed), then its right password, timed (the turn that
   verifies it with Argon2id and asks for the second factor);
2. flood: FLOOD_SESSIONS sessions from FLOOD_ADDRESSES addresses, each at the password step of
   an unknown email, send wrong passwords at FLOOD_RATE a second (open loop, at most
   MAX_IN_FLIGHT in flight), and the same SAMPLES real sign-ins are timed meanwhile.

The goal: the flood's p99 under GOAL_RATIO times the quiet p99. Every flood answer is sorted by
what it said (checked and wrong, refused by a requester's budget, refused by the service's
rate, or refused by the web chat's own message limit), so the table shows which attempts hashed.

``--server-path DIR`` serves another checkout (on PYTHONPATH), to measure a version without the
budget with this same client. Loopback only; bounded in count and time (the flood stops when the
real sign-ins are done, or after FLOOD_LIMIT seconds); the server is stopped in any case.

    python -m benchmarks.bench_flood            # writes its section of benchmarks/RESULTS.md
    python -m benchmarks.bench_flood --no-write --server-path ../other-checkout
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import aiohttp

from benchmarks.bench_web import clean_env, stop, wait_healthy
from benchmarks.results import cores, cpu_model, free_port, write_section
from core.demo import DEMO_EMAIL, DEMO_PASSWORD

SECTION: Final = "Sign-in under a flood of wrong passwords (password budget)"
SAMPLES: Final = 60
FLOOD_RATE: Final = 200.0  # wrong passwords a second
FLOOD_ADDRESSES: Final = 30
SESSIONS_PER_ADDRESS: Final = 10  # the web chat's new sessions a minute per address
MAX_IN_FLIGHT: Final = 400
FLOOD_LIMIT: Final = 60.0  # seconds: the flood stops then whatever happens
PAUSE: Final = 0.2  # seconds between two real sign-ins
WARM_UP: Final = 5.0  # seconds of flood before the first timed sign-in (its start-up burst)
GOAL_RATIO: Final = 3.0
WRONG: Final = "not-the-password-at-all-5"
ASKS_CODE: Final = "6-digit code"
ANSWERS: Final = {
    "The email or password is not right": "checked (one Argon2id each)",
    "You have done that many times": "refused: the chat's or address's budget",
    "Many people are signing in right now": "refused: the service's rate",
}


def addresses(prefix: str) -> Iterator[str]:
    """Addresses of the documentation and benchmarking ranges, never routed anywhere."""
    for third, fourth in itertools.product(range(256), range(1, 255)):
        yield f"{prefix}.{third}.{fourth}"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


@dataclass
class Client:
    http: aiohttp.ClientSession
    url: str

    async def open(self, address: str) -> tuple[str, str]:
        async with self.http.post(
            f"{self.url}/api/chat/sessions", json={}, headers={"X-Forwarded-For": address}
        ) as reply:
            if reply.status != 201:
                raise RuntimeError(f"a new session was refused: {reply.status}")
            body = await reply.json()
        return body["session_id"], body["token"]

    async def say(self, session: tuple[str, str], address: str, text: str) -> tuple[int, str]:
        session_id, token = session
        headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": address}
        async with self.http.post(
            f"{self.url}/api/chat/sessions/{session_id}/messages",
            json={"text": text},
            headers=headers,
        ) as reply:
            if reply.status != 200:
                return reply.status, ""
            body = await reply.json()
        return 200, "\n".join(r["text"] for r in body["replies"])


async def real_sign_ins(
    client: Client, sources: Iterator[str], flood_over: asyncio.Event | None = None
) -> tuple[list[float], int]:
    """SAMPLES sign-ins of the demo account; the password turn's latencies (s), and how many
    did not reach the second factor. With ``flood_over``, only the sign-ins that ended while
    the flood lasted are kept (a flood cut short by FLOOD_LIMIT leaves fewer)."""
    latencies: list[float] = []
    failed = 0
    for _ in range(SAMPLES):
        if flood_over is not None and flood_over.is_set():
            break
        address = next(sources)
        session = await client.open(address)
        await client.say(session, address, "sign in")
        await client.say(session, address, DEMO_EMAIL)
        started = time.perf_counter()
        status, text = await client.say(session, address, DEMO_PASSWORD)
        if flood_over is not None and flood_over.is_set():
            break
        latencies.append(time.perf_counter() - started)
        if status != 200 or ASKS_CODE not in text:
            failed += 1
        await asyncio.sleep(PAUSE)
    return latencies, failed


@dataclass
class Flood:
    sent: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    over: asyncio.Event = field(default_factory=asyncio.Event)  # it stopped sending


async def prepare_flood(client: Client) -> list[tuple[tuple[str, str], str]]:
    sources = addresses("198.18")
    sessions: list[tuple[tuple[str, str], str]] = []
    for _ in range(FLOOD_ADDRESSES):
        address = next(sources)
        for _k in range(SESSIONS_PER_ADDRESS):
            sessions.append((await client.open(address), address))
    gate = asyncio.Semaphore(16)

    async def to_password(i: int, session: tuple[str, str], address: str) -> None:
        async with gate:
            await client.say(session, address, "sign in")
            await client.say(session, address, f"stranger{i}@example.com")

    await asyncio.gather(*(to_password(i, s, a) for i, (s, a) in enumerate(sessions)))
    return sessions


async def flood(client: Client, sessions: list[tuple[tuple[str, str], str]], done: asyncio.Event,
                result: Flood) -> None:  # fmt: skip
    """Wrong passwords at FLOOD_RATE a second, round robin over the sessions, until ``done``."""
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    tasks: set[asyncio.Task[None]] = set()

    async def one(session: tuple[str, str], address: str) -> None:
        try:
            status, text = await client.say(session, address, WRONG)
        except aiohttp.ClientError:
            result.answers["connection error"] += 1
            return
        finally:
            in_flight.release()
        if status != 200:
            result.answers[f"HTTP {status} (the web chat's own limits)"] += 1
            return
        kind = next((k for needle, k in ANSWERS.items() if needle in text), "other")
        result.answers[kind] += 1

    started = time.perf_counter()
    for n in itertools.count():
        now = time.perf_counter() - started
        if done.is_set() or now > FLOOD_LIMIT:
            break
        due = n / FLOOD_RATE
        if due > now:
            await asyncio.sleep(due - now)
        await in_flight.acquire()
        session, address = sessions[n % len(sessions)]
        task = asyncio.create_task(one(session, address))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        result.sent += 1
    result.elapsed = time.perf_counter() - started
    result.over.set()
    await asyncio.gather(*tasks)


def serve(folder: Path, port: int, server_path: Path | None, log: Path) -> subprocess.Popen[bytes]:
    env = clean_env()
    env["CASEBOT_TRUSTED_PROXIES"] = "127.0.0.1"
    if server_path is not None:
        env["PYTHONPATH"] = str(server_path.resolve())
    args = ["-m", "bot", "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603  (our own interpreter and fixed arguments)
            [sys.executable, *args],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def run(server_path: Path | None) -> tuple[list[float], int, list[float], int, Flood]:
    with tempfile.TemporaryDirectory(prefix="casebot-flood-") as folder:
        port = free_port()
        process = serve(Path(folder), port, server_path, Path(folder) / "serve.log")
        try:
            timeout = aiohttp.ClientTimeout(total=60)
            connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT + 8)
            # The person is another client: a connection of its own for each request.
            alone = aiohttp.TCPConnector(force_close=True)
            async with (
                aiohttp.ClientSession(timeout=timeout, connector=connector) as http,
                aiohttp.ClientSession(timeout=timeout, connector=alone) as own,
            ):
                url = f"http://127.0.0.1:{port}"
                await wait_healthy(http, url, process)
                person, stranger = Client(own, url), Client(http, url)
                sources = addresses("198.19")
                quiet, quiet_failed = await real_sign_ins(person, sources)
                sessions = await prepare_flood(stranger)
                done, result = asyncio.Event(), Flood()
                flooding = asyncio.create_task(flood(stranger, sessions, done, result))
                await asyncio.sleep(WARM_UP)
                try:
                    loud, loud_failed = await real_sign_ins(person, sources, result.over)
                finally:
                    done.set()
                    await flooding
        except BaseException:
            log = (Path(folder) / "serve.log").read_text(errors="replace")
            print("the server's log ends:", *log.splitlines()[-20:], sep="\n", file=sys.stderr)
            raise
        finally:
            stop(process)
    return quiet, quiet_failed, loud, loud_failed, result


def report(
    quiet: list[float], quiet_failed: int, loud: list[float], loud_failed: int, result: Flood
) -> tuple[str, bool]:
    def ms(values: list[float], fraction: float) -> str:
        return f"{percentile(values, fraction) * 1000:.0f} ms"

    if not loud:
        loud = [FLOOD_LIMIT]  # not one sign-in ended while the flood lasted
    ratio = percentile(loud, 0.99) / percentile(quiet, 0.99)
    met = ratio < GOAL_RATIO and quiet_failed == 0 and loud_failed == 0 and len(loud) == SAMPLES
    rate = result.sent / result.elapsed if result.elapsed else 0.0
    quiet_row = f"{ms(quiet, 0.5)} | {ms(quiet, 0.99)} | {quiet_failed}"
    loud_row = f"{ms(loud, 0.5)} | {ms(loud, 0.99)} | {loud_failed}"
    answers = "\n".join(f"| {kind} | {count:,} |" for kind, count in result.answers.most_common())
    body = f"""`python -m benchmarks.bench_flood` ({cpu_model()}, {cores()} cores, Python
{sys.version.split()[0]}, one `casebot serve --demo` on SQLite, `CASEBOT_TRUSTED_PROXIES=127.0.0.1`
and `X-Forwarded-For` naming each client; default `CASEBOT_PASSWORD_CHECKS_PER_SECOND`).
{SAMPLES} real sign-ins of the demo account, each from its own address, time the password turn
(Argon2id verification, then the second-factor prompt), first quiet, then under a flood of wrong
passwords for unknown emails at {FLOOD_RATE:.0f} a second from {FLOOD_ADDRESSES} addresses
({FLOOD_ADDRESSES * SESSIONS_PER_ADDRESS} sessions). Goal: flood p99 under {GOAL_RATIO:.0f}x the
quiet p99.

| real sign-ins (password turn) | p50 | p99 | not signed in |
|---|---|---|---|
| quiet ({len(quiet)} sign-ins) | {quiet_row} |
| under the flood ({len(loud)} ended while it lasted) | {loud_row} |

p99 under the flood / quiet p99: **{ratio:.2f}x** ({"met" if met else "NOT met"}).

The flood: {result.sent:,} wrong passwords in {result.elapsed:.1f} s ({rate:.0f} a second). What
they were answered:

| answer | count |
|---|---|
{answers}
"""
    return body, met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server-path", type=Path, help="serve this checkout instead")
    parser.add_argument("--no-write", action="store_true", help="print, leave RESULTS.md alone")
    args = parser.parse_args()
    if os.environ.get("CASEBOT_DATABASE_URL"):
        print("note: the server uses its own SQLite file; CASEBOT_* is not passed", file=sys.stderr)
    quiet, quiet_failed, loud, loud_failed, result = asyncio.run(run(args.server_path))
    if os.environ.get("BENCH_FLOOD_DEBUG"):
        print("quiet:", [round(x * 1000) for x in quiet], file=sys.stderr)
        print("flood:", [round(x * 1000) for x in loud], file=sys.stderr)
    body, met = report(quiet, quiet_failed, loud, loud_failed, result)
    print(body)
    if not args.no_write and args.server_path is None:
        write_section(SECTION, body)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
