"""Benchmark of text notifications (issue 22): the ``sms`` outbox through the dispatcher and
Twilio's Messages API, against the fake Twilio (``tests/sms_fake.py``, its own process).

Run ``.venv/bin/python -m benchmarks.bench_sms [--messages N] [--no-postgres]``.

N status-change texts (default 10,000) to N distinct numbers are queued at once; one in five
names a time zone where it is night now (quiet hours), the others one where it is midday. The
dispatcher (``OutboxDispatcher`` + ``SmsSender`` + ``TwilioSms``, the batch and lease of
``casebot serve``) runs passes until nothing is due. Figures: texts per second from the first
pass to the last, and the properties: every daytime text accepted by the fake once (0 lost, 0
doubled), and none of the night ones sent (0 outside quiet hours: each is pending, deferred to
08:00 in its zone). The run fails, and leaves RESULTS.md alone, when a property does not hold.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from sqlalchemy import select

from benchmarks.bench_core import Backends
from benchmarks.results import cores, cpu_model, free_port, record
from bot.notify.dispatcher import OutboxDispatcher
from bot.notify.sms import SmsSender
from bot.sms.twilio import TwilioSms
from core.clock import SystemClock
from core.db import Database
from core.outbox.models import OutboxMessage, OutboxStatus
from core.uow import UnitOfWorkFactory
from tests.sms_fake import ACCOUNT, FROM, TOKEN, FakeTwilio

SECTION: Final = "Text messages (issue 22)"
NIGHT_EVERY: Final = 5  # one text in five is in its quiet hours


def zone_at(hour: int) -> str:
    """An ``Etc/GMT`` zone where the local hour is ``hour`` now."""
    offset = (hour - datetime.now(UTC).hour + 12) % 24 - 12  # -12..11
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


def number(n: int) -> str:
    return f"+1202{2_000_000 + n:07d}"


async def queue(factory: UnitOfWorkFactory, messages: int) -> set[str]:
    """The texts, written at once; returns the numbers of the night ones."""
    day, night = zone_at(12), zone_at(2)
    nights: set[str] = set()
    async with factory() as uow:
        now = datetime.now(UTC)
        for n in range(messages):
            quiet = n % NIGHT_EVERY == 0
            if quiet:
                nights.add(number(n))
            uow.session.add(
                OutboxMessage(
                    kind="case_status_changed",
                    channel="sms",
                    address=number(n),
                    payload={
                        "receipt_number": f"IOE09{n:08d}",
                        "status_code": "approved",
                        "changed_at": now.isoformat(),
                        "time_zone": night if quiet else day,
                    },
                    dedupe_key=f"bench:{n}",
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        await uow.commit()
    return nights


async def run(name: str, db: Database, fake: FakeTwilio, messages: int) -> dict[str, object]:
    await fake.control(reset=True)
    factory = UnitOfWorkFactory(db)
    nights = await queue(factory, messages)
    provider = TwilioSms(fake.url, ACCOUNT, TOKEN, FROM)
    dispatcher = OutboxDispatcher(
        factory, SystemClock(), [SmsSender(provider, factory, SystemClock())]
    )
    started = time.perf_counter()
    passes = 0
    try:
        while (await dispatcher.run_once("sms")).claimed:
            passes += 1
    finally:
        await provider.close()
    elapsed = time.perf_counter() - started
    texts = (await fake.state())["messages"]
    to = Counter(m["to"] for m in texts)
    async with factory() as uow:
        rows = list(await uow.session.scalars(select(OutboxMessage)))
    day_rows = [r for r in rows if r.address not in nights]
    return {
        "backend": name,
        "sent": len(texts),
        "rate": len(texts) / elapsed,
        "elapsed": elapsed,
        "passes": passes,
        "doubled": sum(c - 1 for c in to.values() if c > 1),
        "lost": sum(r.status is not OutboxStatus.SENT for r in day_rows)
        + sum(1 for r in day_rows if to[r.address] == 0),
        "night_sent": sum(to[n] for n in nights),
        "night_pending": sum(
            r.status is OutboxStatus.PENDING and r.address in nights for r in rows
        ),
        "nights": len(nights),
    }


async def main_async(messages: int, with_postgres: bool) -> int:
    load = os.getloadavg()[0]
    fake = FakeTwilio(free_port())
    with tempfile.TemporaryDirectory() as folder:
        backends = Backends(Path(folder), with_postgres)
        await backends.setup()
        try:
            results = await backends.on_each("sms", lambda name, db: run(name, db, fake, messages))
        finally:
            await backends.teardown()
            fake.stop()
    failures = []
    for r in results:
        if r["doubled"] or r["lost"] or r["night_sent"]:
            failures.append(f"{r['backend']}: {r}")
        if r["night_pending"] != r["nights"]:
            failures.append(f"{r['backend']}: night texts not all pending: {r}")
    table = "\n".join(
        [
            "| backend | texts queued | sent (daytime) | texts/s | passes | lost | doubled | "
            "sent in quiet hours (deferred) |",
            "|---|---|---|---|---|---|---|---|",
            *(
                f"| {r['backend']} | {messages:,} | {r['sent']:,} | **{r['rate']:,.0f}** | "
                f"{r['passes']} | {r['lost']} | {r['doubled']} | {r['night_sent']} "
                f"({r['night_pending']:,}) |"
                for r in results
            ),
        ]
    )
    body = f"""- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- machine: {cores()} cores, {cpu_model()}; Python {sys.version.split()[0]}
- command: `python -m benchmarks.bench_sms --messages {messages}`

{table}

How to read it: {messages:,} status-change texts to as many numbers, one in {NIGHT_EVERY} in a
time zone where it is night. One dispatcher (the sender is exclusive: one worker sends texts)
in passes of the `casebot serve` batch (50), each text to Twilio's API (the fake, its own
process, over HTTP with basic auth) and its `sent` mark committed before the next of the same
number. Every pass screens its batch: the opted-out table and the number's texts today, per
text. The night texts are deferred to 08:00 in their zone, none sent. Load average at the
start: {load:.2f}. Either rate is far above what one US sending number may send
(a long code about 1 segment a second; Twilio queues what is over)."""
    return record(SECTION, body, table, failures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    sys.exit(asyncio.run(main_async(args.messages, not args.no_postgres)))


if __name__ == "__main__":
    main()
