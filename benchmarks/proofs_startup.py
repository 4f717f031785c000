"""Start-up time of ``casebot serve`` on a seeded database (issue 8, part of ``bench_proofs``).

The database is the default SQLite file of a temporary working folder (``var/casebot.sqlite3``)
holding the demo data and ``cases`` more cases, so the server starts as it would in an office
that has been running for a while: the schema at its head, nothing to load. A run is timed from
starting the process to the first ``200`` from ``/healthz`` (polled every 10 ms); the median of
``runs`` is the figure. Beside it, in the same rounds (so a burst of other work on the shared
machine weighs on all alike): the bare interpreter (``python -c pass``) and ``python -c "import
aiohttp"``, each from start to exit.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Final

import aiohttp
from sqlalchemy import insert

import core.models  # noqa: F401  (every table registered)
from benchmarks.bench_web import clean_env, stop
from benchmarks.proofs_common import Proofs, mib, rss_bytes, verdict
from benchmarks.results import free_port
from core.cases.models import Case
from core.cases.statuses import STATUSES
from core.db import Database
from core.demo import load_demo
from core.schema import upgrade
from core.uow import UnitOfWorkFactory

__all__ = ["bench_startup", "casebot_command", "seed_folder"]

GOAL_SECONDS: Final = 2.0
POLL_SECONDS: Final = 0.01
START_TIMEOUT: Final = 30.0
FORMS: Final = ("I-485", "I-765", "I-130", "I-131", "N-400", "I-90")


def casebot_command() -> list[str]:
    """The installed ``casebot`` console script beside this interpreter, else ``python -m bot``."""
    script = Path(sys.executable).with_name("casebot")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "bot"]


async def seed_folder(folder: Path, cases: int) -> Path:
    """A working folder whose default database holds the demo data and ``cases`` more cases."""
    path = folder / "var" / "casebot.sqlite3"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(db)
        factory = UnitOfWorkFactory(db)
        await load_demo(factory)
        async with factory() as uow:
            # Rows inserted in bulk: what the importer would leave, without its hashing.
            await uow.session.execute(
                insert(Case),
                [{"receipt_number": f"SRC{2_500_000_000 + n:010d}", "form_type": FORMS[n % 6],
                  "status_code": STATUSES[n % len(STATUSES)].code}
                 for n in range(cases)],
            )  # fmt: skip
            await uow.commit()
    finally:
        await db.dispose()
    return folder


def time_command(command: list[str]) -> float:
    """Seconds from start to exit of a short command."""
    started = time.perf_counter()
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL, capture_output=True)  # noqa: S603
    return time.perf_counter() - started


def spawn_serve(folder: Path, port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """``casebot serve`` in ``folder`` (its default database), with no casebot settings."""
    return subprocess.Popen(  # noqa: S603  (our own console script, fixed arguments)
        [*casebot_command(), "serve", "--port", str(port)],
        cwd=folder,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def time_serve(folder: Path, client: aiohttp.ClientSession) -> tuple[float, int]:
    """Seconds from starting ``casebot serve`` in ``folder`` to its first 200 on /healthz, and
    the server's resident memory then."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/healthz"
    with (folder / "serve.log").open("ab") as log:
        started = time.perf_counter()
        process = spawn_serve(folder, port, log)
        try:
            while time.perf_counter() - started < START_TIMEOUT:
                if process.poll() is not None:
                    raise RuntimeError(f"casebot serve exited with status {process.returncode}")
                try:
                    async with client.get(url) as reply:
                        if reply.status == 200:
                            return time.perf_counter() - started, rss_bytes(process.pid)
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(POLL_SECONDS)
            raise RuntimeError(f"casebot serve: no 200 from /healthz within {START_TIMEOUT:.0f} s")
        finally:
            await asyncio.to_thread(stop, process)


async def bench_startup(proofs: Proofs, folder: Path, cases: int, runs: int) -> None:
    print(f"start-up: seeding {cases:,} cases...", file=sys.stderr)
    await seed_folder(folder, cases)
    python = [sys.executable, "-c"]
    bare, aiohttp_import, serve, memory = [], [], [], []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as client:
        await time_serve(folder, client)  # warm-up: the file cache, compiled bytecode
        for n in range(runs):
            print(f"start-up run {n + 1} of {runs}...", file=sys.stderr)
            bare.append(await asyncio.to_thread(time_command, [*python, "pass"]))
            aiohttp_import.append(
                await asyncio.to_thread(time_command, [*python, "import aiohttp"])
            )
            seconds, rss = await time_serve(folder, client)
            serve.append(seconds)
            memory.append(rss)
    median = statistics.median(serve)
    proofs.add(
        f"start-up of `casebot serve` to /healthz 200, demo data + {cases:,} cases (SQLite)",
        "SQLite",
        f"**{median:.2f} s** (median of {runs}; {min(serve):.2f} to {max(serve):.2f} s); "
        f"RSS when ready {mib(statistics.median(memory))}",
        f'`python -c pass`: {statistics.median(bare):.2f} s; `python -c "import aiohttp"`: '
        f"{statistics.median(aiohttp_import):.2f} s (medians of {runs}, same rounds)",
        verdict(median < GOAL_SECONDS, f"< {GOAL_SECONDS:.0f} s"),
    )
    proofs.note(
        f"Start-up: `{' '.join(Path(c).name for c in casebot_command())} serve` on the default "
        f"SQLite file of a working folder seeded with the demo data and {cases:,} cases (schema "
        "at its head: nothing to migrate or load), no `CASEBOT_*`/`TELEGRAM_*` variable; timed "
        "from starting the process to the first 200 from `/healthz` (polled every "
        f"{POLL_SECONDS * 1000:.0f} ms), after one untimed warm-up start. The references run "
        "in the same rounds, from start to exit."
    )
