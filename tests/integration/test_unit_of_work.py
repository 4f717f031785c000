"""The unit of work and the SQLite settings that keep concurrent turns safe."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from core.db import Database
from core.outbox.models import RateLimitWindow
from core.schema import upgrade
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock


async def _count(uow_factory: UnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(RateLimitWindow)) or 0)


async def test_changes_are_rolled_back_unless_committed(uow_factory: UnitOfWorkFactory) -> None:
    now = uow_factory.clock.now()
    async with uow_factory() as uow:
        uow.session.add(RateLimitWindow(key="a", window_start=now, count=1))
        await uow.flush()
    assert await _count(uow_factory) == 0

    async with uow_factory() as uow:
        uow.session.add(RateLimitWindow(key="b", window_start=now, count=1))
        await uow.commit()
    assert await _count(uow_factory) == 1


async def test_an_exception_rolls_the_unit_of_work_back(uow_factory: UnitOfWorkFactory) -> None:
    class Boom(Exception):
        pass

    try:
        async with uow_factory() as uow:
            uow.session.add(RateLimitWindow(key="c", window_start=uow.clock.now(), count=1))
            await uow.flush()
            raise Boom
    except Boom:
        pass
    assert await _count(uow_factory) == 0


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_db: Database) -> None:
    async with sqlite_db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_waiting_for_another_process_write_lock_does_not_block_the_event_loop(
    tmp_path: Path,
) -> None:
    # Statements run in the loop's thread; SQLite's own busy handler would sleep in it. The
    # wait must be asynchronous: a ticker keeps running while the second writer waits, and the
    # second writer gets through as soon as the first commits.
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite3'}"
    holder, waiter = Database(url), Database(url)
    await upgrade(holder)
    clock = FakeClock()
    ticks = 0
    locked = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def hold() -> None:
        async with UnitOfWorkFactory(holder, clock)() as uow:
            uow.session.add(RateLimitWindow(key="first", window_start=clock.now(), count=1))
            await uow.flush()
            locked.set()
            await asyncio.sleep(0.5)
            await uow.commit()

    async def write_second() -> float:
        await locked.wait()
        started = asyncio.get_running_loop().time()
        async with UnitOfWorkFactory(waiter, clock)() as uow:
            uow.session.add(RateLimitWindow(key="second", window_start=clock.now(), count=1))
            await uow.commit()
        return asyncio.get_running_loop().time() - started

    tick_task = asyncio.create_task(ticker())
    try:
        _, waited = await asyncio.gather(hold(), write_second())
    finally:
        tick_task.cancel()
        await holder.dispose()
        await waiter.dispose()
    assert 0.3 < waited < 5
    assert ticks >= 25  # the loop ran on while the second writer waited (0.5 s / 10 ms = 50)


async def test_read_then_write_turns_from_two_processes_never_see_database_is_locked(
    tmp_path: Path,
) -> None:
    # Two engines on one file stand for two processes. Each transaction reads, then writes:
    # the pattern that fails at once with "database is locked" under deferred transactions,
    # because two readers cannot both upgrade to writer. BEGIN IMMEDIATE prevents it.
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite3'}"
    first, second = Database(url), Database(url)
    await upgrade(first)
    clock = FakeClock()
    factories = [UnitOfWorkFactory(first, clock), UnitOfWorkFactory(second, clock)]

    async def turn(n: int) -> None:
        async with factories[n % 2]() as uow:
            row = await uow.session.get(RateLimitWindow, "counter")
            if row is None:
                uow.session.add(RateLimitWindow(key="counter", window_start=clock.now(), count=1))
            else:
                row.count += 1
            await uow.commit()

    try:
        await asyncio.gather(*(turn(n) for n in range(200)))
        async with factories[0]() as uow:
            total = await uow.session.scalar(
                select(RateLimitWindow.count).where(RateLimitWindow.key == "counter")
            )
        assert total == 200  # no lost update either
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_unit_of_work_opened_inside_another_joins_it_as_a_savepoint(
    uow_factory: UnitOfWorkFactory,
) -> None:
    now = uow_factory.clock.now()
    async with uow_factory() as outer:
        async with uow_factory() as inner:
            assert inner.nested
            inner.session.add(RateLimitWindow(key="kept", window_start=now, count=1))
            await inner.commit()
        async with uow_factory() as undone:
            undone.session.add(RateLimitWindow(key="undone", window_start=now, count=1))
            await undone.flush()
        assert not outer.nested
        # Nothing is durable until the outer unit of work commits.
    assert await _count(uow_factory) == 0

    async with uow_factory() as outer:
        async with uow_factory() as inner:
            inner.session.add(RateLimitWindow(key="kept", window_start=now, count=1))
            await inner.commit()
        async with uow_factory() as undone:
            undone.session.add(RateLimitWindow(key="undone", window_start=now, count=1))
            await undone.flush()
        await outer.commit()
    async with uow_factory() as uow:
        keys = set(await uow.session.scalars(select(RateLimitWindow.key)))
    assert keys == {"kept"}


@pytest.mark.postgres
async def test_units_of_work_get_a_postgresql_connection_in_the_order_they_asked(
    postgres_db: Database,
) -> None:
    # One connection. A holds it while B and C queue; then A finishes and at once asks again
    # (D). The pool alone hands the connection back to whoever asks first, so D would overtake
    # B and C (under load some turns waited seconds); in arrival order D is last.
    db = Database(postgres_db.url, pool_size=1, max_overflow=0)
    factory = UnitOfWorkFactory(db, FakeClock())
    order: list[str] = []
    a_holds = asyncio.Event()

    async def unit(name: str, hold: float = 0.0) -> None:
        async with factory() as uow:
            await uow.session.execute(text("SELECT 1"))
            order.append(name)
            if name == "A":
                a_holds.set()
            await asyncio.sleep(hold)

    async def a_then_d() -> None:
        await unit("A", hold=0.2)
        await unit("D")

    async def queued(name: str) -> None:
        await a_holds.wait()
        await unit(name)

    try:
        await asyncio.gather(a_then_d(), queued("B"), queued("C"))
    finally:
        await db.dispose()
    assert order == ["A", "B", "C", "D"]
