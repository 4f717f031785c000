"""The unit of work: one transaction per operation, rolled back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock, SystemClock
from core.db import Database

__all__ = ["UnitOfWork", "UnitOfWorkFactory"]


class UnitOfWork:
    """A transaction, the session that runs it, and the clock its rules read.

    Use it as ``async with uow_factory() as uow: ...; await uow.commit()``. Leaving the block
    without ``commit()`` (or through an exception) rolls everything back. On SQLite the unit of
    work holds the process's write queue for its whole life, so never open one inside another,
    and keep slow work (password hashing) outside it.
    """

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self.clock = clock
        self._session: AsyncSession | None = None
        self._committed = False
        self._holds_lock = False

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use 'async with'")
        return self._session

    @property
    def dialect(self) -> str:
        return self._db.dialect

    async def __aenter__(self) -> Self:
        if self._db.write_lock is not None:
            await self._db.write_lock.acquire()
            self._holds_lock = True
        self._session = self._db.sessionmaker()
        self._committed = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._session is not None:
                # close() rolls back whatever was not committed, like rollback(), but leaves
                # the objects read in this unit of work usable (detached, not expired).
                await self._session.close()
        finally:
            self._session = None
            if self._holds_lock and self._db.write_lock is not None:
                self._db.write_lock.release()
                self._holds_lock = False

    async def commit(self) -> None:
        """Commit the transaction; the unit of work may go on with a new one."""
        await self.session.commit()
        self._committed = True

    async def rollback(self) -> None:
        await self.session.rollback()
        self._committed = False

    async def flush(self) -> None:
        await self.session.flush()


class UnitOfWorkFactory:
    """Makes units of work on one database with one clock (the services' entry point)."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.clock)
