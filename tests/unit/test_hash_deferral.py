"""Slow hashes deferred out of a piece of work that runs again (core.accounts.passwords)."""

from __future__ import annotations

import asyncio

import pytest

from core.accounts.passwords import (
    HashDeferral,
    HashesNeeded,
    hash_password_async,
    verify_password,
    verify_password_async,
)

SECRET = "sunflower-passport-42"


async def _work() -> tuple[bool, str]:
    """What a sign-in does: verify, then hash again (both in one gather, as registration)."""
    stored = "$argon2id$v=19$m=19456,t=2,p=1$liNHNmeYzdSsDrnKUBWBRQ$" + "A" * 43
    return await asyncio.gather(verify_password_async(stored, SECRET), hash_password_async(SECRET))


async def test_in_a_scope_an_unknown_hash_is_noted_and_the_work_stops() -> None:
    deferral = HashDeferral()
    with deferral.scope(), pytest.raises(HashesNeeded):
        await _work()
    assert deferral.pending


async def test_after_compute_the_work_runs_again_and_finds_every_result() -> None:
    deferral = HashDeferral()
    runs = 0
    while True:
        runs += 1
        with deferral.scope():
            try:
                matched, new_hash = await _work()
                break
            except HashesNeeded:
                pass
        await deferral.compute()
    assert runs == 2  # both hashes of the gather were noted in the first run
    assert not deferral.pending
    assert matched is False
    assert verify_password(new_hash, SECRET)


async def test_outside_a_scope_hashes_are_computed_at_once() -> None:
    stored = await hash_password_async(SECRET)
    assert await verify_password_async(stored, SECRET)
    assert not await verify_password_async(stored, SECRET + "x")


async def test_a_scope_ends_with_its_block() -> None:
    deferral = HashDeferral()
    with deferral.scope(), pytest.raises(HashesNeeded):
        await hash_password_async(SECRET)
    assert verify_password(await hash_password_async(SECRET), SECRET)  # no scope: computed
