"""Locks that hold across worker processes: PostgreSQL advisory locks, one holder at a time.

An ``AdvisoryLock`` is a session-level ``pg_try_advisory_lock``. Every lock a worker holds
lives on one connection (``_LockSession``, one per database per process), taken from the pool
with the first lock and handed back when the last one is released: holding many locks costs
one connection, and taking or giving one up is one short statement. The server releases a
session's locks when its connection ends, so a worker that dies (even by SIGKILL) gives its
locks up at once, and a waiting worker takes over at its next try. Nothing ever blocks
waiting for a lock: callers try, and come back later or leave the work to the holder.

If that connection breaks, every lock on it is gone (the server released them): ``still_held``
says so, and the next ``try_acquire`` opens a new connection.

On SQLite casebot runs as one process, and an in-process table of holders stands in (per
database file), so the same code works on both.

A process that leases rows under a name holds that name's presence lock (``presence_lock``,
``WORKER_LOCKS``) for as long as it may still act on them: ``is_present`` tells another process
whether the owner of a lease is alive, because a killed process's presence goes with its
connection.

Keys are two 32-bit numbers: a namespace (one per kind of lock, below) and a key within it
(``key_of`` hashes a text key). They never meet the one-number lock of the migrations.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
import zlib
from typing import ClassVar, Final

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db import Database

__all__ = [
    "CHAT_LOCKS",
    "HOUSEKEEPING_LOCKS",
    "SENDER_LOCKS",
    "USCIS_POLL_LOCKS",
    "WORKER_LOCKS",
    "AdvisoryLock",
    "is_present",
    "key_of",
    "presence_lock",
]

logger = logging.getLogger(__name__)

SENDER_LOCKS: Final = 0x0CA5_0001  # one sender per channel whose rate the whole bot shares
CHAT_LOCKS: Final = 0x0CA5_0002  # one worker at a time handles a chat's inbox
HOUSEKEEPING_LOCKS: Final = 0x0CA5_0003  # one worker at a time deletes what has expired
USCIS_POLL_LOCKS: Final = 0x0CA5_0004  # one worker at a time re-checks followed USCIS cases
WORKER_LOCKS: Final = 0x0CA5_0005  # held for life by a process, per name it leases rows under

_BROKEN: Final = (DBAPIError, SQLAlchemyError, OSError)

# SQLite (one process): (database url, namespace, key) -> the holder.
_local_holders: dict[tuple[str, int, int], AdvisoryLock] = {}


def key_of(name: str) -> int:
    """A stable non-negative 31-bit key for a text (CRC-32: equal in every process)."""
    return zlib.crc32(name.encode("utf-8")) & 0x7FFF_FFFF


class _LockSession:
    """The one connection on which a process holds its advisory locks of one database."""

    _sessions: ClassVar[weakref.WeakKeyDictionary[Database, _LockSession]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, db: Database) -> None:
        self.db = db
        self.connection: AsyncConnection | None = None
        self.generation = 0  # a new number for every new connection
        self.held = 0  # locks held on the connection
        # Which object holds each lock: the server's locks are re-entrant within a session, so
        # two holders in this process are kept apart here.
        self.holders: dict[tuple[int, int], AdvisoryLock] = {}
        self._lock = asyncio.Lock()  # one statement at a time on the connection

    @classmethod
    def of(cls, db: Database) -> _LockSession:
        session = cls._sessions.get(db)
        if session is None:
            session = cls._sessions[db] = cls(db)
        return session

    async def run(
        self, sql: str, namespace: int, key: int, *, open_new: bool, change: int = 0
    ) -> tuple[bool, int]:
        """Run a lock function; returns its boolean answer and the connection's generation.
        ``change`` is added to the count of held locks when the answer is true; the
        connection goes back to the pool when none is left.

        Raises:
            sqlalchemy.exc.SQLAlchemyError, OSError: the database cannot be reached (every
                lock of this session is lost then).
        """
        async with self._lock:
            while True:
                fresh = self.connection is None
                if fresh:
                    if not open_new:
                        return False, self.generation
                    self.connection = await self.db.engine.connect()
                    self.generation += 1
                assert self.connection is not None
                try:
                    answer = await self.connection.scalar(
                        text(sql), {"namespace": namespace, "key": key}
                    )
                    # A session-level lock outlives the transaction: never sit idle in one.
                    await self.connection.commit()
                    break
                except _BROKEN:
                    await self._drop()
                    # A connection kept open for a lock held for life (a worker's presence)
                    # breaks unseen in an outage; once the database is back, the first lock
                    # asked for finds it broken: ask again, once, on a new connection.
                    if fresh or not open_new:
                        raise
            generation = self.generation
            if answer:
                self.held += change
            if self.held <= 0:
                self.held = 0
                connection, self.connection = self.connection, None
                await connection.close()  # holds no lock: safe back in the pool
            return bool(answer), generation

    async def _drop(self) -> None:
        connection, self.connection = self.connection, None
        self.held = 0
        self.holders.clear()
        if connection is None:
            return
        logger.warning("advisory locks: the lock connection broke; its locks are released")
        try:
            # Never hand a connection that may still hold locks back to the pool.
            await connection.invalidate()
            await connection.close()
        except _BROKEN:
            logger.debug("closing a broken lock connection failed", exc_info=True)


class AdvisoryLock:
    """One lock, held by at most one process (one holder object) at a time.

    Args:
        db: the database whose server keeps the lock.
        namespace: the kind of lock (``SENDER_LOCKS``, ``CHAT_LOCKS``).
        key: which lock of that kind (``key_of(...)``).
    """

    def __init__(self, db: Database, namespace: int, key: int) -> None:
        self.db = db
        self.namespace = namespace
        self.key = key
        self._generation: int | None = None  # the lock connection it was taken on
        self._held_locally = False

    @property
    def in_process(self) -> bool:
        """Whether the lock only excludes this process's other holders (SQLite, where casebot
        runs as one process): then nothing outside this process can be racing for its work."""
        return self.db.dialect != "postgresql"

    @property
    def held(self) -> bool:
        """Whether this object believes it holds the lock (see ``still_held``)."""
        return self._generation is not None or self._held_locally

    async def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this object holds it now.

        Raises:
            sqlalchemy.exc.SQLAlchemyError, OSError: the database cannot be reached.
        """
        if self._generation is not None:
            session = _LockSession.of(self.db)
            if session.holders.get((self.namespace, self.key)) is self:
                return True
            # The lock connection broke since (every lock of the process went with it): this
            # object holds nothing now, and takes the lock again below.
            self._generation = None
        if self._held_locally:
            return True
        if self.db.dialect != "postgresql":
            local = (self.db.url, self.namespace, self.key)
            if local in _local_holders:
                return False
            _local_holders[local] = self
            self._held_locally = True
            return True
        session = _LockSession.of(self.db)
        slot = (self.namespace, self.key)
        if slot in session.holders:
            return False
        session.holders[slot] = self  # before the await: no other task of ours may try now
        try:
            got, generation = await session.run(
                "SELECT pg_try_advisory_lock(:namespace, :key)",
                self.namespace,
                self.key,
                open_new=True,
                change=1,
            )
        except BaseException:
            session.holders.pop(slot, None)
            raise
        if not got:
            session.holders.pop(slot, None)
            return False
        self._generation = generation
        return True

    async def keep(self) -> bool:
        """Hold the lock, taking it again if the lock connection broke since; False when it
        cannot be had now (another holder, or the database out of reach: the caller goes on,
        and asks again next time). Costs nothing while it is held."""
        try:
            return await self.try_acquire()
        except _BROKEN:
            return False

    async def still_held(self) -> bool:
        """Ask the server whether the lock is still ours (False when the lock connection broke:
        the server has released it, and another worker may hold it now)."""
        if self.db.dialect != "postgresql":
            return self._held_locally
        if self._generation is None:
            return False
        try:
            held, generation = await _LockSession.of(self.db).run(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid() AND classid = :namespace AND objid = :key "
                "AND objsubid = 2 AND granted)",
                self.namespace,
                self.key,
                open_new=False,
            )
        except _BROKEN:
            held, generation = False, -1
        if not held or generation != self._generation:
            self._generation = None
            session = _LockSession.of(self.db)
            if session.holders.get((self.namespace, self.key)) is self:
                del session.holders[(self.namespace, self.key)]
            return False
        return True

    async def release(self) -> None:
        """Give the lock up (nothing happens when it is not held)."""
        if self._held_locally:
            _local_holders.pop((self.db.url, self.namespace, self.key), None)
            self._held_locally = False
            return
        generation, self._generation = self._generation, None
        if generation is None:
            return
        session = _LockSession.of(self.db)
        if session.holders.get((self.namespace, self.key)) is self:
            del session.holders[(self.namespace, self.key)]
        if session.generation != generation:
            return  # taken on a connection that broke since: the server released it
        try:
            await session.run(
                "SELECT pg_advisory_unlock(:namespace, :key)",
                self.namespace,
                self.key,
                open_new=False,
                change=-1,
            )
        except _BROKEN:
            return  # the connection broke: the server released the lock with it


def presence_lock(db: Database, owner: str) -> AdvisoryLock:
    """The lock a process holds while it is alive under ``owner``, the name on rows it leases
    (``core.outbox.dispatch``); take it before the first lease, give it up after the last."""
    return AdvisoryLock(db, WORKER_LOCKS, key_of(owner))


async def is_present(db: Database, owner: str) -> bool:
    """Whether a live process holds ``owner``'s presence lock (another process, or another
    holder in this one). False when the lock could be taken: it is given back at once, since a
    gone owner's name (host, pid, random part) is never used again. Two names that share a key
    make a gone owner look present: its rows then wait for their lease to run out.

    On SQLite only this process can serve, so any owner it does not hold is gone.

    Raises:
        sqlalchemy.exc.SQLAlchemyError, OSError: the database cannot be reached.
    """
    lock = presence_lock(db, owner)
    if not await lock.try_acquire():
        return True
    await lock.release()
    return False
