"""Sign-in turns through the engine, bound by Argon2id, and the cap that bounds their memory.

Part of ``benchmarks.bench_proofs`` (issue 8). A sign-in turn is the password step of the
``link_account`` dialog: the person typed "sign in" and an email earlier (untimed), then types the
password; ``start_sign_in`` verifies it with Argon2id (m=19 MiB, t=2, p=1) and opens the
second-factor challenge. Every account is a copy of one real registration (its Argon2id hash,
authenticator secret and backup code), so seeding costs one hash, not one per account.

The memory proof runs in child processes (``python -m benchmarks.proofs_signin --memory-child
MODE``), one per mode, so that each has its own peak resident memory: ``capped`` (as shipped),
``traced`` (the same under tracemalloc, for the Python side's peak), ``uncapped``
(``MAX_CONCURRENT_HASHES`` raised: only the event loop's default thread pool bounds the hashes in
flight) and ``unbounded`` (no cap and a thread per sign-in).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, insert, select

import core.models  # noqa: F401  (every table registered)
from benchmarks.bench_core import Backends, counting_verifies
from benchmarks.proofs_common import (
    MIB,
    Proofs,
    clear_peak_rss,
    mib,
    percentile,
    rss_bytes,
    verdict,
)
from benchmarks.results import cores
from bot.app import App
from bot.dialogs.model import Incoming
from bot.engine import Engine
from bot.settings import Settings
from core.accounts import passwords
from core.accounts.models import Account, CodePurpose, EmailCode
from core.accounts.questions import RESET_QUESTION_IDS
from core.accounts.service import register_account
from core.clock import SystemClock
from core.db import Base, Database
from core.uow import UnitOfWorkFactory

__all__ = ["ARGON2_MIB", "bench_signin", "bench_signin_memory"]

PASSWORD: Final = "sunflower-passport-42"  # noqa: S105  (the benchmark accounts' password)
CHANNEL: Final = "bench"
ARGON2_MIB: Final = passwords.PASSWORD_HASHER.memory_cost / 1024  # 19 MiB per hash in flight
SEQUENTIAL: Final = 20  # sign-in turns one at a time: the per-turn reference
MODES: Final = ("capped", "traced", "uncapped", "unbounded")
CHILD_TIMEOUT: Final = 180.0


@dataclass
class SignInLoad:
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    in_flight: int = 0  # the most Argon2id verifications running at once

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


def bench_app(db: Database, folder: Path) -> App:
    """The real composition root on this database (mail to a Maildir under ``folder``)."""
    settings = Settings(database_url=db.url, var_dir=folder)
    return App(settings=settings, db=db, uow_factory=UnitOfWorkFactory(db, SystemClock()))


async def seed_accounts(app: App, count: int) -> list[str]:
    """``count`` accounts with the password PASSWORD; returns their emails."""
    emails = [f"signin{n}@example.com" for n in range(count)]
    registration = await register_account(
        app.uow_factory,
        email=emails[0],
        password=PASSWORD,
        reset_answers={RESET_QUESTION_IDS[0]: "maple"},
        email_code=None,
        skip_email_verification=True,
    )
    table = Base.metadata.tables["accounts"]
    async with app.uow_factory() as uow:
        # By column name, through the table: the row as stored (the authenticator secret sealed
        # as registration sealed it), whatever the mapped attributes are called.
        row = (
            await uow.session.execute(select(table).where(table.c.id == registration.account_id))
        ).one()
        template = {k: v for k, v in row._mapping.items() if k not in ("id", "email")}
        if count > 1:
            await uow.session.execute(
                insert(table), [{**template, "email": email} for email in emails[1:]]
            )
        await uow.commit()
    return emails


async def bounded(count: int, limit: int, one: Callable[[int], Awaitable[None]]) -> None:
    """``one(i)`` for every i below ``count``, at most ``limit`` at once."""
    numbers = iter(range(count))

    async def worker() -> None:
        for i in numbers:
            await one(i)

    await asyncio.gather(*(worker() for _ in range(min(limit, count))))


async def to_password_step(engine: Engine, chats: list[str], emails: list[str]) -> None:
    """Each chat types "sign in" and its email (untimed): it now waits for the password."""

    async def one(i: int) -> None:
        for text in ("sign in", emails[i]):
            await engine.handle(Incoming(CHANNEL, chats[i], text=text, locale_hint="en"))

    await bounded(len(chats), 32, one)


async def password_turns(engine: Engine, chats: list[str], concurrency: int) -> SignInLoad:
    """Every chat types its password, ``concurrency`` of them at once; each turn is timed."""
    load = SignInLoad()

    async def one(i: int) -> None:
        started = time.perf_counter()
        await engine.handle(Incoming(CHANNEL, chats[i], text=PASSWORD, locale_hint="en"))
        load.latencies.append(time.perf_counter() - started)

    with counting_verifies() as counter:
        started = time.perf_counter()
        await bounded(len(chats), concurrency, one)
        load.elapsed = time.perf_counter() - started
    load.in_flight = counter[1]
    return load


async def challenges_opened(app: App, emails: list[str]) -> tuple[int, int]:
    """(accounts among ``emails`` with an open sign-in challenge, failed logins among them):
    a password turn that reached the code step opened exactly one challenge, and failed none."""
    async with app.uow_factory() as uow:
        opened = await uow.session.scalar(
            select(func.count(func.distinct(EmailCode.email))).where(
                EmailCode.purpose == CodePurpose.SIGN_IN, EmailCode.email.in_(emails)
            )
        )
        failed = await uow.session.scalar(
            select(func.coalesce(func.sum(Account.failed_logins), 0)).where(
                Account.email.in_(emails)
            )
        )
    return int(opened or 0), int(failed or 0)


def argon2_ceiling(repeat: int, threads: int) -> tuple[float, float]:
    """Raw verifications per second: on one thread, and on ``threads`` threads at once (the
    most the sign-ins can use: min(cap, cores))."""
    stored = passwords.hash_password(PASSWORD)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        passwords.verify_password(stored, PASSWORD)
        times.append(time.perf_counter() - started)
    single = 1 / statistics.median(times)
    count = repeat * threads
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        started = time.perf_counter()
        done = list(pool.map(lambda _: passwords.verify_password(stored, PASSWORD), range(count)))
        parallel = len(done) / (time.perf_counter() - started)
    return single, parallel


async def bench_signin(
    proofs: Proofs, backends: Backends, folder: Path, chats: int, repeat: int
) -> None:
    """Sign-in turns on each backend, beside the raw Argon2id rates measured in the same run."""
    cap, ncores = passwords.MAX_CONCURRENT_HASHES, cores()
    slots = min(cap, ncores)
    proofs.note(
        f"Sign-in turns: {SEQUENTIAL + chats} accounts (copies of one registration), each chat "
        'first types "sign in" and its email (untimed); the timed turn is the password, which '
        "runs `start_sign_in` (an Argon2id verification in a worker thread, behind the "
        "semaphore of `core.accounts.passwords`) and opens the second-factor challenge. After "
        "the run every account must have exactly one open challenge and no failed login. The "
        f"turns run {chats} at once, so p50/p99 include the queue: a sign-in waits for the "
        "verifications ahead of it. The ceiling is what the machine's Argon2id allows: "
        "min(MAX_CONCURRENT_HASHES, cores) verifications at once, measured with raw "
        "`verify_password` calls on that many threads just before and just after the load "
        "(the mean of both: a shared machine's other work weighs on the load and on its "
        "reference alike)."
    )
    for name, fresh in backends.each():
        print(f"sign-in turns on {name}...", file=sys.stderr)
        single, ceiling = argon2_ceiling(repeat, slots)
        db = await fresh()
        app = bench_app(db, folder)
        try:
            engine = app.build_engine()
            emails = await seed_accounts(app, SEQUENTIAL + chats)
            names = [f"signin-{name}-{n}" for n in range(len(emails))]
            await to_password_step(engine, names, emails)
            alone = await password_turns(engine, names[:SEQUENTIAL], 1)
            load = await password_turns(engine, names[SEQUENTIAL:], chats)
            opened, failed = await challenges_opened(app, emails)
        finally:
            await app.close()
        # Measured again after the load: the mean of both stands for the load's time.
        single_after, ceiling_after = argon2_ceiling(repeat, slots)
        single, ceiling = (single + single_after) / 2, (ceiling + ceiling_after) / 2
        proofs.check(
            (opened, failed) == (len(emails), 0),
            f"sign-in on {name}: {opened} of {len(emails)} sign-ins reached the code step, "
            f"{failed} failed logins",
        )
        proofs.add(
            f"sign-in turns (password step, Argon2id), {chats} chats at once",
            name,
            f"{chats} turns in {load.elapsed:.2f} s = **{load.rate:.1f} sign-ins/s** "
            f"({load.rate / ceiling:.0%} of the ceiling); p50 "
            f"{percentile(load.latencies, 0.5) * 1000:,.0f} ms, p99 "
            f"{percentile(load.latencies, 0.99) * 1000:,.0f} ms; at most **{load.in_flight}** "
            f"verification(s) in flight (cap {cap})",
            f"raw Argon2id verify (ceiling), before and after the load: {ceiling:.1f}/s on "
            f"{slots} threads at once, {single:.1f}/s on one; one sign-in turn at a time: p50 "
            f"{percentile(alone.latencies, 0.5) * 1000:.0f} ms (one verify {1000 / single:.0f} ms)",
            verdict(load.in_flight >= slots, f"all {slots} hash slots used"),
        )
        proofs.note(
            "A sign-in turn stops when it needs its Argon2id verification: the turn is undone, "
            "the verification runs outside any transaction (a worker thread, within the cap), "
            "and the turn runs again and finds the result (`Engine._turn`, "
            "`core.accounts.passwords.HashDeferral`). So a verification holds neither SQLite's "
            "write queue nor a pooled PostgreSQL connection, and other chats' turns do not wait "
            "for it (`tests/integration/test_signin_concurrency.py`). Until 2026-11-22 it ran "
            "inside the turn: on SQLite sign-ins used 1 hash slot of 2, so they never beat the "
            "one-thread rate, and every other chat's turn waited behind each verification."
        )


# --- memory: child processes, one per mode --------------------------------------------------


async def memory_child(mode: str, chats: int, database_url: str | None) -> dict[str, Any]:
    """Run ``chats`` password turns at once in this (fresh) process; report its memory."""
    if mode in ("uncapped", "unbounded"):
        setattr(passwords, "MAX_CONCURRENT_HASHES", 1_000_000)  # noqa: B010  (Final, on purpose)
    if mode == "unbounded":
        asyncio.get_running_loop().set_default_executor(
            concurrent.futures.ThreadPoolExecutor(max_workers=chats)
        )
    with tempfile.TemporaryDirectory(prefix="casebot-bench-signin-") as folder:
        if database_url is None:
            database_url = f"sqlite+aiosqlite:///{folder}/signin.sqlite3"
        db = Database(database_url)
        from core.schema import upgrade

        await upgrade(db)
        app = bench_app(db, Path(folder))
        try:
            engine = app.build_engine()
            emails = await seed_accounts(app, chats + 1)
            names = [f"memory-{n}" for n in range(len(emails))]
            await to_password_step(engine, names, emails)
            await password_turns(engine, names[:1], 1)  # every code path loaded once
            cleared = clear_peak_rss()
            baseline = rss_bytes()
            if mode == "traced":
                tracemalloc.start()
            load = await password_turns(engine, names[1:], chats)
            traced = tracemalloc.get_traced_memory()[1] if mode == "traced" else 0
            tracemalloc.stop()
            peak = rss_bytes(peak=True)
            opened, failed = await challenges_opened(app, emails)
        finally:
            await app.close()
    return {
        "mode": mode,
        "baseline": baseline,
        "peak": peak,
        "peak_cleared": cleared,
        "traced_peak": traced,
        "in_flight": load.in_flight,
        "elapsed": load.elapsed,
        "reached_code_step": opened,
        "failed_logins": failed,
        "accounts": len(emails),
    }


def run_child(mode: str, chats: int, database_url: str | None) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.proofs_signin", "--memory-child", mode]
    command += ["--chats", str(chats)]
    if database_url is not None:
        command += ["--database-url", database_url]
    done = subprocess.run(  # noqa: S603  (our own interpreter and fixed arguments)
        command, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory child {mode}: status {done.returncode}: {done.stderr[-800:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def bench_signin_memory(
    proofs: Proofs, backends: Backends, chats: int, database_url: str | None, backend: str
) -> None:
    """Peak resident memory of ``chats`` concurrent sign-ins, with the cap and without it."""
    cap = passwords.MAX_CONCURRENT_HASHES
    results = {}
    for mode in MODES:
        print(f"sign-in memory, {mode}...", file=sys.stderr)
        if database_url is not None:
            await (await backends.postgres()).dispose()  # empty again for this child
        results[mode] = await asyncio.to_thread(run_child, mode, chats, database_url)
        got = results[mode]
        proofs.check(
            (got["reached_code_step"], got["failed_logins"]) == (got["accounts"], 0),
            f"sign-in memory ({mode}): {got['reached_code_step']} of {got['accounts']} reached "
            f"the code step, {got['failed_logins']} failed logins",
        )
    capped, traced = results["capped"], results["traced"]
    growth = capped["peak"] - capped["baseline"]
    bound = cap * ARGON2_MIB * MIB + traced["traced_peak"]
    proofs.check(capped["in_flight"] <= cap, f"{capped['in_flight']} hashes in flight > cap {cap}")
    proofs.add(
        f"memory of {chats} concurrent sign-ins, MAX_CONCURRENT_HASHES = {cap} (as shipped)",
        backend,
        f"peak RSS {mib(capped['peak'])} = baseline + **{mib(growth)}**; at most "
        f"{capped['in_flight']} verifications in flight; {chats} sign-ins in "
        f"{capped['elapsed']:.1f} s",
        f"bound: cap × {ARGON2_MIB:.0f} MiB + the Python side's peak (tracemalloc, same turns): "
        f"{cap} × {ARGON2_MIB:.0f} + {mib(traced['traced_peak'])} = {mib(bound)}",
        verdict(growth <= bound, "growth ≤ bound"),
    )
    for mode, how in (
        ("uncapped", "cap lifted: the event loop's default thread pool is the only bound"),
        ("unbounded", f"cap lifted and a thread per sign-in ({chats} threads)"),
    ):
        got = results[mode]
        grown = got["peak"] - got["baseline"]
        proofs.add(
            f"the same without the cap: {how}",
            backend,
            f"peak RSS {mib(got['peak'])} = baseline + **{mib(grown)}** "
            f"({grown / max(growth, 1):.1f}× the capped growth); at most {got['in_flight']} "
            f"verifications in flight; {chats} sign-ins in {got['elapsed']:.1f} s",
            f"{got['in_flight']} × {ARGON2_MIB:.0f} MiB = "
            f"{mib(got['in_flight'] * ARGON2_MIB * MIB)}",
        )
    unbounded = results["unbounded"]["in_flight"]
    if unbounded < chats:
        proofs.note(
            f"Without the cap and with a thread per sign-in, at most {unbounded} of {chats} "
            "verifications ran at once: the others had finished or had not reached theirs yet "
            "(each sign-in turn runs its statements first, one turn at a time on SQLite's write "
            "queue or within the pool's connections on PostgreSQL)."
        )
    proofs.note(
        f"Sign-in memory: each mode runs in its own `python -m benchmarks.proofs_signin "
        f"--memory-child MODE` process on {backend}: {chats} chats are brought to the password "
        "step, the peak RSS is reset to the current RSS (Linux `clear_refs`, the baseline), and "
        f"the {chats} password turns run at once; the peak (`VmHWM`) is read afterwards. Argon2id "
        "allocates its 19 MiB outside Python's allocator, so tracemalloc (a separate run, its "
        "own bookkeeping would inflate the RSS) gives only the Python side of the bound."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description="the memory child of the sign-in benchmark")
    parser.add_argument("--memory-child", choices=MODES, required=True)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    result = asyncio.run(memory_child(args.memory_child, args.chats, args.database_url))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
