"""Argon2id hashing of passwords (and of the other secrets kept as slow hashes).

The parameters are OWASP's minimum for Argon2id: m=19 MiB, t=2, p=1. One hash costs tens of
milliseconds of CPU and 19 MiB of memory, so the async helpers run it in a worker thread and let
only as many hashes run at once as there are CPUs: a burst of sign-ins then queues instead of
exhausting memory or starving the event loop.

Secrets are hashed in their NFKC form (see ``core.accounts.policy.normalize_password``); callers
normalise before hashing and before verifying.

A hash asked for inside a transaction would hold that transaction (on SQLite, the process's
single write queue; on PostgreSQL, a pooled connection) for tens of milliseconds. Where the
work can be undone and done again, as a chat turn can, it runs under a deferral's scope
(``core.deferral``; ``HashDeferral`` here):
a hash not yet known raises ``HashesNeeded`` (the caller undoes what it did), the caller
computes every pending hash with ``compute()``, outside any transaction, and runs the work
again, which then finds the results.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from functools import partial
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from core.deferral import Deferral, WorkNeeded, active_deferral

__all__ = [
    "DUMMY_HASH",
    "MAX_CONCURRENT_HASHES",
    "PASSWORD_HASHER",
    "HashDeferral",
    "HashesNeeded",
    "hash_password",
    "hash_password_async",
    "needs_rehash",
    "verify_password",
    "verify_password_async",
]

PASSWORD_HASHER: Final = PasswordHasher(
    time_cost=2, memory_cost=19_456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)

# A hash of a random, forgotten secret with the current parameters. Verifying an unknown
# email's "password" against it costs what a real verification costs, so the answer's timing
# does not tell whether the account exists. A unit test checks it still matches the parameters.
DUMMY_HASH: Final = (
    "$argon2id$v=19$m=19456,t=2,p=1$liNHNmeYzdSsDrnKUBWBRQ$"
    "1OcpguMUBArOyegJIr1z2/Q0Lj4T2+Qvni1b5l7x6cc"
)

MAX_CONCURRENT_HASHES: Final = os.cpu_count() or 2

# One semaphore per event loop: an asyncio primitive belongs to the loop that first waits on it,
# and tests (and a CLI command) may run several loops one after another in one process.
_semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def hash_password(secret: str) -> str:
    """Hash a secret with Argon2id (blocking: prefer ``hash_password_async`` in async code)."""
    return PASSWORD_HASHER.hash(secret)


def verify_password(stored_hash: str, secret: str) -> bool:
    """Whether the secret matches the hash (blocking). A malformed hash never matches."""
    try:
        return PASSWORD_HASHER.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's (then hash the secret again
    on the next successful sign-in)."""
    try:
        return PASSWORD_HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def _semaphore() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    semaphore = _semaphores.get(loop)
    if semaphore is None:
        semaphore = _semaphores[loop] = asyncio.Semaphore(MAX_CONCURRENT_HASHES)
    return semaphore


async def hash_password_async(secret: str) -> str:
    """Hash a secret in a worker thread, at most ``MAX_CONCURRENT_HASHES`` at once.

    Raises:
        HashesNeeded: inside a ``HashDeferral`` scope that does not know this hash yet.
    """
    deferral = active_deferral()
    if deferral is not None:
        return str(deferral.known_or_pending(("hash", secret), partial(_hash_now, secret)))
    return await _hash_now(secret)


async def verify_password_async(stored_hash: str, secret: str) -> bool:
    """Verify a secret in a worker thread, at most ``MAX_CONCURRENT_HASHES`` at once.

    Raises:
        HashesNeeded: inside a ``HashDeferral`` scope that does not know this result yet.
    """
    deferral = active_deferral()
    if deferral is not None:
        work = partial(_verify_now, stored_hash, secret)
        return bool(deferral.known_or_pending(("verify", stored_hash, secret), work))
    return await _verify_now(stored_hash, secret)


async def _hash_now(secret: str) -> str:
    async with _semaphore():
        return await asyncio.to_thread(hash_password, secret)


async def _verify_now(stored_hash: str, secret: str) -> bool:
    async with _semaphore():
        return await asyncio.to_thread(verify_password, stored_hash, secret)


# A hash is one kind of slow work deferred out of a turn (core/deferral.py); the names say so
# where only hashes are deferred.
HashDeferral = Deferral
HashesNeeded = WorkNeeded
