"""The unit of work: one transaction per operation, rolled back unless committed.

A unit of work opened while another is open in the same task (a service that manages its own
units of work, called from inside a chat turn) joins the outer one as a SAVEPOINT: its commit
releases the savepoint, its rollback undoes only its own part, and the outer unit of work decides
whether the whole turn is committed. That keeps a turn atomic, and on SQLite it avoids waiting on
the process's write queue that the outer unit of work already holds.
"""

from __future__ import annotations

from contextvars import ContextVar
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

from core.clock import Clock, SystemClock
from core.db import Database
from core.secret_box import SecretBox

__all__ = ["UnitOfWork", "UnitOfWorkFactory"]

_open_unit: ContextVar[UnitOfWork | None] = ContextVar("casebot_open_unit_of_work", default=None)


class UnitOfWork:
    """A transaction, the session that runs it, the clock its rules read, and the box that
    seals and opens the secrets it stores (``secret_box``, see ``core.secret_box``).

    Use it as ``async with uow_factory() as uow: ...; await uow.commit()``. Leaving the block
    without ``commit()`` (or through an exception) rolls everything back. On SQLite the outermost
    unit of work holds the process's write queue for its whole life, so keep slow work outside
    one where the operation allows it. Never share a unit of work between concurrent tasks.
    """

    def __init__(self, db: Database, clock: Clock, secret_box: SecretBox | None = None) -> None:
        self._db = db
        self.clock = clock
        self.secret_box = secret_box or _development_box()
        self._session: AsyncSession | None = None
        self._savepoint: AsyncSessionTransaction | None = None
        self._outer: UnitOfWork | None = None
        self._committed = False
        self._holds_lock = False
        self._holds_gate = False
        self._token: object | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use 'async with'")
        return self._session

    @property
    def dialect(self) -> str:
        return self._db.dialect

    @property
    def nested(self) -> bool:
        """True when this unit of work is a savepoint inside another one."""
        return self._outer is not None

    async def __aenter__(self) -> Self:
        outer = _open_unit.get()
        self._committed = False
        if outer is not None and outer._db is self._db and outer._session is not None:
            self._outer = outer
            self._session = outer._session
            self._savepoint = await self._session.begin_nested()
        else:
            self._outer = None
            if self._db.write_lock is not None:
                await self._db.write_lock.acquire()
                self._holds_lock = True
            elif self._db.connection_gate is not None:
                await self._db.connection_gate.acquire()
                self._holds_gate = True
            self._session = self._db.sessionmaker()
        self._token = _open_unit.set(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._outer is not None:
                if self._savepoint is not None and self._savepoint.is_active:
                    await self._savepoint.rollback()
            elif self._session is not None:
                # close() rolls back whatever was not committed, like rollback(), but leaves
                # the objects read in this unit of work usable (detached, not expired).
                await self._session.close()
        finally:
            if self._token is not None:
                _open_unit.reset(self._token)  # type: ignore[arg-type]
                self._token = None
            self._session = None
            self._savepoint = None
            self._outer = None
            if self._holds_lock and self._db.write_lock is not None:
                self._db.write_lock.release()
                self._holds_lock = False
            if self._holds_gate and self._db.connection_gate is not None:
                self._db.connection_gate.release()
                self._holds_gate = False

    async def commit(self) -> None:
        """Commit (or, nested, release the savepoint into the outer unit of work)."""
        if self._outer is not None:
            if self._savepoint is not None and self._savepoint.is_active:
                await self._savepoint.commit()
            self._committed = True
            return
        await self.session.commit()
        self._committed = True

    async def rollback(self) -> None:
        if self._outer is not None:
            if self._savepoint is not None and self._savepoint.is_active:
                await self._savepoint.rollback()
        else:
            await self.session.rollback()
        self._committed = False

    async def flush(self) -> None:
        await self.session.flush()


class UnitOfWorkFactory:
    """Makes units of work on one database with one clock and one secret box (the services'
    entry point); without a box, secrets are sealed under the development key."""

    def __init__(
        self, db: Database, clock: Clock | None = None, secret_box: SecretBox | None = None
    ) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.secret_box = secret_box or _development_box()

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.clock, self.secret_box)


_DEVELOPMENT_BOX: list[SecretBox] = []


def _development_box() -> SecretBox:
    """One shared box under the development key (made on first use: no work at import)."""
    if not _DEVELOPMENT_BOX:
        _DEVELOPMENT_BOX.append(SecretBox(None))
    return _DEVELOPMENT_BOX[0]
