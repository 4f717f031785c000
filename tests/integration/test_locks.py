"""Advisory locks: one holder at a time, across processes on PostgreSQL (two Database objects
are two processes' worth of connections) and within one process on either backend."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from core.db import Database
from core.locks import (
    CHAT_LOCKS,
    SENDER_LOCKS,
    WORKER_LOCKS,
    AdvisoryLock,
    is_present,
    key_of,
    presence_lock,
)


async def test_a_lock_has_one_holder_until_it_is_released(db: Database) -> None:
    first = AdvisoryLock(db, SENDER_LOCKS, key_of("telegram"))
    second = AdvisoryLock(db, SENDER_LOCKS, key_of("telegram"))
    other = AdvisoryLock(db, CHAT_LOCKS, key_of("telegram"))  # same key, another kind

    assert await first.try_acquire()
    assert await first.try_acquire()  # holding it already
    assert not await second.try_acquire()
    assert await other.try_acquire()
    assert await first.still_held()

    await first.release()
    assert not await first.still_held()
    assert await second.try_acquire()
    await second.release()
    await other.release()


def test_keys_are_stable_31_bit_numbers() -> None:
    assert key_of("telegram:4242") == key_of("telegram:4242")
    assert key_of("telegram:4242") != key_of("telegram:4243")
    assert all(0 <= key_of(str(n)) < 2**31 for n in range(1000))


@pytest.mark.postgres
async def test_another_process_takes_over_when_the_holders_connection_dies(
    postgres_db: Database,
) -> None:
    process_a = postgres_db
    process_b = Database(postgres_db.url)
    try:
        held = AdvisoryLock(process_a, SENDER_LOCKS, key_of("telegram"))
        waiting = AdvisoryLock(process_b, SENDER_LOCKS, key_of("telegram"))
        assert await held.try_acquire()
        assert not await waiting.try_acquire()

        # What the server does when a worker is killed: its session ends, its locks go.
        async with process_b.engine.connect() as admin:
            killed = await admin.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND classid = :namespace AND objid = :key "
                    # pg_locks shows every database of the server: only this test's own.
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                ),
                {"namespace": SENDER_LOCKS, "key": key_of("telegram")},
            )
        assert killed == 1

        # pg_terminate_backend only signals the backend: its locks go when it has exited.
        for _ in range(100):
            if await waiting.try_acquire():
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the lock was not free 5 s after its holder was ended")
        assert not await held.still_held()
        assert not await held.try_acquire()  # a new connection, but the lock is taken
        await held.release()
        await waiting.release()
        assert await held.try_acquire()
        await held.release()
    finally:
        await process_b.dispose()


@pytest.mark.postgres
async def test_the_lock_connection_goes_back_to_the_pool_when_no_lock_is_held(
    postgres_db: Database,
) -> None:
    locks = [AdvisoryLock(postgres_db, CHAT_LOCKS, key_of(f"chat:{n}")) for n in range(5)]
    for lock in locks:
        assert await lock.try_acquire()
    assert postgres_db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    for lock in locks:
        await lock.release()
    assert postgres_db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.postgres
async def test_a_lock_connection_broken_while_idle_is_replaced_and_presence_taken_again(
    postgres_db: Database,
) -> None:
    # A worker's presence keeps its lock connection open for life; an outage breaks it unseen.
    # Once the database is back, the next lock asked for must not fail on the dead connection,
    # and the presence must be announced again.
    process_a = postgres_db
    process_b = Database(postgres_db.url)
    try:
        presence = presence_lock(process_a, "worker-a:replies")
        assert await presence.keep()
        async with process_b.engine.connect() as admin:
            killed = await admin.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND classid = :namespace AND objid = :key "
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                ),
                {"namespace": WORKER_LOCKS, "key": key_of("worker-a:replies")},
            )
        assert killed == 1
        for _ in range(100):  # the backend exits a moment after the signal
            if not await is_present(process_b, "worker-a:replies"):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the presence was still held 5 s after its connection ended")

        chat = AdvisoryLock(process_a, CHAT_LOCKS, key_of("chat:after-the-outage"))
        assert await chat.try_acquire()  # on a new connection, not an error from the dead one
        assert await presence.keep()  # announced again
        assert await is_present(process_b, "worker-a:replies")
        await chat.release()
        await presence.release()
    finally:
        await process_b.dispose()
