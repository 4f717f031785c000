"""One asyncio lock per key, kept only while someone holds it or waits for it.

The engine serialises the turns of a conversation, the Telegram channel the updates of a chat
and the web chat the turns of a session: each by a key that comes and goes. A lock per key
ever seen would grow without end, so a key's lock is dropped when its last user leaves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

__all__ = ["KeyedLock"]

K = TypeVar("K", bound=Hashable)


class KeyedLock(Generic[K]):
    """Mutual exclusion per key; users of one key go in the order they came (asyncio locks
    are FIFO).

    ``len()`` is the number of keys held or waited for.
    """

    def __init__(self) -> None:
        self._locks: dict[K, asyncio.Lock] = {}
        self._users: dict[K, int] = {}

    @asynccontextmanager
    async def hold(self, key: K) -> AsyncIterator[None]:
        """Hold the lock of ``key`` for the body of the ``async with``."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)

    @property
    def waiting(self) -> int:
        """How many callers hold or wait for a lock, over every key."""
        return sum(self._users.values())
