from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core import ratelimit
from core.db import Database
from core.errors import RateLimited
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock

MINUTE = timedelta(minutes=1)


async def hit(uow_factory: UnitOfWorkFactory, key: str = "k", *, limit: int = 3) -> bool:
    """One request in its own unit of work, committed either way; True if it was let through."""
    async with uow_factory() as uow:
        try:
            await ratelimit.hit(uow, key, limit=limit, window=MINUTE)
        except RateLimited:
            await uow.commit()
            return False
        await uow.commit()
        return True


async def test_lets_the_limit_through_then_refuses(uow_factory: UnitOfWorkFactory) -> None:
    assert [await hit(uow_factory) for _ in range(4)] == [True, True, True, False]


async def test_tells_how_long_to_wait(uow_factory: UnitOfWorkFactory, clock: FakeClock) -> None:
    clock.set(clock.now().replace(second=20, microsecond=0))
    async with uow_factory() as uow:
        await ratelimit.hit(uow, "k", limit=1, window=MINUTE)
        with pytest.raises(RateLimited) as caught:
            await ratelimit.hit(uow, "k", limit=1, window=MINUTE)
    assert caught.value.retry_after_seconds == 40


async def test_a_new_window_starts_over(uow_factory: UnitOfWorkFactory, clock: FakeClock) -> None:
    for _ in range(3):
        assert await hit(uow_factory)
    assert not await hit(uow_factory)
    clock.advance(MINUTE)
    assert await hit(uow_factory)


async def test_a_refused_request_counts_too(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    for _ in range(6):
        await hit(uow_factory)
    async with uow_factory() as uow:
        used = await ratelimit.usage(uow, "k", window=MINUTE)
    assert used.count == 6


async def test_keys_are_counted_apart(uow_factory: UnitOfWorkFactory) -> None:
    for _ in range(3):
        assert await hit(uow_factory, "telegram:1")
    assert not await hit(uow_factory, "telegram:1")
    assert await hit(uow_factory, "telegram:2")


async def test_a_rolled_back_hit_is_forgotten(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await ratelimit.hit(uow, "k", limit=1, window=MINUTE)
        await ratelimit.hit(uow, "k2", limit=1, window=MINUTE)
    async with uow_factory() as uow:
        assert (await ratelimit.usage(uow, "k", window=MINUTE)).count == 0


async def test_usage_reads_without_counting_and_reset_forgets(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await hit(uow_factory)
    await hit(uow_factory)
    async with uow_factory() as uow:
        used = await ratelimit.usage(uow, "k", window=MINUTE)
        again = await ratelimit.usage(uow, "k", window=MINUTE)
        assert used == again
        assert used.count == 2
        assert used.resets_at == ratelimit.window_start(clock.now(), MINUTE) + MINUTE
        await ratelimit.reset(uow, "k")
        assert (await ratelimit.usage(uow, "k", window=MINUTE)).count == 0
        await uow.commit()


async def test_usage_of_an_old_window_is_zero(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await hit(uow_factory)
    clock.advance(MINUTE)
    async with uow_factory() as uow:
        assert (await ratelimit.usage(uow, "k", window=MINUTE)).count == 0


async def test_a_process_whose_clock_lags_counts_in_the_newer_window(
    db: Database, clock: FakeClock
) -> None:
    ahead = UnitOfWorkFactory(db, FakeClock(clock.now() + MINUTE))
    behind = UnitOfWorkFactory(db, clock)
    assert await hit(ahead, limit=1)
    assert not await hit(behind, limit=1)
    async with ahead() as uow:
        assert (await ratelimit.usage(uow, "k", window=MINUTE)).count == 2


async def test_a_very_long_key_is_shortened_and_still_counted(
    uow_factory: UnitOfWorkFactory,
) -> None:
    key = "webchat:" + "x" * 500
    assert await hit(uow_factory, key, limit=1)
    assert not await hit(uow_factory, key, limit=1)
    assert await hit(uow_factory, key[:-1] + "y", limit=1)


async def test_purges_rows_of_windows_long_gone(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await hit(uow_factory, "old")
    clock.advance(hours=2)
    await hit(uow_factory, "new")
    async with uow_factory() as uow:
        removed = await ratelimit.purge_expired(uow, before=clock.now() - timedelta(hours=1))
        await uow.commit()
    assert removed == 1
    async with uow_factory() as uow:
        assert (await ratelimit.usage(uow, "new", window=MINUTE)).count == 1


async def test_concurrent_requests_never_get_past_the_limit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    results = await asyncio.gather(*(hit(uow_factory, limit=10) for _ in range(40)))
    assert results.count(True) == 10
    async with uow_factory() as uow:
        assert (await ratelimit.usage(uow, "k", window=MINUTE)).count == 40


async def test_concurrent_first_requests_of_a_new_key_all_count(
    uow_factory: UnitOfWorkFactory,
) -> None:
    # Every request is the first for its window: the INSERT races the INSERT, not an UPDATE.
    results = await asyncio.gather(*(hit(uow_factory, "fresh", limit=1) for _ in range(15)))
    assert results.count(True) == 1


async def test_several_windows_count_in_one_statement_and_the_longest_wait_is_told(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(clock.now().replace(minute=10, second=20, microsecond=0))
    limits = [("m", 2, MINUTE), ("h", 3, timedelta(hours=1))]
    outcomes = []
    for _ in range(4):
        async with uow_factory() as uow:
            try:
                await ratelimit.hit_all(uow, limits)
                outcomes.append("ok")
            except RateLimited as refused:
                outcomes.append(refused.retry_after_seconds)
            await uow.commit()
    # The third request is over the minute's limit (wait 40 s); the fourth over both: the
    # hour's wait (49 min 40 s) is the one that matters. Refused requests count in both.
    assert outcomes == ["ok", "ok", 40, 2980]
    async with uow_factory() as uow:
        minute = await ratelimit.usage(uow, "m", window=MINUTE)
        hour = await ratelimit.usage(uow, "h", window=timedelta(hours=1))
    assert (minute.count, hour.count) == (4, 4)


async def test_one_key_twice_in_one_statement_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="once"):
            await ratelimit.hit_all(uow, [("k", 1, MINUTE), ("k", 1, MINUTE)])


async def test_a_key_counted_with_others_then_alone_keeps_its_count(
    uow_factory: UnitOfWorkFactory,
) -> None:
    # Every row of a multi-key upsert binds its window start as the column's type: the second
    # key's start once went to the driver as a raw aware datetime, stored on SQLite in another
    # text form ("...+00:00") that the next single-key hit compared as an older window and
    # started over at 1.
    hour = timedelta(hours=1)
    async with uow_factory() as uow:
        await ratelimit.hit_all(uow, [("other", 5, MINUTE), ("k", 2, hour)])
        await uow.commit()
    async with uow_factory() as uow:
        await ratelimit.hit(uow, "k", limit=2, window=hour)
        with pytest.raises(RateLimited):
            await ratelimit.hit(uow, "k", limit=2, window=hour)
        assert (await ratelimit.usage(uow, "k", window=hour)).count == 3
