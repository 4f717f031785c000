"""Benchmarks of the system of record (issue 2): booking under contention, CSV import, Argon2id.

Run ``.venv/bin/python -m benchmarks.bench_core [--quick] [--no-postgres]`` (or ``make bench``).
It prints a Markdown table and writes it to the section "Core (issue 2)" of
``benchmarks/RESULTS.md``. Every figure stands beside a reference measured in the same run, since
absolute times drift on a shared machine. It exits with status 1, and records nothing, when an
invariant breaks (a booking count other than the number of seats, an unexpected error, an import
that does not create or leave unchanged every row, hashes running beyond their bound).

PostgreSQL is reached at ``CASEBOT_TEST_POSTGRES_URL`` (default: the local server, database
``test``); the benchmark creates its own scratch database there and drops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final, TypeVar

from sqlalchemy import event, func, insert, select, text

import core.models  # noqa: F401  (every table registered)
from benchmarks.results import cores, cpu_model, record
from core.accounts import passwords
from core.accounts.models import Account
from core.appointments import add_office, book_appointment, list_slots
from core.appointments.models import Appointment, AppointmentKind, Office, SlotUsage
from core.cases.models import Case
from core.cases.statuses import STATUSES
from core.db import Base, Database
from core.errors import SlotTaken
from core.importer import import_cases, parse_cases_csv
from core.schema import upgrade
from core.uow import UnitOfWorkFactory

T = TypeVar("T")

SECTION: Final = "Core (issue 2)"
POSTGRES_URL: Final = os.environ.get(
    "CASEBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
NOW: Final = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York
SLOTS: Final = 50
MAX_TRIES: Final = 3  # booking attempts per client: its round-robin slot, then random free ones
CONCURRENT_VERIFIES: Final = 8
ACCESS_CODE_EVERY: Final = 10  # one CSV row in ten carries an Online Access Code (PBKDF2)
KIND: Final = AppointmentKind.BIOMETRICS
DAYS: Final = (NOW.date(), NOW.date() + timedelta(days=14))  # local days to take slots from


class FixedClock:
    """A clock that stands still on a business day, so the offices have slots to offer."""

    def now(self) -> datetime:
        return NOW


@dataclass
class Report:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, benchmark: str, backend: str, result: str, reference: str) -> None:
        self.rows.append((benchmark, backend, result, reference))
        print(f"  {benchmark} [{backend}]: {result} | {reference}", file=sys.stderr)

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.failures.append(what)
            print(f"  INVARIANT BROKEN: {what}", file=sys.stderr)

    def record(self, section: str, body: str) -> int:
        """Write ``body`` as the results file's ``section`` unless an invariant broke; the exit
        status (1: broken, nothing written)."""
        return record(section, body, self.table(), self.failures)

    def table(self) -> str:
        lines = [
            "| benchmark | backend | result | reference (same run) |",
            "|---|---|---|---|",
        ]
        lines += [f"| {' | '.join(row)} |" for row in self.rows]
        return "\n".join(lines)


async def timed(work: Awaitable[T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = await work
    return result, time.perf_counter() - started


# --- databases -----------------------------------------------------------------------------


@contextmanager
def counting_statements(db: Database) -> Iterator[list[int]]:
    """Count the statements the engine sends (BEGIN IMMEDIATE and savepoints included)."""
    count = [0]

    def on_execute(*_: object) -> None:
        count[0] += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        yield count
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", on_execute)


async def round_trip(db: Database, count: int = 300) -> float:
    """Seconds per trivial query through a session: the driver's round trip (on SQLite, the hop
    to aiosqlite's thread and back), the reference beside each database figure."""
    async with UnitOfWorkFactory(db, FixedClock())() as uow:
        await uow.session.execute(text("SELECT 1"))
        started = time.perf_counter()
        for _ in range(count):
            await uow.session.execute(text("SELECT 1"))
        return (time.perf_counter() - started) / count


class Backends:
    """A migrated SQLite template (copied for each scenario) and a PostgreSQL scratch database
    (emptied for each scenario)."""

    def __init__(self, folder: Path, with_postgres: bool) -> None:
        self.folder = folder
        self.template = folder / "template.sqlite3"
        self.pg_name = f"casebot_bench_{uuid.uuid4().hex[:10]}"
        self.pg_url = f"{POSTGRES_URL.rpartition('/')[0]}/{self.pg_name}" if with_postgres else None
        self.pg_version = ""
        self._copies = 0

    async def setup(self) -> None:
        template = Database(f"sqlite+aiosqlite:///{self.template}")
        await upgrade(template)
        await template.dispose()
        if self.pg_url is not None:
            await self._admin(f'CREATE DATABASE "{self.pg_name}"')
            db = Database(self.pg_url)
            await upgrade(db)
            async with db.engine.connect() as conn:
                self.pg_version = str(await conn.scalar(text("SHOW server_version")))
            await db.dispose()

    async def teardown(self) -> None:
        if self.pg_url is not None:
            await self._admin(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')

    async def _admin(self, statement: str) -> None:
        admin = Database(POSTGRES_URL)
        try:
            async with admin.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(statement))
        finally:
            await admin.dispose()

    async def sqlite(self) -> Database:
        self._copies += 1
        path = self.folder / f"bench{self._copies}.sqlite3"
        shutil.copyfile(self.template, path)
        return Database(f"sqlite+aiosqlite:///{path}")

    async def postgres(self) -> Database:
        assert self.pg_url is not None
        db = Database(self.pg_url)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with db.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return db

    async def on_each(self, what: str, bench: Callable[[str, Database], Awaitable[T]]) -> list[T]:
        """Run ``bench(backend name, fresh database)`` on each backend in turn, the database
        disposed of afterwards; the results in backend order."""
        results: list[T] = []
        for name, fresh in self.each():
            print(f"{what} on {name}...", file=sys.stderr)
            db = await fresh()
            try:
                results.append(await bench(name, db))
            finally:
                await db.dispose()
        return results

    def each(self) -> list[tuple[str, Callable[[], Awaitable[Database]]]]:
        backends: list[tuple[str, Callable[[], Awaitable[Database]]]] = [("SQLite", self.sqlite)]
        if self.pg_url is not None:
            backends.append(("PostgreSQL", self.postgres))
        return backends


# --- a. booking contention -----------------------------------------------------------------


async def seed_booking(factory: UnitOfWorkFactory, accounts: int) -> dict[str, list[datetime]]:
    """Two offices with one seat per slot ("RACE" for the race, "SEQ" for the reference), and
    ``accounts`` accounts, each with its own case ready for biometrics (case id == account id).
    Returns the first ``SLOTS`` bookable slots of each office."""
    async with factory() as uow:
        for code in ("RACE", "SEQ"):
            await add_office(
                uow, code=code, name=f"{code} ASC", address="26 Federal Plaza", city="New York",
                state="NY", zip_code="10278", timezone="America/New_York", capacity=1,
            )  # fmt: skip
        # Rows inserted directly: hashing a thousand passwords is not what is measured here.
        await uow.session.execute(
            insert(Account),
            [{"id": n, "email": f"client{n}@example.com", "password_hash": "x"}
             for n in range(1, accounts + 1)],
        )  # fmt: skip
        await uow.session.execute(
            insert(Case),
            [{"id": n, "receipt_number": f"IOE{n:010d}", "form_type": "I-485",
              "status_code": "fingerprint_fee_received", "owner_id": n}
             for n in range(1, accounts + 1)],
        )  # fmt: skip
        await uow.commit()
    slots = {}
    async with factory() as uow:
        for code in ("RACE", "SEQ"):
            views = await list_slots(uow, code, DAYS, KIND)
            slots[code] = [view.starts_at for view in views[:SLOTS]]
    return slots


async def try_booking(factory: UnitOfWorkFactory, office: str, account: int, at: datetime) -> bool:
    """One attempt in its own unit of work: True if booked, False on SlotTaken (anything else
    propagates)."""
    async with factory() as uow:
        try:
            await book_appointment(
                uow, account_id=account, office_id=office, starts_at=at, kind=KIND, case_id=account
            )
        except SlotTaken:
            return False
        await uow.commit()
    return True


@dataclass
class Race:
    outcomes: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    errors: list[str] = field(default_factory=list)


async def race(factory: UnitOfWorkFactory, slots: list[datetime], clients: int) -> Race:
    """Every client at once: it tries the slot ``index % SLOTS`` (so every slot is contended
    and all of them end up taken), and on SlotTaken lists the free slots in a new unit of work
    and tries a random one, up to ``MAX_TRIES`` attempts; with no free slot left it gives up."""
    state = Race()
    rng = random.Random(2)
    wanted = set(slots)

    async def free_slots() -> list[datetime]:
        async with factory() as uow:
            views = await list_slots(uow, "RACE", DAYS, KIND)
        return [view.starts_at for view in views if view.starts_at in wanted]

    async def client(index: int) -> None:
        account, target = index + 1, slots[index % len(slots)]
        try:
            for _ in range(MAX_TRIES):
                state.attempts += 1
                if await try_booking(factory, "RACE", account, target):
                    state.outcomes["booked"] += 1
                    return
                free = await free_slots()
                if not free:
                    break
                target = rng.choice(free)
            state.outcomes["refused"] += 1
        except Exception as exc:  # anything but SlotTaken is what this benchmark looks for
            state.outcomes["error"] += 1
            state.errors.append(f"{type(exc).__name__}: {exc}"[:300])

    await asyncio.gather(*(client(index) for index in range(clients)))
    return state


async def office_counts(db: Database, office: str) -> tuple[int, int, int]:
    """(appointments, slot_usage rows, seats taken) of an office, read after the fact."""
    async with db.sessionmaker() as session:
        office_id = await session.scalar(select(Office.id).where(Office.code == office))
        booked = await session.scalar(
            select(func.count()).select_from(Appointment).where(Appointment.office_id == office_id)
        )
        rows, taken = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(SlotUsage.taken), 0)).where(
                    SlotUsage.office_id == office_id
                )
            )
        ).one()
    return int(booked or 0), int(rows), int(taken)


async def bench_booking(report: Report, name: str, db: Database, clients: int) -> None:
    factory = UnitOfWorkFactory(db, FixedClock())
    slots = await seed_booking(factory, clients + SLOTS)
    offered = (len(slots["RACE"]), len(slots["SEQ"]))
    report.check(offered == (SLOTS, SLOTS), f"{name}: {offered} slots offered, not {SLOTS}")
    # Reference: the same bookings made one at a time, with nobody in the way.
    started = time.perf_counter()
    for offset, at in enumerate(slots["SEQ"]):
        ok = await try_booking(factory, "SEQ", clients + 1 + offset, at)
        report.check(ok, f"{name}: uncontended booking {offset + 1} refused")
    sequential = time.perf_counter() - started

    trip = await round_trip(db)
    with counting_statements(db) as statements:
        state, elapsed = await timed(race(factory, slots["RACE"], clients))
    booked, rows, taken = await office_counts(db, "RACE")
    report.check(state.outcomes["booked"] == SLOTS, f"{name}: {state.outcomes} != {SLOTS} booked")
    report.check(state.outcomes["error"] == 0, f"{name}: errors {state.errors[:3]}")
    report.check((booked, rows, taken) == (SLOTS,) * 3, f"{name}: database holds {booked} "
                 f"appointments and {taken} seats in {rows} slots, not {SLOTS}")  # fmt: skip
    report.add(
        f"booking race: {clients:,} clients, {SLOTS} slots × 1 seat",
        name,
        f"{state.outcomes['booked']} booked, {state.outcomes['refused']:,} refused, "
        f"{state.outcomes['error']} errors; {state.attempts:,} attempts in {elapsed:.2f} s "
        f"= **{state.attempts / elapsed:,.0f} bookings+refusals/s**; "
        f"{statements[0] / state.attempts:.1f} statements/attempt",
        f"{SLOTS} bookings one at a time, uncontended: {sequential:.2f} s "
        f"= {SLOTS / sequential:,.0f} bookings/s; SELECT 1 round trip {trip * 1000:.2f} ms",
    )


# --- b. CSV import -------------------------------------------------------------------------


def make_csv(rows: int) -> str:
    """Valid rows: receipt numbers of several centres, statuses by code and (one in three) by
    title, a received date, and an Online Access Code on one row in ``ACCESS_CODE_EVERY``."""
    prefixes = ("IOE", "EAC", "WAC", "LIN", "SRC", "MSC")
    forms = ("I-485", "I-765", "I-130", "I-131", "N-400", "I-90")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["receipt_number", "form_type", "status", "received_date", "access_code"])
    for n in range(rows):
        status = STATUSES[n % len(STATUSES)]
        writer.writerow([
            f"{prefixes[n % len(prefixes)]}{2_400_000_000 + n:010d}",
            forms[n % len(forms)],
            status.title if n % 3 == 0 else status.code,
            (date(2024, 1, 1) + timedelta(days=n % 700)).isoformat(),
            f"AC{n:010d}" if n % ACCESS_CODE_EVERY == 0 else "",
        ])  # fmt: skip
    return out.getvalue()


async def bench_import(report: Report, name: str, db: Database, rows: int) -> None:
    factory = UnitOfWorkFactory(db, FixedClock())
    content = make_csv(rows)
    for run, expected in (("first", "created"), ("second, all unchanged", "unchanged")):
        trip = await round_trip(db)
        started = time.perf_counter()
        parsed, problems = parse_cases_csv(content)
        parse_time = time.perf_counter() - started
        report.check(not problems and len(parsed) == rows, f"{name}: CSV problems {problems[:3]}")
        with counting_statements(db) as statements:
            result = await import_cases(factory, parsed)
        elapsed = time.perf_counter() - started
        report.check(
            getattr(result, expected) == rows, f"{name}, {run} import: {result} ({expected})"
        )
        report.add(
            f"CSV import, {run}: {rows:,} rows (1 in {ACCESS_CODE_EVERY} with an access code)",
            name,
            f"{elapsed:.2f} s = **{rows / elapsed:,.0f} rows/s** (parse + import); "
            f"{statements[0] / rows:.1f} statements/row",
            f"parse alone (no database): {rows / parse_time:,.0f} rows/s; "
            f"SELECT 1 round trip {trip * 1000:.2f} ms",
        )


# --- c. Argon2id ---------------------------------------------------------------------------


@contextmanager
def counting_verifies() -> Iterator[list[int]]:
    """Wrap the blocking verify that ``verify_password_async`` runs in its worker threads, to
    record the most verifications in flight at once: [current, peak]."""
    original = passwords.verify_password
    counter, lock = [0, 0], threading.Lock()

    def wrapper(stored_hash: str, secret: str) -> bool:
        with lock:
            counter[0] += 1
            counter[1] = max(counter)
        try:
            return original(stored_hash, secret)
        finally:
            with lock:
                counter[0] -= 1

    passwords.verify_password = wrapper
    try:
        yield counter
    finally:
        passwords.verify_password = original


def median_time(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def bench_argon2(report: Report, repeat: int) -> None:
    phrase = "sunflower-passport-42"
    stored = passwords.hash_password(phrase)  # warm-up, and the hash to verify
    hash_time = median_time(lambda: passwords.hash_password(phrase), repeat)
    verify_time = median_time(lambda: passwords.verify_password(stored, phrase), repeat)
    ncores = cores()
    for label, median in (("hash_password", hash_time), ("verify_password", verify_time)):
        report.add(
            f"Argon2id {label} (m=19 MiB, t=2, p=1), one call",
            "-",
            f"**{median * 1000:.1f} ms** (median of {repeat})",
            f"{1 / median:.1f} per second per core; {ncores} cores",
        )
    limit = passwords.MAX_CONCURRENT_HASHES
    batch = range(CONCURRENT_VERIFIES)
    await asyncio.gather(*(passwords.verify_password_async(stored, phrase) for _ in batch))
    sequential, concurrent = [], []
    with counting_verifies() as counter:
        # Rounds interleaved with their reference (the same verifies one after another), so a
        # burst of other work on the machine weighs on both alike.
        for _ in range(max(repeat // 2, 3)):
            started = time.perf_counter()
            for _ in batch:
                passwords.verify_password(stored, phrase)
            sequential.append(time.perf_counter() - started)
            results, elapsed = await timed(
                asyncio.gather(*(passwords.verify_password_async(stored, phrase) for _ in batch))
            )
            report.check(all(results), "argon2: a concurrent verify failed")
            concurrent.append(elapsed)
    peak = counter[1]
    report.check(peak <= limit, f"argon2: {peak} verifies in flight, above the bound {limit}")
    elapsed, alone = statistics.median(concurrent), statistics.median(sequential)
    report.add(
        f"Argon2id verify_password_async, {CONCURRENT_VERIFIES} concurrent calls",
        "-",
        f"{elapsed * 1000:.0f} ms (median of {len(concurrent)}) = **"
        f"{CONCURRENT_VERIFIES / elapsed:.1f} verifies/s**, {alone / elapsed:.2f}× the reference;"
        f" at most {peak} in flight (MAX_CONCURRENT_HASHES = {limit})",
        f"the same {CONCURRENT_VERIFIES} one after another: {alone * 1000:.0f} ms = "
        f"{CONCURRENT_VERIFIES / alone:.1f}/s; bound: {min(limit, ncores)} cores × "
        f"{1 / verify_time:.1f}/s = {min(limit, ncores) / verify_time:.1f}/s",
    )


# --- the run -------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    clients = args.clients or (200 if args.quick else 1_000)
    rows = args.rows or (2_000 if args.quick else 10_000)
    report = Report()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="casebot-bench-") as folder:
        backends = Backends(Path(folder), with_postgres=not args.no_postgres)
        await backends.setup()
        try:
            await backends.on_each(
                "booking race", lambda name, db: bench_booking(report, name, db, clients)
            )
            await backends.on_each(
                "CSV import", lambda name, db: bench_import(report, name, db, rows)
            )
        finally:
            await backends.teardown()
    print("Argon2id...", file=sys.stderr)
    await bench_argon2(report, repeat=5 if args.quick else 10)
    total = time.perf_counter() - started

    command = "python -m benchmarks.bench_core" + "".join(f" {a}" for a in sys.argv[1:])
    versions = f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    if backends.pg_version:
        versions += f", PostgreSQL {backends.pg_version} (local, same machine)"
    body = "\n".join([
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {cores()} cores (nproc), {cpu_model()}; {versions}; "
        f"load average {load:.2f} at the start (the machine is shared: compare each figure "
        "with its reference, not with another run)",
        f"- command: `{command}` (whole run {total:.0f} s)",
        "",
        report.table(),
        "",
        "How to read it:",
        f"- Booking race: every client has its own account, case and unit of work, all started "
        f"at once with asyncio.gather. Client *i* first tries slot *i* mod {SLOTS} (so every "
        f"slot is contended); on SlotTaken it lists the free slots and tries a random one, up to "
        f"{MAX_TRIES} attempts. Exactly {SLOTS} bookings and no error other than SlotTaken are "
        "required (the run fails otherwise), and the database is recounted afterwards. On "
        "SQLite the units of work queue for the single writer; on PostgreSQL they run on a "
        "pool of 10 + 10 connections. The reference is the same number of bookings made one "
        "after another at a second office. Refused attempts count as much as bookings: a "
        "loser runs a whole booking attempt and then lists the free slots in a second unit of "
        "work. If the attempts equal the clients, no loser found a free slot, so no random "
        "retry happened.",
        "- Statements per attempt or row are counted at the engine (BEGIN, savepoints and "
        "the SELECTs of eager loading included); with the SELECT 1 round trip measured just "
        "before, they split a figure into waiting for the database and Python work.",
        "- CSV import: the rows are generated in memory; the first import creates every case, "
        "the second finds every row unchanged. An access code costs a PBKDF2 hash (20,000 "
        "rounds) on the first import and a verification on the second.",
        "- Argon2id: per-call medians; the concurrent figure shows the semaphore in "
        "core.accounts.passwords keeping at most MAX_CONCURRENT_HASHES (= CPU count) hashes "
        "in flight.",
    ])  # fmt: skip
    return report.record(SECTION, body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer clients, rows and repeats")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--clients", type=int, default=0, help="booking clients (default 1,000)")
    parser.add_argument("--rows", type=int, default=0, help="CSV rows (default 10,000)")
    args = parser.parse_args()
    if args.clients and args.clients < SLOTS:
        parser.error(f"--clients must be at least {SLOTS}")
    if args.rows and args.rows < 1:
        parser.error("--rows must be at least 1")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
