"""Benchmark of case lookups through USCIS's Case Status API (issue 20), against the local fake.

Run ``.venv/bin/python -m benchmarks.bench_uscis [--quick] [--no-postgres]`` (or ``make bench``).

The fake API (``tests/uscis_fake.py``, its own process) holds every well-formed receipt and
answers 429 to any case-status request beyond 5 in one second, counting those as over-limit.
casebot runs with ``CASEBOT_CASE_SOURCE=uscis``, ``CASEBOT_USCIS_RATE=5``: 1,000 lookups
(``--quick``: 250) of 200 (50) distinct receipt numbers, each typed 5 times, shuffled with a fixed
seed, each lookup from its own chat (the per-chat throttle stays out of the way), arriving two
ways: a *burst* (20 turns in flight, back to back: far more new receipts a second than 5) and
*paced* (the first 200 (50) lookups of the plan, one every 0.2 s: arrivals the limit can serve).
A turn waits at most 2 s for its moment of the rate limit; a turn that cannot get one in time
answers at once that many people are checking cases ("busy"), which is not the outage answer
("USCIS's system is not answering", counted apart, as are any other answers).

Figures: requests sent to USCIS, the cache hit rate (answered lookups that sent no request), busy
answers, p50/p99 turn latency, over-limit requests (must be 0, else the run fails and
RESULTS.md is left alone). References in the same run: the requests a client without cache would
send (one per lookup), and the same lookups with the cases in the local record
(``CASEBOT_CASE_SOURCE=local``): the turn's cost without USCIS. Writes the section
"USCIS Case Status API (issue 20)" of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from benchmarks.bench_core import Backends
from benchmarks.results import cores, cpu_model, free_port, record
from bot.dialogs.context import Services
from bot.dialogs.model import Incoming
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.uscis.client import UscisClient
from bot.uscis.wiring import close_uscis
from core.cases.service import create_case
from core.cases.uscis import Budget, CircuitBreaker
from core.cases.uscis.service import CaseSourceMode, Uscis
from core.db import Database
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock, FakeMailer
from tests.uscis_fake import CLIENT_ID, CLIENT_SECRET, FakeUscis

SECTION: Final = "USCIS Case Status API (issue 20)"
RATE: Final = 5
IN_FLIGHT: Final = 20
REPEATS: Final = 5
ANSWERED: Final = "Case Was Received"
PACE: Final = 0.2  # seconds between two paced arrivals
BUSY: Final = "Many people are checking their cases right now"
OUTAGE: Final = "USCIS's system is not answering"


@dataclass
class Run:
    backend: str
    arrival: str
    lookups: int
    receipts: int
    requests: int
    over_limit: int
    answered: int
    busy: int
    outage: int
    other: int
    wall: float
    latencies: list[float]
    local_latencies: list[float]

    @property
    def hit_rate(self) -> float:
        fetched = min(self.requests, self.answered)
        return (self.answered - fetched) / self.answered if self.answered else 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def receipts(count: int) -> list[str]:
    return [f"EAC23{n:08d}" for n in range(count)]


async def lookups(
    engine: Engine, plan: list[str], tag: str, pace: float | None = None
) -> tuple[list[float], list[str]]:
    """Type each receipt number of ``plan`` in its own chat: ``IN_FLIGHT`` at a time, or one
    every ``pace`` seconds whatever is in flight."""
    latencies: list[float] = []
    texts: list[str] = []
    queue = iter(enumerate(plan))

    async def one(n: int, receipt: str) -> None:
        started = time.perf_counter()
        turn = await engine.handle(Incoming("bench", f"{tag}-{n}", text=f"check my case {receipt}"))
        latencies.append(time.perf_counter() - started)
        texts.append("\n".join(reply.text for reply in turn.replies))

    async def worker() -> None:
        for n, receipt in queue:
            await one(n, receipt)

    if pace is None:
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return latencies, texts
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = []
    for n, receipt in enumerate(plan):
        await asyncio.sleep(max(0.0, start + n * pace - loop.time()))
        tasks.append(asyncio.create_task(one(n, receipt)))
    await asyncio.gather(*tasks)
    return latencies, texts


async def run_backend(name: str, db: Database, distinct: int, fake: FakeUscis) -> list[Run]:
    clock = FakeClock()
    factory = UnitOfWorkFactory(db, clock)

    def engine(mode: CaseSourceMode, uscis: Uscis) -> Engine:
        services = Services(
            uow_factory=factory, mailer=FakeMailer(), clock=clock, case_source=mode, uscis=uscis
        )
        return Engine(services, all_dialogs())

    def fresh_uscis() -> Uscis:
        client = UscisClient(fake.url, CLIENT_ID, CLIENT_SECRET)
        return Uscis(
            source=client,
            db=db,
            budget=Budget(rate=RATE, daily=100_000),
            breaker=CircuitBreaker(clock),
        )

    plan = receipts(distinct) * REPEATS
    random.Random(20).shuffle(plan)
    arrivals = [("burst", plan, None), ("paced", plan[:distinct], PACE)]
    measured = []
    for arrival, lookups_plan, pace in arrivals:
        await fake.control(reset=True, rate=RATE)
        clock.advance(hours=2)  # what the previous arrival cached is stale
        uscis = fresh_uscis()
        started = time.perf_counter()
        latencies, texts = await lookups(
            engine(CaseSourceMode.USCIS, uscis), lookups_plan, f"{arrival}", pace
        )
        wall = time.perf_counter() - started
        stats = await fake.stats()
        await close_uscis(uscis)
        measured.append((arrival, lookups_plan, stats, latencies, texts, wall))

    # The reference: the burst's lookups of cases held in the local record.
    local = receipts(distinct)
    async with factory() as uow:
        for receipt in local:
            await create_case(uow, receipt_number=f"WAC{receipt[3:]}", form_type="I-130",
                              status="case_received")  # fmt: skip
        await uow.commit()
    local_plan = [f"WAC{r[3:]}" for r in plan]
    reference = fresh_uscis()
    local_latencies, local_texts = await lookups(
        engine(CaseSourceMode.LOCAL, reference), local_plan, "local"
    )
    await close_uscis(reference)
    if not all(ANSWERED in t for t in local_texts):
        raise SystemExit(f"{name}: a local lookup failed")
    runs = []
    for arrival, lookups_plan, stats, latencies, texts, wall in measured:
        answered = sum(ANSWERED in t for t in texts)
        busy = sum(BUSY in t for t in texts)
        outage = sum(OUTAGE in t and ANSWERED not in t for t in texts)
        runs.append(
            Run(
                backend=name,
                arrival=arrival,
                lookups=len(lookups_plan),
                receipts=len(set(lookups_plan)),
                requests=int(stats["requests"]),
                over_limit=int(stats["over_limit"]),
                answered=answered,
                busy=busy,
                outage=outage,
                other=len(texts) - answered - busy - outage,
                wall=wall,
                latencies=latencies,
                local_latencies=local_latencies,
            )
        )
    return runs


def report(runs: list[Run], seconds: float) -> tuple[str, str]:
    head = (
        "| backend | arrival | lookups (distinct) | requests to USCIS (no cache) | over-limit | "
        "cache hit rate | answered / busy / outage / other | p50 / p99 turn, ms "
        "(local record, burst) | wall, s |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = "".join(
        f"| {r.backend} | {r.arrival} | {r.lookups:,} ({r.receipts}) | "
        f"{r.requests:,} ({r.lookups:,}) | {r.over_limit} | {r.hit_rate:.0%} | "
        f"{r.answered} / {r.busy} / {r.outage} / {r.other} | "
        f"{pct(r.latencies, 0.5):.1f} / {pct(r.latencies, 0.99):.0f} "
        f"({pct(r.local_latencies, 0.5):.1f} / {pct(r.local_latencies, 0.99):.1f}) | "
        f"{r.wall:.1f} |\n"
        for r in runs
    )
    table = head + rows
    body = (
        f"{__doc__.split(chr(10) + chr(10), 1)[1].strip()}\n\n{table}\n"
        f"Machine: {cpu_model()}, {cores()} cores (shared); the whole run took {seconds:.0f} s.\n"
    )
    return body, table


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="250 lookups of 50 receipts")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    distinct = 50 if args.quick else 200
    started = time.perf_counter()
    fake = FakeUscis(free_port(), rate=RATE, auto=True)
    try:
        with tempfile.TemporaryDirectory() as folder:
            backends = Backends(Path(folder), with_postgres=not args.no_postgres)
            await backends.setup()
            try:
                per_backend = await backends.on_each(
                    "USCIS lookups", lambda name, db: run_backend(name, db, distinct, fake)
                )
                runs = [run for backend in per_backend for run in backend]
            finally:
                await backends.teardown()
    finally:
        fake.stop()
    body, table = report(runs, time.perf_counter() - started)
    failures = [f"{r.backend}: {r.over_limit} over-limit requests" for r in runs if r.over_limit]
    return record(SECTION, body, table, failures)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
