"""Benchmarks of issue 8: sign-in turns, booking contention, memory, start-up.

Run ``.venv/bin/python -m benchmarks.bench_proofs [--quick] [--no-postgres]`` (or ``make
bench``). Every figure stands beside a reference measured in the same run, and says whether its
goal was met:

1. Sign-in turns through the engine (Argon2id bound), many chats at once, on SQLite and
   PostgreSQL, beside raw Argon2id verifications on this machine; and the memory of 200
   concurrent sign-ins with ``MAX_CONCURRENT_HASHES`` and without it (``proofs_signin``).
2. Booking contention, 1,000 clients racing for 50 slots on both databases: the core
   benchmark's own scenario (``bench_core.bench_booking``), reported here too.
3. Bytes stored per conversation and per 1,000 conversations, and the memory of a real
   ``casebot serve`` with 1,000 web chat sessions and 1,000 WebSockets (``proofs_server``).
4. Start-up time of ``casebot serve`` on a seeded database, goal under 2 s
   (``proofs_startup``).

It writes the section "Proofs (issue 8)" of ``benchmarks/RESULTS.md``, and exits 1 recording
nothing when an invariant breaks (a sign-in that did not reach its code step, a booking count
other than the seats, an error, a server that stopped answering). A goal missed is recorded as
missed. PostgreSQL is reached at ``CASEBOT_TEST_POSTGRES_URL`` (a scratch database is created
and dropped). Servers listen on 127.0.0.1 only; every load is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from benchmarks.bench_core import SLOTS, Backends, Report, bench_booking
from benchmarks.proofs_common import Proofs, verdict
from benchmarks.proofs_server import bench_server
from benchmarks.proofs_signin import bench_signin, bench_signin_memory
from benchmarks.proofs_startup import bench_startup
from benchmarks.results import cores, cpu_model, record

SECTION: Final = "Proofs (issue 8)"


@dataclass(frozen=True)
class Sizes:
    signin_chats: int
    memory_chats: int
    booking_clients: int
    sessions: int
    seeded_cases: int
    startup_runs: int
    argon2_repeat: int


FULL: Final = Sizes(200, 200, 1_000, 1_000, 10_000, 5, 10)
QUICK: Final = Sizes(50, 50, 200, 200, 2_000, 3, 5)


async def booking(proofs: Proofs, backends: Backends, clients: int) -> None:
    """The core benchmark's booking race, as it runs there, its rows carried over."""
    report = Report()
    await backends.on_each(
        "booking race", lambda name, db: bench_booking(report, name, db, clients)
    )
    for failure in report.failures:
        proofs.check(False, failure)
    ok = not report.failures
    for figure, backend, result, reference in report.rows:
        goal = f"exactly {SLOTS} bookings, 0 errors"
        proofs.add(figure, backend, result, reference, verdict(ok, goal))
    proofs.note(
        f"Booking contention: `bench_core.bench_booking` itself ({clients:,} clients, each with "
        f"its own account, case and unit of work, racing for {SLOTS} one-seat slots; a loser "
        "lists the free slots and tries a random one, up to 3 attempts). The run fails unless "
        f"exactly {SLOTS} are booked with no error but SlotTaken, recounted in the database "
        "afterwards. The reference: the same number of bookings one at a time at another office."
    )


async def run(args: argparse.Namespace) -> int:
    sizes = QUICK if args.quick else FULL
    proofs = Proofs()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="casebot-bench-proofs-") as name:
        folder = Path(name)
        backends = Backends(folder, with_postgres=not args.no_postgres)
        await backends.setup()
        try:
            await booking(proofs, backends, sizes.booking_clients)
            await bench_signin(proofs, backends, folder, sizes.signin_chats, sizes.argon2_repeat)
            # Memory on PostgreSQL when there is one: there the sign-ins truly run at once.
            backend = "PostgreSQL" if backends.pg_url is not None else "SQLite"
            await bench_signin_memory(
                proofs, backends, sizes.memory_chats, backends.pg_url, backend
            )
            await bench_server(proofs, backends, folder, sizes.sessions)
        finally:
            await backends.teardown()
        startup = folder / "startup"
        startup.mkdir()
        await bench_startup(proofs, startup, sizes.seeded_cases, sizes.startup_runs)
    total = time.perf_counter() - started

    command = "python -m benchmarks.bench_proofs" + "".join(f" {a}" for a in sys.argv[1:])
    versions = f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    if backends.pg_version:
        versions += f", PostgreSQL {backends.pg_version} (local, same machine)"
    body = "\n".join(
        [
            f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            f"- machine: {cores()} cores (nproc), {cpu_model()}; {versions}; load average "
            f"{load:.2f} at the start (the machine is shared: compare each figure with its "
            "reference, not with another run)",
            f"- command: `{command}` (whole run {total:.0f} s)",
            "",
            proofs.table(),
            "",
            "How to read it:",
            *(f"- {note}" for note in proofs.notes),
        ]
    )
    return record(SECTION, body, proofs.table(), proofs.failures)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer chats, clients and runs")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
